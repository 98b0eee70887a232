using System.Numerics;

namespace Anneal.Training;

/// <summary>
/// A dense row-major tensor with reverse-mode automatic differentiation. <typeparamref name="T"/> is
/// <c>float</c> for training and <c>double</c> for finite-difference gradient checks; every op is written
/// once, generically. Each result of an op records its parents and a backward closure; <see cref="Backward"/>
/// runs the closures in reverse topological order, accumulating into <see cref="Grad"/>.
/// </summary>
public sealed class Tensor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[]? _grad;

    /// <summary>Dimensions, outermost first.</summary>
    public int[] Shape { get; }

    /// <summary>The values (shared with views made by <see cref="Ops.Reshape{T}"/>).</summary>
    public T[] Data { get; }

    /// <summary>Number of elements.</summary>
    public int Length => Data.Length;

    /// <summary>Whether gradients flow into this tensor (parameters, and every result computed from one).</summary>
    public bool RequiresGrad { get; }

    /// <summary>Optional name (parameters: <c>h.0.attn.qkv.w</c>), used by checkpoints and optimizers.</summary>
    public string? Name { get; init; }

    /// <summary>For parameters: whether weight decay applies (matrices and embeddings yes; biases and norm gains no).</summary>
    public bool Decay { get; init; }

    /// <summary>
    /// For parameters: whether it is an input or output layer of the network (token and position embeddings, the output
    /// head, a first layer over one-hot features) rather than a hidden weight matrix. Optimizers that treat hidden matrices
    /// as matrices (<see cref="Optim.Muon{T}"/>) leave these, like every non-matrix parameter, to an element-wise rule.
    /// </summary>
    public bool InputOrOutput { get; init; }

    /// <summary>Made by an op (its gradient may come from the step's <see cref="Arena"/>); false for parameters and inputs.</summary>
    internal bool Transient { get; init; }

    internal Tensor<T>[] Parents { get; }
    internal Action? BackwardFn { get; set; }

    /// <summary>A tensor over <paramref name="data"/> (not copied).</summary>
    public Tensor(T[] data, int[] shape, bool requiresGrad = false, Tensor<T>[]? parents = null)
    {
        long n = 1;
        foreach (var d in shape) { if (d < 0) throw new ArgumentException("negative dimension"); n *= d; }
        if (n != data.Length) throw new ArgumentException($"shape [{string.Join(",", shape)}] needs {n} values, got {data.Length}");
        Data = data; Shape = shape; RequiresGrad = requiresGrad; Parents = parents ?? [];
    }

    /// <summary>A zero tensor.</summary>
    public static Tensor<T> Zeros(params int[] shape) => new(new T[Size(shape)], shape);

    /// <summary>
    /// A trainable parameter initialised from N(0, std²) (std 0: zeros; <paramref name="fill"/> overrides);
    /// <paramref name="inputOrOutput"/> sets <see cref="InputOrOutput"/>.
    /// </summary>
    public static Tensor<T> Param(string name, int[] shape, ref Rng rng, double std, bool decay, double? fill = null, bool inputOrOutput = false)
    {
        var d = new T[Size(shape)];
        for (int i = 0; i < d.Length; i++) d[i] = T.CreateTruncating(fill ?? (std == 0 ? 0.0 : std * rng.NextNormal()));
        return new Tensor<T>(d, shape, requiresGrad: true) { Name = name, Decay = decay, InputOrOutput = inputOrOutput };
    }

    /// <summary>A constant from doubles.</summary>
    public static Tensor<T> From(double[] values, params int[] shape) => new(values.Select(T.CreateTruncating).ToArray(), shape);

    internal static int Size(int[] shape) { long n = 1; foreach (var d in shape) n *= d; return checked((int)n); }

    /// <summary>The gradient (allocated, zero, on first use).</summary>
    public T[] Grad => _grad ??= Transient ? Arena.Rent<T>(Data.Length, clear: true) : new T[Data.Length];

    /// <summary>Whether a gradient array exists yet.</summary>
    public bool HasGrad => _grad is not null;

    internal void ShareGrad(Tensor<T> other) => _grad = other.Grad;

    /// <summary>Clears the gradient (keeps the array).</summary>
    public void ZeroGrad() { if (_grad is not null) Array.Clear(_grad); }

    /// <summary>The single value of a one-element tensor, as double.</summary>
    public double Item() => Length == 1 ? double.CreateTruncating(Data[0]) : throw new InvalidOperationException($"Item() needs one element, tensor has {Length}");

    /// <summary>
    /// Back-propagates from this scalar: sets its gradient to 1 and runs every recorded backward closure
    /// once, each after all consumers of its output have added their contributions.
    /// </summary>
    public void Backward()
    {
        if (Length != 1) throw new InvalidOperationException("Backward() starts from a scalar loss");
        var order = new List<Tensor<T>>();
        var seen = new HashSet<Tensor<T>>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor<T> Node, int Next)>();
        stack.Push((this, 0)); seen.Add(this);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            if (next < node.Parents.Length)
            {
                stack.Push((node, next + 1));
                var p = node.Parents[next];
                if (p.RequiresGrad && seen.Add(p)) stack.Push((p, 0));
            }
            else order.Add(node);
        }
        Grad[0] = T.One;
        for (int i = order.Count - 1; i >= 0; i--) order[i].BackwardFn?.Invoke();
    }

    public override string ToString() => $"{Name ?? "tensor"}[{string.Join(",", Shape)}]";
}

/// <summary>Turns graph recording off (evaluation) for the current thread while in scope.</summary>
public readonly struct NoGradScope : IDisposable
{
    private readonly bool _previous;
    internal NoGradScope(bool previous) => _previous = previous;
    public void Dispose() => Autograd.Enabled = _previous;
}

/// <summary>Global switch for graph recording.</summary>
public static class Autograd
{
    [ThreadStatic] private static bool _disabled;

    /// <summary>Whether ops record backward closures (default true).</summary>
    public static bool Enabled { get => !_disabled; set => _disabled = !value; }

    /// <summary><c>using (Autograd.NoGrad()) { ... }</c> evaluates without building a graph.</summary>
    public static NoGradScope NoGrad() { var s = new NoGradScope(Enabled); Enabled = false; return s; }
}
