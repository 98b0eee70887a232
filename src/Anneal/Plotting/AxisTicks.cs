using System.Globalization;

namespace Anneal.Plotting;

/// <summary>
/// "Nice" axis ticks: steps of 1, 2 or 5 times a power of ten (Heckbert, "Nice numbers for graph
/// labels", Graphics Gems, 1990), and decade ticks for log axes.
/// </summary>
public static class AxisTicks
{
    /// <summary>
    /// The nice step nearest above <paramref name="raw"/>: the smallest of 1, 2, 5, 10 times
    /// 10^floor(log10 raw) that is at least raw. Returned as (mantissa, exponent) so tick values can
    /// be built exactly as <c>k * mantissa * 10^exponent</c>.
    /// </summary>
    public static (int Mantissa, int Exponent) NiceStep(double raw)
    {
        if (!(raw > 0) || !double.IsFinite(raw)) throw new ArgumentOutOfRangeException(nameof(raw), "step must be positive and finite");
        int e = (int)Math.Floor(Math.Log10(raw));
        double f = raw / Pow10(e);
        // Tolerance: log10 of an exact power of ten can land a hair off, giving f = 9.999999 or 1.0000001.
        if (f <= 1 + 1e-9) return (1, e);
        if (f <= 2 + 1e-9) return (2, e);
        if (f <= 5 + 1e-9) return (5, e);
        return (1, e + 1);
    }

    /// <summary>
    /// Ticks covering [min, max] with about <paramref name="target"/> ticks: the first is the
    /// largest step multiple &lt;= min, the last the smallest &gt;= max. E.g. [0, 0.97] gives
    /// 0, 0.2, 0.4, 0.6, 0.8, 1.0. A degenerate range is widened around its value.
    /// </summary>
    public static double[] Linear(double min, double max, int target = 6)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max)) throw new ArgumentException("axis range must be finite");
        if (max < min) (min, max) = (max, min);
        if (max == min)
        {
            double pad = min == 0 ? 1 : Math.Abs(min) * 0.05;
            min -= pad;
            max += pad;
        }
        var (m, e) = NiceStep((max - min) / Math.Max(1, target - 1));
        double step = m * Pow10(e);
        long first = (long)Math.Floor(min / step + 1e-9);
        long last = (long)Math.Ceiling(max / step - 1e-9);
        var ticks = new double[last - first + 1];
        for (long k = first; k <= last; k++) ticks[k - first] = Exact(k * m, e);
        return ticks;
    }

    /// <summary>The spacing of <see cref="Linear"/>'s ticks.</summary>
    public static double StepOf(double[] ticks) => ticks.Length > 1 ? ticks[1] - ticks[0] : 1;

    /// <summary>
    /// Log-axis ticks for positive [min, max]: <c>Major</c> are the powers of ten inside the range,
    /// <c>Minor</c> the 2..9 multiples between them (empty beyond 8 decades, where they would blur).
    /// When the range holds fewer than two powers of ten, decades say too little: Major then holds
    /// the 1, 2 and 5 multiples of powers of ten when the range spans at least a decade, else
    /// nice linear ticks (all still placed on the log scale).
    /// </summary>
    public static (double[] Major, double[] Minor) Log(double min, double max)
    {
        if (!(min > 0) || !(max > 0)) throw new ArgumentOutOfRangeException(nameof(min), "a log axis needs a positive range");
        if (max < min) (min, max) = (max, min);
        int lo = (int)Math.Ceiling(Math.Log10(min) - 1e-9), hi = (int)Math.Floor(Math.Log10(max) + 1e-9);
        var major = new List<double>();
        for (int k = lo; k <= hi; k++) major.Add(Pow10(k));
        var minor = new List<double>();
        if (hi - lo <= 8)
        {
            for (int d = lo - 1; d <= hi; d++)
                for (int m = 2; m <= 9; m++)
                {
                    double v = Exact(m, d);
                    if (v >= min * (1 - 1e-12) && v <= max * (1 + 1e-12)) minor.Add(v);
                }
        }
        if (major.Count >= 2) return (major.ToArray(), minor.ToArray());
        bool Inside(double v) => v >= min * (1 - 1e-12) && v <= max * (1 + 1e-12);
        if (max / min >= 10)
        {
            // One to two decades: label 1, 2 and 5 times the powers of ten; the rest stay minor.
            var labelled = new List<double>();
            for (int d = lo - 1; d <= hi; d++)
                foreach (int m in (int[])[1, 2, 5])
                    if (Exact(m, d) is var v && Inside(v)) labelled.Add(v);
            if (labelled.Count >= 2) return (labelled.ToArray(), minor.Where(v => !labelled.Contains(v)).ToArray());
        }
        // Under a decade: nice linear ticks inside the range, on the log scale.
        var lin = Linear(min, max).Where(v => v > 0 && Inside(v)).ToArray();
        if (lin.Length < 2) lin = [.. major.Concat(minor).Order()];
        return (lin, []);
    }

    /// <summary>
    /// A short label: plain decimals for everyday magnitudes, compact scientific (<c>3e-4</c>,
    /// <c>2.5e-5</c>, <c>1e7</c>) below 1e-3 or from 1e6 up.
    /// </summary>
    public static string Format(double v)
    {
        if (v == 0) return "0";
        double a = Math.Abs(v);
        if (a < 1e-3 || a >= 1e6)
        {
            int e = (int)Math.Floor(Math.Log10(a) + 1e-12);
            double mant = Math.Round(v / Pow10(e), 6);
            if (Math.Abs(mant) >= 10) { mant /= 10; e++; }
            return mant.ToString("0.#####", CultureInfo.InvariantCulture) + "e" + e.ToString(CultureInfo.InvariantCulture);
        }
        return Math.Round(v, 10).ToString("0.##########", CultureInfo.InvariantCulture);
    }

    internal static double Pow10(int e) => e >= 0 ? Math.Pow(10, e) : 1 / Math.Pow(10, -e);

    // k * 10^e rounded once: dividing by an exact power of ten gives the double nearest the
    // decimal value (0.6, not 3 * 0.2 = 0.6000000000000001).
    internal static double Exact(long k, int e) => e >= 0 ? k * Math.Pow(10, e) : k / Math.Pow(10, -e);
}
