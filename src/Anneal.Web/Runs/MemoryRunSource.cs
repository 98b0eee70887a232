using Anneal.Curves;

namespace Anneal.Web.Runs;

/// <summary>
/// Runs held in the server's memory: what the dashboard shows when it is started without a persistent store.
/// Lists are filtered and sorted over an array of summaries kept beside the curves, so a page of 10k runs
/// costs one pass, not a curve read per run.
/// </summary>
public sealed class MemoryRunSource : IRunSource
{
    private readonly object _lock = new();
    private readonly List<(RunSummary Summary, LossCurve Curve)> _runs = [];
    private long _next = 1;

    /// <inheritdoc />
    public int Count { get { lock (_lock) return _runs.Count; } }

    /// <inheritdoc />
    public RunPage List(RunQuery q)
    {
        RunSummary[] all;
        lock (_lock) all = _runs.Select(r => r.Summary).ToArray();
        return RunFilter.Apply(all, q);
    }

    /// <inheritdoc />
    public RunSummary? Get(long id) { lock (_lock) return _runs.FirstOrDefault(r => r.Summary.Id == id).Summary; }

    /// <inheritdoc />
    public LossCurve? Curve(long id) { lock (_lock) return _runs.FirstOrDefault(r => r.Summary.Id == id).Curve; }

    /// <inheritdoc />
    public long Add(LossCurve curve, IReadOnlyList<string> tags)
    {
        lock (_lock)
        {
            long id = _next++;
            _runs.Add((RunFilter.Summarize(id, curve, tags, DateTimeOffset.UtcNow, false), curve));
            return id;
        }
    }
}

/// <summary>The runs table's filter, sort and window over summaries, and a curve's summary numbers.</summary>
public static class RunFilter
{
    /// <summary>Applies a query to summaries held in memory.</summary>
    public static RunPage Apply(IReadOnlyList<RunSummary> all, RunQuery q)
    {
        IEnumerable<RunSummary> rows = all;
        if (!string.IsNullOrWhiteSpace(q.Text))
        {
            var t = q.Text.Trim();
            rows = rows.Where(r => r.Name.Contains(t, StringComparison.OrdinalIgnoreCase)
                || (r.Schedule?.Contains(t, StringComparison.OrdinalIgnoreCase) ?? false)
                || r.Tags.Any(g => g.Contains(t, StringComparison.OrdinalIgnoreCase)));
        }
        if (!string.IsNullOrWhiteSpace(q.Tag)) rows = rows.Where(r => r.Tags.Contains(q.Tag, StringComparer.OrdinalIgnoreCase));
        var list = rows.ToList();
        Comparison<RunSummary> cmp = q.Sort switch
        {
            RunSort.Name => (a, b) => string.Compare(a.Name, b.Name, StringComparison.OrdinalIgnoreCase),
            RunSort.Steps => (a, b) => a.Steps.CompareTo(b.Steps),
            RunSort.Points => (a, b) => a.Points.CompareTo(b.Points),
            RunSort.FinalLoss => (a, b) => NanLast(a.FinalLoss, b.FinalLoss),
            RunSort.MinLoss => (a, b) => NanLast(a.MinLoss, b.MinLoss),
            _ => (a, b) => a.Created.CompareTo(b.Created),
        };
        // Ties keep id order, so paging through a sort never repeats or skips a run.
        list.Sort((a, b) => { int c = cmp(a, b); if (q.Descending) c = -c; return c != 0 ? c : a.Id.CompareTo(b.Id); });
        return new RunPage(list.Count, list.Skip(q.Offset).Take(q.Limit).ToArray());
    }

    private static int NanLast(double a, double b) => double.IsNaN(a) ? (double.IsNaN(b) ? 0 : 1) : double.IsNaN(b) ? -1 : a.CompareTo(b);

    /// <summary>The summary of a curve: steps trained, rows, final and lowest training loss.</summary>
    public static RunSummary Summarize(long id, LossCurve c, IReadOnlyList<string> tags, DateTimeOffset created, bool running)
    {
        double final = double.NaN, min = double.NaN;
        if (c.Loss is { Length: > 0 } l)
        {
            for (int i = l.Length - 1; i >= 0; i--) if (double.IsFinite(l[i])) { final = l[i]; break; }
            foreach (var v in l) if (double.IsFinite(v) && !(v >= min)) min = v;
        }
        return new RunSummary(id, c.Name, tags, c.ScheduleSpec, c.Count == 0 ? 0 : c.Steps[^1] + 1, c.Count, final, min, created, running);
    }
}
