using Anneal.Specs;

namespace Anneal.Schedules;

/// <summary>The two interpolations shared by one-cycle and piecewise schedules (PyTorch and optax use the same formulas).</summary>
internal static class Anneals
{
    /// <summary><c>(end - start) * pct + start</c>.</summary>
    public static double Linear(double start, double end, double pct) => (end - start) * pct + start;

    /// <summary><c>end + (start - end)/2 * (cos(pi pct) + 1)</c>.</summary>
    public static double Cosine(double start, double end, double pct) => end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1);

    /// <summary>
    /// optax <c>piecewise_interpolate_schedule</c>: on [b_k, b_{k+1}) interpolate values[k] -> values[k+1];
    /// <paramref name="bounds"/> starts with 0; from the last bound on, the last value.
    /// </summary>
    public static double Piecewise(long t, ReadOnlySpan<long> bounds, ReadOnlySpan<double> values, bool cosine)
    {
        if (t >= bounds[^1]) return values[^1];
        if (t < 0) return 0;
        int k = 0;
        while (t >= bounds[k + 1]) k++;
        double pct = (double)(t - bounds[k]) / (bounds[k + 1] - bounds[k]);
        return cosine ? Cosine(values[k], values[k + 1], pct) : Linear(values[k], values[k + 1], pct);
    }

    public static bool ParseKind(SpecArgs a, string key, string fallback)
    {
        var w = a.Word(key, fallback);
        return w switch
        {
            "cos" or "cosine" => true,
            "linear" => false,
            _ => throw a.Fail($"{key} must be cos or linear, got '{w}'"),
        };
    }
}

/// <summary>
/// Cosine annealing with warm restarts (SGDR, Loshchilov &amp; Hutter 2017; PyTorch
/// <c>CosineAnnealingWarmRestarts</c>, timm <c>CosineLRScheduler</c> cycles, HF
/// <c>get_cosine_with_hard_restarts_schedule_with_warmup</c>). After a linear warmup of W steps, cycle i
/// has length T0 * mult^i and peak P * decay^i; within a cycle
/// <c>eta = m + (P_i - m) (1 + cos(pi t_cur / T_i)) / 2</c>. With <c>total=T</c> the rate is m from T on;
/// <c>cycles=n</c> instead of <c>cycle=T0</c> sets T0 = (T - W)/n (HF).
/// Spec: <c>cosine_restarts(peak=P, cycle=T0, mult=1, decay=1, min=M, warmup=W, total=T)</c> or
/// <c>cosine_restarts(peak=P, total=T, warmup=W, cycles=n)</c>.
/// </summary>
public sealed record CosineRestartsSchedule(double Peak, double Cycle, double Mult = 1, double Decay = 1, double Min = 0, long Warmup = 0, long? Total = null, double? Cycles = null) : Schedule
{
    public override double At(long t)
    {
        if (t < Warmup) return Peak * Phases.Warmup(t, Warmup);
        if (Total is { } T && t >= T) return Min;
        double s = t - Warmup, len = Cycle, cur;
        int i;
        if (Mult == 1)
        {
            double k = Math.Floor(s / len);
            cur = s - k * len;
            i = (int)Math.Min(k, int.MaxValue);
        }
        else
        {
            // cycle n starts at T0 (mult^n - 1)/(mult - 1) (PyTorch's closed form); correct the log's rounding by one either way
            int n = (int)Math.Max(0, Math.Floor(Math.Log(s / Cycle * (Mult - 1) + 1) / Math.Log(Mult)));
            double Start(int k) => Cycle * (Math.Pow(Mult, k) - 1) / (Mult - 1);
            while (n > 0 && Start(n) > s) n--;
            while (Start(n + 1) <= s) n++;
            i = n;
            cur = s - Start(n);
            len = Cycle * Math.Pow(Mult, n);
        }
        double peak = Decay == 1 ? Peak : Peak * Math.Pow(Decay, i);
        return Min + (peak - Min) * (1 + Math.Cos(Math.PI * cur / len)) / 2;
    }

    public override long? Length => Total;

    public override SpecCall ToSpecCall()
    {
        var b = new SpecBuilder("cosine_restarts").Num("peak", Peak);
        if (Cycles is { } n) b.Num("cycles", n); else b.Num("cycle", Cycle);
        return b.NumIf("mult", Mult, 1).NumIf("decay", Decay, 1).NumIf("min", Min, 0).NumIf("warmup", Warmup, 0).NumIf("total", Total).Build();
    }

    internal static CosineRestartsSchedule Create(SpecArgs a)
    {
        double peak = a.Number("peak");
        long w = Phases.Steps(a, "warmup", 0);
        long? total = a.Has("total") ? Phases.Steps(a, "total", positive: true) : null;
        Phases.Check(a, peak, w, total);
        double? cycles = a.OptionalNumber("cycles");
        double? cycle = a.OptionalNumber("cycle");
        if ((cycles is null) == (cycle is null)) throw a.Fail("give exactly one of cycle=T0 (first cycle length in steps) or cycles=n (with total)");
        if (cycles is { } n)
        {
            if (total is null) throw a.Fail("cycles=n needs total=T");
            if (!(n > 0) || !double.IsFinite(n)) throw a.Fail($"cycles must be > 0, got {SpecNumber.Format(n)}");
            if (total == w) throw a.Fail("cycles=n needs total > warmup");
            cycle = (total.Value - w) / n;
        }
        if (!(cycle > 0) || !double.IsFinite(cycle!.Value)) throw a.Fail($"cycle must be > 0, got {cycle}");
        double mult = Phases.Finite(a, "mult", 1), decay = Phases.Finite(a, "decay", 1), min = a.Number("min", 0);
        if (mult < 1) throw a.Fail($"mult must be >= 1, got {SpecNumber.Format(mult)}");
        if (decay <= 0 || decay > 1) throw a.Fail($"decay must be in (0, 1], got {SpecNumber.Format(decay)}");
        Phases.CheckMin(a, min, peak);
        return new CosineRestartsSchedule(peak, cycle.Value, mult, decay, min, w, total, cycles);
    }
}

/// <summary>Scaling policy of <see cref="CyclicSchedule"/> (PyTorch <c>CyclicLR</c> modes).</summary>
public enum CyclicMode
{
    /// <summary>Constant amplitude.</summary>
    Triangular,
    /// <summary>Amplitude halves every cycle: 1 / 2^(cycle - 1).</summary>
    Triangular2,
    /// <summary>Amplitude gamma^t (t the step).</summary>
    ExpRange,
}

/// <summary>
/// Cyclical learning rate (Smith 2017; PyTorch <c>CyclicLR</c>): with S = up + down,
/// cycle = floor(1 + t/S), x = 1 + t/S - cycle, f = x/r if x &lt;= r else (x - 1)/(r - 1), r = up/S,
/// <c>eta = base + (max - base) * f * scale</c>, scale = 1 (triangular), 1/2^(cycle-1) (triangular2)
/// or gamma^t (exp_range). Momentum cycling is the same schedule with base and max swapped
/// (<see cref="Momentum"/>), so base may exceed max.
/// Spec: <c>cyclic(base=B, max=M, up=U, down=D, mode=triangular|triangular2|exp_range, gamma=1)</c>.
/// </summary>
public sealed record CyclicSchedule(double Base, double Max, long Up, long Down, CyclicMode Mode = CyclicMode.Triangular, double Gamma = 1) : Schedule
{
    public override double At(long t)
    {
        double total = Up + Down, ratio = Up / total;
        double cycle = Math.Floor(1 + t / total);
        double x = 1.0 + t / total - cycle;
        double f = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
        double height = (Max - Base) * f;
        double scale = Mode switch
        {
            CyclicMode.Triangular => 1.0,
            CyclicMode.Triangular2 => 1 / Math.Pow(2.0, cycle - 1),
            _ => Math.Pow(Gamma, t),
        };
        return Base + height * scale;
    }

    /// <summary>
    /// PyTorch's cycled momentum for this cycle: <c>max_m - (max_m - base_m) * f * scale</c>, i.e. this
    /// schedule with base = <paramref name="maxMomentum"/> and max = <paramref name="baseMomentum"/>.
    /// </summary>
    public CyclicSchedule Momentum(double baseMomentum = 0.8, double maxMomentum = 0.9) => this with { Base = maxMomentum, Max = baseMomentum };

    public override SpecCall ToSpecCall() => new SpecBuilder("cyclic").Num("base", Base).Num("max", Max).Num("up", Up).NumIf("down", Down, Up)
        .WordIf("mode", ModeName(Mode), "triangular").NumIf("gamma", Gamma, 1).Build();

    private static string ModeName(CyclicMode m) => m switch { CyclicMode.Triangular2 => "triangular2", CyclicMode.ExpRange => "exp_range", _ => "triangular" };

    internal static CyclicSchedule Create(SpecArgs a)
    {
        double b = Phases.Finite(a, "base"), m = Phases.Finite(a, "max");
        if (b < 0 || m < 0) throw a.Fail("base and max must be >= 0");
        long up = Phases.Steps(a, "up", positive: true);
        long down = Phases.Steps(a, "down", up, positive: true);
        var w = a.Word("mode", "triangular");
        var mode = w switch
        {
            "triangular" => CyclicMode.Triangular,
            "triangular2" => CyclicMode.Triangular2,
            "exp_range" => CyclicMode.ExpRange,
            _ => throw a.Fail($"mode must be triangular, triangular2 or exp_range, got '{w}'"),
        };
        double gamma = Phases.Finite(a, "gamma", 1, positive: true);
        return new CyclicSchedule(b, m, up, down, mode, gamma);
    }
}

/// <summary>Where a one-cycle schedule places its phase boundaries.</summary>
public enum OneCycleConvention
{
    /// <summary>PyTorch <c>OneCycleLR</c>: phase ends at pct*T - 1 (and 2 pct T - 2 for three phases) and T - 1.</summary>
    PyTorch,
    /// <summary>optax <c>cosine_onecycle_schedule</c> / <c>linear_onecycle_schedule</c>: boundaries int(pct*T), int(pct_final*T), T.</summary>
    Optax,
}

/// <summary>
/// One-cycle policy (Smith &amp; Topin 2019). Initial rate a = P/div, peak P, final rate a/final_div.
/// Two phases: a -> P -> final; three phases: a -> P -> a -> final. Each phase anneals with
/// cosine (<c>end + (start - end)(cos(pi pct) + 1)/2</c>) or linearly. PyTorch places the peak at step
/// pct*T - 1 and the end at T - 1; optax at int(pct*T) and T. <c>target=momentum</c> gives the cycled
/// momentum instead (max_m -> base_m -> max_m).
/// Spec: <c>onecycle(peak=P, total=T, pct=0.3, div=25, final_div=1e4, anneal=cos|linear, three_phase=false,
/// convention=pytorch|optax, pct_final=0.85, target=lr|momentum, base_momentum=0.85, max_momentum=0.95)</c>.
/// </summary>
public sealed record OneCycleSchedule(double Peak, long Total, double Pct = 0.3, double Div = 25, double FinalDiv = 1e4, bool Cosine = true,
    bool ThreePhase = false, OneCycleConvention Convention = OneCycleConvention.PyTorch, double PctFinal = 0.85,
    bool IsMomentum = false, double BaseMomentum = 0.85, double MaxMomentum = 0.95) : Schedule
{
    private (double Start, double Peak, double End) Levels()
    {
        if (IsMomentum) return (MaxMomentum, BaseMomentum, MaxMomentum);
        double initial = Peak / Div;
        return (initial, Peak, initial / FinalDiv);
    }

    public override double At(long t)
    {
        var (a, b, c) = Levels();
        if (Convention == OneCycleConvention.Optax)
        {
            Span<long> bounds = stackalloc long[4];
            Span<double> values = stackalloc double[4];
            int n = 0;
            bounds[n] = 0; values[n++] = a;
            bounds[n] = (long)(Pct * Total); values[n++] = b;
            if (ThreePhase) { bounds[n] = (long)(PctFinal * Total); values[n++] = a; }
            bounds[n] = Total; values[n++] = c;
            return Anneals.Piecewise(t, bounds[..n], values[..n], Cosine);
        }
        // PyTorch: phases end at float(pct*T) - 1, [float(2 pct T) - 2,] T - 1; step clamped to T - 1
        double step = Math.Min(t, Total - 1);
        double e1 = Pct * Total - 1;
        double start = 0, end, from, to;
        if (step <= e1) { end = e1; from = a; to = b; }
        else if (ThreePhase && step <= 2 * Pct * Total - 2) { start = e1; end = 2 * Pct * Total - 2; from = b; to = a; }
        else { start = ThreePhase ? 2 * Pct * Total - 2 : e1; end = Total - 1; from = ThreePhase ? a : b; to = c; }
        double pct = (step - start) / (end - start);
        return Cosine ? Anneals.Cosine(from, to, pct) : Anneals.Linear(from, to, pct);
    }

    /// <summary>The cycled momentum matching this rate schedule (PyTorch <c>cycle_momentum</c>).</summary>
    public OneCycleSchedule Momentum(double baseMomentum = 0.85, double maxMomentum = 0.95) =>
        this with { IsMomentum = true, BaseMomentum = baseMomentum, MaxMomentum = maxMomentum };

    public override long? Length => Total;

    public override SpecCall ToSpecCall()
    {
        var b = new SpecBuilder("onecycle").Num("peak", Peak).Num("total", Total).NumIf("pct", Pct, 0.3).NumIf("div", Div, 25).NumIf("final_div", FinalDiv, 1e4)
            .WordIf("anneal", Cosine ? "cos" : "linear", "cos");
        if (ThreePhase) b.Word("three_phase", "true");
        b.WordIf("convention", Convention == OneCycleConvention.Optax ? "optax" : "pytorch", "pytorch");
        if (Convention == OneCycleConvention.Optax && ThreePhase) b.NumIf("pct_final", PctFinal, 0.85);
        if (IsMomentum) b.Word("target", "momentum").NumIf("base_momentum", BaseMomentum, 0.85).NumIf("max_momentum", MaxMomentum, 0.95);
        return b.Build();
    }

    internal static OneCycleSchedule Create(SpecArgs a)
    {
        double peak = a.Number("peak");
        long total = Phases.Steps(a, "total", positive: true);
        Phases.Check(a, peak, 0, total);
        double pct = Phases.Finite(a, "pct", 0.3), div = Phases.Finite(a, "div", 25, positive: true), fdiv = Phases.Finite(a, "final_div", 1e4, positive: true);
        if (pct <= 0 || pct >= 1) throw a.Fail($"pct must be in (0, 1), got {SpecNumber.Format(pct)}");
        bool cos = Anneals.ParseKind(a, "anneal", "cos");
        bool three = a.Flag("three_phase", false);
        var cw = a.Word("convention", "pytorch");
        var conv = cw switch
        {
            "pytorch" => OneCycleConvention.PyTorch,
            "optax" => OneCycleConvention.Optax,
            _ => throw a.Fail($"convention must be pytorch or optax, got '{cw}'"),
        };
        double pctFinal = Phases.Finite(a, "pct_final", 0.85);
        if (a.Has("pct_final") && !(conv == OneCycleConvention.Optax && three))
            throw a.Fail("pct_final only applies with convention=optax and three_phase=true");
        var tw = a.Word("target", "lr");
        if (tw is not ("lr" or "momentum")) throw a.Fail($"target must be lr or momentum, got '{tw}'");
        bool mom = tw == "momentum";
        double bm = Phases.Finite(a, "base_momentum", 0.85), mm = Phases.Finite(a, "max_momentum", 0.95);
        if (!mom && (a.Has("base_momentum") || a.Has("max_momentum"))) throw a.Fail("base_momentum/max_momentum need target=momentum");
        if (conv == OneCycleConvention.PyTorch)
        {
            double e1 = pct * total - 1;
            double last = three ? 2 * pct * total - 2 : e1;
            if (e1 <= 0 || last >= total - 1) throw a.Fail($"with total={total} and pct={SpecNumber.Format(pct)} a phase would be empty (PyTorch needs pct*T - 1 > 0 and the last phase to end after it)");
        }
        else
        {
            long b1 = (long)(pct * total), b2 = three ? (long)(pctFinal * total) : b1;
            if (b1 <= 0 || (three && (b2 <= b1 || b2 >= total)) || b1 >= total)
                throw a.Fail($"with total={total} the boundaries int(pct*T)={b1}{(three ? $", int(pct_final*T)={b2}" : "")} must be strictly increasing inside (0, {total})");
        }
        return new OneCycleSchedule(peak, total, pct, div, fdiv, cos, three, conv, pctFinal, mom, bm, mm);
    }
}

/// <summary>
/// optax <c>piecewise_constant_schedule</c>: the rate starts at <c>init</c> and is multiplied by
/// scales[k] from boundary b_k on. Spec: <c>piecewise_constant(init=V, at=[b1, ...], scales=[s1, ...])</c>.
/// </summary>
public sealed record PiecewiseConstantSchedule : Schedule
{
    private readonly long[] _at;
    private readonly double[] _scales;

    public PiecewiseConstantSchedule(double init, IReadOnlyList<long> at, IReadOnlyList<double> scales)
    {
        if (at.Count != scales.Count) throw new ArgumentException("one scale per boundary");
        Init = init; _at = at.ToArray(); _scales = scales.ToArray();
    }

    public double Init { get; }

    public override double At(long t)
    {
        double v = Init;
        for (int k = 0; k < _at.Length && t >= _at[k]; k++) v *= _scales[k];
        return v;
    }

    public override SpecCall ToSpecCall() => new SpecBuilder("piecewise_constant").Num("init", Init).List("at", _at.Select(x => (double)x)).List("scales", _scales).Build();

    public bool Equals(PiecewiseConstantSchedule? other) => other is not null && Spec == other.Spec;
    public override int GetHashCode() => Spec.GetHashCode();

    internal static PiecewiseConstantSchedule Create(SpecArgs a)
    {
        double init = Phases.Finite(a, "init");
        if (init < 0) throw a.Fail($"init must be >= 0, got {SpecNumber.Format(init)}");
        var at = Phases.StepList(a, "at", []);
        var scales = a.Numbers("scales", []);
        if (at.Length != scales.Length) throw a.Fail($"give one scale per boundary: {at.Length} boundaries, {scales.Length} scales");
        if (scales.Any(s => !(s >= 0) || !double.IsFinite(s))) throw a.Fail("scales must be finite and >= 0");
        return new PiecewiseConstantSchedule(init, at, scales);
    }
}

/// <summary>
/// optax <c>piecewise_interpolate_schedule</c>: values v_0 = init, v_k = v_{k-1} * s_k at boundaries
/// 0 &lt; b_1 &lt; ... ; between boundaries the rate moves from v_k to v_{k+1} linearly or by a cosine
/// (<c>end + (start - end)(cos(pi pct) + 1)/2</c>); the last value holds after the last boundary.
/// Spec: <c>piecewise(init=V, at=[b1, ...], scales=[s1, ...], interpolate=linear|cosine)</c>.
/// </summary>
public sealed record PiecewiseSchedule : Schedule
{
    private readonly long[] _bounds;
    private readonly double[] _values;
    private readonly double[] _scales;

    public PiecewiseSchedule(double init, IReadOnlyList<long> at, IReadOnlyList<double> scales, bool cosine = false)
    {
        if (at.Count != scales.Count) throw new ArgumentException("one scale per boundary");
        Init = init; Cosine = cosine; _scales = scales.ToArray();
        _bounds = [0, .. at];
        _values = new double[at.Count + 1];
        _values[0] = init;
        for (int k = 0; k < at.Count; k++) _values[k + 1] = _values[k] * scales[k];
    }

    public double Init { get; }
    public bool Cosine { get; }

    public override double At(long t) => _bounds.Length == 1 ? Init : Anneals.Piecewise(t, _bounds, _values, Cosine);

    public override SpecCall ToSpecCall() => new SpecBuilder("piecewise").Num("init", Init).List("at", _bounds.Skip(1).Select(x => (double)x))
        .List("scales", _scales).WordIf("interpolate", Cosine ? "cosine" : "linear", "linear").Build();

    public bool Equals(PiecewiseSchedule? other) => other is not null && Spec == other.Spec;
    public override int GetHashCode() => Spec.GetHashCode();

    internal static PiecewiseSchedule Create(SpecArgs a)
    {
        double init = Phases.Finite(a, "init");
        if (init < 0) throw a.Fail($"init must be >= 0, got {SpecNumber.Format(init)}");
        var at = Phases.StepList(a, "at", [], positive: true);
        var scales = a.Numbers("scales", []);
        if (at.Length != scales.Length) throw a.Fail($"give one scale per boundary: {at.Length} boundaries, {scales.Length} scales");
        if (scales.Any(s => !(s >= 0) || !double.IsFinite(s))) throw a.Fail("scales must be finite and >= 0");
        return new PiecewiseSchedule(init, at, scales, Anneals.ParseKind(a, "interpolate", "linear"));
    }
}
