using Anneal.Cli.Commands;
using Anneal.Web;
using Anneal.Web.Runs;
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

    public IRunSource Runs { get; init; } = new MemoryRunSource();

    protected override IHostBuilder CreateHostBuilder() => new HostBuilder().ConfigureWebHost(w => w
        .ConfigureServices(s => AnnealServer.AddServices(s, Options, Runs))
        .Configure(AnnealServer.UsePipeline));
}

/// <summary>One dashboard with the seeded examples, shared by the read-mostly API tests.</summary>
public sealed class SeededServer : IDisposable
{
    public ServerFactory Factory { get; } = new();

    public HttpClient Client { get; }

    public SeededServer() => Client = Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    public void Dispose() => Factory.Dispose();
}
