namespace Anneal.Planning;

/// <summary>
/// The most bootstrap resamples a scaling fit runs. Each resample is a refit (milliseconds) whose law is kept
/// for the intervals, so an unbounded count is unbounded time and memory; 10,000 resamples take seconds and
/// already put a 95% percentile limit within about 0.2 percentile points of where infinitely many would.
/// </summary>
public static class BootstrapLimit
{
    /// <summary>Largest accepted number of resamples.</summary>
    public const int Max = 10_000;

    /// <summary>Throws <see cref="InputException"/> when <paramref name="resamples"/> is above <see cref="Max"/>.</summary>
    public static void Check(int resamples)
    {
        if (resamples > Max)
            throw InputException.Naming($"{ParameterName.Parameter("bootstrap")} must be at most {Max} resamples, got {resamples}: more only cost time (intervals from {Max} are already stable to a fraction of a percentile); use {Max} or fewer");
    }
}
