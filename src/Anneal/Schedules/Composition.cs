using System.Numerics.Tensors;
using Anneal.Specs;

namespace Anneal.Schedules;

/// <summary>
/// A warmup prepended to any schedule: for t &lt; W the rate moves from <c>start</c> to the inner
/// schedule's first rate S(0) (linearly, by a half cosine, or geometrically), then the inner schedule
/// runs shifted by W: <c>eta(t) = S(t - W)</c>. optax's <c>warmup_cosine_decay_schedule</c> is
/// <c>warmup(cosine(...), steps=W, start=init)</c>. With <c>prefix=false</c> the warmup instead
/// replaces the inner schedule's first W steps (timm's <c>warmup_prefix=False</c>): the target is
/// S(0) and from W on the rate is S(t), unshifted.
/// Spec: <c>warmup(INNER, steps=W, shape=linear|cosine|exponential, start=0, prefix=true)</c>.
/// </summary>
public sealed record WarmupSchedule(Schedule Inner, long Steps, WarmupShape Shape = WarmupShape.Linear, double Start = 0, bool Prefix = true) : Schedule
{
    private double Target => Inner.At(0);

    private long Shift => Prefix ? Steps : 0;

    public override double At(long t) =>
        t < Steps ? WarmupShapes.Value(Shape, Phases.Warmup(t, Steps), Start, Target) : Inner.At(t - Shift);

    public override void Fill(Span<double> destination, long start = 0)
    {
        int n = destination.Length, i = 0;
        if (start < Steps)
        {
            double target = Target;
            for (; i < n && start + i < Steps; i++) destination[i] = WarmupShapes.Value(Shape, Phases.Warmup(start + i, Steps), Start, target);
        }
        if (i < n) Inner.Fill(destination[i..], start + i - Shift);
    }

    public override long? Length => Inner.Length is { } l ? Math.Max(l + Shift, Steps) : null;

    public override SpecCall ToSpecCall() => new SpecBuilder("warmup").Add(Inner.ToSpecCall()).Num("steps", Steps)
        .WordIf("shape", WarmupShapes.Name(Shape), "linear").NumIf("start", Start, 0).WordIf("prefix", Prefix ? "true" : "false", "true").Build();

    internal static WarmupSchedule Create(SpecArgs a)
    {
        if (a.Positional.Count != 1 || a.Positional[0] is not SpecCall inner)
            throw a.Fail("needs exactly one schedule to warm up, e.g. warmup(cosine(peak=3e-4, total=10000), steps=500)");
        var s = ScheduleRegistry.Create(inner);
        long w = Phases.Steps(a, "steps", positive: true);
        var shape = WarmupShapes.Parse(a, "shape", allowExponential: true);
        double start = Phases.Finite(a, "start", 0);
        if (start < 0) throw a.Fail($"start must be >= 0, got {SpecNumber.Format(start)}");
        if (shape == WarmupShape.Exponential && (start <= 0 || s.At(0) <= 0))
            throw a.Fail("shape=exponential needs start > 0 and an inner schedule starting above 0 (it interpolates log eta)");
        return new WarmupSchedule(s, w, shape, start, a.Flag("prefix", true));
    }
}

/// <summary>
/// Multiplicative composition (PyTorch <c>ChainedScheduler</c> of multiplicative schedulers):
/// <c>eta(t) = S_1(t) * S_2(t) * ...</c>. Give one factor the peak and the others peak=1.
/// Spec: <c>product(A, B, ...)</c>.
/// </summary>
public sealed record ProductSchedule : Schedule
{
    private readonly Schedule[] _parts;

    public ProductSchedule(IReadOnlyList<Schedule> parts)
    {
        if (parts.Count < 2) throw new ArgumentException("product needs at least two schedules");
        _parts = parts.ToArray();
    }

    public IReadOnlyList<Schedule> Parts => _parts;

    public override double At(long t)
    {
        double v = _parts[0].At(t);
        for (int k = 1; k < _parts.Length; k++) v *= _parts[k].At(t);
        return v;
    }

    /// <summary>Fills the first factor in place, then multiplies the others in through a stack buffer.</summary>
    public override void Fill(Span<double> destination, long start = 0)
    {
        _parts[0].Fill(destination, start);
        Span<double> buf = stackalloc double[512];
        for (int i = 0; i < destination.Length; i += buf.Length)
        {
            int m = Math.Min(buf.Length, destination.Length - i);
            var d = destination.Slice(i, m);
            for (int k = 1; k < _parts.Length; k++)
            {
                _parts[k].Fill(buf[..m], start + i);
                TensorPrimitives.Multiply(d, buf[..m], d);
            }
        }
    }

    public override long? Length => _parts.Select(p => p.Length).Where(l => l is not null).DefaultIfEmpty(null).Max();

    public override SpecCall ToSpecCall()
    {
        var b = new SpecBuilder("product");
        foreach (var p in _parts) b.Add(p.ToSpecCall());
        return b.Build();
    }

    public bool Equals(ProductSchedule? other) => other is not null && Spec == other.Spec;
    public override int GetHashCode() => Spec.GetHashCode();

    internal static ProductSchedule Create(SpecArgs a)
    {
        var parts = a.Positional.Select(v => v is SpecCall c ? ScheduleRegistry.Create(c) : throw a.Fail($"expected a schedule, got {v}")).ToArray();
        if (parts.Length < 2) throw a.Fail("needs two or more schedules, e.g. product(cosine(peak=3e-4, total=1000), cyclic(base=0.5, max=1, up=50))");
        return new ProductSchedule(parts);
    }
}

/// <summary>A schedule multiplied by a constant: <c>eta(t) = x * S(t)</c>. Spec: <c>scale(INNER, by=x)</c>.</summary>
public sealed record ScaleSchedule(Schedule Inner, double By) : Schedule
{
    public override double At(long t) => By * Inner.At(t);

    public override void Fill(Span<double> destination, long start = 0)
    {
        Inner.Fill(destination, start);
        TensorPrimitives.Multiply(destination, By, destination);
    }

    public override long? Length => Inner.Length;

    public override SpecCall ToSpecCall() => new SpecBuilder("scale").Add(Inner.ToSpecCall()).Num("by", By).Build();

    internal static ScaleSchedule Create(SpecArgs a)
    {
        if (a.Positional.Count != 1 || a.Positional[0] is not SpecCall inner)
            throw a.Fail("needs exactly one schedule, e.g. scale(cosine(peak=1, total=1000), by=3e-4)");
        var s = ScheduleRegistry.Create(inner);
        double by = Phases.Finite(a, "by");
        if (by < 0) throw a.Fail($"by must be >= 0, got {SpecNumber.Format(by)}");
        return new ScaleSchedule(s, by);
    }
}
