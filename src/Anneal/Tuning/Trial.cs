namespace Anneal.Tuning;

/// <summary>A trial's state, as stored and shown.</summary>
public enum TrialState
{
    /// <summary>Claimed by a worker that is training it.</summary>
    Running,
    /// <summary>Finished with a value.</summary>
    Complete,
    /// <summary>Stopped early by the pruner; its last intermediate value is kept.</summary>
    Pruned,
    /// <summary>Failed (the objective raised, the process exited non-zero, or its worker died).</summary>
    Failed,
}

/// <summary>One intermediate value reported by a trial: the metric at a training step.</summary>
public readonly record struct Report(long Step, double Value);

/// <summary>
/// A trial as samplers and pruners see it: its number, parameters, state, final value (complete trials) and the
/// intermediate values reported so far, plus the planned total steps (the schedule's length) for the forecast pruner.
/// </summary>
public sealed record TrialRecord(int Number, TrialParams Params, TrialState State, double? Value, IReadOnlyList<Report> Reports)
{
    /// <summary>Steps the trial ran (the last reported step + 1, or 0).</summary>
    public long StepsRun => Reports.Count == 0 ? 0 : Reports[^1].Step + 1;

    /// <summary>The schedule spec the trial trains under, after substitution (null for an objective without one).</summary>
    public string? Schedule { get; init; }

    /// <summary>Why it failed or was pruned, when said.</summary>
    public string? Message { get; init; }

    /// <summary>The steps the trial plans to run.</summary>
    public long? PlannedSteps { get; init; }

    /// <summary>
    /// Values a pruner recorded on the trial (successive halving's <c>completed_rung_k</c>, as Optuna keeps them in
    /// system attributes), stored with the trial so that a resumed study decides as the uninterrupted one would.
    /// </summary>
    public IReadOnlyDictionary<string, double> Attributes { get; init; } = new Dictionary<string, double>();

    /// <summary>The intermediate value reported at <paramref name="step"/>, if any.</summary>
    public double? ValueAt(long step)
    {
        for (int i = Reports.Count - 1; i >= 0; i--) if (Reports[i].Step == step) return Reports[i].Value;
        return null;
    }
}
