namespace Anneal.Laws;

/// <summary>
/// The laws known by name wherever a law file is accepted: <c>mpl-25m</c>, <c>mpl-100m</c>, <c>mpl-400m</c>, the
/// published multi-power laws of Luo et al. 2025 (<see cref="MplParameters.Published400M"/> ...). The one place that
/// maps a name to a law: its values and the warmup convention they were fitted in, which every caller (design, probe,
/// the dashboard) takes from here.
/// </summary>
public static class BuiltinLaws
{
    private static readonly Dictionary<string, MplParameters> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["mpl-25m"] = MplParameters.Published25M,
        ["mpl-100m"] = MplParameters.Published100M,
        ["mpl-400m"] = MplParameters.Published400M,
    };

    /// <summary>
    /// The warmup convention of the published values: the reference code's, in which they were fitted and reproduce
    /// the published metrics and the logged losses (data/examples/mpl/manifest.json; MplBenchmarkTests, BuiltinLawsTests).
    /// In the paper convention the same values predict every loss about B * peak (0.16 at 400M) too low.
    /// </summary>
    public const WarmupConvention Convention = WarmupConvention.Reference;

    /// <summary>Every built-in name, in size order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mpl-25m", "mpl-100m", "mpl-400m"];

    /// <summary>The published values of a built-in name (any case); null for another name.</summary>
    public static MplParameters? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>
    /// A built-in law as a fitted multi-power law in its own warmup convention (<see cref="Convention"/>), with no
    /// covariance (published values carry none, so it draws no band); null for another name.
    /// </summary>
    public static FittedLaw? Resolve(string name) =>
        Find(name) is { } p ? FittedLaw.FromValues(new MultiPowerLaw(Convention), p.ToArray()) : null;

    /// <summary>
    /// A law argument, as every command and service that takes a law reads it: a built-in name (<see cref="Resolve"/>) or a
    /// law file (<see cref="LawFile.Read"/>). Throws <see cref="InputException"/> naming the argument when it is neither.
    /// </summary>
    public static FittedLaw Read(string nameOrPath)
    {
        if (Resolve(nameOrPath) is { } builtin) return builtin;
        if (!File.Exists(nameOrPath))
            throw new InputException($"{nameOrPath}: law file not found, and not a built-in law; fit one to your curves (anneal fit) or use one of {string.Join(", ", Names)}");
        return LawFile.Read(File.ReadAllText(nameOrPath), nameOrPath);
    }

    /// <summary>How a built-in law is described where it is used: <c>mpl-400m (published parameters, reference convention)</c>.</summary>
    public static string Describe(string name) => $"{name} (published parameters, {WarmupConventions.Name(Convention)} convention)";
}
