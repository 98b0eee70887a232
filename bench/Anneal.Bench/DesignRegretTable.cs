using System.Globalization;
using Anneal.Accuracy;
using Anneal.Design;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// What the design objective of an <c>auto</c> law picks among schedules that were trained, before and after session 24: on
/// every corpus's schedules question (the fit of <c>anneal accuracy</c>'s protocol: the constant run to H1 and the cosine at
/// H1), for every horizon with two or more held-out runs of one warmup and peak, the run whose post-warmup rates the
/// objective forecasts lowest, as <c>optimize</c> restricted to the corpus's runs would pick it: before, the multi-power
/// member the design went through (<see cref="DesignProblem.FinalLoss"/>); after, the stack's forecast
/// (<see cref="DesignLaw.Objective"/>). Regret: the picked run's observed final (the protocol's final window) over the best
/// observed of the group, minus 1. Run: <c>dotnet run -c Release --project bench/Anneal.Bench -- design-regret [repo]</c>
/// (docs/journal/session-24-designstack.md).
/// </summary>
internal static class DesignRegretTable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Run(string repo)
    {
        var rows = new List<(string Corpus, long T, int Runs, double Member, double Stack, double MemberKendall, double StackKendall)>();
        Console.WriteLine("| corpus | horizon | runs | picked by the member (regret) | picked by the stack (regret) | best observed |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var corpus in BandCalibration.Corpora(repo))
        {
            if (ForecastProtocol.Splits(corpus).FirstOrDefault(s => s.Question == "schedules") is not { } split) continue;
            var options = corpus.StepsPerEpoch is { } spe ? new FitOptions { Epoch = (spe, $"steps_per_epoch of {corpus.Name}'s corpus.json") } : new FitOptions();
            DesignLaw law;
            try { law = DesignLaw.FromFitted(LawFitter.Fit(new AutoLaw(), split.Fit, options), corpus.Name); }
            catch (InputException e) { Console.Error.WriteLine($"{corpus.Name}: {e.Message}"); continue; }
            if (law.Forecaster is null) continue;
            foreach (var group in split.Tests.GroupBy(t => t.Run.Eta.Length))
            {
                // One warmup and peak per comparison (the design's question); the most common among the group's runs.
                var shaped = group.Select(t => (Target: t, Shape: Shape(t.Run.Eta))).GroupBy(x => x.Shape).MaxBy(g => g.Count())!.ToArray();
                if (shaped.Length < 2) continue;
                var (warmup, peak) = shaped[0].Shape;
                var problem = law.Problem(group.Key, warmup, peak);
                var member = problem.FinalLoss();
                var stack = law.Objective(problem);
                var scored = shaped.Select(x =>
                {
                    var post = x.Target.Run.Eta[checked((int)warmup)..];
                    return (Name: x.Target.Run.Name, Observed: x.Target.ObservedFinal, Member: Safe(() => member.Value(post)), Stack: stack.Value(post));
                }).ToArray();
                double best = scored.Min(s => s.Observed);
                var byMember = scored.MinBy(s => s.Member);
                var byStack = scored.MinBy(s => s.Stack);
                var bestRun = scored.MinBy(s => s.Observed);
                double rm = byMember.Observed / best - 1, rs = byStack.Observed / best - 1;
                rows.Add((corpus.Name, group.Key, scored.Length, rm, rs, Kendall(scored.Select(s => (s.Member, s.Observed))), Kendall(scored.Select(s => (s.Stack, s.Observed)))));
                Console.WriteLine($"| {corpus.Name} | {group.Key} | {scored.Length} | {Short(byMember.Name)} ({Pct(rm)}) | {Short(byStack.Name)} ({Pct(rs)}) | {Short(bestRun.Name)} |");
            }
        }
        Console.WriteLine();
        Console.WriteLine("| objective | corpora | horizons | mean regret | worst | picked the best | mean Kendall tau with the observed order |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        Console.WriteLine($"| multi-power member (before) | {rows.Select(r => r.Corpus).Distinct().Count()} | {rows.Count} | {Pct(rows.Average(r => r.Member), 3)} | {Pct(rows.Max(r => r.Member), 3)} | {rows.Count(r => r.Member <= 0)} | {rows.Average(r => r.MemberKendall):F3} |");
        Console.WriteLine($"| stack's forecast (after) | {rows.Select(r => r.Corpus).Distinct().Count()} | {rows.Count} | {Pct(rows.Average(r => r.Stack), 3)} | {Pct(rows.Max(r => r.Stack), 3)} | {rows.Count(r => r.Stack <= 0)} | {rows.Average(r => r.StackKendall):F3} |");
    }

    /// <summary>A run's linear-warmup length (the first step at its peak) and peak.</summary>
    private static (long Warmup, double Peak) Shape(double[] eta)
    {
        double peak = eta.Max();
        return (Array.FindIndex(eta, x => x >= peak * (1 - 1e-12)), peak);
    }

    /// <summary>The member's forecast; +infinity where it is no forecast (the law does not describe the schedule).</summary>
    private static double Safe(Func<double> f)
    {
        double v = f();
        return double.IsFinite(v) && v > 0 ? v : double.PositiveInfinity;
    }

    /// <summary>Kendall's tau-a between predicted and observed finals.</summary>
    private static double Kendall(IEnumerable<(double P, double O)> xs)
    {
        var a = xs.ToArray();
        int c = 0, n = 0;
        for (int i = 0; i < a.Length; i++)
            for (int j = i + 1; j < a.Length; j++, n++)
                c += Math.Sign(a[i].P - a[j].P) * Math.Sign(a[i].O - a[j].O);
        return n == 0 ? double.NaN : (double)c / n;
    }

    private static string Short(string name) => name.Contains('/') ? name[(name.LastIndexOf('/') + 1)..] : name;

    private static string Pct(double x, int digits = 2) => double.IsFinite(x) ? (x * 100).ToString("F" + digits, Inv) + " %" : "-";
}
