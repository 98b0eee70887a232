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
        // The same run given twice (one file named twice, or one stored run) would count its points twice and, where runs of
        // one schedule are read as seeds, pass for a second seed that agrees exactly with the first: refused by name.
        for (int i = 0; i < runs.Count; i++)
            for (int j = i + 1; j < runs.Count; j++)
                if (SameRun(runs[i], runs[j]))
                    throw new InputException($"runs {i + 1} and {j + 1} ({runs[i].Name}, {runs[j].Name}) are the same run given twice: the same steps, learning rates and losses; give each run once (a second seed's run differs in its losses)");
        if (runs.GroupBy(r => r.Name).Any(g => g.Count() > 1))
        {
            // Same file name in two folders: make names unique so tables stay readable.
            for (int i = 0; i < runs.Count; i++) runs[i] = runs[i] with { Name = $"{runs[i].Name}#{i + 1}" };
        }
        return new PreparedRuns(runs, notes);
    }

    private static bool SameRun(LawRun a, LawRun b) =>
        a.Observed is { } la && b.Observed is { } lb && a.Steps.AsSpan().SequenceEqual(b.Steps) && la.AsSpan().SequenceEqual(lb) && a.Eta.AsSpan().SequenceEqual(b.Eta);
}

/// <summary>
/// The early transient: right after the warmup a small model's loss falls ever faster in log time (-dL/d ln S1, smoothed,
/// rises from 0.09 at step 99 to 0.31 at step 399 on the engine's gpt-tiny-long, S1 growing 7-fold, and stays within 15 %
/// of that to step 599) before it enters the regime the laws describe, where that slope falls steadily (every law's constant
/// part <c>L0 + A*S1^-alpha</c> has a log-time slope proportional to S1^-alpha). Fitted from the warmup on, those transient
/// points bend the power law: L0 goes too low and the forecast falls too steeply beyond the fitted horizon
/// (gpt-tiny-long's 12,000-step constant run, fitted to 2,000: -5 to -9 % for the annealing laws;
/// docs/journal/session-07-early-transient.md). So the laws are fitted from where the loss falls fastest in log time,
/// when a plateau of that slope shows
/// a transient. Not from the plateau's end (session 7's rule): the points between the steepest one and the plateau's end
/// lie on the later power law (gpt-tiny-long's steps 399 and 499 within 0.3 % of the law fitted to 599-12,000), and
/// leaving them out lets noise tilt the fitted exponent (0.57 fitted to 599-2,999, 0.50 to 399-2,999, 0.48 to 599-11,999):
/// the constant part then flattens too early beyond the fitted horizon (docs/journal/session-09-horizons.md).
/// </summary>
public static class TransientWindow
{
    /// <summary>The plateau of the log-time slope that shows a transient ends where the smoothed slope first falls below (1 - this) times its largest value so far.</summary>
    public const double Tolerance = 0.15;

    /// <summary>
    /// The plateau must span at least this factor of S1 to count as a transient: over a doubling a power law's log-time slope
    /// falls by 2^-alpha, below 1 - <see cref="Tolerance"/> for every alpha above 0.23, so noise on a falling slope is not
    /// taken for a plateau.
    /// </summary>
    public const double MinSpan = 2.0;

    /// <summary>The transient may take at most this fraction of the fitted horizon (the last fitted step), so a noisy slope cannot discard most of the data.</summary>
    public const double MaxFraction = 0.4;

    /// <summary>Half-width, in ln S1, of the local regression that smooths the slope (at least the two neighbours are always used).</summary>
    public const double HalfWidth = 0.15;

    /// <summary>Fewest constant-rate points the detection needs.</summary>
    public const int MinPoints = 6;

    /// <summary>
    /// The step where the transient ends, 0 when there is none (or it cannot be seen): on the fitted run with the most
    /// points in its constant-rate phase (from the peak rate to the first decrease), scanning the smoothed log-time slope
    /// -dL/d ln S1 from the first point until it falls below (1 - <see cref="Tolerance"/>) times its running maximum: if S1
    /// has grown at least <see cref="MinSpan"/>-fold by then (a plateau, not noise), the transient ends at the steepest
    /// point of the scan (0 when that is the first point: nothing to leave out); the scan stops at
    /// <see cref="MaxFraction"/> of the fitted horizon. Runs that keep points before their peak (a window chosen to
    /// include the warmup) are left alone: 0.
    /// </summary>
    public static long End(IReadOnlyList<LawRun> runs)
    {
        if (ConstantPhase(runs) is not { } phase || phase.X.Length < MinPoints) return 0;
        var (steps, x, y) = phase;
        int bestN = x.Length;
        double limit = MaxFraction * runs.Max(r => r.Steps[^1]);
        double max = Slope(x, y, 0);
        if (!(max > 0)) return 0;
        int last = 0, steepest = 0;
        for (int i = 1; i < bestN && steps[i] <= limit; i++)
        {
            double s = Slope(x, y, i);
            if (s < (1 - Tolerance) * max) break;
            if (s > max) { max = s; steepest = i; }
            last = i;
        }
        // The plateau (up to `last`) says there is a transient; it ends where the loss falls fastest in log time. The points
        // between the steepest one and the plateau's end already lie on the law: their smoothed slope is held up only by
        // the regression window reaching back into the transient (docs/journal/session-09-horizons.md).
        return steepest > 0 && x[last] - x[0] >= Math.Log(MinSpan) ? steps[steepest] : 0;
    }

    /// <summary>
    /// The constant-rate phase the transient is found on (and <see cref="RegimeCheck"/> reads): the points of the fitted run
    /// with the most points from its peak rate to the rate's first decrease, as their steps, x = ln S1 (the cumulative
    /// learning rate up to and including the point's step) and the observed losses y. Null when there is no run, a run has
    /// no observed losses, or a run keeps points before its peak (a window chosen to include the warmup).
    /// </summary>
    internal static (long[] Steps, double[] X, double[] Y)? ConstantPhase(IReadOnlyList<LawRun> runs)
    {
        if (runs.Count == 0) return null;
        LawRun? best = null; int bestN = 0;
        foreach (var r in runs)
        {
            if (r.Observed is null) return null;
            long peak = r.PeakStep;
            if (r.Steps[0] < peak) return null;
            double top = r.Eta[peak];
            long firstDrop = peak + 1;
            while (firstDrop < r.Eta.Length && r.Eta[firstDrop] >= top) firstDrop++;
            int n = 0;
            while (n < r.Count && r.Steps[n] < firstDrop) n++;
            if (n > bestN) { best = r; bestN = n; }
        }
        if (best is null) return null;
        var pre = EtaMath.Prefix(best.Eta);
        var x = new double[bestN]; var y = new double[bestN];
        for (int i = 0; i < bestN; i++) { x[i] = Math.Log(pre[best.Steps[i] + 1]); y[i] = best.Observed![i]; }
        return (best.Steps[..bestN], x, y);
    }
    /// <summary>Least-squares slope -dy/dx over the points within <see cref="HalfWidth"/> of x[i] in x, at least i-1..i+1.</summary>
    private static double Slope(double[] x, double[] y, int i)
    {
        int lo = Math.Max(0, i - 1), hi = Math.Min(x.Length - 1, i + 1);
        while (lo > 0 && x[i] - x[lo - 1] <= HalfWidth) lo--;
        while (hi < x.Length - 1 && x[hi + 1] - x[i] <= HalfWidth) hi++;
        double mx = 0, my = 0;
        int n = hi - lo + 1;
        for (int j = lo; j <= hi; j++) { mx += x[j]; my += y[j]; }
        mx /= n; my /= n;
        double sxx = 0, sxy = 0;
        for (int j = lo; j <= hi; j++) { sxx += (x[j] - mx) * (x[j] - mx); sxy += (x[j] - mx) * (y[j] - my); }
        return sxx > 0 ? -sxy / sxx : 0;
    }

    /// <summary>
    /// The runs without their points before <see cref="End"/> (a run keeps at least its last two points, and one that
    /// starts later is unchanged); <paramref name="end"/> is that step (0: the runs are returned as they are).
    /// </summary>
    public static IReadOnlyList<LawRun> Skip(IReadOnlyList<LawRun> runs, out long end)
    {
        end = End(runs);
        if (end <= 0) return runs;
        long e = end;
        return runs.Select(r =>
        {
            int keep = r.Steps.Count(s => s >= e);
            if (keep == r.Count || keep < 2) return r;
            int k = r.Count - keep;
            return r with { Steps = r.Steps[k..], Observed = r.Observed![k..] };
        }).ToArray();
    }
}
