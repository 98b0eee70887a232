using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// <c>momentum(cap=fit)</c>, the momentum law with a fitted cap on the annealing area (docs/laws.md, "Cooldown gains
/// that saturate"): against its closed form on a one-drop schedule, against the plain momentum law in the uncapped
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
        LawRun Make(string spec)
        {
            var eta = Schedule.Parse(spec).Sample(1000);
            var steps = Enumerable.Range(10, 90).Select(i => (long)(10 * i + 9)).ToArray();
            return LawRun.ForSchedule(spec, eta, steps, spec) with { Observed = law.Predict(eta, steps, truth) };
        }
        LawRun[] runs = [Make("constant(peak=3e-3, warmup=100)"), Make("cosine(peak=3e-3, total=1000, warmup=100)"), Make("wsd(peak=3e-3, total=1000, warmup=100, decay=0.2)")];
        var fit = LawFitter.Fit(law, runs, new FitOptions { Jackknife = false });
        for (int k = 0; k < truth.Length; k++)
            fit.Values[k].ShouldBe(truth[k], 1e-3 * truth[k], law.Parameters[k].Name);
        var held = Schedule.Parse("linear(peak=3e-3, total=1000, warmup=100)").Sample(1000);
        law.Predict(held, [999], fit.Values)[0].ShouldBe(law.Predict(held, [999], truth)[0], 1e-5);
    }

    [Fact]
    public void ParsesAndPrintsItsSpec()
    {
        LossLaw.Parse("momentum(cap=fit)").Spec.ShouldBe("momentum(cap=fit)");
        LossLaw.Parse("momentum(lambda=fit, cap=fit)").Spec.ShouldBe("momentum(lambda=fit, cap=fit)");
        LossLaw.Parse("momentum(cap=none)").Spec.ShouldBe("momentum");
        LossLaw.Parse("momentum(cap=fit)").Parameters.Select(q => q.Name).ShouldBe(["L0", "A", "alpha", "C", "S2max"]);
        Should.Throw<Anneal.Specs.SpecException>(() => LossLaw.Parse("momentum(cap=3)")).Message.ShouldContain("cap must be fit or none");
    }
}
