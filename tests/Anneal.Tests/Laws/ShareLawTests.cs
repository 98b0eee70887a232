using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// <c>share</c>, the age law with a spectrum of memories (docs/journal/session-12-forms.md): its per-mode recursions against
/// the closed-form double sum over the rate's decreases, its scale-freeness, the power-law shape of its kernel, and recovery
/// of known parameters from curves it generated.
/// </summary>
public class ShareLawTests
{
    /// <summary>
    /// The law written from its definition: L0 + A S1^-alpha - B sum_{peak&lt;k&lt;=t} d_k sum_j w_j (1 - ((k+1)/(t+1))^(2^j)),
    /// j = -2..8, w_j = 2^(-j p) / sum_i 2^(-i p).
    /// </summary>
    private static double ClosedForm(double[] eta, long t, double[] p)
    {
        var speeds = Enumerable.Range(-2, 11).Select(j => Math.Pow(2, j)).ToArray();
        var raw = speeds.Select(v => Math.Pow(v, -p[4])).ToArray();
        var w = raw.Select(r => r / raw.Sum()).ToArray();
        int peak = Array.IndexOf(eta, eta.Max());
        double s1 = 0, g = 0;
        for (int i = 0; i <= t; i++) s1 += eta[i];
        for (int k = peak + 1; k <= t; k++)
            for (int j = 0; j < speeds.Length; j++)
                g += (eta[k - 1] - eta[k]) * w[j] * (1 - Math.Pow((k + 1.0) / (t + 1.0), speeds[j]));
        return p[0] + p[1] * Math.Pow(s1, -p[2]) - p[3] * g;
    }

    [Theory]
    [InlineData("wsd(peak=3e-3, total=3000, warmup=100, decay=0.2)", 0.4)]
    [InlineData("cosine(peak=3e-3, total=3000, warmup=100)", 0.4)]
    [InlineData("warmup(multistep(peak=3e-3, milestones=[1400, 2150], gamma=0.316), steps=100)", 1.5)]
    [InlineData("linear(peak=3e-3, total=3000, warmup=100)", -1.0)]
    public void RecursionsMatchTheSumOverDecreases(string spec, double exponent)
    {
        var eta = Schedule.Parse(spec).Sample(3000);
        long[] steps = [99, 500, 1500, 2399, 2400, 2401, 2700, 2999];
        double[] p = [1.5, 0.8, 0.4, 40, exponent];
        var pred = new ShareLaw().Predict(eta, steps, p);
        var fixedP = new ShareLaw(exponent).Predict(eta, steps, p[..4]);
        for (int j = 0; j < steps.Length; j++)
        {
            double expected = ClosedForm(eta, steps[j], p);
            pred[j].ShouldBe(expected, 1e-12 * expected, $"{spec} step {steps[j]}");
            fixedP[j].ShouldBe(expected, 1e-12 * expected, $"{spec} step {steps[j]} (p held)");
        }
    }

    [Fact]
    public void DecayFactorsReadFromTheTableMatchTheSumOverDecreasesAcrossItsEnd()
    {
        // The q = 1 decay factors come from a per-process table up to ShareLaw.AgeDecaySteps and are computed per step past
        // it (designspeed, session 24): the forecast on either side of the table's end against the closed form (the
        // independent source), on a cosine long enough to cross it, twice (the second call reads a table the first grew).
        int n = ShareLaw.AgeDecaySteps + 2000;
        var eta = Schedule.Parse($"cosine(peak=3e-3, total={n}, warmup=100, min=3e-4)").Sample(n);
        long[] steps = [ShareLaw.AgeDecaySteps - 1, ShareLaw.AgeDecaySteps, n - 1];
        double[] p = [1.5, 0.8, 0.4, 40, 0.4];
        for (int round = 0; round < 2; round++)
        {
            var pred = new ShareLaw().Predict(eta, steps, p);
            for (int j = 0; j < steps.Length; j++)
            {
                double expected = ClosedForm(eta, steps[j], p);
                pred[j].ShouldBe(expected, 1e-11 * expected, $"step {steps[j]}, round {round}");
            }
        }
    }

    [Fact]
    public void GainDependsOnTheDropsShareOfTheAgeNotItsLength()
    {
        // Without warmup, a drop at step k0 is realised by step t as K((k0+1)/(t+1)): the same at (999, 1999) as at (1999, 3999).
        double[] p = [1.5, 0.8, 0.4, 40, 0.4];
        double Gain(int k0, int n)
        {
            var eta = Enumerable.Range(0, n).Select(i => i < k0 ? 3e-3 : 1e-3).ToArray();
            var law = new ShareLaw();
            return law.Predict(eta, [n - 1], [p[0], p[1], p[2], 0, p[4]])[0] - law.Predict(eta, [n - 1], p)[0];
        }
        var (w, _) = ShareLaw.Weights(0.4);
        double expected = 40 * 2e-3 * ShareLaw.Speeds.Select((v, j) => w[j] * (1 - Math.Pow(0.5, v))).Sum();
        Gain(999, 2000).ShouldBe(expected, 1e-12);
        Gain(1999, 4000).ShouldBe(expected, 1e-12);
    }

    [Fact]
    public void BetweenTheSlowestAndFastestMemoryTheKernelGrowsAsAPowerOfTheLogAge()
    {
        // On a doubly infinite grid of ratio 2 with weights nu_j^-p, sum_j nu_j^-p (1 - e^(-nu_j x)) = x^p f(log2 x) with f of
        // period 1 (substitute j -> j + 1), so over whole octaves its log-log slope is exactly p: checked here on a grid of
        // 401 modes (the independent source, to 1e-9). The law's 11 modes (memories 1/256 .. 4 units of log-age) cut that
        // spectrum; over the four octaves 1/32 .. 1/2 their kernel's slope stays within 0.1 of p (the cut adds the slowest
        // modes' linear part, +0.08 at p = 0.3, -0.08 at p = 0.7).
        static double Slope(Func<double, double> k) => Math.Log(k(0.5) / k(1.0 / 32)) / Math.Log(16);
        foreach (double p in (double[])[0.3, 0.5, 0.7])
        {
            // 1 - e^-y without cancellation for the slow modes' tiny y.
            static double Realised(double y) => y < 1e-5 ? y * (1 - y / 2) : 1 - Math.Exp(-y);
            double Infinite(double x) => Enumerable.Range(-200, 401).Sum(j => Math.Pow(2, -j * p) * Realised(Math.Pow(2, j) * x));
            Slope(Infinite).ShouldBe(p, 1e-9, $"infinite grid, p = {p}");
            var (w, _) = ShareLaw.Weights(p);
            double K(double x) => ShareLaw.Speeds.Select((v, j) => w[j] * (1 - Math.Exp(-v * x))).Sum();
            Slope(K).ShouldBe(p, 0.1, $"p = {p}");
            // Larger p: the short cooldown's share of the full realisation falls (a flatter kernel near 0 is p's meaning).
            (K(0.1) / K(4)).ShouldBeLessThan(ShareLaw.Weights(p - 0.2).Weights.Zip(ShareLaw.Speeds).Sum(t => t.First * (1 - Math.Exp(-t.Second * 0.1)))
                / ShareLaw.Weights(p - 0.2).Weights.Zip(ShareLaw.Speeds).Sum(t => t.First * (1 - Math.Exp(-t.Second * 4))));
        }
    }

    [Fact]
    public void FitRecoversTheParametersThatGeneratedTheCurves()
    {
        // Noise-free constant run to 2000 and a cosine at 2000 (the schedules question's calibration) from known parameters:
        // the fit gives them back, p included, and forecasts a WSD run at twice the horizon as the generating law does.
        double[] truth = [1.5, 0.8, 0.45, 60, 0.4];
        var law = new ShareLaw();
        LawRun Make(string spec, int total) => SyntheticRun.Of(law, truth, spec, total, firstLog: 10);
        LawRun[] runs = [Make("constant(peak=3e-3, warmup=100)", 2000), Make("cosine(peak=3e-3, total=2000, warmup=100)", 2000)];
        var fit = LawFitter.Fit(law, runs, new FitOptions { Jackknife = false });
        for (int k = 0; k < truth.Length; k++)
            fit.Values[k].ShouldBe(truth[k], 1e-3 * Math.Abs(truth[k]), law.Parameters[k].Name);
        var held = Schedule.Parse("wsd(peak=3e-3, total=4000, warmup=100, decay=0.2)").Sample(4000);
        law.Predict(held, [3999], fit.Values)[0].ShouldBe(law.Predict(held, [3999], truth)[0], 1e-6);
    }

    [Fact]
    public void SpecRoundTrips()
    {
        LossLaw.Parse("share").Spec.ShouldBe("share");
        LossLaw.Parse("share(p=0.4, alpha_prior=0.5)").Spec.ShouldBe("share(p=0.4, alpha_prior=0.5)");
        ((ShareLaw)LossLaw.Parse("share(p=fit)")).FitP.ShouldBeTrue();
        Should.Throw<Anneal.Specs.SpecException>(() => LossLaw.Parse("share(p=7)"));
    }
}
