using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Anneal.Laws;

/// <summary>
/// The loss-drop sums of the multi-power law over a range of rate changes, SIMD over changes.
/// With y_k = eta_k^-gamma (P_t - P_k), q = 1 + C y, p = q^-beta:
/// s0 = sum d (1 - p), s1 = sum d p y / q, s2 = sum d p ln q, s3 = -sum d p y / q ln eta_k;
/// then LD = B s0, dLD/dC = B beta s1, dLD/dbeta = B s2, dLD/dgamma = B beta C s3.
/// Shared by the laws' evaluator and the design layer's final-loss objective.
/// Per pair: p = exp(-beta ln q) with <see cref="VectorLogExp"/>'s log and exp, inlined. (Computing p as q^-(beta+1) q
/// saves the division of d p y / q but doubles p's rounding error, which 1 - p magnifies where beta is small: on the 400M
/// runs' degenerate valley of <c>mpl</c> (beta -> 0) the band then moved 0.5 % with the LR's units, LrUnitTests.)
/// <para>
/// The same bits on every machine: the changes are summed in 8 lanes (change j0 + 8 i + l into lane l), whatever the
/// hardware's width: one 512-bit vector, two 256-bit ones, or 8 scalars (<see cref="Path"/>); the last partial block is
/// padded with changes that add exactly zero, and the lanes are added in one fixed order. With VectorLogExp's same
/// arithmetic on every width, the sums, and so a fit, do not depend on the vector width (tested bit for bit in
/// MplKernelTests). The reference procedure's early-stopped AdamW turns any last-bit difference into another fit on some
/// splits (docs/benchmarks.md, "Session 9: fit speed").
/// </para>
/// </summary>
internal static class MplKernel
{
    /// <summary>The code path of a kernel call: the widest the hardware accelerates, or one chosen by a test.</summary>
    internal enum Path { Auto, Vector512, Vector256, Scalar }

    private const int Lanes = 8;

    private static Path Resolve(Path path) => path != Path.Auto ? path
        : Vector512.IsHardwareAccelerated ? Path.Vector512
        : Vector256.IsHardwareAccelerated ? Path.Vector256
        : Path.Scalar;

    /// <summary>
    /// s0 = sum_{j0 &lt;= k &lt; j1} d_k (1 - (1 + C e_k (pt - P_k))^-beta), bit for bit the s0 of
    /// <see cref="Sums"/> (same lanes, same order), so a fit sees the same objective whether or not
    /// it asked for derivatives.
    /// </summary>
    // Not marked AggressiveOptimization (nor are State.Evaluate/Item and HuberObjective.Residuals): the CLI runs
    // without tiered compilation (Anneal.Cli.csproj), so every method is compiled fully optimised anyway, and the
    // attribute kept these out of ./anneal's precompiled (ReadyToRun) image: five methods compiled at run time in
    // every fit. Without it they are precompiled, with the same bits (docs/benchmarks.md, "fit of the 400M split").
    public static double Value(double[] dArr, double[] pkArr, double[] eArr, int j0, int j1, double pt, double c, double beta, Path path = Path.Auto)
    {
        Span<double> o = stackalloc double[4];
        Run(dArr, pkArr, eArr, null, j0, j1, pt, c, beta, o, Resolve(path));
        return o[0];
    }

    /// <summary>The four sums s0..s3 over changes j0 &lt;= k &lt; j1, written to <paramref name="o"/>.</summary>
    public static void Sums(double[] dArr, double[] pkArr, double[] eArr, double[] lnEta, int j0, int j1, double pt, double c, double beta, Span<double> o, Path path = Path.Auto) =>
        Run(dArr, pkArr, eArr, lnEta, j0, j1, pt, c, beta, o, Resolve(path));

    /// <summary>
    /// dst = exp(factor * src) by <see cref="VectorLogExp"/> (the kernel's e_k = eta_k^-gamma from ln eta_k), the same bits on
    /// every width; factor * src must be finite and at most 709.
    /// </summary>
    public static void ScaledExp(ReadOnlySpan<double> src, double factor, Span<double> dst, Path path = Path.Auto)
    {
        path = Resolve(path);
        int i = 0;
        if (path == Path.Vector512)
            for (var f = Vector512.Create(factor); i <= src.Length - 8; i += 8)
                VectorLogExp.Exp(f * Vector512.Create(src.Slice(i, 8))).CopyTo(dst.Slice(i, 8));
        else if (path == Path.Vector256)
            for (var f = Vector256.Create(factor); i <= src.Length - 4; i += 4)
                VectorLogExp.Exp(f * Vector256.Create(src.Slice(i, 4))).CopyTo(dst.Slice(i, 4));
        for (; i < src.Length; i++) dst[i] = VectorLogExp.Exp(factor * src[i]);
    }

    /// <summary>dst = ln src by <see cref="VectorLogExp"/>, the same bits on every width; src positive, finite and normal.</summary>
    public static void Log(ReadOnlySpan<double> src, Span<double> dst, Path path = Path.Auto)
    {
        path = Resolve(path);
        int i = 0;
        if (path == Path.Vector512)
            for (; i <= src.Length - 8; i += 8) VectorLogExp.Log(Vector512.Create(src.Slice(i, 8))).CopyTo(dst.Slice(i, 8));
        else if (path == Path.Vector256)
            for (; i <= src.Length - 4; i += 4) VectorLogExp.Log(Vector256.Create(src.Slice(i, 4))).CopyTo(dst.Slice(i, 4));
        for (; i < src.Length; i++) dst[i] = VectorLogExp.Log(src[i]);
    }

    // lnEta null: s0 only (o[1..3] = 0).
    private static void Run(double[] dArr, double[] pkArr, double[] eArr, double[]? lnEta, int j0, int j1, double pt, double c, double beta, Span<double> o, Path path)
    {
        o[..4].Clear();
        // VectorLogExp does not carry a NaN through (it needs finite input): a NaN parameter gives NaN, as Math.Log would.
        if (!double.IsFinite(c) || !double.IsFinite(beta)) { o[..4].Fill(double.NaN); return; }
        int full = j0 + (j1 - j0) / Lanes * Lanes;
        // 8 lanes x 4 sums; lane l of sum s at acc[8 s + l].
        Span<double> acc = stackalloc double[4 * Lanes];
        acc.Clear();
        if (full > j0) Blocks(dArr, pkArr, eArr, lnEta, lnEta is not null, j0, full, pt, c, beta, acc, path);
        if (full < j1)
        {
            // The last partial block, padded: d = 0, P = pt, e = 0, ln eta = 0 add exactly +0 to every lane.
            Span<double> pad = stackalloc double[4 * Lanes];
            pad.Clear();
            Span<double> d = pad[..Lanes], pk = pad.Slice(Lanes, Lanes), e = pad.Slice(2 * Lanes, Lanes), ln = pad.Slice(3 * Lanes, Lanes);
            pk.Fill(pt);
            int m = j1 - full;
            dArr.AsSpan(full, m).CopyTo(d); pkArr.AsSpan(full, m).CopyTo(pk); eArr.AsSpan(full, m).CopyTo(e);
            if (lnEta is not null) lnEta.AsSpan(full, m).CopyTo(ln);
            Blocks(d, pk, e, ln, lnEta is not null, 0, Lanes, pt, c, beta, acc, path);
        }
        for (int s = 0; s < 4; s++)
        {
            var a = acc.Slice(Lanes * s, Lanes);
            o[s] = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
        }
    }

    // Changes j0..j1 (a multiple of 8 apart) added into the lanes of acc.
    private static void Blocks(ReadOnlySpan<double> dArr, ReadOnlySpan<double> pkArr, ReadOnlySpan<double> eArr, ReadOnlySpan<double> lnEta, bool derivs, int j0, int j1, double pt, double c, double beta, Span<double> acc, Path path)
    {
        if (path == Path.Vector512) Blocks512(dArr, pkArr, eArr, lnEta, derivs, j0, j1, pt, c, beta, acc);
        else if (path == Path.Vector256) Blocks256(dArr, pkArr, eArr, lnEta, derivs, j0, j1, pt, c, beta, acc);
        else BlocksScalar(dArr, pkArr, eArr, lnEta, derivs, j0, j1, pt, c, beta, acc);
    }

    private static void Blocks512(ReadOnlySpan<double> dArr, ReadOnlySpan<double> pkArr, ReadOnlySpan<double> eArr, ReadOnlySpan<double> lnEta, bool derivs, int j0, int j1, double pt, double c, double beta, Span<double> acc)
    {
        var vPt = Vector512.Create(pt); var vC = Vector512.Create(c); var vNegBeta = Vector512.Create(-beta);
        var one = Vector512<double>.One; var qMax = Vector512.Create(VectorLogExp.MaxLogArg);
        var a0 = Vector512.Create(acc[..8]); var a1 = Vector512.Create(acc.Slice(8, 8));
        var a2 = Vector512.Create(acc.Slice(16, 8)); var a3 = Vector512.Create(acc.Slice(24, 8));
        ref double rd = ref MemoryMarshal.GetReference(dArr), rp = ref MemoryMarshal.GetReference(pkArr), re = ref MemoryMarshal.GetReference(eArr);
        if (!derivs)
            for (int j = j0; j < j1; j += Lanes)
            {
                var d = Vector512.LoadUnsafe(ref rd, (nuint)j);
                var q = Vector512.Min(one + vC * (Vector512.LoadUnsafe(ref re, (nuint)j) * (vPt - Vector512.LoadUnsafe(ref rp, (nuint)j))), qMax);
                a0 += d - d * VectorLogExp.Exp(vNegBeta * VectorLogExp.Log(q));
            }
        else
        {
            ref double rl = ref MemoryMarshal.GetReference(lnEta);
            int j = j0;
            // Four blocks per pass, each computed as below and added into the lanes in block order (the same bits): the four
            // log/exp chains (two divisions each) are independent, so the core overlaps them instead of waiting on one.
            // One core, the 400M default fit: CPU -9 % with two blocks per pass, -15 % more with four (docs/benchmarks.md,
            // "Session 10: fit speed").
            for (; j + 4 * Lanes <= j1; j += 4 * Lanes)
            {
                var dA = Vector512.LoadUnsafe(ref rd, (nuint)j);
                var dB = Vector512.LoadUnsafe(ref rd, (nuint)(j + 1 * Lanes));
                var dC = Vector512.LoadUnsafe(ref rd, (nuint)(j + 2 * Lanes));
                var dD = Vector512.LoadUnsafe(ref rd, (nuint)(j + 3 * Lanes));
                var yA = Vector512.LoadUnsafe(ref re, (nuint)j) * (vPt - Vector512.LoadUnsafe(ref rp, (nuint)j));
                var yB = Vector512.LoadUnsafe(ref re, (nuint)(j + 1 * Lanes)) * (vPt - Vector512.LoadUnsafe(ref rp, (nuint)(j + 1 * Lanes)));
                var yC = Vector512.LoadUnsafe(ref re, (nuint)(j + 2 * Lanes)) * (vPt - Vector512.LoadUnsafe(ref rp, (nuint)(j + 2 * Lanes)));
                var yD = Vector512.LoadUnsafe(ref re, (nuint)(j + 3 * Lanes)) * (vPt - Vector512.LoadUnsafe(ref rp, (nuint)(j + 3 * Lanes)));
                var qA = Vector512.Min(one + vC * yA, qMax);
                var qB = Vector512.Min(one + vC * yB, qMax);
                var qC = Vector512.Min(one + vC * yC, qMax);
                var qD = Vector512.Min(one + vC * yD, qMax);
                var lA = VectorLogExp.Log(qA);
                var lB = VectorLogExp.Log(qB);
                var lC = VectorLogExp.Log(qC);
                var lD = VectorLogExp.Log(qD);
                var dpA = dA * VectorLogExp.Exp(vNegBeta * lA);
                var dpB = dB * VectorLogExp.Exp(vNegBeta * lB);
                var dpC = dC * VectorLogExp.Exp(vNegBeta * lC);
                var dpD = dD * VectorLogExp.Exp(vNegBeta * lD);
                var rA = dpA * yA / qA;
                var rB = dpB * yB / qB;
                var rC = dpC * yC / qC;
                var rD = dpD * yD / qD;
                a0 += dA - dpA; a0 += dB - dpB; a0 += dC - dpC; a0 += dD - dpD;
                a1 += rA; a1 += rB; a1 += rC; a1 += rD;
                a2 += dpA * lA; a2 += dpB * lB; a2 += dpC * lC; a2 += dpD * lD;
                a3 -= rA * Vector512.LoadUnsafe(ref rl, (nuint)j);
                a3 -= rB * Vector512.LoadUnsafe(ref rl, (nuint)(j + 1 * Lanes));
                a3 -= rC * Vector512.LoadUnsafe(ref rl, (nuint)(j + 2 * Lanes));
                a3 -= rD * Vector512.LoadUnsafe(ref rl, (nuint)(j + 3 * Lanes));
            }
            for (; j < j1; j += Lanes)
            {
                var d = Vector512.LoadUnsafe(ref rd, (nuint)j);
                var y = Vector512.LoadUnsafe(ref re, (nuint)j) * (vPt - Vector512.LoadUnsafe(ref rp, (nuint)j));
                var q = Vector512.Min(one + vC * y, qMax);
                var l = VectorLogExp.Log(q);
                var dp = d * VectorLogExp.Exp(vNegBeta * l);
                var r = dp * y / q;
                a0 += d - dp;
                a1 += r;
                a2 += dp * l;
                a3 -= r * Vector512.LoadUnsafe(ref rl, (nuint)j);
            }
        }
        a0.CopyTo(acc[..8]); a1.CopyTo(acc.Slice(8, 8)); a2.CopyTo(acc.Slice(16, 8)); a3.CopyTo(acc.Slice(24, 8));
    }

    // Lanes 0-3 in the "lo" vectors, 4-7 in the "hi" ones.
    private static void Blocks256(ReadOnlySpan<double> dArr, ReadOnlySpan<double> pkArr, ReadOnlySpan<double> eArr, ReadOnlySpan<double> lnEta, bool derivs, int j0, int j1, double pt, double c, double beta, Span<double> acc)
    {
        var vPt = Vector256.Create(pt); var vC = Vector256.Create(c); var vNegBeta = Vector256.Create(-beta);
        var one = Vector256<double>.One; var qMax = Vector256.Create(VectorLogExp.MaxLogArg);
        Span<Vector256<double>> a = stackalloc Vector256<double>[8];
        for (int s = 0; s < 8; s++) a[s] = Vector256.Create(acc.Slice(4 * s, 4));
        var (a0l, a0h, a1l, a1h, a2l, a2h, a3l, a3h) = (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
        ref double rd = ref MemoryMarshal.GetReference(dArr), rp = ref MemoryMarshal.GetReference(pkArr), re = ref MemoryMarshal.GetReference(eArr);
        if (!derivs)
            for (int j = j0; j < j1; j += Lanes)
            {
                var d = Vector256.LoadUnsafe(ref rd, (nuint)j);
                var q = Vector256.Min(one + vC * (Vector256.LoadUnsafe(ref re, (nuint)j) * (vPt - Vector256.LoadUnsafe(ref rp, (nuint)j))), qMax);
                a0l += d - d * VectorLogExp.Exp(vNegBeta * VectorLogExp.Log(q));
                d = Vector256.LoadUnsafe(ref rd, (nuint)(j + 4));
                q = Vector256.Min(one + vC * (Vector256.LoadUnsafe(ref re, (nuint)(j + 4)) * (vPt - Vector256.LoadUnsafe(ref rp, (nuint)(j + 4)))), qMax);
                a0h += d - d * VectorLogExp.Exp(vNegBeta * VectorLogExp.Log(q));
            }
        else
        {
            ref double rl = ref MemoryMarshal.GetReference(lnEta);
            for (int j = j0; j < j1; j += 4)
            {
                var d = Vector256.LoadUnsafe(ref rd, (nuint)j);
                var y = Vector256.LoadUnsafe(ref re, (nuint)j) * (vPt - Vector256.LoadUnsafe(ref rp, (nuint)j));
                var q = Vector256.Min(one + vC * y, qMax);
                var l = VectorLogExp.Log(q);
                var dp = d * VectorLogExp.Exp(vNegBeta * l);
                var r = dp * y / q;
                var lnE = Vector256.LoadUnsafe(ref rl, (nuint)j);
                // j - j0 is a multiple of 4: alternate between the lanes 0-3 and 4-7.
                if (((j - j0) & 4) == 0) { a0l += d - dp; a1l += r; a2l += dp * l; a3l -= r * lnE; }
                else { a0h += d - dp; a1h += r; a2h += dp * l; a3h -= r * lnE; }
            }
        }
        a[0] = a0l; a[1] = a0h; a[2] = a1l; a[3] = a1h; a[4] = a2l; a[5] = a2h; a[6] = a3l; a[7] = a3h;
        for (int s = 0; s < 8; s++) a[s].CopyTo(acc.Slice(4 * s, 4));
    }

    private static void BlocksScalar(ReadOnlySpan<double> dArr, ReadOnlySpan<double> pkArr, ReadOnlySpan<double> eArr, ReadOnlySpan<double> lnEta, bool derivs, int j0, int j1, double pt, double c, double beta, Span<double> acc)
    {
        double negBeta = -beta;
        for (int j = j0; j < j1; j++)
        {
            int lane = (j - j0) & (Lanes - 1);
            double d = dArr[j], y = eArr[j] * (pt - pkArr[j]), q = Math.Min(1 + c * y, VectorLogExp.MaxLogArg);
            if (!derivs) { acc[lane] += d - d * VectorLogExp.Exp(negBeta * VectorLogExp.Log(q)); continue; }
            double l = VectorLogExp.Log(q), dp = d * VectorLogExp.Exp(negBeta * l), r = dp * y / q;
            acc[lane] += d - dp;
            acc[Lanes + lane] += r;
            acc[2 * Lanes + lane] += dp * l;
            acc[3 * Lanes + lane] -= r * lnEta[j];
        }
    }
}
