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

    /// <summary>All kinds, in the order <c>schedule list</c> prints them.</summary>
    public static IReadOnlyList<ScheduleKind> Kinds { get; } =
    [
        new("constant", "constant P after an optional linear warmup", [Peak, Warm], ConstantSchedule.Create, "constant(peak=3e-4, warmup=2160)"),
        new("cosine", "cosine decay from P to m over [W, T]", [Peak, Total, Warm, Min], CosineSchedule.Create, "cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)"),
        new("linear", "linear decay from P to m over [W, T] (min=0: linear-to-zero)", [Peak, Total, Warm, Min], LinearSchedule.Create, "linear(peak=3e-4, total=24000, warmup=2160)"),
        new("wsd", "warmup-stable-decay: hold P, cool down over the last fraction (or steps) of T", [Peak, Total, Warm,
            P("decay", "0.2", "cooldown length as a fraction of T"), P("decay_steps", "-", "cooldown length in steps (instead of decay)"),
            P("shape", "linear", "linear | cosine | sqrt (1-sqrt) | square | exponential | inverse"), Min],
            WsdSchedule.Create, "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)"),
        new("join", "schedules in sequence; each restarts its step count at its boundary", [
            P("(schedules)", "required", "two or more schedule specs, positional"), P("at", "required", "boundaries [b1, ...], one fewer than schedules")],
            JoinSchedule.Create, "join(constant(peak=3e-4, warmup=2160), constant(peak=9e-5), at=[8000])"),
    ];

    private static readonly Dictionary<string, ScheduleKind> ByName = Kinds.ToDictionary(k => k.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Looks up a kind by name (case-insensitive).</summary>
    public static ScheduleKind? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Builds the schedule a parsed spec describes.</summary>
    public static Schedule Create(SpecCall call)
    {
        if (Find(call.Name) is not { } kind)
            throw new SpecException($"unknown schedule '{call.Name}': run 'anneal schedule list' to see them all (e.g. {Kinds[1].Example})");
        var args = new SpecArgs(call);
        var s = kind.Create(args);
        args.EnsureAllUsed();
        return s;
    }
}
