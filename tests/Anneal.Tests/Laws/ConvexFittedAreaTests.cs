using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// <c>convex(area=fit)</c>: the convex bound with its distance term's power of the rate's area fitted,
/// <c>D^2 / (2 eta_max^(1-a) (sum eta)^a)</c> (docs/journal/session-15-far-horizons.md). Its Jacobian, a's column included,
/// is checked against central differences in <see cref="LawMathTests"/>; here: at a = 1 it is the bound, its distance term on a
/// constant rate against the closed form, its equivariance to the rate's units, and its spec.
/// </summary>
public class ConvexFittedAreaTests
{
    [Fact]
    public void At_power_one_it_is_the_bound()
    {
        // Independent source: the published bound (ConvexBoundLaw without the option) at the same c0, c1, D2.
        var eta = Schedule.Parse("wsd(peak=3e-4, total=4000, warmup=300, decay=0.4, shape=cosine, min=3e-5)").Sample(4000);
        long[] steps = [100, 400, 1000, 2500, 3000, 3500, 3999];
        double[] p = [2.5, 50.0, 0.01];
        var bound = new ConvexBoundLaw().Predict(eta, steps, p);
        var fitted = new ConvexBoundLaw(FitArea: true).Predict(eta, steps, [.. p, 1.0]);
        for (int i = 0; i < steps.Length; i++) fitted[i].ShouldBe(bound[i], 1e-12 * bound[i], $"step {steps[i]}");
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.6)]
    public void On_a_constant_rate_the_distance_term_falls_as_the_power_of_the_steps(double a)
    {
        // Independent source: closed form. On a constant rate eta from step 0, after T = t + 1 steps sum eta = eta T, so the
        // distance term is c1 D2 / (2 eta^(1-a) (eta T)^a) = c1 D2 / (2 eta T^a); the rest of the bound does not depend on D2
        // or a, so it cancels in the difference with D2 = 0.
        const double rate = 2e-3, c0 = 1.7, c1 = 30, d2 = 0.02;
        var eta = Enumerable.Repeat(rate, 5000).ToArray();
        long[] steps = [9, 99, 999, 4999];
        var law = new ConvexBoundLaw(FitArea: true);
        var with = law.Predict(eta, steps, [c0, c1, d2, a]);
        var without = law.Predict(eta, steps, [c0, c1, 0, a]);
        for (int i = 0; i < steps.Length; i++)
        {
            double expected = c1 * d2 / (2 * rate * Math.Pow(steps[i] + 1, a));
            (with[i] - without[i]).ShouldBe(expected, 1e-10 * expected, $"step {steps[i]}");
        }
    }

    [Fact]
    public void Rates_in_other_units_give_the_same_losses()
    {
        // Independent source: exact algebra. c1 is per unit of the bound (a rate), D2 a squared rate; eta_max^(1-a) (sum eta)^a
        // scales as the rate whatever a, so RescaleLr's parameters on rates x f predict what the parameters predict on the rates.
        var eta = Schedule.Parse("wsd(peak=3e-4, total=6000, warmup=300, decay=0.3, shape=sqrt, min=1e-5)").Sample(6000);
        long[] steps = [300, 1200, 4100, 4500, 5200, 5999];
        var law = LossLaw.Parse("convex(area=fit)");
        double[] p = [2.5, 50.0, 0.01, 0.45];
        foreach (var f in new[] { 0.1, 10.0 })
        {
            var q = law.RescaleLr(p, f);
            q[3].ShouldBe(p[3]);
            var x = law.Predict(eta, steps, p);
            var y = law.Predict(eta.Select(e => e * f).ToArray(), steps, q);
            for (int i = 0; i < steps.Length; i++) y[i].ShouldBe(x[i], 1e-11 * x[i], $"x{f} step {steps[i]}");
        }
    }

    [Fact]
    public void Its_spec_round_trips()
    {
        LossLaw.Parse("convex(area=fit)").Spec.ShouldBe("convex(area=fit)");
        LossLaw.Parse("convex").Spec.ShouldBe("convex");
        LossLaw.Parse("convex(area=bound)").Spec.ShouldBe("convex");
        LossLaw.Parse("convex(grad=logged, area=fit)").Spec.ShouldBe("convex(grad=logged, area=fit)");
        LossLaw.Parse("convex(area=fit)").Parameters.Select(p => p.Name).ShouldBe(["c0", "c1", "D2", "a"]);
        Should.Throw<InputException>(() => LossLaw.Parse("convex(area=0.5)"));
    }
}
