using System.Globalization;
using System.Text;

namespace Anneal.Plotting;

/// <summary>Rendering: axes and ticks, colours, lines, markers, bands and the legend, written as SVG text.</summary>
public sealed partial class SvgPlot
{
    private sealed class Axis(bool log, double lo, double hi, double pixLo, double pixHi)
    {
        public readonly bool Log = log;
        public readonly double Lo = lo, Hi = hi;
        private readonly double _tlo = log ? Math.Log10(lo) : lo, _thi = log ? Math.Log10(hi) : hi;
        public double[] Ticks = [];
        public double[] Minor = [];

        public bool Valid(double v) => double.IsFinite(v) && (!Log || v > 0);

        public double Map(double v)
        {
            double t = Log ? Math.Log10(v) : v;
            return pixLo + (t - _tlo) / (_thi - _tlo) * (pixHi - pixLo);
        }
    }

    /// <summary>The SVG document (UTF-8 text, no external references).</summary>
    public string Render(int width = 900, int height = 540)
    {
        if (width < 200 || height < 150) throw new ArgumentOutOfRangeException(nameof(width), "plot must be at least 200 x 150 pixels");
        var colors = AssignColors();
        bool hasSecond = _series.Any(s => s.Second);
        double left = 72, right = width - (hasSecond ? 76 : 24), top = Title is null ? 20 : 44, bottom = height - (XLabel is null ? 40 : 58);
        if (LegendOutside && _series.Count > 0) right -= LegendWidth() + 16;

        var x = MakeAxis(LogX, _series, s => s.X, XMin, XMax, left, right, "x", tight: true);
        var y = MakeAxis(LogY, _series.Where(s => !s.Second), s => s.Y, YMin, YMax, bottom, top, "y", tight: false);
        var y2 = hasSecond ? MakeAxis(LogY2, _series.Where(s => s.Second), s => s.Y, null, null, bottom, top, "y2", tight: false) : null;

        var sb = new StringBuilder(64 * 1024);
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n");
        if (Title is not null) sb.Append("<title>").Append(Esc(Title)).Append("</title>\n");
        sb.Append($"<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\n");
        sb.Append($"<defs><clipPath id=\"anneal-plot-area\"><rect x=\"{FormatPixel(left)}\" y=\"{FormatPixel(top)}\" width=\"{FormatPixel(right - left)}\" height=\"{FormatPixel(bottom - top)}\"/></clipPath></defs>\n");

        // Grid and ticks.
        sb.Append("<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n");
        foreach (var t in x.Ticks) sb.Append($"<line x1=\"{FormatPixel(x.Map(t))}\" y1=\"{FormatPixel(top)}\" x2=\"{FormatPixel(x.Map(t))}\" y2=\"{FormatPixel(bottom)}\"/>\n");
        foreach (var t in y.Ticks) sb.Append($"<line x1=\"{FormatPixel(left)}\" y1=\"{FormatPixel(y.Map(t))}\" x2=\"{FormatPixel(right)}\" y2=\"{FormatPixel(y.Map(t))}\"/>\n");
        sb.Append("</g>\n");
        sb.Append("<g class=\"minor-ticks\" stroke=\"#555555\" stroke-width=\"0.8\">\n");
        foreach (var t in x.Minor) sb.Append($"<line x1=\"{FormatPixel(x.Map(t))}\" y1=\"{FormatPixel(bottom)}\" x2=\"{FormatPixel(x.Map(t))}\" y2=\"{FormatPixel(bottom + 3)}\"/>\n");
        foreach (var t in y.Minor) sb.Append($"<line x1=\"{FormatPixel(left - 3)}\" y1=\"{FormatPixel(y.Map(t))}\" x2=\"{FormatPixel(left)}\" y2=\"{FormatPixel(y.Map(t))}\"/>\n");
        if (y2 is not null) foreach (var t in y2.Minor) sb.Append($"<line x1=\"{FormatPixel(right)}\" y1=\"{FormatPixel(y2.Map(t))}\" x2=\"{FormatPixel(right + 3)}\" y2=\"{FormatPixel(y2.Map(t))}\"/>\n");
        sb.Append("</g>\n");

        sb.Append("<g class=\"x-ticks\" text-anchor=\"middle\" fill=\"#222222\">\n");
        foreach (var t in x.Ticks)
            sb.Append($"<line x1=\"{FormatPixel(x.Map(t))}\" y1=\"{FormatPixel(bottom)}\" x2=\"{FormatPixel(x.Map(t))}\" y2=\"{FormatPixel(bottom + 5)}\" stroke=\"#333333\"/><text x=\"{FormatPixel(x.Map(t))}\" y=\"{FormatPixel(bottom + 18)}\">{Esc(AxisTicks.Format(t))}</text>\n");
        sb.Append("</g>\n<g class=\"y-ticks\" text-anchor=\"end\" fill=\"#222222\">\n");
        foreach (var t in y.Ticks)
            sb.Append($"<line x1=\"{FormatPixel(left - 5)}\" y1=\"{FormatPixel(y.Map(t))}\" x2=\"{FormatPixel(left)}\" y2=\"{FormatPixel(y.Map(t))}\" stroke=\"#333333\"/><text x=\"{FormatPixel(left - 8)}\" y=\"{FormatPixel(y.Map(t) + 4)}\">{Esc(AxisTicks.Format(t))}</text>\n");
        sb.Append("</g>\n");
        if (y2 is not null)
        {
            sb.Append("<g class=\"y2-ticks\" text-anchor=\"start\" fill=\"#222222\">\n");
            foreach (var t in y2.Ticks)
                sb.Append($"<line x1=\"{FormatPixel(right)}\" y1=\"{FormatPixel(y2.Map(t))}\" x2=\"{FormatPixel(right + 5)}\" y2=\"{FormatPixel(y2.Map(t))}\" stroke=\"#333333\"/><text x=\"{FormatPixel(right + 8)}\" y=\"{FormatPixel(y2.Map(t) + 4)}\">{Esc(AxisTicks.Format(t))}</text>\n");
            sb.Append("</g>\n");
        }

        // Data: bands under lines under markers, whatever the order they were added in.
        sb.Append("<g clip-path=\"url(#anneal-plot-area)\">\n");
        for (int i = 0; i < _series.Count; i++)
            if (_series[i].Kind == Kind.Band) RenderBand(sb, _series[i], colors[i], x, y);
        for (int i = 0; i < _series.Count; i++)
            if (_series[i].Kind == Kind.Line) RenderLine(sb, _series[i], colors[i], x, _series[i].Second ? y2! : y);
        for (int i = 0; i < _series.Count; i++)
            if (_series[i].Kind == Kind.Markers) RenderMarkers(sb, _series[i], colors[i], x, _series[i].Second ? y2! : y);
        sb.Append("</g>\n");
        if (_series.Count == 0)
            sb.Append($"<text x=\"{FormatPixel((left + right) / 2)}\" y=\"{FormatPixel((top + bottom) / 2)}\" text-anchor=\"middle\" fill=\"#888888\">no data</text>\n");

        // Frame, labels, title, legend.
        sb.Append($"<rect class=\"frame\" x=\"{FormatPixel(left)}\" y=\"{FormatPixel(top)}\" width=\"{FormatPixel(right - left)}\" height=\"{FormatPixel(bottom - top)}\" fill=\"none\" stroke=\"#333333\"/>\n");
        if (XLabel is not null)
            sb.Append($"<text class=\"x-label\" x=\"{FormatPixel((left + right) / 2)}\" y=\"{FormatPixel(height - 14)}\" text-anchor=\"middle\" font-size=\"13\">{Esc(XLabel)}</text>\n");
        if (YLabel is not null)
            sb.Append($"<text class=\"y-label\" transform=\"translate(18 {FormatPixel((top + bottom) / 2)}) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">{Esc(YLabel)}</text>\n");
        if (y2 is not null && Y2Label is not null)
            sb.Append($"<text class=\"y2-label\" transform=\"translate({FormatPixel(width - 16)} {FormatPixel((top + bottom) / 2)}) rotate(90)\" text-anchor=\"middle\" font-size=\"13\">{Esc(Y2Label)}</text>\n");
        if (Title is not null)
            sb.Append($"<text class=\"title\" x=\"{FormatPixel(width / 2.0)}\" y=\"26\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Esc(Title)}</text>\n");
        RenderLegend(sb, colors, left, right, top, bottom, x, y, y2);
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private string[] AssignColors()
    {
        var colors = new string?[_series.Count];
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        int next = 0;
        string Fresh() => Palette[next++ % Palette.Count];
        for (int i = 0; i < _series.Count; i++)
        {
            var s = _series[i];
            if (s.Kind == Kind.Band) continue;
            colors[i] = s.Color ?? (byName.TryGetValue(s.Name, out var c) ? c : Fresh());
            byName.TryAdd(s.Name, colors[i]!);
        }
        for (int i = 0; i < _series.Count; i++)
        {
            if (_series[i].Kind != Kind.Band) continue;
            string? c = _series[i].Color;
            for (int j = i + 1; c is null && j < _series.Count; j++) if (_series[j].Kind != Kind.Band) c = colors[j];
            colors[i] = c ?? Fresh();
        }
        return colors!;
    }

    private static Axis MakeAxis(bool log, IEnumerable<Series> series, Func<Series, double[]> values, double? fixLo, double? fixHi,
        double pixLo, double pixHi, string name, bool tight)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (var s in series)
        {
            foreach (var arr in name == "x" ? [s.X] : s.High is null ? new[] { values(s) } : [s.Y, s.High])
                foreach (var v in arr)
                    if (double.IsFinite(v) && (!log || v > 0)) { if (v < lo) lo = v; if (v > hi) hi = v; }
        }
        if (fixLo is { } a && (!log || a > 0)) lo = a;
        if (fixHi is { } b && (!log || b > 0)) hi = b;
        if (!double.IsFinite(lo) || !double.IsFinite(hi)) { lo = log ? 1 : 0; hi = log ? 10 : 1; }
        if (hi < lo) (lo, hi) = (hi, lo);
        if (log)
        {
            if (hi / lo < 1.0001) { lo /= 1.5; hi *= 1.5; }
            double pad = tight && fixLo is null && fixHi is null ? 0 : 0.03 * Math.Log10(hi / lo);
            if (fixLo is null) lo /= Math.Pow(10, pad);
            if (fixHi is null) hi *= Math.Pow(10, pad);
            var (major, minor) = AxisTicks.Log(lo, hi);
            return new Axis(true, lo, hi, pixLo, pixHi) { Ticks = major, Minor = minor };
        }
        var ticks = AxisTicks.Linear(lo, hi);
        // Snap the range to the outer ticks unless the user fixed it; on value axes keep a small
        // margin so a series sitting on its extreme (a peak LR, a zero floor) is not hidden by the frame.
        double r = ticks[^1] - ticks[0];
        double l = fixLo ?? (tight || ticks[0] <= lo - 0.02 * r ? ticks[0] : lo - 0.04 * r);
        double h = fixHi ?? (tight || ticks[^1] >= hi + 0.02 * r ? ticks[^1] : hi + 0.04 * r);
        if (h <= l) h = l + 1;
        var inside = ticks.Where(t => t >= l - 1e-9 * (h - l) && t <= h + 1e-9 * (h - l)).ToArray();
        return new Axis(false, l, h, pixLo, pixHi) { Ticks = inside };
    }

    private void RenderLine(StringBuilder sb, Series s, string color, Axis x, Axis y)
    {
        var dash = s.Second ? " stroke-dasharray=\"6 3\"" : "";
        sb.Append($"<g class=\"series-line\" fill=\"none\" stroke=\"{Esc(color)}\" stroke-width=\"1.8\" stroke-linejoin=\"round\"{dash}>\n");
        foreach (var (from, to) in Segments(s.X, s.Y, x, y))
        {
            if (to - from < 2) continue;
            sb.Append("<polyline points=\"");
            bool first = true;
            foreach (int i in Thin(s.Y, from, to, MaxLinePoints))
            {
                if (!first) sb.Append(' ');
                first = false;
                sb.Append(FormatPixel(x.Map(s.X[i]))).Append(',').Append(FormatPixel(y.Map(s.Y[i])));
            }
            sb.Append("\"/>\n");
        }
        sb.Append("</g>\n");
    }

    private void RenderMarkers(StringBuilder sb, Series s, string color, Axis x, Axis y)
    {
        sb.Append($"<g class=\"series-markers\" fill=\"{Esc(color)}\" fill-opacity=\"0.85\">\n");
        int total = 0;
        foreach (var (from, to) in Segments(s.X, s.Y, x, y)) total += to - from;
        int budget = Math.Max(2, MaxMarkers);
        foreach (var (from, to) in Segments(s.X, s.Y, x, y))
        {
            int share = total <= budget ? to - from : Math.Max(2, (int)((long)budget * (to - from) / total));
            foreach (int i in Thin(s.Y, from, to, share))
                sb.Append($"<circle cx=\"{FormatPixel(x.Map(s.X[i]))}\" cy=\"{FormatPixel(y.Map(s.Y[i]))}\" r=\"2.6\"/>\n");
        }
        sb.Append("</g>\n");
    }

    private static void RenderBand(StringBuilder sb, Series s, string color, Axis x, Axis y)
    {
        sb.Append($"<g class=\"series-band\" fill=\"{Esc(color)}\" fill-opacity=\"0.2\" stroke=\"none\">\n");
        var hi = s.High!;
        int n = s.X.Length, start = -1;
        for (int i = 0; i <= n; i++)
        {
            bool ok = i < n && x.Valid(s.X[i]) && y.Valid(s.Y[i]) && y.Valid(hi[i]);
            if (ok && start < 0) start = i;
            if (!ok && start >= 0)
            {
                if (i - start >= 2)
                {
                    // Thin the band by buckets, keeping its outer envelope (min of low, max of high).
                    int buckets = Math.Min(i - start, 1000);
                    var px = new List<double>(buckets);
                    var lo = new List<double>(buckets);
                    var up = new List<double>(buckets);
                    for (int b = 0; b < buckets; b++)
                    {
                        int a = start + (int)((long)(i - start) * b / buckets), e = start + (int)((long)(i - start) * (b + 1) / buckets);
                        double mn = double.PositiveInfinity, mx = double.NegativeInfinity;
                        for (int k = a; k < e; k++) { mn = Math.Min(mn, s.Y[k]); mx = Math.Max(mx, hi[k]); }
                        px.Add(x.Map(s.X[b == buckets - 1 ? e - 1 : a]));
                        lo.Add(y.Map(mn));
                        up.Add(y.Map(mx));
                    }
                    sb.Append("<path d=\"M");
                    for (int k = 0; k < px.Count; k++) sb.Append(k == 0 ? "" : " L").Append(FormatPixel(px[k])).Append(',').Append(FormatPixel(up[k]));
                    for (int k = px.Count - 1; k >= 0; k--) sb.Append(" L").Append(FormatPixel(px[k])).Append(',').Append(FormatPixel(lo[k]));
                    sb.Append(" Z\"/>\n");
                }
                start = -1;
            }
        }
        sb.Append("</g>\n");
    }

    private double LegendWidth() => _series.Select(s => s.Second ? s.Name + " (right axis)" : s.Name).Max(l => l.Length) * 7.2 + 44;

    private void RenderLegend(StringBuilder sb, string[] colors, double left, double right, double top, double bottom, Axis x, Axis y, Axis? y2)
    {
        if (_series.Count == 0) return;
        var labels = _series.Select(s => s.Second ? s.Name + " (right axis)" : s.Name).ToArray();
        double w = LegendWidth(), rowH = 18, h = rowH * labels.Length + 8;
        // The corner that covers the fewest data points, preferring top-right, top-left, bottom-right, bottom-left.
        (double X, double Y)[] corners = [(right - w - 8, top + 8), (left + 8, top + 8), (right - w - 8, bottom - h - 8), (left + 8, bottom - h - 8)];
        var hits = new int[corners.Length];
        foreach (var s in _series)
        {
            var ya = s.Second ? y2! : y;
            int stride = Math.Max(1, s.X.Length / 4000);
            for (int i = 0; i < s.X.Length; i += stride)
            {
                if (!x.Valid(s.X[i])) continue;
                double px = x.Map(s.X[i]);
                foreach (var v in s.High is null ? [s.Y[i]] : new[] { s.Y[i], s.High[i] })
                {
                    if (!ya.Valid(v)) continue;
                    double py = ya.Map(v);
                    for (int c = 0; c < corners.Length; c++)
                        if (px >= corners[c].X - 4 && px <= corners[c].X + w + 4 && py >= corners[c].Y - 4 && py <= corners[c].Y + h + 4) hits[c]++;
                }
            }
        }
        int best = 0;
        for (int c = 1; c < corners.Length; c++) if (hits[c] < hits[best]) best = c;
        var (x0, y0) = LegendOutside ? (right + (y2 is null ? 12 : 60), top) : corners[best];
        sb.Append($"<g class=\"legend\">\n<rect x=\"{FormatPixel(x0)}\" y=\"{FormatPixel(y0)}\" width=\"{FormatPixel(w)}\" height=\"{FormatPixel(h)}\" fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#bbbbbb\"/>\n");
        for (int i = 0; i < _series.Count; i++)
        {
            var s = _series[i];
            double cy = y0 + 4 + rowH * i + rowH / 2, sx = x0 + 8;
            var c = Esc(colors[i]);
            sb.Append("<g class=\"legend-entry\">");
            switch (s.Kind)
            {
                case Kind.Line:
                    sb.Append($"<line x1=\"{FormatPixel(sx)}\" y1=\"{FormatPixel(cy)}\" x2=\"{FormatPixel(sx + 24)}\" y2=\"{FormatPixel(cy)}\" stroke=\"{c}\" stroke-width=\"2\"{(s.Second ? " stroke-dasharray=\"6 3\"" : "")}/>");
                    break;
                case Kind.Markers:
                    sb.Append($"<circle cx=\"{FormatPixel(sx + 12)}\" cy=\"{FormatPixel(cy)}\" r=\"3\" fill=\"{c}\"/>");
                    break;
                default:
                    sb.Append($"<rect x=\"{FormatPixel(sx)}\" y=\"{FormatPixel(cy - 5)}\" width=\"24\" height=\"10\" fill=\"{c}\" fill-opacity=\"0.25\"/>");
                    break;
            }
            sb.Append($"<text x=\"{FormatPixel(sx + 32)}\" y=\"{FormatPixel(cy + 4)}\">{Esc(labels[i])}</text></g>\n");
        }
        sb.Append("</g>\n");
    }

    /// <summary>Index ranges [from, to) of consecutive points drawable on both axes.</summary>
    private static IEnumerable<(int From, int To)> Segments(double[] xs, double[] ys, Axis x, Axis y)
    {
        int start = -1;
        for (int i = 0; i <= xs.Length; i++)
        {
            bool ok = i < xs.Length && x.Valid(xs[i]) && y.Valid(ys[i]);
            if (ok && start < 0) start = i;
            else if (!ok && start >= 0) { yield return (start, i); start = -1; }
        }
    }

    /// <summary>
    /// Indices to draw from [from, to): all of them when at most <paramref name="max"/>, else the
    /// first, the last and each bucket's min and max in index order (about max points in all).
    /// </summary>
    internal static IEnumerable<int> Thin(double[] y, int from, int to, int max)
    {
        int n = to - from;
        if (n <= max || max < 4)
        {
            for (int i = from; i < to; i++) yield return i;
            yield break;
        }
        int buckets = (max - 2) / 2;
        yield return from;
        for (int b = 0; b < buckets; b++)
        {
            int a = from + 1 + (int)((long)(n - 2) * b / buckets), e = from + 1 + (int)((long)(n - 2) * (b + 1) / buckets);
            if (e <= a) continue;
            int iMin = a, iMax = a;
            for (int k = a + 1; k < e; k++) { if (y[k] < y[iMin]) iMin = k; if (y[k] > y[iMax]) iMax = k; }
            if (iMin == iMax) yield return iMin;
            else { yield return Math.Min(iMin, iMax); yield return Math.Max(iMin, iMax); }
        }
        yield return to - 1;
    }

    private static string FormatPixel(double v) => Math.Round(v, 1).ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>Escapes text for XML content and attribute values.</summary>
    public static string Esc(string s)
    {
        bool clean = true;
        foreach (var c in s) if (c is '&' or '<' or '>' or '"' or '\'' || (c < ' ' && c != '\t')) { clean = false; break; }
        if (clean) return s;
        var sb = new StringBuilder(s.Length + 16);
        foreach (var c in s)
        {
            // Control characters are not allowed in XML 1.0 at all: show them as spaces.
            if (c < ' ') { sb.Append(' '); continue; }
            sb.Append(c switch { '&' => "&amp;", '<' => "&lt;", '>' => "&gt;", '"' => "&quot;", '\'' => "&apos;", _ => c.ToString() });
        }
        return sb.ToString();
    }
}
