namespace Anneal.Schedules;

/// <summary>
/// A decay whose rate after the warmup is <c>Min + (Peak - Min) * f(t)</c>, with a factor f that depends on neither the
/// peak nor the final rate (cosine, cosine power). A search over final rates (schedule design) computes f once per
/// shape and each candidate's rates from it with <see cref="ScaledDecay.Scale"/>: the operations <see cref="Schedule.At"/> does, in
/// the same order, so the same bits, without a transcendental function per step and candidate.
/// </summary>
internal interface IScaledDecay
{
    /// <summary>The rate at the end of the warmup.</summary>
    double Peak { get; }

    /// <summary>The final rate.</summary>
    double Min { get; }

    /// <summary>Warmup steps: the factor form holds from this step on.</summary>
    long Warmup { get; }

    /// <summary>Equal for two schedules with the same factor at every step (their type and shape parameters).</summary>
    object FactorKey { get; }

    /// <summary>The factor f at step <paramref name="step"/> &gt;= <see cref="Warmup"/>.</summary>
    double Factor(long step);
}

/// <summary>Fills and scales the factors of <see cref="IScaledDecay"/> schedules.</summary>
internal static class ScaledDecay
{
    /// <summary>Writes the factors of steps <c>start ..</c> (all at or after the warmup).</summary>
    public static void FillFactors(IScaledDecay decay, Span<double> factors, long start)
    {
        if (start < decay.Warmup) throw new ArgumentOutOfRangeException(nameof(start), $"factors start at the warmup's end ({decay.Warmup}), got {start}");
        for (int i = 0; i < factors.Length; i++) factors[i] = decay.Factor(start + i);
    }

    /// <summary>The rates <c>Min + (Peak - Min) * f</c> of <paramref name="decay"/> from its factors (as <see cref="Schedule.At"/> computes them).</summary>
    public static void Scale(IScaledDecay decay, ReadOnlySpan<double> factors, Span<double> rates)
    {
        double min = decay.Min, range = decay.Peak - decay.Min;
        for (int i = 0; i < factors.Length; i++) rates[i] = min + range * factors[i];
    }
}
