namespace Anneal.Laws;

/// <summary>
/// The band arithmetic of every law prediction, shared by <see cref="FittedLaw.Predict(LawRun, double)"/>
/// and schedule design so that both draw the same band.
/// </summary>
public static class PredictionBand
{
    /// <summary>
    /// Whether the delta-method term enters. It linearises around an optimum of the objective; an
    /// early-stopped fit (the reference procedure) is not at one, and its variability is that of the
    /// stopped path, which the leave-one-run-out refits and the cross-validated error measure
    /// directly, so the term is left out whenever refits exist.
    /// </summary>
    public static bool UsesDeltaMethod(Anneal.Fitting.FitMethod method, int replicates) =>
        method != Anneal.Fitting.FitMethod.EarlyStoppedAdamW || replicates == 0;

    /// <summary>Jackknife variance <c>(R-1)/R * sum (x_i - mean)^2</c> of the refits' values; 0 with fewer than two.</summary>
    public static double JackknifeVariance(ReadOnlySpan<double> x)
    {
        int r = x.Length;
        if (r < 2) return 0;
        double mean = 0;
        foreach (var v in x) mean += v;
        mean /= r;
        double ss = 0;
        foreach (var v in x) ss += (v - mean) * (v - mean);
        return double.IsFinite(ss) ? (r - 1.0) / r * ss : double.PositiveInfinity;
    }

    /// <summary>
    /// The band of a loss <paramref name="loss"/> with variance <paramref name="variance"/>: in log
    /// space, where the fit measures its residuals, <c>L * exp(+-z sd/L)</c>. The same as
    /// <c>L +- z sd</c> to first order, and a loss band never crosses zero.
    /// </summary>
    public static (double Low, double High) Interval(double loss, double variance, double z)
    {
        double rel = loss > 0 ? Math.Sqrt(Math.Max(0, variance)) / loss : double.PositiveInfinity;
        return (loss * Math.Exp(-z * rel), loss * Math.Exp(z * rel));
    }
}
