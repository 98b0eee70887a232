namespace Anneal.Tuning;

/// <summary>One configuration of a tabular benchmark: its schedule, planned steps and recorded curve of the metric.</summary>
public sealed record TableEntry(string Key, string Schedule, long Steps, IReadOnlyList<Report> Curve);

/// <summary>
/// A tabular objective (Klein &amp; Hutter's tabular benchmarks): every configuration's full curve was recorded once
/// (real training runs), and a trial replays its configuration's curve report by report, stopping where the pruner
/// stops it. Sweeps over it cost no training, so methods can be compared over many seeds on real curves.
/// </summary>
public sealed class TableObjective(IReadOnlyDictionary<string, TableEntry> table, Func<TrialParams, string> key) : ITrialObjective
{
    /// <summary>The configuration a trial's parameters select.</summary>
    public TableEntry Entry(TrialParams p) => table.TryGetValue(key(p), out var e) ? e
        : throw new InputException($"the table has no configuration '{key(p)}'; its keys: {string.Join(", ", table.Keys.Take(10))}");

    /// <inheritdoc/>
    public TrialResult Run(TrialContext context)
    {
        var e = Entry(context.Params);
        double? last = null;
        foreach (var r in e.Curve)
        {
            last = r.Value;
            if (context.Report(r.Step, r.Value)) return new TrialResult(TrialState.Pruned, last, "pruned");
        }
        return last is null ? new TrialResult(TrialState.Failed, null, "empty curve") : new TrialResult(TrialState.Complete, last);
    }
}
