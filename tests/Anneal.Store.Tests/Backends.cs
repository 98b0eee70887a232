using Npgsql;

namespace Anneal.Store.Tests;

/// <summary>
/// The databases the store tests run against: a fresh SQLite file each time, and, when <c>ANNEAL_TEST_POSTGRES</c>
/// names a PostgreSQL server (.ci/start-postgres starts one), a fresh database on it each time. Under CI=true a
/// missing server is a failure, not a skip.
/// </summary>
internal static class Backends
{
    /// <summary>The server URL from the environment, or null.</summary>
    public static string? PostgresUrl => Environment.GetEnvironmentVariable("ANNEAL_TEST_POSTGRES") is { Length: > 0 } u ? u : null;

    /// <summary>True under CI, where every backend must be tested.</summary>
    public static bool UnderCi => Environment.GetEnvironmentVariable("CI") is "true" or "1";

    /// <summary>Why PostgreSQL tests are skipped here, or null when they run.</summary>
    public static string? PostgresMissing => PostgresUrl is null && !UnderCi
        ? "needs a PostgreSQL server: set ANNEAL_TEST_POSTGRES=postgres://user:password@host:port/db (.ci/start-postgres starts a throwaway one)"
        : null;

    /// <summary>The backends to run a store theory on: sqlite always, postgres when configured or under CI.</summary>
    public static TheoryData<string> All()
    {
        var d = new TheoryData<string> { "sqlite" };
        if (PostgresMissing is null) d.Add("postgres");
        return d;
    }

    /// <summary>A new, empty store of the given kind (and its location), deleted on dispose.</summary>
    public static TempStore Create(string kind) => kind switch
    {
        "sqlite" => TempStore.Sqlite(),
        "postgres" => TempStore.Postgres(),
        _ => throw new ArgumentException(kind),
    };
}

/// <summary>A throwaway store: a SQLite file in a temp folder, or a fresh PostgreSQL database.</summary>
internal sealed class TempStore : IDisposable
{
    private readonly Action _cleanup;

    private TempStore(string location, Action cleanup)
    {
        Location = location;
        _cleanup = cleanup;
        Store = RunStore.Open(location);
    }

    public string Location { get; }
    public RunStore Store { get; }

    /// <summary>Another instance on the same store (its own connection pool, as another process would have).</summary>
    public RunStore OpenAnother() => RunStore.Open(Location);

    public static TempStore Sqlite()
    {
        var dir = Directory.CreateTempSubdirectory("anneal-store-").FullName;
        return new TempStore(Path.Combine(dir, "anneal.db"), () => Directory.Delete(dir, recursive: true));
    }

    public static TempStore Postgres()
    {
        var url = Backends.PostgresUrl ?? throw new InvalidOperationException(
            "CI=true but ANNEAL_TEST_POSTGRES is not set: .ci/run must start PostgreSQL (.ci/start-postgres) and export its URL");
        string db = "anneal_t_" + Guid.NewGuid().ToString("N")[..12];
        // PostgreSQL refuses concurrent CREATE DATABASE from one template ("template1 is being accessed by other
        // users"): one at a time here, and a retry for another process's
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                lock (CreateLock) Admin(url, $"CREATE DATABASE {db}");
                break;
            }
            catch (PostgresException e) when (e.SqlState == "55006" && attempt < 20)
            {
                Thread.Sleep(200 * attempt);
            }
        }
        var u = new UriBuilder(url) { Path = "/" + db };
        return new TempStore(u.Uri.ToString(), () => Admin(url, $"DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
    }

    private static readonly object CreateLock = new();

    private static void Admin(string url, string sql)
    {
        var uri = new Uri(url);
        var parts = uri.UserInfo.Split(':', 2);
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host, Port = uri.Port, Database = uri.AbsolutePath.Trim('/'), Pooling = false,
            Username = Uri.UnescapeDataString(parts[0]), Password = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : null,
        };
        using var c = new NpgsqlConnection(b.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        Store.Dispose();
        NpgsqlConnection.ClearAllPools();
        _cleanup();
    }
}

/// <summary>A fact that needs PostgreSQL: skipped with the reason when no server is configured (never under CI).</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (Backends.PostgresMissing is { } why) Skip = why;
    }
}
