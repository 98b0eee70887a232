using Anneal.Laws;

namespace Anneal.Tests.Design;

public class MplFinalLossTests
{
    private static readonly MplParameters Law = MplParameters.Published400M;

    /// <summary>Independent O(n^2) evaluation of the MPL final loss straight from the paper's formula.</summary>
    private static double Naive(MplParameters p, double peak, double sw, double[] eta)
    {
        int n = eta.Length;
        double s1 = eta.Sum();
        double ld = 0;
        for (int k = 0; k < n; k++)
        {
            double sk = 0;
            for (int t = k; t < n; t++) sk += eta[t];
            double prev = k == 0 ? peak : eta[k - 1];
            double x = Math.Pow(eta[k], -p.Gamma) * sk;
            ld += (prev - eta[k]) * (1 - Math.Pow(p.C * x + 1, -p.Beta));
        }
        return p.L0 + p.A * Math.Pow(s1 + sw, -p.Alpha) - p.B * ld;
    }

    private static double[] RandomSchedule(Random rng, int n, double peak, bool monotone)
    {
        var eta = new double[n];
        for (int i = 0; i < n; i++) eta[i] = peak * (0.02 + 0.98 * rng.NextDouble());
        if (monotone) Array.Sort(eta, (a, b) => b.CompareTo(a));
        return eta;
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    public void Value_matches_naive_quadratic_sum(int seed, bool monotone)
    {
        var rng = new Random(seed);
        double peak = 3e-4, sw = 0.5 * peak * 2160;
        var eta = RandomSchedule(rng, 400, peak, monotone);
        var f = new MplFinalLoss(Law, peak, sw);
        double fast = f.Value(eta), naive = Naive(Law, peak, sw, eta);
        Math.Abs(fast - naive).ShouldBeLessThan(1e-9 * Math.Abs(naive));
    }

    [Fact]
    public void Value_matches_naive_sum_on_a_real_length_cosine_schedule()
    {
        // 2,000 post-warmup steps of a cosine to 10%: the naive O(n^2) sum is the independent source.
        int n = 2000;
        double peak = 3e-4;
        var eta = Enumerable.Range(0, n).Select(i => 0.1 * peak + 0.9 * peak * 0.5 * (1 + Math.Cos(Math.PI * i / n))).ToArray();
        var f = new MplFinalLoss(MplParameters.Published25M, peak, 0.5 * peak * 500);
        double naive = Naive(MplParameters.Published25M, peak, 0.5 * peak * 500, eta);
        Math.Abs(f.Value(eta) - naive).ShouldBeLessThan(1e-9 * naive);
    }

    [Theory]
    [InlineData(11, false)]
    [InlineData(12, true)]
    [InlineData(13, false)]
    public void Gradient_matches_central_finite_differences(int seed, bool monotone)
    {
        var rng = new Random(seed);
        double peak = 3e-4, sw = 0.5 * peak * 200;
        var eta = RandomSchedule(rng, 60, peak, monotone);
        var f = new MplFinalLoss(MplParameters.Published100M, peak, sw);
        var g = new double[eta.Length];
        f.Evaluate(eta, g);
        double scale = g.Max(Math.Abs);
        for (int j = 0; j < eta.Length; j++)
        {
            double h = 1e-6 * eta[j];
            var up = (double[])eta.Clone(); up[j] += h;
            var dn = (double[])eta.Clone(); dn[j] -= h;
            double fd = (Naive(MplParameters.Published100M, peak, sw, up) - Naive(MplParameters.Published100M, peak, sw, dn)) / (2 * h);
            Math.Abs(fd - g[j]).ShouldBeLessThan(1e-5 * scale + 1e-6 * Math.Abs(g[j]), $"step {j}: analytic {g[j]}, finite difference {fd}");
        }
    }

    [Fact]
    public void Constant_schedule_has_no_annealing_term()
    {
        // Closed form: with no LR drop LD = 0, so L = L0 + A (n peak + S_W)^-alpha.
        double peak = 3e-4, sw = 0.5 * peak * 2160;
        var eta = Enumerable.Repeat(peak, 21840).ToArray();
        double expected = Law.L0 + Law.A * Math.Pow(21840 * peak + sw, -Law.Alpha);
        new MplFinalLoss(Law, peak, sw).Value(eta).ShouldBe(expected, 1e-12);
    }
    [Fact]
    public void Value_of_schedules_with_few_changes_equals_the_full_evaluation_bit_for_bit()
    {
        // Independent source: Evaluate with a gradient, which computes G at every step (the value alone skips the steps
        // whose rate does not change: their d_k G(x_k) is 0). Bit for bit, so the designer's searches are unchanged;
        // and the naive O(n^2) formula for the staircase, to 1e-9.
        double peak = 3e-4, sw = 0.5 * peak * 2160;
        var cases = new List<double[]>();
        foreach (var spec in new[]
        {
            "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)",
            "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.05, shape=cosine, min=3e-6)",
            "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.45, shape=linear)",
            "step(peak=3e-4, every=5000, gamma=0.3)",
        })
            cases.Add(MplFinalLoss.PostWarmup(Anneal.Schedules.Schedule.Parse(spec), 24000, 2160));
        var stairs = Enumerable.Repeat(peak, 3000).ToArray();
        stairs.AsSpan(2000).Fill(0.3 * peak); stairs.AsSpan(2500).Fill(0.1 * peak); stairs[^1] = 0.05 * peak; // 3 drops: packed and padded
        cases.Add(stairs);
        var rise = (double[])stairs.Clone(); rise.AsSpan(2600, 10).Fill(0.2 * peak);                          // a rise, then a drop
        cases.Add(rise);
        cases.Add([peak, peak, peak, peak, peak, peak, peak, peak, peak, peak, peak, peak, peak, peak, peak, peak, 0.5 * peak]); // one change in 17
        foreach (var eta in cases)
            foreach (var f in new[] { new MplFinalLoss(Law, peak, sw), MplFinalLoss.ReferenceConvention(Law, peak, Enumerable.Range(0, 100).Select(s => peak * s / 100).ToArray()) })
            {
                double full = f.Evaluate(eta, new double[eta.Length]);
                f.Value(eta).ShouldBe(full);
                BitConverter.DoubleToInt64Bits(f.Value(eta)).ShouldBe(BitConverter.DoubleToInt64Bits(full), $"{eta.Length} rates, reference={f.IncludesWarmup}");
            }
        Math.Abs(new MplFinalLoss(Law, peak, sw).Value(stairs) - Naive(Law, peak, sw, stairs)).ShouldBeLessThan(1e-9 * Naive(Law, peak, sw, stairs));
    }

    private static double[] Expand(int[] starts, double[] levels, int n)
    {
        var eta = new double[n];
        for (int j = 0; j < starts.Length; j++) eta.AsSpan(starts[j], (j + 1 < starts.Length ? starts[j + 1] : n) - starts[j]).Fill(levels[j]);
        return eta;
    }

    [Fact]
    public void Staircase_value_and_level_gradient_match_the_naive_formula_and_finite_differences()
    {
        // Independent sources: the naive O(n^2) formula of the expanded rates for the value, and its central finite
        // differences moving a whole segment's level for the gradient. A rise (segment 3) and a last segment of one step.
        double peak = 3e-4, sw = 0.5 * peak * 200;
        int n = 600;
        int[] starts = [0, 350, 480, 500, 560, 599];
        double[] levels = [peak, 0.4 * peak, 0.2 * peak, 0.25 * peak, 0.05 * peak, 0.01 * peak];
        var law = MplParameters.Published100M;
        var f = new MplFinalLoss(law, peak, sw);
        var g = new double[levels.Length];
        double value = f.EvaluateStaircase(starts, levels, n, g);
        double naive = Naive(law, peak, sw, Expand(starts, levels, n));
        Math.Abs(value - naive).ShouldBeLessThan(1e-10 * naive);
        double scale = g.Max(Math.Abs);
        for (int j = 0; j < levels.Length; j++)
        {
            double h = 1e-6 * levels[j];
            var up = (double[])levels.Clone(); up[j] += h;
            var dn = (double[])levels.Clone(); dn[j] -= h;
            double fd = (Naive(law, peak, sw, Expand(starts, up, n)) - Naive(law, peak, sw, Expand(starts, dn, n))) / (2 * h);
            Math.Abs(fd - g[j]).ShouldBeLessThan(1e-5 * scale + 1e-6 * Math.Abs(g[j]), $"segment {j}: analytic {g[j]}, finite difference {fd}");
        }
    }

    [Fact]
    public void Staircase_evaluation_equals_the_per_step_evaluation_in_both_warmup_conventions()
    {
        // Independent source: Evaluate of the expanded per-step rates (O(n), its gradient checked against finite
        // differences above); the level gradient is the sum of the per-step gradient over the segment. The reference
        // convention adds the warmup ramp's terms, which the naive formula does not have.
        double peak = 3e-4;
        int n = 21840;
        int[] starts = [0, 16000, 20100, 21000, 21700];
        double[] levels = [peak, 0.5 * peak, 0.1 * peak, 0.02 * peak, 0.004 * peak];
        var eta = Expand(starts, levels, n);
        foreach (var f in new[] { new MplFinalLoss(Law, peak, 0.5 * peak * 2160), MplFinalLoss.ReferenceConvention(Law, peak, Enumerable.Range(0, 2160).Select(s => peak * s / 2160).ToArray()) })
        {
            var perStep = new double[n];
            double full = f.Evaluate(eta, perStep);
            var g = new double[levels.Length];
            double value = f.EvaluateStaircase(starts, levels, n, g);
            Math.Abs(value - full).ShouldBeLessThan(1e-13 * full, $"reference={f.IncludesWarmup}");
            f.EvaluateStaircase(starts, levels, n, default).ShouldBe(value);
            for (int j = 0; j < levels.Length; j++)
            {
                int end = j + 1 < starts.Length ? starts[j + 1] : n;
                double sum = 0;
                for (int i = starts[j]; i < end; i++) sum += perStep[i];
                Math.Abs(g[j] - sum).ShouldBeLessThan(1e-9 * Math.Abs(sum) + 1e-12 * g.Max(Math.Abs), $"segment {j}, reference={f.IncludesWarmup}");
            }
        }
    }
}
