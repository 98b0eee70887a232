using System.Globalization;

namespace Anneal.Laws;

/// <summary>
/// Whether an uncertainty band means anything. A band whose variance is not finite, or that spans more
/// than a factor <see cref="MaxRatio"/> between its ends, says only that the fit does not determine the
/// prediction; it is reported as unavailable, with the reason, instead of being printed or drawn
/// (e.g. a forward-momentum fit whose band ran to [0, 1e62], or to [0.86, 8.5] around a loss of 2.7).
/// </summary>
public static class BandCheck
{
    /// <summary>
    /// The widest band given: high / low at most 3 (at 95%, a relative standard error of about 28%).
    /// A loss forecast known only within a factor of 3 cannot choose between schedules, whose final
    /// losses differ by a few percent; wider bands come from fits whose refits or covariance break down.
    /// </summary>
    public const double MaxRatio = 3;

    /// <summary>True when one point's band is finite, positive and at most <see cref="MaxRatio"/> wide.</summary>
    public static bool IsSane(double low, double high) => double.IsFinite(low) && double.IsFinite(high) && low > 0 && high <= MaxRatio * low;

    /// <summary>
    /// Null when the band at every point is finite, positive and at most <see cref="MaxRatio"/> wide;
    /// otherwise why no band is given, naming the first point that fails.
    /// </summary>
    public static string? Problem(ReadOnlySpan<long> steps, ReadOnlySpan<double> low, ReadOnlySpan<double> high, double level)
    {
        for (int i = 0; i < low.Length; i++)
        {
            double lo = low[i], hi = high[i];
            if (IsSane(lo, hi)) continue;
            string at = steps.IsEmpty ? "" : string.Create(CultureInfo.InvariantCulture, $" at step {steps[i]}");
            if (!double.IsFinite(lo) || !double.IsFinite(hi) || !(lo > 0))
                return string.Create(CultureInfo.InvariantCulture, $"no {level * 100:G4}% band: its variance{at} is not finite (the parameter covariance or a leave-one-run-out refit gives no finite prediction there)");
            return string.Create(CultureInfo.InvariantCulture, $"no {level * 100:G4}% band: it would span {lo:G3} .. {hi:G3}{at}, more than a factor {MaxRatio:G}, so the fitted runs do not determine this prediction (fit runs closer to the schedule, or a simpler law)");
        }
        return null;
    }
}
