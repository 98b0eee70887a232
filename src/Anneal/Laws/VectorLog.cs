using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Anneal.Laws;

/// <summary>
/// Natural log on 512-bit vectors for the multi-power law's loss-drop kernel (<see cref="MplKernel"/>), which takes one
/// per (point, rate change) pair. The BCL's <c>Vector512.Log</c> is a call (not inlined) that also handles zero, negative,
/// infinite, NaN and subnormal input; the kernel's arguments are none of those, and this inlined one made the kernel's
/// pass ~20 % cheaper (docs/benchmarks.md, "fit of the 400M split"). Relative error against <see cref="Math.Log(double)"/>
/// at most 2.3e-16 over 10^6 random arguments in [1, e^200] and [1, 1.001].
/// </summary>
internal static class VectorLog
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
}
