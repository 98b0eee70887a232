using System.Numerics;
using Anneal.Specs;

namespace Anneal.Training.Optim;

/// <summary>
/// Muon (Jordan et al. 2024, "Muon: MomentUm Orthogonalized by Newton-Schulz"), in the form of Liu et al. 2025
/// (Moonshot AI, "Muon is Scalable for LLM Training"). Each hidden weight matrix W (<see cref="Orthogonalizes"/>:
/// two-dimensional and not <see cref="Tensor{T}.InputOrOutput"/>), of shape A x B with gradient G, keeps a momentum
/// buffer and moves along the orthogonalised momentum:
/// <code>
/// M ← μM + G
/// U = G + μM (Nesterov) or M
/// O = NewtonSchulz₅(U) ≈ the orthogonal polar factor of U (<see cref="NewtonSchulz{T}"/>)
/// W ← W − η (0.2 √max(A, B) · O + λW)
/// </code>
/// <b>Scale.</b> An orthogonal A x B matrix has RMS entry <c>1/√max(A, B)</c>, so <c>0.2 √max(A, B) · O</c> has RMS
/// 0.2, the RMS that AdamW's update typically has (Liu et al. 2025). This is Moonshot's convention, chosen over the
/// original <c>max(1, A/B)^½</c> (whose reference learning rate, 0.02, is tens of times AdamW's) because then
/// one learning rate serves both groups and AdamW's carries over: a schedule tuned for <c>adamw</c> (every schedule,
/// corpus and forecast in this project is in AdamW's units) is a sensible start for <c>muon</c>, and the weight decay λ
/// means the same as in AdamW. The learning rate of every step multiplies both groups alike.
/// <para>
/// Every other parameter (embeddings, the output head, norms' gains, biases: what is not a hidden matrix, as Jordan et
/// al. and Liu et al. do) is updated by AdamW (<see cref="Adam{T}"/>, decoupled) with its own β₁, β₂, ε and weight
/// decay at the same learning rate, exactly as <c>adamw</c> would update it. A model with no hidden matrix (logistic
/// regression, a one-hidden-layer MLP, whose two matrices are its input and output layers) is trained by AdamW alone.
/// Weight decay applies only to parameters with <see cref="Tensor{T}.Decay"/> set, as in every optimizer here.
/// </para>
/// </summary>
public sealed class Muon<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double _momentum, _b1, _b2, _eps, _adamWd;
    private readonly bool _nesterov;
    private readonly NewtonSchulz<T> _ns;
    // per parameter: the momentum buffer of a hidden matrix, or AdamW's two moments of anything else
    private readonly T[]?[] _buf, _m, _v;
    private T[] _u = [], _o = [];

    public Muon(IReadOnlyList<Tensor<T>> parameters, double momentum, bool nesterov, int nsSteps, double weightDecay,
        double adamB1, double adamB2, double adamEps, double adamWeightDecay) : base(parameters, weightDecay)
    {
        _momentum = momentum; _nesterov = nesterov; _b1 = adamB1; _b2 = adamB2; _eps = adamEps; _adamWd = adamWeightDecay;
        _ns = new NewtonSchulz<T>(nsSteps);
        _buf = parameters.Select(p => Orthogonalizes(p) ? new T[p.Length] : null).ToArray();
        _m = parameters.Select(p => Orthogonalizes(p) ? null : new T[p.Length]).ToArray();
        _v = parameters.Select(p => Orthogonalizes(p) ? null : new T[p.Length]).ToArray();
    }

    /// <summary>Whether Muon updates <paramref name="p"/> (a hidden weight matrix) rather than AdamW.</summary>
    public static bool Orthogonalizes(Tensor<T> p) => p.Shape.Length == 2 && !p.InputOrOutput;

    /// <summary>The update scale of an A x B matrix, <c>0.2 √max(A, B)</c> (Liu et al. 2025): the orthogonalised update's RMS becomes 0.2.</summary>
    public static double Scale(int rows, int cols) => 0.2 * Math.Sqrt(Math.Max(rows, cols));

    public override string Spec => new SpecBuilder("muon").Num("momentum", _momentum).Word("nesterov", _nesterov ? "true" : "false").Num("ns_steps", _ns.Steps)
        .Num("wd", WeightDecay).Num("adam_b1", _b1).Num("adam_b2", _b2).Num("adam_eps", _eps).Num("adam_wd", _adamWd).Build().ToString();

    protected override void Update(int index, T[] p, T[] g, double lr, double wd)
    {
        var param = Parameters[index];
        if (_buf[index] is not { } buf)
        {
            Adam<T>.Apply(p, g, _m[index]!, _v[index]!, lr, param.Decay ? _adamWd : 0, _b1, _b2, _eps, StepCount, decoupled: true);
            return;
        }
        int rows = param.Shape[0], cols = param.Shape[1], n = p.Length;
        if (_u.Length < n) { _u = new T[n]; _o = new T[n]; }
        for (int i = 0; i < n; i++)
        {
            double gi = ToDouble(g[i]), mi = _momentum * ToDouble(buf[i]) + gi;
            buf[i] = FromDouble(mi);
            _u[i] = FromDouble(_nesterov ? gi + _momentum * mi : mi);
        }
        _ns.Orthogonalize(_u.AsSpan(0, n), rows, cols, _o.AsSpan(0, n));
        double scale = Scale(rows, cols);
        for (int i = 0; i < n; i++)
        {
            double pi = ToDouble(p[i]);
            p[i] = FromDouble(pi - lr * (scale * ToDouble(_o[i]) + wd * pi));
        }
    }

    /// <summary>The hidden matrices' momentum buffers (<c>mom.i</c>), then AdamW's moments of the rest (<c>m.i</c>, <c>v.i</c>).</summary>
    public override IEnumerable<(string Name, T[] Values)> State() =>
        Named("mom", _buf).Concat(Named("m", _m)).Concat(Named("v", _v));

    private static IEnumerable<(string, T[])> Named(string prefix, T[]?[] arrays) =>
        arrays.Select((a, i) => (Name: $"{prefix}.{i}", Values: a)).Where(x => x.Values is not null).Select(x => (x.Name, x.Values!));
}
