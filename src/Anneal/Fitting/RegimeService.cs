using System.Globalization;
using Anneal.Curves;
using Anneal.Laws;

namespace Anneal.Fitting;

/// <summary>A longer log of a constant-rate run, to judge how long calibration runs must be (<see cref="RegimeService.Judge(RegimeRequest, CancellationToken)"/>).</summary>
/// <param name="ConstantLog">The log: a constant-rate run at the calibration runs' peak (the fitted constant run logged on, or a pilot).</param>
/// <param name="Horizon">The last step of the calibration runs (or of a fit) judged: the onset is looked for from there on.</param>
public sealed record RegimeRequest(LossCurve ConstantLog, long Horizon)
{
    /// <summary>Which loss of the log to judge: <c>loss</c> (training) or <c>val</c> (where logged: the check is 8-12x less noisy on it).</summary>
    public string Target { get; init; } = "loss";

    /// <summary>First logged step read; null: the log's peak step (the end of its warmup), as a fit reads its runs (<see cref="FitWindow.Prepare"/>).</summary>
    public long? FromStep { get; init; }
}

/// <summary>What <see cref="RegimeService.Judge(RegimeRequest, CancellationToken)"/> finds.</summary>
/// <param name="Log">The log as a fit sees it (<see cref="RegimeService.Read"/>).</param>
/// <param name="Horizon">The horizon judged from (<see cref="RegimeRequest.Horizon"/>).</param>
/// <param name="Onset">Where the log enters the laws' regime from the horizon on (<see cref="RegimeOnset"/>); null when the
/// regime check cannot judge the log stopped there (<see cref="Message"/> says why).</param>
public sealed record RegimeResult(LawRun Log, long Horizon, RegimeOnset? Onset)
{
    /// <summary>One sentence for the user: the onset's (<see cref="RegimeOnset.Describe"/>), or why the log cannot be judged.</summary>
    public string Message => Onset?.Describe() ?? string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"the regime check cannot judge {Log.Name} stopped at step {Horizon} (it needs a constant-rate phase with at least {RegimeCheck.MinPoints} logged points after the warmup by then)");
}

/// <summary>
/// How long calibration runs must be, from a longer constant-rate log: the one reader of such a log (<see cref="Read"/>, the
/// fit's window and bins, so that the log is judged on the points a fit of it would see) and the judgement
/// (<see cref="RegimeOnset.Of"/>). <c>anneal fit</c> (<see cref="FitService"/>), <c>anneal probe</c>
/// (<see cref="Anneal.Design.ProbePlanner"/>) and the dashboard read and judge logs through it.
/// </summary>
public static class RegimeService
{
    /// <summary>
    /// The constant-rate <paramref name="log"/> as a fit sees it: its <paramref name="target"/> loss from
    /// <paramref name="fromStep"/> (default: its peak step) on, binned as a fit bins it (<see cref="FitWindow.Prepare"/>).
    /// Throws <see cref="InputException"/> for a missing target column or too few points, and for a log without a
    /// constant-rate phase of at least <see cref="RegimeCheck.MinPoints"/> logged points after its warmup (a cosine's, whose
    /// rate falls from its peak on): the regime check reads the loss at a constant rate only, so such a log could never be
    /// judged (before: it was accepted and read only when the check fired, to say it "cannot judge" it).
    /// </summary>
    public static LawRun Read(LossCurve log, string target = "loss", long? fromStep = null, CancellationToken cancel = default)
    {
        var run = FitWindow.Prepare([log], target, fromStep, cancel).Runs[0];
        int points = TransientWindow.ConstantPhase([run]) is { } phase ? phase.Steps.Length : 0;
        if (points < RegimeCheck.MinPoints)
        {
            long peak = run.PeakStep, drop = peak + 1;
            while (drop < run.Eta.Length && run.Eta[drop] >= run.Eta[peak]) drop++;
            var rate = drop < run.Eta.Length
                ? string.Create(CultureInfo.InvariantCulture, $"its learning rate falls after its peak ({run.Eta[peak]:G4} at step {peak}, {run.Eta[^1]:G4} at step {run.Eta.Length - 1}): a decaying schedule, not a constant rate")
                : "it has too few logged points after its warmup";
            // Named by its file; the caller says which option or field gave it (fit: FitService, probe: its command, the web: the field).
            throw new InputException($"{log.Name}: {rate}; {points} logged point(s) at its peak rate, where the regime check needs at least {RegimeCheck.MinPoints}. The check reads the loss of a constant-rate run at the calibration runs' peak: give such a run's log (the fitted constant run logged on past its horizon, or a constant-rate pilot), or leave the log out");
        }
        return run;
    }

    /// <summary>
    /// Refuses a constant-rate <paramref name="log"/> (read by <see cref="Read"/>) that cannot say how long the fitted
    /// <paramref name="runs"/>' calibration runs must be: where the runs have no constant-rate phase the regime check cannot be
    /// made at all, and a log whose constant-rate phase ends at or before the runs' (the step the check judges from) has no
    /// point past it. Called before the fit, so that the option is refused before any work rather than ignored after it.
    /// </summary>
    public static void CheckForFit(LawRun log, IReadOnlyList<LawRun> runs)
    {
        var option = ParameterName.Parameter("constant_log");
        // The check the fit makes (LawFitter.Fit: RegimeCheck.Of on the same prepared runs); it reads the log from its end on.
        if (RegimeCheck.Of(runs) is not { } check)
            throw InputException.Naming($"{option} {log.Name}: the regime check that reads this log cannot be made on the fitted runs ({RegimeCheck.Unavailable[(RegimeCheck.Unavailable.IndexOf(": ", StringComparison.Ordinal) + 2)..]}); fit a constant-rate run too, or leave the option out");
        long horizon = check.ToStep;
        long logEnd = TransientWindow.ConstantPhase([log])!.Value.Steps[^1];
        if (logEnd <= horizon)
            throw InputException.Naming($"{option} {log.Name}: its constant-rate phase ends at step {logEnd}, not past the fitted constant-rate run's last step {horizon}, so it cannot say where a longer run enters the laws' regime; give a log that runs on past step {horizon}, or leave the option out");
    }

    /// <summary>Reads the request's log (<see cref="Read"/>) and finds where it enters the laws' regime from the request's horizon on.</summary>
    public static RegimeResult Judge(RegimeRequest request, CancellationToken cancel = default) =>
        Judge(Read(request.ConstantLog, request.Target, request.FromStep, cancel), request.Horizon);

    /// <summary>
    /// How long calibration runs must be after a fit whose runs end before the regime: where <paramref name="log"/> (read by
    /// <see cref="Read"/>) enters it from the fitted constant-rate phase's end; null when <paramref name="regime"/> does not fire
    /// (nothing is asked), there is no log, or the log cannot be judged there.
    /// </summary>
    public static RegimeOnset? ForFit(RegimeCheck? regime, LawRun? log) =>
        regime is { Fires: true } && log is not null ? RegimeOnset.Of(log, regime.ToStep) : null;

    /// <summary>Where <paramref name="log"/>, read by <see cref="Read"/>, enters the laws' regime from <paramref name="horizon"/> on.</summary>
    public static RegimeResult Judge(LawRun log, long horizon) => new(log, horizon, RegimeOnset.Of(log, horizon));
}
