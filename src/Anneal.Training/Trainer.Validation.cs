using Anneal.Schedules;
using Anneal.Training.Data;
using Anneal.Training.Models;
using Anneal.Training.Optim;
using Anneal.Tuning;
using static Anneal.ParameterName;

namespace Anneal.Training;

/// <summary>The checks of a run's settings before any work (<see cref="Validate"/>) and of a branch point.</summary>
public static partial class Trainer
{
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
}
