using Anneal.Specs;

namespace Anneal.Schedules;

/// <summary>Helpers shared by the warmup-then-decay schedules.</summary>
internal static class Phases
{
    /// <summary>Linear warmup factor t/W from 0 at step 0 to 1 at step W.</summary>
    public static double Warmup(long t, long w) => (double)t / w;

    /// <summary>Decay progress p = (t - W) / (T - W), clamped to [0, 1].</summary>
    public static double Progress(long t, long w, long total) =>
        total <= w ? 1.0 : Math.Clamp((double)(t - w) / (total - w), 0.0, 1.0);

    /// <summary>Rejects a min that is not finite or above the peak (negative mins are allowed: optax accepts them).</summary>
    public static void CheckMin(SpecArgs a, double min, double peak, string name = "min")
    {
        if (!double.IsFinite(min) || min > peak) throw a.Fail($"{name} must be a finite number <= peak ({SpecNumber.Format(peak)}), got {SpecNumber.Format(min)}");
    }

    /// <summary>Rejects a min outside [0, peak].</summary>
    public static void CheckMinNonNegative(SpecArgs a, double min, double peak, string name = "min")
    {
        if (!double.IsFinite(min) || min < 0 || min > peak) throw a.Fail($"{name} must be in [0, peak = {SpecNumber.Format(peak)}], got {SpecNumber.Format(min)}");
    }

    /// <summary>A whole number of steps that must be >= 0 (or > 0 when <paramref name="positive"/>).</summary>
    public static long Steps(SpecArgs a, string name, long? fallback = null, bool positive = false)
    {
        long v = a.Integer(name, fallback);
        if (positive ? v <= 0 : v < 0) throw a.Fail($"{name} must be {(positive ? "> 0" : ">= 0")}, got {v}");
        return v;
    }

    /// <summary>A finite number, optionally required to be > 0.</summary>
    public static double Finite(SpecArgs a, string name, double? fallback = null, bool positive = false)
    {
        double v = a.Number(name, fallback);
        if (!double.IsFinite(v) || (positive && v <= 0)) throw a.Fail($"{name} must be a finite number{(positive ? " > 0" : "")}, got {SpecNumber.Format(v)}");
        return v;
    }

    /// <summary>A whole-step list, strictly increasing and >= 0 (or > 0 when <paramref name="positive"/>).</summary>
    public static long[] StepList(SpecArgs a, string name, double[]? fallback = null, bool positive = false)
    {
        var xs = a.Numbers(name, fallback);
        var r = new long[xs.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            if (xs[i] != Math.Floor(xs[i]) || Math.Abs(xs[i]) > 1e15) throw a.Fail($"{name}[{i}] = {SpecNumber.Format(xs[i])} is not a whole step");
            r[i] = (long)xs[i];
            if (positive ? r[i] <= 0 : r[i] < 0) throw a.Fail($"{name} must be {(positive ? "> 0" : ">= 0")}, got {r[i]}");
            if (i > 0 && r[i] <= r[i - 1]) throw a.Fail($"{name} must be strictly increasing, got {r[i - 1]} then {r[i]}");
        }
        return r;
    }

    public static void Check(SpecArgs a, double peak, long warmup, long? total = null)
    {
        if (!double.IsFinite(peak) || peak < 0) throw a.Fail($"peak must be a finite number >= 0, got {peak}");
        if (warmup < 0) throw a.Fail($"warmup must be >= 0, got {warmup}");
        if (total is { } T)
        {
            if (T <= 0) throw a.Fail($"total must be > 0, got {T}");
            if (warmup > T) throw a.Fail($"warmup ({warmup}) cannot exceed total ({T})");
        }
    }
}

/// <summary>Constant learning rate after an optional linear warmup: <c>constant(peak=P, warmup=W)</c>.</summary>
public sealed record ConstantSchedule(double Peak, long Warmup = 0) : Schedule
{
    public override double At(long t) => t < Warmup ? Peak * Phases.Warmup(t, Warmup) : Peak;

    public override SpecCall ToSpecCall() => new SpecBuilder("constant").Num("peak", Peak).NumIf("warmup", Warmup, 0).Build();

    internal static ConstantSchedule Create(SpecArgs a)
    {
        var s = new ConstantSchedule(a.Number("peak"), a.Integer("warmup", 0));
        Phases.Check(a, s.Peak, s.Warmup);
        return s;
    }
}

/// <summary>
/// Cosine decay after a linear warmup (Loshchilov &amp; Hutter 2017, SGDR without restarts):
/// <c>eta = m + (P - m) * ((1 + cos(pi p)) / 2)^k</c>, p = (t - W)/(T - W); holds m after T.
/// The exponent k (default 1) is optax's <c>cosine_decay_schedule(exponent=k)</c>; <c>cycles=c</c>
/// (default 0.5) is HF's <c>num_cycles</c>, giving the factor max(0, (1 + cos(2 pi c p)) / 2).
/// Spec: <c>cosine(peak=P, total=T, warmup=W, min=M, exponent=k, cycles=0.5)</c>.
/// </summary>
public sealed record CosineSchedule(double Peak, long Total, long Warmup = 0, double Min = 0, double Exponent = 1, double Cycles = 0.5) : Schedule, IScaledDecay
{
    public override double At(long t) => t < Warmup ? Peak * Phases.Warmup(t, Warmup) : Min + (Peak - Min) * Factor(t);

    /// <summary>The factor ((1 + cos(pi p)) / 2)^k (or its <c>cycles</c> form) at step t &gt;= W.</summary>
    public double Factor(long t)
    {
        double p = Phases.Progress(t, Warmup, Total);
        double c = Cycles == 0.5 ? 0.5 * (1 + Math.Cos(Math.PI * p)) : Math.Max(0, 0.5 * (1 + Math.Cos(Math.PI * Cycles * 2 * p)));
        return Exponent != 1 ? Math.Pow(c, Exponent) : c;
    }

    object IScaledDecay.FactorKey => (nameof(CosineSchedule), Total, Warmup, Exponent, Cycles);

    // No vectorised Fill: TensorPrimitives.Cos differs in the last bits between JIT tiers (and between vector widths),
    // so a range filled early and the same range filled later could disagree. Scalar Math.Cos per step (the base
    // class's Fill through At) gives every caller the same bits: a streamed table equals the whole array, Fill equals At.

    public override long? Length => Total;

    public override SpecCall ToSpecCall() =>
        new SpecBuilder("cosine").Num("peak", Peak).Num("total", Total).NumIf("warmup", Warmup, 0).NumIf("min", Min, 0).NumIf("exponent", Exponent, 1).NumIf("cycles", Cycles, 0.5).Build();

    internal static CosineSchedule Create(SpecArgs a)
    {
        var s = new CosineSchedule(a.Number("peak"), a.Integer("total"), a.Integer("warmup", 0), a.Number("min", 0), Phases.Finite(a, "exponent", 1, positive: true),
            Phases.Finite(a, "cycles", 0.5, positive: true));
        Phases.Check(a, s.Peak, s.Warmup, s.Total);
        Phases.CheckMin(a, s.Min, s.Peak);
        return s;
    }
}

/// <summary>
/// Linear decay after a linear warmup: <c>eta = P + (m - P) * p</c>; holds m after T.
/// Spec: <c>linear(peak=P, total=T, warmup=W, min=M)</c>. With min=0 this is linear-to-zero (D2Z).
/// The factor form <c>linear(peak=P, total=T, start_factor=S, end_factor=E)</c> is
/// <see cref="LinearFactorSchedule"/> (PyTorch <c>LinearLR</c>).
/// </summary>
public sealed record LinearSchedule(double Peak, long Total, long Warmup = 0, double Min = 0) : Schedule
{
    public override double At(long t)
    {
        if (t < Warmup) return Peak * Phases.Warmup(t, Warmup);
        return Peak + (Min - Peak) * Phases.Progress(t, Warmup, Total);
    }

    public override long? Length => Total;

    public override SpecCall ToSpecCall() =>
        new SpecBuilder("linear").Num("peak", Peak).Num("total", Total).NumIf("warmup", Warmup, 0).NumIf("min", Min, 0).Build();

    internal static Schedule Create(SpecArgs a)
    {
        if (a.Has("start_factor") || a.Has("end_factor")) return LinearFactorSchedule.Create(a);
        var s = new LinearSchedule(a.Number("peak"), a.Integer("total"), a.Integer("warmup", 0), a.Number("min", 0));
        Phases.Check(a, s.Peak, s.Warmup, s.Total);
        Phases.CheckMin(a, s.Min, s.Peak);
        return s;
    }
}

/// <summary>
/// PyTorch <c>LinearLR</c>: <c>eta = P * (S + (E - S) * min(t, T) / T)</c>, i.e. the factor moves
/// linearly from S to E over T steps and then holds E.
/// Spec: <c>linear(peak=P, total=T, start_factor=S, end_factor=E)</c> (E defaults to 1).
/// </summary>
public sealed record LinearFactorSchedule(double Peak, long Total, double StartFactor, double EndFactor = 1) : Schedule
{
    public override double At(long t) => Peak * (StartFactor + (EndFactor - StartFactor) * Math.Min(t, Total) / Total);

    public override long? Length => Total;

    public override SpecCall ToSpecCall() =>
        new SpecBuilder("linear").Num("peak", Peak).Num("total", Total).Num("start_factor", StartFactor).NumIf("end_factor", EndFactor, 1).Build();

    internal static LinearFactorSchedule Create(SpecArgs a)
    {
        if (a.Has("warmup") || a.Has("min")) throw a.Fail("the factor form (start_factor/end_factor) takes no warmup or min; use linear(peak, total, warmup, min) or the factors, not both");
        var s = new LinearFactorSchedule(a.Number("peak"), Phases.Steps(a, "total", positive: true), Phases.Finite(a, "start_factor", 1), Phases.Finite(a, "end_factor", 1));
        Phases.Check(a, s.Peak, 0, s.Total);
        if (s.StartFactor < 0 || s.EndFactor < 0) throw a.Fail("start_factor and end_factor must be >= 0");
        return s;
    }
}

/// <summary>
/// Sequence of schedules joined at boundaries: schedule k runs from boundary k-1 (0 for the first)
/// and sees the step counted from 0 at its boundary (optax <c>join_schedules</c>).
/// Spec: <c>join(A, B, ..., at=[b1, ...])</c>, with one boundary fewer than schedules.
/// </summary>
public sealed record JoinSchedule : Schedule
{
    private readonly Schedule[] _parts;
    private readonly long[] _at;

    public JoinSchedule(IReadOnlyList<Schedule> parts, IReadOnlyList<long> at)
    {
        if (parts.Count == 0) throw new ArgumentException("join needs at least one schedule");
        if (at.Count != parts.Count - 1) throw new ArgumentException($"join of {parts.Count} schedules needs {parts.Count - 1} boundaries, got {at.Count}");
        for (int i = 0; i < at.Count; i++)
            if (at[i] < 0 || (i > 0 && at[i] <= at[i - 1])) throw new ArgumentException("join boundaries must be >= 0 and strictly increasing");
        _parts = parts.ToArray();
        _at = at.ToArray();
    }

    public IReadOnlyList<Schedule> Parts => _parts;

    public IReadOnlyList<long> Boundaries => _at;

    public override double At(long t)
    {
        int k = 0;
        while (k < _at.Length && t >= _at[k]) k++;
        return _parts[k].At(k == 0 ? t : t - _at[k - 1]);
    }

    public override void Fill(Span<double> destination, long start = 0)
    {
        int i = 0;
        while (i < destination.Length)
        {
            long t = start + i;
            int k = 0;
            while (k < _at.Length && t >= _at[k]) k++;
            long end = k < _at.Length ? _at[k] : long.MaxValue;
            int n = (int)Math.Min(destination.Length - i, end - t);
            long origin = k == 0 ? 0 : _at[k - 1];
            _parts[k].Fill(destination.Slice(i, n), t - origin);
            i += n;
        }
    }

    public override long? Length => _parts[^1].Length is { } last && _at.Length > 0 ? _at[^1] + last : _parts[^1].Length;

    public override SpecCall ToSpecCall()
    {
        var b = new SpecBuilder("join");
        foreach (var p in _parts) b.Add(p.ToSpecCall());
        return b.List("at", _at.Select(x => (double)x)).Build();
    }

    public bool Equals(JoinSchedule? other) => other is not null && Spec == other.Spec;

    public override int GetHashCode() => Spec.GetHashCode();

    internal static JoinSchedule Create(SpecArgs a)
    {
        var parts = a.Positional.Select(v => v is SpecCall c ? ScheduleRegistry.Create(c) : throw a.Fail($"expected a schedule, got {v}")).ToArray();
        if (parts.Length == 0) throw a.Fail("needs at least one schedule, e.g. join(constant(peak=1), constant(peak=0.1), at=[100])");
        var at = a.Numbers("at", []).Select(x => x == Math.Floor(x) ? (long)x : throw a.Fail($"boundary {x} is not a whole step")).ToArray();
        try { return new JoinSchedule(parts, at); }
        catch (ArgumentException e) { throw a.Fail(e.Message); }
    }
}
