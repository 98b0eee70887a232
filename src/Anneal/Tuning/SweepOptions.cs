namespace Anneal.Tuning;

/// <summary>Settings of a sweep run.</summary>
public sealed record SweepOptions
{
    /// <summary>Trials the study should hold when done (complete, pruned or running; failed ones are replaced).</summary>
    public required int Trials { get; init; }

    /// <summary>
    /// Parallel workers in this process (threads, each running one trial at a time). Workers in other processes or on
    /// other machines may run the same study through a shared storage at the same time (the CLI's worker processes and
    /// Slurm array tasks do).
    /// </summary>
    public int Workers { get; init; } = 1;

    /// <summary>The machine's cores, split between the workers for training.</summary>
    public int Cores { get; init; } = Environment.ProcessorCount;

    /// <summary>How often a running trial's worker sends a heartbeat.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A running trial without a heartbeat for this long belongs to a dead worker: failed and requeued.</summary>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Names this process's workers (unique per process: host and process id by default).</summary>
    public string WorkerPrefix { get; init; } = ProcessPrefix(Environment.ProcessId);

    /// <summary>The default <see cref="WorkerPrefix"/> of the process <paramref name="processId"/> on this machine.</summary>
    public static string ProcessPrefix(int processId) => $"{Environment.MachineName}-{processId}";

    /// <summary>
    /// The name worker <paramref name="index"/> of a process with prefix <paramref name="prefix"/> records on its trials
    /// (so a supervisor that saw the process die can release exactly its trials).
    /// </summary>
    public static string WorkerName(string prefix, int index) => $"{prefix}-w{index}";

    /// <summary>Stop after this many failed trials in this run (an objective that always fails must not loop forever).</summary>
    public int? MaxFailures { get; init; }
}

/// <summary>What a sweep run did.</summary>
public sealed record SweepSummary(int Started, int Complete, int Pruned, int Failed, long StepsRun, long StepsSaved);
