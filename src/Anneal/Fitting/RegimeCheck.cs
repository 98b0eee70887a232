using System.Globalization;
using Anneal.Laws;

namespace Anneal.Fitting;

/// <summary>
/// Whether the fitted runs end in the regime the laws describe. Every law's constant-rate part is a power law towards a
/// floor, <c>L0 + A S1^-alpha</c> (S1 the cumulative learning rate), whose fall per e-fold of S1,
/// <c>-dL/d ln S1 = alpha A S1^-alpha</c>, shrinks the whole time: the loss is convex in ln S1, so it never ends below the
/// straight line in ln S1 through its earlier points (the log-linear limit alpha -> 0 ends on it). A run whose loss ends
/// below that line by more than its noise still falls ever faster in log time: it is still in an early transient
/// (<see cref="TransientWindow"/>) or leaving a plateau, and what comes next is beyond any law fitted on it. gpt-jargon,
/// session 17: the validation loss sits on a plateau to the fitted horizon (600 steps) and falls in a second phase after
/// about 700 on both seeds; every law forecast it 5-30 % too high past the horizon, inside 1.5-4 % bands
/// (docs/journal/session-17-plateau.md).
/// <para>
/// The statistic, on the constant-rate phase the transient is found on (<see cref="TransientWindow.ConstantPhase"/>), over
/// its last <see cref="Window"/> of ln S1 (the last two doublings of the learning-rate area; the whole phase when shorter):
/// the least-squares line <c>y = a - s u</c> in u = ln S1 through the window's earlier points (all but its end, the k points
/// within <see cref="EndWidth"/> of the last), and the end's mean residual <c>r = mean y_e - (a - s mean u_e)</c>, as the
/// slope it implies from the earlier points' last one, <c>s_end = s - r / (mean u_e - u_b)</c>, against <c>s</c> (nats per
/// e-fold of learning-rate area). With sigma the points' own scatter, from the second differences of the whole phase (white
/// noise of variance sigma^2 gives second differences of variance 6 sigma^2, whatever the spacing; the curvature they also
/// hold only widens it), r has standard deviation <c>sigma sqrt(1/k + 1/m + (mean u_e - mean u)^2 / Sxx)</c> over the m
/// earlier points. The check fires when
/// <c>s_end - s</c> exceeds <see cref="Threshold"/> standard errors and <see cref="MinRise"/> of the slope.
/// </para>
/// </summary>
/// <param name="FromStep">The window's first point.</param>
/// <param name="BeforeStep">The window's last point before its end (the earlier points are FromStep..BeforeStep).</param>
/// <param name="ToStep">The window's last point, the constant-rate phase's end.</param>
/// <param name="SlopeBefore">s: the line's -dL/d ln S1 through the earlier points (nats per e-fold of learning-rate area).</param>
/// <param name="SlopeEnd">s_end: the fall per e-fold from the line at <paramref name="BeforeStep"/> to the observed loss at <paramref name="ToStep"/>.</param>
/// <param name="StandardError">The standard error of <c>SlopeEnd - SlopeBefore</c> from the points' scatter.</param>
/// <param name="Horizon">The last step any fitted point reached: a forecast past it extrapolates.</param>
public sealed record RegimeCheck(long FromStep, long BeforeStep, long ToStep, double SlopeBefore, double SlopeEnd, double StandardError, long Horizon)
{
    /// <summary>The window, in ln S1, that ends at the constant-rate phase's last point: two doublings of the learning-rate area.</summary>
    public static readonly double Window = Math.Log(4);

    /// <summary>
    /// The end whose loss is compared with the line: the points within this much of the last in ln S1 (the last 19 % of the
    /// learning-rate area), at least the last point. One point on logs evaluated every few hundred steps (gpt-jargon's
    /// 599), a mean of many on dense ones, whose single points are too noisy to say how fast the loss falls there.
    /// </summary>
    public static readonly double EndWidth = Math.Log(4) / 8;

    /// <summary>Fewest points in the window: three earlier points for the line (two would leave no averaging), and the end.</summary>
    public const int MinPoints = 4;

    /// <summary>
    /// The check fires when the rise exceeds this many standard errors: one, "more than its noise". A low bar on purpose: a
    /// false alarm costs a band past the fitted horizon, a miss a forecast 30 % off inside a 3 % band. Measured (bench
    /// regime-check): on the other twelve corpora's 24 fits it can judge (both questions, gpt100m-rope, the published
    /// multi-power-law splits) the rise is at most -0.16 standard errors, and at most +0.60 on the same questions' second-seed
    /// constant runs; on gpt-jargon +1.74 (seed 1) and +1.48 (seed 2). One corpus with a second phase is thin evidence, so the
    /// rule is a one-sided test against the laws' own limit with a one-standard-error margin, nothing fitted to that corpus.
    /// </summary>
    public const double Threshold = 1;

    /// <summary>
    /// The rise must also be at least this fraction of the larger slope: on curves with almost no scatter (noise-free
    /// synthetic ones, heavily smoothed logs) a rise that is a rounding error or a few percent is no sign of another phase.
    /// </summary>
    public const double MinRise = 0.1;

    /// <summary>How much faster the loss falls per e-fold of learning-rate area at the window's end than before it.</summary>
    public double Rise => SlopeEnd - SlopeBefore;

    /// <summary>The rise in standard errors (infinite for noise-free points).</summary>
    public double Z => StandardError > 0 ? Rise / StandardError : Rise > 0 ? double.PositiveInfinity : Rise < 0 ? double.NegativeInfinity : 0;

    /// <summary>Whether the fitted runs end before the regime the laws describe (see <see cref="RegimeCheck"/>).</summary>
    public bool Fires => Rise > Threshold * StandardError && Rise > MinRise * Math.Max(Math.Abs(SlopeBefore), Math.Abs(SlopeEnd));

    /// <summary>The fit's warning when the check fires: one sentence with its numbers.</summary>
    public string Warning => string.Create(CultureInfo.InvariantCulture,
        $"the loss falls faster in log time at the end of the fitted runs than before ({SlopeEnd:0.###} nats per e-fold of learning-rate area from step {BeforeStep} to {ToStep}, against {SlopeBefore:0.###} from step {FromStep} to {BeforeStep}: {Z:0.#} standard errors of the points' scatter), so the runs have not reached the power-law regime the laws assume (a plateau or an early transient): forecasts beyond step {Horizon} may be far off (too high if the loss drops again) and get no band; fit runs long enough for that fall to shrink");

    /// <summary>The verdict in one sentence: <see cref="Warning"/> when the check fires; else that the runs end as the laws assume.</summary>
    public string Verdict => Fires ? Warning : string.Create(CultureInfo.InvariantCulture,
        $"the fitted runs end in the power-law regime the laws assume (the loss falls no faster in log time at their end, {SlopeEnd:0.###} nats per e-fold of learning-rate area from step {BeforeStep} to {ToStep}, than before, {SlopeBefore:0.###} from step {FromStep}: {Z:0.#} standard errors of the points' scatter), so forecasts beyond step {Horizon} get a band");

    /// <summary>Why there is no verdict (<see cref="Of(IReadOnlyList{LawRun})"/> null), in one sentence.</summary>
    public static string Unavailable => $"the regime check cannot be made on these runs: it needs a constant-rate phase with at least {MinPoints} logged points after the warmup in its last two doublings of learning-rate area (a fit of decaying runs only, too few points, or points kept before the peak)";

    /// <summary>
    /// Why a forecast of <paramref name="run"/> gets no band: null when the check does not fire or the forecast ends by the
    /// fitted horizon (it interpolates, and keeps its band). A forecast that reaches past the horizon gets none at all, its
    /// steps within the horizon included: a prediction's band is whole or absent (<see cref="LawPrediction"/>).
    /// </summary>
    public string? BandWithheld(LawRun run, double level) => run.Count > 0 ? BandWithheld(run.Steps[^1], level) : null;

    /// <summary>Why a forecast whose last step is <paramref name="lastStep"/> gets no band (<see cref="BandWithheld(LawRun, double)"/>); null when it keeps it.</summary>
    public string? BandWithheld(long lastStep, double level) => Fires && lastStep > Horizon
        ? string.Create(CultureInfo.InvariantCulture,
            $"no {level * 100:G4}% band: the forecast reaches past the fitted horizon (step {Horizon}) and the fitted runs have not reached the power-law regime the laws assume (the loss falls faster in log time at their end, {SlopeEnd:0.###} nats per e-fold of learning-rate area, than before, {SlopeBefore:0.###}), so how far it is off is unknown")
        : null;

    /// <summary>
    /// The check on the fitted <paramref name="runs"/> (their points after the warmup, as a fit sees them); null when it
    /// cannot be made: no constant-rate phase with at least <see cref="MinPoints"/> points in its last <see cref="Window"/>
    /// (a fit of decaying runs only, or too few logged points), or runs that keep points before their peak.
    /// </summary>
    public static RegimeCheck? Of(IReadOnlyList<LawRun> runs) =>
        TransientWindow.ConstantPhase(runs) is { } phase ? Of(phase, phase.Steps.Length, runs.Max(q => q.Steps[^1])) : null;

    /// <summary>
    /// The check on the first <paramref name="n"/> points of a constant-rate phase (<see cref="TransientWindow.ConstantPhase"/>)
    /// of runs whose last fitted step is <paramref name="horizon"/>: what <see cref="Of(IReadOnlyList{LawRun})"/> gives on a
    /// run stopped at its n-th point, without finding the phase again (<see cref="RegimeOnset"/> asks it at every stop of a log).
    /// </summary>
    internal static RegimeCheck? Of((long[] Steps, double[] X, double[] Y) phase, int n, long horizon)
    {
        var (steps, x, y) = phase;
        int first = 0;
        while (first < n && x[first] < x[n - 1] - Window) first++;
        // The end: the points within EndWidth of the last (at least the last); the earlier points: the window's others.
        int end = n - 1;
        while (end - 1 > first && x[end - 1] > x[n - 1] - EndWidth) end--;
        int m = end - first, k = n - end;
        if (m < MinPoints - 1) return null;
        // The points' scatter from the second differences of the whole phase.
        double d2 = 0;
        for (int i = 1; i + 1 < n; i++) { double d = y[i + 1] - 2 * y[i] + y[i - 1]; d2 += d * d; }
        double sigma = Math.Sqrt(d2 / (6.0 * (n - 2)));
        double mx = 0, my = 0, ex = 0, ey = 0;
        for (int i = first; i < end; i++) { mx += x[i]; my += y[i]; }
        for (int i = end; i < n; i++) { ex += x[i]; ey += y[i]; }
        mx /= m; my /= m; ex /= k; ey /= k;
        double sxx = 0, sxy = 0;
        for (int i = first; i < end; i++) { sxx += (x[i] - mx) * (x[i] - mx); sxy += (x[i] - mx) * (y[i] - my); }
        double gap = ex - x[end - 1];
        if (!(sxx > 0) || !(gap > 0)) return null;
        double slope = -sxy / sxx;
        double residual = ey - (my - slope * (ex - mx));
        double se = sigma * Math.Sqrt(1.0 / k + 1.0 / m + (ex - mx) * (ex - mx) / sxx) / gap;
        return new RegimeCheck(steps[first], steps[end - 1], steps[n - 1], slope, slope - residual / gap, se, horizon);
    }
}
