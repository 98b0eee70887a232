using System.Globalization;
using System.Text.Json;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// The evidence behind <c>auto</c>'s per-fit choice of members (docs/laws.md, "auto: choosing members per fit").
/// Run: <c>dotnet run -c Release --project bench/Anneal.Bench -- stack-selection [repo] [out.json] [laws]</c>.
/// Every split of <c>anneal accuracy</c>'s protocol is fitted once by each candidate law (no band refits); each
/// candidate also forecasts the fitted runs' own future from their past (<see cref="StackFitter.FutureCut"/>, the
/// cross-validation <c>auto</c> uses). The JSON holds, per split, the held-out finals observed and forecast by
/// each candidate and the candidates' cross-validated forecasts, so selection rules can be scored without refitting.
/// </summary>
internal static class StackSelection
{
    public static void Run(string repo, string output, string laws)
    {
        var candidates = LawRegistry.ParseList(laws);
        var splits = new List<object>();
        foreach (var corpus in BandCalibration.Corpora(repo))
            foreach (var split in ForecastProtocol.Splits(corpus))
            {
                var options = new FitOptions { Jackknife = false };
                var (heads, tails, cut) = StackFitter.FutureCut(split.Fit);
                var perLaw = new Dictionary<string, object>();
                foreach (var law in candidates)
                {
                    double[]? finals = null;
                    List<double[]>? cvPred = null;
                    string? error = null;
                    try
                    {
                        var fit = LawFitter.Fit(law, split.Fit, options);
                        finals = split.Tests.Select(t => fit.Law.Predict(t.Run, fit.Values).Average()).ToArray();
                        if (tails.Count > 0)
                        {
                            var cvFit = LawFitter.Fit(law, heads, options);
                            cvPred = tails.Select(t => cvFit.Law.Predict(t, cvFit.Values)).ToList();
                        }
                    }
                    catch (InputException e) { error = e.Message; }
                    perLaw[law.Spec] = new { finals, cv = cvPred, error };
                }
                splits.Add(new
                {
                    corpus = split.Corpus,
                    question = split.Question,
                    cut,
                    tests = split.Tests.Select(t => new { run = t.Run.Name, horizon = t.Horizon, observed = t.ObservedFinal }).ToArray(),
                    cv_observed = tails.Select(t => new { run = t.Name, steps = t.Steps, observed = t.Observed }).ToArray(),
                    laws = perLaw,
                });
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fitted {split.Corpus} / {split.Question} (cut at {cut})"));
            }
        File.WriteAllText(output, JsonSerializer.Serialize(splits));
        Console.WriteLine($"wrote {output}");
    }
}
