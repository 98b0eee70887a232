using Anneal.Laws;

namespace Anneal.Design;

/// <summary>
/// An MPL law as the design layer uses it: parameters, their covariance when the law was fitted
/// (for uncertainty bands), where it came from, and the warmup convention it was fitted in. A law
/// fitted by <c>anneal fit</c> also brings its leave-one-run-out refits and cross-validated error, so
/// design bands are the laws layer's bands (<see cref="FittedLaw.Predict(LawRun, double)"/>).
/// </summary>
public sealed record DesignLaw(MplParameters Parameters, double[][]? Covariance, string Source, WarmupConvention Convention)
{
    /// <summary>True for a law fitted with <c>drops=continuous</c>: its problems' objectives cut large decreases as the law does (<see cref="DesignProblem.ContinuousDrops"/>).</summary>
    public bool ContinuousDrops { get; init; }

    /// <summary>
    /// The fitted law whose forecast the design layer minimises and reports where it is not the multi-power law of
    /// <see cref="Parameters"/>: an <c>auto</c> stack (or a seed ensemble of stacks; <see cref="FromFitted"/>). Where set, the
    /// design minimises the stack's forecast (<see cref="Objective"/>, since session 24), and a
    /// schedule's loss and band are the stack's forecast at its final step, as <c>anneal predict</c> gives them
    /// (<see cref="FittedLaw.Predict(LawRun, double)"/>: its calibrated <see cref="StackBand"/>), and a gain's half-width is
    /// <see cref="GainScale"/> times the reference's loss (<see cref="GainHalfWidth"/>). Null: the law designed through is the
    /// law reported (a multi-power fit, published values).
    /// </summary>
    public FittedLaw? Forecaster { get; init; }

    /// <summary>
    /// g: the 95 % half-width of a stack's forecast gain between two schedules of one horizon, as a fraction of the reference
    /// schedule's forecast loss (<see cref="GainHalfWidth"/>). The stack's band (<see cref="StackBand"/>) is calibrated on single
    /// forecasts and says nothing of how two forecasts' errors correlate, so it cannot be differenced; this constant is
    /// calibrated on differences instead: the narrowest one covering at least 95 % of the errors |predicted - observed| of
    /// the gains over the cosine to a tenth that <c>bench gain-band</c> checks (every corpus with two seeds of the schedules
    /// question's pair: one seed's fit and the seed ensemble's, each trained schedule longer than the fitted horizon against
    /// the cosine to a tenth of its horizon, observed on the first seed), a rule fixed before the errors were read
    /// (docs/journal/session-23-designband.md, which also gives its coverage with each corpus left out).
    /// </summary>
    public const double GainScale = 0.0351;

    /// <summary>Leave-one-run-out refits of the law (empty for published values or a single run).</summary>
    public double[][] Replicates { get; init; } = [];

    /// <summary>The law's cross-validated log error (0 when unknown).</summary>
    public double CrossValidationLogError { get; init; }

    /// <summary>True for an early-stopped fit (the reference procedure): the delta method is left out when refits exist.</summary>
    public bool EarlyStopped { get; init; }

    private bool DeltaTerm => Covariance is not null && PredictionBand.UsesDeltaMethod(EarlyStopped ? Anneal.Fitting.FitMethod.EarlyStoppedAdamW : Anneal.Fitting.FitMethod.Optimum, Replicates.Length);

    /// <summary>Why the law gives no band although it was fitted (its covariance could not be computed); null otherwise.</summary>
    public string? BandUnavailable { get; init; }

    /// <summary>
    /// The regime check of the fit the law comes from (<see cref="FittedLaw.Regime"/>; null for published values): where it
    /// fires, a schedule ending past the fitted horizon gets no band (<see cref="BandWithheld"/>), as a forecast gets none.
    /// </summary>
    public Anneal.Fitting.RegimeCheck? Regime { get; init; }

    /// <summary>Why <paramref name="problem"/>'s schedule gets no band although the law has one: the regime check withholds it past the fitted horizon (<see cref="Anneal.Fitting.RegimeCheck.BandWithheld(long, double)"/>); null otherwise.</summary>
    public string? BandWithheld(DesignProblem problem, double level = 0.95) =>
        Regime?.BandWithheld(problem.Total - 1, level)
        ?? Seeds?.Select((g, k) => g.BandWithheld(problem, level) is { } why ? $"seed group {k + 1}: {why}" : null).FirstOrDefault(w => w is not null);

    /// <summary>True when the law carries any uncertainty to draw a band from (for a seed ensemble: every group does; a law with a <see cref="Forecaster"/>: the stack's band, which a schedule may still be refused).</summary>
    public bool HasBand => Forecaster is not null || Seeds is { } seeds && seeds.All(g => g.HasBand) || Seeds is null
        && BandUnavailable is null && (DeltaTerm || Replicates.Length >= 2 || CrossValidationLogError > 0);

    /// <summary>
    /// A seed ensemble's groups (<see cref="SeedEnsemble"/>: one fit per seed group, each its own design law), else null. The
    /// top-level parameters, covariance and refits are then the first group's; losses and bands are the ensemble's
    /// (<see cref="Predict"/>), and <see cref="Problem"/> poses the design question over every group.
    /// </summary>
    public IReadOnlyList<DesignLaw>? Seeds { get; init; }

    /// <summary>
    /// The design question of a schedule of <paramref name="total"/> steps under this law (validated): its parameters, warmup
    /// convention and drops, and for a seed ensemble every group's parameters (<see cref="DesignProblem.Seeds"/>), so that
    /// <see cref="DesignProblem.FinalLoss"/> is the ensemble's objective.
    /// </summary>
    public DesignProblem Problem(long total, long warmup, double peak, double minLr = 0) =>
        new DesignProblem(Parameters, total, warmup, peak, minLr, Convention)
        {
            ContinuousDrops = ContinuousDrops,
            Seeds = Seeds?.Select(g => g.Parameters).ToArray() ?? [],
        }.Validate();

    /// <summary>
    /// A fresh objective of the design (one per thread): what the law reports is what the design minimises. A law with a
    /// <see cref="Forecaster"/> (an <c>auto</c> stack, or a seed ensemble of stacks): the stack's forecast of the final loss
    /// (<see cref="StackFinalLoss"/>, equal to <see cref="Predict"/>'s loss), searched without per-rate gradients; else the
    /// problem's own (<see cref="DesignProblem.FinalLoss"/>: the multi-power law's, or its seed ensemble's, with exact gradients).
    /// Before session 24 a stack was designed through its multi-power member and reported through the stack, so the reported
    /// optimum could be forecast worse than a reference (gpt-tiny: best wsd 1.73526 against wsd 20 % sqrt's 1.72163;
    /// docs/journal/session-24-designstack.md).
    /// </summary>
    public IFinalLoss Objective(DesignProblem problem) => Forecaster is { } f ? new StackFinalLoss(f, problem) : problem.FinalLoss();

    /// <summary>A designer of <paramref name="problem"/> minimising the law's forecast (<see cref="Objective"/>); one per thread.</summary>
    public ScheduleDesigner Designer(DesignProblem problem) => new(problem, () => Objective(problem));

    /// <summary>One seed group's problem: <paramref name="problem"/> under group <paramref name="k"/>'s parameters alone.</summary>
    private DesignProblem GroupProblem(DesignProblem problem, int k) => problem with { Law = Seeds![k].Parameters, Seeds = [] };

    /// <summary>
    /// The predicted final loss of the post-warmup rates and its band (null where <see cref="Band"/> gives none). A law with a
    /// <see cref="Forecaster"/> (an <c>auto</c> stack): the stack's forecast of the whole schedule (the linear warmup, then the
    /// rates: <see cref="DesignProblem.FullSchedule"/>) at its final step T-1 and its calibrated band, what <c>anneal predict</c>
    /// gives for the same schedule. One law:
    /// <see cref="DesignProblem.Objective"/>'s value and <see cref="Band"/>. A seed ensemble: each group's final loss and band
    /// combined by <see cref="SeedEnsemble.CombinePoint"/>, as the ensemble's forecast combines them point by point
    /// (<c>L = exp(mean_g ln L_g)</c>, band from every group's; none where any group has none).
    /// </summary>
    public (double Loss, (double Low, double High)? Band) Predict(DesignProblem problem, ReadOnlySpan<double> postWarmup)
    {
        if (Forecaster is { } forecaster)
        {
            var p = forecaster.Predict(problem.FullSchedule(postWarmup), [problem.Total - 1]);
            return (p.Loss[0], p.BandUnavailable is null ? (p.Low[0], p.High[0]) : null);
        }
        if (Seeds is not { } seeds) return (problem.Objective().Value(postWarmup), Band(problem, postWarmup));
        int g = seeds.Count;
        var loss = new double[g];
        var low = new double[g];
        var high = new double[g];
        bool band = true;
        for (int k = 0; k < g; k++)
        {
            var p = GroupProblem(problem, k);
            loss[k] = p.Objective().Value(postWarmup);
            if (seeds[k].Band(p, postWarmup) is { } b) (low[k], high[k]) = b; else band = false;
        }
        if (!band) return (SeedEnsemble.CombinePoint(loss, default, default, out _, out _), null);
        double l = SeedEnsemble.CombinePoint(loss, low, high, out double lo, out double hi);
        return (l, BandCheck.IsSane(lo, hi) ? (lo, hi) : null);
    }

    /// <summary>
    /// Resolves a law argument: a built-in name (<see cref="BuiltinLaws"/>: the published values in the warmup convention
    /// they were fitted in) or a law file (<see cref="LawFile.Read"/>). Throws
    /// <see cref="InputException"/> for anything else, or a law that is not the multi-power law.
    /// </summary>
    public static DesignLaw Resolve(string law) => FromFitted(BuiltinLaws.Read(law), SourceOf(law));

    /// <summary>How a law argument is named in reports: a built-in law's description, or the file name as given.</summary>
    public static string SourceOf(string law) => BuiltinLaws.Find(law) is null ? law : BuiltinLaws.Describe(law);

    /// <summary>
    /// A law fitted by the laws layer: its parameter vector, its covariance (null when all zero, e.g.
    /// published values), its refits and cross-validated error, and its warmup convention. Throws
    /// <see cref="InputException"/> naming <paramref name="source"/> unless it is a multi-power law
    /// with valid parameters.
    /// </summary>
    public static DesignLaw FromFitted(FittedLaw fit, string source)
    {
        // A seed ensemble (SeedEnsemble) is designed through every group's fit: each group's multi-power vector, the
        // objective their geometric mean (DesignProblem.FinalLoss), the band combined as the ensemble combines it (Predict).
        if (fit.Seeds is { } seeds)
        {
            var groups = seeds.Groups.Select((g, i) => FromFitted(g, $"{source} (seed group {i + 1})")).ToArray();
            if (groups.Any(g => g.Convention != groups[0].Convention || g.ContinuousDrops != groups[0].ContinuousDrops))
                throw new InputException($"{source}: the seed groups' laws differ in warmup convention or drops; a seed ensemble's groups are fitted with one law");
            return groups[0] with
            {
                Source = source + $" (a seed ensemble of {groups.Length} groups, each group's fit designed through; losses the geometric mean of the groups')",
                Seeds = groups,
                Regime = fit.Regime,
                // A seed ensemble of stacks reports the ensemble's forecast (its groups' stacks combined), as anneal predict.
                Forecaster = groups.All(g => g.Forecaster is not null) ? fit : null,
                BandUnavailable = groups.Select((g, i) => g.BandUnavailable is { } why ? $"seed group {i + 1}: {why}" : null).FirstOrDefault(w => w is not null),
            };
        }
        // An auto stack is designed through its own forecast (Objective: StackFinalLoss); its multi-power member's parameters
        // are kept as the law's parameters (the JSON's parameters, the problem's convention) and the member's closed forms
        // as the reference of the design's cost (the --json's member loss).
        if (fit.Law is AutoLaw && fit.Members.FirstOrDefault(m => m.Law is MultiPowerLaw) is { } member)
        {
            // The stack's regime check (its members carry none), so that BandWithheld says why the stack's forecast has no band.
            return FromFitted(member, source + " (auto stack: designed through and reported as its forecast, as anneal predict)") with { Forecaster = fit, Regime = fit.Regime };
        }
        if (fit.Law is not MultiPowerLaw mpl)
            throw new InputException($"{source}: law '{fit.Law.Spec}' is not the multi-power law; schedule design needs an MPL law (fit one with kind mpl, or use mpl-400m)");
        if (mpl.AreaPower != 1)
            throw new InputException($"{source}: law '{fit.Law.Spec}' counts progress with a power of the rate (area != 1), which schedule design does not model; fit mpl or mpl(warmup=reference) for design");
        var p = MplParameters.FromVector(fit.Values).Validate(source);
        var cov = fit.Covariance is { Length: 7 } c && c.Any(r => r.Any(x => x != 0)) ? c.Select(r => (double[])r.Clone()).ToArray() : null;
        return new DesignLaw(p, cov, source, mpl.Convention)
        {
            ContinuousDrops = mpl.ContinuousDrops,
            Replicates = fit.Replicates.Where(r => r.Length == 7).Select(r => (double[])r.Clone()).ToArray(),
            CrossValidationLogError = fit.CrossValidationLogError,
            EarlyStopped = fit.Report.Method == Anneal.Fitting.FitMethod.EarlyStoppedAdamW,
            Regime = fit.Regime,
            // As the laws layer decides: a band that needs the delta method needs the covariance.
            BandUnavailable = fit.Covariance is null && PredictionBand.UsesDeltaMethod(fit.Report.Method, fit.Replicates.Length)
                ? "the fit's parameter covariance could not be computed (see the fit's warnings)" : null,
        };
    }

    /// <summary>
    /// Band of the predicted final loss, as the laws layer draws it: Var = g' Cov g (delta method,
    /// g = dL/dtheta analytic; left out for an early-stopped fit with refits) + the jackknife variance
    /// over <see cref="Replicates"/> + (L * <see cref="CrossValidationLogError"/>)^2, and the band
    /// L * exp(+-z sqrt(Var) / L). Null when the law carries no uncertainty, the regime check withholds it
    /// (<see cref="BandWithheld"/>) or the band fails <see cref="BandCheck"/>.
    /// </summary>
    public (double Low, double High)? Band(DesignProblem problem, ReadOnlySpan<double> postWarmup, double z = 1.959963984540054)
    {
        // A stack's band is its forecast's (Predict); a seed ensemble's is its groups' combined, each drawn at the 95 % level.
        if (Forecaster is not null || Seeds is not null) return Predict(problem, postWarmup).Band;
        if (!HasBand || BandWithheld(problem) is not null) return null;
        var g = new double[7];
        double l = problem.Objective().ParameterGradient(postWarmup, g);
        double v = DeltaTerm ? Quadratic(g) : 0;
        v += JackknifeVariance(problem, postWarmup, null);
        v += CrossValidationLogError * CrossValidationLogError * l * l;
        var (lo, hi) = PredictionBand.Interval(l, v, z);
        // Never an absurd band (not finite, or wider than BandCheck.MaxRatio): nothing is drawn instead.
        return BandCheck.IsSane(lo, hi) ? (lo, hi) : null;
    }

    /// <summary>
    /// 95% half-width of the predicted gain L(b) - L(a) of schedule a over schedule b: the delta method on
    /// the difference, g = dL(b)/dtheta - dL(a)/dtheta, so the parameter errors the two share cancel,
    /// plus the jackknife variance of the difference over the refits. The cross-validated law error
    /// is not added: it is measured on single runs, not on differences. Null without either. A law with a
    /// <see cref="Forecaster"/> (an <c>auto</c> stack, its seed ensemble too): <see cref="GainScale"/> times the forecast loss of
    /// <paramref name="a"/> (the reference), calibrated on observed gains (the delta method on the member designed through is
    /// 15-25 times wider than the gains it covers: docs/journal/session-23-probe-seeds.md); <paramref name="z"/> is then not
    /// read (the constant is the 95 % one). Whether the gain is resolved: <see cref="GainResolved"/>. Null where
    /// <see cref="BandWithheld"/> withholds the loss band.
    /// </summary>
    public double? GainHalfWidth(DesignProblem problem, ReadOnlySpan<double> a, ReadOnlySpan<double> b, double z = 1.959963984540054)
    {
        // Where the regime check withholds the loss band (a horizon past the fit's, runs still before the regime), the gain's
        // error is as unknown as the loss's: no half-width either (BandWithheld says why).
        if (BandWithheld(problem) is not null) return null;
        if (Forecaster is not null) return GainScale * Predict(problem, a).Loss;
        if (Seeds is not null) return EnsembleGainHalfWidth(problem, a, b, z);
        if (!DeltaTerm && Replicates.Length < 2) return null;
        double v = 0;
        if (DeltaTerm)
        {
            var ga = ParameterGradient(problem, a);
            var gb = ParameterGradient(problem, b);
            for (int i = 0; i < 7; i++) gb[i] -= ga[i];
            v = Quadratic(gb);
        }
        v += JackknifeVariance(problem, b, a.ToArray());
        return z * Math.Sqrt(Math.Max(0, v));
    }

    /// <summary>
    /// A seed ensemble's half-width of the gain L(b) - L(a), as its band is drawn (<see cref="SeedEnsemble.CombinePoint"/>) but
    /// on the difference: the groups' half-widths' root mean square plus the largest distance of a group's gain
    /// L_g(b) - L_g(a) from the ensemble's (what the seeds' fits disagree by). By analogy with the band; not measured on its
    /// own. Null where any group has none.
    /// </summary>
    private double? EnsembleGainHalfWidth(DesignProblem problem, ReadOnlySpan<double> a, ReadOnlySpan<double> b, double z)
    {
        var seeds = Seeds!;
        int g = seeds.Count;
        var la = new double[g];
        var lb = new double[g];
        double squares = 0;
        for (int k = 0; k < g; k++)
        {
            var p = GroupProblem(problem, k);
            if (seeds[k].GainHalfWidth(p, a, b, z) is not { } h) return null;
            squares += h * h;
            var f = p.Objective();
            la[k] = f.Value(a);
            lb[k] = f.Value(b);
        }
        double gain = SeedEnsemble.CombinePoint(lb, default, default, out _, out _) - SeedEnsemble.CombinePoint(la, default, default, out _, out _);
        double farthest = 0;
        for (int k = 0; k < g; k++) farthest = Math.Max(farthest, Math.Abs(lb[k] - la[k] - gain));
        return Math.Sqrt(squares / g) + farthest;
    }

    /// <summary>
    /// Whether a predicted gain is resolved by the fit: its 95 % half-width is known and smaller than the gain itself. An
    /// unresolved gain is reported without a +- (its band would hold both signs): "not resolved by the fit" (issue 10: no
    /// band that says nothing).
    /// </summary>
    public static bool GainResolved(double gain, double? halfWidth) => halfWidth is { } h && double.IsFinite(h) && Math.Abs(gain) > h;

    /// <summary>(R-1)/R * sum (x_i - mean)^2 of the refits' final loss (minus their final loss on <paramref name="minus"/> when given); 0 with fewer than two refits.</summary>
    private double JackknifeVariance(DesignProblem problem, ReadOnlySpan<double> rates, double[]? minus)
    {
        int r = Replicates.Length;
        if (r < 2) return 0;
        var x = new double[r];
        for (int i = 0; i < r; i++)
        {
            var f = (problem with { Law = MplParameters.FromVector(Replicates[i]) }).Objective();
            x[i] = f.Value(rates) - (minus is null ? 0 : f.Value(minus));
        }
        return PredictionBand.JackknifeVariance(x);
    }

    private double Quadratic(double[] g)
    {
        double v = 0;
        for (int a = 0; a < 7; a++) for (int b = 0; b < 7; b++) v += g[a] * Covariance![a][b] * g[b];
        return v;
    }

    /// <summary>dL(final)/dtheta, analytic (<see cref="MplFinalLoss.ParameterGradient"/>), in the order of <see cref="MplParameters.ToArray"/>.</summary>
    public double[] ParameterGradient(DesignProblem problem, ReadOnlySpan<double> postWarmup)
    {
        var g = new double[7];
        problem.Objective().ParameterGradient(postWarmup, g);
        return g;
    }
}
