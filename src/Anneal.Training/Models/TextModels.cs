using Anneal.Specs;
using Anneal.Training.Data;

namespace Anneal.Training.Models;

/// <summary>
/// A next-byte model the trainer can train on <see cref="TextDataset"/> batches: inputs and targets are
/// <c>[batch, seq]</c> byte tokens and the loss is the mean next-byte cross-entropy (nats per byte), so every
/// workload's curve is on the same scale.
/// </summary>
public interface ITextModel
{
    /// <summary>Canonical spec, e.g. <c>logreg(context=1)</c> (recorded in checkpoints).</summary>
    string Spec { get; }

    /// <summary>Longest sequence a batch may have (the default <c>seq</c>).</summary>
    int MaxSeq { get; }

    /// <summary>Trainable tensors in a fixed order.</summary>
    IReadOnlyList<Tensor<float>> Parameters { get; }

    /// <summary>Mean next-token cross-entropy of <paramref name="targets"/> given <paramref name="tokens"/>.</summary>
    Tensor<float> Loss(int[] tokens, int[] targets, int batch, int seq, ulong dropoutSeed = 0);
}

/// <summary>
/// Builds the model of a <c>model</c> spec: a GPT (<see cref="GptConfig.Parse"/>), or one of the small
/// convex / shallow workloads on byte n-gram features:
/// <list type="bullet">
/// <item><c>logreg(context=1)</c>: multinomial logistic regression from the one-hot previous <c>context</c> bytes to
/// the next byte. With context=1 it is a bigram model, a convex problem whose optimum is the empirical conditional
/// entropy H(next | current) of the training text (plus the L2 term).</item>
/// <item><c>mlp(context=4, hidden=256, layers=1)</c>: the same features through <c>layers</c> GELU hidden layers
/// (Bengio et al. 2003's neural n-gram model, without the shared embedding).</item>
/// </list>
/// The features are built from the same byte batches as the GPT's, so the curves compare directly.
/// </summary>
public static class TextModels
{
    /// <summary>Parses <paramref name="spec"/> and builds the model with initialisation seed <paramref name="seed"/>.</summary>
    public static ITextModel Create(string spec, ulong seed)
    {
        var s = spec.Trim();
        if (!(s == "logreg" || s == "mlp" || s.StartsWith("logreg(", StringComparison.Ordinal) || s.StartsWith("mlp(", StringComparison.Ordinal)))
            return new GptModel(GptConfig.Parse(s), seed);
        var call = SpecCall.Parse(s);
        var a = new SpecArgs(call);
        int context = (int)a.Integer("context", call.Name == "logreg" ? 1 : 4);
        if (context is < 1 or > 16) throw a.Fail($"context must be between 1 and 16 bytes, got {context}");
        if (call.Name == "logreg")
        {
            a.EnsureAllUsed();
            return new NgramModel(context, [], seed);
        }
        int hidden = (int)a.Integer("hidden", 256), layers = (int)a.Integer("layers", 1);
        a.EnsureAllUsed();
        if (hidden is < 1 or > 8192) throw a.Fail($"hidden must be between 1 and 8192, got {hidden}");
        if (layers is < 1 or > 8) throw a.Fail($"layers must be between 1 and 8, got {layers}");
        return new NgramModel(context, Enumerable.Repeat(hidden, layers).ToArray(), seed);
    }
}

/// <summary>The GPT as an <see cref="ITextModel"/>.</summary>
public sealed class GptModel(GptConfig config, ulong seed) : ITextModel
{
    /// <summary>The wrapped network.</summary>
    public Gpt<float> Net { get; } = new(config, seed);

    public string Spec => config.Spec;
    public int MaxSeq => config.MaxSeq;
    public IReadOnlyList<Tensor<float>> Parameters => Net.Parameters;
    public Tensor<float> Loss(int[] tokens, int[] targets, int batch, int seq, ulong dropoutSeed = 0) => Net.Loss(tokens, targets, batch, seq, dropoutSeed);
}

/// <summary>
/// Next-byte prediction from the one-hot encoding of the previous <c>context</c> bytes (the current byte first;
/// slots before the start of the sequence are all zero): <see cref="LogisticRegression{T}"/> when there are no
/// hidden layers, else an <see cref="Mlp{T}"/>.
/// </summary>
public sealed class NgramModel : ITextModel
{
    private readonly int _context;
    private readonly int[] _hidden;
    private readonly LogisticRegression<float>? _logreg;
    private readonly Mlp<float>? _mlp;
    private float[] _features = [];

    public NgramModel(int context, int[] hidden, ulong seed)
    {
        _context = context; _hidden = hidden;
        int inputs = context * ByteTokenizer.VocabSize;
        if (hidden.Length == 0) _logreg = new LogisticRegression<float>(inputs, ByteTokenizer.VocabSize);
        else _mlp = new Mlp<float>([inputs, .. hidden, ByteTokenizer.VocabSize], seed);
    }

    public string Spec => _logreg is not null
        ? FormattableString.Invariant($"logreg(context={_context})")
        : FormattableString.Invariant($"mlp(context={_context}, hidden={_hidden[0]}, layers={_hidden.Length})");

    /// <summary>Any length works; 64 matches gpt-tiny so curves compare.</summary>
    public int MaxSeq => 64;

    public IReadOnlyList<Tensor<float>> Parameters => _logreg?.Parameters ?? _mlp!.Parameters;

    /// <summary>One-hot features <c>[batch*seq, context*256]</c>, in a buffer reused across steps.</summary>
    public Tensor<float> Features(int[] tokens, int batch, int seq)
    {
        int width = _context * ByteTokenizer.VocabSize, rows = batch * seq;
        if (_features.Length != rows * width) _features = new float[rows * width];
        else Array.Clear(_features);
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seq; t++)
                for (int j = 0; j < _context && t - j >= 0; j++)
                    _features[(b * seq + t) * width + j * ByteTokenizer.VocabSize + tokens[b * seq + t - j]] = 1;
        return new Tensor<float>(_features, [rows, width]);
    }

    public Tensor<float> Loss(int[] tokens, int[] targets, int batch, int seq, ulong dropoutSeed = 0)
    {
        var x = Features(tokens, batch, seq);
        var logits = _logreg is not null ? _logreg.Forward(x) : _mlp!.Forward(x);
        return Ops.CrossEntropy(logits, targets);
    }
}
