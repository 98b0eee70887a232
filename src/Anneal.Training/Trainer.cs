using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Anneal.IO;
using Anneal.Training.Data;
using Anneal.Training.Models;
using Anneal.Training.Optim;
using Anneal.Tuning;
using static Anneal.ParameterName;

namespace Anneal.Training;

/// <summary>
/// The training loop: batch → forward → backward → clip → optimizer step with the schedule's LR, publishing an event per
/// update and evaluating every <see cref="TrainConfig.EvalEvery"/> steps (<see cref="TrainEventStream"/>); the CSV log,
/// the progress lines and the checkpoints are written by subscribers (<see cref="TrainLogWriter"/>,
/// <see cref="ProgressPrinter"/>, <see cref="CheckpointWriter"/>). All randomness is a function of (seed, step), and
/// every reduction has a fixed order, so the same seed gives the same curve and a resumed run continues bit-for-bit.
/// </summary>
public static partial class Trainer
{
    /// <summary>
    /// Columns of the training log. Row s follows the laws' convention (<c>Anneal.Laws.LawRun</c>): lr and grad_norm
    /// belong to update s; loss, val_loss and tokens to the model after updates 0..s (details in <see cref="Run(TrainConfig, TextDataset, TextWriter, long?)"/>).
    /// </summary>
    public const string CsvHeader = "step,lr,loss,val_loss,grad_norm,tokens,seconds,epoch";

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
    /// <item><c>tokens</c>: training tokens consumed by updates 0..s, <c>(s+1)*batch*seq</c>;</item>
    /// <item><c>seconds</c>: run wall clock when update s finished;</item>
    /// <item><c>epoch</c>: epochs of the training text drawn by updates 0..s, <c>tokens / training tokens</c> (batches are random
    /// windows, so this counts tokens drawn, not a pass in order): fits read it for where the data starts to repeat.</item>
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
        // epochs of the training text drawn by the updates so far (the log's epoch column)
        double Epochs(long tokens) => (double)tokens / data.Train.Length;
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
                    var row = new TrainLogRow(step, lr, double.NaN, double.NaN, gn, tokens, Seconds(), Epochs(tokens));
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
            pending = new Pending(new TrainLogRow(step, lr, double.NaN, val, gn, tokens, Seconds(), Epochs(tokens)), lv, TokensPerSecond());
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
