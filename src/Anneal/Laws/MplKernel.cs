using System.Runtime.Intrinsics;

namespace Anneal.Laws;

/// <summary>
/// The loss-drop sums of the multi-power law over a range of rate changes, SIMD over changes.
/// With y_k = eta_k^-gamma (P_t - P_k), q = 1 + C y, p = q^-beta:
/// s0 = sum d (1 - p), s1 = sum d p y / q, s2 = sum d p ln q, s3 = -sum d p y / q ln eta_k;
/// then LD = B s0, dLD/dC = B beta s1, dLD/dbeta = B s2, dLD/dgamma = B beta C s3.
/// Shared by the laws' evaluator and the design layer's final-loss objective.
/// </summary>
internal static class MplKernel
{
    /// <summary>
    /// s0 = sum_{j0 &lt;= k &lt; j1} d_k (1 - (1 + C e_k (pt - P_k))^-beta), bit for bit the s0 of
    /// <see cref="Sums"/> (same lanes, same order), so a fit sees the same objective whether or not
    /// it asked for derivatives.
    /// </summary>
    // Not marked AggressiveOptimization (nor are State.Evaluate/Item and HuberObjective.Residuals): the CLI runs
    // without tiered compilation (Anneal.Cli.csproj), so every method is compiled fully optimised anyway, and the
    // attribute kept these out of ./anneal's precompiled (ReadyToRun) image: five methods compiled at run time in
    // every fit. Without it they are precompiled, with the same bits (docs/benchmarks.md, "fit of the 400M split").
    public static double Value(double[] dArr, double[] pkArr, double[] eArr, int j0, int j1, double pt, double c, double beta)
    {
        double s0 = 0;
        int j = j0;
        if (Vector512.IsHardwareAccelerated && j1 - j0 >= 16)
        {
            var vPt = Vector512.Create(pt); var vC = Vector512.Create(c); var vNegBeta = Vector512.Create(-beta);
            Vector512<double> a0 = default;
            ref double rd = ref dArr[0], rp = ref pkArr[0], re = ref eArr[0];
            for (; j <= j1 - 8; j += 8)
            {
                var d = Vector512.LoadUnsafe(ref rd, (nuint)j);
                var q = Vector512<double>.One + vC * (Vector512.LoadUnsafe(ref re, (nuint)j) * (vPt - Vector512.LoadUnsafe(ref rp, (nuint)j)));
                a0 += d - d * Vector512.Exp(vNegBeta * Vector512.Log(q));
            }
            s0 = Vector512.Sum(a0);
        }
        else if (Vector256.IsHardwareAccelerated && j1 - j0 >= 8)
        {
            var vPt = Vector256.Create(pt); var vC = Vector256.Create(c); var vNegBeta = Vector256.Create(-beta);
            Vector256<double> a0 = default;
            ref double rd = ref dArr[0], rp = ref pkArr[0], re = ref eArr[0];
            for (; j <= j1 - 4; j += 4)
            {
                var d = Vector256.LoadUnsafe(ref rd, (nuint)j);
                var q = Vector256<double>.One + vC * (Vector256.LoadUnsafe(ref re, (nuint)j) * (vPt - Vector256.LoadUnsafe(ref rp, (nuint)j)));
                a0 += d - d * Vector256.Exp(vNegBeta * Vector256.Log(q));
            }
            s0 = Vector256.Sum(a0);
        }
        for (; j < j1; j++)
        {
            double d = dArr[j], q = 1 + c * (eArr[j] * (pt - pkArr[j]));
            s0 += d - d * Math.Exp(-beta * Math.Log(q));
        }
        return s0;
    }

    /// <summary>The four sums s0..s3 over changes j0 &lt;= k &lt; j1, written to <paramref name="o"/>.</summary>
    public static void Sums(double[] dArr, double[] pkArr, double[] eArr, double[] lnEta, int j0, int j1, double pt, double c, double beta, Span<double> o)
    {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int j = j0;
        if (Vector512.IsHardwareAccelerated && j1 - j0 >= 16)
        {
            var vPt = Vector512.Create(pt);
            var vC = Vector512.Create(c);
            var vNegBeta = Vector512.Create(-beta);
            var one = Vector512<double>.One;
            Vector512<double> a0 = default, a1 = default, a2 = default, a3 = default;
            ref double rd = ref dArr[0], rp = ref pkArr[0], re = ref eArr[0], rl = ref lnEta[0];
            for (; j <= j1 - 8; j += 8)
            {
                var d = Vector512.LoadUnsafe(ref rd, (nuint)j);
                var y = Vector512.LoadUnsafe(ref re, (nuint)j) * (vPt - Vector512.LoadUnsafe(ref rp, (nuint)j));
                var q = one + vC * y;
                var l = Vector512.Log(q);
                var pw = Vector512.Exp(vNegBeta * l);
                var dp = d * pw;
                var r = dp * y / q;
                a0 += d - dp;
                a1 += r;
                a2 += dp * l;
                a3 -= r * Vector512.LoadUnsafe(ref rl, (nuint)j);
            }
            s0 = Vector512.Sum(a0); s1 = Vector512.Sum(a1); s2 = Vector512.Sum(a2); s3 = Vector512.Sum(a3);
        }
        else if (Vector256.IsHardwareAccelerated && j1 - j0 >= 8)
        {
            var vPt = Vector256.Create(pt);
            var vC = Vector256.Create(c);
            var vNegBeta = Vector256.Create(-beta);
            var one = Vector256<double>.One;
            Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
            ref double rd = ref dArr[0], rp = ref pkArr[0], re = ref eArr[0], rl = ref lnEta[0];
            for (; j <= j1 - 4; j += 4)
            {
                var d = Vector256.LoadUnsafe(ref rd, (nuint)j);
                var y = Vector256.LoadUnsafe(ref re, (nuint)j) * (vPt - Vector256.LoadUnsafe(ref rp, (nuint)j));
                var q = one + vC * y;
                var l = Vector256.Log(q);
                var pw = Vector256.Exp(vNegBeta * l);
                var dp = d * pw;
                var r = dp * y / q;
                a0 += d - dp;
                a1 += r;
                a2 += dp * l;
                a3 -= r * Vector256.LoadUnsafe(ref rl, (nuint)j);
            }
            s0 = Vector256.Sum(a0); s1 = Vector256.Sum(a1); s2 = Vector256.Sum(a2); s3 = Vector256.Sum(a3);
        }
        for (; j < j1; j++)
        {
            double d = dArr[j], y = eArr[j] * (pt - pkArr[j]), q = 1 + c * y, l = Math.Log(q), pw = Math.Exp(-beta * l);
            double dp = d * pw, r = dp * y / q;
            s0 += d - dp; s1 += r; s2 += dp * l; s3 -= r * lnEta[j];
        }
        o[0] = s0; o[1] = s1; o[2] = s2; o[3] = s3;
    }
}
