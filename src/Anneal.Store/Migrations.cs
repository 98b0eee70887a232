using System.Data.Common;
using Dapper;

namespace Anneal.Store;

/// <summary>
/// The store's schema, as numbered migrations. A store records each applied version in <c>schema_version</c>;
/// opening it applies the missing ones in order, all in one transaction (a failure leaves the store as it was), under
/// a lock so that processes opening a new store together migrate it once. Never edit a released migration: add one.
/// DDL placeholders: <c>{id}</c> an auto-numbered 64-bit primary key, <c>{without_rowid}</c> a clustered table.
/// </summary>
internal static class Migrations
{
    /// <summary>One migration: its version, what it does, and its statements.</summary>
    public sealed record Migration(int Version, string Description, string[] Statements);

    public static readonly Migration[] All =
    [
        new(1, "runs, curve points with downsampled views, laws/forecasts/designs with provenance, studies and trials",
        [
            """
            CREATE TABLE runs (
              id {id},
              name TEXT NOT NULL,
              schedule TEXT,
              source_file TEXT,
              source_format TEXT,
              metadata TEXT NOT NULL DEFAULT '{}',
              status TEXT NOT NULL,
              created_at BIGINT NOT NULL,
              updated_at BIGINT NOT NULL)
            """,
            "CREATE INDEX runs_status ON runs (status, id)",
            "CREATE TABLE run_tags (run_id BIGINT NOT NULL REFERENCES runs(id), tag TEXT NOT NULL, PRIMARY KEY (run_id, tag)){without_rowid}",
            "CREATE INDEX run_tags_tag ON run_tags (tag, run_id)",
            """
            CREATE TABLE series (
              id {id},
              run_id BIGINT NOT NULL REFERENCES runs(id),
              metric TEXT NOT NULL,
              n BIGINT NOT NULL DEFAULT 0,
              first_step BIGINT,
              last_step BIGINT,
              last_value DOUBLE PRECISION,
              min_value DOUBLE PRECISION,
              min_step BIGINT,
              UNIQUE (run_id, metric))
            """,
            // points and point_buckets carry no foreign key: a check per inserted point would cost insert speed, and
            // DeleteRun removes them explicitly.
            "CREATE TABLE points (series_id BIGINT NOT NULL, step BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, PRIMARY KEY (series_id, step)){without_rowid}",
            """
            CREATE TABLE point_buckets (
              series_id BIGINT NOT NULL,
              level INTEGER NOT NULL,
              bucket BIGINT NOT NULL,
              n BIGINT NOT NULL,
              min_value DOUBLE PRECISION NOT NULL,
              min_step BIGINT NOT NULL,
              max_value DOUBLE PRECISION NOT NULL,
              max_step BIGINT NOT NULL,
              first_step BIGINT NOT NULL,
              first_value DOUBLE PRECISION NOT NULL,
              last_step BIGINT NOT NULL,
              last_value DOUBLE PRECISION NOT NULL,
              PRIMARY KEY (series_id, level, bucket)){without_rowid}
            """,
            """
            CREATE TABLE artifacts (
              id {id},
              kind TEXT NOT NULL,
              name TEXT NOT NULL,
              spec TEXT,
              law_id BIGINT REFERENCES artifacts(id),
              body TEXT NOT NULL,
              anneal_version TEXT NOT NULL,
              created_at BIGINT NOT NULL)
            """,
            "CREATE INDEX artifacts_kind ON artifacts (kind, id)",
            // run_id is deliberately not a foreign key: provenance outlives a deleted run, by its name
            "CREATE TABLE artifact_runs (artifact_id BIGINT NOT NULL REFERENCES artifacts(id), run_id BIGINT NOT NULL, run_name TEXT NOT NULL, PRIMARY KEY (artifact_id, run_id))",
            "CREATE INDEX artifact_runs_run ON artifact_runs (run_id)",
            """
            CREATE TABLE studies (
              id {id},
              name TEXT NOT NULL UNIQUE,
              spec TEXT NOT NULL,
              direction TEXT NOT NULL,
              next_number INTEGER NOT NULL DEFAULT 0,
              anneal_version TEXT NOT NULL,
              created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE trials (
              id {id},
              study_id BIGINT NOT NULL REFERENCES studies(id),
              number INTEGER NOT NULL,
              params TEXT NOT NULL,
              state TEXT NOT NULL,
              value DOUBLE PRECISION,
              worker TEXT,
              heartbeat_at BIGINT,
              started_at BIGINT,
              finished_at BIGINT,
              run_id BIGINT REFERENCES runs(id),
              attrs TEXT NOT NULL DEFAULT '{}',
              message TEXT,
              UNIQUE (study_id, number))
            """,
            "CREATE INDEX trials_state ON trials (study_id, state, number)",
            "CREATE TABLE trial_values (trial_id BIGINT NOT NULL REFERENCES trials(id), step BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, PRIMARY KEY (trial_id, step)){without_rowid}",
        ]),
        new(2, "series.min_level: the lowest downsampled level a series keeps (sparse series skip the levels that would not shrink them)",
        [
            // series written before this migration keep every level: 0 is exactly what they hold
            "ALTER TABLE series ADD COLUMN min_level INTEGER NOT NULL DEFAULT 0",
        ]),
    ];

    /// <summary>The newest schema version this build knows.</summary>
    public static int Latest => All[^1].Version;

    /// <summary>Brings the store to <see cref="Latest"/>; returns the version it had before.</summary>
    public static int Apply(Dialect db, DbConnection c)
    {
        using var t = db.Begin(c);
        db.Lock(c, t, StoreLock.Schema);
        c.Execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL, anneal_version TEXT NOT NULL)", transaction: t);
        int current = c.ExecuteScalar<int?>("SELECT MAX(version) FROM schema_version", transaction: t) ?? 0;
        if (current > Latest)
            throw new StoreException($"store {db.Display} has schema version {current}, newer than this Anneal knows ({Latest}); use a newer Anneal with it");
        if (current == 0 && HasForeignTables(db, c, t))
            throw new StoreException($"store {db.Display} already holds tables that are not an Anneal store's; give a new file or an empty database");
        foreach (var m in All.Where(m => m.Version > current))
        {
            foreach (var s in m.Statements) c.Execute(db.Ddl(s), transaction: t);
            c.Execute("INSERT INTO schema_version (version, description, applied_at, anneal_version) VALUES (@v, @d, @a, @av)",
                new { v = m.Version, d = m.Description, a = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), av = RunStore.AnnealVersion }, t);
        }
        t.Commit();
        return current;
    }

    /// <summary>True when the database has tables besides <c>schema_version</c> (someone else's database).</summary>
    private static bool HasForeignTables(Dialect db, DbConnection c, DbTransaction t)
    {
        return c.ExecuteScalar<long>(db.OtherTablesSql, transaction: t) > 0;
    }
}
