using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Anneal.Training;

/// <summary>Differentiable embedding lookup.</summary>
public static unsafe partial class Ops
{
    /// <summary>Row lookup <c>y[..., :] = table[idx[...], :]</c>; backward scatters-adds rows into the table's gradient.</summary>
    public static Tensor<T> Embedding<T>(Tensor<T> table, int[] idx, params int[] idxShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int v = table.Shape[0], dim = table.Shape[1];
        if (idxShape.Length == 0) idxShape = [idx.Length];
        var d = New<T>(idx.Length * dim);
        for (int i = 0; i < idx.Length; i++)
        {
            if ((uint)idx[i] >= (uint)v) throw new ArgumentOutOfRangeException(nameof(idx), $"token id {idx[i]} outside vocabulary of {v}");
            table.Data.AsSpan(idx[i] * dim, dim).CopyTo(d.AsSpan(i * dim, dim));
        }
        var y = Result(d, [.. idxShape, dim], table);
        if (y.RequiresGrad)
            y.BackwardFn = () =>
            {
                var tg = table.Grad;
                for (int i = 0; i < idx.Length; i++) { var row = tg.AsSpan(idx[i] * dim, dim); TP.Add(row, y.Grad.AsSpan(i * dim, dim), row); }
            };
        return y;
    }
}
