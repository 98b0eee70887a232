using Anneal.Specs;

namespace Anneal.Laws;

/// <summary>A law kind: spec name, summary, options and factory (for <c>anneal law list</c> and the docs).</summary>
public sealed record LawKind(string Name, string Summary, string Options, Func<SpecArgs, LossLaw> Create, string Example);

/// <summary>Every loss-curve law Anneal knows, by spec name. The single place a new law is registered.</summary>
public static class LawRegistry
{
    /// <summary>All kinds, in the order tables list them (baseline first).</summary>
    public static IReadOnlyList<LawKind> Kinds { get; } =
    [
        new("auto", "stack of momentum(cap=fit) (or age(q=0.7, prior=13) or share) 0.35, mpl(warmup=reference, drops=continuous) 0.35 and convex 0.3, tilted and chosen per fit by the fitted runs' own future; the default", "weights=cv | fixed", AutoLaw.Create, "auto"),
        new("powerlaw", "L0 + A*S1^-alpha (baseline; ignores LR decay)", "none", PowerLaw.Create, "powerlaw"),
        new("momentum", "L0 + A*S1^-alpha - C*S2 (Tissue et al. 2024); cap=fit: gain C*S2/(1 + S2/S2max); cap=log: C*S2max*ln(1 + S2/S2max)", "lambda=0.999 | lambda=fit; cap=none | fit | log; power=q (cap=fit's shape, 2); alpha_prior=none | a number (a weak prior on the LR-area exponent, its mode; 0.5 suggested)", MomentumLaw.Create, "momentum(lambda=fit)"),
        new("age", "L0 + A*S1^-alpha - B*sum_k d_k (1 - ((k+1)/(t+1))^nu): the momentum law with a memory proportional to the run's age", "nu=fit | a number; q=1 (the memory grows as age^q; 0 = a fixed memory); prior=none | a number (a prior on a fitted nu where no fitted run decays over half its length, its mode of nu*H^(1-q); 13 suggested); alpha_prior=none | a number (a weak prior on the LR-area exponent, its mode; 0.5 suggested)", AgeMomentumLaw.Create, "age"),
        new("share", "L0 + A*S1^-alpha - B*sum_k d_k sum_j w_j(p) (1 - ((k+1)/(t+1))^(2^j)): the age law with a spectrum of memories (2^-2 .. 2^8 per unit of log-age) weighted ~ speed^-p, p fitted", "p=fit | a number in [-2, 3]; alpha_prior=none | a number (a weak prior on the LR-area exponent, its mode; 0.5 suggested); clock=age | level (each decrease realised on the age clock scaled by the rate relative to the level it crosses: a step drop realised more slowly)", ShareLaw.Create, "share"),
        new("floor", "L0 + A*S1^-alpha + sigma*(ebar/eta_peak)^p: the momentum law with a fitted noise-floor shape", "lambda=0.999", NoiseFloorLaw.Create, "floor"),
        new("fsl", "L0 + A*S1^-alpha + sigma*mean_j V_j: a noise floor filling and relaxing in LR-area time over 12 octaves of speed (after Li et al. 2025's functional scaling law)", "octaves=12 (number of modes)", SpectrumFloorLaw.Create, "fsl"),
        new("mpl", "multi-power law (Luo et al. 2025)", "warmup=paper | reference; area=1 | a number in [0.05, 1.5] (progress sum peak*(eta/peak)^area in the power-law term; 1 = the LR area, the paper)", MultiPowerLaw.Create, "mpl"),
        new("fm", "forward-momentum law (Wang et al. 2026)", "n=model size (recorded; folded into L0)", ForwardMomentumLaw.Create, "fm(n=4e8)"),
        new("convex", "c0 + c1*convex SGD bound (Schaipp et al. 2025)", "grad=unit (G=1) | grad=logged (per-step grad_norm); area=fit (the distance term's power of the rate's area fitted)", ConvexBoundLaw.Create, "convex(grad=logged)"),
    ];

    /// <summary>The default set compared by <c>anneal evaluate</c> and <c>anneal demo</c>.</summary>
    public static IReadOnlyList<string> DefaultSpecs { get; } = ["auto", "powerlaw", "momentum", "momentum(lambda=fit)", "momentum(cap=fit)", "mpl", "mpl(warmup=reference)", "fm", "convex"];

    private static readonly Dictionary<string, LawKind> ByName = Kinds.ToDictionary(k => k.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Looks up a kind by name (case-insensitive).</summary>
    public static LawKind? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Builds the law a parsed spec describes.</summary>
    public static LossLaw Create(SpecCall call)
    {
        if (Find(call.Name) is not { } kind)
            throw new SpecException($"unknown law '{call.Name}': choose one of {string.Join(", ", Kinds.Select(k => k.Name))} (e.g. mpl or momentum(lambda=fit))");
        var args = new SpecArgs(call);
        if (args.Positional.Count > 0) throw args.Fail("laws take only named options, e.g. momentum(lambda=0.999)");
        var law = kind.Create(args);
        args.EnsureAllUsed();
        return law;
    }

    /// <summary>Parses a comma-separated list of law specs; commas inside parentheses do not split.</summary>
    public static IReadOnlyList<LossLaw> ParseList(string specs)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < specs.Length; i++)
        {
            if (specs[i] is '(' or '[') depth++;
            else if (specs[i] is ')' or ']') depth--;
            else if (specs[i] == ',' && depth == 0) { parts.Add(specs[start..i]); start = i + 1; }
        }
        parts.Add(specs[start..]);
        var laws = parts.Select(p => p.Trim()).Where(p => p.Length > 0).Select(LossLaw.Parse).ToArray();
        if (laws.Length == 0) throw new InputException($"no law named in '{specs}'; name at least one, e.g. 'mpl' or 'mpl,momentum'");
        return laws;
    }
}
