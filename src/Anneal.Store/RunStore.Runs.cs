using System.Data.Common;
using System.Text;
using System.Text.Json;
using Anneal.Curves;
using Dapper;

namespace Anneal.Store;

public sealed partial class RunStore
{
    private const string RunColumns = """
        r.id AS Id, r.name AS Name, r.schedule AS Schedule, r.source_file AS SourceFile, r.source_format AS SourceFormat,
        r.metadata AS Metadata, r.status AS Status, r.created_at AS CreatedAt, r.updated_at AS UpdatedAt,
        l.last_step AS LastStep, l.last_value AS FinalLoss, v.min_value AS BestValLoss
        FROM runs r
        LEFT JOIN series l ON l.run_id = r.id AND l.metric = 'loss'
        LEFT JOIN series v ON v.run_id = r.id AND v.metric = 'val_loss'
        """;

    private sealed class RunRow
    {
        public long Id { get; set; }
        public string Name { get; set; } = "";
        public string? Schedule { get; set; }
        public string? SourceFile { get; set; }
        public string? SourceFormat { get; set; }
        public string Metadata { get; set; } = "{}";
        public string Status { get; set; } = "";
        public long CreatedAt { get; set; }
        public long UpdatedAt { get; set; }
        public long? LastStep { get; set; }
        public double? FinalLoss { get; set; }
        public double? BestValLoss { get; set; }

        public RunInfo ToInfo(IReadOnlyList<string> tags, IReadOnlyList<MetricSummary> metrics) =>
            new(Id, Name, tags, Schedule, SourceFile, SourceFormat, Metadata, ParseStatus(Status), Time(CreatedAt), Time(UpdatedAt), LastStep, FinalLoss, BestValLoss, metrics);
    }

    private sealed class SeriesRow
    {
        public long Id { get; set; }
        public long RunId { get; set; }
        public string Metric { get; set; } = "";
        public long N { get; set; }
        public long? FirstStep { get; set; }
        public long? LastStep { get; set; }
        public double? LastValue { get; set; }
        public double? MinValue { get; set; }
        public long? MinStep { get; set; }
        public int MinLevel { get; set; }
    }

    /// <summary>Adds a run (no points yet) and returns its id.</summary>
    /// <exception cref="ArgumentException">The name is empty or the metadata is not a JSON object.</exception>
    public long AddRun(NewRun run) => Write((c, t) => InsertRun(c, t, run));

    private long InsertRun(DbConnection c, DbTransaction t, NewRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (string.IsNullOrWhiteSpace(run.Name)) throw new ArgumentException("a run needs a name", nameof(run));
        string metadata = JsonObject(run.MetadataJson, "metadata");
        long now = Now;
        long id = c.ExecuteScalar<long>("""
            INSERT INTO runs (name, schedule, source_file, source_format, metadata, status, created_at, updated_at)
            VALUES (@Name, @Schedule, @SourceFile, @SourceFormat, @metadata, @status, @now, @now) RETURNING id
            """, new { run.Name, run.Schedule, run.SourceFile, run.SourceFormat, metadata, status = Status(run.Status), now }, t);
        InsertTags(c, t, id, run.Tags);
        return id;
    }

    private static void InsertTags(DbConnection c, DbTransaction t, long runId, IEnumerable<string> tags)
    {
        foreach (var tag in tags.Select(s => s.Trim()).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal))
            c.Execute("INSERT INTO run_tags (run_id, tag) VALUES (@runId, @tag) ON CONFLICT (run_id, tag) DO NOTHING", new { runId, tag }, t);
    }

    /// <summary>The run with its tags and per-metric summaries, or null when there is no run <paramref name="id"/>.</summary>
    public RunInfo? GetRun(long id) => Read(c =>
    {
        var row = c.QuerySingleOrDefault<RunRow>($"SELECT {RunColumns} WHERE r.id = @id", new { id });
        if (row is null) return null;
        var tags = c.Query<string>("SELECT tag FROM run_tags WHERE run_id = @id ORDER BY tag", new { id }).ToList();
        var metrics = c.Query<SeriesRow>("""
            SELECT id AS Id, run_id AS RunId, metric AS Metric, n AS N, first_step AS FirstStep, last_step AS LastStep,
                   last_value AS LastValue, min_value AS MinValue, min_step AS MinStep
            FROM series WHERE run_id = @id AND n > 0 ORDER BY metric
            """, new { id })
            .Select(s => new MetricSummary(s.Metric, s.N, s.FirstStep ?? 0, s.LastStep ?? 0, s.LastValue ?? double.NaN, s.MinValue ?? double.NaN, s.MinStep ?? 0))
            .ToList();
        return row.ToInfo(tags, metrics);
    });

    /// <summary>A page of runs matching <paramref name="query"/>, in its order, with the total number of matches.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The offset is negative or the limit is outside 1..<see cref="MaxPageSize"/>.</exception>
    public RunPage ListRuns(RunQuery? query = null)
    {
        query ??= new RunQuery();
        if (query.Offset < 0) throw new ArgumentOutOfRangeException(nameof(query), $"offset must be >= 0, got {query.Offset}");
        if (query.Limit is < 1 or > MaxPageSize) throw new ArgumentOutOfRangeException(nameof(query), $"limit must be between 1 and {MaxPageSize}, got {query.Limit}");
        var where = new StringBuilder("WHERE 1 = 1");
        var p = new DynamicParameters();
        if (!string.IsNullOrEmpty(query.Search))
        {
            where.Append(@" AND (LOWER(r.name) LIKE @pattern ESCAPE '\' OR LOWER(COALESCE(r.schedule, '')) LIKE @pattern ESCAPE '\')");
            p.Add("pattern", "%" + EscapeLike(query.Search.ToLowerInvariant()) + "%");
        }
        var tags = query.Tags.Where(s => !string.IsNullOrWhiteSpace(s)).Distinct().ToList();
        for (int i = 0; i < tags.Count; i++)
        {
            where.Append($" AND EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.tag = @tag{i})");
            p.Add($"tag{i}", tags[i].Trim());
        }
        if (query.Status is { } status) { where.Append(" AND r.status = @status"); p.Add("status", Status(status)); }
        string key = query.Sort switch
        {
            RunSort.Name => "LOWER(r.name)",
            RunSort.Status => "r.status",
            RunSort.Steps => "l.last_step",
            RunSort.FinalLoss => "l.last_value",
            RunSort.BestValLoss => "v.min_value",
            _ => "r.id",
        };
        string dir = query.Descending ? "DESC" : "ASC";
        p.Add("limit", query.Limit);
        p.Add("offset", query.Offset);
        return Read(c =>
        {
            long total = c.ExecuteScalar<long>($"SELECT COUNT(*) FROM runs r {where}", p);
            var rows = c.Query<RunRow>($"SELECT {RunColumns} {where} ORDER BY {key} {dir} NULLS LAST, r.id {dir} LIMIT @limit OFFSET @offset", p).ToList();
            var ids = InList(rows.Select(r => r.Id), out var idParams);
            var tagsByRun = rows.Count == 0 ? [] : c.Query<(long RunId, string Tag)>($"SELECT run_id, tag FROM run_tags WHERE run_id IN {ids} ORDER BY tag", idParams)
                .GroupBy(x => x.RunId).ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(x => x.Tag).ToList());
            return new RunPage(total, rows.Select(r => r.ToInfo(tagsByRun.GetValueOrDefault(r.Id, []), [])).ToList());
        });
    }

    /// <summary>
    /// <c>(@i0, @i1, ...)</c> with its parameters: Dapper's own list expansion sends an array to Npgsql, which
    /// PostgreSQL does not accept after IN.
    /// </summary>
    private static string InList(IEnumerable<long> values, out DynamicParameters parameters)
    {
        parameters = new DynamicParameters();
        var names = new List<string>();
        foreach (var v in values)
        {
            names.Add("@i" + names.Count);
            parameters.Add("i" + (names.Count - 1), v);
        }
        return "(" + string.Join(", ", names) + ")";
    }

    private static string EscapeLike(string s) => s.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal);

    /// <summary>Sets a run's status (and its update time); false when there is no such run.</summary>
    public bool SetRunStatus(long id, RunStatus status) =>
        Write((c, t) => c.Execute("UPDATE runs SET status = @status, updated_at = @now WHERE id = @id", new { id, status = Status(status), now = Now }, t) == 1);

    /// <summary>Adds tags to a run (existing ones are kept); false when there is no such run.</summary>
    public bool AddTags(long id, IEnumerable<string> tags) => Write((c, t) =>
    {
        if (c.ExecuteScalar<long?>("SELECT id FROM runs WHERE id = @id", new { id }, t) is null) return false;
        InsertTags(c, t, id, tags);
        return true;
    });

    /// <summary>Replaces a run's metadata JSON object; false when there is no such run.</summary>
    public bool SetMetadata(long id, string metadataJson)
    {
        string metadata = JsonObject(metadataJson, "metadata");
        return Write((c, t) => c.Execute("UPDATE runs SET metadata = @metadata, updated_at = @now WHERE id = @id", new { id, metadata, now = Now }, t) == 1);
    }

    /// <summary>
    /// Deletes a run with its points, views and tags; a trial that recorded it keeps its result but loses the link, and
    /// artifacts computed from it keep its name in their provenance. False when there is no such run.
    /// </summary>
    public bool DeleteRun(long id) => Write((c, t) =>
    {
        if (c.ExecuteScalar<long?>("SELECT id FROM runs WHERE id = @id", new { id }, t) is null) return false;
        var series = c.Query<long>("SELECT id FROM series WHERE run_id = @id", new { id }, t).ToArray();
        if (series.Length > 0)
        {
            var ids = InList(series, out var p);
            c.Execute($"DELETE FROM points WHERE series_id IN {ids}", p, t);
            c.Execute($"DELETE FROM point_buckets WHERE series_id IN {ids}", p, t);
        }
        c.Execute("DELETE FROM series WHERE run_id = @id", new { id }, t);
        c.Execute("DELETE FROM run_tags WHERE run_id = @id", new { id }, t);
        c.Execute("UPDATE trials SET run_id = NULL WHERE run_id = @id", new { id }, t);
        c.Execute("DELETE FROM runs WHERE id = @id", new { id }, t);
        return true;
    });

    /// <summary>
    /// Adds a curve read by <see cref="CurveReader"/> as a finished run (failed when it diverged) with all its points
    /// (loss, lr, val_loss, grad_norm, tokens), in one transaction. Fields of <paramref name="run"/> override the
    /// curve's own (name, schedule, source file). Returns the run's id.
    /// </summary>
    public long ImportCurve(LossCurve curve, NewRun? run = null) => ImportCurves([(curve, run)])[0];

    /// <summary>Adds several curves as runs in one transaction: either all are stored or none. Returns their ids, in order.</summary>
    public IReadOnlyList<long> ImportCurves(IReadOnlyList<(LossCurve Curve, NewRun? Run)> curves) => Write((c, t) => Import(c, t, curves));

    /// <summary>
    /// Adds <paramref name="runs"/> (asked for only when needed) when the store holds no run at all, and returns their
    /// ids; returns none, adding nothing, when it holds any. The check and the import are one transaction under a lock,
    /// so servers starting together on one empty store seed it once. <c>anneal serve</c> seeds the bundled examples so.
    /// </summary>
    public IReadOnlyList<long> SeedIfEmpty(Func<IReadOnlyList<(LossCurve Curve, NewRun? Run)>> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        // checked first without the write lock: a store in use is never locked for it, and the runs are made (read
        // from files, which takes a while) before the lock is taken
        if (!IsEmpty()) return [];
        var list = runs();
        return Write((c, t) =>
        {
            _db.Lock(c, t, StoreLock.Seed);
            return c.ExecuteScalar<long?>("SELECT id FROM runs LIMIT 1", transaction: t) is null ? Import(c, t, list) : [];
        });
    }

    private bool IsEmpty() => Read(c => c.ExecuteScalar<long?>("SELECT id FROM runs LIMIT 1") is null);

    private IReadOnlyList<long> Import(DbConnection c, DbTransaction t, IReadOnlyList<(LossCurve Curve, NewRun? Run)> curves)
    {
        var ids = new List<long>(curves.Count);
        var rows = new NewRows();
        foreach (var (curve, given) in curves)
        {
            var meta = new Dictionary<string, object?>();
            if (curve.Warnings.Count > 0) meta["warnings"] = curve.Warnings;
            if (curve.DivergedAtStep is { } d) meta["diverged_at_step"] = d;
            var run = (given ?? new NewRun { Name = curve.Name }) with { Status = curve.Diverged ? RunStatus.Failed : RunStatus.Finished };
            run = run with
            {
                Schedule = run.Schedule ?? curve.ScheduleSpec,
                SourceFile = run.SourceFile ?? curve.SourceFile,
                MetadataJson = run.MetadataJson ?? JsonSerializer.Serialize(meta),
            };
            long id = InsertRun(c, t, run);
            foreach (var (metric, values) in new[] { (Metrics.Loss, curve.Loss), (Metrics.Lr, curve.Lr), (Metrics.ValLoss, curve.ValLoss), (Metrics.GradNorm, curve.GradNorm), (Metrics.Tokens, curve.Tokens) })
                if (values is not null) AppendSeries(c, t, id, metric, curve.Steps, values, rows, newRun: true);
            ids.Add(id);
        }
        // every point and bucket of every curve at once (one COPY per table on PostgreSQL)
        _db.InsertNew(c, t, rows);
        return ids;
    }

    /// <summary>
    /// A stored run as a <see cref="LossCurve"/> (for fitting or forecasting): its steps are those of its loss, lr and
    /// validation-loss points, each metric NaN where it was not logged; null when there is no run <paramref name="id"/>.
    /// </summary>
    public LossCurve? LoadCurve(long id)
    {
        var run = GetRun(id);
        if (run is null) return null;
        var series = new Dictionary<string, (long[] Steps, double[] Values)>();
        foreach (var m in new[] { Metrics.Loss, Metrics.Lr, Metrics.ValLoss, Metrics.GradNorm, Metrics.Tokens })
            if (GetPoints(id, m) is { Steps.Length: > 0 } p) series[m] = (p.Steps, p.Values);
        var steps = series.Where(kv => kv.Key is Metrics.Loss or Metrics.Lr or Metrics.ValLoss).SelectMany(kv => kv.Value.Steps).Distinct().Order().ToArray();
        var index = new Dictionary<long, int>(steps.Length);
        for (int i = 0; i < steps.Length; i++) index[steps[i]] = i;
        double[]? Column(string metric)
        {
            if (!series.TryGetValue(metric, out var s)) return null;
            var a = new double[steps.Length];
            Array.Fill(a, double.NaN);
            for (int i = 0; i < s.Steps.Length; i++) if (index.TryGetValue(s.Steps[i], out int k)) a[k] = s.Values[i];
            return a;
        }
        return new LossCurve
        {
            Name = run.Name, Steps = steps, Loss = Column(Metrics.Loss), Lr = Column(Metrics.Lr), ValLoss = Column(Metrics.ValLoss),
            GradNorm = Column(Metrics.GradNorm), Tokens = Column(Metrics.Tokens), SourceFile = run.SourceFile, ScheduleSpec = run.Schedule,
        };
    }

    /// <summary>The JSON object in <paramref name="json"/>, compacted; <c>{}</c> for null.</summary>
    private static string JsonObject(string? json, string what)
    {
        if (string.IsNullOrWhiteSpace(json)) return "{}";
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ArgumentException($"{what} must be a JSON object, got a {doc.RootElement.ValueKind}");
            return JsonSerializer.Serialize(doc.RootElement);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{what} is not valid JSON: {e.Message}", e);
        }
    }
}
