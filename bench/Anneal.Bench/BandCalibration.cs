using System.Globalization;
using System.Text.Json.Nodes;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// How the <c>auto</c> band's constants (<see cref="AutoLaw.BandScale"/>, <see cref="AutoLaw.ExtrapolationScale"/>)
/// were calibrated, and how well they hold on a corpus left out of the calibration (docs/laws.md, "Calibrated bands").
/// Run: <c>dotnet run -c Release --project bench/Anneal.Bench -- band-calibration [repo] [rows.csv]</c> (rows.csv: every
/// forecast's inputs to the band, for offline checks; gpt100m-rope joins when
/// ../shared exists). Every split of <c>anneal accuracy</c>'s protocol is fitted once with <c>auto</c>; each held-out
/// final gives its log error e = ln(observed / predicted), the stack's own and disagreement variance and the loss
/// change D it forecasts beyond the fitted horizon. Two rules are printed: the one in use (<c>Narrowest</c>: the
/// (k, c) of the narrowest median band that covers at least 95 % of the forecasts) and the earlier one (k the 95th
/// percentile of |e| / (z sqrt(own + disagreement)) over the forecasts with D below 1 %, c that of |e| / (z D) over
/// the others, each corpus question weighted equally), each with its leave-one-corpus-out coverage.
/// </summary>
internal static class BandCalibration
{
    private sealed record Row(string Corpus, string Question, double Observed, double Predicted, double Own, double Disagree, double D, bool Single)
    {
        public double E => Math.Log(Observed / Predicted);
    }

    private const double Level = 0.95, Quantile = 0.95, Extrapolated = 0.01;

    public static void Run(string repo, string? rowsCsv = null)
    {
        var corpora = Corpora(repo);

        double z = FittedLaw.NormalQuantile(0.5 + Level / 2);
        var rows = new List<Row>();
        foreach (var corpus in corpora)
            foreach (var split in ForecastProtocol.Splits(corpus))
            {
                var fit = LawFitter.Fit(new AutoLaw(), split.Fit);
                var stack = (AutoLaw)fit.Law;
                // As FittedLaw.PredictStack: members of positive weight; own = the smallest own variance among those fitted to the optimum.
                var weighted = Enumerable.Range(0, fit.Members.Count).Where(m => stack.Members[m].Weight > 0).ToArray();
                var carriers = weighted.Where(m => fit.Members[m].Report.Method != FitMethod.EarlyStoppedAdamW).ToArray();
                if (carriers.Length == 0) carriers = weighted;
                foreach (var t in split.Tests)
                {
                    var preds = fit.Members.Select(m => m.Predict(t.Run, Level)).ToArray();
                    double Mean(double[] v) => v.Average();
                    var losses = preds.Select(p => Mean(p.Loss)).ToArray();
                    double pred = stack.Members.Select((m, i) => m.Weight * losses[i]).Sum();
                    double own = carriers.Min(m => Math.Pow(Math.Log(Mean(preds[m].High) / losses[m]) / z, 2));
                    // The disagreement of every fitted member, equally weighted (also those of weight 0).
                    double dis = losses.Length == 1 ? own : losses.Select(l => Math.Pow((l - pred) / pred, 2)).Average();
                    double gain = 0;
                    if (t.Run.Steps[^1] > fit.FittedHorizon)
                    {
                        var at = t.Run with { Steps = [fit.FittedHorizon], Observed = null };
                        double atH = fit.Members.Select((m, i) => stack.Members[i].Weight * m.Law.Predict(at, m.Values)[0]).Sum();
                        gain = Math.Abs(atH - pred) / pred;
                    }
                    rows.Add(new Row(corpus.Name, split.Question, t.ObservedFinal, pred, own, dis, gain, fit.Members.Count == 1));
                }
                Console.WriteLine($"fitted {corpus.Name} / {split.Question}");
            }

        if (rowsCsv is not null)
        {
            // Every forecast's inputs to the band, for offline checks of other rules (docs/laws.md, "Band recalibrated after the transient window").
            var lines = rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Corpus},{r.Question},{r.Observed:R},{r.Predicted:R},{r.Own:R},{r.Disagree:R},{r.D:R},{r.Single}"));
            File.WriteAllLines(rowsCsv, lines.Prepend("corpus,question,observed,predicted,own,disagree,d,single"));
        }

        foreach (var (rule, calibrate) in new (string, Func<List<Row>, (double K, double C)>)[] { ("95th percentile of the scaled errors", Calibrate), ("narrowest band covering 95 % of the calibration forecasts", Narrowest) })
        {
            var (k, c) = calibrate(rows);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\n## rule: {rule}\nall corpora: k = {k:F3}, c = {c:F3} (in use: k = {AutoLaw.BandScale}, c = {AutoLaw.ExtrapolationScale})"));
            var loco = new List<(Row Row, double K, double C)>();
            foreach (var name in rows.Select(r => r.Corpus).Distinct())
            {
                var (kk, cc) = calibrate(rows.Where(r => r.Corpus != name).ToList());
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"without {name}: k = {kk:F3}, c = {cc:F3}"));
                loco.AddRange(rows.Where(r => r.Corpus == name).Select(r => (r, kk, cc)));
            }
            Console.WriteLine("\n| corpus | question | forecasts | covered (constants in use) | median half-width | covered (this rule, all corpora) | median half-width | covered (left out of the calibration) | median half-width |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var g in rows.GroupBy(r => (r.Corpus, r.Question)))
                Console.WriteLine(Line(g.Key.Corpus, g.Key.Question, g.Select(r => (r, AutoLaw.BandScale, AutoLaw.ExtrapolationScale)).ToList(), g.Select(r => (r, k, c)).ToList(), loco.Where(x => x.Row.Corpus == g.Key.Corpus && x.Row.Question == g.Key.Question).ToList(), z));
            Console.WriteLine(Line("**pooled**", "", rows.Select(r => (r, AutoLaw.BandScale, AutoLaw.ExtrapolationScale)).ToList(), rows.Select(r => (r, k, c)).ToList(), loco, z));
        }
    }

    /// <summary>
    /// The narrowest band (median half-width over the forecasts) whose 95 % band covers at least 95 % of
    /// <paramref name="rows"/>, each forecast counting once, over a grid of k in [0.1, 3] and c in [0, 0.4].
    /// </summary>
    private static (double K, double C) Narrowest(List<Row> rows)
    {
        double z = FittedLaw.NormalQuantile(0.5 + Level / 2);
        (double K, double C, double Width) best = (double.NaN, double.NaN, double.PositiveInfinity);
        for (int i = 10; i <= 300; i++)
            for (int j = 0; j <= 80; j++)
            {
                double k = i / 100.0, c = j / 200.0;
                int covered = rows.Count(r => Math.Abs(r.E) <= HalfWidth(r, k, c, z));
                if (covered < Quantile * rows.Count) continue;
                var widths = rows.Select(r => HalfWidth(r, k, c, z)).Order().ToArray();
                double median = widths.Length % 2 == 1 ? widths[widths.Length / 2] : (widths[widths.Length / 2 - 1] + widths[widths.Length / 2]) / 2;
                if (median < best.Width - 1e-12) best = (k, c, median);
            }
        return (best.K, best.C);
    }

    /// <summary>Every corpus of the forecasting benchmark, as <c>anneal accuracy</c> builds them (gpt100m-rope when ../shared exists).</summary>
    internal static List<ForecastCorpus> Corpora(string repo)
    {
        var corpora = new List<ForecastCorpus>();
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(repo, "data/examples/mpl/manifest.json")))!;
        string[] Names(string key) => manifest[key]!.AsArray().Select(x => x!.GetValue<string>()).ToArray();
        foreach (var size in Names("sizes"))
        {
            // The bundled MPL curves as corpora, as `anneal accuracy` builds them (fit and test split alike).
            var runs = new JsonArray(Names("fit").Concat(Names("test")).Distinct()
                .Select(n => (JsonNode)new JsonObject { ["file"] = n + ".csv", ["schedule"] = manifest["schedules"]![n]!.GetValue<string>() }).ToArray());
            var json = new JsonObject { ["format"] = ForecastCorpus.Format, ["name"] = $"mpl-{size}", ["runs"] = runs };
            var dir = Path.Combine(repo, "data/examples/mpl", size);
            corpora.Add(ForecastCorpus.Parse(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()), Path.Combine(dir, "corpus.json"),
                f => File.Exists(Path.Combine(dir, f)) ? File.ReadAllBytes(Path.Combine(dir, f)) : null));
        }
        foreach (var d in Directory.GetDirectories(Path.Combine(repo, "data/corpora")).Order(StringComparer.Ordinal))
            if (File.Exists(Path.Combine(d, "corpus.json"))) corpora.Add(ForecastCorpus.Load(d));
        try { corpora.Add(ForecastCorpus.Load(Path.Combine(repo, "bench/corpora/gpt100m-rope.json"))); }
        catch (InputException e) { Console.WriteLine($"gpt100m-rope left out: {e.Message}"); }
        return corpora;
    }

    private static double HalfWidth(Row r, double k, double c, double z)
    {
        double dis = r.Single ? r.Own : r.Disagree;
        return z * Math.Sqrt(k * k * (r.Own + dis) + c * c * r.D * r.D);
    }

    private static string Line(string corpus, string question, List<(Row Row, double K, double C)> inUse, List<(Row Row, double K, double C)> rule, List<(Row Row, double K, double C)> held, double z)
    {
        string Part(List<(Row Row, double K, double C)> xs)
        {
            int covered = xs.Count(x => Math.Abs(x.Row.E) <= HalfWidth(x.Row, x.K, x.C, z));
            // Relative half-width of the log-normal band, as anneal accuracy reports it.
            var widths = xs.Select(x => Math.Sinh(HalfWidth(x.Row, x.K, x.C, z))).Order().ToArray();
            double median = widths.Length % 2 == 1 ? widths[widths.Length / 2] : (widths[widths.Length / 2 - 1] + widths[widths.Length / 2]) / 2;
            return string.Create(CultureInfo.InvariantCulture, $"{covered}/{xs.Count} ({100.0 * covered / xs.Count:F0} %) | {100 * median:F2} %");
        }
        return $"| {corpus} | {question} | {inUse.Count} | {Part(inUse)} | {Part(rule)} | {Part(held)} |";
    }

    /// <summary>k and c: weighted 95th percentiles of the scaled errors, each corpus question's forecasts of one kind weighing 1 in all.</summary>
    private static (double K, double C) Calibrate(List<Row> rows)
    {
        double z = FittedLaw.NormalQuantile(0.5 + Level / 2);
        var near = rows.Where(r => r.D < Extrapolated).ToList();
        var far = rows.Where(r => r.D >= Extrapolated).ToList();
        double k = WeightedQuantile(near.Select(r => (Math.Abs(r.E) / Math.Sqrt(r.Own + (r.Single ? r.Own : r.Disagree)), 1.0 / near.Count(x => x.Corpus == r.Corpus && x.Question == r.Question))).ToList()) / z;
        double c = WeightedQuantile(far.Select(r => (Math.Abs(r.E) / r.D, 1.0 / far.Count(x => x.Corpus == r.Corpus && x.Question == r.Question))).ToList()) / z;
        return (k, c);
    }

    /// <summary>The smallest value whose cumulative weight reaches <see cref="Quantile"/> of the total.</summary>
    private static double WeightedQuantile(List<(double Value, double Weight)> xs)
    {
        var sorted = xs.OrderBy(x => x.Value).ToArray();
        double total = sorted.Sum(x => x.Weight), acc = 0;
        foreach (var (v, w) in sorted)
        {
            acc += w;
            if (acc >= Quantile * total - 1e-12) return v;
        }
        return sorted[^1].Value;
    }
}
