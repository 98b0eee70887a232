using System.Globalization;
using Anneal.Accuracy;
using Anneal.Design;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Bench;

/// <summary>
/// Does <c>optimize</c>'s gain band (<see cref="DesignLaw.GainHalfWidth"/>: the 95 % half-width of L(schedule) - L(reference))
/// cover the gains that were observed? The schedule <c>optimize</c> chooses was never trained on a corpus, so its own gain
/// cannot be checked; what can be is the same band on the schedules that were: on every corpus whose two seeds both ran the
/// schedules question's fitted pair (the constant run to H1 and the cosine at H1), for every first-seed run longer than H1
/// with a schedule (not a constant run), its gain over the cosine to a tenth of the same horizon (<c>optimize</c>'s reference) and over the cosine to 0, as the design layer predicts it
/// (<see cref="DesignLaw.Predict"/>, the final step's loss; observed: the final window's mean, as <c>anneal accuracy</c>) and its
/// band. Two laws, as <c>optimize --law</c> would get them from <c>anneal fit</c>: the first seed's pair alone (one law: delta
/// method and jackknife) and both seeds' pairs (a seed ensemble, <see cref="SeedEnsembleFinalLoss"/>: the groups' half-widths'
/// root mean square plus the largest distance of a group's gain from the ensemble's). Observed gains: the first seed's, and the
/// seed mean's where the second seed ran both schedules (the mean of the two seeds' finals of each). Also the "chosen" row: per
/// horizon the trained schedule the law predicts lowest, what <c>optimize</c> restricted to the corpus's schedules would pick.
/// Run: <c>dotnet run -c Release --project bench/Anneal.Bench -- gain-band [repo]</c> (docs/journal/session-23-probe-seeds.md).
/// </summary>
internal static class GainBandTable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private sealed record Gain(string Corpus, string Law, string Run, bool Chosen, bool SeedMean, double Reference, double Predicted, double Observed, double? HalfWidth)
    {
        /// <summary>The half-width's parts (one law only): the delta method's alone and the refits' spread alone.</summary>
        public (double? Delta, double? Refits) Parts { get; init; }
        /// <summary>The reference's predicted loss (the unit of <see cref="DesignLaw.GainScale"/>).</summary>
        public double ReferencePredicted { get; init; }
        /// <summary>The schedule's own loss band's half-width ((high - low) / 2 of <see cref="DesignLaw.Predict"/>), NaN without one: the gain band if nothing the two forecasts share cancelled.</summary>
        public double Marginal { get; init; } = double.NaN;
        public bool HasBand => HalfWidth is not null;
        public bool Covered => HalfWidth is { } h && Math.Abs(Predicted - Observed) <= h;
    }

    public static void Run(string repo)
    {
        var law = LossLaw.Parse("auto");
        var gains = new List<Gain>();
        var regrets = new List<(string Law, double Regret)>();
        Console.WriteLine("| corpus | law | schedule | reference loss (observed) | gain predicted | observed, seed 1 | observed, seed mean | half-width | covers seed 1 / seed mean |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var corpus in BandCalibration.Corpora(repo))
        {
            if (TwoSeedsTable.Pairs(corpus) is not var (a, s1, _, h, other, constant2, cosine2)) continue;
            if (constant2 is null || cosine2 is null || constant2.Horizon < h) continue;
            IReadOnlyList<LawRun> pair2 = [corpus.LawRunOf(constant2, endStep: h) with { Name = $"{constant2.Name}[:{h}]" }, corpus.LawRunOf(cosine2)];
            var options = corpus.StepsPerEpoch is { } spe ? new FitOptions { Epoch = (spe, $"steps_per_epoch of {corpus.Name}'s corpus.json") } : new FitOptions();
            var laws = new List<(string Name, DesignLaw Law)>();
            foreach (var (name, runs) in new[] { ("one seed", a.Fit), ("seed ensemble", (IReadOnlyList<LawRun>)[.. a.Fit, .. pair2]) })
            {
                try { laws.Add((name, DesignLaw.FromFitted(LawFitter.Fit(law, runs, options), $"{corpus.Name} {name}"))); }
                catch (InputException e) { Console.Error.WriteLine($"{corpus.Name} {name}: {e.Message}"); }
            }
            var first = corpus.Runs.Where(r => r.Seed == s1 && r.Schedule is not null && ForecastProtocol.Kind(r) != "constant" && ForecastProtocol.Nominal(r.Horizon) > ForecastProtocol.Nominal(h)).ToArray();
            foreach (var group in first.GroupBy(r => ForecastProtocol.Nominal(r.Horizon)))
            {
                long total = group.Key;
                // Two references: optimize's, the cosine to a tenth (the cosine of this horizon with the highest final rate), and the
                // cosine to 0 (the lowest: the second seed ran it on more corpora, so more seed-mean gains).
                var cosinesAtT = group.Where(r => ForecastProtocol.Kind(r) == "cosine").OrderByDescending(r => LawRun.FromCurve(r.Curve).Eta[^1]).ToArray();
                if (cosinesAtT.Length == 0) continue;
                foreach (var (refName, reference) in new[] { ("cos10", cosinesAtT[0]), ("cos0", cosinesAtT[^1]) }.DistinctBy(x => x.Item2))
                {
                double Obs(CorpusRun r) => ForecastProtocol.Target(corpus, r).ObservedFinal;
                double? ObsMean(CorpusRun r) => other.FirstOrDefault(o => o.Schedule == r.Schedule && ForecastProtocol.Nominal(o.Horizon) == total) is { } t ? (Obs(r) + Obs(t)) / 2 : null;
                foreach (var (lawName0, dl) in laws)
                {
                    string lawName = $"{lawName0}, vs {refName}";
                    var (refEta, problem) = Rates(dl, reference, total);
                    double refLoss = dl.Predict(problem, refEta).Loss;
                    var rows = new List<Gain>();
                    foreach (var r in group.Where(r => r != reference))
                    {
                        var (eta, p) = Rates(dl, r, total);
                        if (p.Warmup != problem.Warmup || Math.Abs(p.Peak / problem.Peak - 1) > 1e-9) continue;  // gains compare schedules of one warmup and peak
                        var (own, ownBand) = dl.Predict(problem, eta);
                        double pred = own - refLoss;
                        double marginal = ownBand is { } ob ? (ob.High - ob.Low) / 2 : double.NaN;
                        double? hw = dl.GainHalfWidth(problem, refEta, eta);
                        // Where the width comes from (one law): the delta method alone (no refits) and the refits alone (no covariance).
                        var parts = dl.Seeds is null ? ((dl with { Replicates = [] }).GainHalfWidth(problem, refEta, eta), (dl with { Covariance = null }).GainHalfWidth(problem, refEta, eta)) : (null, null);
                        rows.Add(new Gain(corpus.Name, lawName, r.Name, false, false, Obs(reference), pred, Obs(r) - Obs(reference), hw) { Parts = parts, ReferencePredicted = refLoss, Marginal = marginal });
                        if (ObsMean(r) is { } m && ObsMean(reference) is { } mr)
                            rows.Add(new Gain(corpus.Name, lawName, r.Name, false, true, mr, pred, m - mr, hw) { ReferencePredicted = refLoss });
                    }
                    if (rows.Count == 0) continue;
                    // The schedule this law would choose among the trained ones of this horizon: the lowest predicted gain.
                    string chosen = rows.MinBy(x => x.Predicted)!.Run;
                    // Its regret among the trained schedules of this horizon, the reference (gain 0) a candidate too: how much worse the
                    // observed final (seed 1) of the one predicted lowest is than the best observed.
                    var seed1 = rows.Where(x => !x.SeedMean).ToArray();
                    double pickedObserved = seed1.Min(x => x.Predicted) < 0 ? seed1.First(x => x.Run == chosen).Observed : 0;
                    regrets.Add((lawName, (pickedObserved - Math.Min(0, seed1.Min(x => x.Observed))) / seed1[0].Reference));
                    foreach (var g in rows) gains.Add(g with { Chosen = g.Run == chosen });
                    foreach (var run in rows.Select(x => x.Run).Distinct())
                    {
                        var g1 = rows.First(x => x.Run == run && !x.SeedMean);
                        var gm = rows.FirstOrDefault(x => x.Run == run && x.SeedMean);
                        Console.WriteLine($"| {corpus.Name} | {lawName} | {run}{(run == chosen ? " (chosen)" : "")} | {g1.Reference:F4} | {Pct(g1.Predicted / g1.Reference)} | {Pct(g1.Observed / g1.Reference)} | {(gm is null ? "-" : Pct(gm.Observed / gm.Reference))} | {(g1.HalfWidth is { } hw ? Pct(hw / g1.Reference) : "none")} | {(g1.HasBand ? (g1.Covered ? "yes" : "no") : "-")} / {(gm is null || !gm.HasBand ? "-" : gm.Covered ? "yes" : "no")} |");
                    }
                }
                }
            }
        }
        Console.WriteLine();
        Console.WriteLine("| law | horizons | mean regret of the chosen (lowest predicted) trained schedule, seed 1 | worst | chose the best |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var g in regrets.GroupBy(r => r.Law))
            Console.WriteLine($"| {g.Key} | {g.Count()} | {Pct(g.Average(r => r.Regret), 3)} | {Pct(g.Max(r => r.Regret), 3)} | {g.Count(r => r.Regret <= 0)} |");
        Console.WriteLine();
        Calibrate(gains);
        Console.WriteLine();
        Console.WriteLine("| law | observed | schedules | gains | with a band | covered | median half-width (of the reference loss) | its delta-method part alone / refits' part alone (one law) | mean abs gain error | mean abs observed gain | corpora |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var lawName in gains.Select(g => g.Law).Distinct())
        foreach (var seedMean in new[] { false, true })
        foreach (var chosenOnly in new[] { false, true })
        {
            var sel = gains.Where(g => g.Law == lawName && g.SeedMean == seedMean && (!chosenOnly || g.Chosen)).ToArray();
            if (sel.Length == 0) continue;
            var banded = sel.Where(g => g.HasBand).ToArray();
            Console.WriteLine($"| {lawName} | {(seedMean ? "seed mean" : "seed 1")} | {(chosenOnly ? "chosen (lowest predicted)" : "all")} | {sel.Length} | {banded.Length} | {banded.Count(g => g.Covered)}/{banded.Length} | {Pct(SampleStatistics.Median(banded.Select(g => g.HalfWidth!.Value / g.Reference)))} | {Part(sel.Select(g => g.Parts.Delta / g.Reference))} / {Part(sel.Select(g => g.Parts.Refits / g.Reference))} | {Pct(sel.Average(g => Math.Abs(g.Predicted - g.Observed) / g.Reference))} | {Pct(sel.Average(g => Math.Abs(g.Observed) / g.Reference))} | {sel.Select(g => g.Corpus).Distinct().Count()} |");
        }
    }

    /// <summary>
    /// <see cref="DesignLaw.GainScale"/>'s rule, fixed before its errors were read: the narrowest constant g such that
    /// |predicted - observed gain| &lt;= g times the reference's predicted loss for at least 95 % of the gains over the cosine to
    /// a tenth observed on seed 1 (both laws pooled); then each corpus left out (g from the others, coverage of its gains),
    /// and how many gains the band resolves (|predicted gain| greater than the half-width).
    /// </summary>
    private static void Calibrate(IReadOnlyList<Gain> gains)
    {
        var sel = gains.Where(g => g.Law.EndsWith("vs cos10", StringComparison.Ordinal) && !g.SeedMean).ToArray();
        double Rule(IEnumerable<Gain> xs)
        {
            var r = xs.Select(g => Math.Abs(g.Predicted - g.Observed) / g.ReferencePredicted).Order().ToArray();
            return r[Math.Max(0, (int)Math.Ceiling(0.95 * r.Length) - 1)];
        }
        bool Covers(Gain g, double c) => Math.Abs(g.Predicted - g.Observed) <= c * g.ReferencePredicted;
        double all = Rule(sel);
        Console.WriteLine();
        Console.WriteLine($"GainScale rule (vs cos10, seed 1, both laws): {sel.Length} gains on {sel.Select(g => g.Corpus).Distinct().Count()} corpora, g = {all:F5} (in use {DesignLaw.GainScale:F5})");
        Console.WriteLine("| corpus left out | g from the others | its gains covered | resolved (|gain| > g L) |");
        Console.WriteLine("|---|---|---|---|");
        int covered = 0, resolved = 0;
        foreach (var c in sel.GroupBy(g => g.Corpus))
        {
            double gc = Rule(sel.Where(g => g.Corpus != c.Key));
            int cov = c.Count(g => Covers(g, gc)), res = c.Count(g => Math.Abs(g.Predicted) > gc * g.ReferencePredicted);
            covered += cov; resolved += res;
            Console.WriteLine($"| {c.Key} | {gc:F5} | {cov}/{c.Count()} | {res} |");
        }
        Console.WriteLine($"| all, each left out | | {covered}/{sel.Length} | {resolved} |");
        var m = sel.Where(g => double.IsFinite(g.Marginal)).ToArray();
        Console.WriteLine($"the schedule's own loss band as the gain's (nothing cancelled): {m.Length} with a band, covered {m.Count(g => Math.Abs(g.Predicted - g.Observed) <= g.Marginal)}/{m.Length}, median half-width {Pct(m.Length > 0 ? SampleStatistics.Median(m.Select(g => g.Marginal / g.ReferencePredicted)) : double.NaN)} of the loss, resolved {m.Count(g => Math.Abs(g.Predicted) > g.Marginal)}");
        Console.WriteLine($"in sample at g = {all:F5}: covered {sel.Count(g => Covers(g, all))}/{sel.Length}, resolved {sel.Count(g => Math.Abs(g.Predicted) > all * g.ReferencePredicted)}; observed gains larger than g L: {sel.Count(g => Math.Abs(g.Observed) > all * g.ReferencePredicted)}");
    }

    /// <summary>A corpus run's post-warmup rates and the design problem of its horizon, peak and warmup (the first step at the peak).</summary>
    private static (double[] Eta, DesignProblem Problem) Rates(DesignLaw law, CorpusRun r, long total)
    {
        var schedule = Schedule.Parse(r.Schedule!);
        var all = schedule.Sample(checked((int)total));
        double peak = all.Max();
        long warmup = Array.FindIndex(all, x => x >= peak * (1 - 1e-12));
        var problem = law.Problem(total, warmup, peak);
        return (MplFinalLoss.PostWarmup(schedule, total, warmup), problem);
    }

    private static string Part(IEnumerable<double?> xs) => xs.Where(x => x is not null).Select(x => x!.Value).ToArray() is { Length: > 0 } v ? Pct(SampleStatistics.Median(v)) : "-";

    private static string Pct(double x, int digits = 2) => double.IsFinite(x) ? (x * 100).ToString("F" + digits, Inv) + " %" : "-";
}
