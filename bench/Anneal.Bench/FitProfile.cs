using System.Diagnostics;
using System.Globalization;
using Anneal.Evaluation;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// Where the default fit's time goes (docs/benchmarks.md, "Session 12: fit speed"): on the published split of one size,
/// the pre-fit and each of auto's candidates fitted as <see cref="StackFitter"/> fits them (full fit without and with its
/// band refits, and the refit on the fitted runs' past), each timed alone on one thread after warm-up rounds, median of
/// the rounds. Run: <c>dotnet run -c Release --project bench/Anneal.Bench -- fit-profile [repo] [size] [rounds]</c>.
/// </summary>
internal static class FitProfile
{
    public static void Run(string repo, string size, int rounds)
    {
        var bench = MplBenchmark.FromFolder(Path.Combine(repo, "data/examples/mpl"));
        var runs = bench.Runs(size, bench.FitSplit);
        var (heads, _, cut) = StackFitter.FutureCut(runs);
        var options = new FitOptions { KeepBestEvaluated = true };
        var laws = LawRegistry.ParseList("mpl(warmup=reference, drops=continuous),momentum(cap=fit),convex,share,share(clock=level)");
        var rows = new List<(string Name, Action Work)>
        {
            ("pre-fit (full runs)", () => PreFit.Fit(runs, options)),
            ("pre-fit (past)", () => PreFit.Fit(heads, options)),
        };
        foreach (var law in laws)
        {
            rows.Add((law.Spec + " full, no refits", () => LawFitter.Fit(law, runs, options with { Jackknife = false })));
            rows.Add((law.Spec + " full, with refits", () => LawFitter.Fit(law, runs, options)));
            rows.Add((law.Spec + F($" past (to step {cut})"), () => LawFitter.Fit(law, heads, options with { Jackknife = false })));
        }
        rows.Add(("auto", () => LawFitter.Fit(new AutoLaw(), runs, new FitOptions())));
        // Without the third round of alternates (share(clock=level), session 14): what it adds to the default fit.
        rows.Add(("auto without share(clock=level)", () => LawFitter.Fit(new AutoLaw() { Alternates = AutoLaw.DefaultAlternates.Take(2 * AutoLaw.DefaultMembers.Count).ToArray() }, runs, new FitOptions())));
        using var _ = EvaluationParallelism.Sequential();   // one thread: CPU, not wall time under load
        foreach (var (name, work) in rows)
        {
            var t = new List<double>();
            for (int r = 0; r < rounds + 2; r++)
            {
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                work();
                if (r >= 2) t.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds);
            }
            t.Sort();
            Console.WriteLine(F($"{name,-52} {t[t.Count / 2],8:0.0} ms CPU (min {t[0]:0.0})"));
        }
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
