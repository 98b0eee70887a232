using Anneal.IO;

namespace Anneal.Training;

/// <summary>
/// Subscriber that keeps the CSV training log (<see cref="Trainer.CsvHeader"/>) at a path: the rows the run starts with
/// (a resumed or branched run's, from its checkpoint) and every <see cref="StepCompleted.LogRow"/>, written atomically
/// at every evaluation, at a divergence and at the end of a finished run (not of a halted one: as after a kill, the
/// file then holds the log of the last evaluation, which a resume continues). Not thread-safe: one subscription.
/// </summary>
/// <param name="path">The CSV file.</param>
public sealed class TrainLogWriter(string path)
{
    private readonly List<TrainLogRow> _rows = [];

    /// <summary>Handles one event (pass to <see cref="TrainEventStream.Subscribe"/>).</summary>
    public void OnEvent(TrainEvent e)
    {
        switch (e)
        {
            case RunStarted s: _rows.Clear(); _rows.AddRange(s.Rows); break;
            case StepCompleted { LogRow: { } row }: _rows.Add(row); break;
            case Evaluated or RunDiverged or RunEnded { Summary.Halted: false }: Write(); break;
        }
    }

    private void Write() => AtomicFile.WriteText(path, w =>
    {
        w.WriteLine(Trainer.CsvHeader);
        foreach (var r in _rows) w.WriteLine(r.ToCsv());
    });
}

/// <summary>
/// Subscriber that writes every <see cref="CheckpointTaken"/> to its path (<see cref="TrainCheckpoint.Save"/>). Subscribe
/// it with <see cref="Options"/>, which asks for checkpoints; it may run behind training by up to two captured checkpoints.
/// </summary>
public sealed class CheckpointWriter
{
    /// <summary>Lossless and with checkpoints: every captured checkpoint is written, in order.</summary>
    public static TrainSubscriptionOptions Options { get; } = new() { Checkpoints = true };

    /// <summary>Handles one event (pass to <see cref="TrainEventStream.Subscribe"/>).</summary>
    public void OnEvent(TrainEvent e)
    {
        if (e is CheckpointTaken c) c.Checkpoint.Save(c.Path);
    }
}

/// <summary>
/// Subscriber that prints a run's progress on a writer: where it starts from, the model, the loss before the first
/// update, and a line per update at every evaluation, at least every 2 s of run time and at the last update (the
/// update's loss before it, validation loss, learning rate, gradient norm, throughput and the time left).
/// Not thread-safe: one subscription.
/// </summary>
/// <param name="output">Where the lines go (a console's error stream, a log).</param>
public sealed class ProgressPrinter(TextWriter output)
{
    private TrainConfig? _config;
    private long _start;
    private int _seq;
    private double _lastPrinted;

    /// <summary>Handles one event (pass to <see cref="TrainEventStream.Subscribe"/>).</summary>
    public void OnEvent(TrainEvent e)
    {
        switch (e)
        {
            case RunStarted s:
                _config = s.Config; _start = s.StartStep; _seq = s.Seq; _lastPrinted = s.Seconds;
                if (s.Config.Resume) output.WriteLine($"resuming from {s.Config.CheckpointPath} at step {s.StartStep}");
                else if (s.Config.BranchFrom is { } parent) output.WriteLine($"branching from {parent} at step {s.StartStep}");
                output.WriteLine($"model {s.Model} ({s.Parameters:N0} parameters), optimizer {s.Optimizer}, matmul {s.Backend}, {s.Threads} threads");
                break;
            case StepCompleted u when _config is { } cfg && u.Step >= _start:
                // the first event of a resumed run completes a row whose line the killed run printed
                if (u.Step == 0) output.WriteLine($"initial loss {u.LossBefore:F4} (before any update)");
                bool eval = !double.IsNaN(u.ValLoss), last = u.Step == cfg.Steps - 1;
                if (!eval && !last && u.Seconds - _lastPrinted < 2) break;
                _lastPrinted = u.Seconds;
                double tps = u.TokensPerSecond;
                double eta = tps > 0 ? (cfg.Steps - u.Step - 1) * (double)cfg.Batch * _seq / tps : 0;
                output.WriteLine($"step {u.Step}/{cfg.Steps - 1}  loss {u.LossBefore:F4} (before this update){(eval ? $"  val {u.ValLoss:F4}" : "")}  lr {u.Lr:G3}  |g| {u.GradNorm:F3}  {tps / 1000:F1}k tok/s  ETA {TimeSpan.FromSeconds(Math.Round(eta)):c}");
                break;
            case AutoLrsStageChosen a:
                var st = a.Stage;
                var chosen = st.Chosen;
                output.WriteLine(FormattableString.Invariant(
                    $"autolrs stage {st.Plan.Index}: steps {st.Plan.Start}..{st.Plan.Start + st.Plan.Length - 1} at lr {st.Lr:G4} (forecast {chosen.Forecast:F4} ± {chosen.Fit!.Rms:F4} at {st.Plan.Length} steps; {st.Candidates.Count} candidates of {st.Plan.ExploreSteps} steps, {st.Candidates.Count(c => c.Diverged)} diverged; {a.ExploreSteps} exploration steps so far)"));
                break;
        }
    }
}

/// <summary>
/// Subscriber that keeps an AutoLRS run's decisions as CSV (<see cref="Header"/>), one row per explored candidate:
/// the stage, its first update and length, the candidate's order, rate, exploration updates, forecast loss at the
/// stage's end and score (<see cref="Anneal.Tuning.AutoLrsCandidate.Score"/>; blank when it diverged), the exponential
/// fit's parameters, whether the stage chose it and the validation loss its cooldown removed
/// (<see cref="Anneal.Tuning.AutoLrsCandidate.AnnealDrop"/>; 0 with <c>anneal=false</c>). Rewritten
/// atomically at every decision and at the end. A fresh run starts the file afresh; a resumed run keeps the rows of
/// the stages that started before its checkpoint (they are not decided again). Not thread-safe: one subscription.
/// </summary>
/// <param name="path">The CSV file (<see cref="TrainConfig.AutoLrsLogPath"/>).</param>
public sealed class AutoLrsLogWriter(string path)
{
    /// <summary>The columns.</summary>
    public const string Header = "stage,start,steps,candidate,lr,explore_steps,forecast,score,fit_a,fit_b,fit_c,fit_rms,chosen,anneal_drop";

    private readonly List<(long Start, string Line)> _rows = [];

    /// <summary>
    /// The rate the stage starting at update <paramref name="start"/> chose, as written to <paramref name="path"/>
    /// (round-trip precision), or null when the file or the row is missing. A run resumed inside the final decay
    /// needs the rate itself: its log's rows hold the decayed rates, whose quotient by the decay factor can be off by
    /// a unit in the last place.
    /// </summary>
    public static double? ReadChosen(string path, long start)
    {
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var f = line.Split(',');
            if (f.Length > 12 && f[12] == "1" && f[1] == start.ToString(System.Globalization.CultureInfo.InvariantCulture)
                && double.TryParse(f[4], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var lr))
                return lr;
        }
        return null;
    }

    /// <summary>Handles one event (pass to <see cref="TrainEventStream.Subscribe"/>).</summary>
    public void OnEvent(TrainEvent e)
    {
        switch (e)
        {
            case RunStarted s:
                _rows.Clear();
                if (s.Config.Resume && File.Exists(path))
                    foreach (var line in File.ReadLines(path).Skip(1))
                        if (long.TryParse(line.Split(',')[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var start) && start < s.StartStep)
                            _rows.Add((start, line));
                break;
            case AutoLrsStageChosen a:
                var st = a.Stage;
                for (int i = 0; i < st.Candidates.Count; i++)
                {
                    var c = st.Candidates[i];
                    string F(double v) => double.IsFinite(v) ? v.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "";
                    _rows.Add((st.Plan.Start, string.Join(',', st.Plan.Index, st.Plan.Start, st.Plan.Length, i, F(c.Lr), c.StepsRun, F(c.Forecast), F(c.Score),
                        F(c.Fit?.A ?? double.NaN), F(c.Fit?.B ?? double.NaN), F(c.Fit?.C ?? double.NaN), F(c.Fit?.Rms ?? double.NaN), i == st.ChosenIndex ? 1 : 0, F(c.Diverged ? double.NaN : c.AnnealDrop))));
                }
                Write();
                break;
            case RunEnded or RunDiverged:
                if (_rows.Count > 0) Write();
                break;
        }
    }

    private void Write() => AtomicFile.WriteText(path, w =>
    {
        w.WriteLine(Header);
        foreach (var (_, line) in _rows) w.WriteLine(line);
    });
}
