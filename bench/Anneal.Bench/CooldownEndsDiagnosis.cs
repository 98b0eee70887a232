using System.Globalization;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// Why a law forecasts the WSD question as it does, fitted on the branches' curves (<c>cooldowns</c>) or on their end points
/// (<c>cooldown-ends</c>) (docs/journal/session-15-wsd-end-points.md). Run:
/// <c>dotnet run -c Release --project bench/Anneal.Bench -- cooldown-ends [corpus folder ...]</c>. For each corpus with the
/// question and each of the two fits: the fitted runs' points, <c>auto</c>'s choice (members, weights, the reason) and every
/// member's forecast error per held-out branch beside the stack's, then each single law's mean error (or why it failed).
/// </summary>
internal static class CooldownEndsDiagnosis
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Run(IReadOnlyList<string> folders, string laws)
    {
        foreach (var folder in folders)
        {
            var corpus = ForecastCorpus.Load(folder);
            foreach (var split in ForecastProtocol.AllSplits(corpus).Where(s => s.Question != "schedules"))
            {
                Console.WriteLine($"== {corpus.Name} / {split.Question}: {split.Description}");
                Console.WriteLine("   fitted: " + string.Join(", ", split.Fit.Select(r => $"{r.Name} ({r.Count} points, steps {r.Steps[0]}..{r.Steps[^1]})")));
                var auto = LawFitter.Fit(new AutoLaw(), split.Fit);
                var stack = (AutoLaw)auto.Law;
                Console.WriteLine("   auto: " + string.Join(", ", stack.Members.Select(m => string.Create(Inv, $"{m.Law.Spec} {m.Weight:0.##}"))));
                Console.WriteLine("   why: " + auto.StackChoice);
                foreach (var w in auto.Report.Warnings) Console.WriteLine("   warning: " + w);
                Console.WriteLine("   run | observed | auto | " + string.Join(" | ", stack.Members.Select(m => m.Law.Spec)));
                foreach (var t in split.Tests)
                {
                    double obs = t.ObservedFinal;
                    string Err(FittedLaw f) => string.Create(Inv, $"{100 * (f.Predict(t.Run).Loss.Average() / obs - 1):+0.00;-0.00} %");
                    Console.WriteLine($"   {t.Run.Name} | {obs.ToString("F4", Inv)} | {Err(auto)} | " + string.Join(" | ", auto.Members.Select(Err))
                        + (auto.Predict(t.Run).BandUnavailable is { } why ? " | " + why : ""));
                }
                foreach (var law in LawRegistry.ParseList(laws))
                {
                    var row = ForecastBenchmark.Score(split, law, 0.95, null);
                    Console.WriteLine(row.Failed ? $"   {law.Spec}: failed: {row.Error}"
                        : string.Create(Inv, $"   {law.Spec}: mean {100 * row.MeanError:0.00} %, worst {100 * row.WorstError:0.00} %, covers {row.Covered}/{row.Forecasts.Count}"));
                }
            }
        }
    }
}
