using Anneal.Schedules;

namespace Anneal.Curves;

/// <summary>Where a per-step learning rate came from.</summary>
public enum LrSource
{
    /// <summary>Sampled from the attached schedule spec: exact.</summary>
    Schedule,
    /// <summary>Logged at every step: exact.</summary>
    Logged,
    /// <summary>Rebuilt by linear interpolation between logged values: approximate.</summary>
    Interpolated,
}

/// <summary>
/// The learning rate at every optimizer step 0..<see cref="LastStep"/>. When
/// <see cref="Source"/> is <see cref="LrSource.Interpolated"/>, <see cref="Warning"/> says how
/// much was made up, so the CLI can print it.
/// </summary>
public sealed record ExpandedLr(double[] Lr, LrSource Source, int InterpolatedSteps, string? Warning)
{
    /// <summary>The last step covered.</summary>
    public long LastStep => Lr.Length - 1;

    /// <summary>True when some steps' LR was not logged and was interpolated.</summary>
    public bool Interpolated => Source == LrSource.Interpolated;
}

/// <summary>
/// Per-step learning rates for a logged curve. Laws that integrate the LR over steps (e.g. the
/// multi-power law, Luo et al. 2025, "A Multi-Power Law for Loss Curve Prediction Across Learning
/// Rate Schedules": S1 = sum of eta over steps) need every step, but loggers write the LR every k
/// steps. Priority: the attached <see cref="LossCurve.ScheduleSpec"/> (exact); else a fully
/// logged LR column (exact); else piecewise-linear interpolation of the logged values, holding
/// the first value before the first logged step and the last after the last, with a warning:
/// interpolation blurs step-wise drops and cannot recover a warmup that was not logged.
/// </summary>
public static class LrExpansion
{
    /// <summary>
    /// The most steps a per-step learning rate is built for. A fit holds several per-step arrays per law and run
    /// (the rates, their prefix sums, the multi-power law's per-change terms; about 110 bytes a step for the default
    /// law, measured in docs/reliability.md), so 5e6 steps stay within about 0.6 GB of memory; beyond it the
    /// expansion is refused before anything is allocated, naming this limit.
    /// </summary>
    public const long MaxSteps = 5_000_000;

    /// <summary>Per-step LR for steps 0..<paramref name="lastStep"/> (default: the curve's last step).</summary>
    public static ExpandedLr Expand(LossCurve curve, long? lastStep = null)
    {
        long last = lastStep ?? curve.Steps[^1];
        if (last < 0) throw new ArgumentOutOfRangeException(nameof(lastStep), "last step must be >= 0");
        if (last >= MaxSteps)
            throw new CurveFormatException($"{Label(curve)}: step {last} is past the last step a per-step learning rate is built for ({MaxSteps - 1}: at most {MaxSteps} steps, " +
                "to keep memory bounded); use a run or a horizon of at most that many steps");
        int n = (int)last + 1;
        if (curve.ScheduleSpec is { } spec)
            return new ExpandedLr(Schedule.Parse(spec).Sample(n), LrSource.Schedule, 0, null);

        if (curve.Lr is not { } lr)
            throw new CurveFormatException($"{Label(curve)}: no learning-rate column and no schedule attached, so the per-step LR is unknown; " +
                $"add an LR column ({CurveColumns.AcceptedNames(CurveRole.Lr)}) or attach the schedule as FILE@SPEC, e.g. run.csv@cosine(peak=3e-4, total=24000, warmup=2160)");

        var steps = curve.Steps;
        int firstLogged = -1, count = 0, covered = 0;
        for (int i = 0; i < lr.Length; i++)
            if (!double.IsNaN(lr[i])) { if (firstLogged < 0) firstLogged = i; count++; if (steps[i] <= last) covered++; }
        if (firstLogged < 0)
            throw new CurveFormatException($"{Label(curve)}: the learning-rate column is empty on every row; attach the schedule as FILE@SPEC");

        var result = new double[n];
        // Sweep the steps once, carrying the bracketing logged points (a, b).
        int a = firstLogged, b = firstLogged;
        for (long s = 0; s < n; s++)
        {
            while (b < lr.Length && (steps[b] < s || double.IsNaN(lr[b]))) { if (!double.IsNaN(lr[b])) a = b; b++; }
            if (b >= lr.Length) { result[s] = lr[a]; continue; }
            if (steps[b] == s || s < steps[firstLogged]) { result[s] = s < steps[firstLogged] ? lr[firstLogged] : lr[b]; continue; }
            // steps[a] < s < steps[b]
            double t = (double)(s - steps[a]) / (steps[b] - steps[a]);
            result[s] = lr[a] + t * (lr[b] - lr[a]);
        }
        int made = n - covered;
        if (made == 0) return new ExpandedLr(result, LrSource.Logged, 0, null);

        var msg = $"{Label(curve)}: LR not logged at {made} of {n} steps (0..{last}); rebuilt by linear interpolation of {count} logged values";
        if (steps[firstLogged] > 0)
            msg += $"; steps 0..{steps[firstLogged] - 1} (before the first logged LR) use its value {lr[firstLogged]:G4}, so any warmup is missing";
        if (last > steps[^1]) msg += $"; steps after {steps[^1]} hold the last value";
        msg += ". Attach the exact schedule as FILE@SPEC for exact per-step LR.";
        return new ExpandedLr(result, LrSource.Interpolated, made, msg);
    }

    private static string Label(LossCurve c) => c.SourceFile ?? c.Name;
}
