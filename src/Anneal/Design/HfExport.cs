using System.Text.Json.Nodes;
using Anneal.Schedules;
using static Anneal.ParameterName;

namespace Anneal.Design;

/// <summary>
/// A Hugging Face transformers scheduler that reproduces a schedule exactly:
/// <c>TrainingArguments(learning_rate, warmup_steps, max_steps, lr_scheduler_type, lr_scheduler_kwargs)</c>.
/// </summary>
public sealed record HfScheduler(string Type, double LearningRate, long WarmupSteps, long MaxSteps, IReadOnlyDictionary<string, double> NumberKwargs, IReadOnlyDictionary<string, string> TextKwargs)
{
    /// <summary>The JSON handed to users: the TrainingArguments fields.</summary>
    public JsonObject ToJson()
    {
        var kw = new JsonObject();
        foreach (var (k, v) in NumberKwargs) kw[k] = v;
        foreach (var (k, v) in TextKwargs) kw[k] = v;
        return new JsonObject
        {
            ["learning_rate"] = LearningRate, ["warmup_steps"] = WarmupSteps, ["max_steps"] = MaxSteps,
            ["lr_scheduler_type"] = Type, ["lr_scheduler_kwargs"] = kw,
        };
    }

    /// <summary>
    /// The learning rate HF's scheduler gives before optimizer step <paramref name="t"/> (LambdaLR
    /// factor times learning_rate), written from the formulas of transformers' optimization module,
    /// so the mapping can be checked against HF's own test vectors.
    /// </summary>
    public double LrAt(long t)
    {
        double w = WarmupSteps, T = MaxSteps;
        double Warm() => t / Math.Max(1.0, w);
        double Progress() => (t - w) / Math.Max(1.0, T - w);
        double f;
        switch (Type)
        {
            case "constant": f = 1; break;
            case "constant_with_warmup": f = t < w ? Warm() : 1; break;
            case "linear": f = t < w ? Warm() : Math.Max(0, (T - t) / Math.Max(1, T - w)); break;
            case "cosine":
            {
                double cycles = NumberKwargs.GetValueOrDefault("num_cycles", 0.5);
                f = t < w ? Warm() : Math.Max(0, 0.5 * (1 + Math.Cos(Math.PI * 2 * cycles * Progress())));
                break;
            }
            case "cosine_with_min_lr":
            {
                double rate = NumberKwargs.TryGetValue("min_lr", out var m) ? m / LearningRate : NumberKwargs.GetValueOrDefault("min_lr_rate", 0);
                f = t < w ? Warm() : 0.5 * (1 + Math.Cos(Math.PI * 2 * 0.5 * Progress())) * (1 - rate) + rate;
                break;
            }
            case "cosine_with_restarts":
            {
                double cycles = NumberKwargs.GetValueOrDefault("num_cycles", 1);
                double p = Progress();
                f = t < w ? Warm() : p >= 1 ? 0 : Math.Max(0, 0.5 * (1 + Math.Cos(Math.PI * ((cycles * p) % 1.0))));
                break;
            }
            case "polynomial":
            {
                double end = NumberKwargs.GetValueOrDefault("lr_end", 1e-7), power = NumberKwargs.GetValueOrDefault("power", 1);
                if (t < w) f = Warm();
                else if (t > T) f = end / LearningRate;
                else f = ((LearningRate - end) * Math.Pow(1 - (t - w) / (T - w), power) + end) / LearningRate;
                break;
            }
            case "inverse_sqrt":
            {
                double tau = NumberKwargs.GetValueOrDefault("timescale", w > 0 ? w : 10_000);
                f = t < w ? Warm() : 1 / Math.Sqrt((t + tau - w) / tau);
                break;
            }
            case "warmup_stable_decay":
            {
                double d = NumberKwargs["num_decay_steps"], r = NumberKwargs.GetValueOrDefault("min_lr_ratio", 0);
                double stable = NumberKwargs.TryGetValue("num_stable_steps", out var s) ? s : T - w - d;
                string shape = TextKwargs.GetValueOrDefault("decay_type", "cosine");
                if (t < w) f = Warm() * (1 - r) + r;
                else if (t < w + stable) f = 1;
                else if (t < w + stable + d)
                {
                    double p = (t - w - stable) / d;
                    double g = shape switch { "linear" => 1 - p, "1-sqrt" => 1 - Math.Sqrt(p), _ => 0.5 * (1 + Math.Cos(Math.PI * p)) };
                    f = g * (1 - r) + r;
                }
                else f = r;
                break;
            }
            default: throw new InvalidOperationException($"unknown HF scheduler type {Type}");
        }
        return LearningRate * f;
    }
}

/// <summary>Maps Anneal schedules to HF transformers' built-in schedulers when the match is exact.</summary>
public static class HfExport
{
    /// <summary>
    /// The exact HF equivalent of <paramref name="s"/> over <paramref name="steps"/> steps, or null
    /// with <paramref name="whyNot"/> saying precisely which difference prevents it.
    /// </summary>
    public static HfScheduler? TryMap(Schedule s, long steps, out string whyNot)
    {
        var (r, why) = Map(s, steps);
        whyNot = FormattableString.Invariant(why);
        return r;
    }

    /// <summary>
    /// The exact HF equivalent of <paramref name="s"/> over <paramref name="steps"/> steps; throws
    /// <see cref="InputException"/> saying which difference prevents it (naming the parameters <c>steps</c>, <c>format</c>).
    /// </summary>
    public static HfScheduler Exact(Schedule s, long steps)
    {
        var (r, why) = Map(s, steps);
        return r ?? throw InputException.Naming($"{s.Spec} is not exactly expressible as an HF scheduler: {why}");
    }

    private static (HfScheduler?, FormattableString) Map(Schedule s, long steps)
    {
        FormattableString whyNot = $"";
        static Dictionary<string, double> N(params (string, double)[] kv) => kv.ToDictionary(x => x.Item1, x => x.Item2);
        var none = new Dictionary<string, string>();
        string Fmt(double v) => Anneal.Specs.SpecNumber.Format(v);
        bool TotalMatches(long total)
        {
            if (total == steps) return true;
            whyNot = $"the schedule's total ({total}) differs from {Parameter("steps")} {steps}; HF stretches every decay over max_steps, so give {Parameter("steps")} {total}";
            return false;
        }
        switch (s)
        {
            case ConstantSchedule c:
                return (c.Warmup > 0 ? new("constant_with_warmup", c.Peak, c.Warmup, steps, N(), none) : new("constant", c.Peak, 0, steps, N(), none), whyNot);
            case D2zSchedule z:
                return (TotalMatches(z.Total) ? new("linear", z.Peak, z.Warmup, steps, N(), none) : null, whyNot);
            case LinearSchedule l:
                if (!TotalMatches(l.Total)) return (null, whyNot);
                if (l.Min == 0) return (new("linear", l.Peak, l.Warmup, steps, N(), none), whyNot);
                if (l.Min > 0 && l.Min < l.Peak) return (new("polynomial", l.Peak, l.Warmup, steps, N(("power", 1), ("lr_end", l.Min)), none), whyNot);
                whyNot = $"min {Fmt(l.Min)} is outside (0, peak): HF 'linear' ends at 0 and 'polynomial' needs 0 < lr_end < learning_rate";
                return (null, whyNot);
            case CosineSchedule c:
                if (!TotalMatches(c.Total)) return (null, whyNot);
                if (c.Exponent != 1) { whyNot = $"exponent {Fmt(c.Exponent)} != 1: HF's cosine schedulers have no power on the cosine factor (optax-only form)"; return (null, whyNot); }
                if (c.Min == 0) return (new("cosine", c.Peak, c.Warmup, steps, N(("num_cycles", 0.5)), none), whyNot);
                if (c.Min > 0 && c.Min < c.Peak) return (new("cosine_with_min_lr", c.Peak, c.Warmup, steps, N(("min_lr", c.Min)), none), whyNot);
                whyNot = $"min {Fmt(c.Min)} is negative: HF's cosine schedulers end at a rate >= 0";
                return (null, whyNot);
            case PolynomialSchedule p:
                if (!TotalMatches(p.Total)) return (null, whyNot);
                if (!(p.End < p.Peak) || p.End < 0) { whyNot = $"HF 'polynomial' needs 0 <= lr_end < learning_rate, got end {Fmt(p.End)}"; return (null, whyNot); }
                return (new("polynomial", p.Peak, p.Warmup, steps, N(("power", p.Power), ("lr_end", p.End)), none), whyNot);
            case InverseSqrtSchedule q:
                return (new("inverse_sqrt", q.Peak, q.Warmup, steps, N(("timescale", q.Timescale)), none), whyNot);
            case CosineRestartsSchedule r:
            {
                if (r.Mult != 1 || r.Decay != 1) { whyNot = $"HF 'cosine_with_restarts' has equal cycles at full peak; this schedule has mult={Fmt(r.Mult)}, decay={Fmt(r.Decay)}"; return (null, whyNot); }
                if (r.Min != 0) { whyNot = $"HF 'cosine_with_restarts' restarts from 0, this schedule's min is {Fmt(r.Min)}"; return (null, whyNot); }
                if (r.Total is not { } total) { whyNot = $"HF 'cosine_with_restarts' spreads its cycles over max_steps; give the schedule total=T"; return (null, whyNot); }
                if (!TotalMatches(total)) return (null, whyNot);
                double cycles = (total - r.Warmup) / r.Cycle;
                if (Math.Abs(cycles - Math.Round(cycles)) > 1e-9) { whyNot = $"(total - warmup)/cycle = {Fmt(cycles)} is not a whole number of cycles: HF's last cycle would be cut differently"; return (null, whyNot); }
                return (new("cosine_with_restarts", r.Peak, r.Warmup, steps, N(("num_cycles", Math.Round(cycles))), none), whyNot);
            }
            case WsdSchedule w:
            {
                if (!TotalMatches(w.Total)) return (null, whyNot);
                string? type = w.Shape switch { DecayShape.Linear => "linear", DecayShape.Cosine => "cosine", DecayShape.Sqrt => "1-sqrt", _ => null };
                if (type is null) { whyNot = $"HF 'warmup_stable_decay' decays linear, cosine or 1-sqrt; shape={DecayShapes.Name(w.Shape)} has no HF equivalent"; return (null, whyNot); }
                if (w.Convention == WsdConvention.Kozistr) { whyNot = $"convention=kozistr evaluates at t+1; HF evaluates at t"; return (null, whyNot); }
                if (w.WarmupShape != WarmupShape.Linear) { whyNot = $"warmup_shape={w.WarmupShape.ToString().ToLowerInvariant()}: set warmup_type in HF yourself (only linear is mapped)"; return (null, whyNot); }
                if (w.Min > 0 && w.Warmup > 0 && w.Convention != WsdConvention.Hf)
                {
                    whyNot = $"min {Fmt(w.Min)} > 0 with a warmup: HF's warmup_stable_decay maps every factor f to f(1-r)+r, so its warmup starts at min, not 0 (use convention=hf to accept HF's warmup, or min=0)";
                    return (null, whyNot);
                }
                var kw = N(("num_decay_steps", w.DecaySteps), ("min_lr_ratio", w.Min / w.Peak));
                return (new("warmup_stable_decay", w.Peak, w.Warmup, steps, kw, new Dictionary<string, string> { ["decay_type"] = type }), whyNot);
            }
            default:
                var name = s.ToSpecCall().Name;
                whyNot = $"HF transformers has no built-in scheduler for '{name}'; use {Parameter("format")} pytorch (a LambdaLR over the exported multipliers) instead";
                return (null, whyNot);
        }
    }
}
