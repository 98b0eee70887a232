namespace Anneal.Training.Tests;

/// <summary>
/// Central finite differences in float64: dL/dθᵢ ≈ (L(θᵢ+h) - L(θᵢ-h)) / 2h, error O(h²). The scalar checked is
/// L = Σ y ⊙ R with a fixed random R, so every output element's gradient path is exercised.
/// </summary>
internal static class GradCheck
{
    public static Tensor<double> Rand(ref Rng rng, double scale, params int[] shape)
    {
        var d = new double[Tensor<double>.Size(shape)];
        for (int i = 0; i < d.Length; i++) d[i] = scale * rng.NextNormal();
        return new Tensor<double>(d, shape, requiresGrad: true);
    }

    public static void Check(Func<Tensor<double>> f, Tensor<double>[] inputs, double tol = 1e-6, double h = 1e-5)
    {
        var probe = f();
        var rng = new Rng(12345);
        var r = new double[probe.Length];
        for (int i = 0; i < r.Length; i++) r[i] = rng.NextNormal();
        var weights = new Tensor<double>(r, probe.Shape);
        double Loss() { using var _ = Autograd.NoGrad(); return Ops.Sum(Ops.Mul(f(), weights)).Item(); }

        foreach (var t in inputs) t.ZeroGrad();
        Ops.Sum(Ops.Mul(f(), weights)).Backward();
        foreach (var t in inputs)
        {
            var analytic = (double[])t.Grad.Clone();
            // large tensors: a strided sample of at most ~300 elements keeps the O(n²) check fast
            int stride = Math.Max(1, t.Length / 300);
            for (int i = 0; i < t.Length; i += stride)
            {
                double old = t.Data[i];
                t.Data[i] = old + h; double lp = Loss();
                t.Data[i] = old - h; double lm = Loss();
                t.Data[i] = old;
                double numeric = (lp - lm) / (2 * h);
                double err = Math.Abs(numeric - analytic[i]) / Math.Max(1.0, Math.Abs(numeric) + Math.Abs(analytic[i]));
                err.ShouldBeLessThan(tol, $"{t}: element {i}: analytic {analytic[i]:R} vs finite difference {numeric:R}");
            }
        }
    }
}
