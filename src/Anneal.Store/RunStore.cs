using System.Data.Common;
using System.Reflection;

namespace Anneal.Store;

/// <summary>
/// The run store: runs and their curves (raw points plus downsampled views), fitted laws, forecasts and designs with
/// their provenance, and the studies and trials of sweeps, in one SQLite file or one PostgreSQL database with the same
/// schema (<see cref="Migrations"/>) and the same SQL. Open it with <see cref="Open"/>.
/// <para>
/// Thread-safe: every call takes a pooled connection of its own, so one instance serves a web server's requests and a
/// trainer's appends at once. Several processes may share a store: SQLite runs in WAL mode (readers never block the
/// writer) with a busy timeout, PostgreSQL with its row locks, and write transactions that hit contention are retried
/// whole (<see cref="MaxAttempts"/>). Each run should have one writer at a time (its trainer or importer).
/// </para>
/// </summary>
public sealed partial class RunStore : IDisposable
{
    /// <summary>The most runs one <see cref="ListRuns"/> page returns.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>How many times a write transaction is tried when the database reports contention.</summary>
    public const int MaxAttempts = 8;

    private readonly Dialect _db;

    private RunStore(Dialect db) => _db = db;

    /// <summary>SQLite or PostgreSQL.</summary>
    public StoreKind Kind => _db.Kind;

    /// <summary>The store's location as shown to users: the SQLite file's full path, or the URL with its password hidden.</summary>
    public string Location => _db.Display;

    /// <summary>The schema version this build writes (stores are migrated to it when opened).</summary>
    public static int SchemaVersion => Migrations.Latest;

    /// <summary>The Anneal version recorded with every result (the informational version of the Anneal library).</summary>
    public static string AnnealVersion { get; } =
        typeof(Anneal.Curves.LossCurve).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>
    /// The store used when none is named: <c>$ANNEAL_STORE</c> when set, else <c>anneal.db</c> under
    /// <c>$XDG_DATA_HOME/anneal</c> (by default <c>~/.local/share/anneal/anneal.db</c>).
    /// </summary>
    public static string DefaultLocation
    {
        get
        {
            if (Environment.GetEnvironmentVariable("ANNEAL_STORE") is { Length: > 0 } env) return env;
            var data = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } x ? x
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
            return Path.Combine(data, "anneal", "anneal.db");
        }
    }

    /// <summary>Clock for timestamps (tests move it).</summary>
    internal Func<DateTimeOffset> Clock { get; set; } = () => DateTimeOffset.UtcNow;

    private long Now => Clock().ToUnixTimeMilliseconds();

    /// <summary>
    /// Opens (creating and migrating when needed) the store at <paramref name="location"/>: a SQLite file path, or a
    /// <c>postgres://user:password@host:port/database</c> URL (also <c>postgresql://</c>; optional <c>?sslmode=</c>,
    /// <c>connect_timeout=</c>, <c>application_name=</c>). Null opens <see cref="DefaultLocation"/>, creating its folder.
    /// Connects before returning, so an unusable store fails here, not at the first write.
    /// </summary>
    /// <exception cref="StoreException">The location is malformed, unreachable, not an Anneal store, or newer than this build.</exception>
    public static RunStore Open(string? location = null)
    {
        if (location is null)
        {
            location = DefaultLocation;
            if (!location.Contains("://", StringComparison.Ordinal))
            {
                var folder = Path.GetDirectoryName(Path.GetFullPath(location))!;
                try { Directory.CreateDirectory(folder); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new StoreException($"cannot create the default store's folder {folder} ({e.Message}); name a store elsewhere", e);
                }
            }
        }
        var db = Dialect.For(location);
        try
        {
            using (var c = db.Open())
            {
                if (db is SqliteDialect sqlite) sqlite.EnableWal(c);
                Migrations.Apply(db, c);
            }
            return new RunStore(db);
        }
        catch (Exception e) when (e is not StoreException && db.Explain(e) is { } explained)
        {
            db.Dispose();
            throw explained;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>Releases the store's pooled connections.</summary>
    public void Dispose() => _db.Dispose();

    /// <summary>Runs <paramref name="work"/> in a write transaction, retrying the whole transaction on contention.</summary>
    private T Write<T>(Func<DbConnection, DbTransaction, T> work)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                using var c = _db.Open();
                using var t = _db.Begin(c);
                var result = work(c, t);
                t.Commit();
                return result;
            }
            catch (Exception e) when (attempt < MaxAttempts && _db.IsTransient(e))
            {
                Backoff(attempt);
            }
        }
    }

    private void Write(Action<DbConnection, DbTransaction> work) => Write<bool>((c, t) => { work(c, t); return true; });

    /// <summary>Runs <paramref name="work"/> on a connection of its own, retrying on contention.</summary>
    private T Read<T>(Func<DbConnection, T> work)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                using var c = _db.Open();
                return work(c);
            }
            catch (Exception e) when (attempt < MaxAttempts && _db.IsTransient(e))
            {
                Backoff(attempt);
            }
        }
    }

    /// <summary>Rows in one of the store's tables (tests count points, views and tags with it).</summary>
    internal long CountRows(string table) => Read(c => Dapper.SqlMapper.ExecuteScalar<long>(c, $"SELECT COUNT(*) FROM {table}"));

    /// <summary>Runs a statement directly (tests plant states that the API cannot make, e.g. a newer schema version).</summary>
    internal void Execute(string sql) => Write((c, t) => { Dapper.SqlMapper.Execute(c, sql, transaction: t); });

    // exponential with jitter, so that writers that collided do not collide again in step
    private static void Backoff(int attempt) => Thread.Sleep(Random.Shared.Next(5, 20) << Math.Min(attempt, 6));

    private static string Status(RunStatus s) => s.ToString().ToLowerInvariant();

    private static RunStatus ParseStatus(string s) => Enum.Parse<RunStatus>(s, ignoreCase: true);

    private static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static DateTimeOffset? Time(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;
}
