using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Anneal.Training;

/// <summary>Differentiable softmax and the cross-entropy loss built on it.</summary>
public static unsafe partial class Ops
{
    /// <summary>Softmax over the last dimension, <c>yᵢ = exp(xᵢ - max) / Σ exp</c>; backward <c>dx = y ⊙ (dy - Σ dy⊙y)</c>.</summary>
    public static Tensor<T> Softmax<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Shape[^1], rows = x.Length / n;
        var d = New<T>(x.Length);
        ForRows(rows, n * 8, r => SoftmaxRow(x.Data.AsSpan(r * n, n), d.AsSpan(r * n, n)));
        var y = Result(d, x.Shape, x);
        if (y.RequiresGrad)
            y.BackwardFn = () =>
            {
                // gradients are allocated lazily: fetch them on this thread, never inside the parallel body
                T[] yg = y.Grad, xgAll = x.Grad;
                ForRows(rows, n * 4, r =>
            {
                var yr = d.AsSpan(r * n, n); var gr = yg.AsSpan(r * n, n); var xg = xgAll.AsSpan(r * n, n);
                T dot = TP.Dot<T>(gr, yr);
                for (int i = 0; i < n; i++) xg[i] += yr[i] * (gr[i] - dot);
            });
            };
        return y;
    }

    /// <summary>y = softmax(x); returns log Σ exp(x - max(x)) + max(x) (the log-partition), for cross-entropy.</summary>
    internal static double SoftmaxRow<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = TP.Max(x);
        TP.Subtract(x, max, y);
        TP.Exp(y, y);
        T sum = TP.Sum<T>(y);
        TP.Multiply(y, T.One / sum, y);
        return Math.Log(double.CreateTruncating(sum)) + double.CreateTruncating(max);
    }

    /// <summary>
    /// Mean cross-entropy of logits <c>[N, V]</c> against integer targets: <c>L = -(1/N) Σ log softmax(z)[t]</c>,
    /// computed with the log-sum-exp shift. Backward: <c>dz = (softmax(z) - onehot(t)) / N</c>.
    /// Targets equal to -1 are ignored (not counted in N).
    /// </summary>
    public static Tensor<T> CrossEntropy<T>(Tensor<T> logits, int[] targets) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int v = logits.Shape[^1], rows = logits.Length / v;
        if (targets.Length != rows) throw new ArgumentException($"CrossEntropy: {rows} rows of logits but {targets.Length} targets");
        var probs = New<T>(logits.Length);
        var rowLoss = New<double>(rows);
        ForRows(rows, v * 8, r =>
        {
            var z = logits.Data.AsSpan(r * v, v); var p = probs.AsSpan(r * v, v);
            double logZ = SoftmaxRow(z, p);
            int t = targets[r];
            if (t < 0) { rowLoss[r] = 0; return; }
            if (t >= v) throw new ArgumentOutOfRangeException(nameof(targets), $"target {t} outside {v} classes");
            rowLoss[r] = logZ - double.CreateTruncating(z[t]); // -log p_t = log Σ exp z - z_t
        });
        int counted = 0; double total = 0;
        for (int r = 0; r < rows; r++) if (targets[r] >= 0) { counted++; total += rowLoss[r]; }
        var y = Result([T.CreateTruncating(counted == 0 ? 0 : total / counted)], [1], logits);
        if (y.RequiresGrad)
            y.BackwardFn = () =>
            {
                if (counted == 0) return;
                T s = y.Grad[0] / T.CreateTruncating(counted);
                var lg = logits.Grad;
                ForRows(rows, v * 2, r =>
                {
                    int t = targets[r];
                    if (t < 0) return;
                    var p = probs.AsSpan(r * v, v); var zg = lg.AsSpan(r * v, v);
                    p[t] -= T.One;
                    TP.FusedMultiplyAdd(p, s, zg, zg);
                });
            };
        return y;
    }
}
