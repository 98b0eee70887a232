using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Anneal.IO;
using Anneal.Schedules;
using Anneal.Training.Data;
using Anneal.Training.Models;
using Anneal.Training.Optim;
using Anneal.Tuning;
using static Anneal.ParameterName;

namespace Anneal.Training;

/// <summary>Everything that defines a training run (and must match when resuming).</summary>
public sealed record TrainConfig
{
    public string Model { get; init; } = "gpt-tiny";
    public required string Schedule { get; init; }
    public required int Steps { get; init; }
    public int Batch { get; init; } = 16;
    /// <summary>Sequence length; null = the model's maximum.</summary>
    public int? Seq { get; init; }
    public string Optimizer { get; init; } = "adamw";
    /// <summary>Validate, write the log and checkpoint every EvalEvery updates (and after the last).</summary>
    public int EvalEvery { get; init; } = 100;
    public int EvalBatches { get; init; } = 8;
    public ulong Seed { get; init; } = 1;
    /// <summary>Global gradient-norm clip (0 = off).</summary>
    public double Clip { get; init; } = 1.0;
    /// <summary>CSV log path (step,lr,loss,val_loss,grad_norm,tokens,seconds; step convention in <see cref="Trainer.Run(TrainConfig, Data.TextDataset, TextWriter, long?)"/>).</summary>
    public required string Out { get; init; }
    /// <summary>Checkpoint path; null = <c>Out + ".ckpt"</c>. Written at every evaluation and at the end.</summary>
    public string? Checkpoint { get; init; }
    public bool Resume { get; init; }
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Write one log row every LogEvery updates (1 = every update). Row s is written when s+1 is a multiple of
    /// LogEvery or of <see cref="EvalEvery"/>, and for the last update; its <c>loss</c> is the mean of the per-update
    /// training losses of the rows since the previous written row (LogEvery of them on the regular grid), as Hugging
    /// Face's Trainer logs with <c>logging_steps</c>; lr, grad_norm, val_loss and tokens are those of update s itself.
    /// </summary>
    public int LogEvery { get; init; } = 1;

    /// <summary>
    /// Steps k at which to keep a checkpoint of the model after k updates (updates 0..k-1) at
    /// <see cref="SavedCheckpointPath"/>: branch points for <see cref="BranchFrom"/>. Each k in 1..<see cref="Steps"/>.
    /// </summary>
    public IReadOnlyList<long> SaveAt { get; init; } = [];

    /// <summary>
    /// Start from a checkpoint of another run (one written at a step of its <see cref="SaveAt"/>, or its last
    /// checkpoint) instead of from initialisation: a branch with its own schedule, steps and log. All other settings
    /// must equal the parent's, and the schedule must give the parent's learning rate at every step before the
    /// checkpoint's, so the branch continues exactly as an uninterrupted run with its schedule would. Its log starts
    /// with the parent's rows before the branch point. Not with <see cref="Resume"/> (resume a killed branch from its own checkpoint).
    /// </summary>
    public string? BranchFrom { get; init; }

    public string CheckpointPath => Checkpoint ?? Out + ".ckpt";

    /// <summary>
    /// Where an AutoLRS run (<see cref="Schedule"/> <c>autolrs(...)</c>) lists every stage's candidate rates, their
    /// forecasts and the chosen rate (<see cref="AutoLrsLogWriter"/>): <c>Out + ".autolrs.csv"</c>.
    /// </summary>
    public string AutoLrsLogPath => Out + ".autolrs.csv";

    /// <summary>Where the checkpoint kept after <paramref name="step"/> updates (<see cref="SaveAt"/>) goes: <c>Out + ".step{step}.ckpt"</c>.</summary>
    public string SavedCheckpointPath(long step) => Out + ".step" + step.ToString(CultureInfo.InvariantCulture) + ".ckpt";
}

/// <summary>Result of <see cref="Trainer.Run(TrainConfig, Data.TextDataset, TextWriter, long?)"/>.</summary>
/// <remarks><see cref="TrainTokensPerCpuSecond"/> divides by the process's CPU time (all threads) over the timed steps: on a shared,
/// oversubscribed machine it is steadier than wall-clock throughput.</remarks>
public sealed record TrainSummary(long Steps, double FinalLoss, double FinalValLoss, double TrainTokensPerSecond, double Seconds, long Parameters, string Backend, bool Halted)
{
    public double TrainTokensPerCpuSecond { get; init; }

    /// <summary>
    /// Updates trained on top of <see cref="Steps"/> to choose the learning rate and then undone (AutoLRS's candidate
    /// explorations, in this process); 0 for a step schedule. The run's training cost is Steps + ExploreSteps updates.
    /// </summary>
    public long ExploreSteps { get; init; }
}

/// <summary>
/// Training stopped because the loss or gradient became NaN or infinite. <see cref="Reason"/> says what diverged and
/// where; <see cref="Advice"/> how to avoid it; the message joins them (with where the log is, when one was written).
/// The advice names the run's parameters (<c>schedule</c>, <c>clip</c>), which a front end renames
/// (<see cref="InputException.MessageNaming"/>).
/// </summary>
public sealed class TrainingDivergedException : InputException
{
    private readonly FormattableString _advice;

    /// <summary>Divergence described by <paramref name="reason"/>, avoided as <paramref name="advice"/> says (its <see cref="ParameterName"/> holes name parameters).</summary>
    public TrainingDivergedException(string reason, FormattableString advice, string? logNote = null)
        : base(Joined(logNote is null ? $"{reason}. " : $"{reason}. {logNote} ", advice))
    {
        Reason = reason;
        _advice = advice;
    }

    /// <summary>What diverged, e.g. "training diverged at step 12: gradient norm is NaN (lr 3E+30)".</summary>
    public string Reason { get; }

    /// <summary>How to avoid it, naming the run's parameters (<c>schedule</c>, <c>clip</c>).</summary>
    public string Advice => FormattableString.Invariant(_advice);

    /// <summary>The same divergence, saying where the log up to it is.</summary>
    public TrainingDivergedException WithLogNote(string logNote) => new(Reason, _advice, logNote);
}

/// <summary>
/// The training loop: batch → forward → backward → clip → optimizer step with the schedule's LR, publishing an event per
/// update and evaluating every <see cref="TrainConfig.EvalEvery"/> steps (<see cref="TrainEventStream"/>); the CSV log,
/// the progress lines and the checkpoints are written by subscribers (<see cref="TrainLogWriter"/>,
/// <see cref="ProgressPrinter"/>, <see cref="CheckpointWriter"/>). All randomness is a function of (seed, step), and
/// every reduction has a fixed order, so the same seed gives the same curve and a resumed run continues bit-for-bit.
/// </summary>
public static class Trainer
{
    /// <summary>
    /// Columns of the training log. Row s follows the laws' convention (<c>Anneal.Laws.LawRun</c>): lr and grad_norm
    /// belong to update s; loss, val_loss and tokens to the model after updates 0..s (details in <see cref="Run(TrainConfig, TextDataset, TextWriter, long?)"/>).
    /// </summary>
    public const string CsvHeader = "step,lr,loss,val_loss,grad_norm,tokens,seconds";

    private static readonly FormattableString DivergenceAdvice =
        $"Lower the peak learning rate or lengthen the warmup (both in {Parameter("schedule")}), or clip gradients ({Parameter("clip")}).";

    /// <summary>
    /// Runs (resumes, or branches) training with the standard subscribers: the CSV log <see cref="CsvHeader"/> at
    /// <see cref="TrainConfig.Out"/> (<see cref="TrainLogWriter"/>), checkpoints (<see cref="CheckpointWriter"/>) and
    /// progress lines on <paramref name="progress"/> (<see cref="ProgressPrinter"/>). The log has one row per optimizer update
    /// (or per <see cref="TrainConfig.LogEvery"/> updates, with the window's mean loss), in the step convention of the loss-curve laws (<c>Anneal.Laws.LawRun</c>): row <c>s</c> (0-based) describes
    /// update <c>s</c> and the model right after it.
    /// <list type="bullet">
    /// <item><c>lr</c>: the learning rate of update s, <c>schedule.At(s)</c> (so the laws' Eta[s] is exactly this column);</item>
    /// <item><c>grad_norm</c>: the global gradient norm of update s, before clipping;</item>
    /// <item><c>loss</c>: the training loss after updates 0..s, i.e. the minibatch loss of the forward pass of update s+1
    /// (measured on batch s+1 before that update; for the last row an extra forward pass on batch <c>Steps</c>);</item>
    /// <item><c>val_loss</c>: the validation loss after update s (every <c>EvalEvery</c> updates: rows EvalEvery-1, 2*EvalEvery-1, ..., and the last);</item>
    /// <item><c>tokens</c>: training tokens consumed by updates 0..s, <c>(s+1)*batch*seq</c>.</item>
    /// </list>
    /// The loss before any update (at initialisation) belongs to no row; it is printed on the progress writer.
    /// The log is rewritten (atomically) at every evaluation and at the end, so a log written mid-run ends at the last row whose
    /// training loss is known (row s is completed by the forward pass of update s+1). At divergence the row whose loss or gradient is non-finite is written
    /// with <c>NaN</c> and training stops. <paramref name="haltAfter"/> simulates a kill after that many updates (tests).
    /// A branch (<see cref="TrainConfig.BranchFrom"/>) loads the parent's checkpoint at step k and continues from update k:
    /// since batches and dropout are functions of (seed, step), its log equals, bit for bit except <c>seconds</c>, the log of
    /// an uninterrupted run with the branch's schedule.
    /// </summary>
    public static TrainSummary Run(TrainConfig cfg, TextDataset data, TextWriter progress, long? haltAfter = null) => Run(cfg, data, progress, _ => { }, haltAfter);

    /// <summary>
    /// As <see cref="Run(TrainConfig, TextDataset, TextWriter, long?)"/>, with more subscribers beside the standard ones:
    /// <paramref name="subscribe"/> adds them to the run's stream before it starts (e.g. a run store's recorder).
    /// </summary>
    public static TrainSummary Run(TrainConfig cfg, TextDataset data, TextWriter progress, Action<TrainEventStream> subscribe, long? haltAfter = null)
    {
        var events = new TrainEventStream();
        events.Subscribe(new TrainLogWriter(cfg.Out).OnEvent);
        events.Subscribe(new CheckpointWriter().OnEvent, CheckpointWriter.Options);
        events.Subscribe(new ProgressPrinter(progress).OnEvent);
        if (AutoLrsOptions.Is(cfg.Schedule)) events.Subscribe(new AutoLrsLogWriter(cfg.AutoLrsLogPath).OnEvent);
        subscribe(events);
        try { return Run(cfg, data, events, haltAfter); }
        catch (TrainingDivergedException e)
        {
            throw e.WithLogNote($"The log up to this step is in {cfg.Out} (the last row holds NaN).");
        }
        catch (OutputWriteException e)
        {
            throw new OutputWriteException($"training stopped: {e.Message}. {Intact(cfg)}", e.Paths);
        }
    }

    /// <summary>
    /// What a run stopped by a failed write (a full disk, a folder turned read-only) still has, and how to go on: the
    /// log and the checkpoint are each replaced whole or not at all, so both hold the run as of their last good write.
    /// </summary>
    private static string Intact(TrainConfig cfg)
    {
        var ckpt = cfg.CheckpointPath;
        long? step = null;
        try
        {
            if (File.Exists(ckpt)) { Checkpoint.Verify(ckpt); step = Checkpoint.ReadHeader(ckpt).Step; }
        }
        catch (InputException) { }
        var log = File.Exists(cfg.Out) ? $"the log {cfg.Out} holds the rows up to its last evaluation written" : $"no log was written yet at {cfg.Out}";
        return step is { } k
            ? $"Nothing written before is lost: the checkpoint {ckpt} holds the run after {k} updates and {log}; make room (or make the folder writable) and resume the run from the checkpoint (parameter resume), which rewrites the log"
            : $"No checkpoint was written yet and {log}; make room (or make the folder writable) and start the run again";
    }

    /// <summary>
    /// Runs (resumes, or branches) training and publishes its events on <paramref name="events"/> (<see cref="TrainEvent"/>
    /// lists them and their order); it writes no file itself: subscribe <see cref="TrainLogWriter"/>,
    /// <see cref="CheckpointWriter"/> (needed for a later resume or branch) or anything else. The settings are checked
    /// first (<see cref="Validate"/>), a resumed or branched run loads its checkpoint, and a fresh run or branch deletes
    /// stale checkpoints at this run's checkpoint paths. The stream is completed before this returns or throws, after
    /// every subscriber has handled its events; a subscriber's exception is rethrown.
    /// <paramref name="haltAfter"/> stops after that many updates as a kill would (tests); cancelling
    /// <paramref name="cancel"/> stops before the next update the same way (what subscribers wrote at the last evaluation
    /// is what a resume continues from), publishes <see cref="RunEnded"/> with a halted summary and throws
    /// <see cref="OperationCanceledException"/>. Publishing waits for lossless subscribers whose buffer is full, whatever
    /// <paramref name="cancel"/> says: they must see every event. Throws <see cref="InputException"/> for bad settings or data and
    /// <see cref="TrainingDivergedException"/> when the loss or gradient stops being finite.
    /// </summary>
    public static TrainSummary Run(TrainConfig cfg, TextDataset data, TrainEventStream events, long? haltAfter = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        TrainSummary summary;
        try { summary = Train(cfg, data, events, haltAfter, cancel); }
        catch
        {
            // subscribers finish what they received (a diverged run's log is written); the run's own exception wins
            events.Complete(throwSubscriberError: false);
            throw;
        }
        events.Complete();
        if (summary.Halted) cancel.ThrowIfCancellationRequested();
        return summary;
    }

    private static TrainSummary Train(TrainConfig cfg, TextDataset data, TrainEventStream events, long? haltAfter, CancellationToken cancel)
    {
        var model = CheckConfig(cfg);
        int seq = cfg.Seq ?? model.MaxSeq;
        if (data.Val.Length < seq + 2 || data.Train.Length < seq + 2) throw InputException.Naming($"{Parameter("data")} '{data.Name}' is too short for {Parameter("seq")}={seq}");
        // a step schedule, or AutoLRS: rates chosen stage by stage by exploring candidates from the stage's start
        var auto = AutoLrsOptions.Is(cfg.Schedule) ? AutoLrsOptions.Parse(cfg.Schedule) : null;
        var schedule = auto is null ? Schedules.Schedule.Parse(cfg.Schedule) : null;
        Engine.Threads = cfg.Threads;
        long parameters = model.Parameters.Sum(p => (long)p.Length);
        var opt = Optimizer<float>.Create(cfg.Optimizer, model.Parameters);
        var header = Header(cfg, model, seq, auto?.Spec ?? schedule!.Spec, opt, data);

        // The log's state, kept in checkpoints: the written rows, the last update's row waiting for its training loss
        // (measured by the next forward pass), and the per-update losses of the rows since the last written row.
        var rows = new List<TrainLogRow>();
        Pending? pending = null;
        var window = new LossWindow();
        long start = 0; double secondsBefore = 0;
        if (cfg.Resume)
            (start, secondsBefore, rows, pending, window) = Checkpoint.Load(cfg.CheckpointPath, header, model.Parameters, opt, branch: false);
        else
        {
            if (cfg.BranchFrom is { } parent)
                (start, secondsBefore, rows, pending, window) = Checkpoint.Load(parent, header, model.Parameters, opt, branch: true);
            // a fresh run or branch must not silently continue an older log or checkpoint under the same name
            foreach (var stale in cfg.SaveAt.Select(cfg.SavedCheckpointPath).Append(cfg.CheckpointPath))
                if (File.Exists(stale)) File.Delete(stale);
        }
        events.Publish(new RunStarted(cfg, start, seq, model.Spec, parameters, opt.Spec, Gemm.Backend, Engine.Threads, rows.ToArray(), secondsBefore));

        var total = Stopwatch.StartNew();
        double trainSeconds = 0; long trainTokens = 0;
        double lastLoss = double.NaN, lastVal = double.NaN;
        var trainTimer = new Stopwatch();
        var proc = Process.GetCurrentProcess();
        double cpuSeconds = 0;
        long explored = 0; // AutoLRS exploration updates in this process (undone; training cost on top of the run's)
        double Seconds() => secondsBefore + total.Elapsed.TotalSeconds;
        double TokensPerSecond() => trainTokens > 0 ? trainTokens / Math.Max(1e-9, trainSeconds) : 0;
        TrainSummary Halt(long done)
        {
            var s = new TrainSummary(done, lastLoss, lastVal, trainTokens / Math.Max(1e-9, trainSeconds), total.Elapsed.TotalSeconds, parameters, Gemm.Backend, Halted: true) { ExploreSteps = explored };
            events.Publish(new RunEnded(s));
            return s;
        }
        // Completes the pending row with lv, the training loss measured after its update. The row is written when
        // `logged`, or when the loss is not finite (the log must end at the divergence).
        void Complete(double lv, bool logged)
        {
            var p = pending!;
            window.Add(lv);
            var row = logged || !double.IsFinite(lv) ? p.Row with { Loss = window.TakeMean() } : null;
            if (row is not null) rows.Add(row);
            events.Publish(new StepCompleted(p.Row.Step, p.Row.Lr, p.LossBefore, lv, p.Row.ValLoss, p.Row.GradNorm, p.Row.Tokens, p.Row.Seconds, p.TokensPerSecond, row));
            lastLoss = lv; pending = null;
        }
        // One update at `rate` on batch s (the run's and every exploration's): its forward loss (the loss after
        // updates 0..s-1) and its gradient norm; the update is skipped when either is not finite.
        (double Loss, double GradNorm) Update(long s, double rate)
        {
            var (x, y) = data.TrainBatch(cfg.Batch, seq, cfg.Seed, s);
            opt.ZeroGrad();
            double lv, gn = double.NaN;
            using (Arena.Begin())
            {
                var loss = model.Loss(x, y, cfg.Batch, seq, dropoutSeed: DropoutSeed(cfg, s));
                lv = loss.Item();
                if (double.IsFinite(lv))
                {
                    loss.Backward();
                    gn = GradClip.ClipGlobalNorm(model.Parameters, cfg.Clip);
                    if (double.IsFinite(gn)) opt.Step(rate);
                }
            }
            return (lv, gn);
        }
        var stages = auto?.Plan(cfg.Steps);
        int nextStage = 0;
        double stageLr = double.NaN, prevLr = double.NaN;
        if (stages is not null)
        {
            // a resumed run goes on at the rate its current stage chose (the last update's row holds it); a stage
            // that starts exactly here is decided afresh below, as the uninterrupted run decided it
            nextStage = stages.Count(st => st.Start < start);
            if (nextStage > 0 && stages[nextStage - 1].Start < start)
            {
                // the decisions file holds the rate exactly; the log's last row gives it back to rounding when that is gone
                var last = pending?.Row ?? rows[^1];
                var stage = stages[nextStage - 1];
                bool final = nextStage == stages.Count;
                stageLr = AutoLrsLogWriter.ReadChosen(cfg.AutoLrsLogPath, stage.Start) is { } r && auto!.RateAt(stage, final, r, last.Step) == last.Lr
                    ? r : auto!.ChosenRate(stage, final, last.Lr, last.Step);
                if (double.IsNaN(stageLr)) throw new InputException($"{cfg.AutoLrsLogPath}: cannot resume AutoLRS stage {stage.Index}: its only update so far is the warmup's first, whose rate is 0 whatever the stage chose, and this decisions file (which holds the rate) is missing; train the run again from the start");
            }
        }
        for (long step = start; step < cfg.Steps; step++)
        {
            if (cancel.IsCancellationRequested) return Halt(step);
            double lr;
            if (stages is null) lr = schedule!.At(step);
            else
            {
                if (nextStage < stages.Count && stages[nextStage].Start == step)
                {
                    var plan = stages[nextStage];
                    var explore = new Exploration(model.Parameters, opt, plan.Start, Update, s => Loss(model, data, cfg, seq, s), () => Evaluate(model, data, cfg.Batch, seq, cfg.EvalBatches), cancel);
                    AutoLrsStage decided;
                    try { decided = AutoLrsController.Decide(auto!, plan, explore.Run, nextStage > 0 ? stageLr : null); }
                    catch (OperationCanceledException) when (cancel.IsCancellationRequested) { explored += explore.Steps; return Halt(step); }
                    explored += explore.Steps;
                    stageLr = decided.Lr;
                    nextStage++;
                    events.Publish(new AutoLrsStageChosen(decided, explored, Seconds()));
                }
                lr = auto!.RateAt(stages[nextStage - 1], nextStage == stages.Count, stageLr, step);
            }
            trainTimer.Restart();
            var cpuBefore = proc.TotalProcessorTime;
            var (lv, gn) = Update(step, lr);
            trainTimer.Stop();
            proc.Refresh();
            // throughput leaves out the first two steps of a process (JIT compilation, first-touch allocation)
            if (step - start >= 2 || cfg.Steps - start <= 4) { trainSeconds += trainTimer.Elapsed.TotalSeconds; trainTokens += (long)cfg.Batch * seq; cpuSeconds += (proc.TotalProcessorTime - cpuBefore).TotalSeconds; }
            // lv was measured after updates 0..step-1: it completes the previous update's row (row step-1)
            if (pending is not null) Complete(lv, Logged(cfg, step));
            long done = step + 1, tokens = done * cfg.Batch * seq;
            if (!double.IsFinite(lv) || !double.IsFinite(gn))
            {
                // a non-finite loss already went into the previous row; this update was not applied, so its row
                // carries its LR and gradient norm and a NaN loss (the state after it is undefined)
                if (double.IsFinite(lv) || step == 0)
                {
                    var row = new TrainLogRow(step, lr, double.NaN, double.NaN, gn, tokens, Seconds());
                    rows.Add(row);
                    events.Publish(new StepCompleted(step, lr, lv, double.NaN, double.NaN, gn, tokens, row.Seconds, TokensPerSecond(), row));
                }
                long at = double.IsFinite(lv) || step == 0 ? step : step - 1;
                string reason = $"training diverged at step {at}: {(double.IsFinite(lv) ? "gradient norm" : "loss")} is {(double.IsFinite(lv) ? gn : lv)} (lr {(at == step ? lr : prevLr):G4})";
                events.Publish(new RunDiverged(at, reason));
                throw new TrainingDivergedException(reason, DivergenceAdvice);
            }
            bool eval = done % cfg.EvalEvery == 0 || done == cfg.Steps;
            double val = eval ? Evaluate(model, data, cfg.Batch, seq, cfg.EvalBatches) : double.NaN;
            if (eval) lastVal = val;
            pending = new Pending(new TrainLogRow(step, lr, double.NaN, val, gn, tokens, Seconds()), lv, TokensPerSecond());
            if (eval) events.Publish(new Evaluated(step, val, pending.Row.Seconds));
            bool keep = cfg.SaveAt.Contains(done);
            if ((eval || keep) && events.WantsCheckpoints)
            {
                events.WaitForCheckpointSlot();
                var ck = TrainCheckpoint.Capture(header, done, Seconds(), rows, pending.Row, window, model.Parameters, opt);
                try
                {
                    if (eval) events.Publish(new CheckpointTaken(cfg.CheckpointPath, ck));
                    if (keep) events.Publish(new CheckpointTaken(cfg.SavedCheckpointPath(done), ck));
                }
                finally { ck.RemoveDelivery(events); }
            }
            prevLr = lr;
            if (haltAfter == done) return Halt(done);
        }
        if (pending is not null)
        {
            // the last update's row: the training loss after all updates, on the batch the next update would have used
            var (x, y) = data.TrainBatch(cfg.Batch, seq, cfg.Seed, cfg.Steps);
            double lv;
            using (Autograd.NoGrad())
            using (Arena.Begin())
                lv = model.Loss(x, y, cfg.Batch, seq).Item();
            Complete(lv, logged: true);
            if (!double.IsFinite(lv))
            {
                string reason = $"training diverged at step {cfg.Steps - 1}: the final loss is {lv}";
                events.Publish(new RunDiverged(cfg.Steps - 1, reason));
                throw new TrainingDivergedException(reason, DivergenceAdvice);
            }
        }
        var summary = new TrainSummary(cfg.Steps, lastLoss, lastVal, trainTokens / Math.Max(1e-9, trainSeconds), Seconds(), parameters, Gemm.Backend, Halted: false)
        { TrainTokensPerCpuSecond = trainTokens / Math.Max(1e-9, cpuSeconds), ExploreSteps = explored };
        events.Publish(new RunEnded(summary));
        return summary;
    }

    /// <summary>Mean validation cross-entropy over the fixed validation batches (no graph is built).</summary>
    public static double Evaluate(Gpt<float> model, TextDataset data, int batch, int seq, int batches) =>
        Evaluate((tokens, targets) => model.Loss(tokens, targets, batch, seq), data, batch, seq, batches);

    /// <summary>Mean validation cross-entropy of any workload over the fixed validation batches (no graph is built).</summary>
    public static double Evaluate(ITextModel model, TextDataset data, int batch, int seq, int batches) =>
        Evaluate((tokens, targets) => model.Loss(tokens, targets, batch, seq), data, batch, seq, batches);

    private static double Evaluate(Func<int[], int[], Tensor<float>> loss, TextDataset data, int batch, int seq, int batches)
    {
        using var _ = Autograd.NoGrad();
        double s = 0;
        for (int i = 0; i < batches; i++)
        {
            var (x, y) = data.ValBatch(batch, seq, i);
            using (Arena.Begin()) s += loss(x, y).Item();
        }
        return s / batches;
    }

    /// <summary>Row s (the row of update s) is written when s+1 is on the log or evaluation grid, or s is the last update.</summary>
    private static bool Logged(TrainConfig cfg, long done) => done % cfg.LogEvery == 0 || done % cfg.EvalEvery == 0 || done == cfg.Steps;

    /// <summary>
    /// Checks <paramref name="cfg"/> before any work (no data, no training): the numeric settings, the model and
    /// schedule specs, the output folder, the checkpoint to resume, and a branch's checkpoint and schedule
    /// (<see cref="BranchPoint"/>). Throws <see cref="InputException"/> naming each setting by its parameter name (<c>steps</c>, <c>eval_every</c>, ...),
    /// which a front end renames (<see cref="InputException.MessageNaming"/>).
    /// </summary>
    public static void Validate(TrainConfig cfg) => CheckConfig(cfg);


    private static ITextModel CheckConfig(TrainConfig cfg)
    {
        if (cfg.Steps < 1) throw InputException.Naming($"{Parameter("steps")} must be >= 1, got {cfg.Steps}");
        if (cfg.Batch < 1) throw InputException.Naming($"{Parameter("batch")} must be >= 1, got {cfg.Batch}");
        if (cfg.EvalEvery < 1) throw InputException.Naming($"{Parameter("eval_every")} must be >= 1, got {cfg.EvalEvery}");
        if (cfg.EvalBatches < 1) throw InputException.Naming($"{Parameter("eval_batches")} must be >= 1, got {cfg.EvalBatches}");
        if (cfg.LogEvery < 1) throw InputException.Naming($"{Parameter("log_every")} must be >= 1 (1 = a row per update), got {cfg.LogEvery}");
        if (cfg.Clip < 0) throw InputException.Naming($"{Parameter("clip")} must be >= 0 (0 = off), got {cfg.Clip}");
        if (cfg.Threads < 1) throw InputException.Naming($"{Parameter("threads")} must be >= 1, got {cfg.Threads}");
        foreach (var k in cfg.SaveAt)
            if (k < 1 || k > cfg.Steps) throw InputException.Naming($"{Parameter("save_at")}: step {k} is outside 1..{cfg.Steps} ({Parameter("steps")}); a kept checkpoint holds the model after k updates");
        var m = TextModels.Create(cfg.Model, cfg.Seed);
        int seq = cfg.Seq ?? m.MaxSeq;
        if (seq < 1 || seq > m.MaxSeq) throw InputException.Naming($"{Parameter("seq")} must be between 1 and the model's maximum {m.MaxSeq}, got {seq}");
        if (m is GptModel g && g.Net.Config.Vocab < ByteTokenizer.VocabSize) throw new InputException($"the model's vocab={g.Net.Config.Vocab} is smaller than the byte tokenizer's 256");
        if (AutoLrsOptions.Is(cfg.Schedule))
        {
            AutoLrsOptions.Parse(cfg.Schedule);
            if (cfg.BranchFrom is not null)
                throw InputException.Naming($"{Parameter("schedule")} autolrs cannot start a branch ({Parameter("branch_from")}): it chooses its rates stage by stage from step 0, and a branch continues another run's rates. Train it from initialisation");
        }
        else Schedules.Schedule.Parse(cfg.Schedule);
        // the optimizer's spec and hyperparameter ranges, before any data is loaded
        try { Optimizer<float>.Create(cfg.Optimizer, []); }
        catch (Anneal.Specs.SpecException e) { throw InputException.Naming($"{Parameter("optimizer")} '{cfg.Optimizer}': {e.Message}"); }
        var dir = Path.GetDirectoryName(Path.GetFullPath(cfg.Out))!;
        if (!Directory.Exists(dir)) throw InputException.Naming($"{Parameter("out")} {cfg.Out}: folder '{dir}' does not exist; create it first");
        if (cfg.Resume && cfg.BranchFrom is not null)
            throw InputException.Naming($"{Parameter("resume")} and {Parameter("branch_from")} cannot be combined: a killed branch resumes from its own checkpoint ({cfg.CheckpointPath}), which already holds the parent's rows");
        if (cfg.Resume && !File.Exists(cfg.CheckpointPath)) throw InputException.Naming($"{Parameter("resume")}: no checkpoint at {cfg.CheckpointPath}; run without {Parameter("resume")} to start afresh");
        // a corrupted checkpoint is refused here, before any data is loaded or any file of the run is touched
        if (cfg.Resume) Checkpoint.Verify(cfg.CheckpointPath);
        if (cfg.BranchFrom is { } parent)
        {
            if (!File.Exists(parent)) throw InputException.Naming($"{Parameter("branch_from")}: no checkpoint at {parent}; keep one with {Parameter("save_at")} in the parent run");
            if (Path.GetFullPath(parent) == Path.GetFullPath(cfg.CheckpointPath))
                throw InputException.Naming($"{Parameter("branch_from")} {parent} is this run's own checkpoint; give the branch its own {Parameter("out")}");
            BranchPoint(cfg);
        }
        return m;
    }

    /// <summary>
    /// The step k of <see cref="TrainConfig.BranchFrom"/>'s checkpoint (the model after k updates), after checking that
    /// the branch's schedule gives bit for bit the parent's learning rate at every step before k and that k is at most
    /// the branch's steps. The other settings are compared with the parent's when the run loads the checkpoint.
    /// </summary>
    public static long BranchPoint(TrainConfig cfg)
    {
        var path = cfg.BranchFrom ?? throw InputException.Naming($"{Parameter("branch_from")} is not set");
        var (header, k) = Checkpoint.ReadHeader(path);
        var parentSpec = header["schedule"]?.GetValue<string>() ?? throw new InputException($"{path}: the checkpoint records no schedule");
        if (AutoLrsOptions.Is(parentSpec))
            throw InputException.Naming($"{path}: the parent run used {parentSpec}, whose rates were chosen while it trained (its log holds them), not by a step schedule a branch could repeat; branch from a run with a step schedule");
        Schedule mine = Schedules.Schedule.Parse(cfg.Schedule), theirs = Schedules.Schedule.Parse(parentSpec);
        if (k > cfg.Steps) throw InputException.Naming($"{path}: the checkpoint is after {k} updates, more than the branch's {Parameter("steps")}={cfg.Steps}");
        for (long s = 0; s < k; s++)
        {
            double a = mine.At(s), b = theirs.At(s);
            if (BitConverter.DoubleToInt64Bits(a) != BitConverter.DoubleToInt64Bits(b))
                throw InputException.Naming(
                    $"{path}: the branch's {Parameter("schedule")} {mine.Spec} gives lr {a:R} at step {s}, the parent run's {theirs.Spec} gave {b:R}; a branch from step {k} must repeat the parent's learning rates at steps 0..{k - 1}. Branch from an earlier checkpoint or start the schedule's decay at step {k} or later");
        }
        return k;
    }

    /// <summary>The dropout seed of update <paramref name="step"/>: a function of (seed, step), so any replay of the step is exact.</summary>
    private static ulong DropoutSeed(TrainConfig cfg, long step) => cfg.Seed * 0x9E3779B97F4A7C15UL + (ulong)step;

    /// <summary>
    /// The training loss the forward pass of update <paramref name="step"/> would measure (its batch, its dropout),
    /// without a graph: the loss after updates 0..step-1, as the log defines it.
    /// </summary>
    private static double Loss(ITextModel model, TextDataset data, TrainConfig cfg, int seq, long step)
    {
        var (x, y) = data.TrainBatch(cfg.Batch, seq, cfg.Seed, step);
        using (Autograd.NoGrad())
        using (Arena.Begin())
            return model.Loss(x, y, cfg.Batch, seq, dropoutSeed: DropoutSeed(cfg, step)).Item();
    }

    private static JsonObject Header(TrainConfig cfg, ITextModel m, int seq, string schedule, Optimizer<float> opt, TextDataset data) => new()
    {
        ["model"] = m.Spec, ["optimizer"] = opt.Spec, ["schedule"] = schedule, ["seed"] = cfg.Seed.ToString(CultureInfo.InvariantCulture),
        ["batch"] = cfg.Batch, ["seq"] = seq, ["data"] = data.Name, ["data_bytes"] = data.Train.Length, ["clip"] = cfg.Clip, ["eval_batches"] = cfg.EvalBatches,
        ["eval_every"] = cfg.EvalEvery, ["log_every"] = cfg.LogEvery,
    };
}

/// <summary>
/// One AutoLRS stage's explorations (<see cref="AutoLrsExplore"/>): each candidate trains from the stage's starting
/// state on the batches of the stage's first updates (the batches the stage itself will train on, so candidates are
/// compared on the same data), its cooldown (when asked) on the batches after those and is measured on the fixed
/// validation batches before and after it, and afterwards every parameter and optimizer array and the optimizer's step count are
/// copied back from a snapshot taken before the first candidate, so no exploration leaks into the run.
/// </summary>
internal sealed class Exploration
{
    private readonly IReadOnlyList<Tensor<float>> _params;
    private readonly Optimizer<float> _opt;
    private readonly long _start;
    private readonly Func<long, double, (double Loss, double GradNorm)> _update;
    private readonly Func<long, double> _loss;
    private readonly Func<double> _validate;
    private readonly CancellationToken _cancel;
    private readonly float[][] _saved;
    private readonly long _savedSteps;

    public Exploration(IReadOnlyList<Tensor<float>> parameters, Optimizer<float> opt, long start, Func<long, double, (double Loss, double GradNorm)> update, Func<long, double> loss, Func<double> validate, CancellationToken cancel)
    {
        _params = parameters; _opt = opt; _start = start; _update = update; _loss = loss; _validate = validate; _cancel = cancel;
        _saved = Arrays().Select(a => (float[])a.Clone()).ToArray();
        _savedSteps = opt.StepCount;
    }

    /// <summary>Updates trained by the explorations so far.</summary>
    public long Steps { get; private set; }

    private IEnumerable<float[]> Arrays() => _params.Select(p => p.Data).Concat(_opt.State().Select(s => s.Values));

    /// <summary>
    /// Trains <paramref name="steps"/> updates at <paramref name="lr"/> and, when <paramref name="anneal"/>, another
    /// <paramref name="steps"/> decaying it linearly to 0; returns the losses after 0..steps updates and what the
    /// cooldown took off the validation loss; restores the state.
    /// </summary>
    public AutoLrsProbe Run(double lr, int steps, bool anneal)
    {
        var losses = new List<double>(steps + 1);
        double drop = 0; int cooled = 0;
        try
        {
            bool diverged = false;
            for (int j = 0; j < steps; j++)
            {
                _cancel.ThrowIfCancellationRequested();
                var (lv, gn) = _update(_start + j, lr);
                Steps++;
                losses.Add(lv);
                if (!double.IsFinite(lv)) { diverged = true; break; }
                if (!double.IsFinite(gn)) { losses.Add(double.NaN); diverged = true; break; }
            }
            if (!diverged) losses.Add(_loss(_start + steps));
            if (!diverged && double.IsFinite(losses[^1]) && anneal)
            {
                double before = _validate();
                var cooldown = new Schedules.D2zSchedule(lr, steps);
                for (int j = 0; j < steps && double.IsFinite(drop); j++)
                {
                    _cancel.ThrowIfCancellationRequested();
                    var (lv, gn) = _update(_start + steps + j, cooldown.At(j));
                    Steps++; cooled++;
                    if (!double.IsFinite(lv) || !double.IsFinite(gn)) drop = double.NaN;
                }
                if (double.IsFinite(drop)) drop = before - _validate();
            }
        }
        finally { Restore(); }
        return new AutoLrsProbe(losses, drop, cooled);
    }

    private void Restore()
    {
        int i = 0;
        foreach (var a in Arrays()) _saved[i++].AsSpan().CopyTo(a);
        _opt.StepCount = _savedSteps;
    }
}

/// <summary>
/// The per-update training losses since the last written log row (<see cref="TrainConfig.LogEvery"/>): summed in
/// update order, so a resumed or branched run reproduces the mean bit for bit.
/// </summary>
internal sealed class LossWindow
{
    public double Sum { get; set; }
    public int Count { get; set; }

    public void Add(double loss) { Sum += loss; Count++; }

    /// <summary>The mean of the window's losses; empties the window.</summary>
    public double TakeMean()
    {
        double mean = Sum / Count;
        Sum = 0; Count = 0;
        return mean;
    }
}

/// <summary>
/// Checkpoint file: "ANNEALCK", format version, the run header (JSON; must match on resume, all but the schedule
/// for a branch), step, elapsed seconds, optimizer step count, the written CSV rows so far, the last update's row
/// without its loss (empty string if none), the loss window (sum, count) of the rows not yet written, then every
/// parameter and optimizer state array as raw little-endian floats, and last the SHA-256 of every byte before it, so a
/// corrupted file (a flipped bit, a truncated copy) is refused before anything is read from it.
/// Written atomically (<see cref="TrainCheckpoint.Save"/>), so a kill mid-write leaves the previous checkpoint intact.
/// </summary>
internal static class Checkpoint
{
    internal const string Magic = "ANNEALCK";
    // 2: rows follow the laws' step convention and the last update's row (without its loss) is stored apart
    // 3: the loss window of log_every and the header's eval_every and log_every
    // 4: a SHA-256 of the content at the end
    internal const int Version = 4;

    /// <summary>Bytes of the trailing checksum.</summary>
    internal const int ChecksumBytes = 32;

    /// <summary>
    /// Checks the trailing SHA-256 of the checkpoint at <paramref name="path"/> against its content (streamed: the
    /// file is never held in memory). Throws <see cref="InputException"/> when it differs, so a corrupted checkpoint
    /// is refused before a run resumes or branches from it and the run's files stay as they are.
    /// </summary>
    public static void Verify(string path)
    {
        using var f = OpenStream(path);
        var head = new byte[Magic.Length + 4];
        int got = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (got < head.Length || Encoding.ASCII.GetString(head, 0, Magic.Length) != Magic)
            throw new InputException($"{path}: not an Anneal checkpoint (no ANNEALCK header); give the .ckpt file a run wrote");
        int version = BitConverter.ToInt32(head, Magic.Length);
        if (version != Version)
            throw new InputException($"{path}: checkpoint format {version}, this Anneal reads format {Version}" +
                (version < Version ? " (written by an earlier Anneal, before checkpoints carried a checksum); it cannot be resumed or branched from: delete it and restart the run" : "; use the Anneal that wrote it"));
        if (f.Length < head.Length + ChecksumBytes) throw new InputException($"{path}: checkpoint is truncated; delete it and restart the run");
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        sha.AppendData(head);
        long left = f.Length - head.Length - ChecksumBytes;
        var buf = new byte[1 << 20];
        while (left > 0)
        {
            int n = f.Read(buf, 0, (int)Math.Min(buf.Length, left));
            if (n <= 0) throw new InputException($"{path}: checkpoint is truncated; delete it and restart the run");
            sha.AppendData(buf, 0, n);
            left -= n;
        }
        var stored = new byte[ChecksumBytes];
        f.ReadExactly(stored);
        if (!sha.GetHashAndReset().AsSpan().SequenceEqual(stored))
            throw new InputException($"{path}: checkpoint is corrupted (its SHA-256 checksum does not match its content); nothing was resumed and the run's files are unchanged. Restore an intact copy, branch from an earlier checkpoint, or delete it and restart the run");
    }

    /// <summary>The run header and step of the checkpoint at <paramref name="path"/>, without its rows and arrays.</summary>
    public static (JsonObject Header, long Step) ReadHeader(string path)
    {
        using var r = Open(path);
        var header = ReadHeaderJson(r, path);
        return (header, Read(path, r.ReadInt64));
    }

    public static (long Step, double Seconds, List<TrainLogRow> Rows, Pending? Pending, LossWindow Window) Load(string path, JsonObject header, IReadOnlyList<Tensor<float>> ps, Optimizer<float> opt, bool branch)
    {
        using var r = Open(path);
        var saved = ReadHeaderJson(r, path);
        // a branch changes the schedule (checked step by step in Trainer.BranchPoint); everything else must match
        var diffs = header.Where(kv => !(branch && kv.Key == "schedule") && saved[kv.Key]?.ToJsonString() != kv.Value?.ToJsonString())
            .Select(kv => $"{kv.Key}: checkpoint has {saved[kv.Key]?.ToJsonString() ?? "nothing"}, this run has {kv.Value?.ToJsonString()}").ToList();
        if (diffs.Count > 0)
            throw new InputException($"{path}: {(branch ? "a branch needs the parent run's settings (all but the schedule and steps)" : "resume needs the same settings as the checkpointed run")}; differences: {string.Join("; ", diffs)}");
        return Read(path, () =>
        {
            long step = r.ReadInt64(); double seconds = r.ReadDouble(); opt.StepCount = r.ReadInt64();
            var rows = new List<TrainLogRow>(); int nr = r.ReadInt32(); for (int i = 0; i < nr; i++) rows.Add(ParseRow(path, r.ReadString()));
            string pending = r.ReadString();
            var window = new LossWindow { Sum = r.ReadDouble(), Count = r.ReadInt32() };
            var arrays = ps.Select(p => (p.Name ?? "?", p.Data)).Concat(opt.State()).ToList();
            int n = r.ReadInt32();
            if (n != arrays.Count) throw new InputException($"{path}: holds {n} arrays, the model and optimizer need {arrays.Count}");
            foreach (var (name, values) in arrays)
            {
                string sn = r.ReadString(); int len = r.ReadInt32();
                if (sn != name || len != values.Length) throw new InputException($"{path}: array '{sn}' ({len}) where '{name}' ({values.Length}) was expected");
                var bytes = MemoryMarshal.AsBytes(values.AsSpan());
                r.BaseStream.ReadExactly(bytes);
            }
            // the pending row's own forward-pass loss and throughput were measured before the checkpoint: unknown here
            return (step, seconds, rows, pending.Length == 0 ? null : new Pending(ParseRow(path, pending), double.NaN, double.NaN), window);
        });
    }

    private static TrainLogRow ParseRow(string path, string line)
    {
        try { return TrainLogRow.Parse(line); }
        catch (FormatException) { throw new InputException($"{path}: the checkpoint holds a malformed log row '{line}'; delete it and restart the run"); }
    }

    private static BinaryReader Open(string path)
    {
        Verify(path);
        return new BinaryReader(OpenStream(path), Encoding.UTF8);
    }

    private static FileStream OpenStream(string path)
    {
        try { return File.OpenRead(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new InputException($"{path}: cannot read the checkpoint: {e.Message}"); }
    }

    private static JsonObject ReadHeaderJson(BinaryReader r, string path) => Read(path, () =>
    {
        if (Encoding.ASCII.GetString(r.ReadBytes(Magic.Length)) != Magic || r.ReadInt32() != Version)
            throw new InputException($"{path}: not an Anneal checkpoint of format {Version} (checkpoints of earlier versions cannot be resumed or branched from); delete it and restart the run");
        return (JsonObject)JsonNode.Parse(r.ReadString())!;
    });

    private static T Read<T>(string path, Func<T> read)
    {
        try { return read(); }
        catch (EndOfStreamException) { throw new InputException($"{path}: checkpoint is truncated; delete it and restart the run"); }
    }
}

/// <summary>The last update's log row, waiting for its training loss, with what its progress line needs.</summary>
/// <param name="Row">The row, loss NaN (a blank cell in a checkpoint).</param>
/// <param name="LossBefore">The training loss its update's forward pass measured (NaN when loaded from a checkpoint).</param>
/// <param name="TokensPerSecond">Training throughput when the update finished (NaN when loaded from a checkpoint).</param>
internal sealed record Pending(TrainLogRow Row, double LossBefore, double TokensPerSecond);

/// <summary>
/// A run's state after <see cref="Step"/> updates, captured for a checkpoint file: the settings header, the log's state
/// (written rows, the pending row, the loss window) and copies of every parameter and optimizer array, so that training
/// can go on while a subscriber writes it (<see cref="CheckpointWriter"/>). <see cref="Save"/> writes the file that
/// <see cref="TrainConfig.Resume"/> and <see cref="TrainConfig.BranchFrom"/> read.
/// </summary>
public sealed class TrainCheckpoint
{
    private readonly string _header;
    private readonly long _optimizerSteps;
    private readonly string[] _rows;
    private readonly string _pending;
    private readonly double _windowSum;
    private readonly int _windowCount;
    private readonly (string Name, float[] Values)[] _arrays;
    // Deliveries not yet handled by a subscriber, plus the trainer's own hold while it publishes; at zero the
    // stream's slot (its bound on captured checkpoints) is free again.
    private int _deliveries = 1;

    private TrainCheckpoint(string header, long step, double seconds, long optimizerSteps, string[] rows, string pending, double windowSum, int windowCount, (string, float[])[] arrays)
    {
        _header = header; Step = step; Seconds = seconds; _optimizerSteps = optimizerSteps; _rows = rows; _pending = pending;
        _windowSum = windowSum; _windowCount = windowCount; _arrays = arrays;
    }

    /// <summary>Updates done (the model after updates 0..Step-1).</summary>
    public long Step { get; }

    /// <summary>Run wall clock at the capture (resumed runs included).</summary>
    public double Seconds { get; }

    internal static TrainCheckpoint Capture(JsonObject header, long step, double seconds, IReadOnlyList<TrainLogRow> rows, TrainLogRow pending, LossWindow window,
        IReadOnlyList<Tensor<float>> ps, Optimizer<float> opt) =>
        new(header.ToJsonString(), step, seconds, opt.StepCount, rows.Select(r => r.ToCsv()).ToArray(), pending.ToCsv(""), window.Sum, window.Count,
            ps.Select(p => (p.Name ?? "?", (float[])p.Data.Clone())).Concat(opt.State().Select(a => (a.Name, (float[])a.Values.Clone()))).ToArray());

    /// <summary>Writes the checkpoint file atomically (a kill mid-write leaves the previous file intact).</summary>
    public void Save(string path) => AtomicFile.Write(path, file =>
    {
        // every byte goes through the hash on its way to the file; the hash itself comes last
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        using (var s = new HashingStream(file, sha))
        using (var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true))
            WriteContent(w);
        file.Write(sha.GetHashAndReset());
    });

    private void WriteContent(BinaryWriter w)
    {
        w.Write(Encoding.ASCII.GetBytes(Checkpoint.Magic)); w.Write(Checkpoint.Version);
        w.Write(_header); w.Write(Step); w.Write(Seconds); w.Write(_optimizerSteps);
        w.Write(_rows.Length); foreach (var r in _rows) w.Write(r);
        w.Write(_pending);
        w.Write(_windowSum); w.Write(_windowCount);
        w.Write(_arrays.Length);
        foreach (var (name, values) in _arrays) { w.Write(name); w.Write(values.Length); w.Write(MemoryMarshal.AsBytes(values.AsSpan())); }
    }

    /// <summary>A write-only stream that hashes what it passes on to <c>inner</c> (left open).</summary>
    private sealed class HashingStream(Stream inner, System.Security.Cryptography.IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer) { hash.AppendData(buffer); inner.Write(buffer); }
    }

    internal void AddDelivery() => Interlocked.Increment(ref _deliveries);

    internal void RemoveDelivery(TrainEventStream stream)
    {
        if (Interlocked.Decrement(ref _deliveries) == 0) stream.ReleaseCheckpointSlot();
    }
}
