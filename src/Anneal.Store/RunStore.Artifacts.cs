using System.Data.Common;
using Dapper;

namespace Anneal.Store;

public sealed partial class RunStore
{
    private sealed class ArtifactRow
    {
        public long Id { get; set; }
        public string Kind { get; set; } = "";
        public string Name { get; set; } = "";
        public string? Spec { get; set; }
        public long? LawId { get; set; }
        public string Body { get; set; } = "";
        public string AnnealVersion { get; set; } = "";
        public long CreatedAt { get; set; }
    }

    private const string ArtifactColumns = "id AS Id, kind AS Kind, name AS Name, spec AS Spec, law_id AS LawId, body AS Body, anneal_version AS AnnealVersion, created_at AS CreatedAt";

    /// <summary>Saves a fitted law (its JSON file) with the runs it was fitted to; returns its id.</summary>
    public long SaveLaw(NewArtifact law) => SaveArtifact(ArtifactKind.Law, law);

    /// <summary>Saves a forecast (the law it used in <see cref="NewArtifact.LawId"/>, its schedule in <see cref="NewArtifact.Spec"/>); returns its id.</summary>
    public long SaveForecast(NewArtifact forecast) => SaveArtifact(ArtifactKind.Forecast, forecast);

    /// <summary>Saves a designed schedule (the law it was designed against, the spec found); returns its id.</summary>
    public long SaveDesign(NewArtifact design) => SaveArtifact(ArtifactKind.Design, design);

    /// <summary>
    /// Saves a result with its provenance: the runs it came from (their names are kept with it), the law it used, and
    /// this build's <see cref="AnnealVersion"/>. Returns its id.
    /// </summary>
    /// <exception cref="ArgumentException">The body is not JSON, or a named run or law is not in the store.</exception>
    public long SaveArtifact(ArtifactKind kind, NewArtifact artifact)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        if (string.IsNullOrWhiteSpace(artifact.Name)) throw new ArgumentException("an artifact needs a name", nameof(artifact));
        string body = JsonAny(artifact.BodyJson);
        return Write((c, t) =>
        {
            if (artifact.LawId is { } lawId && c.ExecuteScalar<string?>("SELECT kind FROM artifacts WHERE id = @lawId", new { lawId }, t) != "law")
                throw new ArgumentException($"artifact {lawId} is not a law in store {Location}", nameof(artifact));
            var names = new List<(long Id, string Name)>();
            foreach (var runId in artifact.RunIds.Distinct())
                names.Add((runId, c.ExecuteScalar<string?>("SELECT name FROM runs WHERE id = @runId", new { runId }, t)
                    ?? throw new ArgumentException($"there is no run {runId} in store {Location}", nameof(artifact))));
            long id = c.ExecuteScalar<long>("""
                INSERT INTO artifacts (kind, name, spec, law_id, body, anneal_version, created_at)
                VALUES (@kind, @Name, @Spec, @LawId, @body, @version, @now) RETURNING id
                """, new { kind = kind.ToString().ToLowerInvariant(), artifact.Name, artifact.Spec, artifact.LawId, body, version = AnnealVersion, now = Now }, t);
            foreach (var (runId, runName) in names)
                c.Execute("INSERT INTO artifact_runs (artifact_id, run_id, run_name) VALUES (@id, @runId, @runName)", new { id, runId, runName }, t);
            return id;
        });
    }

    /// <summary>A stored result with its provenance, or null when there is none with that id.</summary>
    public ArtifactInfo? GetArtifact(long id) => Read(c =>
    {
        var row = c.QuerySingleOrDefault<ArtifactRow>($"SELECT {ArtifactColumns} FROM artifacts WHERE id = @id", new { id });
        return row is null ? null : ToInfo(c, row);
    });

    /// <summary>Stored results, newest first: of one kind when <paramref name="kind"/> is given, computed from run <paramref name="runId"/> when given.</summary>
    public IReadOnlyList<ArtifactInfo> ListArtifacts(ArtifactKind? kind = null, long? runId = null, int limit = 100) => Read(c =>
    {
        var sql = $"SELECT {ArtifactColumns} FROM artifacts a WHERE 1 = 1";
        if (kind is not null) sql += " AND kind = @kind";
        if (runId is not null) sql += " AND EXISTS (SELECT 1 FROM artifact_runs x WHERE x.artifact_id = a.id AND x.run_id = @runId)";
        var rows = c.Query<ArtifactRow>(sql + " ORDER BY id DESC LIMIT @limit", new { kind = kind?.ToString().ToLowerInvariant(), runId, limit = Math.Clamp(limit, 1, MaxPageSize) }).ToList();
        return (IReadOnlyList<ArtifactInfo>)rows.Select(r => ToInfo(c, r)).ToList();
    });

    private static ArtifactInfo ToInfo(DbConnection c, ArtifactRow row)
    {
        var runs = c.Query<(long RunId, string RunName, long? Exists)>("""
            SELECT x.run_id, x.run_name, r.id FROM artifact_runs x LEFT JOIN runs r ON r.id = x.run_id
            WHERE x.artifact_id = @Id ORDER BY x.run_id
            """, new { row.Id }).Select(x => new ArtifactRun(x.RunId, x.RunName, x.Exists is not null)).ToList();
        return new ArtifactInfo(row.Id, Enum.Parse<ArtifactKind>(row.Kind, ignoreCase: true), row.Name, row.Spec, row.LawId, row.Body, row.AnnealVersion, Time(row.CreatedAt), runs);
    }

    /// <summary>Checks that <paramref name="json"/> is JSON and returns it compacted.</summary>
    private static string JsonAny(string json)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            return System.Text.Json.JsonSerializer.Serialize(doc.RootElement);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ArgumentException($"the body is not valid JSON: {e.Message}", e);
        }
    }
}

public sealed partial class RunStore
{
    /// <summary>The ids of the runs named exactly <paramref name="name"/>, oldest first (names need not be unique).</summary>
    public IReadOnlyList<long> FindRunsNamed(string name) =>
        Read(c => (IReadOnlyList<long>)c.Query<long>("SELECT id FROM runs WHERE name = @name ORDER BY id LIMIT 100", new { name }).ToList());

    /// <summary>
    /// The oldest stored result of <paramref name="kind"/> whose body is <paramref name="bodyJson"/> (compared compacted), or
    /// null: a law saved again (a built-in law, the same law file) is found instead of stored twice.
    /// </summary>
    public long? FindArtifact(ArtifactKind kind, string bodyJson)
    {
        string body = JsonAny(bodyJson);
        return Read(c => c.ExecuteScalar<long?>("SELECT MIN(id) FROM artifacts WHERE kind = @kind AND body = @body",
            new { kind = kind.ToString().ToLowerInvariant(), body }));
    }
}
