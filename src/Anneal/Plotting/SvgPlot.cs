using System.Text;
using Anneal.IO;

namespace Anneal.Plotting;

/// <summary>
/// A small dependency-free SVG line chart: lines (predictions), markers (observations), shaded
/// bands (uncertainty), a legend, titled axes with 1-2-5 ticks or log decades, and an optional
/// second y-axis on the right. NaN (and non-positive values on a log axis) break lines into
/// segments. Lines longer than <see cref="MaxLinePoints"/> are thinned by keeping each bucket's
/// minimum and maximum (so spikes survive), markers beyond <see cref="MaxMarkers"/> likewise, so
/// a 30k-step curve still makes a file of a few tens of kilobytes.
/// Colours follow the Okabe-Ito colour-blind-safe palette; series with the same name share a
/// colour, and a band without a colour takes the colour of the next line or marker series added.
/// </summary>
public sealed partial class SvgPlot
{
    /// <summary>Okabe &amp; Ito (2008), "Color Universal Design", minus yellow, which vanishes on white.</summary>
    public static IReadOnlyList<string> Palette { get; } = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"];

    private enum Kind { Line, Markers, Band }

    private sealed record Series(Kind Kind, string Name, double[] X, double[] Y, double[]? High, bool Second, string? Color);

    private readonly List<Series> _series = [];

    /// <summary>Title above the plot.</summary>
    public string? Title { get; set; }
    /// <summary>Label of the x axis.</summary>
    public string? XLabel { get; set; }
    /// <summary>Label of the left y axis.</summary>
    public string? YLabel { get; set; }
    /// <summary>Label of the right y axis (used when a series is on the second axis).</summary>
    public string? Y2Label { get; set; }
    /// <summary>Logarithmic x axis.</summary>
    public bool LogX { get; set; }
    /// <summary>Logarithmic left y axis.</summary>
    public bool LogY { get; set; }
    /// <summary>Logarithmic right y axis.</summary>
    public bool LogY2 { get; set; }
    /// <summary>Fixed axis limits; null means fit the data.</summary>
    public double? XMin { get; set; }
    /// <inheritdoc cref="XMin"/>
    public double? XMax { get; set; }
    /// <inheritdoc cref="XMin"/>
    public double? YMin { get; set; }
    /// <inheritdoc cref="XMin"/>
    public double? YMax { get; set; }
    /// <summary>
    /// Sets <see cref="YMin"/>/<see cref="YMax"/> from the series that matter (observations,
    /// predictions) and lets <paramref name="optional"/> series (uncertainty bands) widen the range
    /// by at most <paramref name="maxExtension"/> times the core span on each side, so one exploding
    /// band cannot flatten every curve into a line. The plot area clips what lies outside.
    /// </summary>
    public void FitY(IEnumerable<double[]> core, IEnumerable<double[]>? optional = null, double maxExtension = 1.0)
    {
        static (double Lo, double Hi) Range(IEnumerable<double[]> series)
        {
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            foreach (var a in series)
                foreach (var v in a)
                    if (double.IsFinite(v)) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
            return (lo, hi);
        }
        var (a, b) = Range(core);
        if (!double.IsFinite(a)) return;
        double span = b > a ? b - a : Math.Max(Math.Abs(b) * 0.01, 1e-12);
        double lo = a, hi = b;
        if (optional is not null)
        {
            var (oa, ob) = Range(optional);
            if (double.IsFinite(oa)) { lo = Math.Max(Math.Min(lo, oa), a - maxExtension * span); hi = Math.Min(Math.Max(hi, ob), b + maxExtension * span); }
        }
        double pad = 0.04 * (hi - lo);
        YMin = lo - pad;
        YMax = hi + pad;
    }

    /// <summary>Draws the legend to the right of the plot area instead of inside it, so it never hides data.</summary>
    public bool LegendOutside { get; set; }

    /// <summary>Points per line segment above which the line is thinned (min/max per bucket).</summary>
    public int MaxLinePoints { get; set; } = 2000;
    /// <summary>Markers per series above which they are thinned (min/max per bucket).</summary>
    public int MaxMarkers { get; set; } = 1000;

    /// <summary>Number of series added.</summary>
    public int SeriesCount => _series.Count;

    /// <summary>A polyline (a prediction or a schedule). Optional <paramref name="color"/> is any SVG colour.</summary>
    public void AddLine(string name, double[] x, double[] y, bool secondAxis = false, string? color = null) =>
        Add(new Series(Kind.Line, name, x, Check(name, x, y, "y"), null, secondAxis, color));

    /// <summary>Small circles (observed points).</summary>
    public void AddMarkers(string name, double[] x, double[] y, bool secondAxis = false, string? color = null) =>
        Add(new Series(Kind.Markers, name, x, Check(name, x, y, "y"), null, secondAxis, color));

    /// <summary>A shaded region between <paramref name="low"/> and <paramref name="high"/> (an uncertainty band), on the left axis.</summary>
    public void AddBand(string name, double[] x, double[] low, double[] high, string? color = null) =>
        Add(new Series(Kind.Band, name, x, Check(name, x, low, "low"), Check(name, x, high, "high"), false, color));

    private void Add(Series s) => _series.Add(s);

    private static double[] Check(string name, double[] x, double[] y, string what)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Length != y.Length) throw new ArgumentException($"series '{name}': x has {x.Length} values but {what} has {y.Length}");
        return y;
    }

    /// <summary>Writes <see cref="Render"/>'s output to <paramref name="path"/> atomically.</summary>
    public void Save(string path, int width = 900, int height = 540) => AtomicFile.WriteAllText(path, Render(width, height));
}
