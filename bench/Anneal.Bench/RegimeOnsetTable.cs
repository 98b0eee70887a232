using System.Globalization;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// The rule of the last alarm (<see cref="RegimeOnset"/>) on every corpus the band calibration reads: each constant run of
/// each seed, whole, against the fitted horizons of the protocol's questions (whether the rule would ask for longer
/// calibration runs than the fits had); then, on every corpus whose WSD question was fitted before the onset, that
/// question refitted at the onset (the constant run to the first branch end at or after it, plus the two branches that end
/// last by then), with <c>auto</c>'s errors and bands on the later branches before and after. Run:
/// <c>dotnet run -c Release --project bench/Anneal.Bench -- regime-onset [repo]</c> (docs/journal/session-19-regime.md).
/// </summary>
internal static class RegimeOnsetTable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Run(string repo)
    {
        var corpora = BandCalibration.Corpora(repo);
        Console.WriteLine("| corpus | constant run | logged to | question | fitted to | check fires there? | onset | alarms | asks for longer runs? |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        var late = new List<(ForecastCorpus Corpus, RegimeOnset Onset)>();
        foreach (var corpus in corpora)
        {
            var splits = ForecastProtocol.Splits(corpus);
            foreach (var run in corpus.Runs.Where(r => ForecastProtocol.Kind(r) == "constant").OrderBy(r => r.Seed))
                foreach (var s in splits)
                {
                    long h = s.Fit.Max(f => f.Steps[^1]);
                    if (run.Curve.Steps[^1] < h) continue;
                    var onset = RegimeOnset.Of(corpus.LawRunOf(run), h);
                    if (onset is null) { Console.WriteLine($"| {corpus.Name} | {run.Name} | {run.Curve.Steps[^1]} | {s.Question} | {h} | cannot tell | | | |"); continue; }
                    Console.WriteLine(string.Create(Inv, $"| {corpus.Name} | {run.Name} | {onset.End} | {s.Question} | {onset.Horizon} | {(onset.AsksLonger ? "**yes**" : "no")} | {(!onset.AsksLonger ? "-" : onset.Reached ? $"{onset.Step} ({(double)onset.Step / onset.Horizon:0.0}x)" : $"> {onset.End}")} | {onset.Alarms} | {(onset.AsksLonger ? "**yes**" : "no")} |"));
                    if (run.Seed == corpus.Runs.Min(r => r.Seed) && s.Question == "cooldowns" && onset.AsksLonger && onset.Reached) late.Add((corpus, onset));
                }
        }
        Console.WriteLine();
        Console.WriteLine("The WSD question of the corpora fitted before the onset, refitted with each pair of consecutive branches (`auto`; the constant run to the second branch's end) and forecasting the later branches.");
        Console.WriteLine();
        Console.WriteLine("| corpus | fit | fitted to | check fires? | forecasts | mean err | mean signed | worst | band covers | no band | median half-width |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        var auto = LossLaw.Parse("auto");
        foreach (var (corpus, onset) in late)
        {
            var protocol = ForecastProtocol.Splits(corpus).First(s => s.Question == "cooldowns");
            // the series' branches, as the protocol groups them: of the forecast branches' constant run and cooldown fraction
            static double Fraction(CorpusRun r) => Math.Round((double)(r.Horizon - r.BranchStep) / r.Horizon, 2);
            var first = corpus.Runs.Where(r => protocol.Tests[0].Run.Name.EndsWith(r.Name, StringComparison.Ordinal)).MaxBy(r => r.Name.Length)!;
            var series = corpus.Runs.Where(r => r.BranchOf == first.BranchOf && r.BranchStep > 0 && Fraction(r) == Fraction(first)).OrderBy(r => r.Horizon).ToArray();
            // every pair of consecutive branches as the fitted pair, the constant run to the second's end: how the errors on the
            // later branches move as the fit's horizon passes the onset
            for (int at = 1; at < series.Length - 1; at++)
            {
                var moved = corpus with { CooldownsFit = [series[at - 1].Name, series[at].Name] };
                var s = ForecastProtocol.Splits(moved).First(x => x.Question == "cooldowns");
                var row = ForecastBenchmark.Score(s, auto, 0.95, null);
                string label = s.FitHorizon < onset.Step ? "before the onset" : $"at or past the onset ({onset.Step})";
                if (row.Failed) { Console.WriteLine($"| {corpus.Name} | {label} | {s.FitHorizon} | failed: {row.Error} |"); continue; }
                var f = row.Forecasts;
                Console.WriteLine(string.Create(Inv, $"| {corpus.Name} | {label} | {s.FitHorizon} | {(RegimeCheck.Of(s.Fit)?.Fires is true ? "yes" : "no")} | {f.Count} | {100 * row.MeanError:F2} % | {100 * f.Average(x => (x.Predicted - x.Observed) / x.Observed):+0.00;-0.00} % | {100 * row.WorstError:F2} % | {row.Covered}/{f.Count} | {f.Count - row.WithBand} | {(double.IsFinite(row.MedianHalfWidth) ? (100 * row.MedianHalfWidth).ToString("F2", Inv) + " %" : "-")} |"));
            }
        }
    }
}
