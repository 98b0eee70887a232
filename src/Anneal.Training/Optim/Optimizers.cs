using System.Numerics;
using Anneal.Specs;

namespace Anneal.Training.Optim;

/// <summary>
/// A first-order optimizer over a fixed parameter list. The learning rate is passed to every
/// <see cref="Step"/> (the trainer takes it from an Anneal <c>Schedule</c>). Weight decay applies only
/// to parameters with <see cref="Tensor{T}.Decay"/> set (matrices, embeddings; not biases or norm gains).
/// State (moments) is exposed by name for checkpoints.
/// </summary>
public abstract class Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    protected Optimizer(IReadOnlyList<Tensor<T>> parameters, double weightDecay)
    {
        Parameters = parameters; WeightDecay = weightDecay;
    }

    public IReadOnlyList<Tensor<T>> Parameters { get; }
    public double WeightDecay { get; }

    /// <summary>Steps taken so far (t in bias corrections is StepCount after increment).</summary>
    public long StepCount { get; set; }

    /// <summary>Canonical spec (e.g. <c>adamw(b1=0.9, b2=0.95, eps=1e-8, wd=0.1)</c>).</summary>
    public abstract string Spec { get; }

    /// <summary>Applies one update with learning rate <paramref name="lr"/> using the gradients in each parameter's Grad.</summary>
    public void Step(double lr)
    {
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            Update(i, p.Data, p.Grad, lr, p.Decay ? WeightDecay : 0.0);
        }
    }

    /// <summary>Updates one parameter array in place.</summary>
    protected abstract void Update(int index, T[] p, T[] g, double lr, double wd);

    /// <summary>Named state arrays, in a fixed order, for checkpoints.</summary>
    public abstract IEnumerable<(string Name, T[] Values)> State();

    public void ZeroGrad() { foreach (var p in Parameters) p.ZeroGrad(); }

    protected T[][] Slots() => Parameters.Select(p => new T[p.Length]).ToArray();

    /// <summary>
    /// Parses <c>sgd(momentum=0.9, nesterov=true, wd=0)</c>, <c>adam(b1, b2, eps, wd)</c>, <c>adamw(...)</c>,
    /// <c>nadamw(...)</c>, <c>lion(b1=0.9, b2=0.99, wd=0)</c> or
    /// <c>muon(momentum=0.95, nesterov=true, ns_steps=5, wd=0.1, adam_b1=0.9, adam_b2=0.95, adam_eps=1e-8, adam_wd=0.1)</c>
    /// (<see cref="Muon{T}"/>: the adam_ values are those of the AdamW it leaves the non-matrix parameters to); a bare name takes the defaults.
    /// </summary>
    public static Optimizer<T> Create(string spec, IReadOnlyList<Tensor<T>> parameters)
    {
        var call = SpecCall.Parse(spec);
        var a = new SpecArgs(call);
        Optimizer<T> o = call.Name switch
        {
            "sgd" => new Sgd<T>(parameters, a.Number("momentum", 0.9), a.Flag("nesterov", false), a.Number("wd", 0)),
            "adam" => new Adam<T>(parameters, a.Number("b1", 0.9), a.Number("b2", 0.999), a.Number("eps", 1e-8), a.Number("wd", 0), decoupled: false),
            "adamw" => new Adam<T>(parameters, a.Number("b1", 0.9), a.Number("b2", 0.95), a.Number("eps", 1e-8), a.Number("wd", 0.1), decoupled: true),
            "nadamw" => new NAdamW<T>(parameters, a.Number("b1", 0.9), a.Number("b2", 0.95), a.Number("eps", 1e-8), a.Number("wd", 0.1)),
            "lion" => new Lion<T>(parameters, a.Number("b1", 0.9), a.Number("b2", 0.99), a.Number("wd", 0.1)),
            "muon" => new Muon<T>(parameters, a.Number("momentum", 0.95), a.Flag("nesterov", true), NewtonSchulzSteps(a), a.Number("wd", 0.1),
                a.Number("adam_b1", 0.9), a.Number("adam_b2", 0.95), a.Number("adam_eps", 1e-8), a.Number("adam_wd", 0.1)),
            _ => throw new SpecException($"unknown optimizer '{call.Name}': use sgd, adam, adamw, nadamw, lion or muon, e.g. 'adamw(b2=0.95, wd=0.1)'"),
        };
        a.EnsureAllUsed();
        // the documented ranges: a coefficient of 1 or more makes the moving averages grow without bound, a negative
        // weight decay grows the weights, a negative eps can divide by zero (eps = 0 is PyTorch's allowed minimum)
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        foreach (var key in new[] { "b1", "b2", "momentum", "adam_b1", "adam_b2" })
            if (a.Has(key) && a.Number(key) is var v && !(v >= 0 && v < 1)) throw a.Fail($"{key} must be in [0, 1), got {v.ToString(inv)}");
        foreach (var key in new[] { "wd", "adam_wd" })
            if (a.Has(key) && a.Number(key) is var wd && !(wd >= 0 && double.IsFinite(wd))) throw a.Fail($"{key} must be a finite weight decay >= 0, got {wd.ToString(inv)}");
        foreach (var key in new[] { "eps", "adam_eps" })
            if (a.Has(key) && a.Number(key) is var eps && !(eps >= 0 && double.IsFinite(eps))) throw a.Fail($"{key} must be a finite number >= 0, got {eps.ToString(inv)}");
        return o;
    }

    /// <summary>Muon's <c>ns_steps</c>: 1 to 20 Newton–Schulz iterations (5 in the reference; more only oscillate in the quintic's band).</summary>
    private static int NewtonSchulzSteps(SpecArgs a)
    {
        long k = a.Integer("ns_steps", 5);
        return k is >= 1 and <= 20 ? (int)k : throw a.Fail($"ns_steps must be a whole number from 1 to 20 (5 is the reference), got {k}");
    }

    // the update arithmetic runs in double whatever the tensors' element type; only the stored moments and parameters
    // take T's precision (one rounding per stored value instead of one per operation)
    protected static double ToDouble(T x) => double.CreateTruncating(x);
    protected static T FromDouble(double x) => T.CreateTruncating(x);
}

/// <summary>
/// SGD with momentum (PyTorch convention): <c>g ← g + λθ</c> (coupled L2), <c>v ← μv + g</c>,
/// update <c>u = g + μv</c> (Nesterov, Sutskever et al. 2013) or <c>u = v</c>; <c>θ ← θ - η u</c>.
/// </summary>
public sealed class Sgd<T>(IReadOnlyList<Tensor<T>> parameters, double momentum, bool nesterov, double weightDecay)
    : Optimizer<T>(parameters, weightDecay) where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] _v = parameters.Select(p => new T[p.Length]).ToArray();
    public override string Spec => new SpecBuilder("sgd").Num("momentum", momentum).Word("nesterov", nesterov ? "true" : "false").Num("wd", WeightDecay).Build().ToString();

    protected override void Update(int index, T[] p, T[] g, double lr, double wd)
    {
        var v = _v[index];
        for (int i = 0; i < p.Length; i++)
        {
            double gi = ToDouble(g[i]) + wd * ToDouble(p[i]);
            double vi = momentum * ToDouble(v[i]) + gi;
            v[i] = FromDouble(vi);
            p[i] = FromDouble(ToDouble(p[i]) - lr * (nesterov ? gi + momentum * vi : vi));
        }
    }

    public override IEnumerable<(string, T[])> State() => _v.Select((v, i) => ($"v.{i}", v));
}

/// <summary>
/// Adam (Kingma and Ba 2015): <c>m ← β₁m + (1-β₁)g</c>, <c>v ← β₂v + (1-β₂)g²</c>,
/// <c>θ ← θ - η m̂/(√v̂ + ε)</c> with <c>m̂ = m/(1-β₁ᵗ)</c>, <c>v̂ = v/(1-β₂ᵗ)</c>. Weight decay is L2 added to g
/// (Adam) or decoupled, <c>θ ← θ - ηλθ</c> before the update (AdamW, Loshchilov and Hutter 2019).
/// First step: <c>Δθ = -η g/(|g| + ε) ≈ -η sign(g)</c>.
/// </summary>
public sealed class Adam<T>(IReadOnlyList<Tensor<T>> parameters, double b1, double b2, double eps, double weightDecay, bool decoupled)
    : Optimizer<T>(parameters, weightDecay) where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] _m = parameters.Select(p => new T[p.Length]).ToArray();
    private readonly T[][] _v = parameters.Select(p => new T[p.Length]).ToArray();
    public override string Spec => new SpecBuilder(decoupled ? "adamw" : "adam").Num("b1", b1).Num("b2", b2).Num("eps", eps).Num("wd", WeightDecay).Build().ToString();

    protected override void Update(int index, T[] p, T[] g, double lr, double wd) =>
        Apply(p, g, _m[index], _v[index], lr, wd, b1, b2, eps, StepCount, decoupled);

    /// <summary>
    /// The Adam update of one parameter array at step <paramref name="t"/> (1-based) with its moments
    /// <paramref name="m"/> and <paramref name="v"/>: the one implementation, also used by <see cref="Muon{T}"/> for the
    /// parameters it leaves to AdamW.
    /// </summary>
    internal static void Apply(T[] p, T[] g, T[] m, T[] v, double lr, double wd, double b1, double b2, double eps, long t, bool decoupled)
    {
        double c1 = 1 - Math.Pow(b1, t), c2 = 1 - Math.Pow(b2, t);
        for (int i = 0; i < p.Length; i++)
        {
            double pi = ToDouble(p[i]), gi = ToDouble(g[i]);
            if (decoupled) pi -= lr * wd * pi; else gi += wd * pi;
            double mi = b1 * ToDouble(m[i]) + (1 - b1) * gi, vi = b2 * ToDouble(v[i]) + (1 - b2) * gi * gi;
            m[i] = FromDouble(mi); v[i] = FromDouble(vi);
            p[i] = FromDouble(pi - lr * (mi / c1) / (Math.Sqrt(vi / c2) + eps));
        }
    }

    public override IEnumerable<(string, T[])> State() => _m.Select((m, i) => ($"m.{i}", m)).Concat(_v.Select((v, i) => ($"v.{i}", v)));
}

/// <summary>
/// NAdamW: Adam with Nesterov momentum (Dozat 2016) and decoupled weight decay, in the form of the
/// AlgoPerf baseline: <c>m ← β₁m + (1-β₁)g</c>, <c>v ← β₂v + (1-β₂)g²</c>,
/// <c>m̃ = (β₁m + (1-β₁)g)/(1-β₁ᵗ)</c>, <c>θ ← θ - η(m̃/(√(v/(1-β₂ᵗ)) + ε) + λθ)</c>.
/// First step: <c>Δθ ≈ -η(1+β₁) sign(g)</c>.
/// </summary>
public sealed class NAdamW<T>(IReadOnlyList<Tensor<T>> parameters, double b1, double b2, double eps, double weightDecay)
    : Optimizer<T>(parameters, weightDecay) where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] _m = parameters.Select(p => new T[p.Length]).ToArray();
    private readonly T[][] _v = parameters.Select(p => new T[p.Length]).ToArray();
    public override string Spec => new SpecBuilder("nadamw").Num("b1", b1).Num("b2", b2).Num("eps", eps).Num("wd", WeightDecay).Build().ToString();

    protected override void Update(int index, T[] p, T[] g, double lr, double wd)
    {
        var m = _m[index]; var v = _v[index];
        double c1 = 1 - Math.Pow(b1, StepCount), c2 = 1 - Math.Pow(b2, StepCount);
        for (int i = 0; i < p.Length; i++)
        {
            double pi = ToDouble(p[i]), gi = ToDouble(g[i]);
            double mi = b1 * ToDouble(m[i]) + (1 - b1) * gi, vi = b2 * ToDouble(v[i]) + (1 - b2) * gi * gi;
            m[i] = FromDouble(mi); v[i] = FromDouble(vi);
            double mt = (b1 * mi + (1 - b1) * gi) / c1;
            p[i] = FromDouble(pi - lr * (mt / (Math.Sqrt(vi / c2) + eps) + wd * pi));
        }
    }

    public override IEnumerable<(string, T[])> State() => _m.Select((m, i) => ($"m.{i}", m)).Concat(_v.Select((v, i) => ($"v.{i}", v)));
}

/// <summary>
/// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"):
/// <c>c = β₁m + (1-β₁)g</c>, <c>θ ← θ - η(sign(c) + λθ)</c>, <c>m ← β₂m + (1-β₂)g</c>. Every coordinate moves by exactly η (plus decay).
/// </summary>
public sealed class Lion<T>(IReadOnlyList<Tensor<T>> parameters, double b1, double b2, double weightDecay)
    : Optimizer<T>(parameters, weightDecay) where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] _m = parameters.Select(p => new T[p.Length]).ToArray();
    public override string Spec => new SpecBuilder("lion").Num("b1", b1).Num("b2", b2).Num("wd", WeightDecay).Build().ToString();

    protected override void Update(int index, T[] p, T[] g, double lr, double wd)
    {
        var m = _m[index];
        for (int i = 0; i < p.Length; i++)
        {
            double pi = ToDouble(p[i]), gi = ToDouble(g[i]), mi = ToDouble(m[i]);
            double c = b1 * mi + (1 - b1) * gi;
            p[i] = FromDouble(pi - lr * (Math.Sign(c) + wd * pi));
            m[i] = FromDouble(b2 * mi + (1 - b2) * gi);
        }
    }

    public override IEnumerable<(string, T[])> State() => _m.Select((m, i) => ($"m.{i}", m));
}

/// <summary>Global-norm gradient clipping (Pascanu et al. 2013).</summary>
public static class GradClip
{
    /// <summary>
    /// Returns the global L2 norm <c>‖g‖ = √Σ g²</c> over all parameters (summed sequentially in double, so it is
    /// deterministic) and, when <paramref name="maxNorm"/> &gt; 0 and the norm exceeds it, scales every gradient by maxNorm/‖g‖.
    /// </summary>
    public static double ClipGlobalNorm<T>(IReadOnlyList<Tensor<T>> parameters, double maxNorm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double s = 0;
        foreach (var p in parameters) foreach (var g in p.Grad) { double d = double.CreateTruncating(g); s += d * d; }
        double norm = Math.Sqrt(s);
        if (maxNorm > 0 && norm > maxNorm && double.IsFinite(norm))
        {
            var f = T.CreateTruncating(maxNorm / norm);
            foreach (var p in parameters) System.Numerics.Tensors.TensorPrimitives.Multiply(p.Grad, f, p.Grad);
        }
        return norm;
    }
}
