namespace Anneal.Laws;

/// <summary>
/// A predicted final loss as a function of the post-warmup rates, with its exact gradient: what schedule design minimises.
/// One law's (<see cref="MplFinalLoss"/>) or a seed ensemble's (<see cref="SeedEnsembleFinalLoss"/>). Instances hold scratch
/// buffers and are not thread-safe; create one per thread.
/// </summary>
public interface IFinalLoss
{
    /// <summary>Predicted loss after the last step of <paramref name="eta"/> (the post-warmup rates).</summary>
    double Value(ReadOnlySpan<double> eta);

    /// <summary>Predicted final loss; when <paramref name="gradient"/> is not empty (length n) it receives dL/deta_j.</summary>
    double Evaluate(ReadOnlySpan<double> eta, Span<double> gradient);

    /// <summary>
    /// <see cref="Evaluate"/> of a staircase (rate <paramref name="levels"/>[j] from post-warmup step <paramref name="starts"/>[j]
    /// to the next start, the last to <paramref name="n"/>-1); a non-empty <paramref name="gradient"/> (length k) receives
    /// dL/dlevel_j, the sum of dL/deta_i over the segment.
    /// </summary>
    double EvaluateStaircase(ReadOnlySpan<int> starts, ReadOnlySpan<double> levels, int n, Span<double> gradient);

    /// <summary>
    /// Whether <see cref="Evaluate"/> gives the exact per-rate gradient (the multi-power law's and its seed ensemble's do). False
    /// for a forecast whose laws have none (an <c>auto</c> stack's, <c>Anneal.Design.StackFinalLoss</c>): the free optimum is then
    /// searched over staircases only, whose few levels' gradient <see cref="EvaluateStaircase"/> gives.
    /// </summary>
    bool RateGradient => true;
}
