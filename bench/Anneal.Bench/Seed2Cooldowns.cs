using System.Globalization;
using Anneal.Accuracy;
using Anneal.Curves;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// The WSD question calibrated on the other seed (docs/journal/session-24-seed2-cooldowns.md). Run:
/// <c>dotnet bench/Anneal.Bench/bin/Release/net10.0/Anneal.Bench.dll seed2-cooldowns ROOT corpus-folder ...</c>, where
/// <c>ROOT/&lt;corpus folder name&gt;/</c> holds the seed-2 twins of the corpus's two fitted 10 % cooldowns (the fitted
/// branch's file name with <c>_s1</c> read as <c>_s2</c>, branched from the seed-2 constant run at the same step; made by
/// data/corpora/generate.sh's functions, bench/seed2-cooldowns/README.md). For each corpus the <c>cooldowns</c> split of
/// the protocol (seed 1: the constant run to the fitted horizon H + its two fitted branches) and the same split with the
/// seed-2 constant run to H and the two seed-2 branches in their place, both predicting the same held-out seed-1 branch
/// ends (the only ones that exist), scored as <see cref="ForecastBenchmark.Score"/> scores them, for every law of
/// <see cref="LawRegistry.DefaultSpecs"/>; a third forecaster is the mean of the two calibrations' predicted losses.
/// Output: one tab-separated row per (corpus, law, calibration, held-out branch) with the signed error in percent, then
/// one summary row per (corpus, law, calibration) with the mean signed, mean |error| and worst |error| and the 95 % band's
/// coverage and median half-width (relative to the forecast), and one row per
/// fitted branch with the two seeds' finals (the calibration branches' own seed offset).
/// </summary>
internal static class Seed2Cooldowns
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string root, IReadOnlyList<string> folders)
    {
        Console.WriteLine("kind\tcorpus\tlaw\tcalibration\tbranch\tratio\tobserved\tpredicted\tsigned_err_pct");
        var summary = new List<string>();
        foreach (var folder in folders)
        {
            var corpus = ForecastCorpus.Load(folder);
            var split = ForecastProtocol.AllSplits(corpus).FirstOrDefault(s => s.Question == "cooldowns");
            if (split is null) { Console.Error.WriteLine($"seed2-cooldowns: {folder} has no cooldowns question"); return 2; }
            var constant1 = corpus.Runs.First(r => r.Name == split.Fit[0].Name.Split('[')[0]);
            var constant2 = corpus.Runs.FirstOrDefault(r => r.Seed != constant1.Seed && r.Schedule == constant1.Schedule
                && ForecastProtocol.Kind(r) == "constant" && r.Horizon >= split.FitHorizon);
            if (constant2 is null) { Console.Error.WriteLine($"seed2-cooldowns: {folder} has no second-seed constant run to step {split.FitHorizon}"); return 2; }
            var fitted1 = split.Fit.Skip(1).Select(f => corpus.Runs.First(r => r.Name == f.Name.Split('[')[0])).ToArray();
            string dir = Path.Combine(root, Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)));
            var fitted2 = new List<CorpusRun>();
            foreach (var f in fitted1)
            {
                string name = f.Name.Replace("_s1", $"_s{constant2.Seed}"), file = Path.Combine(dir, name + ".csv");
                if (!File.Exists(file)) { Console.Error.WriteLine($"seed2-cooldowns: {file} not found (the seed-{constant2.Seed} twin of {f.Name}; bench/seed2-cooldowns/README.md makes it)"); return 2; }
                var curve = CurveReader.Parse(File.ReadAllBytes(file), file);
                curve = curve with { Name = name, ScheduleSpec = Schedules.Schedule.Parse(f.Schedule!).Spec };
                fitted2.Add(new CorpusRun(name, curve, f.Schedule, constant2.Seed, constant2.Name, f.BranchStep) { SeedGiven = true });
            }
            // the protocol's own construction (ForecastProtocol.Cooldowns) with the other seed's runs
            var split2 = split with
            {
                Description = $"fit {constant2.Name} to step {split.FitHorizon} + cooldowns {fitted2[0].Name}, {fitted2[1].Name}; predict the seed-{constant1.Seed} branches",
                Fit =
                [
                    corpus.LawRunOf(constant2, endStep: split.FitHorizon) with { Name = $"{constant2.Name}[:{split.FitHorizon}]" },
                    corpus.LawRunOf(fitted2[0], firstStep: fitted2[0].BranchStep),
                    corpus.LawRunOf(fitted2[1], firstStep: fitted2[1].BranchStep),
                ],
            };
            for (int i = 0; i < 2; i++)
            {
                double o1 = ForecastProtocol.Target(corpus, fitted1[i]).ObservedFinal, o2 = ForecastProtocol.Target(corpus, fitted2[i]).ObservedFinal;
                summary.Add(string.Create(Inv, $"fitted\t{corpus.Name}\t-\tseed {constant2.Seed} vs {constant1.Seed}\t{fitted2[i].Name}\t{(double)fitted1[i].Horizon / split.FitHorizon:0.00}\t{o1:F4}\t{o2:F4}\t{100 * (o2 / o1 - 1):F2}"));
            }
            foreach (string spec in LawRegistry.DefaultSpecs)
            {
                var law = LossLaw.Parse(spec);
                var a1 = ForecastBenchmark.Score(split, law, 0.95, null);
                var a2 = ForecastBenchmark.Score(split2, law, 0.95, null);
                var calibrations = new List<(string Name, IReadOnlyList<TargetForecast> Forecasts, string? Error)>
                {
                    ($"seed {constant1.Seed}", a1.Forecasts, a1.Error), ($"seed {constant2.Seed}", a2.Forecasts, a2.Error),
                };
                if (a1.Error is null && a2.Error is null)
                    calibrations.Add(("mean of both", a1.Forecasts.Zip(a2.Forecasts, (x, y) => x with { Predicted = (x.Predicted + y.Predicted) / 2 }).ToArray(), null));
                foreach (var (cal, forecasts, error) in calibrations)
                {
                    if (error is not null) { summary.Add($"summary\t{corpus.Name}\t{spec}\t{cal}\tfailed: {error}"); continue; }
                    var errs = forecasts.Select(f => 100 * (f.Predicted / f.Observed - 1)).ToArray();
                    foreach (var (f, e) in forecasts.Zip(errs))
                        Console.WriteLine(string.Create(Inv, $"branch\t{corpus.Name}\t{spec}\t{cal}\t{f.Run.Split('/')[^1]}\t{(double)f.Horizon / split.FitHorizon:0.00}\t{f.Observed:F4}\t{f.Predicted:F4}\t{e:F2}"));
                    // the 95 % band of each calibration's own fit (the mean of both has none: its band would be a new design)
                    var banded = cal == "mean of both" ? [] : forecasts.Where(f => double.IsFinite(f.Low)).ToArray();
                    string band = banded.Length == 0 ? $"band - (regime check withholds {forecasts.Count(f => f.RegimeWithheld)} of {forecasts.Count})" : string.Create(Inv,
                        $"band {banded.Count(f => f.Low <= f.Observed && f.Observed <= f.High)}/{banded.Length} at median half-width {100 * Median(banded.Select(f => (f.High - f.Low) / 2 / f.Predicted)):F2}");
                    summary.Add(string.Create(Inv, $"summary\t{corpus.Name}\t{spec}\t{cal}\tsigned {errs.Average():F2}\tabs {errs.Average(Math.Abs):F2}\tworst {errs.Max(Math.Abs):F2}\tn {errs.Length}\t{band}"));
                }
            }
        }
        foreach (var line in summary) Console.WriteLine(line);
        return 0;
    }

    private static double Median(IEnumerable<double> xs)
    {
        var v = xs.Order().ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
