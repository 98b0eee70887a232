using System.Globalization;
using Anneal.Schedules;
using Anneal.Specs;
using static Anneal.ParameterName;

using Anneal.Laws;

namespace Anneal.Design;

/// <summary>One varied spec parameter: <c>key=start:stop:step</c> or <c>key=v1,v2,...</c>.</summary>
public sealed record VaryAxis(string Key, double[] Values)
{
    /// <summary>Parses <c>key=start:stop:step</c> or <c>key=v1,v2,...</c>; the message of a bad value (naming the parameter <c>vary</c>) says what was expected.</summary>
    public static VaryAxis Parse(string text)
    {
        int eq = text.IndexOf('=');
        if (eq <= 0) throw InputException.Naming($"{Vary} '{text}': expected key=start:stop:step or key=v1,v2,... (e.g. decay=0.05:0.9:0.05)");
        string key = text[..eq].Trim(), rest = text[(eq + 1)..];
        double Num(string s) => double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v : throw InputException.Naming($"{Vary} '{text}': '{s}' is not a number");
        double[] values;
        var parts = rest.Split(':');
        if (parts.Length == 3)
        {
            double a = Num(parts[0]), b = Num(parts[1]), step = Num(parts[2]);
            if (!(step > 0) || b < a) throw InputException.Naming($"{Vary} '{text}': need start <= stop and step > 0");
            int count = (int)Math.Floor((b - a) / step + 1e-9) + 1;
            if (count > 10_000) throw InputException.Naming($"{Vary} '{text}': {count} values is more than the 10000 supported; use a larger step");
            // Round away the binary noise of a + i*step so specs print as typed (0.15, not 0.15000000000000002).
            values = Enumerable.Range(0, count).Select(i => Math.Round(a + i * step, 12)).ToArray();
        }
        else if (parts.Length == 1) values = rest.Split(',').Select(Num).ToArray();
        else throw InputException.Naming($"{Vary} '{text}': expected start:stop:step");
        if (values.Length == 0) throw InputException.Naming($"{Vary} '{text}': no values");
        return new VaryAxis(key, values);
    }

    /// <summary>The parameter an axis is given as.</summary>
    internal static readonly ParameterName Vary = Parameter("vary");
}

/// <summary>A grid point: the varied values, the rebuilt spec and its predicted final loss.</summary>
public sealed record WhatIfPoint(double[] Values, string Spec, long Total, double Loss, (double Low, double High)? Band);

/// <summary>A continuation of a run that has reached a given step.</summary>
public sealed record Continuation(string Label, long Extend, long Cooldown, string Spec, long Total, double Loss, (double Low, double High)? Band);

/// <summary>
/// What-if analysis under an MPL law: predicted final loss over a grid of spec parameters, and
/// continuations of a run in progress (cool down now, or extend the stable phase first).
/// </summary>
public static class WhatIf
{
    /// <summary>The call with argument <paramref name="key"/> set to <paramref name="value"/> (added when absent).</summary>
    public static SpecCall With(SpecCall call, string key, double value)
    {
        var args = call.Args.ToList();
        int i = args.FindIndex(a => a.Name == key);
        var arg = new SpecArg(key, new SpecNumber(value));
        if (i >= 0) args[i] = arg; else args.Add(arg);
        // decay and decay_steps exclude each other in wsd: varying one drops the other.
        string? other = key switch { "decay" => "decay_steps", "decay_steps" => "decay", _ => null };
        if (other is not null) args.RemoveAll(a => a.Name == other);
        return new SpecCall(call.Name, args);
    }

    private static readonly ParameterName FromStep = Parameter("from_step");

    private static double? Arg(SpecCall c, string key) => c.Args.FirstOrDefault(a => a.Name == key)?.Value is SpecNumber n ? n.Value : null;

    /// <summary>The design problem a schedule poses: T from its length, W and peak from its spec or the overrides.</summary>
    public static DesignProblem ProblemFor(DesignLaw law, Schedule s, double? peak, long? warmup, double minLr = 0)
    {
        var call = s.ToSpecCall();
        long total = s.Length ?? throw new InputException($"'{s.Spec}' has no total length: give total=T in the spec");
        double p = peak ?? Arg(call, "peak") ?? throw InputException.Naming($"'{s.Spec}': cannot tell the peak LR; give {Parameter("peak")}");
        long w = warmup ?? (long)(Arg(call, "warmup") ?? 0);
        return law.Problem(total, w, p, minLr);
    }

    /// <summary>Predicted final loss (and band) of one schedule: <see cref="DesignLaw.Predict"/> (a seed ensemble's: its groups' combined).</summary>
    public static (double Loss, (double, double)? Band) Evaluate(DesignLaw law, Schedule s, double? peak, long? warmup)
    {
        var problem = ProblemFor(law, s, peak, warmup);
        var (loss, band) = law.Predict(problem, MplFinalLoss.PostWarmup(s, problem.Total, problem.Warmup));
        return (loss, band);
    }

    /// <summary>Every combination of the axes' values applied to <paramref name="baseSpec"/>.</summary>
    public static IReadOnlyList<WhatIfPoint> Grid(DesignLaw law, SpecCall baseSpec, IReadOnlyList<VaryAxis> axes, double? peak, long? warmup, Action<int, int>? progress = null)
    {
        int total = axes.Aggregate(1, (n, a) => checked(n * a.Values.Length));
        if (total > 20_000) throw InputException.Naming($"the {VaryAxis.Vary} grid has {total} points; at most 20000");
        var points = new List<WhatIfPoint>(total);
        var idx = new int[axes.Count];
        for (int k = 0; k < total; k++)
        {
            var call = baseSpec;
            var vals = new double[axes.Count];
            for (int a = 0; a < axes.Count; a++) { vals[a] = axes[a].Values[idx[a]]; call = With(call, axes[a].Key, vals[a]); }
            Schedule s;
            try { s = ScheduleRegistry.Create(call); }
            catch (SpecException e) { throw InputException.Naming($"{VaryAxis.Vary} {string.Join(", ", axes.Select((a, i) => $"{a.Key}={SpecNumber.Format(vals[i])}"))} gives an invalid schedule: {e.Message}"); }
            var (loss, band) = Evaluate(law, s, peak, warmup);
            points.Add(new WhatIfPoint(vals, s.Spec, s.Length!.Value, loss, band));
            progress?.Invoke(k + 1, total);
            for (int a = axes.Count - 1; a >= 0; a--) { if (++idx[a] < axes[a].Values.Length) break; idx[a] = 0; }
        }
        return points;
    }

    /// <summary>
    /// Continuations of a run of schedule <paramref name="baseSchedule"/> that has reached step
    /// <paramref name="fromStep"/>: for each N in <paramref name="extends"/>, hold the current LR for
    /// N more steps, then cool down over D steps (default: the base WSD's cooldown length and shape, else
    /// 20% of the new total with 1-sqrt), as <c>join(base, wsd(...), at=[S])</c>; plus the base as planned.
    /// </summary>
    public static IReadOnlyList<Continuation> Continue(DesignLaw law, Schedule baseSchedule, long fromStep, IReadOnlyList<long> extends, long? cooldown, DecayShape? shape, double? peak, long? warmup)
    {
        var call = baseSchedule.ToSpecCall();
        double p = peak ?? Arg(call, "peak") ?? throw InputException.Naming($"'{baseSchedule.Spec}': cannot tell the peak LR; give {Parameter("peak")}");
        long w = warmup ?? (long)(Arg(call, "warmup") ?? 0);
        if (fromStep <= w) throw InputException.Naming($"{FromStep} {fromStep} must be after the warmup ({w} steps)");
        if (baseSchedule.Length is { } length && fromStep >= length)
            throw InputException.Naming($"{FromStep} {fromStep} is at or past the end of the base schedule ({length} steps), where its LR is no longer the run's; give a step before {length}, or a base with a longer total");
        var wsd = baseSchedule as WsdSchedule;
        var sh = shape ?? wsd?.Shape ?? DecayShape.Sqrt;
        double min = wsd?.Min ?? 0;
        double rate = baseSchedule.At(fromStep);
        if (sh is DecayShape.Exponential or DecayShape.Inverse && min <= 0) min = Math.Round(0.01 * rate, 15);
        var list = new List<Continuation>();
        if (baseSchedule.Length is { } planned && planned > fromStep)
        {
            var (l, b) = Evaluate(law, baseSchedule, p, w);
            list.Add(new Continuation("as planned", planned - fromStep, 0, baseSchedule.Spec, planned, l, b));
        }
        foreach (long n in extends)
        {
            if (n < 0) throw InputException.Naming($"{Parameter("extend")} values must be >= 0, got {n}");
            long d = cooldown ?? wsd?.DecaySteps ?? (long)Math.Round(0.2 * (fromStep + n));
            if (d <= 0) throw InputException.Naming($"{Parameter("cooldown")} must be > 0 steps");
            var tail = new SpecBuilder("wsd").Num("peak", rate).Num("total", n + d).Num("decay_steps", d).WordIf("shape", DecayShapes.Name(sh), "linear").NumIf("min", min, 0).Build();
            var join = new SpecCall("join", [new SpecArg(null, call), new SpecArg(null, tail), new SpecArg("at", new SpecList([new SpecNumber(fromStep)]))]);
            var s = ScheduleRegistry.Create(join);
            var problem = law.Problem(fromStep + n + d, w, p);
            var (loss, band) = law.Predict(problem, MplFinalLoss.PostWarmup(s, problem.Total, w));
            list.Add(new Continuation(n == 0 ? "cool down now" : $"extend {n} then cool down", n, d, s.Spec, problem.Total, loss, band));
        }
        return list;
    }
}
