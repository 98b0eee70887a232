using System.Text.Json;
using Anneal.Evaluation;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// The evidence behind <c>auto</c>'s weights on the multi-power-law paper's published split (docs/laws.md, "auto in
/// session 8"). Run: <c>dotnet run -c Release --project bench/Anneal.Bench -- published-blend [repo] [out.json]</c>.
/// Per size, each default member of <c>auto</c> is fitted alone on the split's fitted curves (as a stack fits it) and
/// predicts every held-out curve at every point; each member also refitted on the fitted runs' past
/// (<see cref="StackFitter.FutureCut"/>) forecasts the last point of their future, as the cross-validated weights see it.
/// A stack's curve is the weighted sum of its members', so any weighting rule's whole-curve metrics (R^2, PredE) are
/// scored from the file without refitting (bench/stack_rules.py --published).
/// </summary>
internal static class PublishedBlend
{
    public static void Run(string repo, string output)
    {
        var bench = MplBenchmark.FromFolder(Path.Combine(repo, "data/examples/mpl"));
        var sizes = new List<object>();
        foreach (var size in bench.Sizes)
        {
            var fitRuns = bench.Runs(size, bench.FitSplit);
            var tests = bench.Runs(size, bench.TestSplit);
            var (heads, tails, cut) = StackFitter.FutureCut(fitRuns);
            var members = new Dictionary<string, object>();
            foreach (var (law, _) in AutoLaw.DefaultMembers)
            {
                var fit = LawFitter.Fit(law, fitRuns, new FitOptions { Jackknife = false });
                var past = LawFitter.Fit(law, heads, new FitOptions { Jackknife = false });
                members[law.Spec] = new
                {
                    curves = tests.Select(t => fit.Law.Predict(t, fit.Values)).ToArray(),
                    constant_curves = tests.Select(t => fit.Law.Predict(StackSelection.Counterpart(t), fit.Values)).ToArray(),
                    cv = tails.Select(t => past.Law.Predict(t with { Steps = [t.Steps[^1]], Observed = null }, past.Values)[0]).ToArray(),
                    cv_constant = tails.Select(t => past.Law.Predict(StackSelection.Counterpart(t) with { Steps = [t.Steps[^1]] }, past.Values)[0]).ToArray(),
                };
            }
            sizes.Add(new
            {
                size,
                published = bench.PublishedMetrics(size),
                cut,
                tails = tails.Select(t => new { run = t.Name, step = t.Steps[^1], observed = t.Observed![^1] }).ToArray(),
                tests = tests.Select(t => new { run = t.Name, observed = t.Observed }).ToArray(),
                members,
            });
            Console.WriteLine($"fitted {size}");
        }
        File.WriteAllText(output, JsonSerializer.Serialize(sizes));
        Console.WriteLine($"wrote {output}");
    }
}
