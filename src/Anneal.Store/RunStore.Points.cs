using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Text;
using Dapper;

namespace Anneal.Store;

public sealed partial class RunStore
{
    private static readonly ConcurrentDictionary<int, string> PointUpserts = new();
    private static readonly ConcurrentDictionary<int, string> BucketUpserts = new();

    /// <summary>
    /// Appends points to a run, in one transaction: values per metric and step, NaN meaning "not measured" (skipped).
    /// A point at a step the metric already has replaces it. Steps must be &gt;= 0. Appending in increasing step
    /// order (what trainers do) is the fast path; replacing or inserting earlier points rebuilds the affected views.
    /// </summary>
    /// <exception cref="KeyNotFoundException">There is no run <paramref name="runId"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A step is negative.</exception>
    public void AppendPoints(long runId, IEnumerable<MetricPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var byMetric = new Dictionary<string, SortedDictionary<long, double>>(StringComparer.Ordinal);
        foreach (var p in points)
        {
            if (p.Step < 0) throw new ArgumentOutOfRangeException(nameof(points), $"steps must be >= 0, got {p.Step} for {p.Metric}");
            if (string.IsNullOrWhiteSpace(p.Metric)) throw new ArgumentException("a point needs a metric name", nameof(points));
            if (double.IsNaN(p.Value)) continue;
            if (!byMetric.TryGetValue(p.Metric, out var m)) byMetric[p.Metric] = m = [];
            m[p.Step] = p.Value; // the later of two points at one step wins, as a later write would
        }
        Write((c, t) =>
        {
            if (c.ExecuteScalar<long?>("SELECT id FROM runs WHERE id = @runId", new { runId }, t) is null)
                throw new KeyNotFoundException($"there is no run {runId} in store {Location}");
            var rows = new NewRows();
            foreach (var (metric, m) in byMetric) AppendSeries(c, t, runId, metric, m.Keys.ToArray(), m.Values.ToArray(), rows, newRun: false);
            _db.InsertNew(c, t, rows);
            c.Execute("UPDATE runs SET updated_at = @now WHERE id = @runId", new { runId, now = Now }, t);
        });
    }

    /// <summary>
    /// Appends one metric's points (steps strictly increasing, NaN skipped) and updates its views and summary. Points
    /// and buckets that are new go to <paramref name="rows"/>, written in bulk when the caller is done; rows that may
    /// exist (a replaced point, the stored bucket an append continues) are upserted at once. <paramref name="newRun"/>:
    /// the run was added in this transaction, so the series cannot exist yet.
    /// </summary>
    private void AppendSeries(DbConnection c, DbTransaction t, long runId, string metric, long[] allSteps, double[] allValues, NewRows rows, bool newRun)
    {
        int n = 0;
        var steps = new long[allSteps.Length];
        var values = new double[allSteps.Length];
        for (int i = 0; i < allSteps.Length; i++)
        {
            if (double.IsNaN(allValues[i])) continue;
            if (allSteps[i] < 0) throw new ArgumentOutOfRangeException(nameof(allSteps), $"steps must be >= 0, got {allSteps[i]} for {metric}");
            if (n > 0 && allSteps[i] <= steps[n - 1]) throw new ArgumentException($"steps must be strictly increasing, got {allSteps[i]} after {steps[n - 1]} for {metric}", nameof(allSteps));
            steps[n] = allSteps[i]; values[n] = allValues[i]; n++;
        }
        if (n == 0) return;
        Array.Resize(ref steps, n);
        Array.Resize(ref values, n);
        var batch = Downsampling.Agg.Of(steps, values);
        if (newRun)
        {
            // one statement for the whole series row: it is created complete
            int level = Downsampling.MinLevel(batch.N, batch.FirstStep, batch.LastStep);
            long id = c.ExecuteScalar<long>("""
                INSERT INTO series (run_id, metric, n, first_step, last_step, last_value, min_value, min_step, min_level)
                VALUES (@runId, @metric, @N, @FirstStep, @LastStep, @LastValue, @Min, @MinStep, @level) RETURNING id
                """, new { runId, metric, batch.N, batch.FirstStep, batch.LastStep, batch.LastValue, batch.Min, batch.MinStep, level }, t);
            rows.Points.Add((id, steps, values));
            foreach (var b in Downsampling.Aggregate(steps, values, level)) rows.Buckets.Add((id, b));
            return;
        }
        c.Execute("INSERT INTO series (run_id, metric, min_level) VALUES (@runId, @metric, @none) ON CONFLICT (run_id, metric) DO NOTHING",
            new { runId, metric, none = Downsampling.Levels }, t);
        var s = c.QuerySingle<SeriesRow>($"SELECT id AS Id, n AS N, first_step AS FirstStep, last_step AS LastStep, min_level AS MinLevel FROM series WHERE run_id = @runId AND metric = @metric{_db.ForUpdate}",
            new { runId, metric }, t);
        if (s.LastStep is { } last && steps[0] <= last)
        {
            // replacing points or inserting before the end: keys may exist, and merging would count points twice
            UpsertPoints(c, t, s.Id, steps, values);
            Rebuild(c, t, s, steps[0], steps[^1]);
            return;
        }
        // appending past the end (or to an empty series): every point is new
        rows.Points.Add((s.Id, steps, values));
        int built = s.N == 0 ? Downsampling.Levels : s.MinLevel;
        int wanted = Math.Min(built, Downsampling.MinLevel(s.N + batch.N, s.FirstStep ?? batch.FirstStep, batch.LastStep));
        if (built < Downsampling.Levels)
        {
            // at each kept level the batch's first bucket may continue the stored last one (merged), the rest are new
            var merge = new List<Downsampling.Bucket>();
            foreach (var b in Downsampling.Aggregate(steps, values, built))
                if (b.Index == s.LastStep!.Value / Downsampling.Width(b.Level)) merge.Add(b);
                else rows.Buckets.Add((s.Id, b));
            UpsertBuckets(c, t, s.Id, merge);
        }
        if (wanted < built)
        {
            // the series became dense enough for finer levels: build them from all its points, stored and new
            long[] allS = steps;
            double[] allV = values;
            if (s.N > 0)
            {
                var (ss, sv) = RawPoints(c, t, s.Id, 0, long.MaxValue);
                allS = [.. ss, .. steps];
                allV = [.. sv, .. values];
            }
            foreach (var b in Downsampling.Aggregate(allS, allV, wanted, built)) rows.Buckets.Add((s.Id, b));
        }
        c.Execute("""
            UPDATE series SET n = n + @N,
              first_step = CASE WHEN first_step IS NULL THEN @FirstStep ELSE first_step END,
              last_step = @LastStep, last_value = @LastValue,
              min_step = CASE WHEN min_value IS NULL OR @Min < min_value THEN @MinStep ELSE min_step END,
              min_value = CASE WHEN min_value IS NULL OR @Min < min_value THEN @Min ELSE min_value END,
              min_level = @wanted
            WHERE id = @id
            """, new { id = s.Id, batch.N, batch.FirstStep, batch.LastStep, batch.LastValue, batch.Min, batch.MinStep, wanted }, t);
    }

    /// <summary>Writes points whose steps may already be stored (those are replaced).</summary>
    private void UpsertPoints(DbConnection c, DbTransaction t, long seriesId, long[] steps, double[] values) =>
        WriteRows(c, t, steps.Length, 2, rows => PointUpserts.GetOrAdd(rows, k =>
        {
            var sb = new StringBuilder("INSERT INTO points (series_id, step, value) VALUES ");
            for (int i = 0; i < k; i++) sb.Append(i == 0 ? "" : ", ").Append("(@s, @p").Append(i).Append("_0, @p").Append(i).Append("_1)");
            return sb.Append(" ON CONFLICT (series_id, step) DO UPDATE SET value = excluded.value").ToString();
        }), seriesId, (row, set) => { set(0, steps[row]); set(1, values[row]); });

    /// <summary>
    /// Writes <paramref name="count"/> rows of <paramref name="columns"/> values each (plus the series id, <c>@s</c>)
    /// with statements of <see cref="Dialect.RowsPerStatement"/> rows whose parameters are <c>@p{row}_{column}</c>.
    /// A statement of a given size is prepared once and re-run with new values.
    /// </summary>
    private void WriteRows(DbConnection c, DbTransaction t, int count, int columns, Func<int, string> sql, long seriesId, Action<int, Action<int, object>> fill)
    {
        int per = _db.RowsPerStatement;
        DbCommand? full = null;
        try
        {
            for (int start = 0; start < count; start += per)
            {
                int rows = Math.Min(per, count - start);
                DbCommand cmd;
                if (rows == per && full is not null) cmd = full;
                else
                {
                    cmd = c.CreateCommand();
                    cmd.Transaction = t;
                    cmd.CommandText = sql(rows);
                    Add(cmd, "s", seriesId);
                    for (int i = 0; i < rows; i++)
                        for (int k = 0; k < columns; k++) cmd.Parameters.Add(cmd.CreateParameter());
                    if (rows == per) full = cmd;
                }
                for (int i = 0; i < rows; i++)
                {
                    int row = i;
                    fill(start + i, (k, v) =>
                    {
                        var p = cmd.Parameters[1 + row * columns + k];
                        p.ParameterName = $"p{row}_{k}";
                        p.DbType = v is double ? DbType.Double : DbType.Int64;
                        p.Value = v;
                    });
                }
                cmd.ExecuteNonQuery();
                if (cmd != full) cmd.Dispose();
            }
        }
        finally
        {
            full?.Dispose();
        }
    }

    private static void Add(DbCommand cmd, string name, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        p.DbType = value is long ? DbType.Int64 : value is int ? DbType.Int32 : DbType.Double;
        cmd.Parameters.Add(p);
    }

    /// <summary>Merges bucket aggregates into the stored buckets with the same key (or stores them when there are none).</summary>
    private void UpsertBuckets(DbConnection c, DbTransaction t, long seriesId, List<Downsampling.Bucket> buckets) =>
        WriteRows(c, t, buckets.Count, 11, rows => BucketUpserts.GetOrAdd(rows, _ =>
        {
            var sb = new StringBuilder("INSERT INTO point_buckets (" + NewRows.BucketColumns + ") VALUES ");
            for (int i = 0; i < rows; i++)
            {
                sb.Append(i == 0 ? "(" : ", (").Append("@s");
                for (int k = 0; k < 11; k++) sb.Append(", @p").Append(i).Append('_').Append(k);
                sb.Append(')');
            }
            // The SET expressions all read the row as it was before the update (both engines), so each CASE
            // compares the old aggregate with the new one.
            sb.Append("""
                 ON CONFLICT (series_id, level, bucket) DO UPDATE SET
                  n = point_buckets.n + excluded.n,
                  min_step = CASE WHEN excluded.min_value < point_buckets.min_value THEN excluded.min_step ELSE point_buckets.min_step END,
                  min_value = CASE WHEN excluded.min_value < point_buckets.min_value THEN excluded.min_value ELSE point_buckets.min_value END,
                  max_step = CASE WHEN excluded.max_value > point_buckets.max_value THEN excluded.max_step ELSE point_buckets.max_step END,
                  max_value = CASE WHEN excluded.max_value > point_buckets.max_value THEN excluded.max_value ELSE point_buckets.max_value END,
                  first_value = CASE WHEN excluded.first_step < point_buckets.first_step THEN excluded.first_value ELSE point_buckets.first_value END,
                  first_step = CASE WHEN excluded.first_step < point_buckets.first_step THEN excluded.first_step ELSE point_buckets.first_step END,
                  last_value = CASE WHEN excluded.last_step > point_buckets.last_step THEN excluded.last_value ELSE point_buckets.last_value END,
                  last_step = CASE WHEN excluded.last_step > point_buckets.last_step THEN excluded.last_step ELSE point_buckets.last_step END
                """);
            return sb.ToString();
        }), seriesId, (row, set) =>
        {
            var (level, index, a) = buckets[row];
            set(0, (long)level); set(1, index); set(2, a.N); set(3, a.Min); set(4, a.MinStep); set(5, a.Max); set(6, a.MaxStep);
            set(7, a.FirstStep); set(8, a.FirstValue); set(9, a.LastStep); set(10, a.LastValue);
        });

    /// <summary>
    /// After points were replaced or inserted before the end (where merging would count them twice): recomputes the
    /// kept levels over the top-level buckets that hold steps <paramref name="from"/>..<paramref name="to"/> from the raw
    /// points, then the series summary, and adds the finer levels the series may now be dense enough for.
    /// </summary>
    private void Rebuild(DbConnection c, DbTransaction t, SeriesRow s, long from, long to)
    {
        int top = Downsampling.Levels - 1, built = s.MinLevel;
        var rows = new NewRows();
        var all = default(Downsampling.Agg);
        (long[] Steps, double[] Values)? everything = null;
        if (built <= top)
        {
            long w = Downsampling.Width(top), lo = from / w * w, hi = (to / w + 1) * w - 1;
            var (steps, values) = RawPoints(c, t, s.Id, lo, hi);
            for (int l = built; l <= top; l++)
            {
                long lw = Downsampling.Width(l);
                c.Execute("DELETE FROM point_buckets WHERE series_id = @id AND level = @l AND bucket BETWEEN @b0 AND @b1", new { id = s.Id, l, b0 = lo / lw, b1 = hi / lw }, t);
            }
            foreach (var b in Downsampling.Aggregate(steps, values, built)) rows.Buckets.Add((s.Id, b));
            _db.InsertNew(c, t, rows);
            rows.Buckets.Clear();
            foreach (var b in ReadBuckets(c, t, s.Id, top, 0, long.MaxValue)) all.Merge(b);
        }
        else
        {
            // no level kept: few points, summarised directly
            everything = RawPoints(c, t, s.Id, 0, long.MaxValue);
            all = Downsampling.Agg.Of(everything.Value.Steps, everything.Value.Values);
        }
        int wanted = Math.Min(built, Downsampling.MinLevel(all.N, all.FirstStep, all.LastStep));
        if (wanted < built)
        {
            everything ??= RawPoints(c, t, s.Id, 0, long.MaxValue);
            foreach (var b in Downsampling.Aggregate(everything.Value.Steps, everything.Value.Values, wanted, built)) rows.Buckets.Add((s.Id, b));
            _db.InsertNew(c, t, rows);
        }
        c.Execute("UPDATE series SET n = @N, first_step = @FirstStep, last_step = @LastStep, last_value = @LastValue, min_value = @Min, min_step = @MinStep, min_level = @wanted WHERE id = @id",
            new { id = s.Id, all.N, all.FirstStep, all.LastStep, all.LastValue, all.Min, all.MinStep, wanted }, t);
    }

    private static List<Downsampling.Agg> ReadBuckets(DbConnection c, DbTransaction? t, long seriesId, int level, long b0, long b1)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = t;
        cmd.CommandText = """
            SELECT n, min_value, min_step, max_value, max_step, first_step, first_value, last_step, last_value
            FROM point_buckets WHERE series_id = @s AND level = @l AND bucket BETWEEN @b0 AND @b1 ORDER BY bucket
            """;
        Add(cmd, "s", seriesId); Add(cmd, "l", level); Add(cmd, "b0", b0); Add(cmd, "b1", b1);
        var list = new List<Downsampling.Agg>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
            list.Add(new Downsampling.Agg
            {
                N = r.GetInt64(0), Min = r.GetDouble(1), MinStep = r.GetInt64(2), Max = r.GetDouble(3), MaxStep = r.GetInt64(4),
                FirstStep = r.GetInt64(5), FirstValue = r.GetDouble(6), LastStep = r.GetInt64(7), LastValue = r.GetDouble(8),
            });
        return list;
    }

    /// <summary>
    /// A metric of a run for drawing, with at most <paramref name="maxPoints"/> points: all raw points when they fit,
    /// else the min and max of each of <c>maxPoints / 2</c> equal step intervals, read from the stored views (so a
    /// million-point curve costs a few hundred rows). Optionally only steps <paramref name="fromStep"/>..<paramref name="toStep"/>
    /// (inclusive; a zoomed view, raw again once it is narrow enough). Null when the run has no such metric.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxPoints"/> is below 2.</exception>
    public CurveView? GetCurve(long runId, string metric, int maxPoints = 2000, long? fromStep = null, long? toStep = null)
    {
        if (maxPoints < 2) throw new ArgumentOutOfRangeException(nameof(maxPoints), $"maxPoints must be >= 2, got {maxPoints}");
        return Read(c =>
        {
            var s = c.QuerySingleOrDefault<SeriesRow>("SELECT id AS Id, n AS N, first_step AS FirstStep, last_step AS LastStep, min_level AS MinLevel FROM series WHERE run_id = @runId AND metric = @metric",
                new { runId, metric });
            if (s is null) return null;
            if (s.N == 0) return new CurveView(runId, metric, [], [], false, 0);
            long lo = Math.Max(fromStep ?? 0, s.FirstStep!.Value), hi = Math.Min(toStep ?? long.MaxValue, s.LastStep!.Value);
            bool whole = lo == s.FirstStep && hi == s.LastStep;
            if (hi < lo) return new CurveView(runId, metric, [], [], false, 0);
            if (whole && s.N <= maxPoints) return Raw(c, runId, metric, s.Id, lo, hi);
            int intervals = maxPoints / 2;
            int level = Downsampling.LevelFor(hi - lo + 1, intervals);
            if (level < s.MinLevel)
            {
                // narrower than one level-0 bucket per interval, or a level this series does not keep (it would hold
                // nearly a bucket per point): fold the raw points themselves
                var raw = RawPoints(c, null, s.Id, lo, hi);
                if (raw.Steps.Length <= maxPoints) return new CurveView(runId, metric, raw.Steps, raw.Values, false, raw.Steps.Length);
                var aggs = raw.Steps.Select((st, i) => Downsampling.Agg.Of(st, raw.Values[i])).ToList();
                var mm = Downsampling.MinMax(aggs, lo, hi, intervals);
                return new CurveView(runId, metric, mm.Steps, mm.Values, true, raw.Steps.Length);
            }
            long w = Downsampling.Width(level);
            var buckets = ReadBuckets(c, null, s.Id, level, lo / w, hi / w);
            long count = whole ? s.N : buckets.Sum(b => b.N);
            if (count <= maxPoints) return Raw(c, runId, metric, s.Id, lo, hi);
            var (steps, values) = Downsampling.MinMax(buckets, lo, hi, intervals);
            return new CurveView(runId, metric, steps, values, true, count);
        });
    }

    private static CurveView Raw(DbConnection c, long runId, string metric, long seriesId, long lo, long hi)
    {
        var (steps, values) = RawPoints(c, null, seriesId, lo, hi);
        return new CurveView(runId, metric, steps, values, false, steps.Length);
    }

    private static (long[] Steps, double[] Values) RawPoints(DbConnection c, DbTransaction? t, long seriesId, long lo, long hi)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = t;
        cmd.CommandText = "SELECT step, value FROM points WHERE series_id = @s AND step BETWEEN @lo AND @hi ORDER BY step";
        Add(cmd, "s", seriesId); Add(cmd, "lo", lo); Add(cmd, "hi", hi);
        var steps = new List<long>();
        var values = new List<double>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) { steps.Add(r.GetInt64(0)); values.Add(r.GetDouble(1)); }
        return (steps.ToArray(), values.ToArray());
    }

    /// <summary>Every stored bucket of a run's metric, by level then index (tests compare them with a brute-force aggregation).</summary>
    internal List<Downsampling.Bucket> BucketRows(long runId, string metric) => Read(c =>
    {
        var id = c.ExecuteScalar<long?>("SELECT id FROM series WHERE run_id = @runId AND metric = @metric", new { runId, metric });
        var list = new List<Downsampling.Bucket>();
        if (id is null) return list;
        for (int l = 0; l < Downsampling.Levels; l++)
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT bucket FROM point_buckets WHERE series_id = @s AND level = @l ORDER BY bucket";
            Add(cmd, "s", id.Value); Add(cmd, "l", l);
            var indexes = new List<long>();
            using (var r = cmd.ExecuteReader()) while (r.Read()) indexes.Add(r.GetInt64(0));
            var aggs = ReadBuckets(c, null, id.Value, l, 0, long.MaxValue);
            for (int i = 0; i < aggs.Count; i++) list.Add(new Downsampling.Bucket(l, indexes[i], aggs[i]));
        }
        return list;
    });

    /// <summary>Every raw point of a run's metric, in step order; null when the run has no such metric.</summary>
    public (long[] Steps, double[] Values)? GetPoints(long runId, string metric) => Read<(long[], double[])?>(c =>
    {
        var id = c.ExecuteScalar<long?>("SELECT id FROM series WHERE run_id = @runId AND metric = @metric", new { runId, metric });
        return id is null ? null : RawPoints(c, null, id.Value, 0, long.MaxValue);
    });
}
