using System.Globalization;
using Anneal.Design;
using Anneal.Laws;
using Anneal.Optimization;

namespace Anneal.Tests.Design;

/// <summary>
/// The design check of docs/design.md: under the built-in published MPL laws (the reference warmup convention they
/// were fitted in, as the reference code optimised its schedule) the free optimum must be at least as good as the
/// reference code's own optimised schedule and strictly better than every named schedule, all under the same law.
/// </summary>
public class OptimumCheckTests
{
    internal static double[] ReferenceSchedule()
    {
        var lines = File.ReadAllLines(TestPaths.TestData("mpl-optimized-400m.csv"));
        lines[0].ShouldBe("step,lr");
        lines[1].ShouldStartWith("2160,");
        return lines.Skip(1).Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
    }

    [Fact]
    public void Free_optimum_400m_beats_the_reference_optimised_schedule_and_named_schedules()
    {
        var law = DesignLaw.Resolve("mpl-400m");
        var d = new ScheduleDesigner(new DesignProblem(law.Parameters, 24000, 2160, 3e-4, 0, law.Convention));
        var opt = d.Optimize();
        var reference = ReferenceSchedule();
        reference.Length.ShouldBe(21840);
        double refLoss = d.Predict(reference);
        opt.Loss.ShouldBeLessThanOrEqualTo(refLoss);
        // The optimum is a feasible schedule: non-increasing, within [floor, peak].
        opt.PostWarmup[0].ShouldBeLessThanOrEqualTo(3e-4);
        for (int i = 1; i < opt.PostWarmup.Length; i++) opt.PostWarmup[i].ShouldBeLessThanOrEqualTo(opt.PostWarmup[i - 1]);
        opt.PostWarmup[^1].ShouldBeGreaterThan(0);
        // Its reported loss is the law's value of the schedule it returns: the laws layer's own multi-power law (an
        // independent implementation) at the last step of the whole schedule, warmup included.
        var full = new DesignProblem(law.Parameters, 24000, 2160, 3e-4, 0, law.Convention).FullSchedule(opt.PostWarmup);
        double laws = BuiltinLaws.Resolve("mpl-400m")!.Predict(full, [23999]).FinalLoss;
        opt.Loss.ShouldBe(laws, 1e-9 * laws);
        foreach (var c in d.References()) opt.Loss.ShouldBeLessThan(c.Loss, c.Label);
        foreach (var c in d.BestOfFamilies()) opt.Loss.ShouldBeLessThan(c.Loss, c.Label);
    }

    [Theory]
    [InlineData("mpl-25m")]
    [InlineData("mpl-100m")]
    public void Free_optimum_beats_named_schedules_for_published_25m_and_100m(string law)
    {
        var resolved = DesignLaw.Resolve(law);
        var d = new ScheduleDesigner(new DesignProblem(resolved.Parameters, 24000, 2160, 3e-4, 0, resolved.Convention));
        var opt = d.Optimize();
        foreach (var c in d.References()) opt.Loss.ShouldBeLessThan(c.Loss, c.Label);
        var wsd = d.BestWsd();
        opt.Loss.ShouldBeLessThan(wsd.Loss);
    }

    [Fact]
    public void Projected_lbfgs_finds_a_bound_constrained_quadratic_minimum()
    {
        // Closed form: min sum_i c_i (x_i - a_i)^2 on [0, 1] is clamp(a_i, 0, 1).
        var rng = new Random(5);
        int n = 200;
        var a = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 3 - 1).ToArray();
        var c = Enumerable.Range(0, n).Select(i => Math.Pow(10, 4.0 * i / n)).ToArray();
        double F(ReadOnlySpan<double> x, Span<double> g)
        {
            double s = 0;
            for (int i = 0; i < n; i++) { s += c[i] * (x[i] - a[i]) * (x[i] - a[i]); g[i] = 2 * c[i] * (x[i] - a[i]); }
            return s;
        }
        var r = ProjectedLbfgs.Minimize(F, new double[n], new double[n], Enumerable.Repeat(1.0, n).ToArray(), new LbfgsOptions(MaxIterations: 2000));
        var exact = a.Select(v => Math.Clamp(v, 0, 1)).ToArray();
        double fExact = F(exact, new double[n]);
        // Coordinates with curvature 1 next to 10^4 cannot be resolved beyond ~1e-4 through f in float64.
        for (int i = 0; i < n; i++) r.X[i].ShouldBe(exact[i], 1e-4);
        r.Value.ShouldBe(fExact, 1e-8 * Math.Max(1, fExact));
    }

    [Fact]
    public void Monotone_projection_is_antitonic_regression()
    {
        // Hand-computed pool-adjacent-violators: {1,2} -> 1.5, then {1,2,2} -> 5/3, then {1,2,2,5} -> 2.5 <= 3.
        double[] x = [3, 1, 2, 2, 5, 0];
        new MonotoneBox(-10, 10).Project(x);
        x.ShouldBe([3, 2.5, 2.5, 2.5, 2.5, 0], tolerance: 1e-12);
        double[] y = [5, 4, 6, -3];
        new MonotoneBox(0, 4.5).Project(y);
        y.ShouldBe([4.5, 4.5, 4.5, 0], tolerance: 1e-12);
    }
}
