namespace Anneal.Training;

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
