using System.Globalization;
using Anneal.Schedules;
using Anneal.Specs;
using static Anneal.ParameterName;

namespace Anneal.Design;

/// <summary>
/// A schedule the user means to train and whose final loss the calibration runs must predict: a
/// schedule spec with a length (<c>cosine(peak=3e-4, total=24000, warmup=2160)</c>) or an open-ended one
/// with its horizon after <c>@</c> (<c>constant(peak=3e-4, warmup=2160)@72000</c>).
/// </summary>
/// <param name="Text">What the user wrote.</param>
/// <param name="Schedule">The parsed schedule.</param>
/// <param name="Horizon">Steps the run trains; its final loss is the loss after step Horizon - 1.</param>
public sealed record ProbeTarget(string Text, Schedule Schedule, long Horizon)
{
    /// <summary>Largest horizon a target may have: the simulation samples every step of the schedule.</summary>
    public const long MaxHorizon = 20_000_000;

    /// <summary>The canonical spec with the horizon, e.g. <c>wsd(peak=0.003, total=2000, warmup=100)</c> or <c>constant(peak=0.003)@3000</c>.</summary>
    public string Spec => Schedule.Length == Horizon ? Schedule.Spec : $"{Schedule.Spec}@{Horizon}";

    /// <summary>
    /// A short label for tables: the spec without the arguments every target shares (peak, warmup, total),
    /// followed by the horizon, e.g. <c>wsd(decay=0.2, shape=sqrt)@2000</c>.
    /// </summary>
    public string Label
    {
        get
        {
            var call = Schedule.ToSpecCall();
            var kept = call.Args.Where(a => a.Name is not ("peak" or "warmup" or "total")).ToArray();
            return new SpecCall(call.Name, kept) + "@" + Horizon.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The rates of steps 0..Horizon-1.</summary>
    public double[] Rates() => Schedule.Sample(checked((int)Horizon));

    /// <summary>
    /// Parses <c>SPEC</c> or <c>SPEC@STEPS</c>. Errors name the parameter <c>target</c> (<see cref="InputException.Parameters"/>).
    /// </summary>
    public static ProbeTarget Parse(string text)
    {
        FormattableString what = $"{Parameter("target")} '{text}'";
        if (string.IsNullOrWhiteSpace(text)) throw InputException.Naming($"{Parameter("target")} is empty: give a schedule spec such as cosine(peak=3e-4, total=24000, warmup=2160)");
        string spec = text.Trim();
        long? steps = null;
        int at = spec.LastIndexOf('@');
        if (at >= 0 && !spec[(at + 1)..].Contains(')'))
        {
            var tail = spec[(at + 1)..].Trim();
            if (!double.TryParse(tail, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v != Math.Floor(v) || v < 1 || v > MaxHorizon)
                throw InputException.Naming($"{what}: the horizon after '@' must be a whole number of steps in 1..{MaxHorizon:N0}, got '{tail}'");
            steps = (long)v;
            spec = spec[..at].Trim();
        }
        Schedule schedule;
        try { schedule = Schedule.Parse(spec); }
        catch (SpecException e) { throw InputException.Naming($"{what}: {e.Message}"); }
        long horizon = (steps, schedule.Length) switch
        {
            ({ } s, { } l) when s != l => throw InputException.Naming($"{what}: the schedule has total={l} but '@{s}' asks for {s} steps; give one of them"),
            ({ } s, _) => s,
            (null, { } l) => l,
            _ => throw InputException.Naming($"{what}: the schedule has no length; append the steps the run trains, e.g. {spec}@24000"),
        };
        if (horizon > MaxHorizon) throw InputException.Naming($"{what}: {horizon:N0} steps is more than the {MaxHorizon:N0} the simulation samples");
        var eta = schedule.Sample(checked((int)horizon));
        int peak = Laws.EtaMath.PeakIndex(eta);
        if (!(eta[peak] > 0)) throw InputException.Naming($"{what}: the learning rate is never positive");
        if (horizon - peak < 10) throw InputException.Naming($"{what}: the run ends {horizon - peak} steps after its warmup; a target needs at least 10 steps after the peak");
        return new ProbeTarget(text, schedule, horizon);
    }
}

/// <summary>
/// One calibration run of a design: a schedule trained to <paramref name="Horizon"/>. A cooldown branch
/// starts from the checkpoint its parent (the constant-rate run) saved after <paramref name="BranchStep"/>
/// updates, so it costs only its own steps; a run from scratch has <paramref name="BranchStep"/> 0.
/// </summary>
/// <param name="Name">Short name, e.g. <c>constant[:1000]</c> or <c>cooldown 10% to 750</c>.</param>
/// <param name="Schedule">The run's schedule spec.</param>
/// <param name="Horizon">Steps 0..Horizon-1 are trained (counting the parent's for a branch).</param>
/// <param name="BranchStep">The checkpoint it starts from (0: from scratch).</param>
public sealed record CalibrationRun(string Name, string Schedule, long Horizon, long BranchStep = 0)
{
    /// <summary>Steps this run itself trains: a branch only pays for its cooldown.</summary>
    public long Cost => Horizon - BranchStep;

    /// <summary>Whether the run starts from a checkpoint of the design's constant-rate run.</summary>
    public bool IsBranch => BranchStep > 0;

    /// <summary>Identity for caches and noise streams: the schedule, the horizon and where it starts.</summary>
    public string Key => $"{Schedule}|{Horizon}|{BranchStep}";
}

/// <summary>
/// A set of calibration runs and what they cost. <paramref name="Family"/> names its kind:
/// <c>constant</c>, <c>cosine</c>, <c>constant+cosine</c>, <c>constant+cooldowns</c> or <c>corpus</c>
/// (a combination of a corpus's existing runs).
/// </summary>
public sealed record CalibrationDesign(string Name, string Family, IReadOnlyList<CalibrationRun> Runs)
{
    /// <summary>Steps trained in total: each run's own steps (branches count only their cooldown).</summary>
    public long Cost => Runs.Sum(r => r.Cost);

    /// <summary>The longest run's horizon.</summary>
    public long Horizon => Runs.Max(r => r.Horizon);

    /// <summary>Identity of the set of runs (order-free).</summary>
    public string Key => string.Join(";", Runs.Select(r => r.Key).Order(StringComparer.Ordinal));
}

/// <summary>
/// The designs <c>anneal probe</c> compares for a set of targets sharing one peak rate P and warmup W,
/// with H the longest target horizon. Calibration horizons T: H/4, H/2, 3H/4, H and every shorter
/// target horizon, plus, per family, the largest T the budget pays for. Per T:
/// <list type="bullet">
/// <item><c>constant</c>: a constant-rate run to T;</item>
/// <item><c>cosine</c>: a cosine run to T alone;</item>
/// <item><c>constant+cosine</c>: both (the usual calibration, the baseline);</item>
/// <item><c>target shape</c>: a target's own decay (cosine to its floor, linear, ...) shortened to T, alone (WSD
/// targets are covered by the cooldowns; schedules with absolute step counts cannot be shortened);</item>
/// <item><c>constant+cooldowns</c>: the constant run to T plus linear-to-zero cooldowns of fraction f
/// (10 %, 20 % and every WSD target's fraction up to 50 %) branched from its checkpoints, ending at
/// T, at T/2 and T, or at T/2, 3T/4 and T.</item>
/// </list>
/// The cosine decays to the lowest floor of the cosine targets (0 without one). Every horizon is a
/// multiple of the simulation's logging interval (the's logging interval) and designs dearer than the
/// budget are left out.
/// </summary>
public static class ProbeGrid
{
    /// <summary>The designs for targets with peak <paramref name="peak"/>, warmup <paramref name="warmup"/> and the targets' horizons; every horizon a multiple of <paramref name="step"/>.</summary>
    public static IReadOnlyList<CalibrationDesign> Designs(IReadOnlyList<ProbeTarget> targets, double peak, long warmup, long budget, long step)
    {
        long h = targets.Max(t => t.Horizon);
        var fractions = Fractions(targets);
        double floor = CosineFloor(targets);
        // Enough logged points after the warmup for a fit: four logging intervals.
        long minT = warmup + 4 * step;
        var ts = new SortedSet<long>();
        foreach (var t in new[] { h / 4, h / 2, 3 * h / 4, h }.Concat(targets.Select(x => x.Horizon)))
            if (Round(t, step) is var r && r >= minT && r <= h) ts.Add(r);
        var designs = new Dictionary<string, CalibrationDesign>();
        void Add(CalibrationDesign? d)
        {
            if (d is null || d.Cost > budget) return;
            designs.TryAdd(d.Key, d);
        }
        // Per family, the largest T the budget pays for (its cost is T times a factor).
        IEnumerable<long> With(double costPerT)
        {
            foreach (var t in ts) yield return t;
            long fill = Math.Min(h, Round((long)Math.Floor(budget / costPerT), step, down: true));
            if (fill >= minT) yield return fill;
        }
        foreach (var t in With(1)) Add(ConstantOnly(peak, warmup, t));
        foreach (var t in With(1)) Add(CosineOnly(peak, warmup, t, floor));
        // A shorter run of each decay the targets use (other than a WSD cooldown, which the branches cover).
        foreach (var target in targets)
            foreach (var t in With(1))
                if (Shortened(target, t) is { } run) Add(new CalibrationDesign(run.Name, "target shape", [run]));
        foreach (var t in With(2)) Add(ConstantAndCosine(peak, warmup, t, floor));
        foreach (var f in fractions)
            foreach (var ends in new[] { new[] { 1.0 }, [0.5, 1.0], [0.5, 0.75, 1.0] })
                foreach (var t in With(1 + f * ends.Sum()))
                    Add(ConstantAndCooldowns(peak, warmup, t, f, ends.Select(e => Round((long)Math.Round(e * t), step)).Distinct().ToArray(), minT));
        return designs.Values.OrderBy(d => d.Cost).ThenBy(d => d.Name, StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// The usual calibration with the same budget: a constant run and a cosine run to the largest T with
    /// 2T within the budget (null when that T leaves no room after the warmup).
    /// </summary>
    public static CalibrationDesign? Baseline(IReadOnlyList<ProbeTarget> targets, double peak, long warmup, long budget, long step)
    {
        long h = targets.Max(t => t.Horizon);
        long t = Math.Min(h, Round(budget / 2, step, down: true));
        return t >= warmup + 4 * step ? ConstantAndCosine(peak, warmup, t, CosineFloor(targets)) : null;
    }

    /// <summary>Cooldown fractions tried: 10 %, 20 % and the WSD targets' own (rounded to 5 %, at most 50 %).</summary>
    public static double[] Fractions(IReadOnlyList<ProbeTarget> targets)
    {
        var set = new SortedSet<double> { 0.1, 0.2 };
        foreach (var t in targets)
            if (t.Schedule is WsdSchedule w && w.Total > 0)
            {
                double f = Math.Round(20.0 * w.DecaySteps / w.Total) / 20;
                if (f > 0 && f <= 0.5) set.Add(f);
            }
        return set.ToArray();
    }

    /// <summary>The lowest final rate of the cosine targets (0 without one): the calibration cosine ends there.</summary>
    public static double CosineFloor(IReadOnlyList<ProbeTarget> targets)
    {
        var mins = targets.Select(t => t.Schedule).OfType<CosineSchedule>().Select(c => Math.Max(0, c.Min)).ToArray();
        return mins.Length == 0 ? 0 : mins.Min();
    }

    /// <summary>The constant-rate run to <paramref name="t"/>.</summary>
    public static CalibrationRun Constant(double peak, long warmup, long t) =>
        new($"constant to {t}", new SpecBuilder("constant").Num("peak", peak).NumIf("warmup", warmup, 0).Build().ToString(), t);

    /// <summary>A linear-to-zero cooldown of fraction <paramref name="f"/> ending at <paramref name="end"/>, branched from the constant run.</summary>
    public static CalibrationRun Cooldown(double peak, long warmup, long end, double f)
    {
        var spec = Schedule.Parse(new SpecBuilder("wsd").Num("peak", peak).Num("total", end).NumIf("warmup", warmup, 0).Num("decay", f).Build().ToString());
        var w = (WsdSchedule)spec;
        return new CalibrationRun($"cooldown {f:P0} to {end}", spec.Spec, end, w.DecayStart);
    }

    /// <summary>Names of spec arguments that count steps from the start of a run, besides warmup and total: a schedule with one cannot simply be shortened.</summary>
    private static readonly HashSet<string> AbsoluteSteps = ["decay_steps", "stable", "milestones", "at", "every", "cycle", "begin", "up", "down"];

    /// <summary>
    /// Target <paramref name="target"/>'s schedule with its total set to <paramref name="t"/> (same shape, shorter), or null for
    /// WSD schedules (their cooldowns are branches), open-ended schedules and schedules with absolute step counts.
    /// </summary>
    public static CalibrationRun? Shortened(ProbeTarget target, long t)
    {
        if (target.Schedule is WsdSchedule || target.Schedule.Length is null || t >= target.Horizon) return null;
        var call = target.Schedule.ToSpecCall();
        if (call.Args.Any(a => a.Name is null || AbsoluteSteps.Contains(a.Name))) return null;
        var args = call.Args.Select(a => a.Name == "total" ? new SpecArg("total", new SpecNumber(t)) : a).ToArray();
        Schedule shortened;
        try { shortened = Schedule.Parse(new SpecCall(call.Name, args).ToString()); }
        catch (InputException) { return null; }
        var label = new SpecCall(call.Name, call.Args.Where(a => a.Name is not ("peak" or "warmup" or "total")).ToArray());
        return new CalibrationRun($"{label} to {t}", shortened.Spec, t);
    }

    private static CalibrationDesign ConstantOnly(double peak, long warmup, long t) =>
        new($"constant to {t}", "constant", [Constant(peak, warmup, t)]);

    private static CalibrationDesign CosineOnly(double peak, long warmup, long t, double floor) =>
        new($"cosine to {t}", "cosine", [CosineRun(peak, warmup, t, floor)]);

    /// <summary>A constant run and a cosine run, both to <paramref name="t"/>.</summary>
    public static CalibrationDesign ConstantAndCosine(double peak, long warmup, long t, double floor) =>
        new($"constant + cosine to {t}", "constant+cosine", [Constant(peak, warmup, t), CosineRun(peak, warmup, t, floor)]);

    private static CalibrationRun CosineRun(double peak, long warmup, long t, double floor) =>
        new($"cosine to {t}", new SpecBuilder("cosine").Num("peak", peak).Num("total", t).NumIf("warmup", warmup, 0).NumIf("min", floor, 0).Build().ToString(), t);

    private static CalibrationDesign? ConstantAndCooldowns(double peak, long warmup, long t, double f, long[] ends, long minT)
    {
        var runs = new List<CalibrationRun> { Constant(peak, warmup, t) };
        foreach (var e in ends)
        {
            var c = Cooldown(peak, warmup, e, f);
            // A cooldown must start after the warmup and leave at least two steps to log.
            if (e < minT || c.BranchStep <= warmup || c.Cost < 2) return null;
            runs.Add(c);
        }
        string at = string.Join(", ", ends);
        return new CalibrationDesign($"constant to {t} + {f:P0} cooldowns to {at}", "constant+cooldowns", runs);
    }

    /// <summary><paramref name="v"/> rounded to a multiple of <paramref name="step"/> (down when asked).</summary>
    internal static long Round(long v, long step, bool down = false) =>
        step <= 1 ? v : (down ? v / step : (long)Math.Round((double)v / step, MidpointRounding.AwayFromZero)) * step;
}
