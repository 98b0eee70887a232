using Anneal.Design;
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
}
