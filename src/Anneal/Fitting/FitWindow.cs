using Anneal.Curves;
using Anneal.Laws;

using static Anneal.ParameterName;
namespace Anneal.Fitting;

/// <summary>Logged runs made ready for a fit, with what was left out or averaged on the way.</summary>
/// <param name="Runs">The runs, in the order of the curves, names made unique.</param>
/// <param name="NoteTexts">One line per choice the user should know of (points before the window, bins, rebuilt gradient
/// norms); their <see cref="ParameterName"/> holes name the parameters they refer to.</param>
public sealed record PreparedRuns(IReadOnlyList<LawRun> Runs, IReadOnlyList<FormattableString> NoteTexts)
{
    /// <summary>The notes, parameters by their own names (<c>from_step</c>).</summary>
    public IEnumerable<string> Notes => NotesNaming(p => p);

    /// <summary>The notes with every parameter named as <paramref name="name"/> maps it (a command line's <c>--from-step</c>).</summary>
    public IEnumerable<string> NotesNaming(Func<string, string> name) => NoteTexts.Select(n => ParameterName.Render(n, name));
}

/// <summary>
/// Which logged points a law sees: the fit window (from the end of each run's warmup, where its
/// learning rate first peaks, unless a first step is given) and the binning of long per-step logs
/// into <see cref="LawRun.DefaultMaxPoints"/> bin means. Fit, evaluate and every other caller use this
/// one choice, so that a law is always fitted and scored on the same points.
/// </summary>
public static class FitWindow
{
    /// <summary>Throws <see cref="InputException"/> for a negative first step (a caller that reads files checks before reading them).</summary>
    public static void CheckFromStep(long? fromStep)
    {
        if (fromStep is < 0) throw InputException.Naming($"{Parameter("from_step")} must be >= 0, got {fromStep}");
    }

    /// <summary>
    /// Converts <paramref name="curves"/> to runs of <paramref name="target"/> (<c>loss</c> or <c>val</c>),
    /// keeps the points at steps &gt;= <paramref name="fromStep"/> (default: each run's peak step; 0 keeps
    /// every point) and bins long runs. Messages and notes name the parameter <c>from_step</c> (<see cref="ParameterName"/>).
    /// Throws <see cref="InputException"/> for a negative first step or a run left with too few points.
    /// </summary>
    public static PreparedRuns Prepare(IReadOnlyList<LossCurve> curves, string target = "loss", long? fromStep = null, CancellationToken cancel = default)
    {
        CheckFromStep(fromStep);
        var runs = new List<LawRun>();
        var notes = new List<FormattableString>();
        foreach (var curve in curves)
        {
            cancel.ThrowIfCancellationRequested();
            var run = LawRun.FromCurve(curve, target);
            if (run.GradNormWarning is { } gw) notes.Add($"{gw}");
            long first = fromStep ?? run.PeakStep;
            int before = run.Count;
            run = run.From(first);
            if (run.Count < before)
            {
                FormattableString why = $"{Parameter("from_step")}";
                if (fromStep is null) why = $"the warmup, which the laws do not describe; {Parameter("from_step")} 0 keeps them";
                notes.Add($"{run.Name}: {before - run.Count} logged point(s) before step {first} left out ({why})");
            }
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
