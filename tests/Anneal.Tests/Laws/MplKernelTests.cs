using System.Runtime.Intrinsics;
using Anneal.Laws;
using Shouldly;
using Xunit;

namespace Anneal.Tests.Laws;

/// <summary>
/// The multi-power law's loss-drop kernel (<see cref="MplKernel"/>) and its log/exp (<see cref="VectorLogExp"/>): the same
/// bits on every code path (512-bit, 256-bit, scalar; a path the CPU does not accelerate runs in the runtime's software
/// vectors, which compute each lane with the same IEEE operations), and the right values against an independent scalar
/// evaluation with Math.Log / Math.Exp / Math.Pow.
/// </summary>
public class MplKernelTests
{
    private static readonly MplKernel.Path[] Paths = [MplKernel.Path.Vector512, MplKernel.Path.Vector256, MplKernel.Path.Scalar];

    [Fact]
    public void Log_and_exp_match_the_runtime_to_3e_16_and_5e_16_and_agree_bit_for_bit_across_widths()
    {
        // Independent reference: Math.Log / Math.Exp (correctly rounded to within 1 ulp on .NET's supported platforms).
        var rng = new Random(11);
        double worstLog = 0, worstExp = 0;
        var xs = new double[8]; var ys = new double[8];
        for (int t = 0; t < 20_000; t++)
        {
            for (int l = 0; l < 8; l++)
            {
                // The kernel's arguments: q = 1 + C y in [1, huge), ln eta for rates around 1e-8..1e3, and exponents in [-750, 0]
                // (-(beta+1) ln q) and up to +40 (-gamma ln eta of a small rate).
                xs[l] = (t % 3) switch { 0 => 1 + Math.Pow(10, -12 + 20 * rng.NextDouble()), 1 => Math.Pow(10, -8 + 11 * rng.NextDouble()), _ => 1 + 1e-3 * rng.NextDouble() };
                ys[l] = t % 2 == 0 ? -750 * rng.NextDouble() : 40 * rng.NextDouble();
            }
            var l512 = VectorLogExp.Log(Vector512.Create(xs)); var l256 = (VectorLogExp.Log(Vector256.Create(xs.AsSpan(0, 4))), VectorLogExp.Log(Vector256.Create(xs.AsSpan(4, 4))));
            var e512 = VectorLogExp.Exp(Vector512.Create(ys)); var e256 = (VectorLogExp.Exp(Vector256.Create(ys.AsSpan(0, 4))), VectorLogExp.Exp(Vector256.Create(ys.AsSpan(4, 4))));
            for (int l = 0; l < 8; l++)
            {
                double log = VectorLogExp.Log(xs[l]), exp = VectorLogExp.Exp(ys[l]);
                l512[l].ShouldBe(log); (l < 4 ? l256.Item1[l] : l256.Item2[l - 4]).ShouldBe(log);
                e512[l].ShouldBe(exp); (l < 4 ? e256.Item1[l] : e256.Item2[l - 4]).ShouldBe(exp);
                double refLog = Math.Log(xs[l]);
                if (refLog != 0) worstLog = Math.Max(worstLog, Math.Abs(log / refLog - 1));
                if (ys[l] >= VectorLogExp.MinArg) worstExp = Math.Max(worstExp, Math.Abs(exp / Math.Exp(ys[l]) - 1));
                else exp.ShouldBe(Math.Exp(VectorLogExp.MinArg), Math.Exp(VectorLogExp.MinArg) * 1e-15);
            }
        }
        worstLog.ShouldBeLessThan(3e-16);
        worstExp.ShouldBeLessThan(5e-16);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0, 5)]
    [InlineData(3, 8)]
    [InlineData(1, 37)]
    [InlineData(7, 1000)]
    public void Sums_are_the_same_bits_on_every_path_and_match_an_independent_evaluation_to_1e_13(int j0, int count)
    {
        var (d, pk, e, ln, pt) = Changes(new Random(count + j0), j0 + count + 3);
        int j1 = j0 + count;
        double c = 2.7, beta = 0.55;
        var first = new double[4];
        MplKernel.Sums(d, pk, e, ln, j0, j1, pt, c, beta, first, MplKernel.Path.Scalar);
        foreach (var path in Paths)
        {
            var o = new double[4];
            MplKernel.Sums(d, pk, e, ln, j0, j1, pt, c, beta, o, path);
            o.ShouldBe(first, $"{path}");
            // The loss alone (a fit's value-only evaluations) is the s0 of the sums, bit for bit.
            MplKernel.Value(d, pk, e, j0, j1, pt, c, beta, path).ShouldBe(first[0], $"{path}");
        }
        // Independent evaluation: the definitions with Math.Pow, summed in order; tolerance 1e-13 of the sum of |terms|.
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, m0 = 0, m1 = 0, m2 = 0, m3 = 0;
        for (int k = j0; k < j1; k++)
        {
            double y = e[k] * (pt - pk[k]), q = 1 + c * y, p = Math.Pow(q, -beta);
            double t0 = d[k] * (1 - p), t1 = d[k] * p * y / q, t2 = d[k] * p * Math.Log(q), t3 = -d[k] * p * y / q * ln[k];
            s0 += t0; s1 += t1; s2 += t2; s3 += t3;
            m0 += Math.Abs(t0); m1 += Math.Abs(t1); m2 += Math.Abs(t2); m3 += Math.Abs(t3);
        }
        first[0].ShouldBe(s0, 1e-13 * m0 + 1e-300);
        first[1].ShouldBe(s1, 1e-13 * m1 + 1e-300);
        first[2].ShouldBe(s2, 1e-13 * m2 + 1e-300);
        first[3].ShouldBe(s3, 1e-13 * m3 + 1e-300);
    }

    [Fact]
    public void Rate_powers_and_logs_are_the_same_bits_on_every_path()
    {
        var rng = new Random(5);
        var eta = Enumerable.Range(0, 203).Select(_ => 3e-4 * Math.Pow(10, -3 * rng.NextDouble())).ToArray();
        var ln = new double[eta.Length]; var pw = new double[eta.Length];
        MplKernel.Log(eta, ln, MplKernel.Path.Scalar);
        MplKernel.ScaledExp(ln, -0.6, pw, MplKernel.Path.Scalar);
        for (int i = 0; i < eta.Length; i++)
        {
            ln[i].ShouldBe(Math.Log(eta[i]), 3e-16 * Math.Abs(Math.Log(eta[i])));
            pw[i].ShouldBe(Math.Pow(eta[i], -0.6), 1e-14 * Math.Pow(eta[i], -0.6));
        }
        foreach (var path in Paths)
        {
            var l2 = new double[eta.Length]; var p2 = new double[eta.Length];
            MplKernel.Log(eta, l2, path);
            MplKernel.ScaledExp(l2, -0.6, p2, path);
            l2.ShouldBe(ln, $"{path}");
            p2.ShouldBe(pw, $"{path}");
        }
    }

    [Fact]
    public void A_non_finite_parameter_gives_NaN_as_the_runtime_would()
    {
        var (d, pk, e, ln, pt) = Changes(new Random(3), 40);
        var o = new double[4];
        MplKernel.Sums(d, pk, e, ln, 0, 40, pt, double.NaN, 0.5, o);
        o.ShouldAllBe(v => double.IsNaN(v));
        double.IsNaN(MplKernel.Value(d, pk, e, 0, 40, pt, 1, double.PositiveInfinity)).ShouldBeTrue();
    }

    // A schedule's rate changes as the law's state holds them: decrements d, LR areas P_k below pt, e_k = eta_k^-gamma
    // (for LRs around the canonical 3e-4), ln eta_k.
    private static (double[] D, double[] Pk, double[] E, double[] Ln, double Pt) Changes(Random rng, int n)
    {
        var d = new double[n]; var pk = new double[n]; var e = new double[n]; var ln = new double[n];
        double area = 0;
        for (int k = 0; k < n; k++)
        {
            double eta = 3e-4 * (1 - 0.9 * k / Math.Max(1, n));
            d[k] = 3e-4 * 0.9 / Math.Max(1, n) * (0.5 + rng.NextDouble());
            area += eta * (1 + 50 * rng.NextDouble());
            pk[k] = area;
            ln[k] = Math.Log(eta);
            e[k] = Math.Pow(eta, -0.5);
        }
        return (d, pk, e, ln, area * 1.3);
    }
}
