using System.Globalization;
using Anneal.Accuracy;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// What a second seed of the schedules question's calibration runs buys, on every corpus: the question fitted on
/// (a) the protocol's two runs (the first seed's constant run to H and its cosine at H), (b) both seeds' pairs (the second
/// seed's constant run to H and its cosine of the same spec at H added: four runs, twice the compute), and (c) for the same
/// compute as (b), one seed with a second cosine at 2H (the first seed's constant run to H, its cosines at H and 2H; the
/// 2H cosine then leaves the held-out set). Each design's forecasts are scored as <see cref="ForecastBenchmark.Score"/>
/// scores <c>anneal accuracy</c>'s rows (mean and worst relative error, Spearman and regret per horizon, band coverage
/// and median half-width): on the protocol's held-out first-seed runs, on the same set less the 2H cosine (where (c)
/// exists, so the three designs are compared on one set), and on the second seed's runs that (b) does not fit.
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
        Console.WriteLine("| corpus | design | fitted runs | forecasts | mean err | worst | Spearman | regret | band covers | median half-width |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var corpus in BandCalibration.Corpora(repo))
        {
            var a = ForecastProtocol.Splits(corpus).FirstOrDefault(s => s.Question == "schedules");
            if (a is null) continue;
            int s1 = corpus.Runs.Min(r => r.Seed);
            // The protocol's fitted cosine: the first seed's shortest cosine, the one ending at the lowest rate among those.
            var cosines = corpus.Runs.Where(r => r.Seed == s1 && ForecastProtocol.Kind(r) == "cosine").ToArray();
            var cosine1 = cosines.Where(r => r.Horizon == cosines.Min(c => c.Horizon)).OrderBy(r => LawRun.FromCurve(r.Curve).Eta[^1]).First();
            long h = cosine1.Horizon;
            // The second seed's twins of the fitted pair: its longest constant run and its cosine of the fitted cosine's spec.
            var other = corpus.Runs.Where(r => r.Seed != s1).ToArray();
            var constant2 = other.Where(r => ForecastProtocol.Kind(r) == "constant").OrderByDescending(r => r.Horizon).FirstOrDefault();
            var cosine2 = other.FirstOrDefault(r => r.Schedule is not null && r.Schedule == cosine1.Schedule && ForecastProtocol.Nominal(r.Horizon) == ForecastProtocol.Nominal(h));
            // (c): the first seed's cosine of the same shape at 2H.
            var cosine2h = corpus.Runs.FirstOrDefault(r => r.Seed == s1 && ForecastProtocol.Kind(r) == "cosine"
                && ForecastProtocol.Nominal(r.Horizon) == ForecastProtocol.Nominal(2 * h) && SameShape(r, cosine1, h));
            var designs = new List<(string Name, IReadOnlyList<LawRun> Fit)> { ("a: one seed", a.Fit) };
            if (constant2 is not null && cosine2 is not null && constant2.Horizon >= h)
                designs.Add(("b: two seeds", [.. a.Fit, corpus.LawRunOf(constant2, endStep: h) with { Name = $"{constant2.Name}[:{h}]" }, corpus.LawRunOf(cosine2)]));
            if (cosine2h is not null)
                designs.Add(("c: one seed + cosine 2H", [.. a.Fit, corpus.LawRunOf(cosine2h)]));
            var common = cosine2h is null ? null : a.Tests.Where(t => t.Run.Name != LawRun.FromCurve(cosine2h.Curve, corpus.Target).Name).ToArray();
            var seed2Tests = designs.Count > 1 && designs[1].Name.StartsWith('b')
                ? other.Where(r => r != cosine2 && !(ForecastProtocol.Kind(r) == "constant" && ForecastProtocol.Nominal(r.Horizon) <= ForecastProtocol.Nominal(h)))
                    .Select(r => ForecastProtocol.Target(corpus, r)).ToArray()
                : [];
            foreach (var (name, fit) in designs)
            {
                string tag = name[..1];
                if (tag != "c")
                {
                    var row = ForecastBenchmark.Score(a with { Fit = fit }, law, level, null);
                    Add($"{tag} protocol targets", row);
                    Print(corpus.Name, name + ", protocol targets", fit, row);
                }
                if (common is not null)
                {
                    var row = ForecastBenchmark.Score(a with { Fit = fit, Tests = common }, law, level, null);
                    Add($"{tag} targets less cosine 2H", row);
                    Print(corpus.Name, name + ", less cosine 2H", fit, row);
                }
                if (seed2Tests.Length > 0 && tag != "c")
                {
                    var row = ForecastBenchmark.Score(a with { Fit = fit, Tests = seed2Tests }, law, level, null);
                    Add($"{tag} seed-2 targets", row);
                    Print(corpus.Name, name + ", seed-2 targets", fit, row);
                }
            }
        }
        Console.WriteLine();
        Console.WriteLine("| pooled | corpora | forecasts | mean err | worst | Spearman | regret | band covers | median half-width |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var (key, rows) in pooled.OrderBy(kv => kv.Key.Split(' ', 2)[1]).ThenBy(kv => kv.Key))
        {
            var p = new PooledAccuracy("auto", rows);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {key} | {rows.Count} | {p.Count} | {p.MeanError:P2} | {p.WorstError:P2} | {p.Spearman:0.00} | {p.Regret:P2} | {p.Covered}/{p.Count} ({p.WithBand} with a band) | {p.MedianHalfWidth:P2} |"));
        }
    }

    /// <summary>Whether <paramref name="r"/> is <paramref name="cosine"/>'s schedule stretched to its own horizon: the same final rate relative to the peak (both cosines to 0, or both to 10 %).</summary>
    private static bool SameShape(CorpusRun r, CorpusRun cosine, long h)
    {
        double Ratio(CorpusRun x) { var eta = LawRun.FromCurve(x.Curve).Eta; return eta[^1] / eta.Max(); }
        return Math.Abs(Ratio(r) - Ratio(cosine)) < 0.02;
    }

    private static void Print(string corpus, string design, IReadOnlyList<LawRun> fit, LawAccuracy row)
    {
        if (row.Failed) { Console.WriteLine($"| {corpus} | {design} | {fit.Count} | failed: {row.Error} |"); return; }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {corpus} | {design} | {fit.Count} | {row.Forecasts.Count} | {row.MeanError:P2} | {row.WorstError:P2} | {row.Spearman:0.00} | {row.Regret:P2} | {row.Covered}/{row.Forecasts.Count} ({row.WithBand}) | {row.MedianHalfWidth:P2} |"));
    }
}
