using System.Globalization;

namespace Anneal.Laws;

/// <summary>
/// A law with fitted parameter values, standard errors, covariance and the fit report; saved as
/// <c>law.json</c>. The warmup convention is part of the law spec (<c>mpl(warmup=reference)</c>).
/// Uncertainty: Var L(t) = g' Cov g (delta method, g = dL/dp analytic, Cov from the Gauss-Newton
/// matrix with the AR(1) inflation of <see cref="FitReport.Inflation"/>) plus the leave-one-run-out
/// jackknife variance of L(t) over <see cref="Replicates"/>, plus the law's cross-validated error
/// <c>(L(t) * CrossValidationLogError)^2</c>; the band is L * exp(+-z * sqrt(Var) / L) (log-normal:
/// the fit's residuals are on log loss, and a loss band stays positive), z the normal quantile of
/// <c>level</c>.
/// </summary>
/// <param name="Law">The law.</param>
/// <param name="Values">Fitted values, in the law's parameter order, in the fitted runs' LR unit.</param>
/// <param name="StdErrors">Standard errors (NaN where unknown).</param>
/// <param name="Covariance">Parameter covariance; null when it could not be computed (the fit's warnings say why).</param>
/// <param name="Report">How the fit went.</param>
public sealed partial record FittedLaw(LossLaw Law, double[] Values, double[] StdErrors, double[][]? Covariance, FitReport Report)
{
    /// <summary>
    /// Parameters refitted without each fitted run in turn (leave-one-run-out jackknife; empty for a
    /// single run). Their spread is the between-run part of the band.
    /// </summary>
    public double[][] Replicates { get; init; } = [];

    /// <summary>
    /// Cross-validated error of the law itself: the root mean square log residual of each
    /// leave-one-run-out refit on the run it left out, over the second half of that run's logged
    /// points (where a prediction extrapolates). It measures what the delta method and the jackknife
    /// cannot: that the law's form misses the real curve. Enters the band as a relative error; 0
    /// with fewer than two runs.
    /// </summary>
    public double CrossValidationLogError { get; init; }

    /// <summary>
    /// For an <see cref="AutoLaw"/> stack: each member's own fit, in the order of <see cref="AutoLaw.Members"/>
    /// (their values are also concatenated in <see cref="Values"/>). Empty for a single law.
    /// </summary>
    public IReadOnlyList<FittedLaw> Members { get; init; } = [];

    /// <summary>
    /// For an <see cref="AutoLaw"/> stack: what this fit chose and why (the members' weights and the fitted runs'
    /// cross-validated errors behind them, <see cref="Anneal.Fitting.StackFitter.ChooseWeights"/>); law.json's
    /// <c>chosen_because</c>. Null: the general reason, <see cref="AutoLawReason"/>.
    /// </summary>
    public string? StackChoice { get; init; }

    /// <summary>
    /// Whether the fitted runs end in the regime the laws describe (<see cref="Anneal.Fitting.RegimeCheck"/>; law.json's
    /// <c>regime_check</c>): when it fires, a forecast past the fitted horizon gets no band. Null: not checked (a stack's
    /// member, a law file written before session 17) or no constant-rate phase to check on.
    /// </summary>
    public Anneal.Fitting.RegimeCheck? Regime { get; init; }

    /// <summary>
    /// Where a longer log of a constant-rate run (<see cref="Anneal.Fitting.FitOptions.ConstantLog"/>) enters the laws' regime
    /// after the fitted horizon, when <see cref="Regime"/> fires (<see cref="Anneal.Fitting.RegimeOnset"/>): how long calibration
    /// runs must be. Null: no log, the check quiet, or the log cannot be judged there. Not kept in law.json except as the
    /// report's warning (<see cref="Anneal.Fitting.RegimeOnset.FitWarning"/>): the log is not part of the law.
    /// </summary>
    public Anneal.Fitting.RegimeOnset? Onset { get; init; }

    /// <summary>
    /// Where the fitted runs' training data starts to repeat (<see cref="Anneal.Fitting.EpochBoundary"/>; law.json's
    /// <c>epoch</c>): a forecast that trains past it when the fitted runs did not says so, and gets no band past
    /// <see cref="Anneal.Fitting.EpochBoundary.EpochsWithBand"/> epochs. Null: unknown.
    /// </summary>
    public Anneal.Fitting.EpochBoundary? Epoch { get; init; }

    /// <summary>
    /// Where the fitted runs held two or more seeds of the same schedules (<see cref="Anneal.Fitting.SeedGroups"/>): each seed
    /// group's fit, whose forecasts' mean is every forecast of this law (<see cref="SeedEnsemble"/>; law.json's
    /// <c>seed_ensemble</c>). The rest of this record is then the first group's fit. Null: one fit of every run.
    /// </summary>
    public SeedEnsemble? Seeds { get; init; }

    /// <summary>Why a forecast of <paramref name="run"/> gets no band whatever its numbers: the regime check, then the epoch boundary; null when neither withholds it.</summary>
    internal string? BandWithheld(LawRun run, double level) => Regime?.BandWithheld(run, level) ?? Epoch?.BandWithheld(run, level);

    /// <summary>Value of a parameter by name.</summary>
    public double this[string name] => Values[Law.IndexOf(name) is var i and >= 0 ? i : throw new KeyNotFoundException(name)];

    /// <summary>Predicts the loss of <paramref name="run"/> at its steps, with a two-sided band at <paramref name="level"/>.</summary>
    public LawPrediction Predict(LawRun run, double level = 0.95)
    {
        if (Seeds is { } seeds) return seeds.Predict(run, level);
        if (Law is AutoLaw stack && Members.Count == stack.Members.Count) return PredictStack(stack, run, level);
        // One prepared state (prefix sums, rate changes, logs of the rates) serves the fitted
        // parameters and every jackknife replicate; only the per-vector work is repeated.
        var state = Law.Prepare(run);
        try
        {
            int n = run.Count, p = Values.Length, rr = Replicates.Length >= 2 ? Replicates.Length : 0;
            var loss = new double[n];
            var jac = new double[n * p];
            var preds = rr > 0 ? new double[rr * n] : [];
            var reps = Replicates;
            if (rr > 0 && EvaluationParallelism.Allowed)
            {
                // The 1 + R evaluations side by side (the Jacobian one, the heaviest, first). A large
                // evaluation may still split itself: a core that has run out of evaluations then
                // helps with the last one instead of idling.
                Parallel.For(0, rr + 1, EvaluationParallelism.Options, k =>
                {
                    if (k == 0) state.Evaluate(Values, loss, jac);
                    else state.Evaluate(reps[k - 1], preds.AsSpan((k - 1) * n, n), default);
                });
            }
            else
            {
                state.Evaluate(Values, loss, jac);
                for (int k = 0; k < rr; k++) state.Evaluate(reps[k], preds.AsSpan(k * n, n), default);
            }
            double z = NormalQuantile(0.5 + level / 2);
            var lo = new double[n]; var hi = new double[n];
            double cv2 = CrossValidationLogError * CrossValidationLogError;
            // The delta method linearises around an optimum of the objective. An early-stopped fit
            // (the reference procedure) is not at one: its variability is that of the stopped path,
            // which the leave-one-run-out refits and the cross-validated error measure directly, so
            // the Gauss-Newton term is left out whenever they exist.
            bool deltaTerm = PredictionBand.UsesDeltaMethod(Report.Method, Replicates.Length);
            CheckLoss(run, loss);
            var cov = Covariance;
            string? unavailable = BandWithheld(run, level) ?? (deltaTerm && cov is null
                ? string.Create(CultureInfo.InvariantCulture, $"no {level * 100:G4}% band: the fit's parameter covariance could not be computed (see the fit's warnings)") : null);
            Span<double> atPoint = stackalloc double[Math.Max(1, rr)];
            for (int i = 0; i < n && unavailable is null; i++)
            {
                for (int k = 0; k < rr; k++) atPoint[k] = preds[k * n + i];
                double v = PredictionBand.JackknifeVariance(atPoint[..rr]) + cv2 * loss[i] * loss[i];
                for (int a = 0; a < (deltaTerm ? p : 0); a++)
                {
                    double ga = jac[i * p + a];
                    if (ga == 0) continue;
                    for (int b = 0; b < p; b++) v += ga * cov![a][b] * jac[i * p + b];
                }
                (lo[i], hi[i]) = PredictionBand.Interval(loss[i], v, z);
            }
            unavailable ??= BandCheck.Problem(run.Steps, lo, hi, level);
            if (unavailable is not null) { Array.Fill(lo, double.NaN); Array.Fill(hi, double.NaN); }
            return new LawPrediction(run.Steps, loss, lo, hi, level) { BandUnavailable = unavailable, Warning = Epoch?.ForecastWarning(run) };
        }
        finally { state.Release(); }
    }

    /// <summary>
    /// The loss of <see cref="Predict(LawRun, double)"/> without its band: what schedule design minimises when it designs
    /// through this law's own forecast (<c>Anneal.Design.StackFinalLoss</c>). A seed ensemble: every group's loss combined by
    /// <see cref="SeedEnsemble.CombinePoint"/> (<c>L = exp(mean_g ln L_g)</c>); an <see cref="AutoLaw"/> stack: the stack's own
    /// evaluation (<see cref="LossLaw.Predict(LawRun, IReadOnlyList{double})"/> of its concatenated <see cref="Values"/>:
    /// <c>sum_i w_i N(L_i)</c> with each member's gain scale and horizon match, the same combination its fit and its
    /// forecast read); any other law: its loss at <see cref="Values"/>. No Jacobian, refits or band are evaluated, so it costs
    /// one evaluation of each member (the band's path also evaluates the carriers' Jacobians and refits).
    /// </summary>
    public double[] ForecastLoss(LawRun run)
    {
        if (Seeds is not { } seeds) return Law.Predict(run, Values);
        var groups = seeds.Groups.Select(g => g.ForecastLoss(run)).ToArray();
        var loss = new double[run.Count];
        Span<double> at = stackalloc double[groups.Length];
        for (int i = 0; i < loss.Length; i++)
        {
            for (int k = 0; k < groups.Length; k++) at[k] = groups[k][i];
            loss[i] = SeedEnsemble.CombinePoint(at, default, default, out _, out _);
        }
        return loss;
    }

    /// <summary>
    /// The last step any fitted point reached, as an <c>auto</c> stack records it (<see cref="AutoLaw.FittedHorizon"/>, the
    /// one place it is kept: the stack's convex member tapers off far beyond it, <see cref="AutoLaw.ConvexTaper"/>); 0 for
    /// other laws and for a law file written before it was recorded.
    /// </summary>
    public long FittedHorizon => Law is AutoLaw stack ? stack.FittedHorizon : 0;

    /// <summary>
    /// A predicted loss that is not finite and positive is no forecast: an <see cref="InputException"/>
    /// says where and why instead of passing it on.
    /// </summary>
    internal void CheckLoss(LawRun run, double[] loss)
    {
        for (int i = 0; i < loss.Length; i++)
        {
            double v = loss[i];
            if (double.IsFinite(v) && v > 0) continue;
            string why = double.IsFinite(v)
                ? "its loss-drop term exceeds the rest of the law there, so the schedule lies outside what the fitted law describes (far more LR decay than the fitted runs had, or parameters that were not fitted to any run); fit on runs closer to this schedule"
                : "the law is undefined there (no learning-rate area up to that step: the rate is 0 from the start), so predict only steps after the rate becomes positive";
            throw new InputException(string.Create(CultureInfo.InvariantCulture, $"{Law.Spec} predicts a loss of {v:G4} at step {run.Steps[i]} of {run.Name}: {why}"));
        }
    }

    /// <summary>Predicts the loss of a schedule with per-step rates <paramref name="lrPerStep"/> at <paramref name="steps"/>.</summary>
    public LawPrediction Predict(double[] lrPerStep, long[] steps, double level = 0.95) =>
        Predict(LawRun.ForSchedule("prediction", lrPerStep, steps, "per-step array"), level);

    /// <summary>Standard normal quantile.</summary>
    public static double NormalQuantile(double q) => MathNet.Numerics.Distributions.Normal.InvCDF(0, 1, q);

    /// <summary>A fitted law from known parameter values (no covariance), e.g. published ones.</summary>
    public static FittedLaw FromValues(LossLaw law, params double[] values)
    {
        if (values.Length != law.Parameters.Count) throw new ArgumentException($"{law.Spec} needs {law.Parameters.Count} values");
        var cov = Enumerable.Range(0, values.Length).Select(_ => new double[values.Length]).ToArray();
        return new FittedLaw(law, values, new double[values.Length], cov, new FitReport());
    }

    /// <summary>Parameter table as text, with standard errors.</summary>
    public string Table()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"{"parameter",-10} {"value",14} {"std error",12}  unit");
        for (int i = 0; i < Values.Length; i++)
        {
            var p = Law.Parameters[i];
            bool fx = Report.Fixed.Contains(p.Name);
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{p.Name,-10} {Values[i],14:G6} {(fx ? "fixed" : double.IsFinite(StdErrors[i]) ? StdErrors[i].ToString("G3", CultureInfo.InvariantCulture) : "n/a"),12}  {p.Unit}"));
        }
        return sb.ToString();
    }
}
