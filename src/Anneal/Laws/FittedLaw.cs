using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anneal.Fitting;
using Anneal.Specs;

namespace Anneal.Laws;

/// <summary>How a fit went: objective, effort, convergence and warnings.</summary>
public sealed record FitReport
{
    /// <summary>Final objective: sum of weighted Huber(log obs - log pred).</summary>
    public double Objective { get; init; }
    /// <summary>Iterations of the best start.</summary>
    public int Iterations { get; init; }
    /// <summary>Iterations over all starts.</summary>
    public int TotalIterations { get; init; }
    /// <summary>Law evaluations over all starts.</summary>
    public int Evaluations { get; init; }
    /// <summary>Number of starting points tried.</summary>
    public int Starts { get; init; }
    /// <summary>Starts that converged.</summary>
    public int ConvergedStarts { get; init; }
    /// <summary>Whether the best start converged.</summary>
    public bool Converged { get; init; }
    /// <summary>Wall time of the whole fit in seconds.</summary>
    public double WallSeconds { get; init; }
    /// <summary>Logged points fitted.</summary>
    public int Points { get; init; }
    /// <summary>Names of the fitted runs.</summary>
    public string[] Runs { get; init; } = [];
    /// <summary>Root-mean-square residual of log loss at the optimum.</summary>
    public double RmsLogResidual { get; init; }
    /// <summary>Variance inflation (1+rho)/(1-rho) for lag-1 autocorrelated residuals, applied to the covariance.</summary>
    public double Inflation { get; init; } = 1;
    /// <summary>Huber threshold used.</summary>
    public double HuberDelta { get; init; }
    /// <summary>Whether runs were weighted equally.</summary>
    public bool EqualRunWeights { get; init; }
    /// <summary>Seed of the random starts.</summary>
    public int Seed { get; init; }
    /// <summary>How the objective was minimised.</summary>
    public Anneal.Fitting.FitMethod Method { get; init; }
    /// <summary>Parameters held fixed because the data cannot determine them.</summary>
    public string[] Fixed { get; init; } = [];
    /// <summary>Everything the user should know about this fit.</summary>
    public string[] Warnings { get; init; } = [];
}

/// <summary>
/// The band arithmetic of every law prediction, shared by <see cref="FittedLaw.Predict(LawRun, double)"/>
/// and schedule design so that both draw the same band.
/// </summary>
public static class PredictionBand
{
    /// <summary>
    /// Whether the delta-method term enters. It linearises around an optimum of the objective; an
    /// early-stopped fit (the reference procedure) is not at one, and its variability is that of the
    /// stopped path, which the leave-one-run-out refits and the cross-validated error measure
    /// directly, so the term is left out whenever refits exist.
    /// </summary>
    public static bool UsesDeltaMethod(Anneal.Fitting.FitMethod method, int replicates) =>
        method != Anneal.Fitting.FitMethod.EarlyStoppedAdamW || replicates == 0;

    /// <summary>Jackknife variance <c>(R-1)/R * sum (x_i - mean)^2</c> of the refits' values; 0 with fewer than two.</summary>
    public static double JackknifeVariance(ReadOnlySpan<double> x)
    {
        int r = x.Length;
        if (r < 2) return 0;
        double mean = 0;
        foreach (var v in x) mean += v;
        mean /= r;
        double ss = 0;
        foreach (var v in x) ss += (v - mean) * (v - mean);
        return double.IsFinite(ss) ? (r - 1.0) / r * ss : double.PositiveInfinity;
    }

    /// <summary>
    /// The band of a loss <paramref name="loss"/> with variance <paramref name="variance"/>: in log
    /// space, where the fit measures its residuals, <c>L * exp(+-z sd/L)</c>. The same as
    /// <c>L +- z sd</c> to first order, and a loss band never crosses zero.
    /// </summary>
    public static (double Low, double High) Interval(double loss, double variance, double z)
    {
        double rel = loss > 0 ? Math.Sqrt(Math.Max(0, variance)) / loss : double.PositiveInfinity;
        return (loss * Math.Exp(-z * rel), loss * Math.Exp(z * rel));
    }
}

/// <summary>
/// A prediction for one schedule: the curve, its band and the final loss. The loss is always finite
/// and positive; the band may be unavailable (<see cref="BandUnavailable"/> says why, and
/// <see cref="Low"/> and <see cref="High"/> are then NaN: never print or draw them).
/// </summary>
public sealed record LawPrediction(long[] Steps, double[] Loss, double[] Low, double[] High, double Level)
{
    public double FinalLoss => Loss[^1];
    public double FinalLow => Low[^1];
    public double FinalHigh => High[^1];

    /// <summary>Why there is no band (null when there is one).</summary>
    public string? BandUnavailable { get; init; }

    /// <summary>True when <see cref="Low"/> and <see cref="High"/> hold a band.</summary>
    public bool HasBand => BandUnavailable is null;
}

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
public sealed record FittedLaw(LossLaw Law, double[] Values, double[] StdErrors, double[][]? Covariance, FitReport Report)
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

    /// <summary>Value of a parameter by name.</summary>
    public double this[string name] => Values[Law.IndexOf(name) is var i and >= 0 ? i : throw new KeyNotFoundException(name)];

    /// <summary>Predicts the loss of <paramref name="run"/> at its steps, with a two-sided band at <paramref name="level"/>.</summary>
    public LawPrediction Predict(LawRun run, double level = 0.95)
    {
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
            string? unavailable = deltaTerm && cov is null
                ? string.Create(CultureInfo.InvariantCulture, $"no {level * 100:G4}% band: the fit's parameter covariance could not be computed (see the fit's warnings)") : null;
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
            return new LawPrediction(run.Steps, loss, lo, hi, level) { BandUnavailable = unavailable };
        }
        finally { state.Release(); }
    }

    /// <summary>
    /// The last step any fitted point reached (0: unknown, e.g. a law file written before it was recorded).
    /// A stack's band grows with the loss change its forecast claims beyond this step
    /// (<see cref="AutoLaw.ExtrapolationScale"/>).
    /// </summary>
    public long FittedHorizon { get; init; }

    /// <summary>
    /// The stack's forecast <c>L = sum_i w_i L_i</c> and its calibrated band (<see cref="AutoLaw"/>): relative variance
    /// <c>k^2 (own + sum_i w_i ((L_i - L)/L)^2) + (c D)^2</c> over the members of positive weight. <c>own</c> is the smallest
    /// <c>s_i^2</c> among those that carry the band (fitted to the optimum, see <see cref="CarriesBand"/>): the stack is taken
    /// as sure as its surest member, and no surer (a wide member, such as the convex bound's, enters through its
    /// disagreement, not its own spread; docs/laws.md, "Calibrated bands"), <c>s_i</c> a member's own
    /// relative standard error read back from its band (<c>ln(high_i / L_i) / z</c>, exact for the log-normal band);
    /// the sum is the members' disagreement; <c>D = |L(H) - L(t)| / L(t)</c> is the loss change the stack forecasts
    /// for this schedule between the fitted horizon H and step t (0 up to H). A stack left with one member (the
    /// others' fits failed, or the cross-validation kept one) cannot measure its disagreement: it is taken as large as the member's own variance, so
    /// that the fallback is not narrower than a stack would be.
    /// </summary>
    private LawPrediction PredictStack(AutoLaw stack, LawRun run, double level)
    {
        int nm = Members.Count, n = run.Count;
        // A member the cross-validation gave weight 0 is out of the forecast and of the band.
        var weighted = Enumerable.Range(0, nm).Where(m => stack.Members[m].Weight > 0).ToArray();
        var carriers = weighted.Where(m => CarriesBand(Members, m)).ToArray();
        if (carriers.Length == 0) carriers = weighted;
        var preds = new LawPrediction?[nm];
        var losses = new double[nm][];
        for (int m = 0; m < nm; m++)
        {
            if (!weighted.Contains(m)) { losses[m] = new double[n]; continue; }
            if (carriers.Contains(m)) { preds[m] = Members[m].Predict(run, level); losses[m] = preds[m]!.Loss; }
            else
            {
                // Only its forecast enters: no Jacobian or refits to evaluate.
                losses[m] = Members[m].Law.Predict(run, Members[m].Values);
                Members[m].CheckLoss(run, losses[m]);
            }
        }
        double z = NormalQuantile(0.5 + level / 2);
        var loss = new double[n]; var lo = new double[n]; var hi = new double[n];
        for (int i = 0; i < n; i++)
            for (int m = 0; m < nm; m++) loss[i] += stack.Members[m].Weight * losses[m][i];
        // The stack's loss at the fitted horizon on this schedule: beyond it the forecast extrapolates.
        long h = FittedHorizon;
        bool extrapolates = h > 0 && run.Steps.Length > 0 && run.Steps[^1] > h;
        double atHorizon = double.NaN;
        if (extrapolates)
        {
            var at = run with { Steps = [h], Observed = null };
            atHorizon = 0;
            foreach (int m in weighted) atHorizon += stack.Members[m].Weight * Members[m].Law.Predict(at, Members[m].Values)[0];
        }
        double k = AutoLaw.BandScale, c = AutoLaw.ExtrapolationScale;
        for (int i = 0; i < n; i++)
        {
            double mean = loss[i], own = double.PositiveInfinity, disagree = 0;
            foreach (int m in carriers)
            {
                double s = Math.Log(preds[m]!.High[i] / losses[m][i]) / z;
                own = Math.Min(own, s * s);
            }
            foreach (int m in weighted)
            {
                double d = (losses[m][i] - mean) / mean;
                disagree += stack.Members[m].Weight * d * d;
            }
            if (weighted.Length == 1) disagree = own;
            double gain = extrapolates && run.Steps[i] > h ? Math.Abs(atHorizon - mean) / mean : 0;
            double rel = Math.Sqrt(k * k * (own + disagree) + c * c * gain * gain);
            (lo[i], hi[i]) = (mean * Math.Exp(-z * rel), mean * Math.Exp(z * rel));
        }
        // A member without a band leaves the stack without one: its spread is unknown, not zero.
        var unavailable = carriers.Select(m => preds[m]!.BandUnavailable is { } why ? $"{why} (member {stack.Members[m].Law.Spec} of the auto stack)" : null).FirstOrDefault(w => w is not null)
            ?? (h > 0 ? null : string.Create(CultureInfo.InvariantCulture, $"no {level * 100:G4}% band: the auto law records no fitted_horizon (a law file written before it was; refit it), so how far this forecast extrapolates is unknown"))
            ?? (double.IsFinite(atHorizon) || !extrapolates ? null : string.Create(CultureInfo.InvariantCulture, $"no {level * 100:G4}% band: the stack's loss at the fitted horizon (step {h}) is not finite"))
            ?? BandCheck.Problem(run.Steps, lo, hi, level);
        if (unavailable is not null) { Array.Fill(lo, double.NaN); Array.Fill(hi, double.NaN); }
        return new LawPrediction(run.Steps, loss, lo, hi, level) { BandUnavailable = unavailable };
    }

    /// <summary>
    /// Whether member <paramref name="m"/> of a stack carries its band: members fitted to the optimum do; a member
    /// fitted by the early-stopped reference procedure (no refits in a stack, a delta method around a point that
    /// is no optimum) does only when no member is fitted to the optimum.
    /// </summary>
    internal static bool CarriesBand(IReadOnlyList<FittedLaw> members, int m) =>
        members[m].Report.Method != FitMethod.EarlyStoppedAdamW || members.All(x => x.Report.Method == FitMethod.EarlyStoppedAdamW);

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

    /// <summary>The JSON form written to <c>law.json</c>.</summary>
    public string ToJson()
    {
        var ps = new JsonArray();
        for (int i = 0; i < Values.Length; i++)
        {
            var p = Law.Parameters[i];
            ps.Add(new JsonObject
            {
                ["name"] = p.Name, ["value"] = Num(Values[i]), ["std_error"] = Num(StdErrors[i]), ["unit"] = p.Unit,
                ["lower"] = Bound(p.Lower), ["upper"] = Bound(p.Upper), ["fixed"] = Report.Fixed.Contains(p.Name),
            });
        }
        var r = Report;
        var o = new JsonObject
        {
            ["format"] = Format,
            ["law"] = Law.Spec,
            ["law_spec"] = Law.ToSpecCall().ToJson(),
            ["warmup_convention"] = Law is MultiPowerLaw m ? WarmupConventions.Name(m.Convention) : "post-warmup drops",
            ["parameters"] = ps,
            ["covariance"] = Covariance is null ? null : new JsonArray(Covariance.Select(row => (JsonNode)new JsonArray(row.Select(Num).ToArray())).ToArray()),
            ["cv_log_rmse"] = CrossValidationLogError,
            ["leave_one_run_out"] = new JsonArray(Replicates.Select(row => (JsonNode)new JsonArray(row.Select(Num).ToArray())).ToArray()),
            ["members"] = Law is AutoLaw st ? new JsonArray(Members.Select((m, i) => (JsonNode)new JsonObject
            {
                ["weight"] = st.Members[i].Weight,
                ["law"] = JsonNode.Parse(m.ToJson()),
            }).ToArray()) : null,
            ["chosen_because"] = Law is AutoLaw ? StackChoice ?? AutoLawReason : null,
            ["fitted_horizon"] = FittedHorizon > 0 ? FittedHorizon : null,
            ["fit"] = new JsonObject
            {
                ["objective"] = Num(r.Objective), ["iterations"] = r.Iterations, ["total_iterations"] = r.TotalIterations,
                ["evaluations"] = r.Evaluations, ["starts"] = r.Starts, ["converged_starts"] = r.ConvergedStarts,
                ["converged"] = r.Converged, ["wall_seconds"] = r.WallSeconds, ["points"] = r.Points,
                ["runs"] = new JsonArray(r.Runs.Select(x => (JsonNode?)x).ToArray()),
                ["rms_log_residual"] = Num(r.RmsLogResidual), ["inflation"] = Num(r.Inflation), ["huber_delta"] = r.HuberDelta,
                ["equal_run_weights"] = r.EqualRunWeights, ["seed"] = r.Seed,
                ["method"] = r.Method == Anneal.Fitting.FitMethod.EarlyStoppedAdamW ? "reference" : "optimum",
                ["fixed"] = new JsonArray(r.Fixed.Select(x => (JsonNode?)x).ToArray()),
                ["warnings"] = new JsonArray(r.Warnings.Select(x => (JsonNode?)x).ToArray()),
            },
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Why <c>auto</c> stacks what it stacks, recorded in every auto law file.</summary>
    public const string AutoLawReason = "fixed stacking weights (momentum(cap=fit) 0.35, mpl(warmup=reference) 0.35, convex 0.3: the prior of the cross-validated auto) chosen on the forecasting benchmark of docs/accuracy.md (pooled final-loss error, leave-one-corpus-out checked; docs/laws.md, \"auto in session 7\"); members whose fit failed are left out (see warnings)";

    private static JsonNode? Bound(double v) => double.IsFinite(v) ? JsonValue.Create(v) : JsonValue.Create(v > 0 ? "inf" : "-inf");

    /// <summary>A number, or null where it is unknown (JSON has no NaN or infinity).</summary>
    private static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    /// <summary>The format written by <see cref="ToJson"/> and the only one <see cref="FromJson"/> reads.</summary>
    public const string Format = "anneal-law/1";

    /// <summary>
    /// Reads <c>law.json</c>; <paramref name="where"/> names the file in error messages. The file is
    /// checked before anything is predicted from it: the format version, the law, every parameter
    /// (a finite number inside the law's range), the standard errors, the covariance (parameters x
    /// parameters, finite, symmetric, non-negative variances, correlations within [-1, 1]), the
    /// leave-one-run-out refits and the cross-validated error. Any violation is an
    /// <see cref="InputException"/> naming the file and the field.
    /// </summary>
    public static FittedLaw FromJson(string json, string where = "law.json")
    {
        JsonObject o;
        try { o = JsonNode.Parse(json) as JsonObject ?? throw new InputException($"{where}: expected a JSON object: the law file 'anneal fit' writes"); }
        catch (JsonException e) { throw new InputException($"{where}: not valid JSON ({e.Message}); write the law file with 'anneal fit'"); }
        InputException Bad(string what) => new($"{where}: {what}; write the law file with 'anneal fit'");
        var format = o["format"] is JsonValue fv && fv.TryGetValue<string>(out var fs) ? fs : null;
        if (format != Format)
            throw Bad(format is null ? $"no \"format\" field (expected \"{Format}\")" : $"\"format\" is \"{format}\", but this version of anneal reads \"{Format}\"");
        try
        {
            LossLaw law;
            string? named = o["law"] is JsonValue lv && lv.TryGetValue<string>(out var ls) ? ls : null;
            try
            {
                law = o["law_spec"] is JsonObject spec ? LawRegistry.Create(SpecCall.FromJson(spec.ToJsonString()))
                    : LossLaw.Parse(named ?? throw Bad("no \"law\" (e.g. \"mpl\")"));
                if (named is not null && LossLaw.Parse(named).Spec != law.Spec)
                    throw Bad($"\"law\" is {named} but \"law_spec\" describes {law.Spec}");
            }
            catch (SpecException e) { throw Bad(e.Message); }
            var members = new List<FittedLaw>();
            if (law is AutoLaw && o["members"] is JsonArray ms)
            {
                var weighted = new List<(LossLaw, double)>();
                for (int i = 0; i < ms.Count; i++)
                {
                    var m = ms[i] as JsonObject ?? throw new InputException($"{where}: members[{i}] is not an object");
                    var w = m["weight"]?.GetValue<double>() ?? throw new InputException($"{where}: members[{i}] has no weight");
                    // 0: a member the cross-validation left out of this fit (StackFitter.Alone); the total must stay positive.
                    if (!(w >= 0) || !double.IsFinite(w)) throw new InputException($"{where}: members[{i}].weight must be a finite number >= 0, got {w}");
                    var fit = FromJson(m["law"]?.ToJsonString() ?? throw new InputException($"{where}: members[{i}] has no law"), $"{where} members[{i}]");
                    members.Add(fit);
                    weighted.Add((fit.Law, w));
                }
                law = new AutoLaw(weighted, ((AutoLaw)law).CrossValidatedWeights);
            }
            var ps = o["parameters"] as JsonArray ?? throw Bad("no \"parameters\" array");
            int np = law.Parameters.Count;
            if (ps.Count != np) throw Bad($"{law.Spec} has {np} parameters ({string.Join(", ", law.Parameters.Select(q => q.Name))}), the file lists {ps.Count}");
            var values = new double[np]; var se = new double[np];
            var fixedNames = new List<string>();
            for (int i = 0; i < np; i++)
            {
                var par = law.Parameters[i];
                var p = ps[i] as JsonObject ?? throw Bad($"parameters[{i}] is not an object");
                var name = p["name"] is JsonValue nv && nv.TryGetValue<string>(out var nm) ? nm : null;
                if (name != par.Name) throw Bad($"parameters[{i}] is named '{name}', expected '{par.Name}'");
                string field = $"parameters[{i}] ({par.Name})";
                values[i] = FiniteNumber(p["value"], () => Bad($"{field}: value must be a finite number, got {Show(p["value"])}"));
                if (!(values[i] >= par.Lower && values[i] <= par.Upper))
                    throw Bad(string.Create(CultureInfo.InvariantCulture, $"{field} = {values[i]:G6} is outside its range [{par.Lower:G6}, {par.Upper:G6}] in {law.Spec}"));
                se[i] = p["std_error"] is null ? double.NaN
                    : FiniteNumber(p["std_error"], () => Bad($"{field}: std_error must be a finite number >= 0 or null, got {Show(p["std_error"])}"));
                if (se[i] < 0) throw Bad(string.Create(CultureInfo.InvariantCulture, $"{field}: std_error is {se[i]:G6}; a standard error is >= 0"));
                if (p["fixed"] is JsonValue xv && xv.TryGetValue<bool>(out var isFixed) && isFixed) fixedNames.Add(name!);
            }
            var cov = ReadCovariance(o, law, se, Bad);
            var f = o["fit"] as JsonObject;
            var report = f is null ? new FitReport { Fixed = fixedNames.ToArray() } : new FitReport
            {
                Objective = f["objective"]?.GetValue<double>() ?? double.NaN,
                Iterations = f["iterations"]?.GetValue<int>() ?? 0,
                TotalIterations = f["total_iterations"]?.GetValue<int>() ?? 0,
                Evaluations = f["evaluations"]?.GetValue<int>() ?? 0,
                Starts = f["starts"]?.GetValue<int>() ?? 0,
                ConvergedStarts = f["converged_starts"]?.GetValue<int>() ?? 0,
                Converged = f["converged"]?.GetValue<bool>() ?? false,
                WallSeconds = f["wall_seconds"]?.GetValue<double>() ?? 0,
                Points = f["points"]?.GetValue<int>() ?? 0,
                Runs = (f["runs"] as JsonArray)?.Select(x => x!.GetValue<string>()).ToArray() ?? [],
                RmsLogResidual = f["rms_log_residual"]?.GetValue<double>() ?? double.NaN,
                Inflation = f["inflation"]?.GetValue<double>() ?? 1,
                HuberDelta = f["huber_delta"]?.GetValue<double>() ?? 1e-3,
                EqualRunWeights = f["equal_run_weights"]?.GetValue<bool>() ?? false,
                Seed = f["seed"]?.GetValue<int>() ?? 0,
                Method = (f["method"]?.GetValue<string>() ?? "optimum") switch
                {
                    "optimum" => Anneal.Fitting.FitMethod.Optimum,
                    "reference" => Anneal.Fitting.FitMethod.EarlyStoppedAdamW,
                    var m => throw Bad($"fit.method must be optimum or reference, got '{m}'"),
                },
                Fixed = fixedNames.ToArray(),
                Warnings = (f["warnings"] as JsonArray)?.Select(x => x!.GetValue<string>()).ToArray() ?? [],
            };
            var reps = new List<double[]>();
            if (o["leave_one_run_out"] is { } rj)
            {
                if (rj is not JsonArray rows) throw Bad("leave_one_run_out must be an array of parameter vectors");
                for (int r = 0; r < rows.Count; r++)
                {
                    if (rows[r] is not JsonArray row || row.Count != np) throw Bad($"leave_one_run_out[{r}] must list {np} numbers");
                    var x = new double[np];
                    for (int j = 0; j < np; j++)
                    {
                        var par = law.Parameters[j];
                        x[j] = FiniteNumber(row[j], () => Bad($"leave_one_run_out[{r}][{j}] ({par.Name}) must be a finite number, got {Show(row[j])}"));
                        if (!(x[j] >= par.Lower && x[j] <= par.Upper))
                            throw Bad(string.Create(CultureInfo.InvariantCulture, $"leave_one_run_out[{r}][{j}] ({par.Name}) = {x[j]:G6} is outside its range [{par.Lower:G6}, {par.Upper:G6}]"));
                    }
                    reps.Add(x);
                }
            }
            double cvErr = o["cv_log_rmse"] is null ? 0 : FiniteNumber(o["cv_log_rmse"], () => Bad($"cv_log_rmse must be a finite number >= 0, got {Show(o["cv_log_rmse"])}"));
            if (!(cvErr >= 0)) throw Bad($"cv_log_rmse must be a finite number >= 0, got {Show(o["cv_log_rmse"])}");
            long horizon = o["fitted_horizon"] is null ? 0
                : o["fitted_horizon"] is JsonValue hv && hv.TryGetValue<long>(out var hz) && hz > 0 ? hz : throw Bad($"fitted_horizon must be a whole number of steps > 0, got {Show(o["fitted_horizon"])}");
            string? choice = law is AutoLaw && o["chosen_because"] is JsonValue cv && cv.TryGetValue<string>(out var cs) && cs != AutoLawReason ? cs : null;
            return new FittedLaw(law, values, se, cov, report) { Replicates = reps.ToArray(), CrossValidationLogError = cvErr, Members = members, FittedHorizon = horizon, StackChoice = choice };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InputException($"{where}: malformed law file ({e.Message}); write the law file with 'anneal fit'");
        }
    }

    /// <summary>
    /// The covariance of a law file: null when the file says so (<c>"covariance": null</c>, a fit whose
    /// covariance could not be computed); the standard errors squared on the diagonal when the field is
    /// absent (null if any is unknown); otherwise a checked parameters x parameters matrix.
    /// </summary>
    private static double[][]? ReadCovariance(JsonObject o, LossLaw law, double[] se, Func<string, InputException> bad)
    {
        int np = law.Parameters.Count;
        if (!o.ContainsKey("covariance"))
        {
            if (se.Any(double.IsNaN)) return null;
            return Enumerable.Range(0, np).Select(i => { var row = new double[np]; row[i] = se[i] * se[i]; return row; }).ToArray();
        }
        if (o["covariance"] is null) return null;
        if (o["covariance"] is not JsonArray cj || cj.Count != np || cj.Any(r => r is not JsonArray ra || ra.Count != np))
            throw bad($"covariance must be a {np} x {np} array (one row and column per parameter of {law.Spec}) or null");
        var cov = new double[np][];
        for (int i = 0; i < np; i++)
        {
            var row = (JsonArray)cj[i]!;
            cov[i] = new double[np];
            for (int j = 0; j < np; j++)
                cov[i][j] = FiniteNumber(row[j], () => bad($"covariance[{i}][{j}] must be a finite number, got {Show(row[j])}"));
        }
        for (int i = 0; i < np; i++)
        {
            string ni = law.Parameters[i].Name;
            if (cov[i][i] < 0) throw bad(string.Create(CultureInfo.InvariantCulture, $"covariance[{i}][{i}] (the variance of {ni}) is {cov[i][i]:G6}; a variance is >= 0"));
            for (int j = 0; j < i; j++)
            {
                string nj = law.Parameters[j].Name;
                double scale = Math.Sqrt(cov[i][i] * cov[j][j]);
                if (Math.Abs(cov[i][j] - cov[j][i]) > 1e-6 * Math.Max(scale, Math.Max(Math.Abs(cov[i][j]), Math.Abs(cov[j][i]))))
                    throw bad(string.Create(CultureInfo.InvariantCulture, $"covariance is not symmetric: [{i}][{j}] = {cov[i][j]:G6} but [{j}][{i}] = {cov[j][i]:G6} ({ni}, {nj})"));
                if (Math.Abs(cov[i][j]) > (1 + 1e-6) * scale)
                    throw bad(string.Create(CultureInfo.InvariantCulture, $"covariance[{i}][{j}] = {cov[i][j]:G6} implies a correlation of {ni} and {nj} outside [-1, 1] (their variances are {cov[i][i]:G6} and {cov[j][j]:G6})"));
            }
        }
        return cov;
    }

    /// <summary>A finite JSON number, or the exception <paramref name="fail"/> makes.</summary>
    private static double FiniteNumber(JsonNode? n, Func<InputException> fail) =>
        n is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d) ? d : throw fail();

    /// <summary>A JSON value as the user wrote it, shortened, for messages.</summary>
    private static string Show(JsonNode? n)
    {
        var t = n?.ToJsonString() ?? "null";
        return t.Length <= 40 ? t : t[..40] + "...";
    }

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
