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
/// Cosine decay after a linear warmup (Loshchilov &amp; Hutter, SGDR):
/// <c>eta = m + (P - m) * (1 + cos(pi p)) / 2</c>, p = (t - W)/(T - W); holds m after T.
/// Spec: <c>cosine(peak=P, total=T, warmup=W, min=M)</c>.
/// </summary>
public sealed record CosineSchedule(double Peak, long Total, long Warmup = 0, double Min = 0) : Schedule
{
    public override double At(long t)
    {
        if (t < Warmup) return Peak * Phases.Warmup(t, Warmup);
        double p = Phases.Progress(t, Warmup, Total);
        return Min + (Peak - Min) * 0.5 * (1 + Math.Cos(Math.PI * p));
    }

    public override long? Length => Total;

    public override SpecCall ToSpecCall() =>
        new SpecBuilder("cosine").Num("peak", Peak).Num("total", Total).NumIf("warmup", Warmup, 0).NumIf("min", Min, 0).Build();

    internal static CosineSchedule Create(SpecArgs a)
    {
        var s = new CosineSchedule(a.Number("peak"), a.Integer("total"), a.Integer("warmup", 0), a.Number("min", 0));
        Phases.Check(a, s.Peak, s.Warmup, s.Total);
        return s;
    }
}

/// <summary>
/// Linear decay after a linear warmup: <c>eta = P + (m - P) * p</c>; holds m after T.
/// Spec: <c>linear(peak=P, total=T, warmup=W, min=M)</c>. With min=0 this is linear-to-zero (D2Z).
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

    internal static LinearSchedule Create(SpecArgs a)
    {
        var s = new LinearSchedule(a.Number("peak"), a.Integer("total"), a.Integer("warmup", 0), a.Number("min", 0));
        Phases.Check(a, s.Peak, s.Warmup, s.Total);
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
