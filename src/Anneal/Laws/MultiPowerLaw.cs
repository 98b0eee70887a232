using Anneal.Fitting;
using Anneal.Specs;

namespace Anneal.Laws;

/// <summary>
/// Multi-power law (Luo et al., "A Multi-Power Law for Loss Curve Prediction Across Learning Rate
/// Schedules", ICLR 2025, arXiv 2503.12811):
/// <code>
/// L(t)   = L0 + A * (S1(t) + S_W)^(-alpha) - LD(t)
/// LD(t)  = B * sum_{k&lt;=t} (eta_{k-1} - eta_k) * G(eta_k^(-gamma) * S_k(t)),  G(x) = 1 - (C x + 1)^(-beta)
/// S_k(t) = sum_{tau=k..t} eta_tau
/// </code>
/// S1 + S_W is the LR area of steps 0..t (warmup included). Parameters: L0, A, alpha, B, C, beta, gamma.
/// With <see cref="AreaPower"/> P != 1 (<c>mpl(area=P)</c>, not the paper's form) the power-law term counts progress as
/// <c>sum_{tau&lt;=t} peak (eta_tau / peak)^P</c> instead of the LR area (peak: the run's largest rate), so that a low rate
/// makes more progress per unit of area than its area says; LD is unchanged, and a run at its peak rate is unchanged.
/// Why: on the published MPL split the form misses cosine_24000's long low-rate end by 0.4-0.5 % at every size even
/// fitted to all nine curves, and fitting that end through B over-credits the WSD cooldowns
/// (docs/journal/session-11-published-split.md).
/// <c>mpl(area=fit)</c> makes P an eighth fitted parameter (the last; in [0.05, 1.5]); <c>mpl(gamma=G)</c> holds gamma at G:
/// at G = 0 each drop's gain is realised on the clock of the LR area since the drop, so a drop to a low rate is realised
/// as slowly as its area accrues (what the published split's step drops show: docs/journal/session-12-published-split.md).
/// Evaluation is exact and fast: prefix sums make S_k(t) O(1), only steps where eta changes enter
/// LD, and the inner sum runs over SIMD lanes with the four gradient sums accumulated alongside.
/// </summary>
public sealed partial record MultiPowerLaw(WarmupConvention Convention = WarmupConvention.Paper, double AreaPower = 1) : LossLaw
{
    /// <summary>
    /// True for <c>mpl(area=fit)</c>, written <see cref="AreaPower"/> = NaN: the power P is the fitted eighth parameter (so
    /// that every caller that handles only the paper's progress sum, <c>AreaPower == 1</c>, refuses it as it refuses a fixed P).
    /// </summary>
    public bool FitsArea => double.IsNaN(AreaPower);

    /// <summary>
    /// <c>mpl(drops=continuous)</c>: a decrease between two consecutive steps enters LD as the continuous decay it is the limit
    /// of, <c>B * integral_{eta_k}^{eta_(k-1)} G(e^(-gamma) S_k(t)) de</c>, instead of <c>B (eta_(k-1) - eta_k) G(eta_k^(-gamma) S_k(t))</c>:
    /// each level e the rate crosses is realised on its own clock e^(-gamma) S_k(t), as in the paper's continuous form. For
    /// a smooth decay (per-step ratios near 1) the two agree; a step drop to a low rate is then realised on the clocks of
    /// every level it crosses, not all of it on the fastest one, so LD no longer jumps between a step drop and a short ramp
    /// to the same rate. Evaluated by the midpoint rule on geometric pieces of ratio at most <see cref="State.MaxPieceRatio"/>
    /// (exact at gamma = 0, where the clock does not depend on the level).
    /// </summary>
    public bool ContinuousDrops { get; init; }

    /// <summary>gamma held at this value (<c>mpl(gamma=G)</c>); NaN: fitted (the paper's form).</summary>
    public double HeldGamma { get; init; } = double.NaN;

    private static readonly LawParameter[] Params =
    [
        new("L0", 0, double.PositiveInfinity, "loss", "irreducible loss of an infinitely long run at this LR scale"),
        new("A", 0, double.PositiveInfinity, "loss", "amplitude of the power law in LR area", new LrPower(0, Plus: 2)),
        new("alpha", 0, 5, "1", "exponent of the LR-area power law"),
        new("B", 0, double.PositiveInfinity, "loss/lr", "amplitude of the loss drop per unit LR decrease", new LrPower(-1)),
        new("C", 0, double.PositiveInfinity, "lr^(gamma-1)", "rate at which a decrease's benefit saturates", new LrPower(-1, Plus: 6)),
        new("beta", 0, 10, "1", "power of the saturation G(x) = 1 - (Cx+1)^-beta"),
        new("gamma", 0, 5, "1", "LR exponent inside G: eta_k^-gamma * S_k(t)"),
    ];

    private static readonly LawParameter AreaParam = new("P", 0.05, 1.5, "1", "power of the rate in the power-law term's progress sum peak*(eta/peak)^P");
    private static readonly LawParameter[] ParamsWithArea = [.. Params, AreaParam];


    public override string Name => "mpl";

    public override string Summary => (FitsArea ? "multi-power law with progress sum peak*(eta/peak)^P (P fitted) in its power-law term: L0 + A*S_P^-alpha - LD(t), 8 parameters"
        : AreaPower == 1 ? "multi-power law (Luo et al. 2025): L0 + A*(S1+S_W)^-alpha - LD(t), 7 parameters"
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"multi-power law with progress sum peak*(eta/peak)^{AreaPower:0.###} in its power-law term: L0 + A*S_P^-alpha - LD(t), 7 parameters"))
        + (double.IsNaN(HeldGamma) ? "" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $", gamma held at {HeldGamma:0.###}"))
        + (ContinuousDrops ? ", each decrease realised over the rates it crosses" : "");

    public override IReadOnlyList<LawParameter> Parameters => FitsArea ? ParamsWithArea : Params;

    public override SpecCall ToSpecCall()
    {
        var b = new SpecBuilder("mpl").WordIf("warmup", WarmupConventions.Name(Convention), "paper");
        if (FitsArea) b.Word("area", "fit"); else b.NumIf("area", AreaPower, 1);
        if (!double.IsNaN(HeldGamma)) b.Num("gamma", HeldGamma);
        if (ContinuousDrops) b.Word("drops", "continuous");
        return b.Build();
    }

    internal static MultiPowerLaw Create(SpecArgs a)
    {
        var w = a.Word("warmup", "paper");
        var convention = w switch
        {
            "paper" => WarmupConvention.Paper,
            "reference" => WarmupConvention.Reference,
            _ => throw a.Fail($"warmup must be paper (only post-warmup LR drops count) or reference (the MIT code's convention), got '{w}'"),
        };
        double power = 1;
        bool fit = false;
        if (a.Raw("area") is { } raw)
        {
            if (raw is SpecText { Value: "fit" }) fit = true;
            else if (raw is not SpecNumber { Value: >= 0.05 and <= 1.5 } n) throw a.Fail($"area must be fit or a number in [0.05, 1.5] (the power P of the rate in the progress sum peak*(eta/peak)^P; 1 = the LR area, the paper's form), got {raw}");
            else power = n.Value;
        }
        double gamma = double.NaN;
        if (a.Raw("gamma") is { } g)
        {
            if (g is not SpecNumber { Value: >= 0 and <= 5 } n) throw a.Fail($"gamma must be a number in [0, 5] (the rate's exponent in the loss drop's clock eta_k^-gamma S_k(t), held instead of fitted; 0 = the LR area since the drop), got {g}");
            gamma = n.Value;
        }
        var drops = a.Word("drops", "step");
        if (drops is not ("step" or "continuous"))
            throw a.Fail($"drops must be step (a decrease between two steps is realised on the clock of the rate it lands on, the paper's form) or continuous (on the clocks of every rate it crosses), got '{drops}'");
        return new MultiPowerLaw(convention, fit ? double.NaN : power) { HeldGamma = gamma, ContinuousDrops = drops == "continuous" };
    }

    /// <summary>
    /// The reference convention is fitted by the reference procedure (early-stopped AdamW from the
    /// reference initialisation), which reproduces the published parameters from the benchmark runs
    /// and predicts held-out schedules better than the exact optimum, which overfits (docs/laws.md, "Fitting").
    /// </summary>
    public override FitMethod PreferredMethod =>
        Convention == WarmupConvention.Reference ? FitMethod.EarlyStoppedAdamW : FitMethod.Optimum;

    public override LawState Prepare(LawRun run) => new State(run, Convention, AreaPower, ContinuousDrops);

    /// <summary>
    /// With continuous drops, a run of at least <see cref="NodesFromPairs"/> (point, change) pairs prepared for a fit: LD by a
    /// quadrature whose nodes merge consecutive changes between two points (<see cref="State.FitNodes"/>). The fit of the
    /// published 400M split then visits 2.5 times fewer pairs per evaluation (1.13M; its cosine run's 2.23M 4.3 times fewer,
    /// its constant and WSD runs' 0.37M and 0.24M as they were), the loss within 2.5e-6. Predictions keep the change-by-change sum.
    /// </summary>
    internal override LawState PrepareForFit(LawRun run) => ContinuousDrops ? new State(run, Convention, AreaPower, true, NodesFromPairs) : Prepare(run);

    /// <summary>
    /// Size from which a run's fit uses <see cref="State.FitNodes"/>: 1M pairs, ~2.5 ms of one core per evaluation with the
    /// Jacobian. Smaller runs, which the early-stopped fit evaluates in well under a second anyway (every run of the engine's
    /// corpora in docs/accuracy.md), keep the change-by-change objective, and with it their fits' bits: the reference
    /// procedure's path is chaotic on some small splits (docs/benchmarks.md, "Session 9: fit speed"), where any other
    /// objective, however close, gives another fit (docs/journal/session-19-fit-speed.md).
    /// </summary>
    internal const long NodesFromPairs = 1_000_000;

    public override IReadOnlyList<HeldParameter> NonIdentifiable(IReadOnlyList<LawState> runs)
    {
        if (runs.Any(r => EtaMath.HasDrop(r.Run.Eta)))
            return double.IsNaN(HeldGamma) ? [] : [Held(6, HeldGamma, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"the law's spec holds it (gamma={HeldGamma:0.###})"))];
        const string why = "no fitted run lowers its learning rate after the warmup, so the loss-drop term cannot be fitted; it is held at zero (B = 0) and predictions ignore LR decay";
        // Without a drop every rate is the peak (the warmup aside), where the progress sum is the LR area for any P.
        HeldParameter[] drop = [Held(3, 0, why), Held(4, 1, why), Held(5, 0.5, why), Held(6, double.IsNaN(HeldGamma) ? 0.5 : HeldGamma, why)];
        return FitsArea ? [.. drop, Held(7, 1, "no fitted run lowers its learning rate after the warmup, so the power of the rate in the progress sum cannot be fitted; it is held at 1 (the LR area)")] : drop;
    }

    /// <summary>
    /// What a fit with too few logged points for every parameter holds (<see cref="ReducedForm"/>), in this order, until the
    /// points outnumber the free parameters: the progress sum's power P at 1 (the LR area, the paper's form), then the drop
    /// term's shape at the reference initialisation, gamma = 0.5, beta = 0.5, then C = 1 in the fitter's canonical LR unit
    /// (peak 3e-4: the same runs in other LR units hold the same C), keeping the drop term's amplitude B and the power law's
    /// L0, A and alpha fitted. Why these: the constant run pins the power law, and a calibration of a constant run plus
    /// cooldowns given by their end points has one point per cooldown for the drop term's four parameters.
    /// </summary>
    private static readonly (int Index, double Value)[] FewPointHolds = [(7, 1), (6, 0.5), (5, 0.5), (4, 1)];

    internal override IReadOnlyList<HeldParameter> ReducedForm(IReadOnlyList<LawState> runs, IReadOnlyList<HeldParameter> held, int points)
    {
        // Without a drop the drop term is held already (NonIdentifiable): nothing of its shape is left to hold.
        if (!runs.Any(r => EtaMath.HasDrop(r.Run.Eta))) return [];
        var more = new List<HeldParameter>();
        int free = Parameters.Count - held.Count;
        string why = $"{points} logged points are too few for every parameter of {Spec}: held at the reference initialisation (C in the LR unit where the peak is 3e-4), the loss-drop term's amplitude B fitted";
        foreach (var (index, value) in FewPointHolds)
        {
            if (points > free) break;
            if (index >= Parameters.Count || held.Any(h => h.Index == index)) continue;
            more.Add(Held(index, value, why));
            free--;
        }
        return more;
    }

    public override IEnumerable<double[]> Starts(StartHint h, IReadOnlyList<LawState> runs)
    {
        // Reference initialisation first (the reference procedure uses only it): the pre-fit, then
        // C = 1, beta = 0.5, gamma = 0.5. In the reference convention the warmup ramp adds about
        // B*eta_peak, which L0 must absorb: a second start does that for the optimum.
        // area=fit: each start from the LR area (P = 1, the paper's form) and from P = 0.7.
        double[][] powers = FitsArea ? [[1.0], [0.7]] : [[]];
        foreach (var pw in powers) yield return [h.L0, h.A, h.Alpha, h.B, 1, 0.5, 0.5, .. pw];
        double l0 = h.L0;
        if (Convention == WarmupConvention.Reference)
        {
            l0 = Math.Max(0.05, h.L0 - h.B * h.PeakLr);
            foreach (var pw in powers) yield return [l0, h.A, h.Alpha, h.B, 1, 0.5, 0.5, .. pw];
        }
        var rng = new Random(h.Seed);
        for (int i = 0; i < 1; i++)
        {
            double[] x = [l0, h.A, h.Alpha, h.B * Math.Exp(rng.NextDouble() - 0.5), Math.Exp(2 * rng.NextDouble() - 1), 0.3 + 0.6 * rng.NextDouble(), 0.3 + 0.6 * rng.NextDouble()];
            foreach (var pw in powers) yield return [.. x, .. pw];
        }
    }
}
