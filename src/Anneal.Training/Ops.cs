using System.Numerics;

namespace Anneal.Training;

/// <summary>
/// Differentiable operations. Each computes its forward result and, when gradients are wanted,
/// records a closure that adds <c>dL/dinput</c> given <c>dL/doutput</c>. Every backward is checked
/// against central finite differences in float64 by the test suite (OpsGradientTests).
/// </summary>
public static unsafe partial class Ops
{
    private static Tensor<T> Result<T>(T[] data, int[] shape, params Tensor<T>[] parents) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool rg = false;
        if (Autograd.Enabled) foreach (var p in parents) rg |= p.RequiresGrad;
        return new Tensor<T>(data, shape, rg, rg ? parents : null) { Transient = true };
    }

    internal static T[] New<T>(int n) => Arena.Rent<T>(n, clear: false);

    /// <summary>Runs <paramref name="body"/>(row) for rows 0..n-1, over threads when the total work pays for it.</summary>
    internal static void ForRows(int n, long workPerRow, Action<int> body)
    {
        int threads = Engine.Threads;
        if (threads <= 1 || n < 2 || n * workPerRow < 1 << 15) { for (int i = 0; i < n; i++) body(i); return; }
        int chunk = (n + threads - 1) / threads;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            int end = Math.Min(n, (t + 1) * chunk);
            for (int i = t * chunk; i < end; i++) body(i);
        });
    }

    // ---------------------------------------------------------------- shape

    /// <summary>A view with a new shape over the same values and gradient (no copy). One dimension may be -1.</summary>
    public static Tensor<T> Reshape<T>(Tensor<T> x, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        shape = (int[])shape.Clone();
        int infer = Array.IndexOf(shape, -1);
        if (infer >= 0) { int known = 1; for (int i = 0; i < shape.Length; i++) if (i != infer) known *= shape[i]; shape[infer] = x.Length / known; }
        var y = Result(x.Data, shape, x);
        if (y.RequiresGrad) y.ShareGrad(x); // gradient of a view is the parent's gradient: nothing to do in backward
        return y;
    }

    /// <summary>Swaps the last two dimensions (materialised copy): <c>y[..., j, i] = x[..., i, j]</c>.</summary>
    public static Tensor<T> Transpose<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int r = x.Shape.Length, m = x.Shape[r - 2], n = x.Shape[r - 1], batches = x.Length / Math.Max(1, m * n);
        var shape = (int[])x.Shape.Clone(); shape[r - 2] = n; shape[r - 1] = m;
        var d = New<T>(x.Length);
        Transpose2(x.Data, d, batches, m, n, accumulate: false);
        var y = Result(d, shape, x);
        if (y.RequiresGrad) y.BackwardFn = () => Transpose2(y.Grad, x.Grad, batches, n, m, accumulate: true);
        return y;
    }

    private static void Transpose2<T>(T[] src, T[] dst, int batches, int m, int n, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int b = 0; b < batches; b++)
        {
            int o = b * m * n;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    if (accumulate) dst[o + j * m + i] += src[o + i * n + j]; else dst[o + j * m + i] = src[o + i * n + j];
        }
    }
}
