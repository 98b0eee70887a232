namespace Anneal.Planning;

/// <summary>How a minimisation ended.</summary>
internal enum StopReason { Gradient, FunctionChange, LineSearch, MaxIterations }

internal readonly record struct LbfgsResult(double Value, int Iterations, StopReason Reason)
{
    /// <summary>
    /// Converged: small gradient, stalled objective, or a line search that can no longer decrease f
    /// (at the optimum of a Huber objective f is flat to rounding, so that is the usual exit).
    /// </summary>
    public bool Converged => Reason != StopReason.MaxIterations;
}

/// <summary>
/// Unconstrained L-BFGS for the planning fits: Anneal's one projected L-BFGS
/// (<see cref="Anneal.Design.LbfgsWorkspace"/>; Nocedal &amp; Wright, Numerical Optimization,
/// algorithm 7.4/7.5) run without a feasible set, with its halving Armijo line search.
/// The domain is enforced by the objective returning +inf, which the line search steps back from.
/// One instance per thread; <see cref="Minimize"/> does not allocate (bootstrap fits call it
/// thousands of times).
/// </summary>
internal sealed class Lbfgs
{
    private readonly Anneal.Design.LbfgsWorkspace _work;
    private readonly int _memory;

    public Lbfgs(int dimension, int memory = 10)
    {
        _memory = memory;
        _work = new Anneal.Design.LbfgsWorkspace(dimension, memory);
    }

    public int MaxIterations { get; init; } = 500;
    public double GradientTolerance { get; init; } = 1e-12;
    public double RelativeFunctionTolerance { get; init; } = 1e-14;

    private Anneal.Design.LbfgsOptions? _options;

    // The planning objectives' scale: a first step of at most 1 along -g / max|g|, a tolerance
    // relative to |f| itself (a Huber objective near its optimum is small), 3 quiet iterations.
    private Anneal.Design.LbfgsOptions Options => _options ??= new(Memory: _memory, MaxIterations: MaxIterations, ProjectedGradientTolerance: GradientTolerance,
        RelativeTolerance: RelativeFunctionTolerance, Patience: 3, FirstStep: 1, FirstStepCap: 1, ToleranceFloor: 1e-300, Search: Anneal.Design.LineSearch.Halving);

    /// <summary>Minimises <paramref name="f"/> from <paramref name="x"/> (updated in place).</summary>
    public LbfgsResult Minimize(Anneal.Design.ValueAndGradient f, Span<double> x)
    {
        var r = _work.Minimize(f, x, null, Options);
        var reason = r.Stop switch
        {
            Anneal.Design.LbfgsStop.Gradient => StopReason.Gradient,
            Anneal.Design.LbfgsStop.Improvement => StopReason.FunctionChange,
            Anneal.Design.LbfgsStop.MaxIterations => StopReason.MaxIterations,
            _ => StopReason.LineSearch,
        };
        return new LbfgsResult(r.Value, r.Iterations, reason);
    }
}
