using System.Text.Json;
using System.Text.Json.Nodes;
using Anneal.Schedules;
using Anneal.Specs;

using static Anneal.ParameterName;
namespace Anneal.Design;

/// <summary>A request for the predicted final loss over a grid of a schedule's parameters.</summary>
/// <param name="Law">The law.</param>
/// <param name="Base">The schedule spec to vary.</param>
/// <param name="Axes">One or two varied parameters (a line per value of the second).</param>
public sealed record WhatIfGridRequest(DesignLaw Law, SpecCall Base, IReadOnlyList<VaryAxis> Axes)
{
    /// <summary>Peak learning rate for the law when the spec has none.</summary>
    public double? Peak { get; init; }

    /// <summary>Warmup steps for the law when the spec has none.</summary>
    public long? Warmup { get; init; }
}

/// <summary>The outcome of <see cref="WhatIfService.Grid"/>.</summary>
/// <param name="Law">The law.</param>
/// <param name="Base">The base schedule's spec.</param>
/// <param name="Axes">The varied parameters.</param>
/// <param name="Points">Every grid point, the first axis varying slowest.</param>
/// <param name="Best">The grid's minimum.</param>
/// <param name="BestPerLine">The minimum of each value of the second axis (the grid's minimum with one axis): with a second
/// axis such as total, the overall minimum is trivially at the largest budget.</param>
public sealed record WhatIfGridResult(DesignLaw Law, string Base, IReadOnlyList<VaryAxis> Axes, IReadOnlyList<WhatIfPoint> Points, WhatIfPoint Best, IReadOnlyList<WhatIfPoint> BestPerLine)
{
    /// <summary>The versioned name of the JSON form.</summary>
    public const string Format = "anneal-whatif-grid/1";

    /// <summary>The JSON form printed by <c>anneal whatif --json</c> (docs/formats.md).</summary>
    public JsonObject ToJson() => new()
    {
        ["format"] = Format,
        ["law"] = Law.Source, ["base"] = Base, ["axes"] = new JsonArray(Axes.Select(a => (JsonNode)a.Key).ToArray()),
        ["points"] = new JsonArray(Points.Select(p => (JsonNode)new JsonObject
        {
            ["values"] = new JsonArray(p.Values.Select(v => (JsonNode)v).ToArray()), ["spec"] = p.Spec, ["total"] = p.Total, ["loss"] = p.Loss, ["band"] = OptimizeResult.BandJson(p.Band),
        }).ToArray()),
        ["best"] = Best.Spec, ["best_loss"] = Best.Loss,
        ["best_per_line"] = new JsonArray(BestPerLine.Select(bp => (JsonNode)new JsonObject { ["spec"] = bp.Spec, ["loss"] = bp.Loss }).ToArray()),
    };

    /// <summary><see cref="ToJson"/> indented, as printed.</summary>
    public string ToJsonText() => ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}

/// <summary>A request to compare continuations of a run in progress.</summary>
/// <param name="Law">The law.</param>
/// <param name="Base">The run's schedule.</param>
/// <param name="FromStep">The step the run has reached.</param>
public sealed record ContinuationRequest(DesignLaw Law, Schedule Base, long FromStep)
{
    /// <summary>Varied parameters: <c>extend</c> (steps to hold the current rate first; default 0) and <c>cooldown</c> (one length, steps).</summary>
    public IReadOnlyList<VaryAxis> Axes { get; init; } = [];

    /// <summary>Cooldown shape; null: the base WSD's, else sqrt.</summary>
    public DecayShape? Shape { get; init; }

    /// <summary>Peak learning rate for the law when the spec has none.</summary>
    public double? Peak { get; init; }

    /// <summary>Warmup steps for the law when the spec has none.</summary>
    public long? Warmup { get; init; }
}

/// <summary>The outcome of <see cref="WhatIfService.Continue"/>.</summary>
/// <param name="Law">The law.</param>
/// <param name="Base">The run's schedule.</param>
/// <param name="FromStep">The step the run has reached.</param>
/// <param name="Continuations">As planned (when the base still has steps left), then one per extension.</param>
/// <param name="Now">Cooling down now, against which the others are compared.</param>
public sealed record ContinuationResult(DesignLaw Law, Schedule Base, long FromStep, IReadOnlyList<Continuation> Continuations, Continuation Now)
{
    /// <summary>The versioned name of the JSON form.</summary>
    public const string Format = "anneal-whatif-continuations/1";

    /// <summary>The JSON form printed by <c>anneal whatif --from-step ... --json</c> (docs/formats.md).</summary>
    public JsonObject ToJson() => new()
    {
        ["format"] = Format,
        ["law"] = Law.Source, ["base"] = Base.Spec, ["from_step"] = FromStep,
        ["continuations"] = new JsonArray(Continuations.Select(c => (JsonNode)new JsonObject
        {
            ["label"] = c.Label, ["extend"] = c.Extend, ["cooldown"] = c.Cooldown, ["total"] = c.Total, ["loss"] = c.Loss, ["band"] = OptimizeResult.BandJson(c.Band), ["spec"] = c.Spec,
        }).ToArray()),
    };

    /// <summary><see cref="ToJson"/> indented, as printed.</summary>
    public string ToJsonText() => ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}

/// <summary>What-if questions under an MPL law: a grid of schedule parameters, or continuations of a run in progress.</summary>
public static class WhatIfService
{
    /// <summary>
    /// The predicted final loss (and band) at every grid point, with the minimum overall and per line.
    /// <paramref name="progress"/> receives (points done, points in all). Errors name the
    /// parameters <c>vary</c> and <c>from_step</c>.
    /// </summary>
    public static WhatIfGridResult Grid(WhatIfGridRequest request, IProgress<(int Done, int Total)>? progress = null, CancellationToken cancel = default)
    {
        var axes = request.Axes;
        if (axes.Count == 0) throw InputException.Naming($"{Parameter("vary")} is required without {Parameter("from_step")}, e.g. {Parameter("vary")} decay=0.05:0.9:0.05");
        if (axes.Count > 2) throw InputException.Naming($"at most two {Parameter("vary")} axes (a line per value of the second)");
        var b = ScheduleRegistry.Create(request.Base);
        var pts = WhatIf.Grid(request.Law, request.Base, axes, request.Peak, request.Warmup, (k, n) =>
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Report((k, n));
        });
        var best = pts.MinBy(p => p.Loss)!;
        var bestPer = pts.GroupBy(p => axes.Count > 1 ? p.Values[1] : 0).Select(g => g.MinBy(p => p.Loss)!).ToArray();
        return new WhatIfGridResult(request.Law, b.Spec, axes, pts, best, bestPer);
    }

    /// <summary>
    /// Continuations of a run that has reached <see cref="ContinuationRequest.FromStep"/>: cool down now, extend
    /// the stable phase by each <c>extend</c> value then cool down, and the base as planned. Only <c>extend</c>
    /// (whole steps) and one <c>cooldown</c> length can be varied; errors name the parameters
    /// <c>vary</c> and <c>from_step</c>.
    /// </summary>
    public static ContinuationResult Continue(ContinuationRequest request, CancellationToken cancel = default)
    {
        long[] extends = [0];
        long? cooldown = null;
        foreach (var a in request.Axes)
        {
            if (a.Values.Any(v => v != Math.Floor(v))) throw InputException.Naming($"{Parameter("vary")} {a.Key}: with {Parameter("from_step")} the values are whole steps");
            if (a.Key == "extend") extends = a.Values.Select(v => (long)v).ToArray();
            else if (a.Key == "cooldown")
            {
                if (a.Values.Length != 1) throw InputException.Naming($"{Parameter("vary")} cooldown takes one value with {Parameter("from_step")} (vary extend for a table)");
                cooldown = (long)a.Values[0];
            }
            else throw InputException.Naming($"{Parameter("vary")} {a.Key}: with {Parameter("from_step")} only extend=... and cooldown=... (steps) can be varied");
        }
        cancel.ThrowIfCancellationRequested();
        var list = WhatIf.Continue(request.Law, request.Base, request.FromStep, extends, cooldown, request.Shape, request.Peak, request.Warmup);
        var now = list.FirstOrDefault(c => c.Extend == 0 && c.Label != "as planned") ?? list[0];
        return new ContinuationResult(request.Law, request.Base, request.FromStep, list, now);
    }
}
