using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Anneal.Training;

/// <summary>Differentiable elementwise operations, reductions and activations.</summary>
public static unsafe partial class Ops
{
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
}
