using System.Diagnostics;
using Xunit;

namespace Anneal.Web.Tests;

/// <summary>
/// <c>anneal serve</c> stops on SIGTERM, as `kill`, systemd and Slurm stop it: the host's console lifetime takes the
/// signal for itself and only asks the app to stop, so the command has to wait on that request as well as on its own
/// token (before the fix the process ignored SIGTERM and had to be killed).
/// </summary>
public sealed class ServeSignalTests
{
    [Fact]
    public void Serve_exits_cleanly_on_SIGTERM()
    {
        var dir = Directory.CreateTempSubdirectory("anneal-serve-term-");
        try
        {
            using var serve = new ServeProcess(Path.Combine(dir.FullName, "runs.db"));
            using (var kill = Process.Start("kill", ["-TERM", serve.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                kill.WaitForExit();
            // A liveness bound, not a speed claim: a server that ignores the signal never exits.
            serve.Process.WaitForExit(60_000).ShouldBeTrue("anneal serve was still running 60 s after SIGTERM");
            serve.Process.ExitCode.ShouldBe(0);
        }
        finally { dir.Delete(recursive: true); }
    }
}
