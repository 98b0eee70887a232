using Anneal.Cli.Commands;
using Anneal.Store;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Hosting;

namespace Anneal.Web.Tests;

/// <summary>
/// The dashboard on the test server, composed exactly as <c>anneal serve</c> composes it (services, pipeline,
/// the CLI's bundled examples), but without Kestrel or a port.
/// </summary>
public sealed class ServerFactory : WebApplicationFactory<Program>
{
    public ServerOptions Options { get; init; } = new() { Examples = ServeRunner.Examples };

    /// <summary>A fresh SQLite store in a temporary folder, removed with the factory.</summary>
    public RunStore Store { get; } = RunStore.Open(TempStore.NewPath());

    protected override IHostBuilder CreateHostBuilder() => new HostBuilder().ConfigureWebHost(w => w
        .ConfigureServices(s => AnnealServer.AddServices(s, Options, Store))
        .Configure(AnnealServer.UsePipeline));

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) { var where = Store.Location; Store.Dispose(); TempStore.Remove(where); }
    }
}

/// <summary>Temporary SQLite store files.</summary>
public static class TempStore
{
    public static string NewPath() => Path.Combine(Directory.CreateTempSubdirectory("anneal-web-test-").FullName, "anneal.db");

    public static void Remove(string path)
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(Path.GetDirectoryName(path)!, recursive: true); } catch (IOException) { }
    }
}

/// <summary>One dashboard with the seeded examples, shared by the read-mostly API tests.</summary>
public sealed class SeededServer : IDisposable
{
    public ServerFactory Factory { get; } = new();

    public HttpClient Client { get; }

    public SeededServer()
    {
        Client = Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Client.Timeout = TimeSpan.FromMinutes(10); // the first request seeds the store, slow on a loaded machine
    }

    public void Dispose() => Factory.Dispose();
}
