using System.Diagnostics;
using System.Globalization;

namespace Anneal.Web.Tests;

/// <summary>
/// <c>anneal serve</c> as users run it: the CLI's own process (its runtime settings: no tiered JIT), on a free port,
/// killed when disposed if still running (the benchmarks and the SIGTERM test use it).
/// </summary>
public sealed class ServeProcess : IDisposable
{
    public Process Process { get; }
    public Uri Address { get; }

    public ServeProcess(string store)
    {
        var cli = Path.Combine(ApiTests.RepoRoot(), "src", "Anneal.Cli", "bin", "Release", "net10.0", "Anneal.Cli.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { cli, "serve", "--store", store, "--port", "0" }) psi.ArgumentList.Add(a);
        Process = Process.Start(psi)!;
        // "anneal serve: http://127.0.0.1:PORT/  (store ...)" once seeding is done and Kestrel listens.
        var line = Process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("anneal serve exited: " + Process.StandardError.ReadToEnd());
        Address = new Uri(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]);
    }

    /// <summary>Resident memory of the server process (VmRSS), MB.</summary>
    public double RssMb()
    {
        var kb = File.ReadLines($"/proc/{Process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return double.Parse(kb, CultureInfo.InvariantCulture) / 1024;
    }

    public void Dispose()
    {
        if (!Process.HasExited) { Process.Kill(entireProcessTree: true); Process.WaitForExit(10_000); }
        Process.Dispose();
    }
}
