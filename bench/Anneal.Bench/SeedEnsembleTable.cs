using System.Globalization;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// The two-seed question, on every corpus whose two seeds both ran the schedules question's fitted pair (the constant run to
/// H1 and the cosine at H1): fitted on the four runs, forecast the other schedules both seeds ran, scored against the first
/// seed's finals, the second seed's and their mean (the seed mean: what the schedule yields without one seed's luck), and
/// the protocol's targets (every other first-seed run, scored against its first-seed final, as <c>anneal accuracy</c> does).
/// The designs also fit three runs (the first seed's pair and the second seed's cosine, its constant twin missing: uneven groups
/// whose constant run every group fits, <see cref="SeedGroups"/>) jointly and as an ensemble.
/// Designs: one seed (the first seed's pair alone, today's protocol; and the second seed's pair alone), the four runs in one
/// joint fit (<see cref="FitOptions.SeedEnsemble"/> off) and the seed ensemble (<see cref="SeedEnsemble"/>: each seed's pair
/// fitted apart, the forecasts' geometric mean, the band of <see cref="SeedEnsemble.Combine"/>). Beside the library's band,
/// the candidate bands measured to choose it: each group's band's root mean square log half-width alone ("rms", session
/// 20's b'), the same widened by the largest group's distance from the mean ("rms + spread", in use: it must equal the
/// library's row), the same with that distance added in quadrature ("rms (+) spread") and the union of the groups' bands
/// ("union"). Mean and worst relative error, mean signed error, band coverage and median half-width per corpus
/// and pooled, as <see cref="ForecastBenchmark.Score"/> scores a row (a band wider than a factor 10 counts as none).
/// Run: <c>dotnet run -c Release --project bench/Anneal.Bench -- seed-ensemble [repo]</c> (docs/journal/session-21-seeds.md).
/// </summary>
internal static class SeedEnsembleTable
{
    private static readonly string[] TargetSets = ["seed 1", "seed 2", "seed mean", "protocol (every seed-1 run)"];

    public static void Run(string repo)
    {
        var law = LossLaw.Parse("auto");
        const double level = 0.95;
        var pooled = new Dictionary<(string Design, string Targets), List<TargetForecast>>();
        var perCorpus = new List<(string Corpus, string Design, string Targets, TargetForecast[] F)>();
        var notes = new List<string>();
        foreach (var corpus in BandCalibration.Corpora(repo))
        {
            if (TwoSeedsTable.Pairs(corpus) is not var (a, s1, _, h, other, constant2, cosine2)) continue;
            if (constant2 is null || cosine2 is null || constant2.Horizon < h) continue;
            IReadOnlyList<LawRun> pair2 = [corpus.LawRunOf(constant2, endStep: h) with { Name = $"{constant2.Name}[:{h}]" }, corpus.LawRunOf(cosine2)];
            // The schedules both seeds ran, the fitted pair's aside (and constant runs no longer than H, already fitted).
            var targets = new List<(ForecastTarget S1, ForecastTarget S2, ForecastTarget Mean)>();
            foreach (var r2 in other.Where(r => r != cosine2 && r.Schedule is not null && !(ForecastProtocol.Kind(r) == "constant" && ForecastProtocol.Nominal(r.Horizon) <= ForecastProtocol.Nominal(h))))
            {
                var r1 = corpus.Runs.FirstOrDefault(r => r.Seed == s1 && r.Schedule == r2.Schedule && ForecastProtocol.Nominal(r.Horizon) == ForecastProtocol.Nominal(r2.Horizon));
                if (r1 is null) continue;
                var t1 = ForecastProtocol.Target(corpus, r1);
                var t2 = ForecastProtocol.Target(corpus, r2);
                // The seed mean: the first seed's window rescaled so that its mean is the mean of the two seeds' finals.
                double scale = (t1.ObservedFinal + t2.ObservedFinal) / 2 / t1.ObservedFinal;
                targets.Add((t1, t2, t1 with { Run = t1.Run with { Observed = t1.Run.Observed!.Select(v => v * scale).ToArray() } }));
            }
            if (targets.Count == 0) continue;
            // One fit per design, every target set predicted from it (the sets' runs share their rates: only the observed differ).
            ForecastTarget[][] sets = [[.. targets.Select(t => t.S1)], [.. targets.Select(t => t.S2)], [.. targets.Select(t => t.Mean)], [.. a.Tests]];
            ForecastTarget[] all = [.. sets.SelectMany(x => x)];
            TargetForecast[]? Fit(IReadOnlyList<LawRun> fit, FitOptions? options)
            {
                var row = ForecastBenchmark.Score(a with { Fit = fit, Tests = all }, law, level, options);
                if (row.Failed) { notes.Add($"{corpus.Name}: {row.Error}"); return null; }
                return row.Forecasts.ToArray();
            }
            var one1 = Fit(a.Fit, null);
            var one2 = Fit(pair2, null);
            var joint = Fit([.. a.Fit, .. pair2], new FitOptions { SeedEnsemble = false });
            var ensemble = Fit([.. a.Fit, .. pair2], null);
            // Three runs: the first seed's pair and the second seed's cosine only (its constant run's twin missing: uneven
            // groups, the constant run fitted in both).
            IReadOnlyList<LawRun> three = [.. a.Fit, pair2[1]];
            var threeJoint = Fit(three, new FitOptions { SeedEnsemble = false });
            var threeEnsemble = Fit(three, null);
            if (one1 is null || one2 is null || joint is null || ensemble is null || threeJoint is null || threeEnsemble is null) continue;
            var designs = new List<(string Name, TargetForecast[] F)>
            {
                ("one seed (seed 1's pair, today)", one1), ("one seed (seed 2's pair)", one2), ("joint fit", joint),
                ("ensemble (library)", ensemble),
                ("ensemble, band rms", Candidate(one1, one2, BandRms)), ("ensemble, band rms + spread", Candidate(one1, one2, BandSpread)),
                ("ensemble, band union", Candidate(one1, one2, BandUnion)), ("ensemble, band rms (+) spread in quadrature", Candidate(one1, one2, BandQuadrature)),
                ("three runs (seed 2's cosine only), joint fit", threeJoint), ("three runs (seed 2's cosine only), ensemble", threeEnsemble),
            };
            foreach (var (name, f) in designs)
                for (int k = 0, from = 0; k < sets.Length; from += sets[k].Length, k++)
                {
                    var slice = f.Skip(from).Take(sets[k].Length).ToArray();
                    perCorpus.Add((corpus.Name, name, TargetSets[k], slice));
                    if (!pooled.TryGetValue((name, TargetSets[k]), out var list)) pooled[(name, TargetSets[k])] = list = [];
                    list.AddRange(slice);
                }
        }
        Console.WriteLine("| corpus | design | targets | forecasts | mean err | mean signed | worst | band covers (with a band) | median half-width |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var (corpus, design, set, f) in perCorpus) Console.WriteLine($"| {corpus} | {design} | {set} | {Row(f)} |");
        Console.WriteLine();
        Console.WriteLine("| pooled | design | targets | forecasts | mean err | mean signed | worst | band covers (with a band) | median half-width | corpora with a lower mean than seed 1's pair |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var set in TargetSets)
            foreach (var ((design, s), f) in pooled.Where(kv => kv.Key.Targets == set))
            {
                int better = perCorpus.Where(p => p.Design == design && p.Targets == set)
                    .Count(p => p.F.Average(x => x.RelError) < perCorpus.First(q => q.Corpus == p.Corpus && q.Targets == set && q.Design.StartsWith("one seed (seed 1")).F.Average(x => x.RelError) - 1e-12);
                int corpora = perCorpus.Count(p => p.Design == design && p.Targets == set);
                Console.WriteLine($"| pooled | {design} | {s} | {Row(f.ToArray())} | {better} of {corpora} |");
            }
        foreach (var note in notes) Console.WriteLine($"- {note}");
    }

    private static string Row(TargetForecast[] f)
    {
        double signed = f.Average(x => (x.Predicted - x.Observed) / x.Observed);
        return string.Create(CultureInfo.InvariantCulture,
            $"{f.Length} | {f.Average(x => x.RelError):P2} | {signed:+0.00 %;-0.00 %} | {f.Max(x => x.RelError):P2} | {f.Count(x => x.Covered)}/{f.Length} ({f.Count(x => x.HasBand)}) | {SampleStatistics.Median(f.Select(x => x.RelHalfWidth)):P2}");
    }

    /// <summary>Two groups' forecasts of the same targets combined: the geometric mean, and the band <paramref name="band"/> gives (NaN: none).</summary>
    private static TargetForecast[] Candidate(TargetForecast[] g1, TargetForecast[] g2, Func<TargetForecast, TargetForecast, double, (double Lo, double Hi)> band) =>
        g1.Zip(g2, (f1, f2) =>
        {
            double p = Math.Sqrt(f1.Predicted * f2.Predicted);
            if (!f1.HasBand || !f2.HasBand) return f1 with { Predicted = p, Low = double.NaN, High = double.NaN };
            var (lo, hi) = band(f1, f2, p);
            if (hi / lo > 10) (lo, hi) = (double.NaN, double.NaN);
            return f1 with { Predicted = p, Low = lo, High = hi };
        }).ToArray();

    private static double HalfWidth(TargetForecast f) => Math.Log(f.High / f.Low) / 2;

    private static (double, double) BandRms(TargetForecast f1, TargetForecast f2, double p)
    {
        double w = Math.Sqrt((HalfWidth(f1) * HalfWidth(f1) + HalfWidth(f2) * HalfWidth(f2)) / 2);
        return (p * Math.Exp(-w), p * Math.Exp(w));
    }

    private static (double, double) BandSpread(TargetForecast f1, TargetForecast f2, double p)
    {
        double w = Math.Sqrt((HalfWidth(f1) * HalfWidth(f1) + HalfWidth(f2) * HalfWidth(f2)) / 2) + Math.Abs(Math.Log(f1.Predicted / f2.Predicted)) / 2;
        return (p * Math.Exp(-w), p * Math.Exp(w));
    }

    private static (double, double) BandQuadrature(TargetForecast f1, TargetForecast f2, double p)
    {
        double d = Math.Abs(Math.Log(f1.Predicted / f2.Predicted)) / 2, w = Math.Sqrt((HalfWidth(f1) * HalfWidth(f1) + HalfWidth(f2) * HalfWidth(f2)) / 2 + d * d);
        return (p * Math.Exp(-w), p * Math.Exp(w));
    }

    private static (double, double) BandUnion(TargetForecast f1, TargetForecast f2, double p) => (Math.Min(f1.Low, f2.Low), Math.Max(f1.High, f2.High));
}
