using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Anneal.Training;

/// <summary>Differentiable layer and RMS normalisation.</summary>
public static unsafe partial class Ops
{
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
}
