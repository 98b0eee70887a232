namespace Anneal.Tuning;

/// <summary>What a trial's objective gets: its number, parameters, substituted schedule, and a way to report.</summary>
public sealed class TrialContext
{
    /// <summary>The trial's number in the study.</summary>
    public required int Number { get; init; }

    /// <summary>Its parameters.</summary>
    public required TrialParams Params { get; init; }

    /// <summary>The study's schedule spec with the parameters substituted; null when the study has none.</summary>
    public string? Schedule { get; init; }

    /// <summary>Steps the trial plans to run.</summary>
    public required long PlannedSteps { get; init; }

    /// <summary>Training threads this worker may use (the machine's cores split between the workers).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Cancelled when the trial must stop (pruned, reaped as stale, or the sweep is stopping).</summary>
    public CancellationToken Cancel { get; init; }

    /// <summary>Reports an intermediate value; returns true when the trial must stop now (pruned or no longer owned).</summary>
    public required Func<long, double, bool> Report { get; init; }
}

/// <summary>How a trial's objective ended.</summary>
/// <param name="State">Complete, pruned or failed.</param>
/// <param name="Value">The final metric (complete), or the last reported one.</param>
/// <param name="Message">Why it failed or was pruned.</param>
public sealed record TrialResult(TrialState State, double? Value, string? Message = null);

/// <summary>Runs one trial: Anneal's trainer, an external command, or a recorded table.</summary>
public interface ITrialObjective
{
    /// <summary>Runs the trial to its end, reporting intermediate values through <see cref="TrialContext.Report"/>.</summary>
    TrialResult Run(TrialContext context);
}
