using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// <c>momentum(cap=fit)</c>, the momentum law with a fitted cap on the annealing area
/// (docs/journal/session-05-cooldown-saturation-horizons.md): against its closed form on a one-drop schedule, against
/// the plain momentum law in the uncapped
/// limit, and by recovering known parameters from curves it generated.
/// </summary>
public class MomentumCapTests
{
    [Fact]
    public void OneDropScheduleMatchesTheGeometricSeriesClosedForm()
    {
        // Rate eta_hi for k0 steps, then eta_lo (no warmup: the peak is step 0). The momentum is m_i = Delta lambda^(i - k0)
        // from the drop on, so S2(t) = Delta (1 - lambda^(t - k0 + 1)) / (1 - lambda) (a geometric series) and
        // S1(t) = eta_hi k0 + eta_lo (t - k0 + 1); the law is L0 + A S1^-alpha - C S2 / (1 + S2 / S2max).
        const double hi = 3e-3, lo = 1e-3, lambda = 0.999;
        const int k0 = 400, n = 1500;
        var eta = Enumerable.Range(0, n).Select(i => i < k0 ? hi : lo).ToArray();
        long[] steps = [100, 399, 400, 401, 650, 1000, 1499];
        double[] p = [1.7, 0.9, 0.35, 0.5, 0.4];   // L0, A, alpha, C, S2max
        var law = new MomentumLaw(lambda, Cap: true);
        var pred = law.Predict(eta, steps, p);
        for (int j = 0; j < steps.Length; j++)
        {
            long t = steps[j];
            double s1 = t < k0 ? hi * (t + 1) : hi * k0 + lo * (t - k0 + 1);
            double s2 = t < k0 ? 0 : (hi - lo) * (1 - Math.Pow(lambda, t - k0 + 1)) / (1 - lambda);
            double expected = p[0] + p[1] * Math.Pow(s1, -p[2]) - p[3] * s2 / (1 + s2 / p[4]);
            pred[j].ShouldBe(expected, 1e-12 * expected, $"step {t}");
        }
        // Uncapped limit: with S2max far beyond any S2 the law is the plain momentum law.
        var plain = new MomentumLaw(lambda).Predict(eta, steps, p[..4]);
        var far = law.Predict(eta, steps, [.. p[..4], 1e16]);
        for (int j = 0; j < steps.Length; j++) far[j].ShouldBe(plain[j], 1e-11 * Math.Abs(plain[j]));
    }

    [Fact]
    public void FitRecoversTheParametersThatGeneratedTheCurves()
    {
        // Noise-free curves of a constant, a cosine and a 20 % WSD run (peak 3e-3, 1000 steps, logged every 10) from
        // known parameters with an active cap (the cosine's S2 reaches ~1.3, about twice S2max): the fit must give
        // them back, the cap included, and reproduce a held-out schedule.
        double[] truth = [1.5, 0.8, 0.38, 0.3, 0.6];
        var law = new MomentumLaw(0.999, Cap: true);
        LawRun Make(string spec) => SyntheticRun.Of(law, truth, spec, 1000, firstLog: 10);
        LawRun[] runs = [Make("constant(peak=3e-3, warmup=100)"), Make("cosine(peak=3e-3, total=1000, warmup=100)"), Make("wsd(peak=3e-3, total=1000, warmup=100, decay=0.2)")];
        var fit = LawFitter.Fit(law, runs, new FitOptions { Jackknife = false });
        for (int k = 0; k < truth.Length; k++)
            fit.Values[k].ShouldBe(truth[k], 1e-3 * truth[k], law.Parameters[k].Name);
        var held = Schedule.Parse("linear(peak=3e-3, total=1000, warmup=100)").Sample(1000);
        law.Predict(held, [999], fit.Values)[0].ShouldBe(law.Predict(held, [999], truth)[0], 1e-5);
    }

    [Theory]
    [InlineData("momentum(cap=log)", 1.0)]
    [InlineData("momentum(cap=fit, power=1.5)", 1.5)]
    [InlineData("momentum(cap=fit, power=0.5)", 0.5)]
    public void OtherCapShapesMatchTheirClosedFormOnAOneDropSchedule(string spec, double q)
    {
        // The same one-drop schedule as above; the gain is C * G(S2) with G = S2max ((1 + x)^(1-q) - 1) / (1 - q),
        // x = S2/S2max, and G = S2max ln(1 + x) at q = 1 (cap=log), written here directly from those formulas.
        const double hi = 3e-3, lo = 1e-3, lambda = 0.999;
        const int k0 = 400, n = 1500;
        var eta = Enumerable.Range(0, n).Select(i => i < k0 ? hi : lo).ToArray();
        long[] steps = [100, 399, 400, 401, 650, 1000, 1499];
        double[] p = [1.7, 0.9, 0.35, 0.5, 0.4];
        var pred = LossLaw.Parse(spec).Predict(eta, steps, p);
        for (int j = 0; j < steps.Length; j++)
        {
            long t = steps[j];
            double s1 = t < k0 ? hi * (t + 1) : hi * k0 + lo * (t - k0 + 1);
            double s2 = t < k0 ? 0 : (hi - lo) * (1 - Math.Pow(lambda, t - k0 + 1)) / (1 - lambda);
            double g = q == 1 ? p[4] * Math.Log(1 + s2 / p[4]) : p[4] * (Math.Pow(1 + s2 / p[4], 1 - q) - 1) / (1 - q);
            double expected = p[0] + p[1] * Math.Pow(s1, -p[2]) - p[3] * g;
            pred[j].ShouldBe(expected, 1e-12 * expected, $"{spec} step {t}");
        }
    }

    [Fact]
    public void CapShapesAreContinuousInThePower()
    {
        // power -> 2 gives the hyperbolic cap (its own code path), power -> 1 the log cap (the series branch near z = 0).
        var eta = Schedule.Parse("wsd(peak=3e-3, total=2000, warmup=100, decay=0.4)").Sample(2000);
        long[] steps = [500, 1300, 1600, 1999];
        double[] p = [1.5, 0.8, 0.38, 0.3, 0.6];
        var hyper = LossLaw.Parse("momentum(cap=fit)").Predict(eta, steps, p);
        var nearHyper = LossLaw.Parse("momentum(cap=fit, power=2.000001)").Predict(eta, steps, p);
        var log = LossLaw.Parse("momentum(cap=log)").Predict(eta, steps, p);
        var nearLog = LossLaw.Parse("momentum(cap=fit, power=1.000001)").Predict(eta, steps, p);
        for (int j = 0; j < steps.Length; j++)
        {
            nearHyper[j].ShouldBe(hyper[j], 1e-5, $"step {steps[j]}");
            nearLog[j].ShouldBe(log[j], 1e-5, $"step {steps[j]}");
            log[j].ShouldBeLessThanOrEqualTo(hyper[j], "the log cap's gain is at least the hyperbolic cap's at the same S2max");
        }
        // Past the decay's start (step 1200) the gains differ: ln(1 + x) > x / (1 + x) for x > 0.
        log[^1].ShouldBeLessThan(hyper[^1] - 1e-3);
    }

    [Fact]
    public void LogCapFitRecoversTheParametersThatGeneratedTheCurves()
    {
        // Noise-free curves of a constant run to 3000 and 10 % cooldown branches at 1500 and 3000 (the WSD question's
        // calibration) from known parameters of momentum(cap=log): the fit gives them back and forecasts a 4x later branch.
        double[] truth = [1.5, 0.8, 0.38, 0.3, 0.2];
        var law = LossLaw.Parse("momentum(cap=log)");
        LawRun Make(string spec, int total) => SyntheticRun.Of(law, truth, spec, total, firstLog: 20);
        LawRun[] runs =
        [
            Make("constant(peak=3e-3, warmup=100)", 3000),
            Make("wsd(peak=3e-3, total=1500, warmup=100, decay=0.1)", 1500),
            Make("wsd(peak=3e-3, total=3000, warmup=100, decay=0.1)", 3000),
        ];
        var fit = LawFitter.Fit(law, runs, new FitOptions { Jackknife = false });
        for (int k = 0; k < truth.Length; k++)
            fit.Values[k].ShouldBe(truth[k], 1e-3 * truth[k], law.Parameters[k].Name);
        var held = Schedule.Parse("wsd(peak=3e-3, total=12000, warmup=100, decay=0.1)").Sample(12000);
        law.Predict(held, [11999], fit.Values)[0].ShouldBe(law.Predict(held, [11999], truth)[0], 1e-5);
    }

    [Fact]
    public void ParsesAndPrintsItsSpec()
    {
        LossLaw.Parse("momentum(cap=log)").Spec.ShouldBe("momentum(cap=log)");
        LossLaw.Parse("momentum(cap=fit, power=1)").Spec.ShouldBe("momentum(cap=log)");
        LossLaw.Parse("momentum(cap=fit, power=1.5)").Spec.ShouldBe("momentum(cap=fit, power=1.5)");
        LossLaw.Parse("momentum(cap=fit, power=2)").Spec.ShouldBe("momentum(cap=fit)");
        Should.Throw<Anneal.Specs.SpecException>(() => LossLaw.Parse("momentum(power=1.5)")).Message.ShouldContain("give it with cap=fit");
        Should.Throw<Anneal.Specs.SpecException>(() => LossLaw.Parse("momentum(cap=fit, power=5)")).Message.ShouldContain("power must be a number in (0, 4]");
        LossLaw.Parse("momentum(cap=fit)").Spec.ShouldBe("momentum(cap=fit)");
        LossLaw.Parse("momentum(lambda=fit, cap=fit)").Spec.ShouldBe("momentum(lambda=fit, cap=fit)");
        LossLaw.Parse("momentum(cap=none)").Spec.ShouldBe("momentum");
        LossLaw.Parse("momentum(cap=fit)").Parameters.Select(q => q.Name).ShouldBe(["L0", "A", "alpha", "C", "S2max"]);
        Should.Throw<Anneal.Specs.SpecException>(() => LossLaw.Parse("momentum(cap=3)")).Message.ShouldContain("cap must be fit, log or none");
    }
}
