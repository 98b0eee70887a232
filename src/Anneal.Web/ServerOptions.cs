using System.Net;
using Anneal.Accuracy;
using static Anneal.ParameterName;

namespace Anneal.Web;

/// <summary>How <c>anneal serve</c> runs: where it listens, its token, its store and the example runs it seeds.</summary>
public sealed record ServerOptions
{
    /// <summary>The default port.</summary>
    public const int DefaultPort = 5177;

    /// <summary>Address to listen on; loopback by default, so nothing outside the machine can connect.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port to listen on (0: any free port, reported by <see cref="AnnealServer.Start"/>).</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>Shared secret every request must present (Bearer header or the cookie set by <c>?token=</c>); null for none.</summary>
    public string? Token { get; init; }

    /// <summary>Largest accepted upload (a run file), in bytes.</summary>
    public long MaxUploadBytes { get; init; } = 64L << 20;

    /// <summary>
    /// The bundled example corpora: seeded into an empty store so the dashboard shows real runs at once,
    /// and the corpora of the accuracy table. Empty when the host has none.
    /// </summary>
    public Func<IReadOnlyList<ForecastCorpus>> Examples { get; init; } = () => [];

    /// <summary>Corpora of the accuracy table; null: <see cref="Examples"/>, as <c>anneal accuracy</c> scores them.</summary>
    public Func<IReadOnlyList<ForecastCorpus>>? AccuracyCorpora { get; init; }

    /// <summary>Laws of the accuracy table (the same default list as <c>anneal accuracy</c>).</summary>
    public IReadOnlyList<string> AccuracyLaws { get; init; } = Anneal.Laws.LawRegistry.DefaultSpecs;

    /// <summary>How long a background job (<c>/api/probe</c>'s) lives without a poll: null for <see cref="ProbeJobs.DefaultUnpolled"/>.</summary>
    public TimeSpan? UnpolledJob { get; init; }

    /// <summary>True when <see cref="Host"/> is a loopback address or <c>localhost</c>.</summary>
    public bool IsLoopback => Host == "localhost" || (IPAddress.TryParse(Host, out var a) && IPAddress.IsLoopback(a));

    /// <summary>
    /// Throws <see cref="InputException"/> on options the server must refuse before it starts: a port out of
    /// range, a host that is not an IP address or localhost, a non-loopback host without a token, a short token.
    /// The messages mark the parameters they name (<c>host</c>, <c>port</c>, <c>token</c>), so a front end renders them
    /// in its own words with <see cref="InputException.MessageNaming"/>.
    /// </summary>
    public ServerOptions Validate()
    {
        var (host, port, token) = (Parameter("host"), Parameter("port"), Parameter("token"));
        if (Port is < 0 or > 65535) throw InputException.Naming($"{port} must be between 0 and 65535, got {Port}");
        if (Host != "localhost" && !IPAddress.TryParse(Host, out _))
            throw InputException.Naming($"{host} '{Host}' is not an IP address; use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one interface's address");
        if (!IsLoopback && Token is null)
            throw InputException.Naming($"{host} {Host} lets other machines connect, so it needs {token} T (a secret of at least 16 characters every request must present)");
        if (Token is { } t && (t.Length < 16 || t.Any(c => c <= ' ' || c > '~')))
            throw InputException.Naming($"{token} must be at least 16 printable ASCII characters without spaces (e.g. the output of 'openssl rand -hex 16')");
        if (UnpolledJob is { } u && u <= TimeSpan.Zero) throw InputException.Naming($"{Parameter("unpolled_job")} must be positive, got {u}");
        if (MaxUploadBytes < 1024) throw InputException.Naming($"{Parameter("max_upload_bytes")} must be at least 1024, got {MaxUploadBytes}");
        return this;
    }
}
