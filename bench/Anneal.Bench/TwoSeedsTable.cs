using System.Globalization;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// What a second seed of the schedules question's calibration runs buys, on every corpus: the question fitted on
/// (a) the protocol's two runs (the first seed's constant run to H and its cosine at H), (b) both seeds' pairs (the second
/// seed's constant run to H and its cosine of the same spec at H added: four runs, twice the compute), (b') the same four runs
/// as two fits, one per seed's pair, their forecasts' geometric mean, and (c) for the same
/// compute as (b), one seed with a second cosine at 2H (the first seed's constant run to H, its cosines at H and 2H; the
/// 2H cosine then leaves the held-out set). Each design's forecasts are scored as <see cref="ForecastBenchmark.Score"/>
/// scores <c>anneal accuracy</c>'s rows (mean and worst relative error, Spearman and regret per horizon, band coverage
/// and median half-width): on the protocol's held-out first-seed runs, on the same set less the 2H cosine (where (c)
/// exists, so the three designs are compared on one set), and on the second seed's runs that (b) does not fit.
/// On (b) a seed term is measured (not used by the library): the bands widened by the seed spread the four runs show at H.
/// A corpus without a second seed of both fitted runs reports (a) only.
/// Run: <c>dotnet run -c Release --project bench/Anneal.Bench -- two-seeds [repo]</c> (docs/journal/session-20-two-seeds.md).
/// </summary>
internal static class TwoSeedsTable
{
    public static void Run(string repo)
    {
        var law = LossLaw.Parse("auto");
        const double level = 0.95;
        var pooled = new Dictionary<string, List<LawAccuracy>>();
        void Add(string key, LawAccuracy row) { if (!pooled.TryGetValue(key, out var l)) pooled[key] = l = []; if (!row.Failed) l.Add(row); }
        Console.WriteLine("| corpus | design | fitted runs | forecasts | mean err | mean signed | worst | Spearman | regret | band covers (with a band, regime-withheld) | median half-width | warnings |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var corpus in BandCalibration.Corpora(repo))
        {
            if (Pairs(corpus) is not var (a, s1, cosine1, h, other, constant2, cosine2)) continue;
            // (c): the first seed's cosine of the same shape at 2H.
            var cosine2h = corpus.Runs.FirstOrDefault(r => r.Seed == s1 && ForecastProtocol.Kind(r) == "cosine"
                && ForecastProtocol.Nominal(r.Horizon) == ForecastProtocol.Nominal(2 * h) && SameShape(r, cosine1, h));
            var designs = new List<(string Name, IReadOnlyList<LawRun> Fit)> { ("a: one seed", a.Fit) };
            IReadOnlyList<LawRun>? pair2 = null;
            if (constant2 is not null && cosine2 is not null && constant2.Horizon >= h)
            {
                pair2 = [corpus.LawRunOf(constant2, endStep: h) with { Name = $"{constant2.Name}[:{h}]" }, corpus.LawRunOf(cosine2)];
                designs.Add(("b: two seeds", [.. a.Fit, .. pair2]));
            }
            if (cosine2h is not null)
                designs.Add(("c: one seed + cosine 2H", [.. a.Fit, corpus.LawRunOf(cosine2h)]));
            var common = cosine2h is null ? null : a.Tests.Where(t => t.Run.Name != LawRun.FromCurve(cosine2h.Curve, corpus.Target).Name).ToArray();
            var seed2Tests = designs.Count > 1 && designs[1].Name.StartsWith('b')
                ? other.Where(r => r != cosine2 && !(ForecastProtocol.Kind(r) == "constant" && ForecastProtocol.Nominal(r.Horizon) <= ForecastProtocol.Nominal(h)))
                    .Select(r => ForecastProtocol.Target(corpus, r)).ToArray()
                : [];
            // The same schedules' seed mean: each second-seed target beside its first-seed twin (same spec and horizon), its observed
            // final the mean of the two seeds' finals (the first seed's window rescaled to it): what a schedule yields, not one seed's luck.
            var meanTests = seed2Tests.Select(t2 =>
            {
                var twin = corpus.Runs.FirstOrDefault(r => r.Seed == s1 && r.Schedule is not null && r.Schedule == other.First(o => LawRun.FromCurve(o.Curve, corpus.Target).Name == t2.Run.Name).Schedule
                    && ForecastProtocol.Nominal(r.Horizon) == t2.Horizon);
                if (twin is null) return null;
                var t1 = ForecastProtocol.Target(corpus, twin);
                double scale = (t1.ObservedFinal + t2.ObservedFinal) / 2 / t1.ObservedFinal;
                return t1 with { Run = t1.Run with { Observed = t1.Run.Observed!.Select(v => v * scale).ToArray() } };
            }).OfType<ForecastTarget>().ToArray();
            // The seed spread design (b) sees at fit time: sigma^2 = mean over the two fitted schedules of ln(L_s1 / L_s2)^2 / 2, the
            // finals of each pair at H (the constant runs' windows before H). A forecast of the two seeds' mean scored against one
            // seed's final carries sigma^2 (the target's seed) + sigma^2 / 2 (the fit's mean): the seed term measured below.
            double seedVar = double.NaN;
            if (designs.Count > 1 && designs[1].Name.StartsWith('b'))
            {
                var constant1 = corpus.Runs.Where(r => r.Seed == s1 && ForecastProtocol.Kind(r) == "constant").OrderByDescending(r => r.Horizon).First();
                double Gap(CorpusRun x, CorpusRun y) => Math.Log(ForecastProtocol.Target(corpus, x, h).ObservedFinal / ForecastProtocol.Target(corpus, y, h).ObservedFinal);
                double g1 = Gap(constant1, constant2!), g2 = Gap(cosine1, cosine2!);
                seedVar = (g1 * g1 + g2 * g2) / 4;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {corpus.Name} | seed gaps at H: constant {Math.Round(g1 * 100, 2):+0.00;-0.00;0.00} %, cosine {Math.Round(g2 * 100, 2):+0.00;-0.00;0.00} %, sigma {Math.Sqrt(seedVar) * 100:0.00} % |"));
            }
            foreach (var (name, fit) in designs)
            {
                string tag = name[..1];
                if (tag != "c")
                {
                    var row = ForecastBenchmark.Score(a with { Fit = fit }, law, level, Options(tag));
                    Add($"{tag} protocol targets", row);
                    if (tag == "a" && designs.Count > 1 && designs[1].Name.StartsWith('b')) Add("a protocol targets, corpora with (b)", row);
                    if (tag == "b" && double.IsFinite(seedVar)) Add("b+seed term protocol targets", WithSeedTerm(row, 1.5 * seedVar, level));
                    Print(corpus.Name, name + ", protocol targets", fit, row);
                }
                if (common is not null)
                {
                    var row = ForecastBenchmark.Score(a with { Fit = fit, Tests = common }, law, level, Options(tag));
                    Add($"{tag} targets less cosine 2H", row);
                    Print(corpus.Name, name + ", less cosine 2H", fit, row);
                }
                if (seed2Tests.Length > 0 && tag != "c")
                {
                    var row = ForecastBenchmark.Score(a with { Fit = fit, Tests = seed2Tests }, law, level, Options(tag));
                    Add($"{tag} seed-2 targets", row);
                    if (tag == "b" && double.IsFinite(seedVar)) Add("b+seed term seed-2 targets", WithSeedTerm(row, 1.5 * seedVar, level));
                    Print(corpus.Name, name + ", seed-2 targets", fit, row);
                }
                if (tag == "b")
                {
                    // (b'): the same four runs as two fits, one per seed's pair, their forecasts' geometric mean (each law
                    // fitted on one trajectory), the band the two fits' bands' root mean square half-width in log space.
                    foreach (var (what, tests) in new[] { ("protocol targets", (IReadOnlyList<ForecastTarget>)a.Tests), ("seed-2 targets", seed2Tests), ("seed-mean targets", meanTests) })
                    {
                        if (tests.Count == 0) continue;
                        var r1 = ForecastBenchmark.Score(a with { Tests = tests }, law, level, null);
                        var r2 = ForecastBenchmark.Score(a with { Fit = pair2!, Tests = tests }, law, level, null);
                        var row = MeanOfFits(r1, r2);
                        Add($"b' {what}", row);
                        Print(corpus.Name, $"b': two fits averaged, {what}", fit, row);
                    }
                }
                if (meanTests.Length > 0 && tag != "c")
                {
                    var row = ForecastBenchmark.Score(a with { Fit = fit, Tests = meanTests }, law, level, Options(tag));
                    Add($"{tag} seed-mean targets", row);
                    if (tag == "b" && double.IsFinite(seedVar)) Add("b+seed term seed-mean targets", WithSeedTerm(row, seedVar, level));
                    Print(corpus.Name, name + ", seed-mean targets", fit, row);
                }
            }
        }
        Console.WriteLine();
        Console.WriteLine("| pooled | corpora | forecasts | mean err | mean signed | worst | Spearman | regret | band covers | median half-width |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (key, rows) in pooled.OrderBy(kv => kv.Key.Split(' ', 2)[1]).ThenBy(kv => kv.Key))
        {
            var p = new PooledAccuracy("auto", rows);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {key} | {rows.Count} | {p.Count} | {p.MeanError:P2} | {Signed(p.Forecasts):+0.00 %;-0.00 %} | {p.WorstError:P2} | {p.Spearman:0.00} | {p.Regret:P2} | {p.Covered}/{p.Count} ({p.WithBand} with a band) | {p.MedianHalfWidth:P2} |"));
        }
    }

    /// <summary>
    /// The schedules question of <paramref name="corpus"/> and its fitted pair's second-seed twins: the protocol's split, the
    /// first seed, the fitted cosine (the first seed's shortest, the one ending at the lowest rate among those) and its horizon H,
    /// the other seeds' runs, and among them the longest constant run and the cosine of the fitted cosine's spec at H (null
    /// where missing); null without the question.
    /// </summary>
    internal static (ForecastSplit A, int S1, CorpusRun Cosine1, long H, CorpusRun[] Other, CorpusRun? Constant2, CorpusRun? Cosine2)? Pairs(ForecastCorpus corpus)
    {
        var a = ForecastProtocol.Splits(corpus).FirstOrDefault(s => s.Question == "schedules");
        if (a is null) return null;
        int s1 = corpus.Runs.Min(r => r.Seed);
        var cosines = corpus.Runs.Where(r => r.Seed == s1 && ForecastProtocol.Kind(r) == "cosine").ToArray();
        var cosine1 = cosines.Where(r => r.Horizon == cosines.Min(c => c.Horizon)).OrderBy(r => LawRun.FromCurve(r.Curve).Eta[^1]).First();
        long h = cosine1.Horizon;
        var other = corpus.Runs.Where(r => r.Seed != s1).ToArray();
        var constant2 = other.Where(r => ForecastProtocol.Kind(r) == "constant").OrderByDescending(r => r.Horizon).FirstOrDefault();
        var cosine2 = other.FirstOrDefault(r => r.Schedule is not null && r.Schedule == cosine1.Schedule && ForecastProtocol.Nominal(r.Horizon) == ForecastProtocol.Nominal(h));
        return (a, s1, cosine1, h, other, constant2, cosine2);
    }

    /// <summary>Design (b) is one joint fit of both seeds' pairs, as session 20 measured it: the seed ensemble (session 21) off.</summary>
    private static FitOptions? Options(string tag) => tag == "b" ? new FitOptions { SeedEnsemble = false } : null;

    /// <summary>Whether <paramref name="r"/> is <paramref name="cosine"/>'s schedule stretched to its own horizon: the same final rate relative to the peak (both cosines to 0, or both to 10 %).</summary>
    private static bool SameShape(CorpusRun r, CorpusRun cosine, long h)
    {
        double Ratio(CorpusRun x) { var eta = LawRun.FromCurve(x.Curve).Eta; return eta[^1] / eta.Max(); }
        return Math.Abs(Ratio(r) - Ratio(cosine)) < 0.02;
    }

    /// <summary>
    /// The row's bands widened by a seed term of log variance <paramref name="variance"/> added to the band's own:
    /// <c>w = sqrt(w0^2 + z^2 variance)</c> in log space, w0 = ln(High / Predicted) (measured here, not in <see cref="StackBand"/>).
    /// A forecast without a band stays without one.
    /// </summary>
    private static LawAccuracy WithSeedTerm(LawAccuracy row, double variance, double level)
    {
        double z = FittedLaw.NormalQuantile(0.5 + level / 2);
        return row with
        {
            Forecasts = row.Forecasts.Select(f =>
            {
                if (!f.HasBand) return f;
                double w0 = Math.Log(f.High / f.Predicted), w = Math.Sqrt(w0 * w0 + z * z * variance);
                return f with { Low = f.Predicted * Math.Exp(-w), High = f.Predicted * Math.Exp(w) };
            }).ToArray(),
        };
    }

    /// <summary>
    /// Two fits' forecasts of the same targets as one: the geometric mean of their forecasts, the band's log half-width the
    /// root mean square of theirs (no band when either has none); a failed fit fails the row.
    /// </summary>
    private static LawAccuracy MeanOfFits(LawAccuracy r1, LawAccuracy r2)
    {
        if (r1.Failed || r2.Failed) return r1.Failed ? r1 : r2;
        var forecasts = r1.Forecasts.Zip(r2.Forecasts, (f1, f2) =>
        {
            double p = Math.Sqrt(f1.Predicted * f2.Predicted);
            if (!f1.HasBand || !f2.HasBand) return f1 with { Predicted = p, Low = double.NaN, High = double.NaN };
            double w1 = Math.Log(f1.High / f1.Predicted), w2 = Math.Log(f2.High / f2.Predicted), w = Math.Sqrt((w1 * w1 + w2 * w2) / 2);
            return f1 with { Predicted = p, Low = p * Math.Exp(-w), High = p * Math.Exp(w), RegimeWithheld = f1.RegimeWithheld || f2.RegimeWithheld };
        }).ToArray();
        return r1 with { Forecasts = forecasts, Note = null };
    }

    /// <summary>The mean signed relative error (forecast - observed) / observed.</summary>
    private static double Signed(IEnumerable<TargetForecast> f) => f.Average(x => (x.Predicted - x.Observed) / x.Observed);

    private static void Print(string corpus, string design, IReadOnlyList<LawRun> fit, LawAccuracy row)
    {
        if (row.Failed) { Console.WriteLine($"| {corpus} | {design} | {fit.Count} | failed: {row.Error} |"); return; }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {corpus} | {design} | {fit.Count} | {row.Forecasts.Count} | {row.MeanError:P2} | {Signed(row.Forecasts):+0.00 %;-0.00 %} | {row.WorstError:P2} | {row.Spearman:0.00} | {row.Regret:P2} | {row.Covered}/{row.Forecasts.Count} ({row.WithBand}, {row.RegimeWithheld}) | {row.MedianHalfWidth:P2} | {row.Note} |"));
    }
}
