using System.Data.Common;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Anneal.Store;

/// <summary>
/// Rows new to <c>points</c> and <c>point_buckets</c>, collected while a write transaction works out what to store and
/// written at its end in bulk by <see cref="Dialect.InsertNew"/> (one COPY per table on PostgreSQL for a whole import).
/// </summary>
internal sealed class NewRows
{
    /// <summary>The columns of a bucket row, in the order both dialects write them.</summary>
    public const string BucketColumns = "series_id, level, bucket, n, min_value, min_step, max_value, max_step, first_step, first_value, last_step, last_value";

    /// <summary>Points per series (steps strictly increasing, none stored yet).</summary>
    public List<(long SeriesId, long[] Steps, double[] Values)> Points { get; } = [];

    /// <summary>Buckets per series (none stored yet).</summary>
    public List<(long SeriesId, Downsampling.Bucket Bucket)> Buckets { get; } = [];
}

/// <summary>The store's advisory locks (PostgreSQL keys; any constants no other application of the database uses).</summary>
internal enum StoreLock : long
{
    /// <summary>Migrating the schema.</summary>
    Schema = 7265532,
    /// <summary>Seeding an empty store.</summary>
    Seed = 7265533,
}

/// <summary>Which database holds the store.</summary>
public enum StoreKind
{
    /// <summary>A SQLite file (one user, or a few processes on one machine).</summary>
    Sqlite,
    /// <summary>A PostgreSQL database (teams, many workers).</summary>
    Postgres,
}

/// <summary>
/// The few places where SQLite and PostgreSQL differ, kept here so every query elsewhere is written once: how to
/// connect, the identity-key and clustered-table DDL, row locking, the migration lock, which errors are worth a
/// retry, and how connection failures read. Everything else (RETURNING, ON CONFLICT upserts, NULLS LAST, LIKE with
/// ESCAPE) is SQL both accept.
/// </summary>
internal abstract class Dialect : IDisposable
{
    public abstract StoreKind Kind { get; }

    /// <summary>Releases pooled connections.</summary>
    public abstract void Dispose();

    /// <summary>The location as shown to users (a path, or the URL without its password).</summary>
    public abstract string Display { get; }

    /// <summary>An open connection, configured for the store.</summary>
    public abstract DbConnection Open();

    /// <summary>Starts a write transaction (SQLite: <c>BEGIN IMMEDIATE</c>, so the write lock is taken up front and a busy store waits instead of failing on upgrade).</summary>
    public virtual DbTransaction Begin(DbConnection c) => c.BeginTransaction();

    /// <summary>The column definition of an auto-numbered 64-bit primary key.</summary>
    public abstract string IdentityKey { get; }

    /// <summary>Table suffix for tables keyed by their primary key alone (SQLite stores them clustered on it).</summary>
    public abstract string WithoutRowId { get; }

    /// <summary>Suffix of a SELECT that locks the rows it reads until the transaction ends (SQLite's write transaction already excludes other writers).</summary>
    public abstract string ForUpdate { get; }

    /// <summary>
    /// Rows per INSERT when writing many: SQLite is fastest re-running one prepared single-row statement (binding
    /// hundreds of named parameters costs it quadratic time); PostgreSQL wants few round trips, so many rows per statement.
    /// </summary>
    public abstract int RowsPerStatement { get; }

    /// <summary>
    /// Writes rows that are new to <c>points</c> and <c>point_buckets</c> (no key of theirs is stored yet), the bulk of
    /// every import and append: SQLite re-runs one prepared single-row INSERT per table (the fastest way into SQLite
    /// within a transaction), PostgreSQL streams them with binary COPY (one round trip per table instead of one per
    /// few hundred rows). Rows whose key may exist go through the ON CONFLICT upserts instead.
    /// </summary>
    public abstract void InsertNew(DbConnection c, DbTransaction t, NewRows rows);

    /// <summary>A query counting the database's tables other than <c>schema_version</c> (and the engine's own).</summary>
    public abstract string OtherTablesSql { get; }

    /// <summary>
    /// Takes <paramref name="which"/> lock until the transaction ends, serialising processes doing the same thing at
    /// once (migrating a new store, seeding an empty one). SQLite's <c>BEGIN IMMEDIATE</c> already holds the only write lock.
    /// </summary>
    public abstract void Lock(DbConnection c, DbTransaction t, StoreLock which);

    /// <summary>True when <paramref name="e"/> is contention that a retry of the whole transaction may get past.</summary>
    public abstract bool IsTransient(Exception e);

    /// <summary>A <see cref="StoreException"/> that says why the store could not be opened, or null when <paramref name="e"/> is not about that.</summary>
    public abstract StoreException? Explain(Exception e);

    /// <summary>The DDL with this dialect's pieces put in.</summary>
    public string Ddl(string sql) => sql.Replace("{id}", IdentityKey, StringComparison.Ordinal).Replace("{without_rowid}", WithoutRowId, StringComparison.Ordinal);

    /// <summary>Parses a location: a <c>postgres://</c> or <c>postgresql://</c> URL, or a SQLite file path.</summary>
    public static Dialect For(string location)
    {
        if (string.IsNullOrWhiteSpace(location)) throw new StoreException("the store location is empty; give a SQLite file path or a URL postgres://user:password@host:port/database");
        int scheme = location.IndexOf("://", StringComparison.Ordinal);
        if (scheme > 0)
        {
            var s = location[..scheme].ToLowerInvariant();
            if (s is "postgres" or "postgresql") return new PostgresDialect(location);
            throw new StoreException($"store '{Redact(location)}': unknown scheme '{s}://'; give a SQLite file path or a URL postgres://user:password@host:port/database");
        }
        return new SqliteDialect(location);
    }

    /// <summary>The location with any password replaced by <c>***</c>.</summary>
    public static string Redact(string location)
    {
        int scheme = location.IndexOf("://", StringComparison.Ordinal), at = location.LastIndexOf('@');
        if (scheme < 0 || at < scheme) return location;
        int colon = location.IndexOf(':', scheme + 3);
        return colon > 0 && colon < at ? location[..(colon + 1)] + "***" + location[at..] : location;
    }
}

/// <summary>A SQLite file in WAL mode: readers never block the writer, writers queue on a busy timeout.</summary>
internal sealed class SqliteDialect : Dialect
{
    /// <summary>How long a statement waits for another process's write lock before SQLite reports busy.</summary>
    public const int BusyTimeoutMs = 15000;

    private readonly string _connectionString;

    public SqliteDialect(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(Path)) throw new StoreException($"store '{path}' is a folder; give a file, e.g. {System.IO.Path.Combine(path, "anneal.db")}");
        var folder = System.IO.Path.GetDirectoryName(Path)!;
        if (!Directory.Exists(folder)) throw new StoreException($"store '{path}': the folder {folder} does not exist; create it or give another path");
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            // Microsoft.Data.Sqlite retries a busy statement until the command timeout (seconds); SQLite's own busy
            // handler (busy_timeout below) waits inside each try.
            DefaultTimeout = 60,
        }.ToString();
    }

    /// <summary>The database file's full path.</summary>
    public string Path { get; }

    public override StoreKind Kind => StoreKind.Sqlite;
    public override string Display => Path;
    public override string IdentityKey => "INTEGER PRIMARY KEY AUTOINCREMENT";
    public override string WithoutRowId => " WITHOUT ROWID";
    public override string ForUpdate => "";
    public override int RowsPerStatement => 1;
    public override string OtherTablesSql => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT IN ('schema_version', 'sqlite_sequence')";

    public override DbConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        using var cmd = c.CreateCommand();
        // synchronous=NORMAL is WAL's recommended level: a commit survives a process crash, and only a power cut can
        // lose the last commits (never corrupt the file).
        cmd.CommandText = $"PRAGMA busy_timeout={BusyTimeoutMs}; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;";
        cmd.ExecuteNonQuery();
        return c;
    }

    /// <summary>Switches the file to WAL (persistent: done once, at open).</summary>
    public void EnableWal(DbConnection c)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode=WAL;";
        var mode = cmd.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            throw new StoreException($"store '{Path}': SQLite could not switch it to WAL mode (got '{mode}'); put the store on a local file system");
    }

    public override void Lock(DbConnection c, DbTransaction t, StoreLock which) { } // BEGIN IMMEDIATE holds the only write lock

    public override void InsertNew(DbConnection c, DbTransaction t, NewRows rows)
    {
        if (rows.Points.Count > 0)
        {
            using var cmd = Prepared(c, t, "INSERT INTO points (series_id, step, value) VALUES ($0, $1, $2)", 3);
            var p = cmd.Parameters;
            foreach (var (id, steps, values) in rows.Points)
            {
                p[0].Value = id;
                for (int i = 0; i < steps.Length; i++)
                {
                    p[1].Value = steps[i];
                    p[2].Value = values[i];
                    cmd.ExecuteNonQuery();
                }
            }
        }
        if (rows.Buckets.Count > 0)
        {
            using var cmd = Prepared(c, t, "INSERT INTO point_buckets (" + NewRows.BucketColumns + ") VALUES ($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", 12);
            var p = cmd.Parameters;
            foreach (var (id, (level, index, a)) in rows.Buckets)
            {
                p[0].Value = id; p[1].Value = level; p[2].Value = index; p[3].Value = a.N; p[4].Value = a.Min; p[5].Value = a.MinStep;
                p[6].Value = a.Max; p[7].Value = a.MaxStep; p[8].Value = a.FirstStep; p[9].Value = a.FirstValue; p[10].Value = a.LastStep; p[11].Value = a.LastValue;
                cmd.ExecuteNonQuery();
            }
        }
    }

    /// <summary>A prepared command with parameters <c>$0</c>..<c>$(n-1)</c>, re-run with new values per row.</summary>
    private static SqliteCommand Prepared(DbConnection c, DbTransaction t, string sql, int n)
    {
        var cmd = (SqliteCommand)c.CreateCommand();
        cmd.Transaction = (SqliteTransaction)t;
        cmd.CommandText = sql;
        for (int i = 0; i < n; i++) cmd.Parameters.Add(new SqliteParameter("$" + i, null));
        cmd.Prepare();
        return cmd;
    }

    // pooled connections keep the file open; a closed store lets it be moved or deleted
    public override void Dispose()
    {
        using var c = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(c);
    }

    public override bool IsTransient(Exception e) => e is SqliteException s && (s.SqliteErrorCode & 0xFF) is 5 or 6; // SQLITE_BUSY, SQLITE_LOCKED

    public override StoreException? Explain(Exception e) => e switch
    {
        SqliteException { SqliteErrorCode: 26 } => new StoreException($"store '{Path}' is not a SQLite database (nor an Anneal store); give another path", e),
        SqliteException { SqliteErrorCode: 8 } => new StoreException($"store '{Path}' is read-only; give a writable file", e),
        SqliteException { SqliteErrorCode: 14 } => new StoreException($"store '{Path}' cannot be opened or created (no permission in {System.IO.Path.GetDirectoryName(Path)}?); give a writable path", e),
        SqliteException s when (s.SqliteErrorCode & 0xFF) is 5 or 6 => new StoreException($"store '{Path}' stayed locked by another process for {BusyTimeoutMs / 1000} s; retry when it is done", e),
        SqliteException s => new StoreException($"store '{Path}': {s.Message}", e),
        UnauthorizedAccessException or IOException => new StoreException($"store '{Path}': {e.Message}", e),
        _ => null,
    };
}

/// <summary>A PostgreSQL database named by a URL.</summary>
internal sealed class PostgresDialect : Dialect
{
    private readonly NpgsqlDataSource _source;
    private readonly string _display;

    public PostgresDialect(string url)
    {
        _display = Redact(url);
        var b = Parse(url, _display);
        Host = b.Host!;
        Port = b.Port;
        Database = b.Database!;
        _source = NpgsqlDataSource.Create(b);
    }

    public string Host { get; }
    public int Port { get; }
    public string Database { get; }

    public override StoreKind Kind => StoreKind.Postgres;
    public override string Display => _display;
    public override string IdentityKey => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
    public override string WithoutRowId => "";
    public override string ForUpdate => " FOR UPDATE";
    public override int RowsPerStatement => 400;
    public override string OtherTablesSql => "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'schema_version'";

    public override DbConnection Open()
    {
        // a server (or a machine) busy enough to miss the connect timeout once usually answers the next try
        for (int attempt = 1; ; attempt++)
        {
            try { return _source.OpenConnection(); }
            catch (NpgsqlException e) when (e.InnerException is TimeoutException && attempt < 3) { }
        }
    }

    public override void Dispose() => _source.Dispose();

    public override void Lock(DbConnection c, DbTransaction t, StoreLock which)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = t;
        cmd.CommandText = $"SELECT pg_advisory_xact_lock({(long)which})";
        cmd.ExecuteNonQuery();
    }

    public override void InsertNew(DbConnection c, DbTransaction t, NewRows rows)
    {
        var npg = (NpgsqlConnection)c; // COPY joins the connection's open transaction
        if (rows.Points.Count > 0)
        {
            using var w = npg.BeginBinaryImport("COPY points (series_id, step, value) FROM STDIN (FORMAT BINARY)");
            foreach (var (id, steps, values) in rows.Points)
                for (int i = 0; i < steps.Length; i++)
                {
                    w.StartRow();
                    w.Write(id, NpgsqlDbType.Bigint);
                    w.Write(steps[i], NpgsqlDbType.Bigint);
                    w.Write(values[i], NpgsqlDbType.Double);
                }
            w.Complete();
        }
        if (rows.Buckets.Count > 0)
        {
            using var w = npg.BeginBinaryImport("COPY point_buckets (" + NewRows.BucketColumns + ") FROM STDIN (FORMAT BINARY)");
            foreach (var (id, (level, index, a)) in rows.Buckets)
            {
                w.StartRow();
                w.Write(id, NpgsqlDbType.Bigint);
                w.Write(level, NpgsqlDbType.Integer);
                w.Write(index, NpgsqlDbType.Bigint);
                w.Write(a.N, NpgsqlDbType.Bigint);
                w.Write(a.Min, NpgsqlDbType.Double);
                w.Write(a.MinStep, NpgsqlDbType.Bigint);
                w.Write(a.Max, NpgsqlDbType.Double);
                w.Write(a.MaxStep, NpgsqlDbType.Bigint);
                w.Write(a.FirstStep, NpgsqlDbType.Bigint);
                w.Write(a.FirstValue, NpgsqlDbType.Double);
                w.Write(a.LastStep, NpgsqlDbType.Bigint);
                w.Write(a.LastValue, NpgsqlDbType.Double);
            }
            w.Complete();
        }
    }

    // serialization failure, deadlock: the transaction was rolled back and can be run again
    public override bool IsTransient(Exception e) => e is PostgresException { SqlState: "40001" or "40P01" };

    public override StoreException? Explain(Exception e)
    {
        string where = $"PostgreSQL store {_display}";
        return e switch
        {
            PostgresException { SqlState: "28P01" or "28000" } p => new StoreException($"{where}: the server refused the login ({p.MessageText}); check the user and password in the URL", e),
            PostgresException { SqlState: "3D000" } => new StoreException($"{where}: database '{Database}' does not exist; create it (createdb {Database}) or name another in the URL", e),
            PostgresException { SqlState: "42501" } p => new StoreException($"{where}: permission denied ({p.MessageText}); the user needs to create tables in the database", e),
            PostgresException p => new StoreException($"{where}: {p.MessageText}", e),
            NpgsqlException { InnerException: SocketException or TimeoutException } or TimeoutException or SocketException =>
                new StoreException($"{where}: cannot reach the server at {Host}:{Port} ({(e.InnerException ?? e).Message}); check that it is running and the host and port in the URL", e),
            NpgsqlException n => new StoreException($"{where}: {n.Message}", e),
            _ => null,
        };
    }

    /// <summary>Parses <c>postgres://user:password@host:port/database?sslmode=...</c> into connection settings.</summary>
    private static NpgsqlConnectionStringBuilder Parse(string url, string display)
    {
        const string Form = "postgres://user:password@host:port/database";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            throw new StoreException($"store '{display}' is not a valid URL; write it as {Form}");
        var db = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (db.Length == 0) throw new StoreException($"store '{display}' names no database; write it as {Form}");
        if (db.Contains('/')) throw new StoreException($"store '{display}': '{db}' is not a database name; write the URL as {Form}");
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = db,
            // a refused connection fails at once; this bounds the wait for a host that does not answer (a busy
            // server's handshake can take seconds, so not much less than Npgsql's default)
            Timeout = 15,
            ApplicationName = "anneal",
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2) b.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            string key = Uri.UnescapeDataString(kv[0]).ToLowerInvariant(), value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            switch (key)
            {
                case "sslmode":
                    if (!Enum.TryParse<SslMode>(value.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var mode))
                        throw new StoreException($"store '{display}': sslmode '{value}' is not one of disable, allow, prefer, require, verify-ca, verify-full");
                    b.SslMode = mode;
                    break;
                case "connect_timeout":
                    if (!int.TryParse(value, out var t) || t < 1) throw new StoreException($"store '{display}': connect_timeout '{value}' is not a whole number of seconds >= 1");
                    b.Timeout = t;
                    break;
                case "application_name": b.ApplicationName = value; break;
                default: throw new StoreException($"store '{display}': unknown URL parameter '{key}'; the store understands sslmode, connect_timeout and application_name");
            }
        }
        return b;
    }
}
