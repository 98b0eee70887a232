namespace Anneal.Tuning;

/// <summary>
/// Where a study's trials live: the run store for real sweeps (a study then survives a crash and can be resumed
/// from another process), memory for tests and replayed benchmarks. Trial numbers are the storage's.
/// </summary>
public interface IStudyStorage
{
    /// <summary>Every trial with its reports and attributes, by number (schedule fields left for the runner).</summary>
    IReadOnlyList<TrialRecord> Trials();

    /// <summary>
    /// Adds a running trial owned by <paramref name="worker"/> if it gets number <paramref name="expectedNumber"/> (no
    /// trial was added since the caller read <see cref="Trials"/>, which held that many); returns its number, or null
    /// (nothing added) when another worker, perhaps in another process, added one meanwhile: the proposal was made from
    /// a stale view of the study and must be made again.
    /// </summary>
    int? TryCreate(TrialParams p, string worker, int expectedNumber);

    /// <summary>Claims the lowest-numbered waiting (requeued) trial for <paramref name="worker"/>, or null.</summary>
    TrialRecord? ClaimWaiting(string worker);

    /// <summary>Stores an intermediate value (also a heartbeat); false when the trial is no longer running under this worker.</summary>
    bool Report(int number, long step, double value);

    /// <summary>Records pruner attributes on the trial.</summary>
    void SetAttributes(int number, IReadOnlyDictionary<string, double> attributes);

    /// <summary>Ends a running trial; false when it had already ended (reaped): the first ending wins.</summary>
    bool Finish(int number, TrialState state, double? value, string? message);

    /// <summary>Heartbeat; false when the trial is no longer running under <paramref name="worker"/>.</summary>
    bool Heartbeat(int number, string worker);

    /// <summary>Marks failed the running trials without a heartbeat for <paramref name="timeout"/> and queues a fresh copy of each; returns their numbers.</summary>
    IReadOnlyList<int> ReapStale(TimeSpan timeout);

    /// <summary>
    /// Marks failed the running trials of <paramref name="worker"/> (message: the worker and <paramref name="reason"/>)
    /// and queues a fresh copy of each, at once: the worker is known to be gone or stopping. Returns their numbers.
    /// </summary>
    IReadOnlyList<int> Release(string worker, string reason);
}

/// <summary>Trials in memory (tests, replayed benchmarks). Thread-safe.</summary>
public sealed class InMemoryStudyStorage : IStudyStorage
{
    private readonly object _gate = new();
    private readonly List<(TrialRecord Trial, string? Worker, DateTime Beat)> _trials = [];

    /// <inheritdoc/>
    public IReadOnlyList<TrialRecord> Trials() { lock (_gate) return _trials.Select(t => t.Trial).ToList(); }

    /// <summary>Adds a running trial owned by <paramref name="worker"/>; returns its number.</summary>
    public int Create(TrialParams p, string worker)
    {
        lock (_gate) return TryCreate(p, worker, _trials.Count)!.Value;
    }

    /// <inheritdoc/>
    public int? TryCreate(TrialParams p, string worker, int expectedNumber)
    {
        lock (_gate)
        {
            if (_trials.Count != expectedNumber) return null;
            _trials.Add((new TrialRecord(expectedNumber, p, TrialState.Running, null, []), worker, DateTime.UtcNow));
            return expectedNumber;
        }
    }

    /// <summary>Adds a waiting trial (as a requeue does).</summary>
    public int Enqueue(TrialParams p)
    {
        lock (_gate)
        {
            int n = _trials.Count;
            _trials.Add((new TrialRecord(n, p, TrialState.Running, null, []) { Attributes = new Dictionary<string, double> { [WaitingKey] = 1 } }, null, DateTime.UtcNow));
            return n;
        }
    }

    private const string WaitingKey = "__waiting";

    /// <inheritdoc/>
    public TrialRecord? ClaimWaiting(string worker)
    {
        lock (_gate)
        {
            int i = _trials.FindIndex(t => t.Worker is null && t.Trial.Attributes.ContainsKey(WaitingKey));
            if (i < 0) return null;
            var t = _trials[i].Trial with { Attributes = new Dictionary<string, double>() };
            _trials[i] = (t, worker, DateTime.UtcNow);
            return t;
        }
    }

    /// <inheritdoc/>
    public bool Report(int number, long step, double value)
    {
        lock (_gate)
        {
            var (t, w, _) = _trials[number];
            if (t.State != TrialState.Running || w is null) return false;
            _trials[number] = (t with { Reports = [.. t.Reports.Where(r => r.Step != step), new Report(step, value)] }, w, DateTime.UtcNow);
            return true;
        }
    }

    /// <inheritdoc/>
    public void SetAttributes(int number, IReadOnlyDictionary<string, double> attributes)
    {
        lock (_gate)
        {
            var (t, w, b) = _trials[number];
            var a = new Dictionary<string, double>(t.Attributes);
            foreach (var kv in attributes) a[kv.Key] = kv.Value;
            _trials[number] = (t with { Attributes = a }, w, b);
        }
    }

    /// <inheritdoc/>
    public bool Finish(int number, TrialState state, double? value, string? message)
    {
        lock (_gate)
        {
            var (t, w, b) = _trials[number];
            if (t.State != TrialState.Running) return false;
            _trials[number] = (t with { State = state, Value = value, Message = message }, w, b);
            return true;
        }
    }

    /// <inheritdoc/>
    public bool Heartbeat(int number, string worker)
    {
        lock (_gate)
        {
            var (t, w, _) = _trials[number];
            if (t.State != TrialState.Running || w != worker) return false;
            _trials[number] = (t, w, DateTime.UtcNow);
            return true;
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<int> ReapStale(TimeSpan timeout)
    {
        lock (_gate)
        {
            var now = DateTime.UtcNow;
            return Fail(t => now - t.Beat > timeout, "stopped sending heartbeats");
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<int> Release(string worker, string reason)
    {
        lock (_gate) return Fail(t => t.Worker == worker, reason);
    }

    private List<int> Fail(Func<(TrialRecord Trial, string? Worker, DateTime Beat), bool> which, string reason)
    {
        var found = _trials.Where(t => t.Trial.State == TrialState.Running && t.Worker is not null && which(t)).Select(t => t.Trial.Number).ToList();
        foreach (var n in found)
        {
            var (t, w, b) = _trials[n];
            _trials[n] = (t with { State = TrialState.Failed, Message = $"worker {w} {reason}" }, w, b);
            Enqueue(t.Params);
        }
        return found;
    }
}
