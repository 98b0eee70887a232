using System.Globalization;
using System.Text.Json.Nodes;

namespace Anneal.Design;

/// <summary>
/// The seven parameters of the Multi-Power Law (Luo et al., "A Multi-Power Law for Loss Curve
/// Prediction Across Learning Rate Schedules", arXiv 2503.12811, ICLR 2025):
/// <code>
/// L(t)  = L0 + A * (S1(t) + S_W)^(-alpha) - LD(t)
/// LD(t) = B * sum_{k=1..t} (eta_{k-1} - eta_k) * G(eta_k^(-gamma) * S_k(t)),  G(x) = 1 - (C x + 1)^(-beta)
/// </code>
/// in the paper's convention: only post-warmup LR drops count (eta_0 = peak) and
/// S_W = 0.5 * peak * W for a linear warmup of W steps.
/// The design layer's own small record; a law fitted by the laws layer converts to it.
/// </summary>
public sealed record MplParameters(double L0, double A, double Alpha, double B, double C, double Beta, double Gamma)
{
    /// <summary>Published 25M parameters (paper convention; arXiv 2503.12811, reference code README).</summary>
    public static MplParameters Published25M { get; } = new(3.0405, 0.5247, 0.5079, 363.79, 2.0656, 0.5828, 0.6414);

    /// <summary>Published 100M parameters (paper convention).</summary>
    public static MplParameters Published100M { get; } = new(2.6514, 0.6012, 0.4530, 437.95, 2.1325, 0.5979, 0.6552);

    /// <summary>Published 400M parameters (paper convention).</summary>
    public static MplParameters Published400M { get; } = new(2.3747, 0.6542, 0.4288, 523.42, 2.0246, 0.5935, 0.6347);

    /// <summary>Built-in names accepted wherever a law file is expected.</summary>
    public static IReadOnlyDictionary<string, MplParameters> Builtins { get; } = new Dictionary<string, MplParameters>(StringComparer.OrdinalIgnoreCase)
    {
        ["mpl-25m"] = Published25M,
        ["mpl-100m"] = Published100M,
        ["mpl-400m"] = Published400M,
    };

    /// <summary>The parameters as [L0, A, alpha, B, C, beta, gamma] (the paper's order).</summary>
    public double[] ToArray() => [L0, A, Alpha, B, C, Beta, Gamma];

    /// <summary>Names in the order of <see cref="ToArray"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["L0", "A", "alpha", "B", "C", "beta", "gamma"];

    /// <summary>Throws <see cref="InputException"/> naming <paramref name="where"/> unless every parameter is finite and &gt; 0.</summary>
    public MplParameters Validate(string where)
    {
        var v = ToArray();
        for (int i = 0; i < v.Length; i++)
            if (!double.IsFinite(v[i]) || v[i] <= 0)
                throw new InputException($"{where}: MPL parameter {Names[i]} must be a finite number > 0, got {v[i].ToString("R", CultureInfo.InvariantCulture)}");
        return this;
    }

    /// <summary>JSON form <c>{"law":"mpl","convention":"paper","params":{"L0":..,...}}</c>.</summary>
    public JsonObject ToJson()
    {
        var p = new JsonObject();
        var v = ToArray();
        for (int i = 0; i < v.Length; i++) p[Names[i]] = v[i];
        return new JsonObject { ["law"] = "mpl", ["convention"] = "paper", ["params"] = p };
    }

    /// <summary>
    /// Reads a law JSON: this record's own form, or any object with an "mpl" law name and a
    /// "params"/"parameters" member holding the seven values (an object by name or an array in
    /// the paper's order). Bad input gets an <see cref="InputException"/> naming <paramref name="where"/>.
    /// </summary>
    public static MplParameters FromJson(string json, string where)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (System.Text.Json.JsonException e) { throw new InputException($"{where}: not valid JSON ({e.Message}); expected a law file such as {{\"law\":\"mpl\",\"params\":{{\"L0\":2.37,...}}}}"); }
        if (root is not JsonObject o) throw new InputException($"{where}: a law file must be a JSON object");
        var kind = (o["law"] ?? o["type"] ?? o["name"] ?? o["kind"])?.ToString();
        if (kind is not null && !kind.StartsWith("mpl", StringComparison.OrdinalIgnoreCase) && !kind.Contains("multi", StringComparison.OrdinalIgnoreCase))
            throw new InputException($"{where}: law '{kind}' is not the multi-power law; schedule design needs an MPL law (fit one with kind mpl, or use mpl-400m)");
        var p = o["params"] ?? o["parameters"] ?? o["values"];
        if (p is null) throw new InputException($"{where}: missing \"params\" (the seven MPL parameters L0, A, alpha, B, C, beta, gamma)");
        double[] v = new double[7];
        if (p is JsonArray named && named.Count > 0 && named[0] is JsonObject)
        {
            // The fitted-law format (anneal-law/1): [{"name": "L0", "value": ...}, ...].
            for (int i = 0; i < 7; i++)
            {
                var item = named.OfType<JsonObject>().FirstOrDefault(x => string.Equals(x["name"]?.ToString(), Names[i], StringComparison.Ordinal))
                    ?? throw new InputException($"{where}: \"parameters\" lacks an entry named \"{Names[i]}\"");
                v[i] = Num(item["value"], where, Names[i]);
            }
        }
        else if (p is JsonArray arr)
        {
            if (arr.Count != 7) throw new InputException($"{where}: \"params\" must list 7 numbers [L0, A, alpha, B, C, beta, gamma], got {arr.Count}");
            for (int i = 0; i < 7; i++) v[i] = Num(arr[i], where, Names[i]);
        }
        else if (p is JsonObject po)
        {
            for (int i = 0; i < 7; i++)
            {
                var node = po.FirstOrDefault(kv => string.Equals(kv.Key, Names[i], StringComparison.Ordinal)).Value
                           ?? po.FirstOrDefault(kv => string.Equals(kv.Key, Names[i], StringComparison.OrdinalIgnoreCase)).Value;
                if (node is null) throw new InputException($"{where}: \"params\" lacks \"{Names[i]}\"");
                v[i] = Num(node, where, Names[i]);
            }
        }
        else throw new InputException($"{where}: \"params\" must be an object or an array of 7 numbers");
        return new MplParameters(v[0], v[1], v[2], v[3], v[4], v[5], v[6]).Validate(where);
    }

    private static double Num(JsonNode? n, string where, string name)
    {
        if (n is JsonObject vo && vo["value"] is { } inner) n = inner;
        return n is JsonValue jv && jv.TryGetValue<double>(out var d) ? d : throw new InputException($"{where}: parameter {name} must be a number, got {n?.ToJsonString() ?? "null"}");
    }

    /// <summary>The parameters of a fitted multi-power law, in the laws layer's order (the same as <see cref="ToArray"/>).</summary>
    public static MplParameters FromVector(IReadOnlyList<double> v)
    {
        if (v.Count != 7) throw new ArgumentException($"the multi-power law has 7 parameters, got {v.Count}");
        return new MplParameters(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
    }

    /// <summary>
    /// Resolves a LAW argument with its covariance (null when the source has none) and warmup convention.
    /// A law file written by <c>anneal fit</c> (format anneal-law/1) is read by the laws layer's own
    /// reader, <see cref="Anneal.Laws.FittedLaw.FromJson"/>; hand-written files use <see cref="FromJson"/>.
    /// </summary>
    public static DesignLaw ResolveLaw(string law)
    {
        if (Builtins.TryGetValue(law, out var b)) return new DesignLaw(b, null, law + " (published parameters, paper convention)", "paper");
        if (!File.Exists(law))
            throw new InputException($"law '{law}': no such file and not a built-in name; use a law.json file or one of {string.Join(", ", Builtins.Keys)}");
        var json = File.ReadAllText(law);
        JsonObject? o = null;
        try { o = JsonNode.Parse(json) as JsonObject; }
        catch (System.Text.Json.JsonException) { }
        if (o is not null && (o["format"]?.ToString() == "anneal-law/1" || o["law_spec"] is JsonObject))
            return DesignLaw.FromFitted(Anneal.Laws.FittedLaw.FromJson(json, law), law);
        var p = FromJson(json, law);
        double[][]? cov = null;
        if (o?["covariance"] is JsonArray cj && cj.Count == 7)
        {
            cov = new double[7][];
            for (int i = 0; i < 7; i++)
            {
                if (cj[i] is not JsonArray row || row.Count != 7) throw new InputException($"{law}: \"covariance\" must be a 7 x 7 array");
                cov[i] = row.Select((x, j) => Num(x, law, $"covariance[{i}][{j}]")).ToArray();
            }
            if (cov.All(r => r.All(x => x == 0))) cov = null;
        }
        var convention = o?["warmup_convention"]?.ToString() ?? ((o?["law"]?.ToString() ?? "").Contains("reference", StringComparison.OrdinalIgnoreCase) ? "reference" : "paper");
        return new DesignLaw(p, cov, law, convention);
    }

    /// <summary>
    /// Resolves a LAW argument: a built-in name (<c>mpl-25m</c>, <c>mpl-100m</c>, <c>mpl-400m</c>:
    /// the published parameters) or a path to a law JSON file.
    /// </summary>
    public static MplParameters Resolve(string law)
    {
        if (Builtins.TryGetValue(law, out var b)) return b;
        if (!File.Exists(law))
            throw new InputException($"law '{law}': no such file and not a built-in name; use a law.json file or one of {string.Join(", ", Builtins.Keys)}");
        return FromJson(File.ReadAllText(law), law);
    }
}

/// <summary>
/// An MPL law as the design layer uses it: parameters, their covariance when the law was fitted
/// (for uncertainty bands), where it came from, and the warmup convention it was fitted in. A law
/// fitted by <c>anneal fit</c> also brings its leave-one-run-out refits and cross-validated error, so
/// design bands are the laws layer's bands (<see cref="Anneal.Laws.FittedLaw.Predict(Anneal.Laws.LawRun, double)"/>).
/// </summary>
public sealed record DesignLaw(MplParameters Parameters, double[][]? Covariance, string Source, string Convention)
{
    /// <summary>Leave-one-run-out refits of the law (empty for published values or a single run).</summary>
    public double[][] Replicates { get; init; } = [];

    /// <summary>The law's cross-validated log error (0 when unknown).</summary>
    public double CrossValidationLogError { get; init; }

    /// <summary>True for an early-stopped fit (the reference procedure): the delta method is left out when refits exist.</summary>
    public bool EarlyStopped { get; init; }

    private bool DeltaTerm => Covariance is not null && Anneal.Laws.PredictionBand.UsesDeltaMethod(EarlyStopped ? Anneal.Fitting.FitMethod.EarlyStoppedAdamW : Anneal.Fitting.FitMethod.Optimum, Replicates.Length);

    /// <summary>Why the law gives no band although it was fitted (its covariance could not be computed); null otherwise.</summary>
    public string? BandUnavailable { get; init; }

    /// <summary>True when the law carries any uncertainty to draw a band from.</summary>
    public bool HasBand => BandUnavailable is null && (DeltaTerm || Replicates.Length >= 2 || CrossValidationLogError > 0);

    /// <summary>
    /// A law fitted by the laws layer: its parameter vector, its covariance (null when all zero, e.g.
    /// published values), its refits and cross-validated error, and its warmup convention. Throws
    /// <see cref="InputException"/> naming <paramref name="source"/> unless it is a multi-power law
    /// with valid parameters.
    /// </summary>
    public static DesignLaw FromFitted(Anneal.Laws.FittedLaw fit, string source)
    {
        // An auto stack is designed through its multi-power member: the design layer's exact per-rate
        // gradients exist for the multi-power law only. The source says so, and every report shows it.
        if (fit.Law is Anneal.Laws.AutoLaw && fit.Members.FirstOrDefault(m => m.Law is Anneal.Laws.MultiPowerLaw) is { } member)
            return FromFitted(member, source + " (its multi-power member; the auto stack's forecast of the result: anneal predict)");
        if (fit.Law is not Anneal.Laws.MultiPowerLaw mpl)
            throw new InputException($"{source}: law '{fit.Law.Spec}' is not the multi-power law; schedule design needs an MPL law (fit one with kind mpl, or use mpl-400m)");
        var p = MplParameters.FromVector(fit.Values).Validate(source);
        var cov = fit.Covariance is { Length: 7 } c && c.Any(r => r.Any(x => x != 0)) ? c.Select(r => (double[])r.Clone()).ToArray() : null;
        return new DesignLaw(p, cov, source, mpl.Convention == Anneal.Laws.WarmupConvention.Reference ? "reference" : "paper")
        {
            Replicates = fit.Replicates.Where(r => r.Length == 7).Select(r => (double[])r.Clone()).ToArray(),
            CrossValidationLogError = fit.CrossValidationLogError,
            EarlyStopped = fit.Report.Method == Anneal.Fitting.FitMethod.EarlyStoppedAdamW,
            // As the laws layer decides: a band that needs the delta method needs the covariance.
            BandUnavailable = fit.Covariance is null && Anneal.Laws.PredictionBand.UsesDeltaMethod(fit.Report.Method, fit.Replicates.Length)
                ? "the fit's parameter covariance could not be computed (see the fit's warnings)" : null,
        };
    }

    /// <summary>
    /// Band of the predicted final loss, as the laws layer draws it: Var = g' Cov g (delta method,
    /// g = dL/dtheta analytic; left out for an early-stopped fit with refits) + the jackknife variance
    /// over <see cref="Replicates"/> + (L * <see cref="CrossValidationLogError"/>)^2, and the band
    /// L * exp(+-z sqrt(Var) / L). Null when the law carries no uncertainty or the band fails <see cref="Anneal.Laws.BandCheck"/>.
    /// </summary>
    public (double Low, double High)? Band(DesignProblem problem, ReadOnlySpan<double> postWarmup, double z = 1.959963984540054)
    {
        if (!HasBand) return null;
        var g = new double[7];
        double l = problem.Objective().ParameterGradient(postWarmup, g);
        double v = DeltaTerm ? Quadratic(g) : 0;
        v += JackknifeVariance(problem, postWarmup, null);
        v += CrossValidationLogError * CrossValidationLogError * l * l;
        var (lo, hi) = Anneal.Laws.PredictionBand.Interval(l, v, z);
        // Never an absurd band (not finite, or wider than BandCheck.MaxRatio): nothing is drawn instead.
        return Anneal.Laws.BandCheck.IsSane(lo, hi) ? (lo, hi) : null;
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
        return Anneal.Laws.PredictionBand.JackknifeVariance(x);
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
