using System.Text.Json;
using Anneal.Evaluation;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// The evidence behind <c>auto</c>'s weights on the multi-power-law paper's published split
/// (docs/journal/session-08-auto-band.md). Run: <c>dotnet run -c Release --project bench/Anneal.Bench --
/// published-blend [repo] [out.json]</c>.
/// Per size, each default member of <c>auto</c> is fitted alone on the split's fitted curves (as a stack fits it) and
/// predicts every held-out curve at every point; each member also refitted on the fitted runs' past
/// (<see cref="StackFitter.FutureCut"/>) forecasts the last point of their future, as the cross-validated weights see it.
/// A stack's curve is the weighted sum of its members', so any weighting rule's whole-curve metrics (R^2, PredE) are
/// scored from the file without refitting (bench/stack_rules.py --published).
/// </summary>
internal static class PublishedBlend
{
    public static void Run(string repo, string output, string? laws = null)
    {
        var bench = MplBenchmark.FromFolder(Path.Combine(repo, "data/examples/mpl"));
        var sizes = new List<object>();
        foreach (var size in bench.Sizes)
        {
            var fitRuns = bench.Runs(size, bench.FitSplit);
            var tests = bench.Runs(size, bench.TestSplit);
            var (heads, tails, cut) = StackFitter.FutureCut(fitRuns);
            long h = fitRuns.Max(r => r.Steps[^1]);
            // Other cuts of the fitted runs (as stack-selection tries them), each member refitted on the points before it.
            var other = new[] { ("half", h / 2), ("two-thirds", 2 * h / 3) }.Select(c => (c.Item1, c.Item2, Split: StackFitter.SplitAt(fitRuns, c.Item2))).ToArray();
            var members = new Dictionary<string, object>();
            foreach (var law in laws is null ? AutoLaw.DefaultMembers.Select(m => m.Law).ToList() : LawRegistry.ParseList(laws))
            {
                // As auto fits its members (StackFitter): an early-stopped member keeps its best evaluated point.
                var fit = LawFitter.Fit(law, fitRuns, new FitOptions { Jackknife = false, KeepBestEvaluated = true });
                var past = LawFitter.Fit(law, heads, new FitOptions { Jackknife = false, KeepBestEvaluated = true });
                members[law.Spec] = new
                {
                    curves = tests.Select(t => fit.Law.Predict(t, fit.Values)).ToArray(),
                    constant_curves = tests.Select(t => fit.Law.Predict(StackSelection.Counterpart(t), fit.Values)).ToArray(),
                    cv = tails.Select(t => past.Law.Predict(t with { Steps = [t.Steps[^1]], Observed = null }, past.Values)[0]).ToArray(),
                    cv_points = tails.Select(t => past.Law.Predict(t with { Observed = null }, past.Values)).ToArray(),
                    other_cuts = other.ToDictionary(c => c.Item1, c =>
                    {
                        var f = LawFitter.Fit(law, c.Split.Heads, new FitOptions { Jackknife = false, KeepBestEvaluated = true });
                        return c.Split.Tails.Select(t => f.Law.Predict(t with { Observed = null }, f.Values)).ToArray();
                    }),
                    cv_constant = tails.Select(t => past.Law.Predict(StackSelection.Counterpart(t) with { Steps = [t.Steps[^1]] }, past.Values)[0]).ToArray(),
                };
            }
            sizes.Add(new
            {
                size,
                published = bench.PublishedMetrics(size),
                cut,
                tails = tails.Select(t => new { run = t.Name, step = t.Steps[^1], observed = t.Observed![^1], observed_points = t.Observed }).ToArray(),
                other_cuts = other.ToDictionary(c => c.Item1, c => new { cut = c.Item2, tails = c.Split.Tails.Select(t => new { run = t.Name, observed_points = t.Observed }).ToArray() }),
                tests = tests.Select(t => new { run = t.Name, observed = t.Observed }).ToArray(),
                members,
            });
            Console.WriteLine($"fitted {size}");
        }
        File.WriteAllText(output, JsonSerializer.Serialize(sizes));
        Console.WriteLine($"wrote {output}");
    }
}
