using System.Diagnostics;
using System.Text.Json;
using Anneal.Training;

namespace Anneal.Store;

/// <summary>
/// Subscriber that streams a training run into a store as it trains (pass <see cref="OnEvent"/> to
/// <see cref="TrainEventStream.Subscribe"/>): at <see cref="RunStarted"/> it adds the run (status running; its
/// schedule, and model, optimizer and sizes as metadata) with the rows a resumed or branched run starts with; then the
/// log row of every logged update (loss, lr, val_loss, grad_norm, tokens, seconds: the CSV log's columns, so the stored
/// curve equals the log file), appended in batches of <see cref="BatchRows"/> rows or every <see cref="FlushEvery"/>,
/// and at every evaluation; at the end it marks the run finished (stopped when halted, failed when it diverged).
/// Not thread-safe: one subscription. A store that fails stops the run (the stream rethrows the exception).
/// </summary>
/// <param name="store">The store to write to.</param>
/// <param name="run">Name and tags for the run (the other fields come from the run's settings); default: the log file's name.</param>
public sealed class RunRecorder(RunStore store, NewRun? run = null)
{
    private readonly List<MetricPoint> _pending = [];
    private readonly Stopwatch _sinceFlush = Stopwatch.StartNew();
    private int _pendingRows;

    /// <summary>Log rows per batch insert.</summary>
    public int BatchRows { get; init; } = 1000;

    /// <summary>A batch is written at the latest this long after the previous one, so a live view stays current.</summary>
    public TimeSpan FlushEvery { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The run's id in the store, once <see cref="RunStarted"/> was handled.</summary>
    public long? RunId { get; private set; }

    /// <summary>Log rows written to the store so far.</summary>
    public long RowsWritten { get; private set; }

    /// <summary>Handles one event.</summary>
    public void OnEvent(TrainEvent e)
    {
        switch (e)
        {
            case RunStarted s when RunId is null:
                var cfg = s.Config;
                var metadata = JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["model"] = s.Model, ["parameters"] = s.Parameters, ["optimizer"] = s.Optimizer, ["steps"] = cfg.Steps, ["batch"] = cfg.Batch,
                    ["seq"] = s.Seq, ["seed"] = cfg.Seed, ["clip"] = cfg.Clip, ["eval_every"] = cfg.EvalEvery, ["log_every"] = cfg.LogEvery,
                    ["threads"] = s.Threads, ["backend"] = s.Backend, ["start_step"] = s.StartStep, ["branch_from"] = cfg.BranchFrom, ["resumed"] = cfg.Resume,
                });
                RunId = store.AddRun((run ?? new NewRun { Name = Path.GetFileNameWithoutExtension(cfg.Out) }) with
                {
                    Schedule = cfg.Schedule, SourceFile = Path.GetFullPath(cfg.Out), SourceFormat = "anneal-train", MetadataJson = metadata, Status = RunStatus.Running,
                });
                foreach (var row in s.Rows) Add(row);
                Flush();
                break;
            case StepCompleted { LogRow: { } row } when RunId is not null:
                Add(row);
                if (_pendingRows >= BatchRows || _sinceFlush.Elapsed >= FlushEvery) Flush();
                break;
            case Evaluated when RunId is not null:
                Flush();
                break;
            case RunEnded end when RunId is { } id:
                Flush();
                store.SetRunStatus(id, end.Summary.Halted ? RunStatus.Stopped : RunStatus.Finished);
                break;
            case RunDiverged when RunId is { } id:
                Flush();
                store.SetRunStatus(id, RunStatus.Failed);
                break;
        }
    }

    private void Add(TrainLogRow row)
    {
        _pending.Add(new MetricPoint(Metrics.Loss, row.Step, row.Loss));
        _pending.Add(new MetricPoint(Metrics.Lr, row.Step, row.Lr));
        _pending.Add(new MetricPoint(Metrics.ValLoss, row.Step, row.ValLoss));
        _pending.Add(new MetricPoint(Metrics.GradNorm, row.Step, row.GradNorm));
        _pending.Add(new MetricPoint(Metrics.Tokens, row.Step, row.Tokens));
        _pending.Add(new MetricPoint(Metrics.Seconds, row.Step, row.Seconds));
        _pendingRows++;
    }

    private void Flush()
    {
        if (_pendingRows > 0 && RunId is { } id)
        {
            store.AppendPoints(id, _pending);
            RowsWritten += _pendingRows;
        }
        _pending.Clear();
        _pendingRows = 0;
        _sinceFlush.Restart();
    }
}
