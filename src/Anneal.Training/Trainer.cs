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
    /// <summary>CSV log path (step,lr,loss,val_loss,grad_norm,tokens,seconds; step convention in <see cref="Trainer.Run"/>).</summary>
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

    /// <summary>Where the checkpoint kept after <paramref name="step"/> updates (<see cref="SaveAt"/>) goes: <c>Out + ".step{step}.ckpt"</c>.</summary>
    public string SavedCheckpointPath(long step) => Out + ".step" + step.ToString(CultureInfo.InvariantCulture) + ".ckpt";
}

/// <summary>Result of <see cref="Trainer.Run"/>.</summary>
/// <remarks><see cref="TrainTokensPerCpuSecond"/> divides by the process's CPU time (all threads) over the timed steps: on a shared,
/// oversubscribed machine it is steadier than wall-clock throughput.</remarks>
public sealed record TrainSummary(long Steps, double FinalLoss, double FinalValLoss, double TrainTokensPerSecond, double Seconds, long Parameters, string Backend, bool Halted)
{
    public double TrainTokensPerCpuSecond { get; init; }
}

/// <summary>Training stopped because the loss or gradient became NaN or infinite.</summary>
public sealed class TrainingDivergedException(string message) : InputException(message);

/// <summary>
/// The training loop: batch → forward → backward → clip → optimizer step with the schedule's LR, logging a CSV
/// row per step and evaluating/checkpointing every <see cref="TrainConfig.EvalEvery"/> steps. All randomness
/// is a function of (seed, step), and every reduction has a fixed order, so the same seed gives the same curve
/// and a resumed run continues bit-for-bit.
/// </summary>
public static class Trainer
{
    /// <summary>
    /// Columns of the training log. Row s follows the laws' convention (<c>Anneal.Laws.LawRun</c>): lr and grad_norm
    /// belong to update s; loss, val_loss and tokens to the model after updates 0..s (details in <see cref="Run"/>).
    /// </summary>
    public const string CsvHeader = "step,lr,loss,val_loss,grad_norm,tokens,seconds";

    /// <summary>
    /// Runs (resumes, or branches) training and writes the CSV log <see cref="CsvHeader"/>, one row per optimizer update
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
    /// A log written mid-run ends at the last row whose training loss is known (row s is completed by the
    /// forward pass of update s+1). At divergence the row whose loss or gradient is non-finite is written
    /// with <c>NaN</c> and training stops. <paramref name="haltAfter"/> simulates a kill after that many updates (tests).
    /// A branch (<see cref="TrainConfig.BranchFrom"/>) loads the parent's checkpoint at step k and continues from update k:
    /// since batches and dropout are functions of (seed, step), its log equals, bit for bit except <c>seconds</c>, the log of
    /// an uninterrupted run with the branch's schedule.
    /// </summary>
    public static TrainSummary Run(TrainConfig cfg, TextDataset data, TextWriter progress, long? haltAfter = null)
    {
        var model = CheckConfig(cfg, p => p);
        int seq = cfg.Seq ?? model.MaxSeq;
        if (data.Val.Length < seq + 2 || data.Train.Length < seq + 2) throw new InputException($"data '{data.Name}' is too short for seq={seq}");
        var schedule = Schedules.Schedule.Parse(cfg.Schedule);
        Engine.Threads = cfg.Threads;
        long parameters = model.Parameters.Sum(p => (long)p.Length);
        var opt = Optimizer<float>.Create(cfg.Optimizer, model.Parameters);
        var header = Header(cfg, model, seq, schedule, opt, data);

        var rows = new List<string>();
        // The row of the last update, waiting for its training loss (measured by the next forward pass).
        string? pending = null;
        // Per-update training losses of the rows since the last written row (their mean is the next written row's loss).
        var window = new LossWindow();
        long start = 0; double secondsBefore = 0;
        if (cfg.Resume)
        {
            (start, secondsBefore, rows, pending, window) = Checkpoint.Load(cfg.CheckpointPath, header, model.Parameters, opt, branch: false);
            progress.WriteLine($"resuming from {cfg.CheckpointPath} at step {start}");
        }
        else
        {
            if (cfg.BranchFrom is { } parent)
            {
                (start, secondsBefore, rows, pending, window) = Checkpoint.Load(parent, header, model.Parameters, opt, branch: true);
                progress.WriteLine($"branching from {parent} at step {start}");
            }
            // a fresh run or branch must not silently continue an older log or checkpoint under the same name
            foreach (var stale in cfg.SaveAt.Select(cfg.SavedCheckpointPath).Append(cfg.CheckpointPath))
                if (File.Exists(stale)) File.Delete(stale);
        }
        progress.WriteLine($"model {model.Spec} ({parameters:N0} parameters), optimizer {opt.Spec}, matmul {Gemm.Backend}, {Engine.Threads} threads");

        var total = Stopwatch.StartNew();
        double trainSeconds = 0; long trainTokens = 0;
        double lastLoss = double.NaN, lastVal = double.NaN;
        var lastReport = Stopwatch.StartNew();
        var trainTimer = new Stopwatch();
        var proc = Process.GetCurrentProcess();
        double cpuSeconds = 0;
        for (long step = start; step < cfg.Steps; step++)
        {
            trainTimer.Restart();
            var cpuBefore = proc.TotalProcessorTime;
            double lr = schedule.At(step);
            var (x, y) = data.TrainBatch(cfg.Batch, seq, cfg.Seed, step);
            opt.ZeroGrad();
            double lv, gn = double.NaN;
            using (Arena.Begin())
            {
                var loss = model.Loss(x, y, cfg.Batch, seq, dropoutSeed: cfg.Seed * 0x9E3779B97F4A7C15UL + (ulong)step);
                lv = loss.Item();
                if (double.IsFinite(lv))
                {
                    loss.Backward();
                    gn = GradClip.ClipGlobalNorm(model.Parameters, cfg.Clip);
                    if (double.IsFinite(gn)) opt.Step(lr);
                }
            }
            trainTimer.Stop();
            proc.Refresh();
            // throughput leaves out the first two steps of a process (JIT compilation, first-touch allocation)
            if (step - start >= 2 || cfg.Steps - start <= 4) { trainSeconds += trainTimer.Elapsed.TotalSeconds; trainTokens += (long)cfg.Batch * seq; cpuSeconds += (proc.TotalProcessorTime - cpuBefore).TotalSeconds; }
            // lv was measured after updates 0..step-1: it completes the previous update's row (row step-1), which is
            // written if it is on the log grid (or the loss is not finite: the log must end at the divergence)
            if (pending is not null)
            {
                window.Add(lv);
                if (Logged(cfg, step) || !double.IsFinite(lv)) rows.Add(Complete(pending, window.TakeMean()));
                lastLoss = lv; pending = null;
            }
            else if (step == 0) progress.WriteLine($"initial loss {lv:F4} (before any update)");
            long done = step + 1, tokens = done * cfg.Batch * seq;
            bool diverged = !double.IsFinite(lv) || !double.IsFinite(gn);
            if (diverged)
            {
                // a non-finite loss already went into the previous row; this update was not applied, so its row
                // carries its LR and gradient norm and a NaN loss (the state after it is undefined)
                if (double.IsFinite(lv) || step == 0)
                    rows.Add(Row(step, lr, "NaN", double.NaN, gn, tokens, secondsBefore + total.Elapsed.TotalSeconds));
                WriteLog(cfg.Out, rows);
                long at = double.IsFinite(lv) || step == 0 ? step : step - 1;
                throw new TrainingDivergedException($"training diverged at step {at}: {(double.IsFinite(lv) ? "gradient norm" : "loss")} is {(double.IsFinite(lv) ? gn : lv)} (lr {schedule.At(at):G4}). " +
                    $"The log up to this step is in {cfg.Out} (the last row holds NaN). Lower the peak learning rate, lengthen the warmup or clip gradients (--clip).");
            }
            bool eval = done % cfg.EvalEvery == 0 || done == cfg.Steps;
            double val = eval ? Evaluate(model, data, cfg.Batch, seq, cfg.EvalBatches) : double.NaN;
            if (eval) lastVal = val;
            pending = Row(step, lr, "", val, gn, tokens, secondsBefore + total.Elapsed.TotalSeconds);
            if (eval)
            {
                WriteLog(cfg.Out, rows);
                Checkpoint.Save(cfg.CheckpointPath, header, done, secondsBefore + total.Elapsed.TotalSeconds, rows, pending, window, model.Parameters, opt);
            }
            if (cfg.SaveAt.Contains(done))
                Checkpoint.Save(cfg.SavedCheckpointPath(done), header, done, secondsBefore + total.Elapsed.TotalSeconds, rows, pending, window, model.Parameters, opt);
            if (eval || lastReport.Elapsed.TotalSeconds >= 2 || done == cfg.Steps)
            {
                lastReport.Restart();
                double tps = trainTokens > 0 ? trainTokens / Math.Max(1e-9, trainSeconds) : 0;
                double eta = tps > 0 ? (cfg.Steps - done) * (double)cfg.Batch * seq / tps : 0;
                progress.WriteLine($"step {step}/{cfg.Steps - 1}  loss {lv:F4} (before this update){(eval ? $"  val {val:F4}" : "")}  lr {lr:G3}  |g| {gn:F3}  {tps / 1000:F1}k tok/s  ETA {TimeSpan.FromSeconds(Math.Round(eta)):c}");
            }
            if (haltAfter == done) return new TrainSummary(done, lastLoss, lastVal, trainTokens / Math.Max(1e-9, trainSeconds), total.Elapsed.TotalSeconds, parameters, Gemm.Backend, Halted: true);
        }
        if (pending is not null)
        {
            // the last update's row: the training loss after all updates, on the batch the next update would have used
            var (x, y) = data.TrainBatch(cfg.Batch, seq, cfg.Seed, cfg.Steps);
            double lv;
            using (Autograd.NoGrad())
            using (Arena.Begin())
                lv = model.Loss(x, y, cfg.Batch, seq).Item();
            window.Add(lv);
            rows.Add(Complete(pending, window.TakeMean()));
            lastLoss = lv;
            if (!double.IsFinite(lv))
            {
                WriteLog(cfg.Out, rows);
                throw new TrainingDivergedException($"training diverged at step {cfg.Steps - 1}: the final loss is {lv}. The log is in {cfg.Out} (the last row holds NaN). " +
                    "Lower the peak learning rate, lengthen the warmup or clip gradients (--clip).");
            }
        }
        WriteLog(cfg.Out, rows);
        return new TrainSummary(cfg.Steps, lastLoss, lastVal, trainTokens / Math.Max(1e-9, trainSeconds), secondsBefore + total.Elapsed.TotalSeconds, parameters, Gemm.Backend, Halted: false)
        { TrainTokensPerCpuSecond = trainTokens / Math.Max(1e-9, cpuSeconds) };
    }

    private static string Row(long step, double lr, string loss, double val, double gn, long tokens, double seconds)
    {
        var inv = CultureInfo.InvariantCulture;
        return string.Join(',', step.ToString(inv), lr.ToString("R", inv), loss, double.IsNaN(val) ? "" : val.ToString("R", inv),
            gn.ToString("R", inv), tokens.ToString(inv), seconds.ToString("F3", inv));
    }

    /// <summary>Fills the (empty) loss cell of a pending row.</summary>
    private static string Complete(string pending, double loss)
    {
        var f = pending.Split(',');
        f[2] = loss.ToString("R", CultureInfo.InvariantCulture);
        return string.Join(',', f);
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
    /// (<see cref="BranchPoint"/>). Messages name each setting through <paramref name="name"/>, which maps the
    /// parameter name (<c>steps</c>, <c>eval_every</c>, ...) to what the caller calls it (a command line's <c>--steps</c>);
    /// by default the parameter name itself. Throws <see cref="InputException"/>.
    /// </summary>
    public static void Validate(TrainConfig cfg, Func<string, string>? name = null) => CheckConfig(cfg, name ?? (p => p));

    private static ITextModel CheckConfig(TrainConfig cfg, Func<string, string> name)
    {
        var inv = CultureInfo.InvariantCulture;
        if (cfg.Steps < 1) throw new InputException($"{name("steps")} must be >= 1, got {cfg.Steps}");
        if (cfg.Batch < 1) throw new InputException($"{name("batch")} must be >= 1, got {cfg.Batch}");
        if (cfg.EvalEvery < 1) throw new InputException($"{name("eval_every")} must be >= 1, got {cfg.EvalEvery}");
        if (cfg.EvalBatches < 1) throw new InputException($"{name("eval_batches")} must be >= 1, got {cfg.EvalBatches}");
        if (cfg.LogEvery < 1) throw new InputException($"{name("log_every")} must be >= 1 (1 = a row per update), got {cfg.LogEvery}");
        if (cfg.Clip < 0) throw new InputException(string.Create(inv, $"{name("clip")} must be >= 0 (0 = off), got {cfg.Clip}"));
        if (cfg.Threads < 1) throw new InputException($"{name("threads")} must be >= 1, got {cfg.Threads}");
        foreach (var k in cfg.SaveAt)
            if (k < 1 || k > cfg.Steps) throw new InputException($"{name("save_at")}: step {k} is outside 1..{cfg.Steps} ({name("steps")}); a kept checkpoint holds the model after k updates");
        var m = TextModels.Create(cfg.Model, cfg.Seed);
        int seq = cfg.Seq ?? m.MaxSeq;
        if (seq < 1 || seq > m.MaxSeq) throw new InputException($"{name("seq")} must be between 1 and the model's maximum {m.MaxSeq}, got {seq}");
        if (m is GptModel g && g.Net.Config.Vocab < ByteTokenizer.VocabSize) throw new InputException($"the model's vocab={g.Net.Config.Vocab} is smaller than the byte tokenizer's 256");
        Schedules.Schedule.Parse(cfg.Schedule);
        var dir = Path.GetDirectoryName(Path.GetFullPath(cfg.Out))!;
        if (!Directory.Exists(dir)) throw new InputException($"{name("out")} {cfg.Out}: folder '{dir}' does not exist; create it first");
        if (cfg.Resume && cfg.BranchFrom is not null)
            throw new InputException($"{name("resume")} and {name("branch_from")} cannot be combined: a killed branch resumes from its own checkpoint ({cfg.CheckpointPath}), which already holds the parent's rows");
        if (cfg.Resume && !File.Exists(cfg.CheckpointPath)) throw new InputException($"{name("resume")}: no checkpoint at {cfg.CheckpointPath}; run without {name("resume")} to start afresh");
        if (cfg.BranchFrom is { } parent)
        {
            if (!File.Exists(parent)) throw new InputException($"{name("branch_from")}: no checkpoint at {parent}; keep one with {name("save_at")} in the parent run");
            if (Path.GetFullPath(parent) == Path.GetFullPath(cfg.CheckpointPath))
                throw new InputException($"{name("branch_from")} {parent} is this run's own checkpoint; give the branch its own {name("out")}");
            BranchPoint(cfg, name);
        }
        return m;
    }

    /// <summary>
    /// The step k of <see cref="TrainConfig.BranchFrom"/>'s checkpoint (the model after k updates), after checking that
    /// the branch's schedule gives bit for bit the parent's learning rate at every step before k and that k is at most
    /// the branch's steps. The other settings are compared with the parent's when the run loads the checkpoint.
    /// </summary>
    public static long BranchPoint(TrainConfig cfg, Func<string, string>? name = null)
    {
        name ??= p => p;
        var path = cfg.BranchFrom ?? throw new InputException($"{name("branch_from")} is not set");
        var (header, k) = Checkpoint.ReadHeader(path);
        var parentSpec = header["schedule"]?.GetValue<string>() ?? throw new InputException($"{path}: the checkpoint records no schedule");
        Schedule mine = Schedules.Schedule.Parse(cfg.Schedule), theirs = Schedules.Schedule.Parse(parentSpec);
        if (k > cfg.Steps) throw new InputException($"{path}: the checkpoint is after {k} updates, more than the branch's {name("steps")}={cfg.Steps}");
        for (long s = 0; s < k; s++)
        {
            double a = mine.At(s), b = theirs.At(s);
            if (BitConverter.DoubleToInt64Bits(a) != BitConverter.DoubleToInt64Bits(b))
                throw new InputException(string.Create(CultureInfo.InvariantCulture,
                    $"{path}: the branch's {name("schedule")} {mine.Spec} gives lr {a:R} at step {s}, the parent run's {theirs.Spec} gave {b:R}; " +
                    $"a branch from step {k} must repeat the parent's learning rates at steps 0..{k - 1}. Branch from an earlier checkpoint or start the schedule's decay at step {k} or later"));
        }
        return k;
    }

    private static JsonObject Header(TrainConfig cfg, ITextModel m, int seq, Schedule schedule, Optimizer<float> opt, TextDataset data) => new()
    {
        ["model"] = m.Spec, ["optimizer"] = opt.Spec, ["schedule"] = schedule.Spec, ["seed"] = cfg.Seed.ToString(CultureInfo.InvariantCulture),
        ["batch"] = cfg.Batch, ["seq"] = seq, ["data"] = data.Name, ["data_bytes"] = data.Train.Length, ["clip"] = cfg.Clip, ["eval_batches"] = cfg.EvalBatches,
        ["eval_every"] = cfg.EvalEvery, ["log_every"] = cfg.LogEvery,
    };

    /// <summary>
    /// Writes the log atomically: <see cref="CsvHeader"/> then the completed rows. Row s = update s (0-based):
    /// <c>lr</c> = schedule.At(s), the LR of update s; <c>grad_norm</c> = its gradient norm before clipping;
    /// <c>loss</c> = training loss after updates 0..s (the forward pass of update s+1, measured before it);
    /// <c>val_loss</c> = validation loss after update s (blank when not evaluated); <c>tokens</c> = (s+1)*batch*seq;
    /// <c>seconds</c> = wall clock when update s (and its evaluation) finished.
    /// </summary>
    private static void WriteLog(string path, List<string> rows) => AtomicFile.WriteText(path, w =>
    {
        w.WriteLine(CsvHeader);
        foreach (var r in rows) w.WriteLine(r);
    });
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
/// parameter and optimizer state array as raw little-endian floats.
/// Written atomically, so a kill mid-write leaves the previous checkpoint intact.
/// </summary>
internal static class Checkpoint
{
    private const string Magic = "ANNEALCK";
    // 2: rows follow the laws' step convention and the last update's row (without its loss) is stored apart
    // 3: the loss window of log_every and the header's eval_every and log_every
    private const int Version = 3;

    public static void Save(string path, JsonObject header, long step, double seconds, List<string> rows, string? pending, LossWindow window, IReadOnlyList<Tensor<float>> ps, Optimizer<float> opt) =>
        AtomicFile.Write(path, s =>
        {
            using var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true);
            w.Write(Encoding.ASCII.GetBytes(Magic)); w.Write(Version);
            w.Write(header.ToJsonString()); w.Write(step); w.Write(seconds); w.Write(opt.StepCount);
            w.Write(rows.Count); foreach (var r in rows) w.Write(r);
            w.Write(pending ?? "");
            w.Write(window.Sum); w.Write(window.Count);
            var arrays = ps.Select(p => (p.Name ?? "?", p.Data)).Concat(opt.State()).ToList();
            w.Write(arrays.Count);
            foreach (var (name, values) in arrays) { w.Write(name); w.Write(values.Length); w.Write(MemoryMarshal.AsBytes(values.AsSpan())); }
        });

    /// <summary>The run header and step of the checkpoint at <paramref name="path"/>, without its rows and arrays.</summary>
    public static (JsonObject Header, long Step) ReadHeader(string path)
    {
        using var r = Open(path);
        var header = ReadHeaderJson(r, path);
        return (header, Read(path, r.ReadInt64));
    }

    public static (long Step, double Seconds, List<string> Rows, string? Pending, LossWindow Window) Load(string path, JsonObject header, IReadOnlyList<Tensor<float>> ps, Optimizer<float> opt, bool branch)
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
            var rows = new List<string>(); int nr = r.ReadInt32(); for (int i = 0; i < nr; i++) rows.Add(r.ReadString());
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
            return (step, seconds, rows, pending.Length == 0 ? null : pending, window);
        });
    }

    private static BinaryReader Open(string path)
    {
        try { return new BinaryReader(File.OpenRead(path), Encoding.UTF8); }
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
