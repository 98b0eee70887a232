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

    public string CheckpointPath => Checkpoint ?? Out + ".ckpt";
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
    /// Runs (or resumes) training and writes the CSV log <see cref="CsvHeader"/>, one row per optimizer update,
    /// in the step convention of the loss-curve laws (<c>Anneal.Laws.LawRun</c>): row <c>s</c> (0-based) describes
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
    /// </summary>
    public static TrainSummary Run(TrainConfig cfg, TextDataset data, TextWriter progress, long? haltAfter = null)
    {
        var model = TextModels.Create(cfg.Model, cfg.Seed);
        int seq = cfg.Seq ?? model.MaxSeq;
        Validate(cfg, model, seq, data);
        var schedule = Schedules.Schedule.Parse(cfg.Schedule);
        Engine.Threads = cfg.Threads;
        long parameters = model.Parameters.Sum(p => (long)p.Length);
        var opt = Optimizer<float>.Create(cfg.Optimizer, model.Parameters);
        var header = Header(cfg, model, seq, schedule, opt, data);

        var rows = new List<string>();
        // The row of the last update, waiting for its training loss (measured by the next forward pass).
        string? pending = null;
        long start = 0; double secondsBefore = 0;
        if (cfg.Resume)
        {
            if (!File.Exists(cfg.CheckpointPath)) throw new InputException($"--resume: no checkpoint at {cfg.CheckpointPath}; run without --resume to start afresh");
            (start, secondsBefore, rows, pending) = Checkpoint.Load(cfg.CheckpointPath, header, model.Parameters, opt);
            progress.WriteLine($"resuming from {cfg.CheckpointPath} at step {start}");
        }
        else
        {
            // a fresh run must not silently continue an older log or checkpoint under the same name
            if (File.Exists(cfg.CheckpointPath)) File.Delete(cfg.CheckpointPath);
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
            // lv was measured after updates 0..step-1: it completes the previous update's row
            if (pending is not null) { rows.Add(Complete(pending, lv)); lastLoss = lv; pending = null; }
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
                Checkpoint.Save(cfg.CheckpointPath, header, done, secondsBefore + total.Elapsed.TotalSeconds, rows, pending, model.Parameters, opt);
            }
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
            rows.Add(Complete(pending, lv));
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

    private static void Validate(TrainConfig cfg, ITextModel m, int seq, TextDataset data)
    {
        if (cfg.Steps < 1) throw new InputException($"--steps must be >= 1, got {cfg.Steps}");
        if (cfg.Batch < 1) throw new InputException($"--batch must be >= 1, got {cfg.Batch}");
        if (seq < 1 || seq > m.MaxSeq) throw new InputException($"--seq must be between 1 and the model's maximum {m.MaxSeq}, got {seq}");
        if (cfg.EvalEvery < 1) throw new InputException($"--eval-every must be >= 1, got {cfg.EvalEvery}");
        if (cfg.EvalBatches < 1) throw new InputException($"--eval-batches must be >= 1, got {cfg.EvalBatches}");
        if (cfg.Clip < 0) throw new InputException($"--clip must be >= 0 (0 = off), got {cfg.Clip}");
        if (m is GptModel g && g.Net.Config.Vocab < ByteTokenizer.VocabSize) throw new InputException($"the model's vocab={g.Net.Config.Vocab} is smaller than the byte tokenizer's 256");
        var dir = Path.GetDirectoryName(Path.GetFullPath(cfg.Out))!;
        if (!Directory.Exists(dir)) throw new InputException($"--out {cfg.Out}: folder '{dir}' does not exist; create it first");
        if (data.Val.Length < seq + 2 || data.Train.Length < seq + 2) throw new InputException($"data '{data.Name}' is too short for --seq {seq}");
    }

    private static JsonObject Header(TrainConfig cfg, ITextModel m, int seq, Schedule schedule, Optimizer<float> opt, TextDataset data) => new()
    {
        ["model"] = m.Spec, ["optimizer"] = opt.Spec, ["schedule"] = schedule.Spec, ["seed"] = cfg.Seed.ToString(CultureInfo.InvariantCulture),
        ["batch"] = cfg.Batch, ["seq"] = seq, ["data"] = data.Name, ["data_bytes"] = data.Train.Length, ["clip"] = cfg.Clip, ["eval_batches"] = cfg.EvalBatches,
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
/// Checkpoint file: "ANNEALCK", format version, the run header (JSON; must match on resume), step, elapsed
/// seconds, the completed CSV rows so far, the last update's row without its loss (empty string if none), then every parameter and optimizer state array as raw little-endian floats.
/// Written atomically, so a kill mid-write leaves the previous checkpoint intact.
/// </summary>
internal static class Checkpoint
{
    private const string Magic = "ANNEALCK";
    // 2: rows follow the laws' step convention and the last update's row (without its loss) is stored apart
    private const int Version = 2;

    public static void Save(string path, JsonObject header, long step, double seconds, List<string> rows, string? pending, IReadOnlyList<Tensor<float>> ps, Optimizer<float> opt) =>
        AtomicFile.Write(path, s =>
        {
            using var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true);
            w.Write(Encoding.ASCII.GetBytes(Magic)); w.Write(Version);
            w.Write(header.ToJsonString()); w.Write(step); w.Write(seconds); w.Write(opt.StepCount);
            w.Write(rows.Count); foreach (var r in rows) w.Write(r);
            w.Write(pending ?? "");
            var arrays = ps.Select(p => (p.Name ?? "?", p.Data)).Concat(opt.State()).ToList();
            w.Write(arrays.Count);
            foreach (var (name, values) in arrays) { w.Write(name); w.Write(values.Length); w.Write(MemoryMarshal.AsBytes(values.AsSpan())); }
        });

    public static (long Step, double Seconds, List<string> Rows, string? Pending) Load(string path, JsonObject header, IReadOnlyList<Tensor<float>> ps, Optimizer<float> opt)
    {
        try
        {
            using var r = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
            if (Encoding.ASCII.GetString(r.ReadBytes(Magic.Length)) != Magic || r.ReadInt32() != Version)
                throw new InputException($"{path}: not an Anneal checkpoint of format {Version} (checkpoints of earlier versions cannot be resumed); delete it and restart the run");
            var saved = (JsonObject)JsonNode.Parse(r.ReadString())!;
            var diffs = header.Where(kv => saved[kv.Key]?.ToJsonString() != kv.Value?.ToJsonString())
                .Select(kv => $"{kv.Key}: checkpoint has {saved[kv.Key]?.ToJsonString() ?? "nothing"}, this run has {kv.Value?.ToJsonString()}").ToList();
            if (diffs.Count > 0) throw new InputException($"{path}: --resume needs the same settings as the checkpointed run; differences: {string.Join("; ", diffs)}");
            long step = r.ReadInt64(); double seconds = r.ReadDouble(); opt.StepCount = r.ReadInt64();
            var rows = new List<string>(); int nr = r.ReadInt32(); for (int i = 0; i < nr; i++) rows.Add(r.ReadString());
            string pending = r.ReadString();
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
            return (step, seconds, rows, pending.Length == 0 ? null : pending);
        }
        catch (EndOfStreamException) { throw new InputException($"{path}: checkpoint is truncated; delete it and restart the run"); }
    }
}
