namespace Anneal.Web.Runs;

/// <summary>
/// Min/max decimation for drawing: the x range is cut into buckets of equal width (one per pair of output
/// points) and each bucket keeps its lowest and highest point, in step order. A chart of the result draws
/// the same envelope as the full curve at a pixel per bucket: spikes and the minimum survive, which
/// averaging would hide.
/// </summary>
public static class Downsample
{
    /// <summary>
    /// At most <paramref name="maxPoints"/> (x, y) points keeping every bucket's extremes; the input itself
    /// when it is small enough. Non-finite y values are skipped unless a bucket has nothing else (then its first one is kept).
    /// </summary>
    public static (long[] X, double[] Y) MinMax(long[] x, double[] y, int maxPoints)
    {
        int n = x.Length;
        if (n <= maxPoints || maxPoints < 4) return (x, y);
        int buckets = maxPoints / 2;
        double x0 = x[0], span = (double)x[n - 1] - x0 + 1;
        var ox = new List<long>(maxPoints);
        var oy = new List<double>(maxPoints);
        int i = 0;
        for (int b = 0; b < buckets && i < n; b++)
        {
            double end = x0 + span * (b + 1) / buckets;
            int lo = -1, hi = -1, nonFinite = -1;
            for (; i < n && (x[i] < end || b == buckets - 1); i++)
            {
                double v = y[i];
                if (!double.IsFinite(v)) { if (nonFinite < 0) nonFinite = i; continue; }
                if (lo < 0 || v < y[lo]) lo = i;
                if (hi < 0 || v > y[hi]) hi = i;
            }
            // A bucket with finite points keeps its extremes in step order; one with none keeps its first point.
            if (lo < 0) { if (nonFinite >= 0) { ox.Add(x[nonFinite]); oy.Add(y[nonFinite]); } continue; }
            int first = Math.Min(lo, hi), second = Math.Max(lo, hi);
            ox.Add(x[first]); oy.Add(y[first]);
            if (second != first) { ox.Add(x[second]); oy.Add(y[second]); }
        }
        return (ox.ToArray(), oy.ToArray());
    }
}
