using System.Globalization;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// The fit-time regime check (<see cref="RegimeCheck"/>) on every split the band calibration fits: each corpus question of
/// <c>anneal accuracy</c>'s protocol and the published multi-power-law split of every size, and, as a seed-swap check, the
/// same question's constant run of the second seed alone (where the corpus has one that reaches the fitted horizon). No
/// law is fitted: the check reads the fitted runs' points. Run:
/// <c>dotnet run -c Release --project bench/Anneal.Bench -- regime-check [repo]</c> (docs/journal/session-17-plateau.md).
/// </summary>
internal static class RegimeTable
{
    public static void Run(string repo)
    {
        var splits = BandCalibration.Corpora(repo).SelectMany(c => ForecastProtocol.Splits(c).Select(s => (Corpus: c, s.Question, s.Fit))).ToList();
        var rows = new List<(string Corpus, string Question, RegimeCheck? Check)>();
        foreach (var (corpus, question, fit) in splits)
        {
            rows.Add((corpus.Name, question, RegimeCheck.Of(fit)));
            // The seed-swap check: the second seed's constant run to the same horizon.
            long horizon = fit.Max(r => r.Steps[^1]);
            var second = corpus.Runs.FirstOrDefault(r => r.Seed == 2 && ForecastProtocol.Kind(r) == "constant");
            if (second is not null && second.Curve.Steps[^1] >= horizon)
                rows.Add((corpus.Name, question + " (seed 2 constant)", RegimeCheck.Of([corpus.LawRunOf(second, endStep: horizon + 1)])));
        }
        var bench = Anneal.Evaluation.MplBenchmark.FromFolder(Path.Combine(repo, "data/examples/mpl"));
        foreach (var size in bench.Sizes) rows.Add(($"mpl-{size}", "published", RegimeCheck.Of(bench.Runs(size, bench.FitSplit))));
        Console.WriteLine("| corpus | question | earlier points (steps) | their -dL/d ln S1 | end (to step) | -dL/d ln S1 to the end | rise | standard error | rise / s.e. | fires |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (corpus, question, c) in rows)
            Console.WriteLine(c is null ? $"| {corpus} | {question} | - | - | - | - | - | - | - | cannot tell |"
                : string.Create(CultureInfo.InvariantCulture, $"| {corpus} | {question} | {c.FromStep}-{c.BeforeStep} | {c.SlopeBefore:0.0000} | {c.ToStep} | {c.SlopeEnd:0.0000} | {c.Rise:+0.0000;-0.0000} | {c.StandardError:0.0000} | {c.Z:+0.00;-0.00} | {(c.Fires ? "**yes**" : "no")} |"));
    }
}
