namespace Anneal.Laws;

/// <summary>
/// The laws known by name wherever a law file is accepted: <c>mpl-25m</c>, <c>mpl-100m</c>, <c>mpl-400m</c>, the
/// published multi-power laws of Luo et al. 2025 (<see cref="MplParameters.Published400M"/> ...). The one place
/// that maps a name to its values; callers say in which warmup convention they use them.
/// </summary>
public static class BuiltinLaws
{
    private static readonly Dictionary<string, MplParameters> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["mpl-25m"] = MplParameters.Published25M,
        ["mpl-100m"] = MplParameters.Published100M,
        ["mpl-400m"] = MplParameters.Published400M,
    };

    /// <summary>Every built-in name, in size order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mpl-25m", "mpl-100m", "mpl-400m"];

    /// <summary>The published values of a built-in name (any case); null for another name.</summary>
    public static MplParameters? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>
    /// A built-in law as a fitted law of the multi-power law in <paramref name="convention"/>, with no covariance
    /// (published values carry none, so it draws no band); null for another name.
    /// </summary>
    public static FittedLaw? Resolve(string name, WarmupConvention convention) =>
        Find(name) is { } p ? FittedLaw.FromValues(new MultiPowerLaw(convention), p.ToArray()) : null;
}
