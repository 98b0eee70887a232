using System.CommandLine;
using System.Runtime.CompilerServices;

namespace Anneal.Cli.Commands;

/// <summary>
/// <c>anneal serve</c>: the dashboard. Only its action touches ASP.NET Core (in <see cref="ServeRunner"/>), so the
/// other commands never load it.
/// </summary>
public static class ServeCommand
{
    /// <summary>The command.</summary>
    public static Command Build()
    {
        var store = RunsCommands.StoreOption();
        var port = new Option<int>("--port", "-p") { Description = "Port to listen on.", DefaultValueFactory = _ => 5177 };
        var host = new Option<string>("--host") { Description = "Address to listen on: 127.0.0.1 (default: this machine only), 0.0.0.0 (every interface; needs --token) or an interface's address.", DefaultValueFactory = _ => "127.0.0.1" };
        var token = new Option<string?>("--token") { Description = "Secret every request must present (at least 16 characters). Required with any --host other than loopback; open the printed address ending in ?token=... once, the browser keeps it in a cookie." };
        var cmd = new Command("serve", """
            Serve the dashboard: runs, compare, forecast, designer, accuracy, live and sweeps pages, and their JSON API under /api/.
            An empty store opens with the bundled example runs. Stop with Ctrl-C.
            Examples:
              anneal serve                       # http://127.0.0.1:5177/
              anneal serve --store runs.db       # a store of your own (anneal runs add, anneal train --store)
              anneal serve --host 0.0.0.0 --token "$(openssl rand -hex 16)"
            """) { store, port, host, token };
        cmd.SetAction((r, cancel) => ServeRunner.Run(r.GetValue(store), r.GetValue(host)!, r.GetValue(port), r.GetValue(token), CliContext.Of(r).Out, cancel));
        return cmd;
    }
}

/// <summary>Starts the server; kept apart from <see cref="ServeCommand"/> so that building the command tree loads no ASP.NET assembly.</summary>
internal static class ServeRunner
{
    /// <summary>The bundled example corpora: the multi-power-law benchmark curves per size and the engine's own corpora.</summary>
    public static IReadOnlyList<Anneal.Accuracy.ForecastCorpus> Examples()
    {
        var bench = BundledBenchmark.Open(null);
        return [.. bench.Sizes.Select(bench.Corpus), .. BundledCorpora.All()];
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static async Task<int> Run(string? storeLocation, string host, int port, string? token, TextWriter output, CancellationToken cancel)
    {
        var options = new Anneal.Web.ServerOptions { Host = host, Port = port, Token = token, Examples = Examples }.Validate();
        using var store = RunsCommands.Open(storeLocation);
        Microsoft.AspNetCore.Builder.WebApplication app;
        Uri address;
        try { (app, address) = await Anneal.Web.AnnealServer.Start(options, store, cancel); }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException || e.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
        {
            throw new InputException($"--host {host} --port {port}: cannot listen there ({e.Message}); pick another port with --port, or stop what uses it");
        }
        var open = token is null ? address.ToString() : $"{address}?token={Uri.EscapeDataString(token)}";
        output.WriteLine($"anneal serve: {open}  (store {store.Location}; Ctrl-C to stop)");
        // The host's console lifetime takes SIGTERM (and Ctrl-C) for itself: it only asks the app to stop. Waiting on
        // that too, not only on the command's token, is what lets `kill`, systemd or Slurm stop the server.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel, app.Lifetime.ApplicationStopping);
        try { await Task.Delay(Timeout.Infinite, stop.Token); }
        catch (OperationCanceledException) { }
        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
        return CliExit.Ok;
    }
}
