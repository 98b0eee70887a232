using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Design;

/// <summary>
/// The shape of a run's learning-rate schedule after its peak, in two numbers that do not depend on its length or its
/// peak: <paramref name="DecayShare"/>, the share of the steps after the peak spent below the peak (0 for a constant
/// rate, 0.1 for a 10 % cooldown, 1 for a cosine), and <paramref name="AreaRemoved"/>, one minus the mean rate after
/// the peak over the peak (0 for a constant rate, 0.05 for a 10 % linear cooldown, 0.5 for a cosine or linear decay to 0).
/// </summary>
public readonly record struct ScheduleShape(double DecayShare, double AreaRemoved)
{
    /// <summary>The shape of per-step rates <paramref name="eta"/> (the whole run, warmup included).</summary>
    public static ScheduleShape Of(double[] eta)
    {
        int from = EtaMath.PeakIndex(eta);
        double peak = eta[from];
        int n = eta.Length - from, below = 0;
        double sum = 0;
        for (int i = from; i < eta.Length; i++)
        {
            // A rate equal to the peak up to rounding is the peak (a schedule's stable phase).
            if (eta[i] < peak * (1 - 1e-9)) below++;
            sum += eta[i] / peak;
        }
        return new ScheduleShape((double)below / n, 1 - sum / n);
    }

    /// <summary>The shape of <paramref name="steps"/> steps of <paramref name="schedule"/>.</summary>
    public static ScheduleShape Of(Schedule schedule, long steps) => Of(schedule.Sample(checked((int)steps)));
}

/// <summary>
/// Which calibration designs resemble the targets (docs/probe.md, "Robust recommendation"). A law fitted on a design
/// forecasts a target by interpolation when the design's runs bracket the target's schedule shape, and by
/// extrapolating its functional form otherwise; when the form is wrong (and on real runs every law's form is somewhat
/// wrong) extrapolation is where the error grows, which a simulation that believes one form cannot see. A design
/// covers a target when the target's <see cref="ScheduleShape"/> lies in the box spanned by the shapes of the design's
/// runs, widened by <see cref="Slack"/> on each side; constant + cosine spans every shape between a constant rate and
/// a full decay, so it covers every target that decays no further than a cosine. The idea is that of response-surface
/// designs robust to model bias (Box and Draper 1959): spread the design points over the region you will predict.
/// For the same reason a design other than the baseline must hold at least <see cref="MinDecayRuns"/> runs that decay.
/// </summary>
public static class ProbeCoverage
{
    /// <summary>
    /// How far outside the design's box a target may lie and still count as covered, in both coordinates. Chosen a priori,
    /// not on the corpora: a cosine to a tenth of the peak (area removed 0.45) then covers a cosine to 0 (0.5); a
    /// schedule shortened to a quarter of its length with the same warmup moves by a few hundredths; constant + 10 %
    /// cooldowns covers cooldowns up to about 20 % (one step of the grid's cooldown fractions further) but no 40 % one and no cosine.
    /// </summary>
    public const double Slack = 0.1;

    /// <summary>
    /// How many runs of a design other than the baseline must leave the peak rate (<see cref="DecayRuns"/>): two. A design with
    /// one decay (a constant run and one cooldown branch, or one cosine alone) measures the gain of a decay at one point, and the
    /// law's form alone carries it to the targets' other lengths and shapes, the extrapolation that coverage keeps out in shape.
    /// Chosen from the structure (two points fix a gain and its trend), not tuned: measured on the seventeen corpora in
    /// docs/journal/session-21-probe.md (the one-cooldown and one-decay picks lost to constant + cosine on 6 of 7 questions).
    /// </summary>
    public const int MinDecayRuns = 2;

    /// <summary>
    /// Whether a design may be recommended over the baseline: none of the targets is left unbracketed
    /// (<paramref name="uncovered"/> 0, see <see cref="Uncovered"/>) and it holds at least <see cref="MinDecayRuns"/>
    /// runs that decay (<paramref name="decayRuns"/>, see <see cref="DecayRuns"/>).
    /// </summary>
    public static bool Eligible(int uncovered, int decayRuns) => uncovered == 0 && decayRuns >= MinDecayRuns;

    /// <summary>
    /// The runs of <paramref name="design"/> whose rate falls below their peak (<see cref="ScheduleShape.DecayShare"/> above 0):
    /// cooldown branches, cosines, linear and step decays; not the constant-rate run. <paramref name="cache"/> as in <see cref="Uncovered"/>.
    /// </summary>
    public static int DecayRuns(CalibrationDesign design, IDictionary<string, ScheduleShape>? cache = null)
    {
        cache ??= new Dictionary<string, ScheduleShape>();
        return design.Runs.Count(r => (cache.TryGetValue(r.Key, out var known) ? known : cache[r.Key] = Shape(r)).DecayShare > 0);
    }

    /// <summary>The shape of a calibration run (a branch is its whole schedule, parent's steps included).</summary>
    public static ScheduleShape Shape(CalibrationRun run) => ScheduleShape.Of(Schedule.Parse(run.Schedule), run.Horizon);

    /// <summary>The shape of a target.</summary>
    public static ScheduleShape Shape(ProbeTarget target) => ScheduleShape.Of(target.Schedule, target.Horizon);

    /// <summary>Whether some run shapes of <paramref name="runs"/> bracket <paramref name="target"/> in both coordinates, within <see cref="Slack"/>.</summary>
    public static bool Covers(IReadOnlyList<ScheduleShape> runs, ScheduleShape target) =>
        runs.Count > 0
        && target.DecayShare >= runs.Min(r => r.DecayShare) - Slack && target.DecayShare <= runs.Max(r => r.DecayShare) + Slack
        && target.AreaRemoved >= runs.Min(r => r.AreaRemoved) - Slack && target.AreaRemoved <= runs.Max(r => r.AreaRemoved) + Slack;

    /// <summary>
    /// The targets (indices) that <paramref name="design"/>'s runs do not cover. <paramref name="cache"/> keeps the shapes by
    /// <see cref="CalibrationRun.Key"/>: designs share runs, and a shape samples every step of its run.
    /// </summary>
    public static IReadOnlyList<int> Uncovered(CalibrationDesign design, IReadOnlyList<ScheduleShape> targets, IDictionary<string, ScheduleShape>? cache = null)
    {
        cache ??= new Dictionary<string, ScheduleShape>();
        var runs = design.Runs.Select(r => cache.TryGetValue(r.Key, out var known) ? known : cache[r.Key] = Shape(r)).ToArray();
        return Enumerable.Range(0, targets.Count).Where(t => !Covers(runs, targets[t])).ToArray();
    }
}
