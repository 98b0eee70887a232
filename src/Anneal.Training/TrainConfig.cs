using System.Globalization;

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
    /// <summary>
    /// The optimizer spec (<see cref="Optim.Optimizer{T}.Create"/>): sgd, adam, adamw, nadamw, lion or muon (Muon on the
    /// hidden weight matrices and AdamW on the rest, both at the schedule's learning rate, <see cref="Optim.Muon{T}"/>).
    /// </summary>
    public string Optimizer { get; init; } = "adamw";
    /// <summary>Validate, write the log and checkpoint every EvalEvery updates (and after the last).</summary>
    public int EvalEvery { get; init; } = 100;
    public int EvalBatches { get; init; } = 8;
    public ulong Seed { get; init; } = 1;
    /// <summary>Global gradient-norm clip (0 = off).</summary>
    public double Clip { get; init; } = 1.0;
    /// <summary>CSV log path (step,lr,loss,val_loss,grad_norm,tokens,seconds,epoch; step convention in <see cref="Trainer.Run(TrainConfig, Data.TextDataset, TextWriter, long?)"/>).</summary>
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
