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
}

/// <summary>
/// Warmup-stable-decay (Hu et al. 2024, MiniCPM; Hägele et al. 2024): linear warmup to P over W
/// steps, hold P, then decay to m over the last D steps of T (D = round(F * T) when given as the
/// fraction F), then hold m. Progress in the cooldown is p = (t - (T - D)) / D.
/// Spec: <c>wsd(peak=P, total=T, warmup=W, decay=F | decay_steps=D, shape=S, min=M)</c>.
/// </summary>
public sealed record WsdSchedule(double Peak, long Total, long Warmup, long DecaySteps, DecayShape Shape = DecayShape.Linear, double Min = 0, double? DecayFraction = null) : Schedule
{
    /// <summary>First step of the cooldown.</summary>
    public long DecayStart => Total - DecaySteps;

    public override double At(long t)
    {
        if (t < Warmup) return Peak * Phases.Warmup(t, Warmup);
        if (t < DecayStart) return Peak;
        if (t >= Total) return Min;
        double p = DecaySteps == 0 ? 1.0 : (double)(t - DecayStart) / DecaySteps;
        return DecayShapes.Value(Shape, p, Peak, Min);
    }

    public override long? Length => Total;

    public override SpecCall ToSpecCall()
    {
        var b = new SpecBuilder("wsd").Num("peak", Peak).Num("total", Total).NumIf("warmup", Warmup, 0);
        if (DecayFraction is { } f) b.Num("decay", f); else b.Num("decay_steps", DecaySteps);
        return b.WordIf("shape", DecayShapes.Name(Shape), "linear").NumIf("min", Min, 0).Build();
    }

    internal static WsdSchedule Create(SpecArgs a)
    {
        double peak = a.Number("peak");
        long total = a.Integer("total"), warmup = a.Integer("warmup", 0);
        Phases.Check(a, peak, warmup, total);
        double? frac = a.OptionalNumber("decay");
        long? steps = a.Has("decay_steps") ? a.Integer("decay_steps") : null;
        if (frac is not null && steps is not null) throw a.Fail("give either decay=F (fraction of total) or decay_steps=D, not both");
        if (frac is { } f && (f < 0 || f > 1)) throw a.Fail($"decay is a fraction of total in [0, 1], got {f}");
        long d = steps ?? (long)Math.Round((frac ?? 0.2) * total, MidpointRounding.AwayFromZero);
        if (d < 0 || d > total - warmup) throw a.Fail($"the cooldown ({d} steps) must fit after the warmup: 0 <= decay_steps <= total - warmup = {total - warmup}");
        var shape = DecayShapes.Parse(a, "shape", DecayShape.Linear);
        double min = a.Number("min", 0);
        if (min < 0 || min > peak) throw a.Fail($"min must be in [0, peak], got {min}");
        if (shape is DecayShape.Exponential or DecayShape.Inverse && min <= 0)
            throw a.Fail($"shape={DecayShapes.Name(shape)} needs min > 0 (it interpolates {(shape == DecayShape.Exponential ? "log eta" : "1/eta")})");
        return new WsdSchedule(peak, total, warmup, d, shape, min, steps is null ? frac ?? 0.2 : null);
    }
}
