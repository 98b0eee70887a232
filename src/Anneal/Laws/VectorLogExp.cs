using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Anneal.Laws;

/// <summary>
/// Natural log and exp for the multi-power law's loss-drop kernel (<see cref="MplKernel"/>), which takes one of each per
/// (point, rate change) pair: most of the CPU time of a fit. One algorithm written three times, for 512-bit vectors, 256-bit
/// vectors and scalars, with the same operations in the same order on every lane, so all three give the same bits (IEEE
/// arithmetic is exact per lane, and .NET does not contract a*b+c into a fused multiply-add): a fit's result does not depend
/// on the machine's vector width. (It did with the BCL's <c>Vector512/256.Log/Exp</c> and <c>Math.Log/Exp</c>, which round
/// differently, and the reference procedure's AdamW turns such last-bit differences into another fit on some splits:
/// docs/benchmarks.md, "Session 9: fit speed".) Inlined, they are also cheaper than the BCL's calls, which handle zero,
/// negative, infinite, NaN and subnormal input that the kernel never gives them. Relative error against Math.Log/Math.Exp
/// below 3e-16 (log) and 5e-16 (exp), tested in MplKernelTests.
/// </summary>
internal static class VectorLogExp
{
    // ln x: x = 2^k m with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s), s = (m - 1) / (m + 1), by the classic minimax
    // polynomial in s^2 (Lg1..Lg7, fdlibm's e_log.c coefficients), and k ln 2 added in two parts.
    private const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01, Lg3 = 2.857142874366239149e-01,
        Lg4 = 2.222219843214978396e-01, Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01, Lg7 = 1.479819860511658591e-01;
    private const double Ln2Hi = 6.93147180369123816490e-01, Ln2Lo = 1.90821492927058770002e-10;
    private const long SqrtHalfBits = 0x3fe6a09e667f3bcdL;
    // 1.5 * 2^52 and its bits: adding an integer |k| < 2^51 to these bits gives the double 1.5 * 2^52 + k (exact
    // integer-to-double conversion without AVX-512DQ), and adding the double to a value below 2^51 rounds it to an integer.
    private const double RoundMagic = 6755399441055744.0;
    private const long RoundMagicBits = 0x4338000000000000L;
    private const double InvLn2 = 1.44269504088896338700e+00;

    /// <summary>Lower end of <see cref="Exp(double)"/>'s range: below it the result is e^MinArg ~ 1e-307, not smaller.</summary>
    public const double MinArg = -707;

    /// <summary>Largest argument <see cref="Log(double)"/> is used with; the kernel clamps q = 1 + C y to it.</summary>
    public const double MaxLogArg = 1e300;

    /// <summary>ln x for positive, finite, normal x (other input gives meaningless values: callers keep it in range).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Log(double x)
    {
        long bits = BitConverter.DoubleToInt64Bits(x);
        long k = (bits - SqrtHalfBits) >> 52;
        double m = BitConverter.Int64BitsToDouble(bits - (k << 52));
        double kd = BitConverter.Int64BitsToDouble(k + RoundMagicBits) - RoundMagic;
        double f = m - 1;
        double s = f / (2.0 + f);
        double z = s * s;
        double w = z * z;
        double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
        double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
        double hfsq = 0.5 * f * f;
        return kd * Ln2Hi - ((hfsq - (s * (hfsq + (t1 + t2)) + kd * Ln2Lo)) - f);
    }

    /// <inheritdoc cref="Log(double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Log(Vector512<double> x)
    {
        var bits = x.AsInt64();
        var k = Vector512.ShiftRightArithmetic(bits - Vector512.Create(SqrtHalfBits), 52);
        var m = (bits - (k << 52)).AsDouble();
        var kd = (k + Vector512.Create(RoundMagicBits)).AsDouble() - Vector512.Create(RoundMagic);
        var f = m - Vector512<double>.One;
        var s = f / (Vector512.Create(2.0) + f);
        var z = s * s;
        var w = z * z;
        var t1 = w * (Vector512.Create(Lg2) + w * (Vector512.Create(Lg4) + w * Vector512.Create(Lg6)));
        var t2 = z * (Vector512.Create(Lg1) + w * (Vector512.Create(Lg3) + w * (Vector512.Create(Lg5) + w * Vector512.Create(Lg7))));
        var hfsq = Vector512.Create(0.5) * f * f;
        return kd * Vector512.Create(Ln2Hi) - ((hfsq - (s * (hfsq + (t1 + t2)) + kd * Vector512.Create(Ln2Lo))) - f);
    }

    /// <inheritdoc cref="Log(double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Log(Vector256<double> x)
    {
        var bits = x.AsInt64();
        var k = Vector256.ShiftRightArithmetic(bits - Vector256.Create(SqrtHalfBits), 52);
        var m = (bits - (k << 52)).AsDouble();
        var kd = (k + Vector256.Create(RoundMagicBits)).AsDouble() - Vector256.Create(RoundMagic);
        var f = m - Vector256<double>.One;
        var s = f / (Vector256.Create(2.0) + f);
        var z = s * s;
        var w = z * z;
        var t1 = w * (Vector256.Create(Lg2) + w * (Vector256.Create(Lg4) + w * Vector256.Create(Lg6)));
        var t2 = z * (Vector256.Create(Lg1) + w * (Vector256.Create(Lg3) + w * (Vector256.Create(Lg5) + w * Vector256.Create(Lg7))));
        var hfsq = Vector256.Create(0.5) * f * f;
        return kd * Vector256.Create(Ln2Hi) - ((hfsq - (s * (hfsq + (t1 + t2)) + kd * Vector256.Create(Ln2Lo))) - f);
    }

    // e^x: x = (16 m + j) ln2/16 + r, |r| <= ln2/32; e^x = 2^m 2^(j/16) e^r, 2^(j/16) from a 16-entry table (on AVX-512 held
    // in two registers: one permute, no gather; elsewhere read lane by lane, the same entries), e^r by its Taylor
    // polynomial of degree 7 (remainder below 2e-18), 2^m added to the exponent field.
    private static readonly double[] Pow2Sixteenths = [.. Enumerable.Range(0, 16).Select(j => Math.Pow(2, j / 16.0))];
    private static readonly Vector512<double> TableLo = Vector512.Create(Pow2Sixteenths.AsSpan(0, 8)), TableHi = Vector512.Create(Pow2Sixteenths.AsSpan(8, 8));
    private const double Ln2Over16Hi = Ln2Hi / 16, Ln2Over16Lo = Ln2Lo / 16, SixteenOverLn2 = 16 * InvLn2;
    private const double C2 = 1.0 / 2, C3 = 1.0 / 6, C4 = 1.0 / 24, C5 = 1.0 / 120, C6 = 1.0 / 720, C7 = 1.0 / 5040;

    /// <summary>e^x for finite x &lt;= 709; x below <see cref="MinArg"/> gives e^MinArg (NaN gives meaningless values).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Exp(double x)
    {
        x = Math.Max(x, MinArg);
        double t = x * SixteenOverLn2 + RoundMagic;
        double n = t - RoundMagic;
        double r = (x - n * Ln2Over16Hi) - n * Ln2Over16Lo;
        long ni = BitConverter.DoubleToInt64Bits(t) - RoundMagicBits;
        double tj = Pow2Sixteenths[(int)(ni & 15)];
        double r2 = r * r, r4 = r2 * r2;
        double p = ((1.0 + r) + r2 * (C2 + r * C3)) + r4 * ((C4 + r * C5) + r2 * (C6 + r * C7));
        return BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(tj * p) + ((ni >> 4) << 52));
    }

    /// <inheritdoc cref="Exp(double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Exp(Vector512<double> x)
    {
        x = Vector512.Max(x, Vector512.Create(MinArg));
        var t = x * Vector512.Create(SixteenOverLn2) + Vector512.Create(RoundMagic);
        var n = t - Vector512.Create(RoundMagic);
        var r = (x - n * Vector512.Create(Ln2Over16Hi)) - n * Vector512.Create(Ln2Over16Lo);
        var ni = t.AsInt64() - Vector512.Create(RoundMagicBits);
        var j = ni & Vector512.Create(15L);
        var tab = Pow2Sixteenths;
        // Without AVX-512 (a test of this path in the runtime's software vectors) the same entries lane by lane.
        var tj = Avx512F.IsSupported ? Avx512F.PermuteVar8x64x2(TableLo, j, TableHi)
            : Vector512.Create(tab[(int)j[0]], tab[(int)j[1]], tab[(int)j[2]], tab[(int)j[3]], tab[(int)j[4]], tab[(int)j[5]], tab[(int)j[6]], tab[(int)j[7]]);
        var r2 = r * r; var r4 = r2 * r2;
        var p = ((Vector512<double>.One + r) + r2 * (Vector512.Create(C2) + r * Vector512.Create(C3)))
              + r4 * ((Vector512.Create(C4) + r * Vector512.Create(C5)) + r2 * (Vector512.Create(C6) + r * Vector512.Create(C7)));
        return ((tj * p).AsInt64() + (Vector512.ShiftRightArithmetic(ni, 4) << 52)).AsDouble();
    }

    /// <inheritdoc cref="Exp(double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Exp(Vector256<double> x)
    {
        x = Vector256.Max(x, Vector256.Create(MinArg));
        var t = x * Vector256.Create(SixteenOverLn2) + Vector256.Create(RoundMagic);
        var n = t - Vector256.Create(RoundMagic);
        var r = (x - n * Vector256.Create(Ln2Over16Hi)) - n * Vector256.Create(Ln2Over16Lo);
        var ni = t.AsInt64() - Vector256.Create(RoundMagicBits);
        var tab = Pow2Sixteenths;
        var tj = Vector256.Create(tab[(int)(ni[0] & 15)], tab[(int)(ni[1] & 15)], tab[(int)(ni[2] & 15)], tab[(int)(ni[3] & 15)]);
        var r2 = r * r; var r4 = r2 * r2;
        var p = ((Vector256<double>.One + r) + r2 * (Vector256.Create(C2) + r * Vector256.Create(C3)))
              + r4 * ((Vector256.Create(C4) + r * Vector256.Create(C5)) + r2 * (Vector256.Create(C6) + r * Vector256.Create(C7)));
        return ((tj * p).AsInt64() + (Vector256.ShiftRightArithmetic(ni, 4) << 52)).AsDouble();
    }
}
