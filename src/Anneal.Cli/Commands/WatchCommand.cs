using System.CommandLine;
using System.Globalization;
using Anneal.Watching;

namespace Anneal.Cli.Commands;

/// <summary><c>anneal watch LOG --schedule SPEC</c>: forecast a run's final loss while it trains. Renders <see cref="RunWatcher"/>'s updates.</summary>
public static class WatchCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Build()
    {
        var log = new Argument<string>("log") { Description = "The growing log of the job: a CSV / JSON Lines / trainer_state.json / TensorBoard file, or the run's folder." };
        var schedule = new Option<string>("--schedule", "-s") { Description = "The run's planned schedule, with its total, e.g. 'cosine(peak=3e-3, total=2000, warmup=100)'.", Required = true };
        var law = new Option<string>("--law", "-l") { Description = "Law fitted to the points so far (default auto).", DefaultValueFactory = _ => "auto" };
        var against = new Option<string[]>("--against") { Description = "Plans to compare with: a schedule spec (forecast with the same law) or a finished log (its final loss). Repeatable.", AllowMultipleArgumentsPerToken = true };
        var every = new Option<int>("--every") { Description = "Refit after this many new logged points.", DefaultValueFactory = _ => 1 };
        var idle = new Option<double>("--idle") { Description = "Stop when the log has not grown for this many seconds.", DefaultValueFactory = _ => 120 };
        var poll = new Option<double>("--poll") { Description = "Seconds between checks of the log.", DefaultValueFactory = _ => 0.2 };
        var level = new Option<double>("--level") { Description = "Coverage of the band.", DefaultValueFactory = _ => 0.95 };
        var stepsPerEpoch = LawCommands.StepsPerEpochOption();
        var cmd = new Command("watch", """
            Follow the log of a job that is still training and forecast its final loss under its planned schedule as points arrive,
            with the band, the ETA and the step. On a terminal the line is redrawn in place; in a pipe each update is one line.
            Stops when the run reaches its last step, when the log stops growing (--idle), or on Ctrl-C.
            Example: anneal train --schedule "cosine(peak=3e-3, total=2000, warmup=100)" --steps 2000 --out run.csv &
                     anneal watch run.csv --schedule "cosine(peak=3e-3, total=2000, warmup=100)" --against "constant(peak=3e-3, warmup=100)"
            """) { log, schedule, law, against, every, idle, poll, level, stepsPerEpoch };
        var cols = CurveColumnOptions.For(cmd);
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            double idleS = r.GetValue(idle), pollS = r.GetValue(poll);
            if (!(idleS > 0)) throw new InputException($"--idle must be > 0 seconds, got {idleS}");
            if (!(pollS is > 0 and <= 60)) throw new InputException($"--poll must be in (0, 60] seconds, got {pollS}");
            var request = new WatchRequest(r.GetValue(log)!, r.GetValue(schedule)!, r.GetValue(law)!)
            {
                Read = cols.Get(r), Against = r.GetValue(against) ?? [], RefitEvery = r.GetValue(every), Level = r.GetValue(level),
                IdleStop = TimeSpan.FromSeconds(idleS), Poll = TimeSpan.FromSeconds(pollS), StepsPerEpoch = r.GetValue(stepsPerEpoch),
            };
            try { RunWatcher.Validate(request); }
            catch (InputException e) when (e.Parameters.Count == 0) { throw new InputException(Flags(e.Message)); } // a message naming its parameter is renamed by the CLI's own handler
            var outw = io.Out;
            var err = io.Err;
            // redraw in place only on a real terminal; a pipe or a file gets one line per update
            bool inPlace = io.OutIsTerminal;
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler stop = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += stop;
            try
            {
                err.WriteLine($"watching {request.LogPath} (schedule {request.ScheduleSpec}, law {request.LawSpec}); Ctrl-C stops");
                var names = OptionNames.Of(r);
                var progress = new SyncProgress(u => Render(u, outw, err, inPlace, names));
                var result = RunWatcher.RunAsync(request, progress, cts.Token).GetAwaiter().GetResult();
                if (inPlace && result.Updates > 0) outw.WriteLine();
                err.WriteLine(result.Reason switch
                {
                    WatchStop.Finished => $"the run reached its last step; {result.Updates} forecast(s)",
                    WatchStop.Idle => $"the log has not grown for {idleS:G} s; stopped after {result.Updates} forecast(s)",
                    _ => $"stopped; {result.Updates} forecast(s)",
                });
                if (result.Last is null) err.WriteLine("no forecast: the log never had enough points after the warmup");
            }
            finally { Console.CancelKeyPress -= stop; }
            return CliExit.Ok;
        });
        return cmd;
    }

    /// <summary>The service's parameter names as this command's options.</summary>
    private static string Flags(string m) => m.Replace("max_points", "--max-points").Replace("refit_every", "--every").Replace("level must", "--level must");

    /// <summary>Reports on the watcher's own thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class SyncProgress(Action<WatchUpdate> report) : IProgress<WatchUpdate>
    {
        public void Report(WatchUpdate value) => report(value);
    }

    private static void Render(WatchUpdate u, TextWriter outw, TextWriter err, bool inPlace, Func<string, string> names)
    {
        foreach (var m in u.MessagesNaming(names))
        {
            if (inPlace) outw.Write("\r\u001b[2K");
            err.WriteLine("note: " + m);
        }
        var line = Line(u);
        if (inPlace) { outw.Write("\r\u001b[2K" + line); outw.Flush(); }
        else { outw.WriteLine(line); outw.Flush(); }
    }

    /// <summary>One update as one line: step, last loss, forecast and band, ETA, verdicts.</summary>
    public static string Line(WatchUpdate u)
    {
        var s = string.Create(Inv, $"step {u.Step}/{u.TotalSteps} ({100.0 * (u.Step + 1) / u.TotalSteps:F0}%)  loss {u.LastLoss:F4}  final ");
        s += double.IsNaN(u.FinalLoss) ? "- (see the note)" : string.Create(Inv, $"{u.FinalLoss:F4}") +
            (double.IsNaN(u.Low) ? " (no band)" : string.Create(Inv, $" [{u.Low:F4}, {u.High:F4}] ({u.Level * 100:G3}%)"));
        s += u.Eta is { } eta ? $"  ETA {Duration(eta)}" : "  ETA -";
        s += string.Create(Inv, $"  (fit {u.FitTime.TotalSeconds:F2} s on {u.FitPoints} points, {u.Latency.TotalSeconds:F2} s after the log changed)");
        foreach (var v in u.Against)
            s += string.Create(Inv, $"  | vs {v.Name}: {v.FinalLoss:F4}, ") + (v.Beats ? $"beats it{(v.Sure ? "" : " (within the band)")}{(v.FromStep is { } f ? $" from step {f}" : "")}" : $"behind{(v.Sure ? "" : " (within the band)")}");
        return s;
    }

    private static string Duration(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:D2}s" : $"{Math.Max(0, t.TotalSeconds):F0}s";
}
