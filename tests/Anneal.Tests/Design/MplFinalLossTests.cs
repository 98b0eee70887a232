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

/// <summary>The objective's one-pass 512-bit terms and its loops give the bits of the whole-array formulation.</summary>
public class MplFinalLossBitsTests
{
    private static readonly MplParameters Law = MplParameters.Published400M;
    private const double Peak = 3e-4;

    private static IEnumerable<double[]> Schedules()
    {
        var rng = new Random(7);
        foreach (var spec in new[]
        {
            "cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)",
            "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)",
            "cosine_power(peak=3e-4, total=3000, warmup=300, base=5)",
        })
        {
            var s = Anneal.Schedules.Schedule.Parse(spec);
            yield return MplFinalLoss.PostWarmup(s, s.Length!.Value, spec.Contains("2160") ? 2160 : 300);
        }
        var stairs = Enumerable.Repeat(Peak, 3001).ToArray();                 // equal 8-blocks, drops inside and across blocks
        stairs.AsSpan(2003).Fill(0.3 * Peak); stairs.AsSpan(2500).Fill(0.1 * Peak); stairs[^1] = 0.05 * Peak;
        yield return stairs;
        foreach (int n in new[] { 8, 9, 15, 16, 17, 3 })                       // whole blocks, an overlapping last block, fewer than 8
            yield return Enumerable.Range(0, n).Select(_ => Peak * (0.01 + rng.NextDouble())).ToArray();
    }

    [Vector512Fact]
    public void One_pass_terms_equal_the_tensor_primitives_sequence_to_the_bit()
    {
        // Independent source: System.Numerics.Tensors' whole-array Log/Exp/Multiply/Add/Divide/Negate, one operation at a
        // time, which is what the objective computed before the one-pass loop (and still does without 512-bit vectors).
        foreach (var eta in Schedules().Where(e => e.Length >= 8))
        {
            int n = eta.Length;
            var suffix = new double[n];
            double run = 0;
            for (int i = n - 1; i >= 0; i--) { run += eta[i]; suffix[i] = run; }
            double[] w1 = new double[n], x1 = new double[n], g1 = new double[n], gp1 = new double[n];
            double[] w2 = new double[n], x2 = new double[n], u2 = new double[n], g2 = new double[n], gp2 = new double[n];
            MplFinalLoss.FusedTerms(eta, suffix, Law, w1, x1, g1, gp1);
            MplFinalLoss.TensorTerms(eta, suffix, Law, w2, x2, u2, g2, gp2);
            foreach (var (a, b, what) in new[] { (w1, w2, "w"), (x1, x2, "x"), (g1, g2, "g"), (gp1, gp2, "gp") })
                for (int i = 0; i < n; i++)
                    BitConverter.DoubleToInt64Bits(a[i]).ShouldBe(BitConverter.DoubleToInt64Bits(b[i]), $"{what}[{i}] of {n}");
        }
    }

    [Fact]
    public void Value_and_gradient_equal_the_step_by_step_loops_to_the_bit()
    {
        // Independent source: the paper-convention formula written out here as separate loops (the loss-drop sum, then the
        // gradient with its prefix sum and every local term divided out), on the whole-array terms. The objective sums the
        // two running sums in one pass and skips the division where the rate does not change: the same bits.
        double sw = 0.5 * Peak * 2160;
        foreach (var eta in Schedules())
        {
            int n = eta.Length;
            var sk = new double[n];
            double run = 0;
            for (int i = n - 1; i >= 0; i--) { run += eta[i]; sk[i] = run; }
            double[] w = new double[n], x = new double[n], u = new double[n], g = new double[n], gp = new double[n];
            MplFinalLoss.TensorTerms(eta, sk, Law, w, x, u, g, gp);
            double ld = 0, prev = Peak;
            for (int i = 0; i < n; i++) { ld += (prev - eta[i]) * g[i]; prev = eta[i]; }
            double area = run + sw;
            double value = Law.L0 + Law.A * Math.Pow(area, -Law.Alpha) - Law.B * ld;
            double common = -Law.Alpha * Law.A * Math.Pow(area, -Law.Alpha - 1);
            var grad = new double[n];
            double prefix = 0;
            prev = Peak;
            for (int j = 0; j < n; j++)
            {
                double d = prev - eta[j];
                prev = eta[j];
                double dgp = d * gp[j];
                prefix += dgp * w[j];
                double local = Law.Gamma * dgp * x[j] / eta[j];
                double next = j + 1 < n ? g[j + 1] : 0;
                grad[j] = common - Law.B * (next - g[j] + prefix - local);
            }
            var f = new MplFinalLoss(Law, Peak, sw);
            var ours = new double[n];
            double v = f.Evaluate(eta, ours);
            BitConverter.DoubleToInt64Bits(v).ShouldBe(BitConverter.DoubleToInt64Bits(value), $"value, {n} rates");
            BitConverter.DoubleToInt64Bits(f.Value(eta)).ShouldBe(BitConverter.DoubleToInt64Bits(value), $"value alone, {n} rates");
            for (int j = 0; j < n; j++)
                BitConverter.DoubleToInt64Bits(ours[j]).ShouldBe(BitConverter.DoubleToInt64Bits(grad[j]), $"gradient[{j}] of {n}");
        }
    }
}

/// <summary>A fact that needs 512-bit vectors: reported as skipped, with the reason, on a machine without them.</summary>
public sealed class Vector512FactAttribute : FactAttribute
{
    public Vector512FactAttribute()
    {
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
            Skip = "no 512-bit vectors here: the objective computes its terms with the whole-array sequence itself, so there is nothing to compare";
    }
}
