namespace Anneal.Training;

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
