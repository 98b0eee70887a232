using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Anneal.Training;

/// <summary>Differentiable matrix products: linear layers, shared-weight and batched products.</summary>
public static unsafe partial class Ops
{
    /// <summary>
    /// Affine layer <c>y = x Wᵀ + b</c> with <c>x[..., in]</c>, <c>W[out, in]</c> (PyTorch layout), <c>b[out]</c>.
    /// Backward: <c>dx = dy W</c>, <c>dW = dyᵀ x</c>, <c>db = Σ_rows dy</c>.
    /// </summary>
    public static Tensor<T> Linear<T>(Tensor<T> x, Tensor<T> w, Tensor<T>? b = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int outF = w.Shape[0], inF = w.Shape[1];
        if (x.Shape[^1] != inF) throw new ArgumentException($"Linear: input has {x.Shape[^1]} features, weight expects {inF}");
        int rows = x.Length / inF;
        var shape = (int[])x.Shape.Clone(); shape[^1] = outF;
        var d = New<T>(rows * outF);
        Gemm.Run(false, true, rows, outF, inF, T.One, x.Data, inF, w.Data, inF, T.Zero, d, outF);
        if (b is not null) for (int i = 0; i < rows; i++) { var row = d.AsSpan(i * outF, outF); TP.Add(row, b.Data, row); }
        var y = b is null ? Result(d, shape, x, w) : Result(d, shape, x, w, b);
        if (y.RequiresGrad)
            y.BackwardFn = () =>
            {
                var g = y.Grad;
                if (x.RequiresGrad) Gemm.Run(false, false, rows, inF, outF, T.One, g, outF, w.Data, inF, T.One, x.Grad, inF);
                if (w.RequiresGrad) Gemm.Run(true, false, outF, inF, rows, T.One, g, outF, x.Data, inF, T.One, w.Grad, inF);
                if (b is not null && b.RequiresGrad) { var bg = b.Grad; for (int i = 0; i < rows; i++) TP.Add(bg, g.AsSpan(i * outF, outF), bg); }
            };
        return y;
    }

    /// <summary>Matrix product <c>a[..., m, k] · b[k, n]</c> (b shared across leading dimensions).</summary>
    public static Tensor<T> MatMul<T>(Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (b.Shape.Length != 2) throw new ArgumentException("MatMul: b must be 2-D; use BatchedMatMul for batches of matrices");
        int k = b.Shape[0], n = b.Shape[1];
        if (a.Shape[^1] != k) throw new ArgumentException($"MatMul: inner dimensions {a.Shape[^1]} and {k} differ");
        int rows = a.Length / k;
        var shape = (int[])a.Shape.Clone(); shape[^1] = n;
        var d = New<T>(rows * n);
        Gemm.Run(false, false, rows, n, k, T.One, a.Data, k, b.Data, n, T.Zero, d, n);
        var y = Result(d, shape, a, b);
        if (y.RequiresGrad)
            y.BackwardFn = () =>
            {
                if (a.RequiresGrad) Gemm.Run(false, true, rows, k, n, T.One, y.Grad, n, b.Data, n, T.One, a.Grad, k);
                if (b.RequiresGrad) Gemm.Run(true, false, k, n, rows, T.One, a.Data, k, y.Grad, n, T.One, b.Grad, n);
            };
        return y;
    }

    /// <summary>Batched product <c>a[B, m, k] · b[B, k, n] → [B, m, n]</c>.</summary>
    public static Tensor<T> BatchedMatMul<T>(Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Shape.Length != 3 || b.Shape.Length != 3 || a.Shape[0] != b.Shape[0] || a.Shape[2] != b.Shape[1])
            throw new ArgumentException("BatchedMatMul: shapes must be [B,m,k] and [B,k,n]");
        int bs = a.Shape[0], m = a.Shape[1], k = a.Shape[2], n = b.Shape[2];
        var d = New<T>(bs * m * n);
        for (int i = 0; i < bs; i++)
            Gemm.Run(false, false, m, n, k, T.One, a.Data.AsSpan(i * m * k), k, b.Data.AsSpan(i * k * n), n, T.Zero, d.AsSpan(i * m * n), n);
        var y = Result(d, [bs, m, n], a, b);
        if (y.RequiresGrad)
            y.BackwardFn = () =>
            {
                for (int i = 0; i < bs; i++)
                {
                    var g = y.Grad.AsSpan(i * m * n);
                    if (a.RequiresGrad) Gemm.Run(false, true, m, k, n, T.One, g, n, b.Data.AsSpan(i * k * n), n, T.One, a.Grad.AsSpan(i * m * k), k);
                    if (b.RequiresGrad) Gemm.Run(true, false, k, n, m, T.One, a.Data.AsSpan(i * m * k), k, g, n, T.One, b.Grad.AsSpan(i * k * n), n);
                }
            };
        return y;
    }
}
