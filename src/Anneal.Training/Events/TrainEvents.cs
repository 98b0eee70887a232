using System.Globalization;

namespace Anneal.Training;

/// <summary>
/// Something that happened in a training run, published by <see cref="Trainer.Run(TrainConfig, Data.TextDataset, TrainEventStream, long?, CancellationToken)"/>
/// on a <see cref="TrainEventStream"/>. A run publishes, in this order: one <see cref="RunStarted"/>; then, as training
/// goes, one <see cref="StepCompleted"/> per optimizer update, an <see cref="Evaluated"/> per evaluation and a
/// <see cref="CheckpointTaken"/> per checkpoint; and last one <see cref="RunEnded"/> or <see cref="RunDiverged"/>
/// (none when the run fails for another reason: the stream then just completes). Events are immutable and may be
/// read on any thread.
/// </summary>
public abstract record TrainEvent;

/// <summary>
/// The run starts (fresh, resumed from its checkpoint, or branched from another run's): what it trains and the log
/// rows it already has. A resumed run starts again from its last checkpoint, so a subscriber that also saw the killed
/// run must treat this event as a reset: the run's log is <see cref="Rows"/>, then the rows of the steps that follow.
/// </summary>
/// <param name="Config">The run's settings.</param>
/// <param name="StartStep">Updates already done (0 for a fresh run; the checkpoint's step when resuming or branching).</param>
/// <param name="Seq">Tokens per sequence (the config's, or the model's maximum).</param>
/// <param name="Model">The model's canonical spec.</param>
/// <param name="Parameters">Number of trainable parameters.</param>
/// <param name="Optimizer">The optimizer's canonical spec.</param>
/// <param name="Backend">The matrix-product backend (<see cref="Gemm.Backend"/>).</param>
/// <param name="Threads">Worker threads.</param>
/// <param name="Rows">The log rows written before <see cref="StartStep"/> (from the checkpoint; empty for a fresh run).</param>
/// <param name="Seconds">Run wall clock at the start: 0, or the checkpoint's when resuming or branching.</param>
public sealed record RunStarted(TrainConfig Config, long StartStep, int Seq, string Model, long Parameters, string Optimizer, string Backend, int Threads, IReadOnlyList<TrainLogRow> Rows, double Seconds) : TrainEvent;

/// <summary>
/// Update <see cref="Step"/> is complete: its learning rate and gradient norm, and the training loss after it. Row s
/// of the log follows the laws' step convention (<see cref="Trainer.Run(TrainConfig, Data.TextDataset, TextWriter, long?)"/>): the
/// loss after updates 0..s is measured by the forward pass of update s+1, so this event is published right after that
/// forward pass (after an extra forward pass for the last update), one update after the update itself.
/// </summary>
/// <param name="Step">The update, 0-based.</param>
/// <param name="Lr">Its learning rate, <c>schedule.At(Step)</c>.</param>
/// <param name="LossBefore">The training loss its own forward pass measured (after updates 0..Step-1; for step 0 the
/// loss at initialisation). NaN for the first event of a resumed or branched run: it was measured before the checkpoint.</param>
/// <param name="Loss">The training loss after updates 0..Step (NaN at a divergence).</param>
/// <param name="ValLoss">The validation loss after the update when it was evaluated, else NaN.</param>
/// <param name="GradNorm">Its global gradient norm before clipping.</param>
/// <param name="Tokens">Training tokens consumed by updates 0..Step.</param>
/// <param name="Seconds">Run wall clock (resumed runs included) when the update and its evaluation finished.</param>
/// <param name="TokensPerSecond">Training throughput so far (the first two updates of a process left out), NaN when
/// not measured in this process.</param>
/// <param name="LogRow">The log row of this update when it is written to the log (every
/// <see cref="TrainConfig.LogEvery"/> updates, at evaluations, the last update and a divergence), else null. Its loss is
/// the mean of the per-update losses since the previous row.</param>
public sealed record StepCompleted(long Step, double Lr, double LossBefore, double Loss, double ValLoss, double GradNorm, long Tokens, double Seconds, double TokensPerSecond, TrainLogRow? LogRow) : TrainEvent;

/// <summary>The model after updates 0..<see cref="Step"/> was evaluated on the fixed validation batches.</summary>
/// <param name="Step">The last update before the evaluation.</param>
/// <param name="ValLoss">Mean validation cross-entropy.</param>
/// <param name="Seconds">Run wall clock when the evaluation finished.</param>
public sealed record Evaluated(long Step, double ValLoss, double Seconds) : TrainEvent;

/// <summary>
/// The run's state after <see cref="TrainCheckpoint.Step"/> updates was captured (at every evaluation, and at each step
/// of <see cref="TrainConfig.SaveAt"/>), for keeping at <see cref="Path"/>. Only subscriptions that ask for checkpoints
/// (<see cref="TrainSubscriptionOptions.Checkpoints"/>) receive it; <see cref="CheckpointWriter"/> writes it.
/// </summary>
/// <param name="Path">Where the run's settings say it goes (<see cref="TrainConfig.CheckpointPath"/> or <see cref="TrainConfig.SavedCheckpointPath"/>).</param>
/// <param name="Checkpoint">The captured state; <see cref="TrainCheckpoint.Save"/> writes it.</param>
public sealed record CheckpointTaken(string Path, TrainCheckpoint Checkpoint) : TrainEvent;

/// <summary>The run finished, or stopped early (<see cref="TrainSummary.Halted"/>: a simulated kill or a cancellation).</summary>
/// <param name="Summary">Final losses and throughput.</param>
public sealed record RunEnded(TrainSummary Summary) : TrainEvent;

/// <summary>
/// Training stopped because the loss or the gradient became NaN or infinite. The last <see cref="StepCompleted"/>
/// before it carries the row with the NaN; the run then throws <see cref="TrainingDivergedException"/>.
/// </summary>
/// <param name="Step">The step whose loss or gradient is not finite.</param>
/// <param name="Reason">What diverged, e.g. "training diverged at step 12: gradient norm is NaN (lr 3E+30)".</param>
public sealed record RunDiverged(long Step, string Reason) : TrainEvent;

/// <summary>
/// One row of the training log (columns <see cref="Trainer.CsvHeader"/>), in the step convention of the loss-curve
/// laws: row s holds update s's learning rate and gradient norm, and the losses after updates 0..s.
/// </summary>
/// <param name="Step">The update, 0-based.</param>
/// <param name="Lr">Its learning rate.</param>
/// <param name="Loss">The mean training loss of the updates since the previous row (NaN at a divergence).</param>
/// <param name="ValLoss">The validation loss after the update, NaN when not evaluated (a blank cell).</param>
/// <param name="GradNorm">Its gradient norm before clipping.</param>
/// <param name="Tokens">Training tokens consumed by updates 0..Step.</param>
/// <param name="Seconds">Run wall clock when the update finished (written with millisecond precision).</param>
/// <param name="Epoch">
/// Epochs of training data drawn by updates 0..Step: <c>Tokens / training tokens</c>, a fraction (the column Hugging Face's
/// trainer_state.json calls <c>epoch</c>), so a fit learns where the data starts to repeat (<c>Anneal.Fitting.EpochBoundary</c>);
/// NaN for rows of a checkpoint written before the column existed (a blank cell).
/// </param>
public sealed record TrainLogRow(long Step, double Lr, double Loss, double ValLoss, double GradNorm, long Tokens, double Seconds, double Epoch)
{
    /// <summary>
    /// The CSV line: round-trip numbers (so the laws read exactly the trainer's rates), a blank val_loss when not
    /// evaluated, seconds to the millisecond, epochs to 1e-7 (a reader's tolerance for an epoch column is 0.005).
    /// </summary>
    public string ToCsv() => ToCsv(Loss.ToString("R", CultureInfo.InvariantCulture));

    /// <summary>The line with <paramref name="loss"/> in the loss cell (a checkpoint stores the pending row with a blank one).</summary>
    internal string ToCsv(string loss)
    {
        var inv = CultureInfo.InvariantCulture;
        return string.Join(',', Step.ToString(inv), Lr.ToString("R", inv), loss, double.IsNaN(ValLoss) ? "" : ValLoss.ToString("R", inv),
            GradNorm.ToString("R", inv), Tokens.ToString(inv), Seconds.ToString("F3", inv), double.IsNaN(Epoch) ? "" : Epoch.ToString("0.#######", inv));
    }

    /// <summary>
    /// Reads a line written by <see cref="ToCsv()"/> (a blank loss, val_loss or epoch is NaN); every number but the epoch
    /// round-trips. A row of 7 cells, from a checkpoint written before the epoch column existed, gets a NaN epoch.
    /// </summary>
    internal static TrainLogRow Parse(string line)
    {
        var f = line.Split(',');
        if (f.Length is not (7 or 8)) throw new FormatException($"a log row has 8 cells (7 before the epoch column), got {f.Length}: '{line}'");
        var inv = CultureInfo.InvariantCulture;
        static double D(string s) => s.Length == 0 ? double.NaN : double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
        return new TrainLogRow(long.Parse(f[0], inv), D(f[1]), D(f[2]), D(f[3]), D(f[4]), long.Parse(f[5], inv), D(f[6]), f.Length == 8 ? D(f[7]) : double.NaN);
    }
}

/// <summary>
/// An AutoLRS run (<c>autolrs(...)</c>) decided a stage before its first update: every candidate rate it explored
/// (each from the stage's starting state, undone afterwards), the exponential forecast of each at the stage's end,
/// and the chosen rate, which the stage's updates (and their log rows' <c>lr</c>) use.
/// </summary>
/// <param name="Stage">The decided stage.</param>
/// <param name="ExploreSteps">Exploration updates of the run so far in this process, this stage's included.</param>
/// <param name="Seconds">Run wall clock when the decision was taken.</param>
public sealed record AutoLrsStageChosen(Anneal.Tuning.AutoLrsStage Stage, long ExploreSteps, double Seconds) : TrainEvent;
