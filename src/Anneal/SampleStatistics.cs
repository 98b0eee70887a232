namespace Anneal;

/// <summary>Order statistics of samples (bootstrap draws, per-run errors), one definition for the library and the CLI.</summary>
public static class SampleStatistics
{
    /// <summary>The q-quantile of ascending <paramref name="sorted"/>, interpolating linearly between order statistics.</summary>
    public static double Quantile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int i = (int)Math.Floor(pos);
        if (i >= sorted.Length - 1) return sorted[^1];
        double f = pos - i;
        return sorted[i] + f * (sorted[i + 1] - sorted[i]);
    }

    /// <summary>Median of the finite values (the mean of the middle two for an even count); NaN when there are none.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).Order().ToArray();
        return v.Length == 0 ? double.NaN : Quantile(v, 0.5);
    }
}
