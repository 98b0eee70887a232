namespace Anneal.Laws;

/// <summary>
/// A prediction for one schedule: the curve, its band and the final loss. The loss is always finite
/// and positive; the band may be unavailable (<see cref="BandUnavailable"/> says why, and
/// <see cref="Low"/> and <see cref="High"/> are then NaN: never print or draw them).
/// </summary>
public sealed record LawPrediction(long[] Steps, double[] Loss, double[] Low, double[] High, double Level)
{
    public double FinalLoss => Loss[^1];
    public double FinalLow => Low[^1];
    public double FinalHigh => High[^1];

    /// <summary>Why there is no band (null when there is one).</summary>
    public string? BandUnavailable { get; init; }

    /// <summary>
    /// What the forecast's user must know beyond its band, or null: it trains past the first epoch of data the fitted runs
    /// saw once (<see cref="Anneal.Fitting.EpochBoundary.ForecastWarning"/>).
    /// </summary>
    public string? Warning { get; init; }

    /// <summary>True when <see cref="Low"/> and <see cref="High"/> hold a band.</summary>
    public bool HasBand => BandUnavailable is null;
}
