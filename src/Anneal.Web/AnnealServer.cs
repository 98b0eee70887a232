using System.Net;
using Anneal.Web.Api;
using Anneal.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Anneal.Web;

/// <summary>
/// The dashboard server: a JSON API under <c>/api/</c> and the embedded static UI. <see cref="AddServices"/> and
/// <see cref="UsePipeline"/> compose it on any host (Kestrel in <see cref="Start"/>, the test server in tests).
/// </summary>
public static class AnnealServer
{
    /// <summary>Registers the options, the run store (seeded with the examples when empty) and the dashboard's caches.</summary>
    public static void AddServices(IServiceCollection services, ServerOptions options, RunStore store)
    {
        services.AddSingleton(options);
        services.AddSingleton(store);
        services.AddSingleton<Dashboard>();
        services.AddRouting();
    }

    /// <summary>
    /// The request pipeline: JSON errors without stack traces, security headers, the host check (loopback binding),
    /// the token check, then the API, the static UI, and a JSON 404 for every other path.
    /// </summary>
    public static void UsePipeline(IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<ServerOptions>();
        app.Use(ErrorHandling.Middleware);
        app.Use(Security.Headers);
        if (options.IsLoopback) app.Use(Security.LoopbackHostOnly);
        if (options.Token is not null) app.Use(Security.TokenCheck(options.Token));
        app.UseRouting();
        app.UseEndpoints(e =>
        {
            RunsApi.Map(e);
            ForecastApi.Map(e);
            CalibrationApi.Map(e);
            ProbeApi.Map(e);
            DesignApi.Map(e);
            AccuracyApi.Map(e);
            LiveApi.Map(e);
            StudiesApi.Map(e);
            ArtifactsApi.Map(e);
            StaticAssets.Map(e);
            // Every other path, file-like ones included (MapFallback skips those), is a JSON 404.
            e.Map("/{**path}", () => ErrorHandling.Json(StatusCodes.Status404NotFound, "no such page or API route; the API lives under /api/ (GET /api/runs, ...) and the UI at /")).WithOrder(int.MaxValue);
        });
    }

    /// <summary>
    /// Starts Kestrel on <see cref="ServerOptions.Host"/>:<see cref="ServerOptions.Port"/> and returns the running app
    /// and the address it listens on. The options must have been validated.
    /// </summary>
    public static async Task<(WebApplication App, Uri Address)> Start(ServerOptions options, RunStore store, CancellationToken cancel = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            var ip = options.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Host);
            k.Listen(ip, options.Port);
            k.Limits.MaxRequestBodySize = options.MaxUploadBytes;
        });
        AddServices(builder.Services, options, store);
        var app = builder.Build();
        UsePipeline(app);
        // Seeding (an empty store gets the examples) happens before the first request is accepted.
        var dashboard = app.Services.GetRequiredService<Dashboard>();
        await app.StartAsync(cancel);
        // The designer's path is compiled in the background, so that the first slider move is not the one that pays the JIT.
        _ = Task.Run(() => { try { DesignApi.WarmUp(dashboard); } catch (Exception) { /* a warm-up only: the request reports any error itself */ } }, cancel);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal).Replace("0.0.0.0", "localhost", StringComparison.Ordinal)));
    }
}
