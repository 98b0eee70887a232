using System.Numerics;
using Anneal.Specs;

namespace Anneal.Training.Models;

/// <summary>Anything with trainable parameters.</summary>
public interface IModule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Trainable tensors in a fixed order (checkpoints and optimizers rely on it).</summary>
    IReadOnlyList<Tensor<T>> Parameters { get; }
}

/// <summary>Multinomial logistic regression: <c>logits = x Wᵀ + b</c>, trained with cross-entropy (a convex problem).</summary>
public sealed class LogisticRegression<T> : IModule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Tensor<T> W { get; }
    public Tensor<T> B { get; }
    public IReadOnlyList<Tensor<T>> Parameters => [W, B];

    public LogisticRegression(int inputs, int classes)
    {
        var rng = new Rng(0);
        // the one matrix is both the input and the output layer
        W = Tensor<T>.Param("w", [classes, inputs], ref rng, 0, decay: true, inputOrOutput: true);
        B = Tensor<T>.Param("b", [classes], ref rng, 0, decay: false);
    }

    public Tensor<T> Forward(Tensor<T> x) => Ops.Linear(x, W, B);
}

/// <summary>Multi-layer perceptron: Linear → GELU → … → Linear, He-style init N(0, 1/fan_in).</summary>
public sealed class Mlp<T> : IModule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<(Tensor<T> W, Tensor<T> B)> _layers = [];
    public IReadOnlyList<Tensor<T>> Parameters => _layers.SelectMany(l => new[] { l.W, l.B }).ToList();

    public Mlp(int[] sizes, ulong seed = 0)
    {
        var rng = new Rng(seed);
        // the first layer (over the inputs, one-hot features in the n-gram models: an embedding) and the last (the output
        // head) are input/output layers; the ones between are hidden matrices
        for (int i = 0; i + 1 < sizes.Length; i++)
            _layers.Add((Tensor<T>.Param($"l{i}.w", [sizes[i + 1], sizes[i]], ref rng, Math.Sqrt(1.0 / sizes[i]), decay: true, inputOrOutput: i == 0 || i + 2 == sizes.Length),
                         Tensor<T>.Param($"l{i}.b", [sizes[i + 1]], ref rng, 0, decay: false)));
    }

    public Tensor<T> Forward(Tensor<T> x)
    {
        for (int i = 0; i < _layers.Count; i++)
        {
            x = Ops.Linear(x, _layers[i].W, _layers[i].B);
            if (i + 1 < _layers.Count) x = Ops.Gelu(x);
        }
        return x;
    }
}

/// <summary>
/// Decoder-only transformer configuration (Radford et al. 2019, GPT-2; layout as in nanoGPT): pre-norm
/// blocks <c>x += attn(norm(x)); x += mlp(norm(x))</c>, MLP width 4·Dim with GELU, final norm, output
/// projection tied to the token embedding. Positions are learned (GPT-2) or rotary (RoFormer).
/// </summary>
public sealed record GptConfig(int Vocab, int Layers, int Heads, int Dim, int MaxSeq, bool Rotary = false, bool RmsNorm = false, double Dropout = 0)
{
    /// <summary>Preset names accepted by <see cref="Parse"/>.</summary>
    public static readonly IReadOnlyDictionary<string, GptConfig> Presets = new Dictionary<string, GptConfig>
    {
        // ~0.43M parameters: trains a visibly useful character-level curve on Brown in a couple of minutes on 2 cores
        ["gpt-tiny"] = new(256, Layers: 2, Heads: 4, Dim: 128, MaxSeq: 64),
        // ~3.2M parameters
        ["gpt-small"] = new(256, Layers: 4, Heads: 8, Dim: 256, MaxSeq: 128),
    };

    /// <summary>The canonical spec, e.g. <c>gpt(vocab=256, layers=2, heads=4, dim=128, seq=64, rotary=false, norm=layer, dropout=0)</c>.</summary>
    public string Spec => System.FormattableString.Invariant($"gpt(vocab={Vocab}, layers={Layers}, heads={Heads}, dim={Dim}, seq={MaxSeq}, rotary={(Rotary ? "true" : "false")}, norm={(RmsNorm ? "rms" : "layer")}, dropout={Dropout})");

    public override string ToString() => Spec;

    /// <summary>Parameter count: per block 12·D² + 13·D, plus embeddings and the final norm.</summary>
    public long ParameterCount => (long)Layers * (12L * Dim * Dim + 13L * Dim) + (long)Vocab * Dim + (Rotary ? 0 : (long)MaxSeq * Dim) + 2L * Dim;

    /// <summary>
    /// <c>gpt-tiny</c>, <c>gpt-small</c>, or <c>gpt(layers=2, heads=4, dim=128, seq=64, rotary=false, norm=layer, dropout=0, vocab=256)</c>;
    /// a preset may take overrides: <c>gpt-tiny(rotary=true)</c>.
    /// </summary>
    public static GptConfig Parse(string spec)
    {
        spec = spec.Trim();
        // spec call names cannot hold '-', so presets are parsed under their '_' spelling
        foreach (var key in Presets.Keys)
            if (spec == key || spec.StartsWith(key + "(", StringComparison.Ordinal)) spec = key.Replace('-', '_') + spec[key.Length..];
        var call = SpecCall.Parse(spec);
        GptConfig baseline;
        if (call.Name == "gpt") baseline = Presets["gpt-tiny"];
        else if (!Presets.TryGetValue(call.Name.Replace('_', '-'), out baseline!))
            throw new SpecException($"unknown model '{call.Name}': use gpt-tiny, gpt-small or gpt(layers=.., heads=.., dim=.., seq=..)");
        var a = new SpecArgs(call);
        var norm = a.Word("norm", baseline.RmsNorm ? "rms" : "layer");
        if (norm is not ("rms" or "layer")) throw a.Fail("norm must be 'layer' or 'rms'");
        var c = new GptConfig((int)a.Integer("vocab", baseline.Vocab), (int)a.Integer("layers", baseline.Layers), (int)a.Integer("heads", baseline.Heads),
            (int)a.Integer("dim", baseline.Dim), (int)a.Integer("seq", baseline.MaxSeq), a.Flag("rotary", baseline.Rotary), norm == "rms", a.Number("dropout", baseline.Dropout));
        a.EnsureAllUsed();
        if (c.Layers < 1 || c.Heads < 1 || c.Dim < 1 || c.MaxSeq < 1 || c.Vocab < 2) throw a.Fail("layers, heads, dim, seq must be >= 1 and vocab >= 2");
        if (c.Dim % c.Heads != 0) throw a.Fail($"dim={c.Dim} must be divisible by heads={c.Heads}");
        if (c.Rotary && (c.Dim / c.Heads) % 2 != 0) throw a.Fail("rotary positions need an even head size (dim/heads)");
        if (c.Dropout is < 0 or >= 1) throw a.Fail("dropout must be in [0, 1)");
        return c;
    }
}

/// <summary>The GPT model of <see cref="GptConfig"/>. Init: N(0, 0.02²), residual output projections N(0, (0.02/√(2L))²) (GPT-2).</summary>
public sealed class Gpt<T> : IModule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private sealed record Block(Tensor<T> Ln1W, Tensor<T> Ln1B, Tensor<T> QkvW, Tensor<T> QkvB, Tensor<T> ProjW, Tensor<T> ProjB,
                                Tensor<T> Ln2W, Tensor<T> Ln2B, Tensor<T> FcW, Tensor<T> FcB, Tensor<T> Fc2W, Tensor<T> Fc2B);

    private readonly Tensor<T> _wte;
    private readonly Tensor<T>? _wpe;
    private readonly Block[] _blocks;
    private readonly Tensor<T> _lnfW, _lnfB;
    private readonly Rope? _rope;

    public GptConfig Config { get; }
    public IReadOnlyList<Tensor<T>> Parameters { get; }

    public Gpt(GptConfig config, ulong seed)
    {
        Config = config;
        var rng = new Rng(seed, 0x6D6F64656CUL);
        int d = config.Dim;
        double std = 0.02, resid = 0.02 / Math.Sqrt(2.0 * config.Layers);
        var ps = new List<Tensor<T>>();
        Tensor<T> P(string name, int[] shape, double s, bool decay, double? fill = null, bool io = false) { var t = Tensor<T>.Param(name, shape, ref rng, s, decay, fill, io); ps.Add(t); return t; }
        // the token embedding is also the (tied) output head
        _wte = P("wte", [config.Vocab, d], std, true, io: true);
        if (!config.Rotary) _wpe = P("wpe", [config.MaxSeq, d], std, true, io: true);
        _blocks = new Block[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            string h = $"h.{l}.";
            _blocks[l] = new Block(P(h + "ln1.w", [d], 0, false, 1), P(h + "ln1.b", [d], 0, false),
                P(h + "attn.qkv.w", [3 * d, d], std, true), P(h + "attn.qkv.b", [3 * d], 0, false),
                P(h + "attn.proj.w", [d, d], resid, true), P(h + "attn.proj.b", [d], 0, false),
                P(h + "ln2.w", [d], 0, false, 1), P(h + "ln2.b", [d], 0, false),
                P(h + "mlp.fc.w", [4 * d, d], std, true), P(h + "mlp.fc.b", [4 * d], 0, false),
                P(h + "mlp.proj.w", [d, 4 * d], resid, true), P(h + "mlp.proj.b", [d], 0, false));
        }
        _lnfW = P("lnf.w", [d], 0, false, 1); _lnfB = P("lnf.b", [d], 0, false);
        if (config.Rotary) _rope = new Rope(d / config.Heads, config.MaxSeq);
        Parameters = ps;
    }

    private Tensor<T> Norm(Tensor<T> x, Tensor<T> w, Tensor<T> b) => Config.RmsNorm ? Ops.RmsNorm(x, w) : Ops.LayerNorm(x, w, b);

    /// <summary>Next-token logits <c>[batch, seq, vocab]</c> for token ids <c>[batch, seq]</c> (row-major).</summary>
    public Tensor<T> Forward(int[] tokens, int batch, int seq, ulong dropoutSeed = 0)
    {
        if (seq > Config.MaxSeq) throw new ArgumentException($"sequence length {seq} exceeds the model's {Config.MaxSeq}");
        var rng = new Rng(dropoutSeed, 0x64726F70UL);
        double p = Autograd.Enabled ? Config.Dropout : 0;
        var x = Ops.Embedding(_wte, tokens, batch, seq);
        if (_wpe is not null) x = Ops.Add(x, Ops.Embedding(_wpe, Positions(seq), seq));
        x = Ops.Dropout(x, p, ref rng);
        foreach (var b in _blocks)
        {
            var a = Attention.CausalSelfAttention(Ops.Linear(Norm(x, b.Ln1W, b.Ln1B), b.QkvW, b.QkvB), Config.Heads, _rope);
            x = Ops.Add(x, Ops.Dropout(Ops.Linear(a, b.ProjW, b.ProjB), p, ref rng));
            var m = Ops.Linear(Ops.Gelu(Ops.Linear(Norm(x, b.Ln2W, b.Ln2B), b.FcW, b.FcB)), b.Fc2W, b.Fc2B);
            x = Ops.Add(x, Ops.Dropout(m, p, ref rng));
        }
        return Ops.Linear(Norm(x, _lnfW, _lnfB), _wte); // tied output projection
    }

    /// <summary>Mean next-token cross-entropy (nats) of <paramref name="targets"/> given <paramref name="tokens"/>.</summary>
    public Tensor<T> Loss(int[] tokens, int[] targets, int batch, int seq, ulong dropoutSeed = 0) =>
        Ops.CrossEntropy(Ops.Reshape(Forward(tokens, batch, seq, dropoutSeed), batch * seq, Config.Vocab), targets);

    private int[]? _positions;
    private int[] Positions(int seq)
    {
        if (_positions?.Length != seq) _positions = Enumerable.Range(0, seq).ToArray();
        return _positions;
    }
}
