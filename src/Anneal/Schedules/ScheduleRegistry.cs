using Anneal.Specs;

namespace Anneal.Schedules;

/// <summary>One parameter of a schedule, for <c>anneal schedule list</c> and the docs.</summary>
public sealed record ScheduleParameter(string Name, string Default, string Description);

/// <summary>A schedule kind: its spec name, a one-line summary, its parameters and its factory.</summary>
public sealed record ScheduleKind(string Name, string Summary, IReadOnlyList<ScheduleParameter> Parameters, Func<SpecArgs, Schedule> Create, string Example);

/// <summary>Every schedule Anneal knows, by spec name. The single place a new schedule is registered.</summary>
public static class ScheduleRegistry
{
    private static ScheduleParameter P(string name, string dflt, string desc) => new(name, dflt, desc);

    private static readonly ScheduleParameter Peak = P("peak", "required", "peak (base) learning rate P");
    private static readonly ScheduleParameter Total = P("total", "required", "total steps T");
    private static readonly ScheduleParameter Warm = P("warmup", "0", "linear warmup steps W (factor t/W)");
    private static readonly ScheduleParameter Min = P("min", "0", "final learning rate m");
    private static readonly ScheduleParameter MinAny = P("min", "0", "final learning rate m (<= P; may be negative as in optax)");

    /// <summary>All kinds, in the order <c>schedule list</c> prints them.</summary>
    public static IReadOnlyList<ScheduleKind> Kinds { get; } =
    [
        new("constant", "constant P after an optional linear warmup", [Peak, Warm], ConstantSchedule.Create, "constant(peak=3e-4, warmup=2160)"),
        new("cosine", "cosine decay from P to m over [W, T]; optax exponent k", [Peak, Total, Warm, MinAny, P("exponent", "1", "power k of the cosine factor ((1+cos)/2)^k (optax)"),
            P("cycles", "0.5", "HF num_cycles: factor max(0, (1 + cos(2 pi c p))/2)")],
            CosineSchedule.Create, "cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)"),
        new("linear", "linear decay from P to m over [W, T]; or PyTorch LinearLR factors", [Peak, Total, Warm, MinAny,
            P("start_factor", "-", "PyTorch LinearLR form: factor at step 0 (no warmup/min then)"), P("end_factor", "1", "PyTorch LinearLR form: factor from step T on")],
            LinearSchedule.Create, "linear(peak=3e-4, total=24000, warmup=2160)"),
        new("wsd", "warmup-stable-decay: hold P, cool down over the last fraction (or steps) of T", [Peak, Total, Warm,
            P("decay", "0.2", "cooldown length as a fraction of T"), P("decay_steps", "-", "cooldown length in steps (instead of decay)"),
            P("stable", "-", "HF layout: stable steps S, total = W + S + decay_steps"),
            P("shape", "linear", "linear | cosine | sqrt (1-sqrt) | square | exponential | inverse"), Min,
            P("min_ratio", "-", "min as a fraction of peak (instead of min)"), P("warmup_shape", "linear", "linear | cosine | sqrt (HF 1-sqrt warmup)"),
            P("convention", "standard", "standard | hf (warmup starts at min) | kozistr (evaluated at t+1)")],
            WsdSchedule.Create, "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)"),
        new("join", "schedules in sequence; each restarts its step count at its boundary (optax join_schedules, PyTorch SequentialLR)", [
            P("(schedules)", "required", "two or more schedule specs, positional"), P("at", "required", "boundaries [b1, ...], one fewer than schedules")],
            JoinSchedule.Create, "join(constant(peak=3e-4, warmup=2160), constant(peak=9e-5), at=[8000])"),
        new("step", "P * gamma^floor(t / every) (PyTorch StepLR)", [Peak, P("every", "required", "steps between decays"), P("gamma", "0.1", "decay factor")],
            StepSchedule.Create, "step(peak=0.1, every=30, gamma=0.1)"),
        new("multistep", "P * gamma^(milestones passed) (PyTorch MultiStepLR; timm one step earlier)", [Peak, P("milestones", "required", "steps [m1, ...] where the rate drops"),
            P("gamma", "0.1", "decay factor"), P("convention", "pytorch", "pytorch (m <= t) | timm (m <= t + 1)")],
            MultiStepSchedule.Create, "multistep(peak=0.1, milestones=[30, 80], gamma=0.1)"),
        new("exponential", "P * gamma^((t - begin)/every) (PyTorch ExponentialLR, optax exponential_decay)", [Peak, P("gamma", "required", "decay rate per `every` steps"),
            P("every", "1", "transition steps k"), P("begin", "0", "steps held at P before decaying"), P("staircase", "false", "floor the exponent"),
            P("end", "-", "clip value (floor when gamma < 1)")],
            ExponentialSchedule.Create, "exponential(peak=0.1, gamma=0.96, every=1000, staircase=true)"),
        new("polynomial", "(P - end)(1 - p)^power + end after a warmup (PyTorch, HF, optax)", [Peak, Total, Warm, P("power", "1", "exponent"), P("end", "0", "final rate (may exceed P, as in optax)")],
            PolynomialSchedule.Create, "polynomial(peak=3e-4, total=24000, warmup=2160, power=2, end=1e-7)"),
        new("cosine_restarts", "SGDR: cosine cycles of length T0 mult^i and peak P decay^i (PyTorch, HF hard restarts)", [Peak,
            P("cycle", "-", "first cycle length T0 (steps, may be fractional)"), P("cycles", "-", "HF form: n equal cycles over [W, T] (needs total)"),
            P("mult", "1", "cycle length multiplier"), P("decay", "1", "peak multiplier per cycle"), MinAny, Warm, P("total", "-", "end: m from T on")],
            CosineRestartsSchedule.Create, "cosine_restarts(peak=0.1, cycle=1000, mult=2, min=1e-4)"),
        new("cyclic", "cyclical LR between base and max (PyTorch CyclicLR); swap base/max for momentum", [P("base", "required", "lower rate"), P("max", "required", "upper rate"),
            P("up", "required", "steps rising"), P("down", "up", "steps falling"), P("mode", "triangular", "triangular | triangular2 | exp_range"), P("gamma", "1", "exp_range factor gamma^t")],
            CyclicSchedule.Create, "cyclic(base=1e-4, max=1e-3, up=2000, mode=triangular2)"),
        new("onecycle", "one-cycle: P/div -> P -> P/(div final_div) (PyTorch OneCycleLR, optax onecycle)", [Peak, Total, P("pct", "0.3", "fraction of T rising"),
            P("div", "25", "initial rate = P/div"), P("final_div", "1e4", "final rate = initial/final_div"), P("anneal", "cos", "cos | linear"),
            P("three_phase", "false", "rise, fall back to initial, then anneal to final"), P("convention", "pytorch", "pytorch (peak at pct*T - 1) | optax (peak at int(pct*T))"),
            P("pct_final", "0.85", "optax three-phase: end of the fall as a fraction of T"), P("target", "lr", "lr | momentum (cycled momentum)"),
            P("base_momentum", "0.85", "momentum at the peak rate"), P("max_momentum", "0.95", "momentum at the ends")],
            OneCycleSchedule.Create, "onecycle(peak=0.01, total=10000, pct=0.3)"),
        new("inverse_sqrt", "P / sqrt((t + tau - W)/tau) after a linear warmup (HF)", [Peak, Warm, P("timescale", "W (10000 if W = 0)", "tau")],
            InverseSqrtSchedule.Create, "inverse_sqrt(peak=1e-3, warmup=4000)"),
        new("tanh", "m + (P - m)/2 (1 - tanh(lb (1 - p) + ub p)) (timm TanhLRScheduler)", [Peak, Total, Warm, MinAny, P("lb", "-7", "lower bound"), P("ub", "3", "upper bound")],
            TanhSchedule.Create, "tanh(peak=0.1, total=10000, warmup=500, min=1e-5)"),
        new("piecewise_constant", "init times scales[k] from each boundary on (optax)", [P("init", "required", "starting rate"),
            P("at", "[]", "boundaries [b1, ...]"), P("scales", "[]", "multipliers, one per boundary")],
            PiecewiseConstantSchedule.Create, "piecewise_constant(init=0.1, at=[3000, 6000], scales=[0.1, 0.1])"),
        new("piecewise", "interpolate between values init * scales (optax piecewise_interpolate_schedule)", [P("init", "required", "value at step 0"),
            P("at", "[]", "boundaries [b1, ...] > 0"), P("scales", "[]", "value multipliers, one per boundary"), P("interpolate", "linear", "linear | cosine")],
            PiecewiseSchedule.Create, "piecewise(init=1e-4, at=[1000, 9000], scales=[10, 0.01], interpolate=cosine)"),
        new("rex", "m + (P - m)(1 - p)/(1 - p/2) (Chen et al. REX)", [Peak, Total, Warm, MinAny], RexSchedule.Create, "rex(peak=3e-4, total=24000, warmup=2160)"),
        new("cosine_power", "cosine power annealing (sharpDARTS): (B^(1+c) - B)/(B^2 - B)", [Peak, Total, Warm, MinAny, P("base", "10", "B; 1 gives cosine")],
            CosinePowerSchedule.Create, "cosine_power(peak=0.025, total=10000, base=10)"),
        new("infinite", "warmup, cosine cooldown to a constant, hold, optional exponential anneal (Ibrahim et al.)", [Peak, Warm,
            P("cooldown", "required", "cosine steps from P to the constant"), P("constant", "required", "rate held after the cooldown"),
            P("total", "-", "end of the run (needed by anneal)"), P("anneal", "0", "final exponential anneal steps"), P("min", "0", "rate reached by the anneal (> 0)")],
            InfiniteSchedule.Create, "infinite(peak=3e-4, warmup=1000, cooldown=5000, constant=1e-4, total=50000, anneal=5000, min=1e-5)"),
        new("d2z", "linear decay to zero P (1 - p) after a linear warmup (D2Z)", [Peak, Total, Warm], D2zSchedule.Create, "d2z(peak=3e-4, total=24000, warmup=2160)"),
        new("power", "min(P, batch a n^b), n tokens seen (IBM power scheduler), warmup and optional decay", [Peak,
            P("a", "required", "coefficient a"), P("exponent", "required", "b (<= 0)"), P("tokens_per_step", "required", "tokens per optimizer step"),
            P("batch", "1", "batch-size multiplier beta"), Warm, P("total", "-", "end (needed by decay_steps)"), P("decay_steps", "0", "final decay steps"),
            P("shape", "linear", "final decay shape (as wsd)"), P("min", "0", "final rate")],
            PowerSchedule.Create, "power(peak=0.02, a=4.6, exponent=-0.51, tokens_per_step=4194304, warmup=1000, total=100000, decay_steps=10000)"),
        new("refined", "refined from a previous run's gradient norms (Defazio et al.)", [Peak, P("norms", "-", "per-step gradient norms [g1, ...]"),
            P("file", "-", "file of norms: one per line or CSV with a grad_norm column"), P("column", "grad_norm", "CSV column holding the norms"),
            P("weighting", "sgd", "sgd (w = G^-2) | adam (w = G^-1)")],
            RefinedSchedule.Create, "refined(peak=1e-3, norms=[2, 1.5, 1.2, 1, 1, 0.9, 0.9, 0.8], weighting=adam)"),
        new("warmup", "a warmup prepended to any schedule (the inner one starts at step W)", [P("(schedule)", "required", "the schedule to warm up, positional"),
            P("steps", "required", "warmup steps W"), P("shape", "linear", "linear | cosine | exponential"), P("start", "0", "rate at step 0"),
            P("prefix", "true", "true: inner starts at step W; false: warmup replaces its first W steps (timm warmup_prefix=False)")],
            WarmupSchedule.Create, "warmup(cosine(peak=3e-4, total=22000, min=3e-5), steps=2000)"),
        new("product", "pointwise product of schedules (PyTorch ChainedScheduler)", [P("(schedules)", "required", "two or more schedule specs; give the others peak=1")],
            ProductSchedule.Create, "product(cosine(peak=3e-4, total=10000), cyclic(base=0.8, max=1, up=500))"),
        new("scale", "a schedule times a constant", [P("(schedule)", "required", "the schedule, positional"), P("by", "required", "multiplier")],
            ScaleSchedule.Create, "scale(cosine(peak=1, total=10000, warmup=500), by=3e-4)"),
    ];

    private static readonly Dictionary<string, ScheduleKind> ByName = Kinds.ToDictionary(k => k.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The stateful controller fed with metrics (not a <see cref="Schedule"/>): <see cref="ReduceOnPlateau"/>.</summary>
    public static ScheduleKind Plateau { get; } = new("plateau", "stateful: multiply by factor after `patience` evaluations without improvement (PyTorch ReduceLROnPlateau)",
        [Peak, P("mode", "min", "min | max"), P("factor", "0.1", "multiplier on a plateau"), P("patience", "10", "evaluations without improvement tolerated"),
         P("threshold", "1e-4", "improvement needed"), P("threshold_mode", "rel", "rel | abs"), P("cooldown", "0", "evaluations ignored after a reduction"),
         P("min", "0", "floor"), P("eps", "1e-8", "smallest change applied")],
        _ => throw new SpecException("plateau is a stateful controller fed with metrics, not a step schedule: use ReduceOnPlateau.Parse"),
        "plateau(peak=0.5, patience=5, threshold=0.1, threshold_mode=abs)");

    /// <summary>
    /// AutoLRS (<see cref="Tuning.AutoLrsOptions"/>): rates chosen while training by trying candidates on the model
    /// itself, so not a <see cref="Schedule"/>; only the trainer runs it.
    /// </summary>
    public static ScheduleKind AutoLrs { get; } = new("autolrs", "online: stages of tau steps at one rate each, the rate chosen by Bayesian optimisation over k candidates explored tau/10 steps each (Jin et al. 2021); tau doubles up to tau_max",
        [P("min", "required", "lowest candidate rate (> 0)"), P("max", "required", "highest candidate rate"), P("tau", "required", "first stage's steps (>= 30)"),
         P("tau_max", "8 tau", "longest stage"), P("k", "10", "candidates per stage"),
         P("anneal", "true", "cool each candidate down and credit the loss that removes; decay the last stage (from the one past the midpoint) to 0; false: the paper's method")],
        _ => throw new SpecException("autolrs chooses its rates while training, by trying candidate rates on the model itself (AutoLRS), so it is not a function of the step: it has no rates to sample, plot or fit before a run. Train with it; the run's log holds the rates it chose"),
        "autolrs(min=1e-4, max=1e-1, tau=100)");

    /// <summary>Looks up a kind by name (case-insensitive).</summary>
    public static ScheduleKind? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Builds the schedule a parsed spec describes.</summary>
    public static Schedule Create(SpecCall call)
    {
        if (call.Name == Plateau.Name) Plateau.Create(new SpecArgs(call));
        if (call.Name.Equals(AutoLrs.Name, StringComparison.OrdinalIgnoreCase)) AutoLrs.Create(new SpecArgs(call));
        if (Find(call.Name) is not { } kind)
        {
            var near = Kinds.MinBy(k => SpecArgs.EditDistance(k.Name, call.Name.ToLowerInvariant()))!;
            string hint = SpecArgs.EditDistance(near.Name, call.Name.ToLowerInvariant()) <= 2 ? $"did you mean '{near.Name}', e.g. {near.Example}? " : "";
            throw new SpecException($"unknown schedule '{call.Name}': {hint}run 'anneal schedule list' to see them all");
        }
        var args = new SpecArgs(call);
        var s = kind.Create(args);
        args.EnsureAllUsedOf(kind.Parameters.Select(p => p.Name));
        return s;
    }
}
