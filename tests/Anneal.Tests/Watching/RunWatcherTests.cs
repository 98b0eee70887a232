using System.Globalization;
using Anneal.Laws;
using Anneal.Schedules;
using Anneal.Tests.Curves;
using Anneal.Watching;
using static Anneal.Tests.Cli.CliRunner;

namespace Anneal.Tests.Watching;

/// <summary>
/// <c>anneal watch</c> end to end: a test task appends to a log while the watcher follows it. The log is a cosine run of
/// a multi-power law with known parameters, so the forecast made on the whole run must recover the law's final loss.
/// </summary>
[Collection("Console")] // the serial collection of the in-process CLI tests
public sealed class RunWatcherTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private const string Spec = "cosine(peak=3e-4, total=3000, warmup=200, min=3e-5)";
    private static readonly double[] Truth = [2.53, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63];

    /// <summary>Rows step,lr,loss every 20 steps from the law's prediction (the closed form of the known parameters).</summary>
    private static (string Header, string[] Rows, double Final) Log()
    {
        var eta = Schedule.Parse(Spec).Sample(3000);
        var steps = Enumerable.Range(0, 150).Select(i => 20L * i + 19).ToArray();
        var loss = new MultiPowerLaw().Predict(eta, steps, Truth);
        var rows = steps.Select((s, i) => string.Create(CultureInfo.InvariantCulture, $"{s},{eta[s]:R},{loss[i]:R}\n")).ToArray();
        return ("step,lr,loss\n", rows, loss[^1]);
    }

    private static async Task Grow(string path, string[] rows, int start, int chunk, TimeSpan pause)
    {
        for (int i = start; i < rows.Length; i += chunk)
        {
            await Task.Delay(pause);
            // append as a logger does: open, write the rows, close
            await File.AppendAllTextAsync(path, string.Concat(rows.Skip(i).Take(chunk)));
        }
    }

    [Fact]
    public async Task Follows_an_appended_log_to_its_last_step_and_recovers_the_known_final_loss()
    {
        var (header, rows, final) = Log();
        var path = _tmp.Combine("live.csv");
        // the job has logged only its warmup (steps 19..99 of a 200-step warmup) when the watch starts
        File.WriteAllText(path, header + string.Concat(rows.Take(5)));
        var updates = new List<WatchUpdate>();
        var request = new WatchRequest(path, Spec, "mpl") { Poll = TimeSpan.FromMilliseconds(50), IdleStop = TimeSpan.FromSeconds(30) };
        var grow = Grow(path, rows, 5, 29, TimeSpan.FromMilliseconds(600));
        var result = await RunWatcher.RunAsync(request, new Sync(updates.Add));
        await grow;

        result.Reason.ShouldBe(WatchStop.Finished);
        updates.Count.ShouldBeGreaterThanOrEqualTo(2); // appends that land during a refit are read together
        updates[0].Step.ShouldBeGreaterThan(200 + 8 * 20); // the first forecast waits for 8 points past the warmup
        updates[^1].Step.ShouldBe(2999);
        updates.Select(u => u.Step).ShouldBeInOrder(SortDirection.Ascending);
        updates[^1].TotalSteps.ShouldBe(3000);
        // the known law's own final loss, recovered by the fit on the whole run
        updates[^1].FinalLoss.ShouldBe(final, final * 0.002);
        updates.Skip(1).ShouldContain(u => u.Eta != null);
    }

    [Fact]
    public async Task Stops_when_the_log_stops_growing_and_on_cancellation()
    {
        var (header, rows, _) = Log();
        var path = _tmp.Combine("stalled.csv");
        File.WriteAllText(path, header + string.Concat(rows.Take(60)));
        var request = new WatchRequest(path, Spec, "mpl") { Poll = TimeSpan.FromMilliseconds(50), IdleStop = TimeSpan.FromMilliseconds(800) };
        var r = await RunWatcher.RunAsync(request, new Sync(_ => { }));
        r.Reason.ShouldBe(WatchStop.Idle);
        r.Updates.ShouldBe(1);

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        r = await RunWatcher.RunAsync(request with { IdleStop = TimeSpan.FromMinutes(5) }, new Sync(_ => { }), cts.Token);
        r.Reason.ShouldBe(WatchStop.Cancelled);
    }

    [Fact]
    public async Task Cli_prints_one_line_per_update_in_a_pipe_with_the_band_eta_and_verdict()
    {
        var (header, rows, _) = Log();
        var path = _tmp.Combine("cli.csv");
        File.WriteAllText(path, header + string.Concat(rows.Take(75)));
        var grow = Grow(path, rows, 75, 75, TimeSpan.FromMilliseconds(1500));
        var (code, stdout, err) = await Task.Run(() => Run("watch", path, "--schedule", Spec, "--law", "mpl", "--poll", "0.05", "--idle", "20",
            "--against", "constant(peak=1e-4, warmup=200)"));
        await grow;
        code.ShouldBe(0, err);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBe(2, stdout);
        lines[0].ShouldStartWith("step 1499/3000 (50%)");
        lines[1].ShouldStartWith("step 2999/3000 (100%)");
        lines[1].ShouldContain("final ");
        lines[1].ShouldContain("(95%)");
        lines[1].ShouldContain("vs constant(");
        // the verdict of the known law itself: its final loss under each schedule
        var law = new MultiPowerLaw();
        double Final(string spec) => law.Predict(Schedule.Parse(spec).Sample(3000), [2999L], Truth)[0];
        bool beats = Final(Spec) < Final("constant(peak=1e-4, warmup=200)");
        lines[1].ShouldContain(beats ? "beats it" : "behind", customMessage: stdout);
        stdout.ShouldNotContain("\r");
        err.ShouldContain("reached its last step");
    }

    [Fact]
    public async Task A_forecast_past_the_first_epoch_warns_until_the_log_itself_passes_it()
    {
        // Independent source: EpochBoundary's rule (docs/journal/session-18-repeated-data.md) applied by hand: with 2,000 steps
        // an epoch and a 3,000-step plan, a forecast made from points that end before step 2,000 trains past the first epoch
        // (1.5 epochs, under the 4 that keep a band) and must say so, naming step 2,000; once the log's points pass step 2,000
        // the law is fitted on repeated data and nothing is said.
        var (header, rows, _) = Log();
        var early = _tmp.Combine("early.csv");
        File.WriteAllText(early, header + string.Concat(rows.Take(60))); // steps 19..1199
        var request = new WatchRequest(early, Spec, "mpl") { Poll = TimeSpan.FromMilliseconds(50), IdleStop = TimeSpan.FromMilliseconds(500), StepsPerEpoch = 2000 };
        var updates = new List<WatchUpdate>();
        await RunWatcher.RunAsync(request, new Sync(updates.Add));
        updates.Count.ShouldBe(1);
        updates[0].MessagesNaming(n => n).ShouldContain(m => m.Contains("past step 2000") && m.Contains("1.5 epochs"), string.Join(" | ", updates[0].MessagesNaming(n => n)));
        updates[0].Low.ShouldBeLessThan(updates[0].FinalLoss); // within 4 epochs the band stays

        var late = _tmp.Combine("late.csv");
        File.WriteAllText(late, header + string.Concat(rows.Take(120))); // steps 19..2399: past the epoch
        updates.Clear();
        await RunWatcher.RunAsync(request with { LogPath = late }, new Sync(updates.Add));
        updates.Count.ShouldBe(1);
        updates[0].MessagesNaming(n => n).ShouldNotContain(m => m.Contains("epoch"));
    }

    [Fact]
    public void Bad_input_is_refused_before_watching()
    {
        var (code, _, err) = Run("watch", _tmp.Combine("nofolder/x.csv"), "--schedule", Spec);
        code.ShouldBe(2);
        err.ShouldContain("neither the log nor its folder exists");
        (code, _, err) = Run("watch", _tmp.Combine("x.csv"), "--schedule", "constant(peak=3e-4, warmup=10)");
        code.ShouldBe(2);
        err.ShouldContain("no total length");
        (code, _, err) = Run("watch", _tmp.Combine("x.csv"), "--schedule", Spec, "--level", "2");
        code.ShouldBe(2);
        err.ShouldContain("--level");
        (code, _, err) = Run("watch", _tmp.Combine("x.csv"), "--schedule", Spec, "--steps-per-epoch", "0");
        code.ShouldBe(2);
        err.ShouldContain("--steps-per-epoch must be a whole number of steps >= 1");
    }

    private sealed class Sync(Action<WatchUpdate> a) : IProgress<WatchUpdate>
    {
        public void Report(WatchUpdate value) => a(value);
    }
}
