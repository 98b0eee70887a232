using System.Numerics.Tensors;
using Anneal.Specs;

namespace Anneal.Schedules;

/// <summary>Cooldown shapes for WSD: the fraction of the way from peak P to min m at progress p.</summary>
public enum DecayShape
{
    /// <summary>1 - p.</summary>
    Linear,
    /// <summary>(1 + cos(pi p)) / 2.</summary>
    Cosine,
    /// <summary>1 - sqrt(p) ("1-sqrt", Hägele et al. 2024).</summary>
    Sqrt,
    /// <summary>1 - p^2.</summary>
    Square,
    /// <summary>eta = P * (m/P)^p (geometric interpolation; needs m &gt; 0).</summary>
    Exponential,
    /// <summary>1/eta interpolated linearly from 1/P to 1/m (Wen et al.; needs m &gt; 0).</summary>
    Inverse,
}

/// <summary>Evaluates a <see cref="DecayShape"/>.</summary>
public static class DecayShapes
{
    /// <summary>The learning rate at progress <paramref name="p"/> in [0, 1] of a decay from <paramref name="peak"/> to <paramref name="min"/>.</summary>
    public static double Value(DecayShape shape, double p, double peak, double min) => shape switch
    {
        DecayShape.Linear => min + (peak - min) * (1 - p),
        DecayShape.Cosine => min + (peak - min) * 0.5 * (1 + Math.Cos(Math.PI * p)),
        DecayShape.Sqrt => min + (peak - min) * (1 - Math.Sqrt(p)),
        DecayShape.Square => min + (peak - min) * (1 - p * p),
        DecayShape.Exponential => peak * Math.Pow(min / peak, p),
        DecayShape.Inverse => 1.0 / (1.0 / peak + p * (1.0 / min - 1.0 / peak)),
        _ => throw new ArgumentOutOfRangeException(nameof(shape)),
    };

    public static string Name(DecayShape s) => s switch
    {
        DecayShape.Sqrt => "sqrt",
        _ => s.ToString().ToLowerInvariant(),
    };

    public static bool TryParse(string name, out DecayShape shape)
    {
        switch (name.ToLowerInvariant())
        {
            case "linear": shape = DecayShape.Linear; return true;
            case "cosine" or "cos": shape = DecayShape.Cosine; return true;
            case "sqrt" or "1-sqrt" or "one_minus_sqrt": shape = DecayShape.Sqrt; return true;
            case "square" or "quadratic": shape = DecayShape.Square; return true;
            case "exponential" or "exp" or "geometric": shape = DecayShape.Exponential; return true;
            case "inverse" or "inverse_linear" or "inverse-linear": shape = DecayShape.Inverse; return true;
            default: shape = default; return false;
        }
    }

    internal static DecayShape Parse(SpecArgs a, string key, DecayShape fallback)
    {
        var w = a.Word(key, Name(fallback));
        return TryParse(w, out var s) ? s : throw a.Fail($"unknown {key} '{w}': use linear, cosine, sqrt, square, exponential or inverse");
    }
    /// <summary>
    /// Writes <paramref name="progressToValue"/>[i] = the rate at progress p = progressToValue[i], in place: the same bits as
    /// <see cref="Value"/>. Only exact operations are vectorised (the square root is correctly rounded at every width); the
    /// cosine stays scalar <see cref="Math.Cos"/>, because TensorPrimitives.Cos differs in the last bits between JIT tiers.
    /// </summary>
    public static void Apply(DecayShape shape, Span<double> progressToValue, double peak, double min)
    {
        var v = progressToValue;
        if (!IsScaled(shape))
        {
            for (int i = 0; i < v.Length; i++) v[i] = Value(shape, v[i], peak, min);
            return;
        }
        Factors(shape, v);
        double k = Scale(shape, peak, min);
        for (int i = 0; i < v.Length; i++) v[i] = min + k * v[i];
    }

    /// <summary>
    /// Whether the rate is <c>min + Scale(peak, min) * c(p)</c> with a factor c that depends on neither rate (linear, cosine,
    /// sqrt, square): schedule design then computes a cooldown's factors once for all the final rates it tries.
    /// </summary>
    internal static bool IsScaled(DecayShape shape) => shape is DecayShape.Linear or DecayShape.Cosine or DecayShape.Sqrt or DecayShape.Square;

    /// <summary>The multiplier of a scaled shape's factor (<see cref="IsScaled"/>): <see cref="Value"/>'s own first product.</summary>
    internal static double Scale(DecayShape shape, double peak, double min) => shape == DecayShape.Cosine ? (peak - min) * 0.5 : peak - min;

    /// <summary>
    /// Writes the factor c(p) of a scaled shape (<see cref="IsScaled"/>) in place of each progress p, so that
    /// <c>min + Scale(peak, min) * c</c> is <see cref="Value"/> to the bit: the same operations in the same order.
    /// </summary>
    internal static void Factors(DecayShape shape, Span<double> progressToFactor)
    {
        var v = progressToFactor;
        switch (shape)
        {
            case DecayShape.Linear:
                for (int i = 0; i < v.Length; i++) v[i] = 1 - v[i];
                break;
            case DecayShape.Sqrt:
                TensorPrimitives.Sqrt(v, v);
                for (int i = 0; i < v.Length; i++) v[i] = 1 - v[i];
                break;
            case DecayShape.Square:
                for (int i = 0; i < v.Length; i++) v[i] = 1 - v[i] * v[i];
                break;
            case DecayShape.Cosine:
                for (int i = 0; i < v.Length; i++) v[i] = 1 + Math.Cos(Math.PI * v[i]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(shape), $"{shape} is not a scaled shape");
        }
    }
}

/// <summary>Warmup shapes: the fraction f(p) of the way from the warmup start to its target at progress p = t/W.</summary>
public enum WarmupShape
{
    /// <summary>f = p.</summary>
    Linear,
    /// <summary>f = (1 - cos(pi p)) / 2.</summary>
    Cosine,
    /// <summary>f = 1 - sqrt(1 - p) (HF's "1-sqrt" warmup).</summary>
    Sqrt,
    /// <summary>eta = start * (target/start)^p (geometric; needs start &gt; 0).</summary>
    Exponential,
}

/// <summary>Evaluates a <see cref="WarmupShape"/>.</summary>
public static class WarmupShapes
{
    /// <summary>The warmup rate at progress <paramref name="p"/> from <paramref name="start"/> to <paramref name="target"/>.</summary>
    public static double Value(WarmupShape shape, double p, double start, double target) => shape switch
    {
        WarmupShape.Linear => start + (target - start) * p,
        WarmupShape.Cosine => start + (target - start) * 0.5 * (1 - Math.Cos(Math.PI * p)),
        WarmupShape.Sqrt => start + (target - start) * (1 - Math.Sqrt(1 - p)),
        WarmupShape.Exponential => start * Math.Pow(target / start, p),
        _ => throw new ArgumentOutOfRangeException(nameof(shape)),
    };

    public static string Name(WarmupShape s) => s.ToString().ToLowerInvariant();

    internal static WarmupShape Parse(SpecArgs a, string key, bool allowExponential)
    {
        var w = a.Word(key, "linear");
        return w switch
        {
            "linear" => WarmupShape.Linear,
            "cosine" or "cos" => WarmupShape.Cosine,
            "sqrt" or "1-sqrt" => WarmupShape.Sqrt,
            "exponential" or "exp" when allowExponential => WarmupShape.Exponential,
            _ => throw a.Fail($"unknown {key} '{w}': use linear, cosine, sqrt{(allowExponential ? " or exponential" : "")}"),
        };
    }
}

/// <summary>Step conventions offered by <see cref="WsdSchedule"/> so every peer's numbers can be reproduced.</summary>
public enum WsdConvention
{
    /// <summary>Anneal's: 0-based step, warmup from 0.</summary>
    Standard,
    /// <summary>HF <c>get_wsd_schedule</c>: the warmup starts at min (every factor f maps to f(1 - r) + r).</summary>
    Hf,
    /// <summary>kozistr/pytorch_optimizer: the schedule is evaluated at t + 1, so the warmup is (t + 1)/W.</summary>
    Kozistr,
}

/// <summary>
/// Warmup-stable-decay (Hu et al. 2024, MiniCPM; Hägele et al. 2024): warmup to P over W steps, hold
/// P, then decay to m over the last D steps of T (D = round(F * T) when given as the fraction F), then
/// hold m. Progress in the cooldown is p = (t - (T - D)) / D. HF's layout W + S + D is
/// <c>stable=S, decay_steps=D</c> (T = W + S + D); <c>min_ratio=r</c> sets m = r P;
/// <c>convention=hf</c> starts the warmup at m, <c>convention=kozistr</c> evaluates at t + 1.
/// Spec: <c>wsd(peak=P, total=T, warmup=W, decay=F | decay_steps=D, shape=S, min=M | min_ratio=r,
/// warmup_shape=linear|cosine|sqrt, convention=standard|hf|kozistr)</c>.
/// </summary>
public sealed record WsdSchedule(double Peak, long Total, long Warmup, long DecaySteps, DecayShape Shape = DecayShape.Linear, double Min = 0, double? DecayFraction = null,
    WsdConvention Convention = WsdConvention.Standard, WarmupShape WarmupShape = WarmupShape.Linear, double? MinRatio = null) : Schedule
{
    /// <summary>First step of the cooldown.</summary>
    public long DecayStart => Total - DecaySteps;

    public override double At(long t)
    {
        if (Convention == WsdConvention.Kozistr) t++;
        if (t < Warmup)
        {
            double w = Phases.Warmup(t, Warmup);
            return WarmupShape == WarmupShape.Linear && Convention != WsdConvention.Hf
                ? Peak * w
                : WarmupShapes.Value(WarmupShape, w, Convention == WsdConvention.Hf ? Min : 0, Peak);
        }
        if (t < DecayStart) return Peak;
        if (t >= Total) return Min;
        double p = DecaySteps == 0 ? 1.0 : (double)(t - DecayStart) / DecaySteps;
        return DecayShapes.Value(Shape, p, Peak, Min);
    }

    /// <summary>Range loop: warmup, a block fill of the stable phase, the cooldown vectorised per shape, then m.</summary>
    public override void Fill(Span<double> destination, long start = 0)
    {
        if (Convention != WsdConvention.Standard || WarmupShape != WarmupShape.Linear) { base.Fill(destination, start); return; }
        int n = destination.Length, i = 0;
        for (; i < n && start + i < Warmup; i++) destination[i] = Peak * Phases.Warmup(start + i, Warmup);
        int stableEnd = (int)Math.Clamp(DecayStart - start, i, n);
        destination[i..stableEnd].Fill(Peak);
        i = stableEnd;
        int decayEnd = (int)Math.Clamp(Total - start, i, n);
        if (decayEnd > i)
        {
            var seg = destination[i..decayEnd];
            long t0 = start + i - DecayStart;
            for (int j = 0; j < seg.Length; j++) seg[j] = t0 + j;
            TensorPrimitives.Divide(seg, (double)DecaySteps, seg);
            DecayShapes.Apply(Shape, seg, Peak, Min);
            i = decayEnd;
        }
        destination[i..].Fill(Min);
    }

    public override long? Length => Total;

    public override SpecCall ToSpecCall()
    {
        var b = new SpecBuilder("wsd").Num("peak", Peak).Num("total", Total).NumIf("warmup", Warmup, 0);
        if (DecayFraction is { } f) b.Num("decay", f); else b.Num("decay_steps", DecaySteps);
        b.WordIf("shape", DecayShapes.Name(Shape), "linear");
        if (MinRatio is { } r) b.Num("min_ratio", r); else b.NumIf("min", Min, 0);
        return b.WordIf("warmup_shape", WarmupShapes.Name(WarmupShape), "linear")
            .WordIf("convention", Convention.ToString().ToLowerInvariant(), "standard").Build();
    }

    internal static WsdSchedule Create(SpecArgs a)
    {
        double peak = a.Number("peak");
        long warmup = a.Integer("warmup", 0);
        long? stable = a.Has("stable") ? Phases.Steps(a, "stable") : null;
        double? frac = a.OptionalNumber("decay");
        long? steps = a.Has("decay_steps") ? a.Integer("decay_steps") : null;
        if (frac is not null && steps is not null) throw a.Fail("give either decay=F (fraction of total) or decay_steps=D, not both");
        long total;
        if (stable is { } st)
        {
            if (steps is not { } ds || frac is not null) throw a.Fail("stable=S (HF layout W + S + D) needs decay_steps=D");
            if (ds < 0) throw a.Fail($"decay_steps must be >= 0, got {ds}");
            total = warmup + st + ds;
            if (a.Has("total") && a.Integer("total") != total) throw a.Fail($"total must equal warmup + stable + decay_steps = {total}, or be left out");
            a.Integer("total", total);
        }
        else total = a.Integer("total");
        Phases.Check(a, peak, warmup, total);
        if (frac is { } f && (f < 0 || f > 1)) throw a.Fail($"decay is a fraction of total in [0, 1], got {f}");
        long d = steps ?? (long)Math.Round((frac ?? 0.2) * total, MidpointRounding.AwayFromZero);
        if (d < 0 || d > total - warmup) throw a.Fail($"the cooldown ({d} steps) must fit after the warmup: 0 <= decay_steps <= total - warmup = {total - warmup}");
        var shape = DecayShapes.Parse(a, "shape", DecayShape.Linear);
        double? ratio = a.OptionalNumber("min_ratio");
        if (ratio is not null && a.Has("min")) throw a.Fail("give either min=M (a rate) or min_ratio=r (a fraction of peak), not both");
        if (ratio is { } r0 && (!(r0 >= 0) || r0 > 1)) throw a.Fail($"min_ratio must be in [0, 1], got {SpecNumber.Format(r0)}");
        double min = ratio is { } r ? r * peak : a.Number("min", 0);
        if (min < 0 || min > peak) throw a.Fail($"min must be in [0, peak], got {min}");
        if (shape is DecayShape.Exponential or DecayShape.Inverse && min <= 0)
            throw a.Fail($"shape={DecayShapes.Name(shape)} needs min > 0 (it interpolates {(shape == DecayShape.Exponential ? "log eta" : "1/eta")})");
        var cw = a.Word("convention", "standard");
        var conv = cw switch
        {
            "standard" => WsdConvention.Standard,
            "hf" => WsdConvention.Hf,
            "kozistr" => WsdConvention.Kozistr,
            _ => throw a.Fail($"convention must be standard, hf or kozistr, got '{cw}'"),
        };
        var ws = WarmupShapes.Parse(a, "warmup_shape", allowExponential: false);
        return new WsdSchedule(peak, total, warmup, d, shape, min, steps is null ? frac ?? 0.2 : null, conv, ws, ratio);
    }
}
