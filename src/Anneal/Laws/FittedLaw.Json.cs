using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anneal.Specs;

namespace Anneal.Laws;

// The law file, anneal-law/1: its writer (ToJson) and its checked reader (FromJson).
public sealed partial record FittedLaw
{
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
            ["reference_ramp"] = Law is AutoLaw ramp ? ramp.RampsReference : null,
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
        if (Law is AutoLaw)
        {
            // The stack band's fit-time evidence (StackBand); null: unknown or not measured.
            o["band_end_misfit"] = double.IsFinite(EndMisfit) ? EndMisfit : null;
            o["band_future_error"] = double.IsFinite(FutureError) ? FutureError : null;
            // Since session 18; absent where unknown, so that a file written before reads back as the same text.
            if (double.IsFinite(BandNoise)) o["band_noise"] = BandNoise;
        }
        // The regime check (RegimeCheck), where the fit made one: its numbers, and whether it fired (read back from the numbers).
        if (Regime is { } g)
            o["regime_check"] = new JsonObject
            {
                ["from_step"] = g.FromStep, ["before_step"] = g.BeforeStep, ["to_step"] = g.ToStep, ["slope_before"] = g.SlopeBefore,
                ["slope_end"] = g.SlopeEnd, ["standard_error"] = g.StandardError, ["horizon"] = g.Horizon, ["fires"] = g.Fires,
            };
        // Where the training data starts to repeat (EpochBoundary), where the fit knew it.
        if (Epoch is { } ep)
            o["epoch"] = new JsonObject { ["steps_per_epoch"] = ep.StepsPerEpoch, ["horizon"] = ep.Horizon, ["source"] = ep.Source };
        // Each member's gain scale (AutoLaw.GainScales), only where a fit scaled one: a file without them reads, and writes, as before.
        if (Law is AutoLaw { GainScales.Count: > 0 } scaled) o["gain_scales"] = new JsonArray(scaled.GainScales.Select(k => (JsonNode?)k).ToArray());
        // The constant part's exponent past the fitted horizon (AutoLaw.HorizonMatchExponent), only where a fit set one.
        if (Law is AutoLaw { HorizonMatchExponent: > 0 } matched) o["horizon_match"] = matched.HorizonMatchExponent;
        // The convex member left out past the fitted horizon (AutoLaw.LeavesConvexPastHorizon), only where a fit set it.
        if (Law is AutoLaw { LeavesConvexPastHorizon: true }) o["leaves_convex_past_horizon"] = true;
        // A seed ensemble (SeedEnsemble): each seed group's own law file, in order; the fields above are the first group's.
        // Absent for one fit, so a file without it reads, and writes, as before.
        if (Seeds is { } seeds)
            o["seed_ensemble"] = new JsonObject
            {
                ["combine"] = SeedEnsembleRule,
                ["groups"] = new JsonArray(seeds.Groups.Select(g => (JsonNode?)JsonNode.Parse(g.ToJson())).ToArray()),
            };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>How a seed ensemble's forecast is made from its groups', recorded in its law file (<see cref="SeedEnsemble"/>).</summary>
    public const string SeedEnsembleRule = "every forecast is the geometric mean of the groups' forecasts (each group one seed's runs fitted apart); its band is that mean times exp(+-(root mean square of the groups' log half-widths + the largest group's log distance from the mean)); the law, parameters and fields above are the first group's (docs/journal/session-21-seeds.md)";

    /// <summary>Why <c>auto</c> stacks what it stacks, recorded in every auto law file.</summary>
    public const string AutoLawReason = "fixed stacking weights (momentum(cap=fit) 0.35, mpl(warmup=reference, drops=continuous) 0.35, convex 0.3: the prior of the cross-validated auto) chosen on the forecasting benchmark of docs/accuracy.md (pooled final-loss error, leave-one-corpus-out checked; docs/journal/session-07-auto-convex-member.md); members whose fit failed are left out (see warnings)";

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
            // The stack band's fit-time evidence (StackBand); absent: unknown (no band) and not measured (no such term).
            double Evidence(string key) => o[key] is null ? double.NaN
                : FiniteNumber(o[key], () => Bad($"{key} must be a finite number >= 0 or null, got {Show(o[key])}")) is var x && x >= 0 ? x : throw Bad($"{key} must be a finite number >= 0 or null, got {Show(o[key])}");
            double endMisfit = Evidence("band_end_misfit"), futureError = Evidence("band_future_error"), bandNoise = Evidence("band_noise");
            string? choice = law is AutoLaw && o["chosen_because"] is JsonValue cv && cv.TryGetValue<string>(out var cs) && cs != AutoLawReason ? cs : null;
            // The stack tapers its convex member's weight past a multiple of the fitted horizon (AutoLaw.ConvexTaper), and may
            // ramp its reference member's (AutoLaw.ReferenceRamp; absent in files written before it: no ramp).
            bool ramps = o["reference_ramp"] is null ? false
                : o["reference_ramp"] is JsonValue rv && rv.TryGetValue<bool>(out var rb) ? rb : throw Bad($"reference_ramp must be true or false, got {Show(o["reference_ramp"])}");
            // Past the fitted horizon the convex member's weight may go to the others (AutoLaw.LeavesConvexPastHorizon); absent: not.
            bool leaves = o["leaves_convex_past_horizon"] is null ? false
                : o["leaves_convex_past_horizon"] is JsonValue leavesValue && leavesValue.TryGetValue<bool>(out var lb) ? lb : throw Bad($"leaves_convex_past_horizon must be true or false, got {Show(o["leaves_convex_past_horizon"])}");
            // Each member's gain scale (AutoLaw.GainScales, GainScale); absent in files written before it, and where every scale is 1.
            double[] gainScales = [];
            if (o["gain_scales"] is { } gs)
            {
                int memberCount = law is AutoLaw st ? st.Members.Count : 0;
                if (gs is not JsonArray ga || ga.Count != memberCount) throw Bad($"gain_scales must list one number >= 0 per member of the auto stack ({memberCount}), got {Show(gs)}");
                gainScales = ga.Select((x, i) => FiniteNumber(x, () => Bad($"gain_scales[{i}] must be a finite number >= 0, got {Show(x)}")) is var k && k >= 0 ? k
                    : throw Bad($"gain_scales[{i}] must be a finite number >= 0, got {Show(x)}")).ToArray();
            }
            // The constant part's exponent past the fitted horizon (AutoLaw.HorizonMatchExponent, HorizonMatch); absent: none.
            double matchExponent = o["horizon_match"] is null ? 0
                : FiniteNumber(o["horizon_match"], () => Bad($"horizon_match must be a finite number > 0, got {Show(o["horizon_match"])}")) is var a && a > 0 ? a
                : throw Bad($"horizon_match must be a finite number > 0, got {Show(o["horizon_match"])}");
            if (matchExponent > 0 && law is not AutoLaw) throw Bad("horizon_match belongs to an auto law only");
            if (law is AutoLaw stack) law = stack with { FittedHorizon = horizon, RampsReference = ramps, LeavesConvexPastHorizon = leaves, GainScales = gainScales, HorizonMatchExponent = matchExponent };
            var regime = ReadRegime(o["regime_check"], Bad);
            var epoch = ReadEpoch(o["epoch"], Bad);
            var seeds = ReadSeeds(o["seed_ensemble"], where, Bad);
            return new FittedLaw(law, values, se, cov, report) { Replicates = reps.ToArray(), CrossValidationLogError = cvErr, Members = members, StackChoice = choice, EndMisfit = endMisfit, FutureError = futureError, BandNoise = bandNoise, Regime = regime, Epoch = epoch, Seeds = seeds };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InputException($"{where}: malformed law file ({e.Message}); write the law file with 'anneal fit'");
        }
    }

    /// <summary>
    /// The regime check of a law file (<see cref="Anneal.Fitting.RegimeCheck"/>): null when absent (a file written before
    /// session 17, or a fit without a constant-rate phase to check); otherwise its steps (whole numbers, in order) and
    /// finite slopes and standard error. Whether it fires is recomputed from them, not read.
    /// </summary>
    private static Anneal.Fitting.RegimeCheck? ReadRegime(JsonNode? node, Func<string, InputException> bad)
    {
        if (node is null) return null;
        if (node is not JsonObject g) throw bad($"regime_check must be an object (from_step, before_step, to_step, slope_before, slope_end, standard_error, horizon) or absent, got {Show(node)}");
        long Step(string key) => g[key] is JsonValue v && v.TryGetValue<long>(out var x) && x >= 0 ? x : throw bad($"regime_check.{key} must be a whole number of steps >= 0, got {Show(g[key])}");
        double Number(string key) => FiniteNumber(g[key], () => bad($"regime_check.{key} must be a finite number, got {Show(g[key])}"));
        long from = Step("from_step"), before = Step("before_step"), to = Step("to_step"), horizon = Step("horizon");
        if (!(from <= before && before < to && to <= horizon)) throw bad($"regime_check's steps must satisfy from_step <= before_step < to_step <= horizon, got {from}, {before}, {to}, {horizon}");
        double se = Number("standard_error");
        if (se < 0) throw bad($"regime_check.standard_error must be >= 0, got {Show(g["standard_error"])}");
        return new Anneal.Fitting.RegimeCheck(from, before, to, Number("slope_before"), Number("slope_end"), se, horizon);
    }

    /// <summary>
    /// A seed ensemble's groups, as a law file records them (<see cref="SeedEnsemble"/>): null when absent (one fit, or a file
    /// written before session 21); otherwise two or more law files of one law, each read and checked as a whole law file.
    /// </summary>
    private static SeedEnsemble? ReadSeeds(JsonNode? node, string where, Func<string, InputException> bad)
    {
        if (node is null) return null;
        if (node is not JsonObject e || e["groups"] is not JsonArray gs || gs.Count < 2)
            throw bad($"seed_ensemble must be an object whose \"groups\" lists two or more law files (one per seed group) or absent, got {Show(node)}");
        var groups = gs.Select((g, i) => g is JsonObject ? FromJson(g.ToJsonString(), $"{where} seed_ensemble.groups[{i}]")
            : throw bad($"seed_ensemble.groups[{i}] must be a law file (an object), got {Show(g)}")).ToArray();
        if (groups.FirstOrDefault(g => g.Seeds is not null || g.Law.Name != groups[0].Law.Name) is { } odd)
            throw bad($"seed_ensemble.groups must be single fits of one law ({groups[0].Law.Name}); group {Array.IndexOf(groups, odd) + 1} is {(odd.Seeds is not null ? "itself an ensemble" : odd.Law.Name)}");
        return new SeedEnsemble(groups);
    }

    /// <summary>
    /// Where the training data starts to repeat, as a law file records it (<see cref="Anneal.Fitting.EpochBoundary"/>): null
    /// when absent (unknown to the fit, or a file written before session 18); otherwise steps_per_epoch >= 1, the fitted
    /// horizon >= 0 and the source text.
    /// </summary>
    private static Anneal.Fitting.EpochBoundary? ReadEpoch(JsonNode? node, Func<string, InputException> bad)
    {
        if (node is null) return null;
        if (node is not JsonObject g) throw bad($"epoch must be an object (steps_per_epoch, horizon, source) or absent, got {Show(node)}");
        long Step(string key, long min) => g[key] is JsonValue v && v.TryGetValue<long>(out var x) && x >= min ? x : throw bad($"epoch.{key} must be a whole number of steps >= {min}, got {Show(g[key])}");
        string source = g["source"] is JsonValue sv && sv.TryGetValue<string>(out var s) ? s : throw bad($"epoch.source must be a string, got {Show(g["source"])}");
        return new Anneal.Fitting.EpochBoundary(Step("steps_per_epoch", 1), Step("horizon", 0), source);
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
}
