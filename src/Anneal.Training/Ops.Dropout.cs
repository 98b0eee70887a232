using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Anneal.Training;

/// <summary>Differentiable inverted dropout.</summary>
public static unsafe partial class Ops
{
    /// <summary>
    /// Inverted dropout: zeroes each element with probability p and scales survivors by 1/(1-p), so the
    /// expectation is unchanged. The mask comes from <paramref name="rng"/> (the trainer seeds it from
    /// the run seed and step, so a resumed run draws the same masks).
    /// </summary>
    public static Tensor<T> Dropout<T>(Tensor<T> x, double p, ref Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (p <= 0) return x;
        if (p >= 1) throw new ArgumentOutOfRangeException(nameof(p), "dropout probability must be < 1");
        T keep = T.CreateTruncating(1.0 / (1.0 - p));
        var mask = New<T>(x.Length);
        for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextDouble() < p ? T.Zero : keep;
        var d = New<T>(x.Length);
        TP.Multiply(x.Data, mask, d);
        var y = Result(d, x.Shape, x);
        if (y.RequiresGrad) y.BackwardFn = () => TP.FusedMultiplyAdd(y.Grad, mask, x.Grad, x.Grad);
        return y;
    }
}
