using Anneal.Schedules;

namespace Anneal.Curves;

/// <summary>Coarse shape of a learning-rate schedule, as recognised from an LR column.</summary>
public enum ScheduleShape
{
    /// <summary>No LR to look at.</summary>
    Unknown,
    /// <summary>Flat after the (optional) warmup.</summary>
    Constant,
    /// <summary>Half-cosine decay from the peak.</summary>
    Cosine,
    /// <summary>Linear decay from the peak.</summary>
    Linear,
    /// <summary>A few discrete drops with flat stretches between them.</summary>
    StepWise,
    /// <summary>Warmup-stable-decay: a long flat stretch, then a continuous cooldown.</summary>
    Wsd,
    /// <summary>Decays, but matches none of the above.</summary>
    Decaying,
}

/// <summary>A summary of one loss curve, for <c>anneal curve info</c>.</summary>
public sealed record CurveInfo
{
    public required string Name { get; init; }
    public string? SourceFile { get; init; }

    /// <summary>The log format that was read (<see cref="LossCurve.Format"/>).</summary>
    public string Format { get; init; } = "";
    public int Count { get; init; }
    public long FirstStep { get; init; }
    public long LastStep { get; init; }
    /// <summary>Median difference between consecutive logged steps.</summary>
    public long MedianInterval { get; init; }
    /// <summary>At least 95% of step differences equal the median.</summary>
    public bool RegularInterval { get; init; }
    /// <summary>Number of step differences larger than the median (missing log rows).</summary>
    public int Gaps { get; init; }
    public double? LrMin { get; init; }
    public double? LrMax { get; init; }
    /// <summary>Rows with a logged LR.</summary>
    public int LrLogged { get; init; }
    public ScheduleShape Shape { get; init; }
    public bool Warmup { get; init; }
    /// <summary>First step at 98% of the peak LR, when a warmup was seen.</summary>
    public long? WarmupEnd { get; init; }
    /// <summary>First logged step after the peak where the LR is below 99.99% of the peak, if it decays.</summary>
    public long? DecayStart { get; init; }
    public double LossMin { get; init; }
    public double LossMax { get; init; }
    /// <summary>The last logged training loss.</summary>
    public double FinalLoss { get; init; }
    /// <summary>Mean of the last <see cref="FinalWindow"/> losses (noisy per-step logs).</summary>
    public double FinalLossMean { get; init; }
    public int FinalWindow { get; init; }
    public double? FinalValLoss { get; init; }
    public string? ScheduleSpec { get; init; }
    /// <summary>Per-step LR would have to be interpolated (no spec, LR not logged at every step).</summary>
    public bool LrInterpolated { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Human-readable shape, e.g. "wsd-like (decay from step 20000) + warmup".</summary>
    public string ShapeText
    {
        get
        {
            var s = Shape switch
            {
                ScheduleShape.Constant => "constant",
                ScheduleShape.Cosine => "cosine-like",
                ScheduleShape.Linear => "linear decay",
                ScheduleShape.StepWise => "step-wise",
                ScheduleShape.Wsd => "wsd-like",
                ScheduleShape.Decaying => "decaying (other)",
                _ => "unknown (no LR)",
            };
            if (DecayStart is { } d && Shape is ScheduleShape.Wsd or ScheduleShape.StepWise) s += $" (decay from step {d})";
            return Warmup ? s + $" + warmup to step {WarmupEnd}" : s;
        }
    }

    /// <summary>Summarises <paramref name="curve"/>. The LR shape uses the attached schedule when there is one.</summary>
    public static CurveInfo Analyze(LossCurve curve)
    {
        var steps = curve.Steps;
        int n = steps.Length;
        long median = 0;
        bool regular = true;
        int gaps = 0;
        if (n > 1)
        {
            var d = new long[n - 1];
            for (int i = 1; i < n; i++) d[i - 1] = steps[i] - steps[i - 1];
            var sorted = (long[])d.Clone();
            Array.Sort(sorted);
            median = sorted[sorted.Length / 2];
            int same = d.Count(x => x == median);
            gaps = d.Count(x => x > median);
            regular = same >= 0.95 * d.Length;
        }

        double[]? lr = curve.Lr;
        if (curve.ScheduleSpec is { } spec)
        {
            var sch = Schedule.Parse(spec);
            lr = steps.Select(s => sch.At(s)).ToArray();
        }
        var (shape, warm, warmEnd, decayStart) = lr is null ? (ScheduleShape.Unknown, false, (long?)null, (long?)null) : DetectShape(steps, lr);
        var finite = lr?.Where(v => !double.IsNaN(v)).ToArray();
        int lrLogged = curve.Lr?.Count(v => !double.IsNaN(v)) ?? 0;

        var loss = curve.Loss ?? throw new CurveFormatException($"{curve.SourceFile ?? curve.Name}: the curve has no loss values");
        int window = Math.Clamp(n / 100, 1, 200);
        double finalMean = 0;
        for (int i = n - window; i < n; i++) finalMean += loss[i];
        finalMean /= window;
        double? finalVal = null;
        if (curve.ValLoss is { } vl)
            for (int i = n - 1; i >= 0; i--) if (!double.IsNaN(vl[i])) { finalVal = vl[i]; break; }

        bool interpolated = curve.ScheduleSpec is null && curve.Lr is not null && (lrLogged < n || (n > 0 && steps[^1] - steps[0] + 1 != n) || steps[0] != 0);
        var warnings = curve.Warnings.ToList();
        if (interpolated)
            warnings.Add($"{curve.SourceFile ?? curve.Name}: LR logged at {lrLogged} of {steps[^1] + 1} steps; per-step LR will be interpolated (attach the exact schedule as FILE@SPEC)");
        else if (curve.Lr is null && curve.ScheduleSpec is null)
            warnings.Add($"{curve.SourceFile ?? curve.Name}: no LR column and no schedule attached; laws that need the LR will ask for FILE@SPEC");

        return new CurveInfo
        {
            Name = curve.Name,
            SourceFile = curve.SourceFile,
            Format = curve.Format,
            Count = n,
            FirstStep = steps[0],
            LastStep = steps[^1],
            MedianInterval = median,
            RegularInterval = regular,
            Gaps = gaps,
            LrMin = finite is { Length: > 0 } ? finite.Min() : null,
            LrMax = finite is { Length: > 0 } ? finite.Max() : null,
            LrLogged = lrLogged,
            Shape = shape,
            Warmup = warm,
            WarmupEnd = warmEnd,
            DecayStart = decayStart,
            LossMin = loss.Min(),
            LossMax = loss.Max(),
            FinalLoss = loss[^1],
            FinalLossMean = finalMean,
            FinalWindow = window,
            FinalValLoss = finalVal,
            ScheduleSpec = curve.ScheduleSpec,
            LrInterpolated = interpolated,
            Warnings = warnings,
        };
    }

    /// <summary>
    /// Heuristic shape detection on (step, lr) pairs, NaN rows skipped. Warmup: the LR starts below
    /// 90% of its peak and rises to 98% of it. After the peak: constant if it never drops below 98%;
    /// step-wise if it changes level (by more than 0.5% of the peak) at most 4 times with flat
    /// stretches between; wsd-like if it stays within 2% of the peak for at least a quarter of the
    /// post-peak steps before decaying; otherwise the decay, normalised to [0, 1] in step and LR,
    /// is compared with 1 - x (linear) and (1 + cos(pi x)) / 2 (cosine); the closer one wins when
    /// its RMS error is under 0.06, else "decaying".
    /// </summary>
    public static (ScheduleShape Shape, bool Warmup, long? WarmupEnd, long? DecayStart) DetectShape(long[] steps, double[] lr)
    {
        var s = new List<long>(lr.Length);
        var v = new List<double>(lr.Length);
        for (int i = 0; i < lr.Length; i++) if (double.IsFinite(lr[i])) { s.Add(steps[i]); v.Add(lr[i]); }
        int n = v.Count;
        if (n == 0) return (ScheduleShape.Unknown, false, null, null);
        double max = v.Max();
        if (max <= 0) return (ScheduleShape.Constant, false, null, null);

        int pk = v.FindIndex(x => x >= 0.98 * max);
        bool warm = pk > 0 && v[0] < 0.9 * max;
        long? warmEnd = warm ? s[pk] : null;
        if (n - pk < 3) return (n - pk >= 1 && v.Skip(pk).All(x => x >= 0.98 * max) ? ScheduleShape.Constant : ScheduleShape.Unknown, warm, warmEnd, null);

        int ds = -1;
        for (int i = pk; i < n; i++) if (v[i] < 0.98 * max) { ds = i; break; }
        if (ds < 0) return (ScheduleShape.Constant, warm, warmEnd, null);

        // Report where the LR first leaves the peak (0.01% tolerance), not where the 2% test fired.
        int leave = pk;
        while (leave < n && v[leave] >= 0.9999 * max) leave++;
        long? decayStart = s[Math.Min(leave, ds)];

        int changes = 0;
        double level = v[pk];
        for (int i = pk + 1; i < n; i++)
            if (Math.Abs(v[i] - level) > 0.005 * max) { changes++; level = v[i]; }
        if (changes <= 4 && n - pk >= 3 * (changes + 1))
            return (ScheduleShape.StepWise, warm, warmEnd, decayStart);

        long span = s[^1] - s[pk];
        double plateau = span <= 0 ? 0 : (double)(s[ds - 1] - s[pk]) / span;
        if (plateau >= 0.25) return (ScheduleShape.Wsd, warm, warmEnd, decayStart);

        double top = v[pk], end = v[^1];
        if (top - end < 0.02 * max) return (ScheduleShape.Decaying, warm, warmEnd, decayStart);
        double errLin = 0, errCos = 0;
        int m = 0;
        for (int i = pk; i < n; i++)
        {
            double x = span <= 0 ? 0 : (double)(s[i] - s[pk]) / span;
            double y = (v[i] - end) / (top - end);
            errLin += Math.Pow(y - (1 - x), 2);
            errCos += Math.Pow(y - 0.5 * (1 + Math.Cos(Math.PI * x)), 2);
            m++;
        }
        errLin = Math.Sqrt(errLin / m);
        errCos = Math.Sqrt(errCos / m);
        var shape = Math.Min(errLin, errCos) > 0.06 ? ScheduleShape.Decaying : errCos <= errLin ? ScheduleShape.Cosine : ScheduleShape.Linear;
        return (shape, warm, warmEnd, decayStart);
    }
}
