using Anneal.Specs;

namespace Anneal.Schedules;

/// <summary>
/// Step decay (PyTorch <c>StepLR</c>, timm <c>StepLRScheduler</c>): <c>eta = P * gamma^floor(t / s)</c>.
/// Spec: <c>step(peak=P, every=s, gamma=0.1)</c>.
/// </summary>
public sealed record StepSchedule(double Peak, long Every, double Gamma = 0.1) : Schedule
{
    public override double At(long t) => Peak * Math.Pow(Gamma, t / Every);

    public override SpecCall ToSpecCall() => new SpecBuilder("step").Num("peak", Peak).Num("every", Every).NumIf("gamma", Gamma, 0.1).Build();

    internal static StepSchedule Create(SpecArgs a)
    {
        var s = new StepSchedule(a.Number("peak"), Phases.Steps(a, "every", positive: true), Phases.Finite(a, "gamma", 0.1));
        Phases.Check(a, s.Peak, 0);
        if (s.Gamma < 0) throw a.Fail($"gamma must be >= 0, got {SpecNumber.Format(s.Gamma)}");
        return s;
    }
}

/// <summary>
/// Multi-step decay: <c>eta = P * gamma^k</c> where k counts the milestones m with m &lt;= t
/// (PyTorch <c>MultiStepLR</c>, bisect_right). With <c>convention=timm</c> k counts m &lt;= t + 1
/// (timm's <c>MultiStepLRScheduler</c> decays one step earlier).
/// Spec: <c>multistep(peak=P, milestones=[m1, ...], gamma=0.1, convention=pytorch|timm)</c>.
/// </summary>
public sealed record MultiStepSchedule : Schedule
{
    private readonly long[] _milestones;

    public MultiStepSchedule(double peak, IReadOnlyList<long> milestones, double gamma = 0.1, bool timm = false)
    {
        Peak = peak; Gamma = gamma; Timm = timm; _milestones = milestones.ToArray();
    }

    public double Peak { get; }
    public double Gamma { get; }
    public bool Timm { get; }
    public IReadOnlyList<long> Milestones => _milestones;

    public override double At(long t)
    {
        long u = Timm ? t + 1 : t;
        int k = 0;
        while (k < _milestones.Length && _milestones[k] <= u) k++;
        return Peak * Math.Pow(Gamma, k);
    }

    public override SpecCall ToSpecCall() => new SpecBuilder("multistep").Num("peak", Peak).List("milestones", _milestones.Select(m => (double)m))
        .NumIf("gamma", Gamma, 0.1).WordIf("convention", Timm ? "timm" : "pytorch", "pytorch").Build();

    public bool Equals(MultiStepSchedule? other) => other is not null && Spec == other.Spec;
    public override int GetHashCode() => Spec.GetHashCode();

    internal static MultiStepSchedule Create(SpecArgs a)
    {
        double peak = a.Number("peak");
        Phases.Check(a, peak, 0);
        var ms = Phases.StepList(a, "milestones");
        double gamma = Phases.Finite(a, "gamma", 0.1);
        if (gamma < 0) throw a.Fail($"gamma must be >= 0, got {SpecNumber.Format(gamma)}");
        var conv = a.Word("convention", "pytorch");
        if (conv is not ("pytorch" or "timm")) throw a.Fail($"convention must be pytorch or timm, got '{conv}'");
        return new MultiStepSchedule(peak, ms, gamma, conv == "timm");
    }
}

/// <summary>
/// Exponential decay. PyTorch <c>ExponentialLR</c>: <c>eta = P * gamma^t</c>. optax
/// <c>exponential_decay</c>: <c>eta = P * gamma^((t - B) / k)</c> for t &gt; B (P before), the exponent
/// floored when <c>staircase</c>, and clipped at <c>end</c> (a floor when gamma &lt; 1, a ceiling otherwise).
/// Spec: <c>exponential(peak=P, gamma=g, every=k, begin=B, staircase=false, end=E)</c>.
/// </summary>
public sealed record ExponentialSchedule(double Peak, double Gamma, double Every = 1, long Begin = 0, bool Staircase = false, double? End = null) : Schedule
{
    public override double At(long t)
    {
        double d = t - Begin;
        if (d <= 0) return Peak;
        double p = d / Every;
        if (Staircase) p = Math.Floor(p);
        double v = Peak * Math.Pow(Gamma, p);
        if (End is { } e) v = Gamma < 1 ? Math.Max(v, e) : Math.Min(v, e);
        return v;
    }

    public override SpecCall ToSpecCall()
    {
        var b = new SpecBuilder("exponential").Num("peak", Peak).Num("gamma", Gamma).NumIf("every", Every, 1).NumIf("begin", Begin, 0);
        if (Staircase) b.Word("staircase", "true");
        return b.NumIf("end", End).Build();
    }

    internal static ExponentialSchedule Create(SpecArgs a)
    {
        var s = new ExponentialSchedule(a.Number("peak"), Phases.Finite(a, "gamma", positive: true), Phases.Finite(a, "every", 1, positive: true),
            Phases.Steps(a, "begin", 0), a.Flag("staircase", false), a.OptionalNumber("end"));
        Phases.Check(a, s.Peak, 0);
        return s;
    }
}

/// <summary>
/// Polynomial decay after a linear warmup: <c>eta = (P - E) * (1 - p)^k + E</c>, p = (t - W)/(T - W),
/// holding E after T (PyTorch <c>PolynomialLR</c> with E = 0, HF
/// <c>get_polynomial_decay_schedule_with_warmup</c>, optax <c>polynomial_schedule</c>; E may exceed P as in optax).
/// Spec: <c>polynomial(peak=P, total=T, warmup=W, power=k, end=E)</c>.
/// </summary>
public sealed record PolynomialSchedule(double Peak, long Total, long Warmup = 0, double Power = 1, double End = 0) : Schedule
{
    public override double At(long t)
    {
        if (t < Warmup) return Peak * Phases.Warmup(t, Warmup);
        double p = Phases.Progress(t, Warmup, Total);
        return (Peak - End) * Math.Pow(1 - p, Power) + End;
    }

    public override long? Length => Total;

    public override SpecCall ToSpecCall() => new SpecBuilder("polynomial").Num("peak", Peak).Num("total", Total).NumIf("warmup", Warmup, 0)
        .NumIf("power", Power, 1).NumIf("end", End, 0).Build();

    internal static PolynomialSchedule Create(SpecArgs a)
    {
        var s = new PolynomialSchedule(a.Number("peak"), a.Integer("total"), a.Integer("warmup", 0), Phases.Finite(a, "power", 1, positive: true), Phases.Finite(a, "end", 0));
        Phases.Check(a, s.Peak, s.Warmup, s.Total);
        return s;
    }
}

/// <summary>
/// Inverse square root after a linear warmup (Vaswani et al. 2017; HF <c>get_inverse_sqrt_schedule</c>):
/// <c>eta = P / sqrt((t + tau - W) / tau)</c> for t &gt;= W, tau defaulting to W (10000 when W = 0).
/// Spec: <c>inverse_sqrt(peak=P, warmup=W, timescale=tau)</c>.
/// </summary>
public sealed record InverseSqrtSchedule(double Peak, long Warmup, double Timescale) : Schedule
{
    /// <summary>HF's default timescale: the warmup length, or 10000 without warmup.</summary>
    public static double DefaultTimescale(long warmup) => warmup > 0 ? warmup : 10_000;

    public override double At(long t)
    {
        if (t < Warmup) return Peak * Phases.Warmup(t, Warmup);
        double shift = Timescale - Warmup;
        return Peak * (1.0 / Math.Sqrt((t + shift) / Timescale));
    }

    public override SpecCall ToSpecCall() => new SpecBuilder("inverse_sqrt").Num("peak", Peak).NumIf("warmup", Warmup, 0)
        .NumIf("timescale", Timescale, DefaultTimescale(Warmup)).Build();

    internal static InverseSqrtSchedule Create(SpecArgs a)
    {
        double peak = a.Number("peak");
        long w = Phases.Steps(a, "warmup", 0);
        Phases.Check(a, peak, w);
        return new InverseSqrtSchedule(peak, w, Phases.Finite(a, "timescale", DefaultTimescale(w), positive: true));
    }
}

/// <summary>
/// Hyperbolic-tangent decay (Hsueh et al. 2019; timm <c>TanhLRScheduler</c> with a warmup prefix):
/// <c>eta = m + (P - m)/2 * (1 - tanh(lb (1 - p) + ub p))</c>, p = (t - W)/(T - W), lb = -7, ub = 3;
/// m from T on (timm's cycle limit of one).
/// Spec: <c>tanh(peak=P, total=T, warmup=W, min=M, lb=-7, ub=3)</c>.
/// </summary>
public sealed record TanhSchedule(double Peak, long Total, long Warmup = 0, double Min = 0, double Lower = -7, double Upper = 3) : Schedule
{
    public override double At(long t)
    {
        if (t < Warmup) return Peak * Phases.Warmup(t, Warmup);
        if (t >= Total) return Min;
        double r = Phases.Progress(t, Warmup, Total);
        return Min + 0.5 * (Peak - Min) * (1 - Math.Tanh(Lower * (1 - r) + Upper * r));
    }

    public override long? Length => Total;

    public override SpecCall ToSpecCall() => new SpecBuilder("tanh").Num("peak", Peak).Num("total", Total).NumIf("warmup", Warmup, 0)
        .NumIf("min", Min, 0).NumIf("lb", Lower, -7).NumIf("ub", Upper, 3).Build();

    internal static TanhSchedule Create(SpecArgs a)
    {
        var s = new TanhSchedule(a.Number("peak"), a.Integer("total"), a.Integer("warmup", 0), a.Number("min", 0), Phases.Finite(a, "lb", -7), Phases.Finite(a, "ub", 3));
        Phases.Check(a, s.Peak, s.Warmup, s.Total);
        Phases.CheckMin(a, s.Min, s.Peak);
        if (s.Upper <= s.Lower) throw a.Fail($"ub must exceed lb, got lb={SpecNumber.Format(s.Lower)}, ub={SpecNumber.Format(s.Upper)}");
        return s;
    }
}

/// <summary>
/// REX (Chen et al. 2022, "REX: Revisiting Budgeted Training with an Improved Schedule"):
/// <c>eta = m + (P - m) * (1 - p) / (1 - p/2)</c>, p = (t - W)/(T - W).
/// Spec: <c>rex(peak=P, total=T, warmup=W, min=M)</c>.
/// </summary>
public sealed record RexSchedule(double Peak, long Total, long Warmup = 0, double Min = 0) : Schedule
{
    public override double At(long t)
    {
        if (t < Warmup) return Peak * Phases.Warmup(t, Warmup);
        double p = Phases.Progress(t, Warmup, Total);
        return Min + (Peak - Min) * (1 - p) / (1 - p / 2);
    }

    public override long? Length => Total;

    public override SpecCall ToSpecCall() => new SpecBuilder("rex").Num("peak", Peak).Num("total", Total).NumIf("warmup", Warmup, 0).NumIf("min", Min, 0).Build();

    internal static RexSchedule Create(SpecArgs a)
    {
        var s = new RexSchedule(a.Number("peak"), a.Integer("total"), a.Integer("warmup", 0), a.Number("min", 0));
        Phases.Check(a, s.Peak, s.Warmup, s.Total);
        Phases.CheckMin(a, s.Min, s.Peak);
        return s;
    }
}

/// <summary>
/// Cosine power annealing (Hundt et al. 2019, sharpDARTS): with c = (1 + cos(pi p))/2,
/// <c>eta = m + (P - m) * (B^(1+c) - B) / (B^2 - B)</c>; B = 10 by default, B = 1 is plain cosine.
/// Spec: <c>cosine_power(peak=P, total=T, warmup=W, min=M, base=B)</c>.
/// </summary>
public sealed record CosinePowerSchedule(double Peak, long Total, long Warmup = 0, double Min = 0, double Base = 10) : Schedule, IScaledDecay
{
    public override double At(long t) => t < Warmup ? Peak * Phases.Warmup(t, Warmup) : Min + (Peak - Min) * Factor(t);

    /// <summary>The factor (B^(1+c) - B) / (B^2 - B) at step t &gt;= W.</summary>
    public double Factor(long t)
    {
        double p = Phases.Progress(t, Warmup, Total);
        double c = 0.5 * (1 + Math.Cos(Math.PI * p));
        return Base == 1 ? c : (Math.Pow(Base, 1 + c) - Base) / (Base * Base - Base);
    }

    object IScaledDecay.FactorKey => (nameof(CosinePowerSchedule), Total, Warmup, Base);

    public override long? Length => Total;

    public override SpecCall ToSpecCall() => new SpecBuilder("cosine_power").Num("peak", Peak).Num("total", Total).NumIf("warmup", Warmup, 0)
        .NumIf("min", Min, 0).NumIf("base", Base, 10).Build();

    internal static CosinePowerSchedule Create(SpecArgs a)
    {
        var s = new CosinePowerSchedule(a.Number("peak"), a.Integer("total"), a.Integer("warmup", 0), a.Number("min", 0), Phases.Finite(a, "base", 10, positive: true));
        Phases.Check(a, s.Peak, s.Warmup, s.Total);
        Phases.CheckMin(a, s.Min, s.Peak);
        return s;
    }
}

/// <summary>
/// Linear decay to zero (D2Z; Bergsma et al. 2025, "Straight to Zero"):
/// <c>eta = P * (1 - (t - W)/(T - W))</c> after a linear warmup; 0 from T on.
/// Spec: <c>d2z(peak=P, total=T, warmup=W)</c>.
/// </summary>
public sealed record D2zSchedule(double Peak, long Total, long Warmup = 0) : Schedule
{
    public override double At(long t)
    {
        if (t < Warmup) return Peak * Phases.Warmup(t, Warmup);
        return Peak * (1 - Phases.Progress(t, Warmup, Total));
    }

    public override long? Length => Total;

    public override SpecCall ToSpecCall() => new SpecBuilder("d2z").Num("peak", Peak).Num("total", Total).NumIf("warmup", Warmup, 0).Build();

    internal static D2zSchedule Create(SpecArgs a)
    {
        var s = new D2zSchedule(a.Number("peak"), a.Integer("total"), a.Integer("warmup", 0));
        Phases.Check(a, s.Peak, s.Warmup, s.Total);
        return s;
    }
}
