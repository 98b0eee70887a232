namespace Anneal.Laws;

/// <summary>
/// Whether a law evaluation may split itself over the cores. Callers that already run independent
/// evaluations in parallel (jackknife refits, screened starts, prediction replicates) mark their
/// workers with <see cref="Sequential"/> so the evaluations inside stay on one thread each.
/// </summary>
internal static class EvaluationParallelism
{
    [ThreadStatic] private static int t_depth;

    public static ParallelOptions Options { get; } = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    /// <summary>True when this thread is not already one worker of an outer parallel loop.</summary>
    public static bool Allowed => t_depth == 0 && Environment.ProcessorCount > 1;

    /// <summary>Marks the current thread as an outer worker until disposed.</summary>
    public static Scope Sequential() { t_depth++; return new Scope(true); }

    /// <summary>Ends a <see cref="Sequential"/> region; a default instance does nothing.</summary>
    public readonly struct Scope(bool active) : IDisposable
    {
        public void Dispose() { if (active) t_depth--; }
    }
}
