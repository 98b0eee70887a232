using Microsoft.Data.Sqlite;

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

    /// <summary>
    /// The buckets of one level computed directly from the raw points: grouped by step / width, each with its count,
    /// minimum and maximum (earliest step on ties) and first and last point.
    /// </summary>
    private static List<(long Index, long N, double Min, long MinStep, double Max, long MaxStep, long FirstStep, double LastValue)> BruteBuckets(long[] steps, double[] values, long width) =>
        Enumerable.Range(0, steps.Length).GroupBy(i => steps[i] / width).OrderBy(g => g.Key).Select(g =>
        {
            var m = g.ToArray();
            int min = m.OrderBy(i => values[i]).ThenBy(i => steps[i]).First(), max = m.OrderByDescending(i => values[i]).ThenBy(i => steps[i]).First();
            return (g.Key, (long)m.Length, values[min], steps[min], values[max], steps[max], steps[m[0]], values[m[^1]]);
        }).ToList();

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void A_sparse_run_keeps_only_the_levels_that_shrink_it_and_its_views_stay_the_min_and_max_per_interval(string kind)
    {
        using var t = Backends.Create(kind);
        // logged like the gpt-tiny corpus: loss every 10 steps (9, 19, ...), validation every 100
        const int n = 3000;
        var rng = new Random(4);
        var steps = Enumerable.Range(0, n).Select(i => 10L * i + 9).ToArray();
        var values = steps.Select(s => 2 + 3 / Math.Sqrt(1 + s / 100.0) + 0.05 * (rng.NextDouble() - 0.5) + (rng.NextDouble() < 0.002 ? 3 : 0)).ToArray();
        var valSteps = steps.Where(s => s % 100 == 99).ToArray();
        var valValues = valSteps.Select(s => 2.1 + 3 / Math.Sqrt(1 + s / 100.0)).ToArray();
        var curve = new Anneal.Curves.LossCurve
        {
            Name = "sparse", Steps = steps, Loss = values,
            ValLoss = steps.Select(s => s % 100 == 99 ? 2.1 + 3 / Math.Sqrt(1 + s / 100.0) : double.NaN).ToArray(),
        };
        long once = t.Store.ImportCurve(curve);
        // the same run streamed as a trainer would, starting with batches too small to keep any level
        long streamed = t.Store.AddRun(new NewRun { Name = "streamed" });
        int start = 0;
        foreach (int size in new[] { 1, 1, 2, 3, 5, 8, 13, 40, 100 }.Concat(Enumerable.Repeat(500, 10)))
        {
            int end = Math.Min(n, start + size);
            if (start >= end) break;
            t.Store.AppendPoints(streamed, Enumerable.Range(start, end - start).SelectMany(i => steps[i] % 100 == 99
                ? new[] { new MetricPoint(Metrics.Loss, steps[i], values[i]), new MetricPoint(Metrics.ValLoss, steps[i], valValues[Array.IndexOf(valSteps, steps[i])]) }
                : [new MetricPoint(Metrics.Loss, steps[i], values[i])]));
            start = end;
        }

        // Level 0 (16 steps) would hold 1.6 loss points a bucket and level 2 (256) 2.6 validation points: not kept.
        // Level 1 (64 steps, 6.4 points) and level 3 (1024, 10 points) and up are, with exactly the brute-force buckets.
        foreach (var (metric, s, v, lowest) in new[] { (Metrics.Loss, steps, values, 1), (Metrics.ValLoss, valSteps, valValues, 3) })
        {
            var stored = t.Store.BucketRows(once, metric);
            stored.Select(b => b.Level).Distinct().ShouldBe(Enumerable.Range(lowest, Downsampling.Levels - lowest), metric);
            for (int level = lowest; level < Downsampling.Levels; level++)
            {
                var expected = BruteBuckets(s, v, Downsampling.Width(level));
                var got = stored.Where(b => b.Level == level).Select(b => (b.Index, b.Agg.N, b.Agg.Min, b.Agg.MinStep, b.Agg.Max, b.Agg.MaxStep, b.Agg.FirstStep, b.Agg.LastValue)).ToList();
                got.ShouldBe(expected, $"{metric} level {level}");
                expected.Count.ShouldBeLessThanOrEqualTo(s.Length / 4);
            }
            // streaming built the same views as the import, through the levels it added as the run grew
            t.Store.BucketRows(streamed, metric).ShouldBe(stored, metric);
        }
        // the disk use this is about: bucket rows per loss point, down from ~1 (levels 0-9 of this run: 3,000 points,
        // 1,876 + 469 + 118 + 30 + 8 + 2 + 4x1 buckets)
        t.Store.BucketRows(once, Metrics.Loss).Count.ShouldBeLessThan(n / 4);

        foreach (long run in new[] { once, streamed })
        {
            t.Store.GetRun(run)!.Metrics.Single(m => m.Metric == Metrics.Loss).ShouldBe(new MetricSummary(Metrics.Loss, n, 9, steps[^1], values[^1], values.Min(), steps[Array.IndexOf(values, values.Min())]));
            // every view against the brute-force one: through the raw points where the level it needs is not kept
            // (the reference with one step per bucket), through the buckets elsewhere
            foreach (var (maxPoints, lo, hi) in new[] { (2000, 9L, steps[^1]), (500, 9L, steps[^1]), (64, 9L, steps[^1]), (200, 3000L, 21000L), (40, 5000L, 25000L) })
            {
                var view = t.Store.GetCurve(run, Metrics.Loss, maxPoints, lo, hi)!;
                int level = Downsampling.LevelFor(hi - lo + 1, maxPoints / 2);
                var (rs, rv) = Reference(steps, values, lo, hi, maxPoints, level < 1 ? 1 : Downsampling.Width(level));
                view.Downsampled.ShouldBeTrue();
                view.Steps.ShouldBe(rs, $"maxPoints {maxPoints}, steps {lo}..{hi}, level {level}");
                view.Values.ShouldBe(rv);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Rewriting_a_sparse_run_keeps_its_views_as_if_written_once(string kind)
    {
        using var t = Backends.Create(kind);
        var steps = Enumerable.Range(0, 4000).Select(i => 10L * i).ToArray();
        var values = steps.Select(s => 3 + Math.Sin(s / 700.0)).ToArray();
        long a = t.Store.AddRun(new NewRun { Name = "rewritten" });
        // the last 3 points (too few to keep any level), 4 before them, then the second half and the first half, each
        // inserted before the stored end (rebuilt from the raw points, adding levels as the run fills), then a block replaced
        void Put(int from, int count) => t.Store.AppendPoints(a, Enumerable.Range(from, count).Select(i => new MetricPoint(Metrics.Loss, steps[i], values[i])));
        Put(3997, 3);
        Put(0, 4);
        Put(2000, 1997);
        Put(4, 1996);
        var rewritten = values.ToArray();
        for (int i = 1000; i < 1040; i++) rewritten[i] = -5 - i;
        t.Store.AppendPoints(a, Enumerable.Range(1000, 40).Select(i => new MetricPoint(Metrics.Loss, steps[i], rewritten[i])));
        long b = t.Store.AddRun(new NewRun { Name = "at once" });
        t.Store.AppendPoints(b, Enumerable.Range(0, 4000).Select(i => new MetricPoint(Metrics.Loss, steps[i], rewritten[i])));
        t.Store.BucketRows(a, Metrics.Loss).ShouldBe(t.Store.BucketRows(b, Metrics.Loss));
        t.Store.BucketRows(b, Metrics.Loss).Min(x => x.Level).ShouldBe(1); // 10-step spacing: level 0 is not kept
        t.Store.GetRun(a)!.Metrics.Single().ShouldBe(t.Store.GetRun(b)!.Metrics.Single());
        var view = t.Store.GetCurve(a, Metrics.Loss, 100)!;
        view.Values.Min().ShouldBe(-5 - 1039);
    }

    [Fact]
    public void A_version_1_store_keeps_every_level_of_its_series_after_migration_2()
    {
        // a store as version 1 wrote it: its schema, and a sparse series with all 10 levels
        var dir = Directory.CreateTempSubdirectory("anneal-v1-").FullName;
        string path = Path.Combine(dir, "v1.db");
        var steps = Enumerable.Range(0, 3000).Select(i => 10L * i + 9).ToArray();
        var values = steps.Select(s => 2 + 3 / Math.Sqrt(1 + s / 100.0) + 0.01 * Math.Sin(s)).ToArray();
        try
        {
            using (var db = new SqliteDialect(path))
            using (var c = db.Open())
            using (var t = c.BeginTransaction())
            {
                void Sql(string sql)
                {
                    using var cmd = c.CreateCommand();
                    cmd.Transaction = t;
                    cmd.CommandText = sql;
                    cmd.ExecuteNonQuery();
                }
                Sql("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL, anneal_version TEXT NOT NULL)");
                foreach (var statement in Migrations.All[0].Statements) Sql(db.Ddl(statement));
                Sql("INSERT INTO schema_version VALUES (1, 'v1', 0, 'old')");
                Sql("INSERT INTO runs (id, name, metadata, status, created_at, updated_at) VALUES (1, 'old', '{}', 'finished', 0, 0)");
                Sql(FormattableString.Invariant($"INSERT INTO series (id, run_id, metric, n, first_step, last_step, last_value, min_value, min_step) VALUES (1, 1, 'loss', {steps.Length}, {steps[0]}, {steps[^1]}, {values[^1]:R}, {values.Min():R}, {steps[Array.IndexOf(values, values.Min())]})"));
                var rows = new NewRows();
                rows.Points.Add((1, steps, values));
                foreach (var b in Downsampling.Aggregate(steps, values)) rows.Buckets.Add((1, b));
                db.InsertNew(c, t, rows);
                t.Commit();
            }
            SqliteConnection.ClearAllPools();
            using var store = RunStore.Open(path);
            store.CountRows("schema_version").ShouldBe(Migrations.Latest);
            // its views still read level 0, which it keeps (a new store would not keep it for this spacing)
            var view = store.GetCurve(1, Metrics.Loss, 2000)!;
            var (rs, rv) = Reference(steps, values, steps[0], steps[^1], 2000, Downsampling.Width(0));
            view.Steps.ShouldBe(rs);
            view.Values.ShouldBe(rv);
            // and appending goes on merging into every level
            var more = Enumerable.Range(3000, 500).Select(i => 10L * i + 9).ToArray();
            store.AppendPoints(1, more.Select(s => new MetricPoint(Metrics.Loss, s, 1 + 1e-4 * s)));
            long[] allSteps = [.. steps, .. more];
            double[] allValues = [.. values, .. more.Select(s => 1 + 1e-4 * s)];
            var stored = store.BucketRows(1, Metrics.Loss);
            for (int level = 0; level < Downsampling.Levels; level++)
                stored.Where(b => b.Level == level).Select(b => (b.Index, b.Agg.N, b.Agg.Min, b.Agg.MinStep, b.Agg.Max, b.Agg.MaxStep, b.Agg.FirstStep, b.Agg.LastValue))
                    .ShouldBe(BruteBuckets(allSteps, allValues, Downsampling.Width(level)), $"level {level}");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }
}
