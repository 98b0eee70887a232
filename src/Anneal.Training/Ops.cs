using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Anneal.Training;

/// <summary>
/// Differentiable operations. Each computes its forward result and, when gradients are wanted,
/// records a closure that adds <c>dL/dinput</c> given <c>dL/doutput</c>. Every backward is checked
/// against central finite differences in float64 by the test suite (OpsGradientTests).
/// </summary>
public static unsafe class Ops
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

    // ---------------------------------------------------------------- matrix products

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

    // ---------------------------------------------------------------- elementwise

    private static int Broadcast<T>(Tensor<T> a, Tensor<T> b, string op) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int ra = a.Shape.Length, rb = b.Shape.Length;
        bool ok = rb <= ra && a.Length % Math.Max(1, b.Length) == 0;
        for (int i = 1; ok && i <= rb; i++) ok = a.Shape[ra - i] == b.Shape[rb - i];
        if (!ok) throw new ArgumentException($"{op}: shape [{string.Join(",", b.Shape)}] must equal a trailing part of [{string.Join(",", a.Shape)}]");
        return a.Length / Math.Max(1, b.Length);
    }

    /// <summary><c>a + b</c>; <paramref name="b"/>'s shape may be a trailing part of <paramref name="a"/>'s (broadcast over leading dims).</summary>
    public static Tensor<T> Add<T>(Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int reps = Broadcast(a, b, "Add"), n = b.Length;
        var d = New<T>(a.Length);
        for (int r = 0; r < reps; r++) TP.Add(a.Data.AsSpan(r * n, n), b.Data, d.AsSpan(r * n, n));
        var y = Result(d, a.Shape, a, b);
        if (y.RequiresGrad)
            y.BackwardFn = () =>
            {
                if (a.RequiresGrad) TP.Add(a.Grad, y.Grad, a.Grad);
                if (b.RequiresGrad) for (int r = 0; r < reps; r++) TP.Add(b.Grad, y.Grad.AsSpan(r * n, n), b.Grad);
            };
        return y;
    }

    /// <summary><c>a ⊙ b</c> (elementwise), broadcasting <paramref name="b"/> like <see cref="Add{T}"/>.</summary>
    public static Tensor<T> Mul<T>(Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int reps = Broadcast(a, b, "Mul"), n = b.Length;
        var d = New<T>(a.Length);
        for (int r = 0; r < reps; r++) TP.Multiply(a.Data.AsSpan(r * n, n), b.Data, d.AsSpan(r * n, n));
        var y = Result(d, a.Shape, a, b);
        if (y.RequiresGrad)
            y.BackwardFn = () =>
            {
                for (int r = 0; r < reps; r++)
                {
                    var g = y.Grad.AsSpan(r * n, n);
                    if (a.RequiresGrad) TP.FusedMultiplyAdd(g, b.Data, a.Grad.AsSpan(r * n, n), a.Grad.AsSpan(r * n, n));
                    if (b.RequiresGrad) TP.FusedMultiplyAdd(g, a.Data.AsSpan(r * n, n), b.Grad, b.Grad);
                }
            };
        return y;
    }

    /// <summary><c>s · x</c> for a constant scalar s.</summary>
    public static Tensor<T> Scale<T>(Tensor<T> x, double s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T st = T.CreateTruncating(s);
        var d = New<T>(x.Length);
        TP.Multiply(x.Data, st, d);
        var y = Result(d, x.Shape, x);
        if (y.RequiresGrad) y.BackwardFn = () => TP.FusedMultiplyAdd(y.Grad, st, x.Grad, x.Grad);
        return y;
    }

    /// <summary>Sum of all elements (a scalar).</summary>
    public static Tensor<T> Sum<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Result([TP.Sum<T>(x.Data)], [1], x);
        if (y.RequiresGrad) y.BackwardFn = () => TP.Add(x.Grad, y.Grad[0], x.Grad);
        return y;
    }

    /// <summary>Mean of all elements (a scalar).</summary>
    public static Tensor<T> Mean<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T> => Scale(Sum(x), 1.0 / x.Length);

    /// <summary>Rectified linear unit <c>max(0, x)</c>; derivative 1 for x &gt; 0 else 0.</summary>
    public static Tensor<T> Relu<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = New<T>(x.Length);
        TP.Max(x.Data, T.Zero, d);
        var y = Result(d, x.Shape, x);
        if (y.RequiresGrad)
            y.BackwardFn = () => { var g = y.Grad; var xg = x.Grad; for (int i = 0; i < g.Length; i++) if (x.Data[i] > T.Zero) xg[i] += g[i]; };
        return y;
    }

    /// <summary>Hyperbolic tangent; derivative <c>1 - tanh²</c>.</summary>
    public static Tensor<T> Tanh<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = New<T>(x.Length);
        x.Data.CopyTo(d);
        Tanh<T>(d);
        var y = Result(d, x.Shape, x);
        if (y.RequiresGrad)
            y.BackwardFn = () => { var g = y.Grad; var xg = x.Grad; for (int i = 0; i < g.Length; i++) xg[i] += g[i] * (T.One - d[i] * d[i]); };
        return y;
    }

    /// <summary>
    /// GELU, tanh approximation (Hendrycks and Gimpel 2016; as in GPT-2):
    /// <c>y = ½x(1 + tanh(u))</c>, <c>u = √(2/π)(x + 0.044715x³)</c>;
    /// <c>dy/dx = ½(1 + t) + ½x(1 - t²)√(2/π)(1 + 3·0.044715x²)</c>.
    /// </summary>
    public static Tensor<T> Gelu<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T c = T.CreateTruncating(Math.Sqrt(2.0 / Math.PI)), k = T.CreateTruncating(0.044715), half = T.CreateTruncating(0.5);
        int n = x.Length;
        var t = New<T>(n); // tanh(u), kept for backward
        var d = New<T>(n);
        ForRows((n + 4095) / 4096, 4096 * 20, blk =>
        {
            int o = blk * 4096, len = Math.Min(4096, n - o);
            var xs = x.Data.AsSpan(o, len); var ts = t.AsSpan(o, len); var ds = d.AsSpan(o, len);
            TP.Multiply(xs, xs, ts);                 // x²
            TP.Multiply(ts, k, ts); TP.Add(ts, T.One, ts); // 1 + k x²
            TP.Multiply(ts, xs, ts);                 // x + k x³
            TP.Multiply(ts, c, ts);                  // u
            Tanh(ts);                                // t
            TP.Add(ts, T.One, ds);                   // 1 + t
            TP.Multiply(ds, xs, ds);
            TP.Multiply(ds, half, ds);
        });
        var y = Result(d, x.Shape, x);
        if (y.RequiresGrad)
            y.BackwardFn = () =>
            {
                var g = y.Grad; var xg = x.Grad; var xd = x.Data;
                T k3 = T.CreateTruncating(3 * 0.044715);
                ForRows((n + 4095) / 4096, 4096 * 12, blk =>
                {
                    int end = Math.Min(n, blk * 4096 + 4096);
                    for (int i = blk * 4096; i < end; i++)
                    {
                        T xi = xd[i], ti = t[i];
                        T dydx = half * (T.One + ti) + half * xi * (T.One - ti * ti) * c * (T.One + k3 * xi * xi);
                        xg[i] += g[i] * dydx;
                    }
                });
            };
        return y;
    }

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
    /// In-place tanh as <c>1 - 2/(e^{2u} + 1)</c>: built from the vectorised exp, which is several times faster than
    /// the library's tanh for float; saturates correctly (e^{2u} = ∞ gives 1, 0 gives -1).
    /// </summary>
    internal static void Tanh<T>(Span<T> u) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T two = T.CreateTruncating(2);
        TP.Multiply(u, two, u);
        TP.Exp(u, u);
        TP.Add(u, T.One, u);
        TP.Divide(two, u, u);
        TP.Subtract(T.One, u, u);
    }

    /// <summary>
    /// Layer normalisation over the last dimension (Ba, Kiros and Hinton 2016):
    /// <c>y = (x - μ)/√(σ² + ε) · w + b</c>. Backward with x̂ = (x-μ)·r, g = dy⊙w:
    /// <c>dx = r (g - mean(g) - x̂ mean(g⊙x̂))</c>, <c>dw = Σ dy⊙x̂</c>, <c>db = Σ dy</c>.
    /// </summary>
    public static Tensor<T> LayerNorm<T>(Tensor<T> x, Tensor<T> w, Tensor<T> b, double eps = 1e-5) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Shape[^1], rows = x.Length / n;
        var d = New<T>(x.Length); var xhat = New<T>(x.Length); var rstd = New<T>(rows);
        T invN = T.One / T.CreateTruncating(n), e = T.CreateTruncating(eps);
        ForRows(rows, n * 6, r =>
        {
            var xr = x.Data.AsSpan(r * n, n); var hr = xhat.AsSpan(r * n, n);
            T mean = TP.Sum(xr) * invN;
            TP.Subtract(xr, mean, hr);
            T var = TP.SumOfSquares<T>(hr) * invN;
            T rs = T.One / T.Sqrt(var + e);
            rstd[r] = rs;
            TP.Multiply(hr, rs, hr);
            TP.FusedMultiplyAdd(hr, w.Data, b.Data, d.AsSpan(r * n, n));
        });
        var y = Result(d, x.Shape, x, w, b);
        if (y.RequiresGrad)
            y.BackwardFn = () =>
            {
                var g = y.Grad;
                var xGrad = x.RequiresGrad ? x.Grad : null!;
                if (x.RequiresGrad)
                    ForRows(rows, n * 8, r =>
                    {
                        Span<T> gw = n <= 1024 ? stackalloc T[n] : new T[n];
                        var gr = g.AsSpan(r * n, n); var hr = xhat.AsSpan(r * n, n);
                        TP.Multiply(gr, w.Data, gw);
                        T m1 = TP.Sum<T>(gw) * invN, m2 = TP.Dot<T>(gw, hr) * invN, rs = rstd[r];
                        var xg = xGrad.AsSpan(r * n, n);
                        for (int i = 0; i < n; i++) xg[i] += rs * (gw[i] - m1 - hr[i] * m2);
                    });
                for (int r = 0; r < rows; r++)
                {
                    var gr = g.AsSpan(r * n, n);
                    if (w.RequiresGrad) TP.FusedMultiplyAdd(gr, xhat.AsSpan(r * n, n), w.Grad, w.Grad);
                    if (b.RequiresGrad) TP.Add(b.Grad, gr, b.Grad);
                }
            };
        return y;
    }

    /// <summary>
    /// RMS normalisation (Zhang and Sennrich 2019): <c>y = x / √(mean(x²) + ε) · w</c>. Backward with r = 1/rms,
    /// x̂ = x·r, g = dy⊙w: <c>dx = r (g - x̂ mean(g⊙x̂))</c>, <c>dw = Σ dy⊙x̂</c>.
    /// </summary>
    public static Tensor<T> RmsNorm<T>(Tensor<T> x, Tensor<T> w, double eps = 1e-6) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Shape[^1], rows = x.Length / n;
        var d = New<T>(x.Length); var xhat = New<T>(x.Length); var rinv = New<T>(rows);
        T invN = T.One / T.CreateTruncating(n), e = T.CreateTruncating(eps);
        ForRows(rows, n * 4, r =>
        {
            var xr = x.Data.AsSpan(r * n, n); var hr = xhat.AsSpan(r * n, n);
            T ri = T.One / T.Sqrt(TP.SumOfSquares<T>(xr) * invN + e);
            rinv[r] = ri;
            TP.Multiply(xr, ri, hr);
            TP.Multiply(hr, w.Data, d.AsSpan(r * n, n));
        });
        var y = Result(d, x.Shape, x, w);
        if (y.RequiresGrad)
            y.BackwardFn = () =>
            {
                var g = y.Grad;
                var xGrad = x.RequiresGrad ? x.Grad : null!;
                if (x.RequiresGrad)
                    ForRows(rows, n * 6, r =>
                    {
                        Span<T> gw = n <= 1024 ? stackalloc T[n] : new T[n];
                        var gr = g.AsSpan(r * n, n); var hr = xhat.AsSpan(r * n, n);
                        TP.Multiply(gr, w.Data, gw);
                        T m2 = TP.Dot<T>(gw, hr) * invN, ri = rinv[r];
                        var xg = xGrad.AsSpan(r * n, n);
                        for (int i = 0; i < n; i++) xg[i] += ri * (gw[i] - hr[i] * m2);
                    });
                if (w.RequiresGrad) for (int r = 0; r < rows; r++) TP.FusedMultiplyAdd(g.AsSpan(r * n, n), xhat.AsSpan(r * n, n), w.Grad, w.Grad);
            };
        return y;
    }

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
