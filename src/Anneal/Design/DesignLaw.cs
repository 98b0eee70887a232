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
        Regime?.BandWithheld(problem.Total - 1, level);

    /// <summary>True when the law carries any uncertainty to draw a band from.</summary>
    public bool HasBand => BandUnavailable is null && (DeltaTerm || Replicates.Length >= 2 || CrossValidationLogError > 0);

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
        // A seed ensemble (SeedEnsemble) is designed through its first seed group's fit: one parameter vector is what the
        // designer optimises; the source says so, and the ensemble's forecast of the result is anneal predict's.
        if (fit.Seeds is { } seeds)
            return FromFitted(seeds.Groups[0], source + $" (its first seed group's fit, {string.Join(", ", seeds.Groups[0].Report.Runs)}, of {seeds.Groups.Count}; the seed ensemble's forecast of the result: anneal predict)");
        // An auto stack is designed through its multi-power member: the design layer's exact per-rate
        // gradients exist for the multi-power law only. The source says so, and every report shows it.
        if (fit.Law is AutoLaw && fit.Members.FirstOrDefault(m => m.Law is MultiPowerLaw) is { } member)
            return FromFitted(member, source + " (its multi-power member; the auto stack's forecast of the result: anneal predict)");
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
    /// is not added: it is measured on single runs, not on differences. Null without either.
    /// </summary>
    public double? GainHalfWidth(DesignProblem problem, ReadOnlySpan<double> a, ReadOnlySpan<double> b, double z = 1.959963984540054)
    {
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
