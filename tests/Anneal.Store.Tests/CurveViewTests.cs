namespace Anneal.Store.Tests;

/// <summary>
/// Curve points and their downsampled views. The reference for every view is computed here from the raw points
/// alone (brute force over the same step intervals), so the incrementally merged views the store keeps are checked
/// against an independent computation.
/// </summary>
public sealed class CurveViewTests
{
    /// <summary>A noisy decaying curve with spikes, at steps with gaps (every 1-3 steps).</summary>
    private static (long[] Steps, double[] Values) Curve(int n, int seed)
    {
        var rng = new Random(seed);
        var steps = new long[n];
        var values = new double[n];
        long s = rng.Next(0, 5);
        for (int i = 0; i < n; i++)
        {
            steps[i] = s;
            values[i] = 2 + 3 / Math.Sqrt(1 + s / 100.0) + 0.05 * (rng.NextDouble() - 0.5) + (rng.NextDouble() < 0.001 ? 4 : 0);
            s += 1 + rng.Next(3);
        }
        return (steps, values);
    }

    /// <summary>
    /// The view the store promises, from raw points: the range's steps cut into buckets of the level's width, each
    /// bucket given to the interval (of <c>maxPoints/2</c> equal ones) holding its first point, and each interval's
    /// minimum and maximum (earliest step on ties) in step order.
    /// </summary>
    private static (long[] Steps, double[] Values) Reference(long[] steps, double[] values, long lo, long hi, int maxPoints, long bucketWidth)
    {
        int intervals = maxPoints / 2;
        double width = Math.Max(1.0, (hi - lo + 1) / (double)intervals);
        var idx = Enumerable.Range(0, steps.Length).Where(i => steps[i] / bucketWidth >= lo / bucketWidth && steps[i] / bucketWidth <= hi / bucketWidth).ToArray();
        var byBucket = idx.GroupBy(i => steps[i] / bucketWidth).OrderBy(g => g.Key);
        var byInterval = byBucket.GroupBy(g => (int)Math.Clamp(Math.Floor((steps[g.Min()] - lo) / width), 0, intervals - 1));
        var outSteps = new List<long>();
        var outValues = new List<double>();
        foreach (var interval in byInterval)
        {
            var members = interval.SelectMany(g => g).OrderBy(i => steps[i]).ToArray();
            int min = members.OrderBy(i => values[i]).ThenBy(i => steps[i]).First();
            int max = members.OrderByDescending(i => values[i]).ThenBy(i => steps[i]).First();
            foreach (var i in new[] { min, max }.Distinct().OrderBy(i => steps[i])) { outSteps.Add(steps[i]); outValues.Add(values[i]); }
        }
        return (outSteps.ToArray(), outValues.ToArray());
    }

    private static void Append(RunStore store, long run, long[] steps, double[] values, int batch)
    {
        for (int start = 0; start < steps.Length; start += batch)
            store.AppendPoints(run, Enumerable.Range(start, Math.Min(batch, steps.Length - start)).Select(i => new MetricPoint(Metrics.Loss, steps[i], values[i])));
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Raw_points_read_back_bit_for_bit_and_small_curves_are_served_whole(string kind)
    {
        using var t = Backends.Create(kind);
        var (steps, values) = Curve(1500, 1);
        // -0.0 is not kept apart from 0.0 (SQLite stores whole REALs as integers); every other double is
        values[3] = double.Epsilon; values[4] = -1e-300; values[5] = 1e300; values[6] = double.PositiveInfinity; values[7] = double.NegativeInfinity;
        long run = t.Store.AddRun(new NewRun { Name = "r" });
        Append(t.Store, run, steps, values, 333);
        var (s, v) = t.Store.GetPoints(run, Metrics.Loss)!.Value;
        s.ShouldBe(steps);
        int differs = Enumerable.Range(0, values.Length).FirstOrDefault(i => BitConverter.DoubleToInt64Bits(v[i]) != BitConverter.DoubleToInt64Bits(values[i]), -1);
        differs.ShouldBe(-1, differs < 0 ? "" : $"point {differs}: stored {v[differs]:R}, read {values[differs]:R}");
        var view = t.Store.GetCurve(run, Metrics.Loss, 2000)!;
        view.Downsampled.ShouldBeFalse();
        view.Steps.ShouldBe(steps);
        view.RawPoints.ShouldBe(1500);
        t.Store.GetCurve(run, "nosuch").ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void A_downsampled_view_is_the_min_and_max_per_interval_of_the_raw_points(string kind)
    {
        using var t = Backends.Create(kind);
        var (steps, values) = Curve(60000, 2);
        long run = t.Store.AddRun(new NewRun { Name = "r" });
        // appended as a trainer would, in uneven batches (each merges into the stored views)
        Append(t.Store, run, steps, values, 1777);
        foreach (int maxPoints in new[] { 2000, 500, 64 })
        {
            var view = t.Store.GetCurve(run, Metrics.Loss, maxPoints)!;
            view.Downsampled.ShouldBeTrue();
            view.RawPoints.ShouldBe(60000);
            view.Steps.Length.ShouldBeLessThanOrEqualTo(maxPoints);
            int level = Downsampling.LevelFor(steps[^1] - steps[0] + 1, maxPoints / 2);
            var (rs, rv) = Reference(steps, values, steps[0], steps[^1], maxPoints, Downsampling.Width(level));
            view.Steps.ShouldBe(rs, $"maxPoints {maxPoints}");
            view.Values.ShouldBe(rv);
            // the envelope keeps the extremes, spikes included
            view.Values.Max().ShouldBe(values.Max());
            view.Values.Min().ShouldBe(values.Min());
        }
        // a zoomed view: the reference over the range, and raw points once the range is narrow enough
        var zoom = t.Store.GetCurve(run, Metrics.Loss, 200, 40000, 90000)!;
        int zl = Downsampling.LevelFor(90000 - 40000 + 1, 100);
        var (zs, zv) = Reference(steps, values, 40000, 90000, 200, Downsampling.Width(zl));
        zoom.Steps.ShouldBe(zs);
        zoom.Values.ShouldBe(zv);
        var narrow = t.Store.GetCurve(run, Metrics.Loss, 200, 5000, 5200)!;
        narrow.Downsampled.ShouldBeFalse();
        narrow.Steps.ShouldBe(steps.Where(s => s is >= 5000 and <= 5200));
        t.Store.GetCurve(run, Metrics.Loss, 200, 10, 5)!.Steps.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Replacing_and_inserting_points_rebuilds_the_views_as_if_written_once(string kind)
    {
        using var t = Backends.Create(kind);
        var (steps, values) = Curve(20000, 3);
        long a = t.Store.AddRun(new NewRun { Name = "incremental" });
        // the second half first, then the first half (inserted before the end), then a block rewritten
        int half = steps.Length / 2;
        Append(t.Store, a, steps[half..], values[half..], 5000);
        Append(t.Store, a, steps[..half], values[..half], 3000);
        var rewritten = values.ToArray();
        for (int i = 7000; i < 7100; i++) rewritten[i] = 100 + i;
        t.Store.AppendPoints(a, Enumerable.Range(7000, 100).Select(i => new MetricPoint(Metrics.Loss, steps[i], rewritten[i])));
        long b = t.Store.AddRun(new NewRun { Name = "at once" });
        Append(t.Store, b, steps, rewritten, steps.Length);
        foreach (int maxPoints in new[] { 1000, 100 })
        {
            var va = t.Store.GetCurve(a, Metrics.Loss, maxPoints)!;
            var vb = t.Store.GetCurve(b, Metrics.Loss, maxPoints)!;
            va.Steps.ShouldBe(vb.Steps);
            va.Values.ShouldBe(vb.Values);
            va.Values.Max().ShouldBe(100 + 7099);
        }
        var ma = t.Store.GetRun(a)!.Metrics.Single();
        ma.ShouldBe(t.Store.GetRun(b)!.Metrics.Single());
        ma.Points.ShouldBe(steps.Length);
    }
}
