using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Anneal.Training.Data;

namespace Anneal.Training.Tests;

/// <summary>
/// The trainer's event stream: subscribers see what the CSV log holds, evaluations match its val_loss cells, and slow
/// or failing subscribers neither change the curve nor hold training up beyond their buffer.
/// </summary>
public class TrainEventTests : IDisposable
{
    private const string Model = "gpt(layers=1, heads=2, dim=16, seq=16)";
    private readonly string _dir = Directory.CreateTempSubdirectory("anneal-events-").FullName;

    private static TextDataset Brown()
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "tests", "Anneal.Training.Tests", "Data", "brown-sample.txt"));
        int cut = bytes.Length * 9 / 10;
        return new TextDataset("brown-sample", bytes[..cut], bytes[cut..]);
    }

    private TrainConfig Config(string name, int steps = 12) => new()
    {
        Model = Model, Schedule = $"cosine(peak=3e-3, total={steps}, warmup=2)", Steps = steps, Batch = 4, EvalEvery = 4, EvalBatches = 2, Seed = 42,
        Out = Path.Combine(_dir, name + ".csv"), Threads = 2,
    };

    /// <summary>The standard file subscribers plus <paramref name="extra"/>, on a fresh stream.</summary>
    private static TrainEventStream Stream(TrainConfig cfg, params (Action<TrainEvent> OnEvent, TrainSubscriptionOptions? Options)[] extra)
    {
        var events = new TrainEventStream();
        events.Subscribe(new TrainLogWriter(cfg.Out).OnEvent);
        events.Subscribe(new CheckpointWriter().OnEvent, CheckpointWriter.Options);
        foreach (var (onEvent, options) in extra) events.Subscribe(onEvent, options);
        return events;
    }

    private static string[][] Cells(string csv) => File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',')).ToArray();

    private static double D(string cell) => cell.Length == 0 ? double.NaN : double.Parse(cell, CultureInfo.InvariantCulture);

    private static string[] Curve(string csv) => File.ReadAllLines(csv).Select(l => string.Join(',', l.Split(',')[..6])).ToArray(); // all columns but seconds

    [Fact]
    public void A_subscriber_receives_exactly_the_rows_of_the_csv_across_a_kill_and_resume()
    {
        // Independent source: the CSV file that TrainLogWriter wrote, parsed cell by cell (round-trip numbers, so equality is exact).
        var cfg = Config("rows", steps: 13) with { EvalEvery = 5, LogEvery = 3 };
        var seen = new List<TrainLogRow>();
        var steps = new List<StepCompleted>();
        void Record(TrainEvent e)
        {
            if (e is RunStarted s) { seen.Clear(); seen.AddRange(s.Rows); }   // a resumed run restarts from its checkpoint's rows
            if (e is StepCompleted u) { steps.Add(u); if (u.LogRow is { } r) seen.Add(r); }
        }
        Trainer.Run(cfg, Brown(), Stream(cfg, (Record, null)), haltAfter: 7).Halted.ShouldBeTrue();
        Trainer.Run(cfg with { Resume = true }, Brown(), Stream(cfg, (Record, null)));
        var rows = Cells(cfg.Out);
        rows.Select(r => long.Parse(r[0], CultureInfo.InvariantCulture)).ShouldBe([2L, 4, 5, 8, 9, 11, 12]); // s+1 a multiple of 3 or 5, and the last
        seen.Count.ShouldBe(rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            var (r, c) = (seen[i], rows[i]);
            r.Step.ShouldBe(long.Parse(c[0], CultureInfo.InvariantCulture));
            r.Lr.ShouldBe(D(c[1])); r.Loss.ShouldBe(D(c[2])); r.ValLoss.ShouldBe(D(c[3])); r.GradNorm.ShouldBe(D(c[4]));
            r.Tokens.ShouldBe(long.Parse(c[5], CultureInfo.InvariantCulture));
            r.ToCsv().ShouldBe(string.Join(',', c));
        }
        // and one StepCompleted per completed update: the killed run's 0..5 (row 6 still waited for update 7's forward
        // pass), then the resumed run's from its checkpoint after 5 updates, whose pending row 4 it completes first
        steps.Select(u => u.Step).ShouldBe([0L, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        // the same run in one piece through the standard overload (the CLI's) writes the same log
        var straight = cfg with { Out = Path.Combine(_dir, "straight.csv") };
        Trainer.Run(straight, Brown(), TextWriter.Null);
        Curve(straight.Out).ShouldBe(Curve(cfg.Out));
    }

    [Fact]
    public void Every_update_is_an_event_with_the_values_of_its_row()
    {
        // Independent source: the per-update CSV (log_every = 1); the per-update loss of the event is the row's loss.
        var cfg = Config("every");
        var steps = new List<StepCompleted>();
        Trainer.Run(cfg, Brown(), Stream(cfg, (e => { if (e is StepCompleted u) steps.Add(u); }, null)));
        var rows = Cells(cfg.Out);
        steps.Count.ShouldBe(12);
        for (int s = 0; s < 12; s++)
        {
            var (u, c) = (steps[s], rows[s]);
            u.Step.ShouldBe(s);
            u.LogRow.ShouldNotBeNull();
            u.Lr.ShouldBe(D(c[1])); u.Loss.ShouldBe(D(c[2])); u.ValLoss.ShouldBe(D(c[3])); u.GradNorm.ShouldBe(D(c[4]));
            u.Tokens.ShouldBe((s + 1) * 4 * 16);
            // the loss an update's own forward pass measured is the previous row's loss (after updates 0..s-1)
            if (s > 0) u.LossBefore.ShouldBe(D(rows[s - 1][2]));
        }
        steps[0].LossBefore.ShouldBe(Math.Log(256), 0.05); // at initialisation: uniform over 256 bytes
    }

    [Fact]
    public void Evaluation_events_match_the_val_loss_rows()
    {
        // Independent source: the val_loss column of the CSV; evaluations after every 4 updates and after the last.
        var cfg = Config("eval", steps: 10);
        var evals = new List<Evaluated>();
        Trainer.Run(cfg, Brown(), Stream(cfg, (e => { if (e is Evaluated v) evals.Add(v); }, null)));
        var withVal = Cells(cfg.Out).Where(c => c[3].Length > 0).ToArray();
        evals.Select(v => v.Step).ShouldBe([3L, 7, 9]);
        withVal.Select(c => long.Parse(c[0], CultureInfo.InvariantCulture)).ShouldBe(evals.Select(v => v.Step));
        for (int i = 0; i < evals.Count; i++) evals[i].ValLoss.ShouldBe(D(withVal[i][3]));
    }

    [Fact]
    public void Slow_subscribers_do_not_change_the_curve_and_a_lossy_one_keeps_only_its_capacity()
    {
        // Independent source: the same run with no extra subscriber.
        var plain = Config("plain");
        Trainer.Run(plain, Brown(), TextWriter.Null);

        // A lossless subscriber that takes 3 ms per event with a buffer of 1 holds training up, but changes nothing;
        // a lossy one (drop oldest, capacity 4) that is stuck until the run has ended keeps only the newest 4 events.
        var cfg = Config("slow");
        var slow = new List<TrainEvent>();
        var all = new List<TrainEvent>();
        var stuck = new List<TrainEvent>();
        using var ended = new ManualResetEventSlim();
        void Slow(TrainEvent e) { Thread.Sleep(3); slow.Add(e); }
        void All(TrainEvent e) { all.Add(e); if (e is RunEnded) ended.Set(); }
        void Stuck(TrainEvent e) { stuck.Add(e); ended.Wait(TimeSpan.FromMinutes(2)); }
        // Stuck is subscribed before All: an event reaches its buffer before All can see it, so when All sees the
        // end, Stuck's buffer is final.
        var events = Stream(cfg, (Slow, new TrainSubscriptionOptions { Capacity = 1 }),
            (Stuck, new TrainSubscriptionOptions { Capacity = 4, WhenFull = BoundedChannelFullMode.DropOldest }), (All, null));
        Trainer.Run(cfg, Brown(), events);

        Curve(cfg.Out).ShouldBe(Curve(plain.Out));
        slow.ShouldBe(all); // lossless: every event, in order
        all.OfType<StepCompleted>().Select(u => u.Step).ShouldBe(Enumerable.Range(0, 12).Select(i => (long)i));
        all[0].ShouldBeOfType<RunStarted>();
        all[^1].ShouldBeOfType<RunEnded>();
        // the stuck subscriber got the first event that reached it (RunStarted unless its thread started late), then
        // only the last 4 of the run: the rest were dropped while it waited, and training did not wait for it
        stuck.Count.ShouldBe(1 + 4);
        all.IndexOf(stuck[0]).ShouldBeLessThan(all.Count - 4);
        stuck.Skip(1).ShouldBe(all.TakeLast(4));
    }

    [Fact]
    public void A_failing_subscriber_stops_the_run_with_its_exception()
    {
        var cfg = Config("fail", steps: 40);
        var count = 0;
        void Fail(TrainEvent e) { if (e is StepCompleted { Step: 3 }) throw new InvalidOperationException("store is full"); }
        void Count(TrainEvent e) { if (e is StepCompleted) Interlocked.Increment(ref count); }
        var ex = Should.Throw<InvalidOperationException>(() => Trainer.Run(cfg, Brown(), Stream(cfg, (Fail, new TrainSubscriptionOptions { Capacity = 1 }), (Count, null))));
        ex.Message.ShouldBe("store is full");
        count.ShouldBeLessThan(40); // stopped early: the trainer notices at its next event, with at most a buffer in flight
    }

    [Fact]
    public void A_cancelled_run_resumes_bit_for_bit()
    {
        // Independent source: the uninterrupted run. Cancelling acts as a kill between updates.
        var full = Config("full");
        Trainer.Run(full, Brown(), TextWriter.Null);
        var cfg = Config("cancelled");
        using var cts = new CancellationTokenSource();
        TrainEvent? last = null;
        void Watch(TrainEvent e) { last = e; if (e is StepCompleted { Step: 5 }) cts.Cancel(); }
        Should.Throw<OperationCanceledException>(() => Trainer.Run(cfg, Brown(), Stream(cfg, (Watch, new TrainSubscriptionOptions { Capacity = 1 })), cancel: cts.Token));
        last.ShouldBeOfType<RunEnded>().Summary.Halted.ShouldBeTrue();
        Trainer.Run(cfg with { Resume = true }, Brown(), TextWriter.Null);
        Curve(cfg.Out).ShouldBe(Curve(full.Out));
    }

    [Fact]
    public void Divergence_is_an_event_and_the_message_names_parameters()
    {
        var cfg = Config("nan", steps: 30) with { Schedule = "constant(peak=1e30)", Clip = 0, Optimizer = "sgd(momentum=0)" };
        var events = new ConcurrentQueue<TrainEvent>();
        var e = Should.Throw<TrainingDivergedException>(() => Trainer.Run(cfg, Brown(), Stream(cfg, (events.Enqueue, null))));
        var diverged = events.Last().ShouldBeOfType<RunDiverged>();
        e.Reason.ShouldBe(diverged.Reason);
        e.Message.ShouldNotContain("--");
        e.Message.ShouldContain("clip");
        // the row with the NaN is the last StepCompleted, and the last row of the log
        var last = events.OfType<StepCompleted>().Last();
        last.LogRow.ShouldNotBeNull();
        File.ReadAllLines(cfg.Out)[^1].ShouldBe(last.LogRow!.ToCsv());
        last.LogRow.ToCsv().ShouldContain("NaN");
    }

    [Fact]
    public void Bad_settings_end_the_stream_before_any_event()
    {
        var cfg = Config("bad") with { Steps = 0 };
        var events = new List<TrainEvent>();
        Should.Throw<InputException>(() => Trainer.Run(cfg, Brown(), Stream(cfg, (events.Add, null)))).Message.ShouldStartWith("steps must be >= 1");
        events.ShouldBeEmpty();
        File.Exists(cfg.Out).ShouldBeFalse();
    }

    [Fact]
    public void Progress_lines_show_the_events_values_and_a_resume_starts_at_its_checkpoint()
    {
        // Independent source: the events themselves; a line at every evaluation and at the last update.
        var cfg = Config("progress");
        var output = new StringWriter();
        var steps = new List<StepCompleted>();
        var events = Stream(cfg, (new ProgressPrinter(output).OnEvent, null), (e => { if (e is StepCompleted u) steps.Add(u); }, null));
        Trainer.Run(cfg, Brown(), events, haltAfter: 10);
        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldStartWith("model gpt(");
        lines[1].ShouldBe($"initial loss {steps[0].LossBefore:F4} (before any update)");
        foreach (var u in steps.Where(u => !double.IsNaN(u.ValLoss)))
            lines.ShouldContain(l => l.StartsWith($"step {u.Step}/11  loss {u.LossBefore:F4} (before this update)  val {u.ValLoss:F4}  lr {u.Lr:G3}  |g| {u.GradNorm:F3}  ", StringComparison.Ordinal));
        // resumed from the checkpoint after 8 updates: row 7 is completed first, but its line was the killed run's
        var resumed = new StringWriter();
        Trainer.Run(cfg with { Resume = true }, Brown(), Stream(cfg, (new ProgressPrinter(resumed).OnEvent, null)));
        var again = resumed.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        again[0].ShouldBe($"resuming from {cfg.CheckpointPath} at step 8");
        again.ShouldNotContain(l => l.StartsWith("step 7/", StringComparison.Ordinal) || l.StartsWith("initial loss", StringComparison.Ordinal));
        again[^1].ShouldStartWith("step 11/11  loss ");
    }

    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }
}
