using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// <c>age</c>, the momentum law with a memory proportional to the run's age (docs/journal/session-10-cooldown-gains.md):
/// its recursion against the closed-form sum over the rate's decreases, its scale-freeness (the same schedule stretched in
/// time gains the same), and recovery of known parameters from curves it generated.
/// </summary>
public class AgeMomentumTests
{
    /// <summary>
    /// The law written directly from its definition: L0 + A S1^-alpha - B sum_{peak&lt;k&lt;=t} d_k (1 - exp(-nu (tau(t) - tau(k)))),
    /// tau(t) = ln(t+1) at q = 1 (so the factor is ((k+1)/(t+1))^nu), ((t+1)^(1-q) - 1)/(1-q) otherwise.
    /// </summary>
    private static double ClosedForm(double[] eta, long t, double[] p, double q = 1)
    {
        double Tau(double step) => q == 1 ? Math.Log(step + 1) : (Math.Pow(step + 1, 1 - q) - 1) / (1 - q);
        int peak = Array.IndexOf(eta, eta.Max());
        double s1 = 0, g = 0;
        for (int i = 0; i <= t; i++) s1 += eta[i];
        for (int k = peak + 1; k <= t; k++)
            g += (eta[k - 1] - eta[k]) * (q == 1 ? 1 - Math.Pow((k + 1.0) / (t + 1.0), p[4]) : 1 - Math.Exp(-p[4] * (Tau(t) - Tau(k))));
        return p[0] + p[1] * Math.Pow(s1, -p[2]) - p[3] * g;
    }

    [Theory]
    [InlineData("wsd(peak=3e-3, total=3000, warmup=100, decay=0.2)", 1.0)]
    [InlineData("cosine(peak=3e-3, total=3000, warmup=100)", 1.0)]
    [InlineData("warmup(multistep(peak=3e-3, milestones=[1400, 2150], gamma=0.316), steps=100)", 1.0)]
    [InlineData("wsd(peak=3e-3, total=3000, warmup=100, decay=0.2)", 0.8)]
    [InlineData("cosine(peak=3e-3, total=3000, warmup=100)", 0.5)]
    [InlineData("cosine(peak=3e-3, total=3000, warmup=100)", 0.0)]
    public void RecursionMatchesTheSumOverDecreases(string spec, double q)
    {
        // The recursion m_t = (t/(t+1))^nu m_{t-1} + d_t telescopes to sum_k d_k ((k+1)/(t+1))^nu.
        var eta = Schedule.Parse(spec).Sample(3000);
        long[] steps = [99, 500, 1500, 2399, 2400, 2401, 2700, 2999];
        double[] p = [1.5, 0.8, 0.4, 40, 6 * Math.Pow(3000, q - 1)];
        var pred = new AgeMomentumLaw(null, q).Predict(eta, steps, p);
        var fixedNu = new AgeMomentumLaw(p[4], q).Predict(eta, steps, p[..4]);
        for (int j = 0; j < steps.Length; j++)
        {
            double expected = ClosedForm(eta, steps[j], p, q);
            pred[j].ShouldBe(expected, 1e-12 * expected, $"{spec} step {steps[j]}");
            fixedNu[j].ShouldBe(expected, 1e-12 * expected, $"{spec} step {steps[j]} (nu held)");
        }
    }

    [Fact]
    public void GainDependsOnTheCooldownsShareOfTheAgeNotItsLength()
    {
        // Without warmup a one-drop schedule (the drop at step k0) realises 1 - ((k0+1)/(t+1))^nu of the drop by step t: the same
        // at (k0, t) = (999, 1999) as at (1999, 3999), (k0+1)/(t+1) = 1/2 in both. A fixed memory (momentum) would
        // realise more in the longer case.
        double[] p = [1.5, 0.8, 0.4, 40, 6];
        double Gain(int k0, int n)
        {
            var drop = Enumerable.Range(0, n).Select(i => i < k0 ? 3e-3 : 1e-3).ToArray();
            var law = new AgeMomentumLaw();
            // the gain is B * G: compare against the same law with B = 0 on the same rates
            double[] p0 = [p[0], p[1], p[2], 0, p[4]];
            return law.Predict(drop, [n - 1], p0)[0] - law.Predict(drop, [n - 1], p)[0];
        }
        double expected = 40 * 2e-3 * (1 - Math.Pow(0.5, 6));
        Gain(999, 2000).ShouldBe(expected, 1e-12);
        Gain(1999, 4000).ShouldBe(expected, 1e-12);
    }

    [Fact]
    public void FitRecoversTheParametersThatGeneratedTheCurves()
    {
        // Noise-free curves of a constant run to 2000 and a cosine at 2000 (the schedules question's calibration) from
        // known parameters: the fit gives them back and forecasts a WSD run at twice the horizon.
        double[] truth = [1.5, 0.8, 0.45, 60, 7];
        var law = new AgeMomentumLaw();
        LawRun Make(string spec, int total) => SyntheticRun.Of(law, truth, spec, total, firstLog: 10);
        LawRun[] runs = [Make("constant(peak=3e-3, warmup=100)", 2000), Make("cosine(peak=3e-3, total=2000, warmup=100)", 2000)];
        var fit = LawFitter.Fit(law, runs, new FitOptions { Jackknife = false });
        for (int k = 0; k < truth.Length; k++)
            fit.Values[k].ShouldBe(truth[k], 1e-3 * truth[k], law.Parameters[k].Name);
        var held = Schedule.Parse("wsd(peak=3e-3, total=4000, warmup=100, decay=0.2)").Sample(4000);
        law.Predict(held, [3999], fit.Values)[0].ShouldBe(law.Predict(held, [3999], truth)[0], 1e-6);
    }

    [Fact]
    public void WithoutInformationOnNuTheFitReturnsThePriorsMode()
    {
        // Curves generated with B = 0: the loss does not depend on nu, so only the prior speaks for it and the MAP fit
        // puts nu at the prior's mode, nu * H^(1-q) = 13 with H the fitted horizon + 1 (here 2,000, q = 0.7). The
        // calibration of the WSD question: a constant run and a cooldown branch (no decay spanning half a run).
        double[] truth = [1.5, 0.8, 0.45, 0, 7];
        var law = new AgeMomentumLaw(null, 0.7, AgeMomentumLaw.SuggestedNuPrior);
        LawRun Make(string spec) => SyntheticRun.Of(law, truth, spec, 2000, firstLog: 10);
        LawRun[] runs = [Make("constant(peak=3e-3, warmup=100)"), Make("wsd(peak=3e-3, total=2000, warmup=100, decay=0.4)")];
        var fit = LawFitter.Fit(law, runs, new FitOptions { Jackknife = false, SkipTransient = false });
        fit.Values[4].ShouldBe(AgeMomentumLaw.SuggestedNuPrior * Math.Pow(2000, 0.7 - 1), 1e-3 * fit.Values[4]);
        fit.Values[3].ShouldBeLessThan(1e-6);
    }

    [Fact]
    public void WithStrongDataThePriorMovesNuByItsForceOverTheProfileCurvature()
    {
        // Noise-free constant + WSD (40 % cooldown) curves from nu = 7 (q = 1, prior mode 13): the residuals are 0 at the truth, inside
        // the Huber threshold (quadratic), while the prior's row, |0.01 ln(7/13)/0.6| = 0.010 > delta = 1e-3, is in its linear
        // part and pushes ln nu up with the constant force delta * Scale / Sigma. To first order the fit moves ln nu by that
        // force over the profile curvature of the data in ln nu: the Schur complement of the Gauss-Newton matrix
        // sum_i (dlog L_i/dtheta)(dlog L_i/dtheta)' at the truth (theta = L0, A, alpha, B, ln nu), computed here from the
        // law's own Jacobian; the other parameters absorb the rest.
        double[] truth = [1.5, 0.8, 0.45, 60, 7];
        var law = new AgeMomentumLaw(NuPrior: AgeMomentumLaw.SuggestedNuPrior);
        LawRun Make(string spec) => SyntheticRun.Of(law, truth, spec, 2000, firstLog: 10);
        LawRun[] runs = [Make("constant(peak=3e-3, warmup=100)"), Make("wsd(peak=3e-3, total=2000, warmup=100, decay=0.4)")];
        double profile = SyntheticRun.ProfileCurvature(law, runs, truth, 4);
        double force = 1e-3 * AgeMomentumLaw.NuPriorScale / AgeMomentumLaw.NuPriorSigma;
        double expected = force / profile;
        var fit = LawFitter.Fit(law, runs, new FitOptions { Jackknife = false, SkipTransient = false });
        double moved = Math.Log(fit.Values[4] / truth[4]);
        moved.ShouldBe(expected, 0.1 * expected);
        moved.ShouldBeLessThan(0.05);   // and that is small: strong data keep nu within 5 % of the truth
    }

    [Fact]
    public void ADecaySpanningARunPinsNuWithoutThePrior()
    {
        // With a cosine among the fitted runs the prior is off: the fit equals the fit without a prior, bit for bit.
        double[] truth = [1.5, 0.8, 0.45, 60, 7];
        var plain = new AgeMomentumLaw();
        LawRun Make(string spec) => SyntheticRun.Of(plain, truth, spec, 2000, firstLog: 10);
        LawRun[] runs = [Make("constant(peak=3e-3, warmup=100)"), Make("cosine(peak=3e-3, total=2000, warmup=100)")];
        var options = new FitOptions { Jackknife = false };
        var withPrior = LawFitter.Fit(new AgeMomentumLaw(NuPrior: AgeMomentumLaw.SuggestedNuPrior), runs, options);
        withPrior.Values.ShouldBe(LawFitter.Fit(plain, runs, options).Values);
    }

    [Fact]
    public void ParsesAndPrintsItsSpec()
    {
        LossLaw.Parse("age").Spec.ShouldBe("age");
        LossLaw.Parse("age(nu=fit)").Spec.ShouldBe("age");
        LossLaw.Parse("age(nu=6)").Spec.ShouldBe("age(nu=6)");
        LossLaw.Parse("age(q=0.8)").Spec.ShouldBe("age(q=0.8)");
        LossLaw.Parse("age(q=1)").Spec.ShouldBe("age");
        LossLaw.Parse("age(prior=none)").Spec.ShouldBe("age");
        LossLaw.Parse("age(prior=13)").Spec.ShouldBe("age(prior=13)");
        LossLaw.Parse("age(q=0.7, prior=20)").Spec.ShouldBe("age(q=0.7, prior=20)");
        LossLaw.Parse("age(nu=6, prior=13)").Spec.ShouldBe("age(nu=6)");   // a held nu needs no prior
        Should.Throw<Anneal.Specs.SpecException>(() => LossLaw.Parse("age(prior=-1)")).Message.ShouldContain("prior must be a number in (0, 10000]");
        Should.Throw<Anneal.Specs.SpecException>(() => LossLaw.Parse("age(q=1.5)")).Message.ShouldContain("q must be a number in [0, 1]");
        LossLaw.Parse("age").Parameters.Select(q => q.Name).ShouldBe(["L0", "A", "alpha", "B", "nu"]);
        Should.Throw<Anneal.Specs.SpecException>(() => LossLaw.Parse("age(nu=0)")).Message.ShouldContain("nu must be a number in (0, 10000]");
    }
}
