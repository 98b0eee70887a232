using Anneal.Curves;
using Anneal.Laws;

namespace Anneal.Fitting;

/// <summary>Logged runs made ready for a fit, with what was left out or averaged on the way.</summary>
/// <param name="Runs">The runs, in the order of the curves, names made unique.</param>
/// <param name="Notes">One line per choice the user should know of (points before the window, bins, rebuilt gradient norms).</param>
public sealed record PreparedRuns(IReadOnlyList<LawRun> Runs, IReadOnlyList<string> Notes);

/// <summary>
/// Which logged points a law sees: the fit window (from the end of each run's warmup, where its
/// learning rate first peaks, unless a first step is given) and the binning of long per-step logs
/// into <see cref="LawRun.DefaultMaxPoints"/> bin means. Fit, evaluate and every other caller use this
/// one choice, so that a law is always fitted and scored on the same points.
/// </summary>
public static class FitWindow
{
    /// <summary>Throws <see cref="InputException"/> for a negative first step (a caller that reads files checks before reading them).</summary>
    public static void CheckFromStep(long? fromStep, Func<string, string>? name = null)
    {
        if (fromStep is < 0) throw new InputException($"{(name ?? (p => p))("from_step")} must be >= 0, got {fromStep}");
    }

    /// <summary>
    /// Converts <paramref name="curves"/> to runs of <paramref name="target"/> (<c>loss</c> or <c>val</c>),
    /// keeps the points at steps &gt;= <paramref name="fromStep"/> (default: each run's peak step; 0 keeps
    /// every point) and bins long runs. <paramref name="name"/> maps the parameter name <c>from_step</c>
    /// to what the caller calls it (a command line's <c>--from-step</c>) in messages and notes.
    /// Throws <see cref="InputException"/> for a negative first step or a run left with too few points.
    /// </summary>
    public static PreparedRuns Prepare(IReadOnlyList<LossCurve> curves, string target = "loss", long? fromStep = null,
        Func<string, string>? name = null, CancellationToken cancel = default)
    {
        name ??= p => p;
        CheckFromStep(fromStep, name);
        var runs = new List<LawRun>();
        var notes = new List<string>();
        foreach (var curve in curves)
        {
            cancel.ThrowIfCancellationRequested();
            var run = LawRun.FromCurve(curve, target);
            if (run.GradNormWarning is { } gw) notes.Add(gw);
            long first = fromStep ?? run.PeakStep;
            int before = run.Count;
            run = run.From(first);
            if (run.Count < before)
                notes.Add($"{run.Name}: {before - run.Count} logged point(s) before step {first} left out ({(fromStep is null ? $"the warmup, which the laws do not describe; {name("from_step")} 0 keeps them" : name("from_step"))})");
            run = run.Binned(LawRun.DefaultMaxPoints);
            if (run.BinSize > 1) notes.Add($"{run.Name}: {curve.Count} rows averaged in bins of {run.BinSize} ({run.Count} points) for the fit");
            runs.Add(run);
        }
        if (runs.GroupBy(r => r.Name).Any(g => g.Count() > 1))
        {
            // Same file name in two folders: make names unique so tables stay readable.
            for (int i = 0; i < runs.Count; i++) runs[i] = runs[i] with { Name = $"{runs[i].Name}#{i + 1}" };
        }
        return new PreparedRuns(runs, notes);
    }
}
