using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Tests.Laws;

/// <summary>
/// The multi-power law fitted on fewer logged points than it has parameters (the WSD question from end points on runs
/// evaluated every 100 steps: a constant run of five points and two cooldown end points): it holds the drop term's shape
/// at the reference initialisation (gamma, then beta, then C), fits the rest, says so, and forecasts the same whatever
/// the LR's unit. Sources: the reference initialisation's values and the law's own LR-unit rule (closed form).
/// </summary>
public class MplFewPointsTests
{
    private static (LawRun[] Fit, LawRun[] Targets) Sparse(int seed, double peak, int constantPoints) => LawRobustnessTests.WsdEndPoints(seed, peak, constantPoints);

    [Theory]
    [InlineData(5, new[] { "gamma" })]            // 7 points, 7 parameters: gamma held, 6 free
    [InlineData(4, new[] { "gamma", "beta" })]    // 6 points: gamma and beta held, 5 free
    [InlineData(3, new[] { "gamma", "beta", "C" })]
    public void Too_few_points_hold_the_drop_terms_shape_instead_of_refusing_the_fit(int constantPoints, string[] held)
    {
        var (fit, targets) = Sparse(2, 3e-3, constantPoints);
        foreach (var law in new[] { new MultiPowerLaw(), new MultiPowerLaw(WarmupConvention.Reference) { ContinuousDrops = true } })
        {
            var f = LawFitter.Fit(law, fit, new FitOptions(Jackknife: false));
            f.Report.Fixed.ShouldBe(held, law.Spec);
            f.Report.Warnings.ShouldContain(w => w.Contains($"{constantPoints + 2} logged points are too few for every parameter of {law.Spec}"), law.Spec);
            // The reference initialisation: beta = gamma = 0.5, and C = 1 in the unit where the peak is 3e-4, which at peak
            // 3e-3 is C = 10^(gamma - 1) by C's LR power (-1 + gamma).
            f.Values[6].ShouldBe(0.5);
            if (held.Contains("beta")) f.Values[5].ShouldBe(0.5);
            if (held.Contains("C")) f.Values[4].ShouldBe(Math.Pow(10, 0.5 - 1), 1e-12);
            foreach (var t in targets)
            {
                double loss = f.Predict(t).FinalLoss;
                (double.IsFinite(loss) && loss > 0).ShouldBeTrue($"{law.Spec} {t.Name}: {loss}");
            }
        }
    }

    [Fact]
    public void Enough_points_hold_nothing()
    {
        // 8 points for 7 parameters: the paper's form, every parameter fitted.
        var (fit, _) = Sparse(2, 3e-3, 6);
        LawFitter.Fit(new MultiPowerLaw(), fit, new FitOptions(Jackknife: false)).Report.Fixed.ShouldBeEmpty();
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(3, 4)]
    [InlineData(6, 3)]
    public void The_reduced_form_forecasts_the_same_whatever_the_lr_unit(int seed, int constantPoints)
    {
        // As LrUnitTests: the same runs with every rate divided by 10 (the truth converted by the law's own rule) forecast the
        // same cooldowns, so C's held value is one value in the canonical unit, not a number in the runs' unit: to 1e-4 at
        // the optimum; to 1e-3 by the early-stopped reference procedure, whose path on seven points turns the two units'
        // last-digit differences into up to 7.4e-4 (seed 0).
        var a = Sparse(seed, 3e-3, constantPoints);
        var b = Sparse(seed, 3e-4, constantPoints);
        foreach (var (law, tolerance) in new (LossLaw, double)[] { (new MultiPowerLaw(), 1e-4), (new MultiPowerLaw(WarmupConvention.Reference) { ContinuousDrops = true }, 1e-3) })
        {
            var fa = LawFitter.Fit(law, a.Fit, new FitOptions(Jackknife: false));
            var fb = LawFitter.Fit(law, b.Fit, new FitOptions(Jackknife: false));
            fa.Report.Fixed.ShouldNotBeEmpty();
            for (int t = 0; t < a.Targets.Length; t++)
            {
                double la = fa.Predict(a.Targets[t]).FinalLoss, lb = fb.Predict(b.Targets[t]).FinalLoss;
                Math.Abs(lb / la - 1).ShouldBeLessThan(tolerance, $"seed {seed} {law.Spec} {a.Targets[t].Name}: {la} vs {lb}");
            }
        }
    }
}
