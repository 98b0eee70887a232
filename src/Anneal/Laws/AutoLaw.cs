using Anneal.Specs;

namespace Anneal.Laws;

/// <summary>
/// <c>auto</c>, the default law: a stack of laws whose errors partly cancel,
/// <c>L(t) = sum_i w_i N(L_i)(t; p_i)</c>, each member fitted on its own (by its own method) and read through
/// <see cref="NonRisingForecast"/> (<c>N</c>: held after a fall of the rate for as long as it stays above its value before
/// the fall, so that the stack's forecast does not rise where the rate falls;
/// docs/journal/session-14-auto-step-drop.md). Members and prior weights:
/// <c>momentum(cap=fit)</c> 0.35, <c>mpl(warmup=reference, drops=continuous)</c> 0.35 and <c>convex</c> 0.3 (<see cref="DefaultMembers"/>).
/// Each fit tilts one member to 0.9, or keeps it alone, when the fitted runs' own future says so clearly
/// (<see cref="Anneal.Fitting.StackFitter.ChooseWeights"/>; docs/journal/session-06-auto-weights-per-fit.md) and, where a
/// fitted run decays over half its length, their past holds enough points to say it
/// (<see cref="Anneal.Fitting.StackFitter.PastWeighs"/>; docs/journal/session-22-stack.md); then the first
/// member's place goes to <c>age(q=0.7, prior=13)</c> (calibrations without a decay over half a run) or <c>share</c> (with
/// one), at its weight or alone, where that forecasts the same future better (<see cref="DefaultAlternates"/>,
/// <see cref="Weighs"/>, <see cref="Anneal.Fitting.StackFitter.ChooseMembers"/>;
/// docs/journal/session-11-auto.md, docs/journal/session-12-forms.md). Per schedule, the convex member's weight tapers
/// off beyond <see cref="ConvexTaper"/> x the fitted
/// horizon, and, where the fit kept the prior weights with <c>share</c> in the first place, the reference member's weight
/// ramps from 0 at the fitted horizon to its prior at <see cref="ReferenceRamp"/> x it (<see cref="WeightsFor"/>;
/// docs/journal/session-13-auto.md). On a calibration of short cooldowns (no fitted run decaying over half its length: the
/// WSD question), each member's gain over its own forecast of the run's constant counterpart is scaled to meet the fitted
/// runs' points inside decays (<see cref="GainScales"/>, <see cref="GainScale"/>; docs/journal/session-16-wsd-question.md),
/// and past the fitted horizon each member's constant-rate part follows a power law of fixed exponent with its level and
/// slope at the horizon (<see cref="HorizonMatchExponent"/>, <see cref="HorizonMatch"/>; docs/journal/session-17-wsd-question.md).
/// Where the fitted runs have not reached the laws' regime, the convex member's weight goes to the others past the fitted
/// horizon (<see cref="LeavesConvexPastHorizon"/>; docs/journal/session-19-member-choice.md).
/// <c>auto(weights=fixed)</c> keeps the default members at their prior weights, unscaled. The capped
/// momentum law ranks schedules well while describing whole curves; the age law realises a cooldown's gain on the clock of
/// the run's age, as the engine corpora do; the multi-power law fitted by the reference procedure describes long curves
/// best; the convex bound errs the other way from both far past the fitted horizon. Their errors partly cancel (stacked
/// generalisation, Wolpert 1992; Breiman 1996). A member whose fit fails is dropped and the others renormalised; the
/// fitted law file records the members, their weights and why (<see cref="FittedLaw.StackChoice"/>).
/// The band: <see cref="StackBand"/> (the members' disagreement, the fit's misfit at its runs' ends and its error on their
/// own future, calibrated on the forecasting benchmark; docs/journal/session-10-bands.md).
/// </summary>
public sealed record AutoLaw : LossLaw
{
    /// <summary>The members and their stacking weights (summing to 1).</summary>
    public IReadOnlyList<(LossLaw Law, double Weight)> Members { get; }

    /// <summary>
    /// Laws that may take a member's place, or null: entry i may take the place of member <c>i mod Members.Count</c> (so the
    /// first <see cref="Members"/>.Count entries are one alternate per member in order, the next ones a second round). A
    /// cross-validated fit puts an alternate there, at the weight the member was given or alone, when refitted on the fitted
    /// runs' past it forecasts their future better than whichever law holds the place then, the rounds in order
    /// (<see cref="Anneal.Fitting.StackFitter.ChooseMembers"/>). Empty: no alternates (a fitted stack, whose places are
    /// decided, and any stack built from explicit members).
    /// </summary>
    public IReadOnlyList<LossLaw?> Alternates { get; init; } = [];

    private readonly LawParameter[] _parameters;

    /// <summary>
    /// When true (<c>auto</c>, the default), each fit chooses the members' weights from the fitted runs' own future
    /// (<see cref="Anneal.Fitting.StackFitter.ChooseWeights"/>): the prior weights, or one member tilted to
    /// <see cref="Anneal.Fitting.StackFitter.Tilt"/> when that forecasts the fitted runs' later points clearly better.
    /// When false (<c>auto(weights=fixed)</c>), the prior weights stand.
    /// </summary>
    public bool CrossValidatedWeights { get; }

    /// <summary>
    /// R of the convex bound's taper: on a schedule whose last step T lies beyond R x the fitted horizon H
    /// (<see cref="FittedHorizon"/>), the convex member's weight is scaled by <c>R H / T</c> and the other members share
    /// what it gives up in proportion to their weights (<see cref="WeightsFor"/>). Why: the convex bound errs high by a
    /// margin that keeps growing with the extrapolation (+1.1 % mean signed error at 1.5-2x the fitted horizon, +3.5 % at
    /// 2-3x, +4.4 % beyond 3x, up to +9 % at 6x: gpt-tiny-long's constant run at 12,000 steps fitted to 2,000), while the
    /// annealing laws' opposite error stays near -1 % past 1.5x (docs/accuracy.md, "By extrapolation"); at a fixed share
    /// its error then outgrows the one it is there to cancel. R = 4: session 9 chose 5 with the capped momentum law in the
    /// first place (bench/stack_rules_session9.py); with the share law there (session 12) the stack's far forecasts ran
    /// high (gpt-tiny-long's constant run at 6x +1.28 %, the benchmark's worst), and on the forecasting benchmark R = 4 gives
    /// 0.456 / 1.16 % pooled mean / worst against 0.475 / 1.28 % at 5 (R = 3.5: 0.448 / 1.60 %, gpt-tiny's WSD question
    /// worse by more than its seed noise). With each corpus left out, R chosen on the others (the lowest pooled mean among
    /// the R that worsen no corpus by more than its seed noise nor the pooled worst) is 4 in 6 of 8 folds (4.5 without
    /// gpt-tiny-long, 3.5 without gpt-tiny); docs/journal/session-13-auto.md.
    /// </summary>
    public const double ConvexTaper = 4;

    /// <summary>
    /// E of the reference member's ramp (<see cref="RampsReference"/>): on a schedule whose last step T lies at r = T / H
    /// times the fitted horizon H, a multi-power member fitted by the reference procedure keeps the fraction
    /// <c>clamp((r - 1) / (E - 1), 0, 1)</c> of its weight (none on schedules ending within the fitted horizon, all of it
    /// from E x H on) and the other members share what it gives up in proportion to their weights (<see cref="WeightsFor"/>).
    /// Why: with the share law in the first place, the reference member's forecasts carry a WSD/full-decay contrast (WSD
    /// cooldowns 1-4 % too low, linear and cosine decays 1-1.6 % too high on gpt-tiny) that the share law does not have, so
    /// within the fitted horizon it only adds error; far past the horizon the share law's level drifts high (gpt-tiny-long's
    /// 10 % cooldowns at 3-6x: +0.9 to +1.5 %) and the reference member's low level cancels it. Mean |error| of the stack at
    /// the prior weights by extrapolation, gpt-tiny / gpt-tiny-long / mlp-long schedules: within 1x 0.66 / 0.71 / 0.37 % with
    /// the reference member at 0.35 and 0.22 / 0.26 / 0.32 % without it; beyond 4x (gpt-tiny-long) 0.40 % with it and 2.28 %
    /// without. E = 3: with each corpus left out, the pooled mean on the others chooses E = 3 (and no floor) in 7 of 8 folds
    /// (E = 2 without gpt-tiny), and each left-out corpus gains or stays within its seed noise (gpt-tiny 0.62 -> 0.45 %,
    /// gpt-tiny-long 0.51 -> 0.33 %, mlp-long 0.30 -> 0.31 %); docs/journal/session-13-auto.md.
    /// </summary>
    public const double ReferenceRamp = 3;

    /// <summary>
    /// Whether the reference member's weight ramps up with the extrapolation (<see cref="ReferenceRamp"/>): set by a fit
    /// whose cross-validation kept the prior weights and put the share law in the first place
    /// (<see cref="Anneal.Fitting.StackFitter.Fit"/>), the stack the ramp was measured on; a tilt chosen by the fitted runs'
    /// own future stands as chosen. Recorded in the law file (<c>reference_ramp</c>).
    /// </summary>
    public bool RampsReference { get; init; }

    /// <summary>
    /// Whether, on a schedule ending past <see cref="FittedHorizon"/>, the convex member's weight goes to the other members in
    /// proportion to theirs (<see cref="WeightsFor"/>): set by a cross-validated fit whose runs have not reached the laws'
    /// regime (<see cref="Anneal.Fitting.RegimeCheck"/> fires: the loss falls faster in log time at their end than before)
    /// and whose chosen weights give the convex member a share; recorded in the law file (<c>leaves_convex_past_horizon</c>).
    /// Why: the convex bound is in the stack to cancel the annealing laws' error far past the fitted horizon, low where the
    /// runs are in the regime (docs/accuracy.md, "By extrapolation"); before it every member forecasts past the horizon too
    /// high, as the check's warning says (gpt-perldoc, session 18: all 25 forecasts past its horizon too high), and the convex
    /// bound the most (gpt-perldoc's WSD question: its held-out cooldowns +30 % as the stack reads it, the other members +10
    /// to +19 %; gpt-jargon's +20 % against +19 %), so its share only adds to their common error. Within the horizon the
    /// check says nothing and the stack is as chosen, so the band, which the check withholds past the horizon, reads the same
    /// stack as before. Measured in sample (docs/journal/session-19-member-choice.md): gpt-perldoc's WSD question 18.2 -> 13.2 %
    /// mean, its schedules 14.2 -> 13.3 %; gpt-jargon's 19.3 -> 18.7 % and 8.3 -> 7.9 %; the check fires on no other corpus's fit.
    /// No constant: the rule reads the check's verdict only.
    /// </summary>
    public bool LeavesConvexPastHorizon { get; init; }

    /// <summary>
    /// The last step reached by the fitted runs (0: unknown, no taper): set on the stack a fit returns, and from a law
    /// file's <c>fitted_horizon</c>; <see cref="FittedLaw.FittedHorizon"/> reads it from here. Past <see cref="ConvexTaper"/>
    /// times it the convex member's weight tapers off.
    /// </summary>
    public long FittedHorizon { get; init; }

    /// <summary>
    /// The members' weights on <paramref name="run"/>'s schedule: <see cref="Members"/>' weights, with a convex bound's
    /// tapered as <see cref="ConvexTaper"/> says when the schedule's last step (the end of its rates) lies beyond
    /// <see cref="ConvexTaper"/> x <see cref="FittedHorizon"/> (or given to the others past <see cref="FittedHorizon"/> when
    /// <see cref="LeavesConvexPastHorizon"/>), then, when <see cref="RampsReference"/>, a reference-procedure
    /// multi-power member's ramped as <see cref="ReferenceRamp"/> says. One set of weights for the whole schedule, whichever
    /// steps are asked, so that a curve has no kink and a point's forecast does not depend on the others asked with it.
    /// </summary>
    public double[] WeightsFor(LawRun run)
    {
        var w = Members.Select(m => m.Weight).ToArray();
        long last = run.Eta.Length - 1;
        if (FittedHorizon <= 0) return w;
        if (last > ConvexTaper * FittedHorizon || LeavesConvexPastHorizon && last > FittedHorizon)
            for (int i = 0; i < w.Length; i++)
                if (Members[i].Law is ConvexBoundLaw) Scale(w, i, LeavesConvexPastHorizon ? 0 : ConvexTaper * FittedHorizon / last);
        if (RampsReference)
        {
            double ratio = (double)last / FittedHorizon;
            for (int i = 0; i < w.Length; i++)
                if (IsReferenceMember(Members[i].Law))
                    Scale(w, i, Math.Clamp((ratio - 1) / (ReferenceRamp - 1), 0, 1));
        }
        return w;
    }

    /// <summary>
    /// Each member's gain scale k (<see cref="GainScale"/>), in the order of <see cref="Members"/>; empty (or a missing entry):
    /// 1, the member as fitted. Member i forecasts <c>Lc - k_i (Lc - L_i)</c>, its gain over its own forecast of the run's
    /// constant counterpart scaled so that it meets the fitted runs' points inside decays. Set by a fit
    /// (<see cref="Anneal.Fitting.StackFitter.Fit"/>) and recorded in the law file (<c>gain_scales</c>).
    /// </summary>
    public IReadOnlyList<double> GainScales { get; init; } = [];

    /// <summary>
    /// The exponent of each member's constant part past <see cref="FittedHorizon"/> (<see cref="HorizonMatch"/>); 0: the
    /// members' own extrapolation. Set by a fit on a calibration of short cooldowns (the WSD question,
    /// <see cref="Anneal.Fitting.StackFitter.Fit"/>) and recorded in the law file (<c>horizon_match</c>).
    /// </summary>
    public double HorizonMatchExponent { get; init; }

    /// <summary>Member <paramref name="m"/>'s gain scale (<see cref="GainScales"/>; 1 when none is recorded).</summary>
    public double GainScaleOf(int m) => m < GainScales.Count ? GainScales[m] : 1;

    /// <summary>Whether <paramref name="law"/> is the member <see cref="ReferenceRamp"/> ramps: a multi-power law fitted by the reference procedure.</summary>
    public static bool IsReferenceMember(LossLaw law) => law is MultiPowerLaw { Convention: WarmupConvention.Reference };

    /// <summary>Member i keeps <paramref name="factor"/> of its weight; the others share what it gives up in proportion to theirs (a member alone keeps all).</summary>
    private static void Scale(double[] w, int i, double factor)
    {
        if (!(w[i] > 0) || !(w[i] < 1)) return;
        double kept = w[i] * factor, rest = 1 - w[i];
        for (int j = 0; j < w.Length; j++) w[j] = j == i ? kept : w[j] * (1 - kept) / rest;
    }

    /// <summary>
    /// The default stack: <see cref="DefaultMembers"/>, with <see cref="DefaultAlternates"/> and weights chosen per fit
    /// unless <paramref name="crossValidatedWeights"/> is false (then the default members at their prior weights).
    /// </summary>
    public AutoLaw(bool crossValidatedWeights = true) : this(DefaultMembers, crossValidatedWeights)
    {
        if (crossValidatedWeights) Alternates = DefaultAlternates;
    }

    /// <summary>
    /// The default members and prior weights (docs/journal/session-06-auto-weights-per-fit.md):
    /// <c>momentum(cap=fit)</c> 0.35,
    /// <c>mpl(warmup=reference, drops=continuous)</c> 0.35, <c>convex</c> 0.3. The multi-power member realises a step drop
    /// over the rates it crosses (<see cref="MultiPowerLaw.ContinuousDrops"/>): with it the stack's pooled error fell 0.36 -> 0.34 %
    /// (worst 1.10 -> 0.99 %) and the published split's 25M 0.00102 -> 0.00094 PredE
    /// (docs/journal/session-13-auto-continuous-drops.md); law files written with <c>mpl(warmup=reference)</c> keep
    /// their member. The convex bound errs the
    /// other way from the annealing laws far past the fitted horizon (too high where they are too low, docs/accuracy.md "By extrapolation"), so its share
    /// cancels much of their common error there; where it is the worse forecaster, the per-fit cross-validation tilts
    /// the stack away from it (the MPL splits and gpt100m-rope). 0.3 is the prior weight with the lowest pooled error on
    /// the forecasting benchmark, and the same with any one corpus left out in 7 of 8 folds (0.45 without gpt-tiny;
    /// bench/stack_rules.py).
    /// </summary>
    public static IReadOnlyList<(LossLaw Law, double Weight)> DefaultMembers { get; } =
        [(new MomentumLaw(0.999, Cap: true), 0.35), (new MultiPowerLaw(WarmupConvention.Reference) { ContinuousDrops = true }, 0.35), (new ConvexBoundLaw(), 0.3)];

    /// <summary>
    /// The alternates of <see cref="DefaultMembers"/> (<see cref="Alternates"/>): <c>age(q=0.7, prior=13)</c> for the capped
    /// momentum law. Both are annealing laws of five parameters; the age law realises a cooldown's gain on the clock of the
    /// run's age, which the engine corpora follow (docs/journal/session-10-cooldown-gains.md) and the MPL runs and
    /// gpt100m-rope less so; as a fixed member it cost several corpora more than seed noise. Put in per fit by the fitted
    /// runs' own future (<see cref="Anneal.Fitting.StackFitter.ChooseMembers"/>), it takes the place on the engine corpora's
    /// schedules questions and gpt-tiny-long's WSD question and leaves it on MPL 25M / 100M, mlp-long's WSD question and
    /// gpt100m-rope (docs/journal/session-11-auto.md; since session 12 it is weighed only where no fitted run decays over
    /// half its length, <see cref="Weighs"/>: the WSD questions). q = 0.7 and the prior on nu (active only where no fitted run
    /// decays over more than half its length: the WSD calibration, which does not pin nu) are the settings that met the
    /// WSD target as a single law ("Pinning nu"); q = 0.8, or no prior, lose gpt-tiny-long's WSD question (0.98 and 1.26 %).
    /// </summary>
    /// <remarks>
    /// Second round: <c>share</c> for the capped momentum law, weighed only where a fitted run decays over more than half
    /// its length (<see cref="Weighs"/>), where the age law is not: its spectrum of memories realises a cooldown's gain as
    /// a power of its share of the log-age, as the engine corpora do, where the age law's one memory gives cooldowns of
    /// 20-60 % nearly a full decay's gain (engine-gpt-tiny's schedules 0.77 -> 0.65 %, gpt-tiny-long's 0.66 -> 0.60 %;
    /// docs/journal/session-12-forms.md).
    /// Third round: <c>share(clock=level)</c>, weighed where <c>share</c> is, against whichever law then holds the place: the share
    /// law with each decrease realised on the age clock scaled by the rate relative to the level it crosses, so that a step
    /// drop to a low rate is realised more slowly (<see cref="ShareLaw.LevelClock"/>). It takes the place on the published
    /// 400M split (the fitted runs' future: 0.057 % alone against share's 0.096 %; held-out R^2 / PredE 0.9979 / 0.00175 ->
    /// 0.9988 / 0.00130) and on no split of the forecasting benchmark, whose forecasts it leaves as they were (alone it
    /// forecasts the schedules questions worse: gpt-tiny 0.44 -> 1.81 %;
    /// docs/journal/session-14-published-split-auto.md).
    /// </remarks>
    public static IReadOnlyList<LossLaw?> DefaultAlternates { get; } =
        [new AgeMomentumLaw(Q: 0.7, NuPrior: AgeMomentumLaw.SuggestedNuPrior), null, null, new ShareLaw(), null, null, new ShareLaw(LevelClock: true), null, null];

    /// <summary>
    /// Whether a fit on <paramref name="runs"/> weighs <paramref name="alternate"/> for its place at all: the share law only
    /// where a fitted run decays over more than half its length (that decay pins its spectrum's exponent:
    /// <see cref="ShareLaw.SpansLongDecay"/>), an age law with a prior on nu only where none does (there the prior pins nu,
    /// which the share law's scale-free spectrum cannot replace: the WSD question's later cooldowns gain more the longer
    /// the run). Why not both, the fitted runs' future choosing: on the schedules question the future of a calibration cut
    /// at half its horizon holds the cosine's second half only, where the two laws' forecasts differ by less than the cut's
    /// noise (gpt-tiny: 2.1 % against 1.5 %, both from 5 points), so the choice was noise; their gain shapes differ where
    /// the cosine decays over the whole run, which the full fit sees (docs/journal/session-12-forms.md). Any other law is
    /// always weighed.
    /// </summary>
    public static bool Weighs(LossLaw alternate, IReadOnlyList<LawRun> runs) => alternate switch
    {
        ShareLaw => ShareLaw.SpansLongDecay(runs),
        AgeMomentumLaw { NuPrior: not null } => !ShareLaw.SpansLongDecay(runs),
        _ => true,
    };

    /// <summary>The default stack in words, for summaries and law files.</summary>
    public static string DefaultDescription => string.Join(", ", DefaultMembers.Select((m, i) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{m.Law.Spec}{AlternatesText(i)} {m.Weight:0.##}")));

    private static string AlternatesText(int member)
    {
        var specs = DefaultAlternates.Where((a, i) => a is not null && i % DefaultMembers.Count == member).Select(a => a!.Spec).ToArray();
        return specs.Length == 0 ? "" : $" (or {string.Join(" or ", specs)})";
    }

    /// <summary>A stack of the given members (weights are renormalised to sum to 1); they are the prior weights of a cross-validated fit.</summary>
    public AutoLaw(IReadOnlyList<(LossLaw Law, double Weight)> members, bool crossValidatedWeights = true)
    {
        CrossValidatedWeights = crossValidatedWeights;
        if (members.Count == 0) throw new InputException("auto: needs at least one member law");
        double total = members.Sum(m => m.Weight);
        if (!(total > 0) || members.Any(m => !(m.Weight >= 0))) throw new InputException("auto: member weights must be >= 0 with a positive sum");
        Members = members.Select(m => (m.Law, m.Weight / total)).ToArray();
        var offsets = new int[Members.Count + 1];
        for (int i = 0; i < Members.Count; i++) offsets[i + 1] = offsets[i] + Members[i].Law.Parameters.Count;
        Offsets = offsets;
        // Member parameters keep their LR-unit exponents; one that depends on another parameter points into the concatenated vector.
        // They are named after their member's law (momentum.L0), or after its whole spec when two members share a law
        // (momentum(cap=fit).L0 and momentum(lambda=fit).L0), so every name is unique.
        string Prefix(LossLaw law) => Members.Count(m => m.Law.Name == law.Name) > 1 ? law.Spec : law.Name;
        _parameters = Members.SelectMany((m, i) => m.Law.Parameters.Select(p => p with
        {
            Name = $"{Prefix(m.Law)}.{p.Name}",
            LrPower = p.LrPower with { Plus = p.LrPower.Plus is int k ? k + offsets[i] : null },
        })).ToArray();
    }

    /// <summary>
    /// Parses <c>auto</c> (weights chosen per fit; also <c>auto(weights=cv)</c>, and <c>auto(weights=holdout)</c>, the name of
    /// the earlier data-driven weights it replaces) or <c>auto(weights=fixed)</c>.
    /// </summary>
    public static LossLaw Create(SpecArgs args)
    {
        var raw = args.Raw("weights");
        return raw switch
        {
            null or SpecText { Value: "cv" or "holdout" } => new AutoLaw(),
            SpecText { Value: "fixed" } => new AutoLaw(crossValidatedWeights: false),
            _ => throw args.Fail($"weights must be cv or fixed, got {raw}"),
        };
    }

    public override string Name => "auto";

    public override string Summary => $"stack of {DefaultDescription} (prior weights from the forecasting benchmark), members and weights chosen per fit by the fitted runs' own future";

    public override SpecCall ToSpecCall() => CrossValidatedWeights ? new("auto", []) : new SpecBuilder("auto").Word("weights", "fixed").Build();

    public override IReadOnlyList<LawParameter> Parameters => _parameters;

    /// <summary>Offsets of each member's block in the concatenated parameter vector (length members + 1).</summary>
    public IReadOnlyList<int> Offsets { get; }

    public override LawState Prepare(LawRun run) => new State(this, run);

    public override IEnumerable<double[]> Starts(StartHint hint, IReadOnlyList<LawState> runs)
    {
        // The stack is never fitted jointly (LawFitter fits each member); one start for completeness.
        var parts = Members.Select((m, i) => m.Law.Starts(hint, runs.Select(r => ((State)r).Members[i]).ToArray()).First());
        yield return parts.SelectMany(p => p).ToArray();
    }

    /// <summary>
    /// Member <paramref name="m"/>'s forecast of <paramref name="run"/> as the stack reads it, from its own forecast
    /// <paramref name="forecast"/> at its parameters <paramref name="values"/> (the member's block of the stack's vector):
    /// its gain scaled (<see cref="GainScales"/>, where its scale is not 1 and the run decays), then its constant part
    /// past the fitted horizon matched (<see cref="HorizonMatchExponent"/>, where a fit set one). The stack's own
    /// evaluation applies the same adjustments, with their Jacobians, through the same code (<see cref="MemberAdjustment"/>),
    /// so the band's path (<see cref="FittedLaw"/>'s forecast of a stack) and the fit's cannot drift apart. A new array;
    /// <paramref name="forecast"/> is left as it was.
    /// </summary>
    public double[] MemberForecast(int m, LawRun run, IReadOnlyList<double> values, double[] forecast)
    {
        var loss = (double[])forecast.Clone();
        if (MemberAdjustment.For(this, m, run, HorizonMatch.For(run, FittedHorizon, HorizonMatchExponent)) is not { } adjust) return loss;
        try { adjust.Apply(values.ToArray(), loss, []); }
        finally { adjust.Release(); }
        return loss;
    }

    /// <summary>
    /// What the stack does to one member's forecast of one run, in order: the gain over the run's constant counterpart
    /// scaled (<see cref="GainScale"/>), then the constant part past the fitted horizon matched (<see cref="HorizonMatch"/>).
    /// Both are linear in the member's forecasts, so a Jacobian is adjusted by the same combination of the member's.
    /// </summary>
    private sealed class MemberAdjustment
    {
        private readonly double _scale;

        /// <summary>The member's state on the run's constant counterpart, where its gain is scaled and the run decays; else null.</summary>
        private readonly LawState? _constant;

        /// <summary>The constant part's extrapolation past the fitted horizon and the member's state on its query; null: none.</summary>
        private readonly HorizonMatch? _match;
        private readonly LawState? _matched;

        private MemberAdjustment(double scale, LawState? constant, HorizonMatch? match, LawState? matched) =>
            (_scale, _constant, _match, _matched) = (scale, constant, match, matched);

        /// <summary>Member <paramref name="m"/>'s adjustment on <paramref name="run"/> given the run's <paramref name="match"/>; null when it changes nothing.</summary>
        public static MemberAdjustment? For(AutoLaw law, int m, LawRun run, HorizonMatch? match)
        {
            double scale = law.GainScaleOf(m);
            bool scaled = scale != 1 && GainScale.Decays(run);
            if (!scaled && match is null) return null;
            var member = law.Members[m].Law;
            return new(scale, scaled ? member.Prepare(GainScale.Counterpart(run)) : null, match, match is null ? null : member.Prepare(match.Query));
        }

        /// <summary>
        /// Adjusts the member's forecast <paramref name="part"/> (one value per asked step) at its parameters
        /// <paramref name="p"/> and, unless empty, its Jacobian rows <paramref name="jac"/> (<paramref name="p"/>.Length per step).
        /// </summary>
        public void Apply(ReadOnlySpan<double> p, Span<double> part, Span<double> jac)
        {
            int n = part.Length, k = p.Length;
            if (_constant is not null)
            {
                // The member's gain over its constant counterpart scaled (GainScale): Lc - g (Lc - L), and so its Jacobian.
                var cpart = new double[n];
                var cjac = jac.IsEmpty ? [] : new double[n * k];
                _constant.Evaluate(p, cpart, cjac);
                for (int i = 0; i < n; i++) part[i] = GainScale.Mix(part[i], cpart[i], _scale);
                for (int i = 0; i < cjac.Length; i++) jac[i] = GainScale.Mix(jac[i], cjac[i], _scale);
            }
            if (_match is not null)
            {
                // The member's constant part past the fitted horizon at the fixed exponent (HorizonMatch), and so its Jacobian.
                int nq = _match.Query.Count;
                var qpart = new double[nq];
                var qjac = jac.IsEmpty ? [] : new double[nq * k];
                _matched!.Evaluate(p, qpart, qjac);
                _match.Apply(part, qpart);
                if (!jac.IsEmpty) _match.Apply(jac, qjac, k);
            }
        }

        public void Release()
        {
            _constant?.Release();
            _matched?.Release();
        }
    }

    private sealed class State : LawState
    {
        private readonly AutoLaw _law;
        public readonly LawState[] Members;

        /// <summary>Each member's adjustment on this run (gain scale, horizon match); null where it changes nothing.</summary>
        private readonly MemberAdjustment?[] _adjust;

        public State(AutoLaw law, LawRun run) : base(run)
        {
            _law = law;
            Members = law.Members.Select(m => m.Law.Prepare(run)).ToArray();
            var match = HorizonMatch.For(run, law.FittedHorizon, law.HorizonMatchExponent);
            _adjust = law.Members.Select((_, i) => MemberAdjustment.For(law, i, run, match)).ToArray();
        }

        public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jacobian)
        {
            int n = Run.Count, total = p.Length;
            var off = _law.Offsets;
            var weights = _law.WeightsFor(Run);
            loss.Clear();
            if (!jacobian.IsEmpty) jacobian.Clear();
            var part = new double[n];
            for (int m = 0; m < Members.Length; m++)
            {
                int k = off[m + 1] - off[m];
                double w = weights[m];
                var jac = jacobian.IsEmpty ? [] : new double[n * k];
                Members[m].Evaluate(p.Slice(off[m], k), part, jac);
                // The member's gain scaled, then its constant part past the fitted horizon matched (MemberAdjustment).
                _adjust[m]?.Apply(p.Slice(off[m], k), part, jac);
                // Each member enters as NonRisingForecast reads it (held after a fall of the rate while it stays above its
                // value before the fall), the same readings the band's disagreement is measured on: the convex bound's
                // jump right after a step drop is no forecast of a rising loss (docs/journal/session-14-auto-step-drop.md).
                var from = NonRisingForecast.Sources(Run, part);
                for (int i = 0; i < n; i++) loss[i] += w * part[from[i]];
                if (!jacobian.IsEmpty)
                    for (int i = 0; i < n; i++)
                        for (int j = 0; j < k; j++) jacobian[i * total + off[m] + j] = w * jac[from[i] * k + j];
            }
        }

        internal override void Release()
        {
            foreach (var m in Members) m.Release();
            foreach (var a in _adjust) a?.Release();
        }
    }
}
