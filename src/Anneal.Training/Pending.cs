namespace Anneal.Training;

/// <summary>The last update's log row, waiting for its training loss, with what its progress line needs.</summary>
/// <param name="Row">The row, loss NaN (a blank cell in a checkpoint).</param>
/// <param name="LossBefore">The training loss its update's forward pass measured (NaN when loaded from a checkpoint).</param>
/// <param name="TokensPerSecond">Training throughput when the update finished (NaN when loaded from a checkpoint).</param>
internal sealed record Pending(TrainLogRow Row, double LossBefore, double TokensPerSecond);
