using System.Globalization;
using Anneal.Evaluation;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// Where the published multi-power-law split's error comes from (docs/journal/session-11-published-split.md).
/// Run: <c>dotnet run -c Release --project bench/Anneal.Bench -- published-diagnosis [repo] [laws] [sizes]</c>.
/// Per size and law: the fit (as the published split fits it, without band refits), then per held-out curve its R^2 and
/// PredE and the mean signed relative error (prediction - observation) / observation over step windows, so that the
/// early part, the constant middle, the in-horizon cooldowns and the long horizons are told apart; and the same for the
/// fitted curves (in sample). The last line per law is the mean over the six held-out curves, the published table's
/// number.
/// </summary>
internal static class PublishedDiagnosis
{
    private static readonly long[] Edges = [0, 4000, 8000, 10000, 16000, 20000, 24001, 48000, 72001];

    public static void Run(string repo, string laws, string sizes)
    {
        var bench = MplBenchmark.FromFolder(System.IO.Path.Combine(repo, "data/examples/mpl"));
        foreach (var size in sizes.Split(','))
        {
            var fitRuns = bench.Runs(size, bench.FitSplit);
            var tests = bench.Runs(size, bench.TestSplit);
            var pub = bench.PublishedMetrics(size);
            Console.WriteLine(F($"== {size} (published table: R^2 {pub?[0]:0.0000}, PredE {pub?[3]:0.00000})"));
            Console.WriteLine("   window edges (steps): " + string.Join(" ", Edges));
            var curves = new List<(string Spec, double[][] Pred)>();
            foreach (var law in laws.Split(';').SelectMany(Parse))
            {
                // PUBLISHED_DIAGNOSIS_ALL=1: fitted on all nine curves (an oracle: can the law's form describe them at once?).
                var on = Environment.GetEnvironmentVariable("PUBLISHED_DIAGNOSIS_ALL") == "1" ? [.. fitRuns, .. tests] : fitRuns;
                var fit = LawFitter.Fit(law, on, Options());
                Console.WriteLine(F($"-- {law.Spec} (objective {fit.Report.Objective:G6}): ") + string.Join(", ", fit.Law.Parameters.Select((p, i) => F($"{p.Name} {fit.Values[i]:G5}")))
                    + (fit.StackChoice is { } c ? "\n   choice: " + c : ""));
                foreach (var r in fitRuns) Row("fit  " + r.Name, r, fit.Law.Predict(r, fit.Values));
                double r2 = 0, pe = 0;
                foreach (var t in tests)
                {
                    var pred = fit.Law.Predict(t, fit.Values);
                    var m = LawMetrics.Compute([(t.Observed!, pred)]);
                    r2 += m.R2 / tests.Length; pe += m.PredE / tests.Length;
                    Row("test " + t.Name, t, pred);
                }
                Console.WriteLine(F($"   mean of held-out curves: R^2 {r2:0.00000}, PredE {pe:0.000000}"));
                curves.Add((law.Spec, tests.Select(t => fit.Law.Predict(t, fit.Values)).ToArray()));
            }
            if (curves.Count >= 2) Blends(curves, tests);
        }
    }

    /// <summary>
    /// Per size and law: the law's error on the fitted runs' own future (refitted on their past as <c>auto</c> cuts them,
    /// <see cref="StackFitter.FutureCut"/>: mean |ln(forecast / observed)| at the tails' last points, and over the tails'
    /// whole points) beside its held-out mean R^2 / PredE, so that a choice among laws made by that future can be read off.
    /// Run: <c>dotnet run -c Release --project bench/Anneal.Bench -- published-cv [repo] [laws] [sizes]</c>.
    /// </summary>
    public static void CrossValidation(string repo, string laws, string sizes)
    {
        var bench = MplBenchmark.FromFolder(System.IO.Path.Combine(repo, "data/examples/mpl"));
        foreach (var size in sizes.Split(','))
        {
            var fitRuns = bench.Runs(size, bench.FitSplit);
            var tests = bench.Runs(size, bench.TestSplit);
            var (heads, tails, cut) = StackFitter.FutureCut(fitRuns);
            Console.WriteLine(F($"== {size}: past up to step {cut}; tails {string.Join(", ", tails.Select(t => t.Name))}"));
            foreach (var law in laws.Split(';').SelectMany(Parse))
            {
                string cvEnd = "failed", cvAll = "";
                try
                {
                    var past = LawFitter.Fit(law, heads, Options());
                    double e = 0, a = 0; int na = 0;
                    foreach (var t in tails)
                    {
                        var pred = past.Law.Predict(t, past.Values);
                        e += Math.Abs(Math.Log(pred[^1] / t.Observed![^1])) / tails.Count;
                        for (int i = 0; i < t.Count; i++) { a += Math.Abs(Math.Log(pred[i] / t.Observed![i])); na++; }
                    }
                    cvEnd = F($"{100 * e:0.000} %"); cvAll = F($", whole tails {100 * a / na:0.000} %");
                }
                catch (InputException ex) { cvEnd = "failed: " + ex.Message; }
                var fit = LawFitter.Fit(law, fitRuns, Options());
                double r2 = 0, pe = 0;
                foreach (var t in tests)
                {
                    var m = LawMetrics.Compute([(t.Observed!, fit.Law.Predict(t, fit.Values))]);
                    r2 += m.R2 / tests.Length; pe += m.PredE / tests.Length;
                }
                Console.WriteLine(F($"   {law.Spec,-40} future: last points {cvEnd}{cvAll}; held-out R^2 {r2:0.00000}, PredE {pe:0.000000}; ")
                    + string.Join(", ", fit.Law.Parameters.Select((p, i) => F($"{p.Name} {fit.Values[i]:G4}"))));
            }
        }
    }

    // Every weighting of the laws on a 0.1 simplex grid (a stack's curve is the weighted sum of its members'): the mean
    // over held-out curves of R^2 and PredE, best R^2 first.
    private static void Blends(List<(string Spec, double[][] Pred)> curves, LawRun[] tests)
    {
        int k = curves.Count;
        var rows = new List<(double[] W, double R2, double PredE)>();
        void Rec(int i, int left, int[] w)
        {
            if (i == k - 1) { w[i] = left; Score(w.Select(x => x / 10.0).ToArray()); return; }
            for (int a = 0; a <= left; a++) { w[i] = a; Rec(i + 1, left - a, w); }
        }
        void Score(double[] w)
        {
            double r2 = 0, pe = 0;
            for (int t = 0; t < tests.Length; t++)
            {
                var p = new double[tests[t].Count];
                for (int j = 0; j < k; j++) for (int i = 0; i < p.Length; i++) p[i] += w[j] * curves[j].Pred[t][i];
                var m = LawMetrics.Compute([(tests[t].Observed!, p)]);
                r2 += m.R2 / tests.Length; pe += m.PredE / tests.Length;
            }
            rows.Add((w, r2, pe));
        }
        Rec(0, 10, new int[k]);
        Console.WriteLine("   blends of " + string.Join(" / ", curves.Select(c => c.Spec)) + " (weights: mean R^2, PredE), best 8 by R^2 and by PredE:");
        foreach (var r in rows.OrderByDescending(r => r.R2).Take(8).Concat(rows.OrderBy(r => r.PredE).Take(8)))
            Console.WriteLine(F($"     {string.Join("/", r.W.Select(x => x.ToString("0.0", CultureInfo.InvariantCulture)))}: {r.R2:0.00000}, {r.PredE:0.000000}"));
    }

    // Fit options from the environment, to compare fitting choices: PUBLISHED_DIAGNOSIS_DELTA (Huber delta),
    // PUBLISHED_DIAGNOSIS_METHOD (optimum or reference), PUBLISHED_DIAGNOSIS_EQUAL=1 (equal run weights),
    // PUBLISHED_DIAGNOSIS_KEEPBEST=1 (as auto fits its members).
    private static FitOptions Options()
    {
        string? E(string n) => Environment.GetEnvironmentVariable("PUBLISHED_DIAGNOSIS_" + n);
        var o = new FitOptions { Jackknife = false, EqualRunWeights = E("EQUAL") == "1", KeepBestEvaluated = E("KEEPBEST") == "1" };
        if (E("DELTA") is { } d) o = o with { HuberDelta = double.Parse(d, CultureInfo.InvariantCulture) };
        if (E("METHOD") is { } m) o = o with { Method = m == "optimum" ? FitMethod.Optimum : FitMethod.EarlyStoppedAdamW };
        return o;
    }

    // "bmpl:1.0" (paper convention) or "bmplr:1.0" (reference): the multi-power law with beta >= 1.0; "gmpl:0.2" /
    // "gmplr:0.2": with gamma held at 0.2, fitted by the law's own method; else law specs.
    private static IEnumerable<LossLaw> Parse(string spec)
    {
        double V() => double.Parse(spec[(spec.IndexOf(':') + 1)..], CultureInfo.InvariantCulture);
        var conv = spec.StartsWith("bmplr") || spec.StartsWith("gmplr") ? WarmupConvention.Reference : WarmupConvention.Paper;
        if (spec.StartsWith("prior:"))
        {
            // "prior:SIGMA:SCALE:i=mode/i=mode:LAW": LAW with weak log-normal priors (LawPrior) on parameters i, fitted to the optimum.
            var f = spec.Split(':', 5);
            double sg = double.Parse(f[1], CultureInfo.InvariantCulture), sc = double.Parse(f[2], CultureInfo.InvariantCulture);
            var ps = f[3].Split('/').Select(kv => new LawPrior(int.Parse(kv.Split('=')[0]), double.Parse(kv.Split('=')[1], CultureInfo.InvariantCulture), sg, sc)).ToArray();
            return Parse(f[4]).Select(l => (LossLaw)new PriorLaw(l, ps, spec));
        }
        if (spec.StartsWith("cap:")) return Parse(spec[4..]).Select(l => (LossLaw)new CappedDrop(l));
        return spec.StartsWith("bmpl") ? [new BoundedMpl(V(), conv)] : spec.StartsWith("gmpl") ? [new GammaHeldMpl(V(), conv)]
            : spec == "fmpl" ? [new FittedPowerMpl()] : spec.StartsWith("fmplg:") ? [new FittedPowerMpl(V())]
            : spec.StartsWith("fmplg1:") ? [new FittedPowerMpl(V(), 1)]
            : spec.StartsWith("amplg:") ? [new GammaHeldMpl(double.Parse(spec.Split(':')[2], CultureInfo.InvariantCulture), WarmupConvention.Paper, double.Parse(spec.Split(':')[1], CultureInfo.InvariantCulture))]
            : LawRegistry.ParseList(spec);
    }

    // "fmpl": mpl(area=P) with the power P fitted (an eighth parameter, starts 0.7 and 1), paper convention, to the optimum:
    // does the fit identify P? (It does not: docs/journal/session-12-published-split.md, "1. Fitting the power P (identifiable?)".) The progress sum is MultiPowerLaw's, plus its derivative in P.
    // "fmplg:G": the same with gamma held at G (realisation in LR area at G = 0): does P become identifiable then?
    // "fmplg1:G": and P <= 1.
    private sealed record FittedPowerMpl(double HeldGamma = double.NaN, double MaxPower = 1.5) : LossLaw
    {
        private static readonly MultiPowerLaw Inner = new();
        public override string Name => (double.IsNaN(HeldGamma) ? "mpl-area^P" : F($"mpl-area^P-gamma={HeldGamma}")) + (MaxPower != 1.5 ? F($"-P<={MaxPower}") : "");
        public override string Summary => "mpl with a fitted power of the LR in its power-law term";
        public override Anneal.Specs.SpecCall ToSpecCall() => new(Name, []);
        public override IReadOnlyList<LawParameter> Parameters { get; } = [.. Inner.Parameters, new LawParameter("P", 0.05, MaxPower, "1", "power of the LR in the progress term")];
        public override IReadOnlyList<HeldParameter> NonIdentifiable(IReadOnlyList<LawState> runs)
        {
            var held = Inner.NonIdentifiable(runs.Select(r => ((State)r).Inner).ToArray());
            return double.IsNaN(HeldGamma) || held.Any(h => h.Index == 6) ? held : [.. held, Held(6, HeldGamma, "held by the diagnosis")];
        }
        public override IEnumerable<double[]> Starts(StartHint hint, IReadOnlyList<LawState> runs) =>
            Inner.Starts(hint, runs.Select(r => ((State)r).Inner).ToArray()).SelectMany(x => new[] { 0.7, Math.Min(1.0, 0.99 * MaxPower) }.Select(p0 => (double[])[.. x, p0]));
        public override LawState Prepare(LawRun run) => new State(run, Inner.Prepare(run));

        private sealed class State(LawRun run, LawState inner) : LawState(run)
        {
            public LawState Inner { get; } = inner;

            public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jacobian)
            {
                int n = Run.Count;
                var jac7 = jacobian.IsEmpty ? [] : new double[7 * n];
                Inner.Evaluate(p[..7], loss, jac7);
                double a = p[1], alpha = p[2], power = p[7], peak = Run.Eta.Max(), s = 0, sp = 0, dsp = 0;
                int i = 0;
                for (long t = 0; t <= Run.Steps[^1]; t++)
                {
                    double e = Run.Eta[t];
                    s += e;
                    if (e > 0) { double r = Math.Log(e / peak), v = peak * Math.Exp(power * r); sp += v; dsp += v * r; }
                    if (t != Run.Steps[i]) continue;
                    double lnS = Math.Log(s), lnSp = Math.Log(sp), pw = Math.Exp(-alpha * lnS), pwp = Math.Exp(-alpha * lnSp);
                    loss[i] += a * (pwp - pw);
                    if (!jacobian.IsEmpty)
                    {
                        for (int j = 0; j < 7; j++) jacobian[8 * i + j] = jac7[7 * i + j];
                        jacobian[8 * i + 1] += pwp - pw;
                        jacobian[8 * i + 2] += -a * (pwp * lnSp - pw * lnS);
                        jacobian[8 * i + 7] = -a * alpha * pwp / sp * dsp;
                    }
                    i++;
                }
            }
        }
    }

    private sealed record PriorLaw(LossLaw Inner, LawPrior[] Ps, string Tag) : LossLaw
    {
        public override string Name => Tag;
        public override string Summary => "a law with priors";
        public override Anneal.Specs.SpecCall ToSpecCall() => new(Name, []);
        public override IReadOnlyList<LawParameter> Parameters => Inner.Parameters;
        public override FitMethod PreferredMethod => FitMethod.Optimum;
        public override LawState Prepare(LawRun run) => Inner.Prepare(run);
        public override IReadOnlyList<HeldParameter> NonIdentifiable(IReadOnlyList<LawState> runs) => Inner.NonIdentifiable(runs);
        internal override IReadOnlyList<LawPrior> Priors(IReadOnlyList<LawState> runs)
        {
            var held = NonIdentifiable(runs).Select(h => h.Index).ToHashSet();
            return [.. Inner.Priors(runs), .. Ps.Where(q => !held.Contains(q.Index))];
        }
        public override IEnumerable<double[]> Starts(StartHint hint, IReadOnlyList<LawState> runs) => Inner.Starts(hint, runs);
    }

    // "cap:LAW": an mpl law whose loss drop saturates, LD' = LD D / (D + LD), D fitted (the last parameter).
    private sealed record CappedDrop(LossLaw Inner) : LossLaw
    {
        public override string Name => "cap:" + Inner.Spec;
        public override string Summary => "mpl with a saturating loss drop";
        public override Anneal.Specs.SpecCall ToSpecCall() => new(Name, []);
        public override IReadOnlyList<LawParameter> Parameters => [.. Inner.Parameters, new LawParameter("D", 0, double.PositiveInfinity, "loss", "cap of the loss drop")];
        public override FitMethod PreferredMethod => Inner.PreferredMethod;
        public override LawState Prepare(LawRun run) => new State(run, Inner.Prepare(run), Inner.Parameters.Count);
        public override IReadOnlyList<HeldParameter> NonIdentifiable(IReadOnlyList<LawState> runs)
        {
            var h = Inner.NonIdentifiable(runs.Select(r => ((State)r).Inner).ToArray());
            return h.Any(x => x.Index == 3) ? [.. h, Held(Inner.Parameters.Count, 1, "no drop")] : h;
        }
        public override IEnumerable<double[]> Starts(StartHint hint, IReadOnlyList<LawState> runs) =>
            Inner.Starts(hint, runs.Select(r => ((State)r).Inner).ToArray()).SelectMany(x => new[] { 0.3, 1.0 }.Select(d => (double[])[.. x, d]));

        private sealed class State(LawRun run, LawState inner, int m) : LawState(run)
        {
            public LawState Inner { get; } = inner;
            public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jacobian)
            {
                int n = Run.Count;
                double d = p[m];
                var q = p[..m].ToArray();
                var full = new double[n];
                var jf = jacobian.IsEmpty ? [] : new double[m * n];
                Inner.Evaluate(q, full, jf);
                q[1] = 0;
                var l0only = new double[n];
                Inner.Evaluate(q, l0only, []);
                for (int i = 0; i < n; i++)
                {
                    double ld = q[0] - l0only[i], f = ld * d / (d + ld), g = d * d / ((d + ld) * (d + ld));
                    loss[i] = full[i] + ld - f;
                    if (jacobian.IsEmpty) continue;
                    for (int j = 0; j < m; j++) jacobian[(m + 1) * i + j] = j is 0 or 1 or 2 || (j == 7) ? jf[m * i + j] : g * jf[m * i + j];
                    jacobian[(m + 1) * i + m] = -ld * ld / ((d + ld) * (d + ld));
                }
            }
        }
    }

    // "amplg:P:G": mpl(area=P) with gamma held at G.
    private sealed record GammaHeldMpl(double Gamma, WarmupConvention Convention, double Area = 1) : LossLaw
    {
        private MultiPowerLaw Inner => new(Convention, Area);
        public override string Name => F($"mpl-gamma={Gamma}{(Convention == WarmupConvention.Reference ? "-ref" : "")}{(Area != 1 ? F($"-area={Area}") : "")}");
        public override string Summary => "mpl with gamma held";
        public override Anneal.Specs.SpecCall ToSpecCall() => new(Name, []);
        public override IReadOnlyList<LawParameter> Parameters => Inner.Parameters;
        public override FitMethod PreferredMethod => Inner.PreferredMethod;
        public override LawState Prepare(LawRun run) => Inner.Prepare(run);
        public override IReadOnlyList<HeldParameter> NonIdentifiable(IReadOnlyList<LawState> runs) =>
            [.. Inner.NonIdentifiable(runs).Where(h => h.Index != 6), Held(6, Gamma, "held by the diagnosis")];
        public override IEnumerable<double[]> Starts(StartHint hint, IReadOnlyList<LawState> runs) => Inner.Starts(hint, runs);
    }

    private sealed record BoundedMpl(double BetaMin, WarmupConvention Convention) : LossLaw
    {
        private MultiPowerLaw Inner => new(Convention);
        public override string Name => F($"mpl-beta>={BetaMin}{(Convention == WarmupConvention.Reference ? "-ref" : "")}");
        public override string Summary => "mpl with a lower bound on beta";
        public override Anneal.Specs.SpecCall ToSpecCall() => new(Name, []);
        public override IReadOnlyList<LawParameter> Parameters => Inner.Parameters.Select((p, i) => i == 5 ? p with { Lower = BetaMin } : p).ToArray();
        public override FitMethod PreferredMethod => FitMethod.Optimum;
        public override LawState Prepare(LawRun run) => Inner.Prepare(run);
        public override IReadOnlyList<HeldParameter> NonIdentifiable(IReadOnlyList<LawState> runs) => Inner.NonIdentifiable(runs);
        public override IEnumerable<double[]> Starts(StartHint hint, IReadOnlyList<LawState> runs)
        {
            foreach (var s in Inner.Starts(hint, runs))
                foreach (var (c, b) in new[] { (1.0, 0.0), (0.1, 1.0), (0.03, 1.5) })
                {
                    var x = (double[])s.Clone();
                    x[4] *= c; x[5] = Math.Max(x[5], BetaMin) + b;
                    yield return x;
                }
        }
    }

    /// <summary>
    /// The reference procedure's path (mpl(warmup=reference), early-stopped AdamW from the reference initialisation): the
    /// fit after k steps (no patience stop) and its held-out mean R^2 / PredE, to show how much the split's metrics move
    /// along the path near where the procedure stops.
    /// </summary>
    public static void ReferencePath(string repo, string sizes)
    {
        var bench = MplBenchmark.FromFolder(System.IO.Path.Combine(repo, "data/examples/mpl"));
        var law = new MultiPowerLaw(WarmupConvention.Reference);
        foreach (var size in sizes.Split(','))
        {
            var fitRuns = bench.Runs(size, bench.FitSplit);
            var tests = bench.Runs(size, bench.TestSplit);
            var options = new FitOptions { Jackknife = false };
            var reference = LawFitter.Fit(law, fitRuns, options);
            Console.WriteLine(F($"== {size}: the reference procedure stops after {reference.Report.Iterations} steps, objective {reference.Report.Objective:G6}"));
            var hint = PreFit.Fit(fitRuns, options);
            var states = fitRuns.Select(law.Prepare).ToArray();
            var objective = new HuberObjective(law, states, options);
            var x0 = law.Starts(hint, states).First();
            foreach (int k in (int[])[50, 60, 65, 70, 75, 80, 90, 100, -1, -2, -3])
            {
                // k = -1: the reference's point, then L0, A, alpha to the optimum with B, C, beta, gamma held at it;
                // -2: the kept best-evaluated point, likewise; -3: all seven polished to the optimum from the reference's point.
                var sol = k > 0 ? objective.AdamW(x0, new HashSet<int>(), k, patience: int.MaxValue)
                    : k == -3 ? objective.Minimize(reference.Values, new HashSet<int>(), 300)
                    : objective.Minimize(k == -1 ? reference.Values : LawFitter.Fit(law, fitRuns, options with { KeepBestEvaluated = true }).Values, new HashSet<int> { 3, 4, 5, 6 }, 300);
                double r2 = 0, pe = 0;
                foreach (var t in tests)
                {
                    var m = LawMetrics.Compute([(t.Observed!, law.Predict(t, sol.X))]);
                    r2 += m.R2 / tests.Length; pe += m.PredE / tests.Length;
                }
                Console.WriteLine(F($"   {k,4} steps: objective {sol.Objective:G6}; held-out R^2 {r2:0.00000}, PredE {pe:0.000000}; ") + string.Join(", ", sol.X.Select(v => v.ToString("G5", CultureInfo.InvariantCulture))));
            }
        }
    }

    private static void Row(string name, LawRun run, double[] pred)
    {
        var m = LawMetrics.Compute([(run.Observed!, pred)]);
        var cells = new List<string>();
        for (int w = 0; w + 1 < Edges.Length; w++)
        {
            double s = 0; int n = 0;
            for (int i = 0; i < run.Count; i++)
                if (run.Steps[i] >= Edges[w] && run.Steps[i] < Edges[w + 1]) { s += (pred[i] - run.Observed![i]) / run.Observed![i]; n++; }
            cells.Add(n == 0 ? "      ." : F($"{100 * s / n,6:+0.00;-0.00}%"));
        }
        Console.WriteLine(F($"   {name,-24} R^2 {m.R2:0.0000} PredE {m.PredE:0.00000} final {100 * (pred[^1] - run.Observed![^1]) / run.Observed![^1],6:+0.00;-0.00}% | ") + string.Join(" ", cells));
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
