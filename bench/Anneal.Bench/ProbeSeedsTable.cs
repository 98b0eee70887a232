using System.Diagnostics;
using System.Globalization;
using Anneal.Accuracy;
using Anneal.Design;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// Is a second seed of a calibration run worth its compute? On every corpus with seed pairs, for the questions of
/// <see cref="ProbeBranchesTable"/> (first-seed targets ending after H1, the schedules question's cosine horizon: the 10 %
/// cooldowns, and the decays: cosine, cosine to a tenth, linear), three designs fitted on real runs:
/// <list type="bullet">
/// <item><c>a</c>: what <see cref="ProbePlanner.Plan"/> recommends at the baseline's budget (2 H1) among
/// <see cref="ProbeCheck.Menu"/>'s designs (as <c>anneal probe --check</c>, mpl-400m priors);</item>
/// <item><c>b</c>: that design plus the second seed's twin of its cheapest run that has one (the constant run's prefix: the
/// second seed's constant run to the same step; a run from scratch: the second seed's run of the same schedule and horizon; a
/// branch: the second seed's branch, charged its trunk too, since the second seed's constant run must be trained to its branch
/// step), costed at the twin's own steps; fitted as <c>anneal fit</c> fits it, so the twins make a seed ensemble
/// (<see cref="Anneal.Fitting.SeedGroups"/>: each seed fitted apart, the run without a twin in both groups);</item>
/// <item><c>b2</c>: the whole design again in the second seed (every run's twin; the seed ensemble of two equal groups), where
/// every run has one;</item>
/// <item><c>c</c>, <c>c2</c>: the same compute as <c>b</c> (<c>b2</c>) spent on the probe's best non-seed alternative: the
/// lowest simulated RMS error among the designs the corpus realises within that budget and dearer than <c>a</c> (the plan
/// is asked about those alone, with the baseline), re-simulated with every seed, that bracket the targets and have two
/// decaying runs (<see cref="DesignScore.Eligible"/>); <c>a</c> itself where there is none. The probe's margin rule is not
/// applied: at the larger budget it keeps the baseline on these menus, which would leave the extra steps unspent;</item>
/// <item><c>d</c>, <c>d2</c>: the same compute as <c>b</c> (<c>b2</c>) spent on a longer run: <c>a</c> with its constant-rate run
/// trained on by the twin's steps (where the corpus's constant run is that long);</item>
/// </list>
/// Scored as <see cref="ForecastBenchmark.Score"/> scores a row, on the first seed's finals (the protocol's) and, where the
/// second seed ran the target too, on the seed mean (the mean of the two finals: what the schedule yields over seeds).
/// Rows per corpus and question, then pooled. <c>rows.csv</c> holds every forecast.
/// Run: <c>dotnet run -c Release --project bench/Anneal.Bench -- probe-seeds [repo] [corpus-substring|all] [rows.csv]</c>
/// (docs/journal/session-23-probe-seeds.md).
/// </summary>
internal static class ProbeSeedsTable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private const string MeanSuffix = " (seed mean)";

    private sealed record Design(string Tag, string Name, long Cost, IReadOnlyList<CorpusPart> Parts);

    public static void Run(string repo, string? only, string? csv = null)
    {
        using var rows = csv is null ? null : new StreamWriter(csv);
        rows?.WriteLine("corpus,question,tag,design,cost,target,horizon,seed_mean,observed,predicted,low,high");
        var law = LossLaw.Parse("auto");
        // every corpus read once: the reference's (mpl-400m) and the loop's
        var corpora = BandCalibration.Corpora(repo);
        var mpl400 = corpora.First(c => c.Name == "mpl-400m");
        var reference = ProbeReference.Of(mpl400);
        var pooled = new List<(string Corpus, string Question, string Tag, long Cost, TargetForecast[] Seed1, TargetForecast[] Mean)>();
        Console.WriteLine("| corpus | question | design | runs | cost | seed-1 finals: mean / worst / regret / band | seed mean: mean / band |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var corpus in corpora)
        {
            if (only is not null && only != "all" && !corpus.Name.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
            var sw = Stopwatch.StartNew();
            int s1 = corpus.Runs.Min(r => r.Seed);
            var first = corpus.Runs.Where(r => r.Seed == s1).ToArray();
            var second = corpus.Runs.Where(r => r.Seed != s1).ToArray();
            var cosines = first.Where(r => ForecastProtocol.Kind(r) == "cosine").ToArray();
            var constant2 = second.Where(r => ForecastProtocol.Kind(r) == "constant").OrderByDescending(r => r.Horizon).FirstOrDefault();
            if (cosines.Length == 0 || !first.Any(r => ForecastProtocol.Kind(r) == "constant") || second.Length == 0)
            {
                Console.Error.WriteLine($"{corpus.Name}: left out (no constant run and cosine of one seed, or no second seed)");
                continue;
            }
            long h1 = ForecastProtocol.Nominal(cosines.Min(r => r.Horizon));
            var wsd = first.Where(r => ForecastProtocol.Kind(r) == "wsd" && ForecastProtocol.Nominal(r.Horizon) > h1).ToArray();
            var decays = first.Where(r => ForecastProtocol.Kind(r) is "cosine" or "linear" && ForecastProtocol.Nominal(r.Horizon) > h1).ToArray();
            var tens = wsd.Where(r => r.Schedule?.Contains("decay=0.1)") == true || r.Schedule?.Contains("decay=0.1,") == true).ToArray();
            var all = tens.Concat(decays).ToArray();
            if (all.Length == 0) continue;
            // Every target scored twice where the second seed ran it: against the first seed's final, and against the seed mean
            // (the first seed's final window rescaled to the mean of the two seeds' finals, as bench seed-ensemble does).
            var tests = new List<ForecastTarget>();
            foreach (var t in all)
            {
                var t1 = ForecastProtocol.Target(corpus, t);
                tests.Add(t1);
                var twin = Twin(second, t);
                if (twin is null) continue;
                double scale = (t1.ObservedFinal + ForecastProtocol.Target(corpus, twin).ObservedFinal) / 2 / t1.ObservedFinal;
                tests.Add(t1 with { Run = t1.Run with { Name = t1.Run.Name + MeanSuffix, Observed = t1.Run.Observed!.Select(v => v * scale).ToArray() } });
            }
            var cache = new Dictionary<string, LawAccuracy>();
            LawAccuracy FitOf(Design d)
            {
                string key = string.Join(";", d.Parts.Select(p => $"{p.Run.Name}|{p.FirstStep}|{p.EndStep}").Order(StringComparer.Ordinal));
                if (cache.TryGetValue(key, out var hit)) return hit;
                var fit = d.Parts.Select(p => corpus.LawRunOf(p.Run, p.FirstStep, p.EndStep) with { Name = p.EndStep < p.Run.Horizon ? $"{p.Run.Name}[:{p.EndStep}]" : p.Run.Name }).ToArray();
                var split = new ForecastSplit(corpus.Name, "probe-seeds", d.Name, fit, tests, d.Parts.Max(p => p.EndStep)) { StepsPerEpoch = corpus.StepsPerEpoch };
                return cache[key] = ForecastBenchmark.Score(split, law, 0.95, null);
            }
            foreach (var (question, targets) in new[] { ("10 % cooldowns", tens), ("decays", decays) })
            {
                if (targets.Length == 0) continue;
                var names = targets.Select(t => ForecastProtocol.Target(corpus, t).Run.Name).ToHashSet();
                ProbeResult PlanAt(long budget, IReadOnlyList<CorpusDesign> menu, CorpusDesign baseline) => ProbePlanner.Plan(new ProbeRequest(budget, targets.Select(Spec).ToArray())
                {
                    Candidates = menu.Select(m => m.Design).ToArray(), Baseline = baseline.Design, References = [reference],
                });
                var (menu, baseline) = ProbeCheck.Menu(corpus, all, 2 * h1);
                if (baseline is null) { Console.Error.WriteLine($"{corpus.Name}: no constant + cosine at H1 = {h1} in the menu"); break; }
                var plan = PlanAt(2 * h1, menu, baseline);
                var pick = menu.First(m => m.Design.Key == plan.Recommended.Design.Key);
                var a = new Design("a", pick.Design.Name, pick.Design.Cost, pick.Parts);
                // The twins of the pick's runs, each with its own cost.
                var twins = pick.Parts.Select(p => TwinPart(p, second, constant2)).ToArray();
                var designs = new List<Design> { a };
                var available = twins.Select((t, i) => (t, i)).Where(x => x.t is not null).ToArray();
                if (available.Length > 0)
                {
                    var (cheapest, _) = available.OrderBy(x => x.t!.Value.Cost).ThenBy(x => x.i).First();
                    designs.Add(new Design("b", $"{a.Name} + {Label(cheapest!.Value.Part)}", a.Cost + cheapest.Value.Cost, [.. a.Parts, cheapest.Value.Part]));
                    if (available.Length == twins.Length)
                    {
                        // The whole design in the second seed: its constant run's prefix once, its branches' cooldowns only.
                        var parts2 = twins.Select(t => t!.Value.Part).ToArray();
                        long cost2 = parts2.Sum(p => p.EndStep - p.FirstStep);
                        if (parts2.Any(p => p.FirstStep > 0) && !parts2.Any(p => p.Run == constant2))
                            cost2 += parts2.Max(p => p.FirstStep);  // the second seed's trunk to its last branch step
                        designs.Add(new Design("b2", $"{a.Name} + seed 2's {string.Join(", ", parts2.Select(Label))}", a.Cost + cost2, [.. a.Parts, .. parts2]));
                    }
                }
                foreach (var b in designs.Where(d => d.Tag.StartsWith('b')).ToArray())
                {
                    // The designs that spend more than a (and the baseline, which the plan compares against): the finalists are chosen among them.
                    var (m2, base2) = ProbeCheck.Menu(corpus, all, b.Cost);
                    base2 ??= baseline;
                    m2 = m2.Where(m => m.Design.Cost > a.Cost || m.Design.Key == base2.Design.Key).ToArray();
                    var p2 = PlanAt(b.Cost, m2, base2);
                    var best = p2.Designs.Where(d => d.Finalist && d.Eligible && d.Design.Cost > a.Cost).OrderBy(d => d.RmsError).FirstOrDefault();
                    var c = best is null ? pick : m2.First(m => m.Design.Key == best.Design.Key);
                    designs.Add(new Design("c" + b.Tag[1..], c.Design.Name + (best is null ? " (no eligible design dearer than a)" : ""), c.Design.Cost, c.Parts));
                }
                // A longer run for the same compute: a's constant-rate run trained on by the twin's steps (its branches unchanged).
                var constant1 = first.Where(r => ForecastProtocol.Kind(r) == "constant").OrderByDescending(r => r.Horizon).First();
                foreach (var b in designs.Where(d => d.Tag.StartsWith('b')).ToArray())
                {
                    int i = a.Parts.ToList().FindIndex(p => p.Run == constant1 && p.FirstStep == 0);
                    long longer = i < 0 ? 0 : a.Parts[i].EndStep + b.Cost - a.Cost;
                    if (i < 0 || longer > constant1.Horizon) { Console.Error.WriteLine($"{corpus.Name} {question}: no longer constant run for {b.Tag} ({constant1.Name} ends at {constant1.Horizon})"); continue; }
                    var parts = a.Parts.ToArray();
                    parts[i] = parts[i] with { EndStep = longer };
                    designs.Add(new Design("d" + b.Tag[1..], $"{a.Name}, the constant run to {longer}", b.Cost, parts));
                }
                foreach (var d in designs)
                {
                    var score = FitOf(d);
                    if (score.Failed) { Console.WriteLine($"| {corpus.Name} | {question} | {d.Tag} | {d.Name} | {d.Cost:N0} | failed: {score.Error} | |"); continue; }
                    var f1 = score.Forecasts.Where(f => names.Contains(f.Run)).ToArray();
                    var fm = score.Forecasts.Where(f => f.Run.EndsWith(MeanSuffix) && names.Contains(f.Run[..^MeanSuffix.Length])).ToArray();
                    pooled.Add((corpus.Name, question, d.Tag, d.Cost, f1, fm));
                    foreach (var f in f1.Concat(fm))
                        rows?.WriteLine(string.Join(",", corpus.Name, question, d.Tag, Csv(d.Name), d.Cost, Csv(f.Run), f.Horizon, f.Run.EndsWith(MeanSuffix) ? 1 : 0, F(f.Observed), F(f.Predicted), F(f.Low), F(f.High)));
                    Console.WriteLine($"| {corpus.Name} | {question} | {d.Tag} | {d.Name} | {d.Cost:N0} | {Cells(f1)}{(f1.Count(f => f.RegimeWithheld) is > 0 and var w ? $" ({w} withheld by the regime check)" : "")} | {(fm.Length == 0 ? "-" : $"{Pct(fm.Average(f => f.RelError))} / {fm.Count(f => f.Covered)}/{fm.Length}")} |");
                }
            }
            Console.Error.WriteLine($"{corpus.Name}: {sw.Elapsed.TotalSeconds:F0} s");
        }
        Pooled(pooled);
    }

    private static void Pooled(List<(string Corpus, string Question, string Tag, long Cost, TargetForecast[] Seed1, TargetForecast[] Mean)> rows)
    {
        Console.WriteLine();
        Console.WriteLine("| question | comparison | corpora | forecasts | seed-1 mean err | worst | regret | band | median half-width | seed-mean n | seed-mean err | band | corpora where the first is lower (seed 1 / seed mean) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var question in rows.Select(r => r.Question).Distinct())
        foreach (var (x, y) in new[] { ("b", "a"), ("b", "c"), ("b", "d"), ("b2", "a"), ("b2", "c2"), ("b2", "d2") })
        {
            // Only the corpora where both designs were fitted, so that both sides forecast the same targets.
            var corpora = rows.Where(r => r.Question == question && r.Tag == x).Select(r => r.Corpus)
                .Intersect(rows.Where(r => r.Question == question && r.Tag == y).Select(r => r.Corpus)).ToArray();
            if (corpora.Length == 0) continue;
            int wins1 = 0, winsM = 0, nM = 0;
            foreach (var c in corpora)
            {
                var rx = rows.First(r => r.Corpus == c && r.Question == question && r.Tag == x);
                var ry = rows.First(r => r.Corpus == c && r.Question == question && r.Tag == y);
                if (rx.Seed1.Average(f => f.RelError) < ry.Seed1.Average(f => f.RelError)) wins1++;
                if (rx.Mean.Length > 0) { nM++; if (rx.Mean.Average(f => f.RelError) < ry.Mean.Average(f => f.RelError)) winsM++; }
            }
            foreach (var tag in new[] { x, y })
            {
                var sel = rows.Where(r => r.Question == question && r.Tag == tag && corpora.Contains(r.Corpus)).ToArray();
                var f1 = sel.SelectMany(r => r.Seed1).ToArray();
                var fm = sel.SelectMany(r => r.Mean).ToArray();
                double regret = LawAccuracy.MeanRegret(sel.SelectMany(r => r.Seed1.GroupBy(f => f.Horizon).Select(g => g.ToArray()).Where(g => g.Length >= 2)));
                string who = tag == x ? $"{wins1}/{corpora.Length} / {winsM}/{nM}" : "";
                Console.WriteLine($"| {question} | {x} vs {y}: {tag} | {corpora.Length} | {f1.Length} | {Pct(f1.Average(f => f.RelError))} | {Pct(f1.Max(f => f.RelError))} | {Pct(regret, 3)} | {f1.Count(f => f.Covered)}/{f1.Length} | {Pct(SampleStatistics.Median(f1.Select(f => f.RelHalfWidth)))} | {fm.Length} | {(fm.Length == 0 ? "-" : Pct(fm.Average(f => f.RelError)))} | {fm.Count(f => f.Covered)}/{fm.Length} | {who} |");
            }
        }
    }

    /// <summary>The second seed's run of <paramref name="r"/>'s schedule and nominal horizon (null if it has none).</summary>
    private static CorpusRun? Twin(IEnumerable<CorpusRun> second, CorpusRun r) =>
        second.FirstOrDefault(o => o.Schedule is not null && o.Schedule == r.Schedule && ForecastProtocol.Nominal(o.Horizon) == ForecastProtocol.Nominal(r.Horizon));

    /// <summary>
    /// A design part's second-seed twin and what it costs: the constant run's prefix from the second seed's constant run
    /// (its steps), a run from scratch from its twin (its steps), a branch from the second seed's branch (the trunk to its
    /// branch step as well, which the second seed must train: the branch twin is costed as its own run).
    /// </summary>
    private static (CorpusPart Part, long Cost)? TwinPart(CorpusPart p, IReadOnlyList<CorpusRun> second, CorpusRun? constant2)
    {
        if (ForecastProtocol.Kind(p.Run) == "constant")
            return constant2 is not null && constant2.Horizon >= p.EndStep ? (new CorpusPart(constant2, 0, p.EndStep), p.EndStep) : null;
        var twin = Twin(second, p.Run);
        if (twin is null) return null;
        if (p.FirstStep == 0) return (new CorpusPart(twin, 0, twin.Horizon), twin.Horizon);
        long branch = twin.BranchOf is not null && twin.BranchStep > 0 ? twin.BranchStep : p.FirstStep;
        return (new CorpusPart(twin, branch, twin.Horizon), twin.Horizon);
    }

    private static string Label(CorpusPart p) => p.EndStep < p.Run.Horizon ? $"{p.Run.Name} to {p.EndStep}" : p.Run.Name;

    private static string Cells(TargetForecast[] f) => f.Length == 0 ? "-"
        : $"{Pct(f.Average(x => x.RelError))} / {Pct(f.Max(x => x.RelError))} / {Pct(LawAccuracy.MeanRegret(f.GroupBy(x => x.Horizon).Select(g => g.ToArray()).Where(g => g.Length >= 2)), 3)} / {f.Count(x => x.Covered)}/{f.Length}";

    /// <summary>A corpus run as a probe target (<see cref="ProbeBranchesTable.Spec"/>).</summary>
    private static string Spec(CorpusRun r) => ProbeBranchesTable.Spec(r);

    private static string F(double x) => double.IsFinite(x) ? x.ToString("R", Inv) : "";

    private static string Csv(string x) => "\"" + x.Replace("\"", "'") + "\"";

    private static string Pct(double x, int digits = 2) => double.IsFinite(x) ? (x * 100).ToString("F" + digits, Inv) + " %" : "-";
}
