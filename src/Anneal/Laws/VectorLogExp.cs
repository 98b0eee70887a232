using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Anneal.Laws;

/// <summary>
/// Natural log and exp on 512-bit vectors for the multi-power law's loss-drop kernel (<see cref="MplKernel"/>), which takes
/// one of each per (point, rate change) pair: most of the CPU time of a fit. The BCL's <c>Vector512.Log/Exp</c> are calls
/// (not inlined: every live vector of the kernel's loop is spilled around them) that also handle zero, negative,
/// infinite, NaN and subnormal input; the kernel's arguments are none of those. Inlined, these made the kernel's pass
/// ~35 % cheaper (perf samples, docs/benchmarks.md "fit of the 400M split"). Relative error against Math.Log/Math.Exp:
/// at most 2.3e-16 (log, 10^6 random arguments in [1, e^200] and [1, 1.001]) and 5.3e-16 (exp, 2x10^6 in [-700, 0]).
/// </summary>
internal static class VectorLogExp
{
    // x = 2^k m with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m - 1) / (m + 1), by the classic minimax
    // polynomial in s^2 (Lg1..Lg7, the coefficients of fdlibm's e_log.c), and k ln 2 added in two parts.
    private const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01, Lg3 = 2.857142874366239149e-01,
        Lg4 = 2.222219843214978396e-01, Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01, Lg7 = 1.479819860511658591e-01;
    private const double Ln2Hi = 6.93147180369123816490e-01, Ln2Lo = 1.90821492927058770002e-10;
    private const ulong SqrtHalfBits = 0x3fe6a09e667f3bcdUL;

    /// <summary>
    /// ln x for positive, finite, normal x. Zero, negative, infinite, NaN and subnormal lanes give meaningless values:
    /// callers keep their arguments in range.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Log(Vector512<double> x)
    {
        var bits = x.AsUInt64();
        // k = the exponent of x / sqrt(1/2), so that m = x / 2^k lands in [sqrt(1/2), sqrt(2)).
        var k = Vector512.ShiftRightArithmetic((bits - Vector512.Create(SqrtHalfBits)).AsInt64(), 52);
        var m = (bits - (k.AsUInt64() << 52)).AsDouble();
        var kd = Vector512.ConvertToDouble(k);
        var f = m - Vector512<double>.One;
        var s = f / (Vector512.Create(2.0) + f);
        var z = s * s;
        var w = z * z;
        var t1 = w * (Vector512.Create(Lg2) + w * (Vector512.Create(Lg4) + w * Vector512.Create(Lg6)));
        var t2 = z * (Vector512.Create(Lg1) + w * (Vector512.Create(Lg3) + w * (Vector512.Create(Lg5) + w * Vector512.Create(Lg7))));
        var hfsq = Vector512.Create(0.5) * f * f;
        return kd * Vector512.Create(Ln2Hi) - ((hfsq - (s * (hfsq + (t1 + t2)) + kd * Vector512.Create(Ln2Lo))) - f);
    }

    // exp: x = (16 m + j) ln2/16 + r, |r| <= ln2/32; e^x = 2^m 2^(j/16) e^r, 2^(j/16) from a 16-entry table held in two
    // registers (one permute, no gather), e^r by its Taylor polynomial of degree 7 (remainder < 2e-18).
    private static readonly double[] Pow2Sixteenths = [.. Enumerable.Range(0, 16).Select(j => Math.Pow(2, j / 16.0))];
    private const double Ln2Over16Hi = Ln2Hi / 16, Ln2Over16Lo = Ln2Lo / 16, SixteenOverLn2 = 16 / 0.69314718055994530942;
    // 1.5 * 2^52: adding it rounds a double of magnitude below 2^51 to an integer held in the low mantissa bits.
    private const double RoundMagic = 6755399441055744.0;

    /// <summary>Lower end of <see cref="Exp"/>'s range: below it the result is e^MinArg ~ 1e-307, not smaller.</summary>
    public const double MinArg = -707;

    /// <summary>The table <see cref="Exp"/> takes (entries 0-7 and 8-15 of 2^(j/16)); load once per kernel call.</summary>
    public static (Vector512<double> Lo, Vector512<double> Hi) ExpTable() =>
        (Vector512.Create(Pow2Sixteenths.AsSpan(0, 8)), Vector512.Create(Pow2Sixteenths.AsSpan(8, 8)));

    /// <summary>
    /// e^x for finite x &lt;= 709 (AVX-512 only), with <paramref name="lo"/>, <paramref name="hi"/> from <see cref="ExpTable"/>.
    /// Arguments below <see cref="MinArg"/> give e^MinArg (the kernel multiplies it by bounded factors, so the difference
    /// is below 1e-300 in absolute terms); NaN lanes give meaningless values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Exp(Vector512<double> x, Vector512<double> lo, Vector512<double> hi)
    {
        x = Vector512.Max(x, Vector512.Create(MinArg));
        var t = x * Vector512.Create(SixteenOverLn2) + Vector512.Create(RoundMagic);
        var n = t - Vector512.Create(RoundMagic);
        var r = (x - n * Vector512.Create(Ln2Over16Hi)) - n * Vector512.Create(Ln2Over16Lo);
        var ni = t.AsInt64() - Vector512.Create(BitConverter.DoubleToInt64Bits(RoundMagic));
        var tj = Avx512F.PermuteVar8x64x2(lo, ni & Vector512.Create(15L), hi);
        var r2 = r * r;
        var r4 = r2 * r2;
        var p = (Vector512<double>.One + r + r2 * (Vector512.Create(1.0 / 2) + r * Vector512.Create(1.0 / 6)))
              + r4 * ((Vector512.Create(1.0 / 24) + r * Vector512.Create(1.0 / 120)) + r2 * (Vector512.Create(1.0 / 720) + r * Vector512.Create(1.0 / 5040)));
        // times 2^m: m = n >> 4 added to the exponent field.
        return ((tj * p).AsInt64() + (Vector512.ShiftRightArithmetic(ni, 4) << 52)).AsDouble();
    }
}
