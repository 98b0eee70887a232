namespace Anneal.Tests.Cli;

/// <summary>
/// Commands run concurrently in one process, each with its own writers (<c>AnnealCli.Run</c> hands them to the command
/// instead of swapping the global Console). Not in the serial "Console" collection on purpose.
/// </summary>
public class ConcurrentRunTests
{
    [Fact]
    public async Task Two_commands_run_at_once_each_write_exactly_their_own_output()
    {
        // Independent source: each command's output when it runs alone. A schedule sample writes 20,000 lines to its
        // output while it runs; optimize writes progress lines to its error writer and a table at the end. Were either
        // writing through a process-wide Console, the other's writers would receive some of its lines (or lose some).
        string[] sample = ["schedule", "sample", "cosine(peak=3e-4, total=20000, warmup=100)", "--steps", "20000"];
        string[] optimize = ["optimize", "mpl-25m", "--steps", "2000", "--peak", "1e-3", "--warmup", "100"];
        var aloneSample = CliRunner.Run(sample);
        var aloneOptimize = CliRunner.Run(optimize);
        aloneSample.Code.ShouldBe(0);
        aloneOptimize.Code.ShouldBe(0);
        aloneSample.Out.Split('\n').Length.ShouldBeGreaterThan(20000);
        aloneOptimize.Err.ShouldContain("optimize: ");
        for (int round = 0; round < 3; round++)
        {
            using var start = new Barrier(2);
            var a = Task.Run(() => { start.SignalAndWait(); return CliRunner.Run(sample); });
            var b = Task.Run(() => { start.SignalAndWait(); return CliRunner.Run(optimize); });
            var both = await Task.WhenAll(a, b);
            both[0].ShouldBe(aloneSample, $"round {round}: schedule sample");
            both[1].ShouldBe(aloneOptimize, $"round {round}: optimize");
        }
    }
}
