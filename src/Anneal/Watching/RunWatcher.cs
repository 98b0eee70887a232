using System.Diagnostics;
using Anneal.Curves;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Watching;

/// <summary>What to watch and how to forecast it.</summary>
/// <param name="LogPath">The growing log: a file in any format <see cref="CurveReader"/> reads, or a run folder.</param>
/// <param name="ScheduleSpec">The run's planned schedule (it must have a total length): the forecast is its final loss.</param>
/// <param name="LawSpec">The loss-curve law fitted to the points so far.</param>
public sealed record WatchRequest(string LogPath, string ScheduleSpec, string LawSpec = "auto")
{
    /// <summary>How the log is read (column names).</summary>
    public CurveReadOptions Read { get; init; } = CurveReadOptions.Default;

    /// <summary>
    /// Other plans to compare with: a schedule spec (its final loss under the same fitted law, at its own total or, without
    /// one, at the watched run's) or a finished log (its final loss).
    /// </summary>
    public IReadOnlyList<string> Against { get; init; } = [];

    /// <summary>How often the log is checked for growth.</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Stop when the log has not grown for this long (also the longest wait for a log to appear).</summary>
    public TimeSpan IdleStop { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Refit after at least this many new logged points.</summary>
    public int RefitEvery { get; init; } = 1;

    /// <summary>
    /// The fit sees the points after the warmup averaged into at most this many bins: a bounded view, so a refit
    /// costs the same at step 100 000 as at step 1 000.
    /// </summary>
    public int MaxPoints { get; init; } = 200;

    /// <summary>Fewest points after the warmup before the first forecast.</summary>
    public int MinPoints { get; init; } = 8;

    /// <summary>Coverage of the band.</summary>
    public double Level { get; init; } = 0.95;

    /// <summary>
    /// Optimizer steps in one pass over the training data (the parameter <c>steps_per_epoch</c>); null: the log's epoch
    /// column, where it has one (<see cref="EpochBoundary.FromLogs"/>). A forecast of the planned run past the first epoch,
    /// while the points so far are within it, warns that it assumes fresh data (<see cref="EpochBoundary"/>).
    /// </summary>
    public long? StepsPerEpoch { get; init; }
}

/// <summary>One comparison with a <see cref="WatchRequest.Against"/> plan.</summary>
/// <param name="Name">The plan (spec or file).</param>
/// <param name="FinalLoss">Its final loss (forecast for a spec, logged for a file).</param>
/// <param name="Beats">True when this run's forecast final loss is below it.</param>
/// <param name="Sure">True when the whole band is on the same side.</param>
/// <param name="FromStep">The first step at which this run's forecast curve goes below <paramref name="FinalLoss"/>, if it does.</param>
public sealed record BaselineVerdict(string Name, double FinalLoss, bool Beats, bool Sure, long? FromStep);

/// <summary>A forecast made when new points arrived.</summary>
public sealed record WatchUpdate
{
    /// <summary>Last logged step and the schedule's total.</summary>
    public required long Step { get; init; }
    public required long TotalSteps { get; init; }

    /// <summary>Logged rows read, and points the law was fitted on (after the warmup, binned).</summary>
    public required int Rows { get; init; }
    public required int FitPoints { get; init; }

    /// <summary>The last logged training loss.</summary>
    public required double LastLoss { get; init; }

    /// <summary>Forecast final loss and its band (NaN when no band could be computed).</summary>
    public required double FinalLoss { get; init; }
    public required double Low { get; init; }
    public required double High { get; init; }
    public required double Level { get; init; }

    /// <summary>Steps per second seen so far and the time left at that rate (null until two readings apart).</summary>
    public double? StepsPerSecond { get; init; }
    public TimeSpan? Eta { get; init; }

    /// <summary>Time from noticing the log changed to this forecast (read + fit + predict), and the fit alone.</summary>
    public required TimeSpan Latency { get; init; }
    public required TimeSpan FitTime { get; init; }

    public IReadOnlyList<BaselineVerdict> Against { get; init; } = [];

    /// <summary>
    /// Notes and warnings from reading the log the first time, and why there is no band. Their <see cref="ParameterName"/>
    /// holes name the read options that change them (<see cref="LossCurve.NoteTexts"/>), which a front end renames (<see cref="MessagesNaming"/>).
    /// </summary>
    public IReadOnlyList<FormattableString> MessageTexts { get; init; } = [];

    /// <summary>The messages, read options by their parameter names (<c>step_col</c>).</summary>
    public IReadOnlyList<string> Messages => MessagesNaming(p => p);

    /// <summary>The messages with every read option named as <paramref name="name"/> maps it (a command line's <c>--step-col</c>).</summary>
    public IReadOnlyList<string> MessagesNaming(Func<string, string> name) => MessageTexts.Select(m => ParameterName.Render(m, name)).ToArray();
}

/// <summary>Why watching ended.</summary>
public enum WatchStop { Finished, Idle, Cancelled }

/// <summary>The end of a watch: the last forecast and why it stopped.</summary>
public sealed record WatchResult(WatchUpdate? Last, int Updates, WatchStop Reason);

/// <summary>
/// Follows a growing training log and forecasts the run's final loss under its planned schedule as points arrive:
/// each time the log grows by <see cref="WatchRequest.RefitEvery"/> points it is read again (a few milliseconds for
/// 100k CSV rows), the points after the warmup are averaged into a bounded number of bins, the law is refitted on
/// them and the schedule's final loss predicted with its band. Reports go to an <see cref="IProgress{T}"/>; the
/// caller renders them. Stops when the log has reached the schedule's last step, when it has not grown for
/// <see cref="WatchRequest.IdleStop"/>, or on cancellation.
/// </summary>
public static class RunWatcher
{
    /// <summary>Checks the request before any waiting starts; throws <see cref="InputException"/> naming the problem.</summary>
    public static (Schedule Schedule, LossLaw Law, long Total) Validate(WatchRequest request)
    {
        var schedule = Schedule.Parse(request.ScheduleSpec);
        long total = schedule.Length ?? throw new InputException($"schedule '{schedule.Spec}' has no total length; give the planned run's schedule with its total, e.g. cosine(peak=3e-4, total=24000, warmup=2000)");
        if (total < 2 || total > 200_000_000) throw new InputException($"schedule '{schedule.Spec}': the total must be between 2 and 200000000 steps, got {total}");
        var law = LossLaw.Parse(request.LawSpec);
        if (!(request.Level is > 0 and < 1)) throw new InputException($"level must be in (0, 1), got {request.Level}");
        if (request.MaxPoints < 4) throw new InputException($"max_points must be at least 4, got {request.MaxPoints}");
        if (request.RefitEvery < 1) throw new InputException($"refit_every must be at least 1, got {request.RefitEvery}");
        EpochBoundary.FromLogs([], request.StepsPerEpoch); // a non-positive steps_per_epoch is refused before any watching
        var parent = Path.GetDirectoryName(Path.GetFullPath(request.LogPath));
        if (!File.Exists(request.LogPath) && !Directory.Exists(request.LogPath) && (parent is null || !Directory.Exists(parent)))
            throw new InputException($"{request.LogPath}: neither the log nor its folder exists; check the path");
        foreach (var a in request.Against)
            if (!File.Exists(a) && !Directory.Exists(a)) Schedule.Parse(a);
        return (schedule, law, total);
    }

    /// <summary>Watches until the run finishes, the log goes idle, or <paramref name="cancel"/> fires.</summary>
    public static async Task<WatchResult> RunAsync(WatchRequest request, IProgress<WatchUpdate> progress, CancellationToken cancel = default)
    {
        var (schedule, law, total) = Validate(request);
        var eta = schedule.Sample((int)Math.Min(total, int.MaxValue));
        var baselines = request.Against.Select(a => Baseline(a, request.Read)).ToList();
        var clock = Stopwatch.StartNew();
        var lastChange = clock.Elapsed;
        (long, DateTime, int)? lastSig = null;
        int lastRows = 0, updates = 0;
        WatchUpdate? last = null;
        var rate = new List<(TimeSpan T, long Step)>();
        bool first = true;
        while (true)
        {
            if (cancel.IsCancellationRequested) return new WatchResult(last, updates, WatchStop.Cancelled);
            var sig = Signature(request.LogPath);
            if (sig is not null && sig != lastSig)
            {
                var seen = clock.Elapsed;
                lastSig = sig;
                lastChange = seen;
                LossCurve? curve = null;
                try { curve = CurveReader.Read(request.LogPath, request.Read); }
                catch (CurveFormatException e) when (!first || Waiting(e))
                {
                    // a log rewritten in place (HF rewrites trainer_state.json) can be caught half written: try at the next change
                }
                if (curve is not null)
                {
                    var messages = first ? curve.NoteTexts.Concat(curve.Warnings.Select(w => (FormattableString)$"{w}")).ToList() : [];
                    first = false;
                    rate.Add((seen, curve.Steps[^1]));
                    if (curve.Count - lastRows >= request.RefitEvery || curve.Steps[^1] >= total - 1)
                    {
                        var update = Forecast(curve, schedule, law, eta, total, request, baselines, seen, clock, rate, messages);
                        if (update is not null)
                        {
                            lastRows = curve.Count;
                            last = update;
                            updates++;
                            progress.Report(update);
                        }
                    }
                    if (curve.Steps[^1] >= total - 1) return new WatchResult(last, updates, WatchStop.Finished);
                }
            }
            if (clock.Elapsed - lastChange > request.IdleStop) return new WatchResult(last, updates, WatchStop.Idle);
            try { await Task.Delay(request.Poll, cancel).ConfigureAwait(false); }
            catch (OperationCanceledException) { return new WatchResult(last, updates, WatchStop.Cancelled); }
        }
    }

    /// <summary>A log that is not there yet, or has no rows yet: wait for the job to write it.</summary>
    private static bool Waiting(CurveFormatException e) =>
        e.Message.Contains("not found", StringComparison.Ordinal) || e.Message.Contains("is empty", StringComparison.Ordinal)
        || e.Message.Contains("no data rows", StringComparison.Ordinal) || e.Message.Contains("no training log found", StringComparison.Ordinal)
        || e.Message.Contains("has no logged rows", StringComparison.Ordinal) || e.Message.Contains("has no values", StringComparison.Ordinal);

    /// <summary>Size and time of the newest write of the log (every file of a folder), or null while it does not exist.</summary>
    private static (long, DateTime, int)? Signature(string path)
    {
        try
        {
            if (File.Exists(path)) { var f = new FileInfo(path); return (f.Length, f.LastWriteTimeUtc, 1); }
            if (!Directory.Exists(path)) return null;
            long size = 0; var newest = DateTime.MinValue; int n = 0;
            foreach (var f in new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                if (++n > 10_000) break;
                size += f.Length;
                if (f.LastWriteTimeUtc > newest) newest = f.LastWriteTimeUtc;
            }
            return (size, newest, n);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static WatchUpdate? Forecast(LossCurve curve, Schedule schedule, LossLaw law, double[] eta, long total, WatchRequest request,
        List<(string Name, double? Final, Schedule? Plan)> baselines, TimeSpan seen, Stopwatch clock, List<(TimeSpan T, long Step)> rate, List<FormattableString> messages)
    {
        if (curve.Steps[^1] >= total)
            throw new InputException($"{request.LogPath}: the log reached step {curve.Steps[^1]}, past the schedule's total of {total} steps; give the run's planned schedule");
        // the laws describe the run after its warmup: wait for enough points past the planned schedule's peak
        long peak = Array.IndexOf(eta, eta.Max());
        if (curve.Steps.Count(s => s >= peak) < request.MinPoints) return null;
        var run = LawRun.FromCurve(CurveArgument.Attach(curve, schedule)).From(peak);
        run = run.Binned(request.MaxPoints);
        // where the data starts to repeat (the given steps_per_epoch or the log's epoch column): outside the try, so that a log
        // contradicting the given value ends the watch with its message rather than waiting for more points
        var epoch = EpochBoundary.FromLogs([curve], request.StepsPerEpoch);
        var fitClock = Stopwatch.StartNew();
        FittedLaw fit;
        LawPrediction pred;
        try
        {
            // one random start and no leave-one-out refits (one run has none): a refit per update must stay well under a second
            fit = LawFitter.Fit(law, [run], new FitOptions(RandomStarts: 1) { Epoch = epoch });
            pred = fit.Predict(LawRun.ForSchedule(schedule.Spec, eta, LawRun.EvenSteps(total, 200, curve.Steps[^1]), schedule.Spec), request.Level);
        }
        catch (InputException e)
        {
            // early in a run the points may not determine the law yet (it may predict a loss below zero): say why and
            // wait for more points instead of ending the watch
            return new WatchUpdate
            {
                Step = curve.Steps[^1], TotalSteps = total, Rows = curve.Count, FitPoints = run.Count, LastLoss = curve.Loss![^1],
                FinalLoss = double.NaN, Low = double.NaN, High = double.NaN, Level = request.Level, Latency = clock.Elapsed - seen,
                FitTime = fitClock.Elapsed, MessageTexts = [.. messages, $"no forecast from these points: {e.Message}"], Eta = EtaOf(rate, total).Left, StepsPerSecond = EtaOf(rate, total).Rate,
            };
        }
        var fitTime = fitClock.Elapsed;
        var verdicts = new List<BaselineVerdict>();
        foreach (var (name, final, plan) in baselines)
        {
            // a plan without a length of its own (constant) runs as long as the watched run
            long n = plan?.Length ?? total;
            double b = final ?? fit.Predict(LawRun.ForSchedule(plan!.Spec, plan.Sample((int)n), [n - 1], plan.Spec), request.Level).FinalLoss;
            long? from = null;
            for (int i = 0; i < pred.Steps.Length; i++) if (pred.Loss[i] < b) { from = pred.Steps[i]; break; }
            bool beats = pred.FinalLoss < b;
            bool sure = pred.HasBand && (beats ? pred.FinalHigh < b : pred.FinalLow > b);
            verdicts.Add(new BaselineVerdict(name, b, beats, sure, beats ? from : null));
        }
        var (sps, left) = EtaOf(rate, total);
        if (pred.BandUnavailable is { } why) messages = [.. messages, $"{why}"];
        if (pred.Warning is { } warning) messages = [.. messages, $"{warning}"];
        return new WatchUpdate
        {
            Step = curve.Steps[^1], TotalSteps = total, Rows = curve.Count, FitPoints = run.Count, LastLoss = curve.Loss![^1],
            FinalLoss = pred.FinalLoss, Low = pred.HasBand ? pred.FinalLow : double.NaN, High = pred.HasBand ? pred.FinalHigh : double.NaN, Level = request.Level,
            StepsPerSecond = sps, Eta = left, Latency = clock.Elapsed - seen, FitTime = fitTime, Against = verdicts, MessageTexts = messages,
        };
    }

    /// <summary>Steps per second between the first and the last reading, and the time left at that rate.</summary>
    private static (double? Rate, TimeSpan? Left) EtaOf(List<(TimeSpan T, long Step)> rate, long total)
    {
        var (t0, s0) = rate[0];
        var (t1, s1) = rate[^1];
        if (t1 - t0 <= TimeSpan.FromMilliseconds(500) || s1 <= s0) return (null, null);
        double sps = (s1 - s0) / (t1 - t0).TotalSeconds;
        return (sps, TimeSpan.FromSeconds((total - 1 - s1) / sps));
    }

    /// <summary>A baseline: a finished log's final loss (mean of its last 1% of rows, at least one) or a plan to forecast.</summary>
    private static (string Name, double? Final, Schedule? Plan) Baseline(string arg, CurveReadOptions read)
    {
        if (File.Exists(arg) || Directory.Exists(arg))
        {
            var c = CurveReader.Read(arg, read);
            int k = Math.Max(1, c.Count / 100);
            return (arg, c.Loss![^k..].Average(), null);
        }
        var s = Schedule.Parse(arg);
        return (s.Spec, null, s);
    }
}
