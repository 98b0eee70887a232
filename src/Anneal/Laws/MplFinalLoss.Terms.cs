using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Anneal.Laws;

/// <summary>The per-step terms of <see cref="MplFinalLoss"/>: w = eta^-gamma, x = w S_k, G(x) and G'(x).</summary>
public sealed partial class MplFinalLoss
{
    /// <summary>
    /// Writes, for positive rates <paramref name="eta"/> with suffix sums <paramref name="suffix"/>:
    /// w = eta^-gamma, x = w S_k, u = 1 + C x (scratch), g = G(x) = 1 - u^-beta and, unless <paramref name="gp"/> is
    /// empty, gp = G'(x) = beta C u^(-beta-1). No output may overlap an input; <paramref name="w"/>, <paramref name="x"/>
    /// and <paramref name="u"/> may be one buffer when only g and gp are read afterwards. With 512-bit vectors one pass
    /// computes every term of 8 steps at a time; otherwise, or with fewer than 8 steps, the same operations run as
    /// whole-array System.Numerics.Tensors calls. Both give the same bits: the element-wise operations are the same, in
    /// the same order, and the one-pass loop takes the 512-bit vector path for every element (a last, partial block is
    /// recomputed as the overlapping last 8), which is the path TensorPrimitives takes from 8 elements on (a test
    /// compares the two). The one pass saves the whole-array calls' memory traffic and, in a short-lived process, the
    /// compilation of a dozen generic TensorPrimitives instantiations on the machine.
    /// </summary>
    private static void Terms(ReadOnlySpan<double> eta, ReadOnlySpan<double> suffix, MplParameters law, Span<double> w, Span<double> x, Span<double> u, Span<double> g, Span<double> gp)
    {
        if (Vector512.IsHardwareAccelerated && eta.Length >= Vector512<double>.Count) FusedTerms(eta, suffix, law, w, x, g, gp);
        else TensorTerms(eta, suffix, law, w, x, u, g, gp);
    }

    /// <summary>
    /// <see cref="Terms"/> with 512-bit vectors in one pass (u is not stored). A block of 8 rates equal to the previous
    /// block's (a constant stretch: a WSD's stable phase, a staircase's step) takes that block's w: the vector functions
    /// work lane by lane, so equal inputs give equal outputs, and such a block needs half the Log/Exp calls.
    /// </summary>
    internal static void FusedTerms(ReadOnlySpan<double> eta, ReadOnlySpan<double> suffix, MplParameters law, Span<double> w, Span<double> x, Span<double> g, Span<double> gp)
    {
        const int Width = 8;
        int n = eta.Length;
        ref double e0 = ref MemoryMarshal.GetReference(eta);
        ref double s0 = ref MemoryMarshal.GetReference(suffix);
        ref double w0 = ref MemoryMarshal.GetReference(w);
        ref double x0 = ref MemoryMarshal.GetReference(x);
        ref double g0 = ref MemoryMarshal.GetReference(g);
        ref double gp0 = ref MemoryMarshal.GetReference(gp);
        bool wantGp = !gp.IsEmpty;
        var minusGamma = Vector512.Create(-law.Gamma);
        var minusBeta = Vector512.Create(-law.Beta);
        var c = Vector512.Create(law.C);
        var betaC = Vector512.Create(law.Beta * law.C);
        var one = Vector512<double>.One;
        var lastRates = Vector512.Create(double.NaN);   // equal to no rate: the first block computes its w
        var lastW = Vector512<double>.Zero;
        for (int i = 0; ; i += Width)
        {
            if (i > n - Width) i = n - Width;
            var rates = Vector512.LoadUnsafe(ref e0, (nuint)i);
            // TensorTerms' sequence: w = Exp(Log(eta) * -gamma), x = w S, u = x C + 1, p = Exp(Log(u) * -beta),
            // gp = p / u * (beta C), g = -p + 1.
            var wv = Vector512.EqualsAll(rates, lastRates) ? lastW : Vector512.Exp(Vector512.Log(rates) * minusGamma);
            lastRates = rates;
            lastW = wv;
            var xv = wv * Vector512.LoadUnsafe(ref s0, (nuint)i);
            var u = xv * c + one;
            var p = Vector512.Exp(Vector512.Log(u) * minusBeta);
            wv.StoreUnsafe(ref w0, (nuint)i);
            xv.StoreUnsafe(ref x0, (nuint)i);
            if (wantGp) (p / u * betaC).StoreUnsafe(ref gp0, (nuint)i);
            (-p + one).StoreUnsafe(ref g0, (nuint)i);
            if (i == n - Width) return;
        }
    }

    /// <summary><see cref="Terms"/> as whole-array System.Numerics.Tensors operations (any vector width, any length).</summary>
    internal static void TensorTerms(ReadOnlySpan<double> eta, ReadOnlySpan<double> suffix, MplParameters law, Span<double> w, Span<double> x, Span<double> u, Span<double> g, Span<double> gp)
    {
        TensorPrimitives.Log(eta, w);
        TensorPrimitives.Multiply(w, -law.Gamma, w);
        TensorPrimitives.Exp(w, w);
        TensorPrimitives.Multiply(w, suffix, x);
        TensorPrimitives.Multiply(x, law.C, u);
        TensorPrimitives.Add(u, 1.0, u);
        TensorPrimitives.Log(u, g);
        TensorPrimitives.Multiply(g, -law.Beta, g);
        TensorPrimitives.Exp(g, g);                 // g = u^-beta for now
        if (!gp.IsEmpty)
        {
            TensorPrimitives.Divide(g, u, gp);
            TensorPrimitives.Multiply(gp, law.Beta * law.C, gp);
        }
        TensorPrimitives.Negate(g, g);
        TensorPrimitives.Add(g, 1.0, g);
    }
}
