using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// <c>fsl</c>, the spectrum-floor law (docs/journal/session-08-cooldown-gain.md): against its closed form on a schedule
/// of two constant
/// rates, and by recovering known parameters from curves it generated (the analytic Jacobian is checked against central
/// differences with every law in LawMathTests).
/// </summary>
public class SpectrumFloorLawTests
{
    [Fact]
    public void TwoRateScheduleMatchesTheClosedForm()
    {
        // Rate hi for k0 steps from step 0, then lo. Mode j with x = exp(-r_j eta) fills as V = hi (1 - x_hi^(k+1)) and
        // then relaxes geometrically towards lo: V = lo + (V(k0 - 1) - lo) x_lo^(k - k0 + 1).
        const double hi = 3e-3, lo = 5e-4;
        const int k0 = 500, n = 2000;
        var eta = Enumerable.Range(0, n).Select(i => i < k0 ? hi : lo).ToArray();
        long[] steps = [0, 99, 499, 500, 800, 1999];
        double[] p = [1.6, 0.9, 0.4, 30.0, 2.0];   // L0, A, alpha, sigma, tau
        var pred = new SpectrumFloorLaw().Predict(eta, steps, p);
        for (int i = 0; i < steps.Length; i++)
        {
            long t = steps[i];
            double s1 = t < k0 ? hi * (t + 1) : hi * k0 + lo * (t - k0 + 1);
            double floor = 0;
            for (int j = 0; j < SpectrumFloorLaw.DefaultModes; j++)
            {
                double r = Math.Pow(2, j) / p[4], xh = Math.Exp(-r * hi), xl = Math.Exp(-r * lo);
                floor += t < k0 ? hi * (1 - Math.Pow(xh, t + 1)) : lo + (hi * (1 - Math.Pow(xh, k0)) - lo) * Math.Pow(xl, t - k0 + 1);
            }
            double expected = p[0] + p[1] * Math.Pow(s1, -p[2]) + p[3] * floor / SpectrumFloorLaw.DefaultModes;
            pred[i].ShouldBe(expected, 1e-12 * expected, $"step {t}");
        }
    }

    [Fact]
    public void FitRecoversTheParametersThatGeneratedTheCurves()
    {
        // Noise-free curves of a constant run, a cosine and a 20 % WSD run (peak 3e-3, 2000 steps, logged every 10)
        // from known parameters whose slowest mode takes ~700 peak-rate steps: the fit gives them back and reproduces a
        // held-out 10 % cooldown twice as long.
        double[] truth = [1.5, 0.8, 0.38, 25.0, 2.0];
        var law = new SpectrumFloorLaw();
        LawRun Make(string spec, int total) => SyntheticRun.Of(law, truth, spec, total, firstLog: 10);
        LawRun[] runs =
        [
            Make("constant(peak=3e-3, warmup=100)", 2000),
            Make("cosine(peak=3e-3, total=2000, warmup=100)", 2000),
            Make("wsd(peak=3e-3, total=2000, warmup=100, decay=0.2)", 2000),
        ];
        var fit = LawFitter.Fit(law, runs, new FitOptions { Jackknife = false });
        for (int k = 0; k < truth.Length; k++)
            fit.Values[k].ShouldBe(truth[k], 2e-3 * truth[k], law.Parameters[k].Name);
        var held = Schedule.Parse("wsd(peak=3e-3, total=4000, warmup=100, decay=0.1)").Sample(4000);
        law.Predict(held, [3999], fit.Values)[0].ShouldBe(law.Predict(held, [3999], truth)[0], 1e-5);
    }

    [Fact]
    public void ParsesAndPrintsItsSpec()
    {
        LossLaw.Parse("fsl").Spec.ShouldBe("fsl");
        LossLaw.Parse("fsl(octaves=12)").Spec.ShouldBe("fsl");
        LossLaw.Parse("fsl(octaves=6)").Spec.ShouldBe("fsl(octaves=6)");
        Should.Throw<Anneal.Specs.SpecException>(() => LossLaw.Parse("fsl(octaves=2.5)")).Message.ShouldContain("octaves must be a whole number");
        LossLaw.Parse("fsl").Parameters.Select(q => q.Name).ShouldBe(["L0", "A", "alpha", "sigma", "tau"]);
    }
}
