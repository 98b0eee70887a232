using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anneal.Tuning;

namespace Anneal.Bench;

/// <summary>
/// The tabular tuning benchmark of docs/tuning.md (Klein &amp; Hutter-style): every configuration's full
/// validation-loss curve was recorded once by the engine, and sweeps are replayed from the table, so a pruned trial
/// costs only the steps it ran and many seeds cost no training. Three kinds of table per workload:
/// <list type="bullet">
/// <item><c>lr</c>: data/tuning/&lt;workload&gt;/ (bench/tuning/record_lr_table.sh): peak learning rate (a geometric
/// series, searched as its index: an integer on the log scale) x schedule shape (constant, cosine, WSD cooldowns), 1000 steps.</item>
/// <item><c>large</c>: data/tuning/&lt;workload&gt;-large/, the same with 10 peaks x 8 shapes (80 configurations).</item>
/// <item><c>schedules</c>: data/corpora/&lt;workload&gt;/ seed 1: 11 schedule shapes x 2 horizons at one peak.</item>
/// </list>
/// Target: a complete trial within 0.5% of the table's best final value (the large table: at most the 5th best's);
/// each table also as "-best" (lr-best, large-best, schedules-best), with the best configuration's final value as the
/// target (declared for every table before any sweep ran on them). For each method and seed one worker runs
/// trials until one reaches the target (at most <see cref="Bench.MaxTrials"/>): steps-to-target is the sum of the steps
/// every trial ran until then, wall-clock-to-target those steps at the workload's measured seconds per training step
/// plus the tuner's own measured time (sampling, pruning, forecasting). Performance profiles in the AlgoPerf style
/// (Dahl et al. 2023): over the (table, seed) problems, the fraction where a method reaches the target within τ x
/// the cost of the best method on that problem.
/// </summary>
public static class TuningTable
{
    private static readonly string[] Shapes = ["constant", "cosine", "cosine10", "linear", "step", "wsd_lin10", "wsd_lin20", "wsd_lin40", "wsd_lin60", "wsd_lin80", "wsd_sqrt20"];

    // Seconds per training step of one engine run (one thread, batch 16 x 64, evaluation every 100 steps included),
    // measured while the corpora were recorded (data/corpora/README.md, "Cost"): what a replayed step would have cost.
    private static readonly Dictionary<string, double> SecondsPerStep = new() { ["gpt-tiny"] = 0.0998, ["mlp"] = 0.0528 };

    /// <summary>
    /// One replayable table: its configurations, the space a study searches and how parameters pick a configuration.
    /// <paramref name="TargetRank"/> 0: the target is the best final value + 0.5%; k &gt; 0: the k-th best
    /// configuration's final value, so exactly k configurations reach it (the large table, where best + 0.5% would
    /// depend on how flat the optimum happens to be; chosen before its curves were recorded).
    /// </summary>
    public sealed record Bench(string Name, string Workload, Dictionary<string, TableEntry> Table, SearchSpace Space, Func<TrialParams, string> Key, int TargetRank = 0)
    {
        public TableEntry BestEntry => Table.Values.MinBy(e => e.Curve[^1].Value)!;
        public double Target => TargetRank > 0 ? Table.Values.Select(e => e.Curve[^1].Value).Order().ElementAt(TargetRank - 1) : BestEntry.Curve[^1].Value * 1.005;
        public string TargetRule => TargetRank == 1 ? "the best configuration's final value" : TargetRank > 0 ? $"the {TargetRank}th best configuration's final value" : "best + 0.5%";
        public long MaxSteps => Table.Values.Max(e => e.Steps);
        public double StepSeconds => SecondsPerStep[Workload];
        /// <summary>Trials a sweep may run: 40, or as many as the table has configurations when it has more.</summary>
        public int MaxTrials => Math.Max(40, Table.Count);
    }

    /// <summary>One sweep's outcome.</summary>
    /// <param name="PrunedAtTarget">pruned trials whose configuration reaches the target (a winner lost), until the target was reached</param>
    public sealed record Outcome(string Table, string Method, int Seed, bool Reached, long Steps, int Trials, double TunerSeconds, bool PrunedBest, long StepsAll, int PrunedAtTarget)
    {
        public double Cost(Bench b) => Reached ? Steps : double.PositiveInfinity;
    }

    private sealed record Method(string Name, Func<int, ISampler> Sampler, Func<Bench, IPruner> Pruner);

    /// <summary>The methods; with <paramref name="risks"/> (--risks) also both forecast methods at each of those risks (<see cref="ForecastPruner.Risk"/>).</summary>
    private static Method[] Methods(IReadOnlyList<double> risks) =>
    [
        new("random", s => new RandomSampler(s), _ => new NopPruner()),
        new("random + median", s => new RandomSampler(s), _ => new MedianPruner(startupTrials: 5, warmupSteps: 0)),
        new("random + ASHA", s => new RandomSampler(s), _ => new SuccessiveHalvingPruner(minResource: 100, reductionFactor: 3)),
        new("random + Hyperband", s => new RandomSampler(s), b => new HyperbandPruner(minResource: 100, maxResource: b.MaxSteps, reductionFactor: 3)),
        new("random + forecast", s => new RandomSampler(s), _ => new ForecastPruner()),
        new("random + oracle", s => new RandomSampler(s), b => new OraclePruner(b)),
        new("random + incumbent oracle", s => new RandomSampler(s), b => new OraclePruner(b, AgainstIncumbent: true)),
        new("random + incumbent oracle 0.5%", s => new RandomSampler(s), b => new OraclePruner(b, AgainstIncumbent: true, Margin: 0.005)),
        new("GP-BO", s => new GpSampler(s), _ => new NopPruner()),
        new("GP-BO + ASHA", s => new GpSampler(s), _ => new SuccessiveHalvingPruner(minResource: 100, reductionFactor: 3)),
        new("GP-BO + forecast", s => new GpSampler(s), _ => new ForecastPruner()),
        .. risks.SelectMany(r => new Method[]
        {
            new(RiskMethod("random", r), s => new RandomSampler(s), _ => new ForecastPruner(risk: r)),
            new(RiskMethod("GP-BO", r), s => new GpSampler(s), _ => new ForecastPruner(risk: r)),
        }),
    ];

    private static string RiskMethod(string sampler, double risk) => string.Create(CultureInfo.InvariantCulture, $"{sampler} + forecast risk {risk:G3}");

    /// <summary>
    /// tuning-table [seeds] [workloads...] [--tables lr,lr-best,large,large-best,schedules,schedules-best] [--methods a,b] [--risks 0.1,0.2] [--optuna FILE]... [--figure SVG] [--export JSON]
    /// (--optuna: outcomes of other tools in the same JSON lines, e.g. bench/tuning/optuna_table.py's; may be repeated;
    /// --risks: both forecast methods again at each of those risks, and the trade-off table)
    /// </summary>
    public static int Main(string[] args)
    {
        int seeds = 5;
        var workloads = new List<string>();
        var kinds = new[] { "lr", "lr-best", "large", "large-best", "schedules", "schedules-best" };
        string? figure = null, export = null;
        var optuna = new List<string>();
        HashSet<string>? only = null;
        var risks = new List<double>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--tables": kinds = args[++i].Split(','); break;
                case "--optuna": optuna.Add(args[++i]); break;
                case "--figure": figure = args[++i]; break;
                case "--export": export = args[++i]; break;
                case "--methods": only = [.. args[++i].Split(',')]; break;
                case "--risks":
                    foreach (var t in args[++i].Split(','))
                        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) && r > 0 && r <= 0.5) risks.Add(r);
                        else { Console.Error.WriteLine($"tuning-table: --risks {t}: a risk is a probability above 0 and at most 0.5 (comma-separated, e.g. --risks 0.1,0.2,0.3)"); return 2; }
                    break;
                case "--verbose": Verbose = true; break;
                case "--decisions": Verbose = true; DecisionsFile = args[++i]; File.WriteAllText(DecisionsFile, "table,method,seed,trial,key,step,low,mid,high,final,prune,reason\n"); break;
                default:
                    if (int.TryParse(args[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)) seeds = s;
                    else workloads.Add(args[i]);
                    break;
            }
        }
        if (figure is not null && !Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(figure))))
        {
            Console.Error.WriteLine($"tuning-table: --figure {figure}: its folder does not exist; create it or name a file in an existing folder");
            return 2;
        }
        foreach (var file in optuna.Where(f => !File.Exists(f)))
        {
            Console.Error.WriteLine($"tuning-table: --optuna {file}: no such file (make it with bench/tuning/optuna_table.py)");
            return 2;
        }
        string[] known = ["lr", "lr-best", "large", "large-best", "schedules", "schedules-best"];
        foreach (var k in kinds.Where(k => !known.Contains(k)))
        {
            Console.Error.WriteLine($"tuning-table: --tables {k}: no such table kind; use a comma-separated list of {string.Join(", ", known)}");
            return 2;
        }
        if (workloads.Count == 0) workloads = ["gpt-tiny", "mlp"];
        var root = FindRoot();
        var benches = new List<Bench>();
        foreach (var kind in kinds)
            foreach (var w in workloads)
                if (Load(root, kind, w) is { } b) benches.Add(b);
                else Console.WriteLine($"(table {kind}/{w} not recorded: skipped)");
        if (export is not null) { Export(benches, export); Console.WriteLine($"wrote {export}"); return 0; }

        var outcomes = new List<Outcome>();
        var methods = Methods(risks).Where(m => only is null || only.Contains(m.Name) || (risks.Count > 0 && m.Name.Contains(" + forecast risk ", StringComparison.Ordinal) && only.Contains(m.Name[..m.Name.IndexOf(" risk ", StringComparison.Ordinal)]))).ToArray();
        foreach (var b in benches)
        {
            Console.WriteLine($"## {b.Name}: {b.Table.Count} configurations, best {b.BestEntry.Key} at {b.BestEntry.Curve[^1].Value:F4}, target {b.Target:F4} ({b.TargetRule}); at target: " +
                string.Join(", ", b.Table.Values.Where(e => e.Curve[^1].Value <= b.Target).Select(e => e.Key)));
            Console.WriteLine();
            foreach (var m in methods)
                for (int seed = 1; seed <= seeds; seed++)
                    outcomes.Add(Sweep(b, m, seed));
            foreach (var file in optuna) outcomes.AddRange(ReadOptuna(file).Where(o => o.Table == b.Name && o.Seed <= seeds));
            PrintTable(b, outcomes.Where(o => o.Table == b.Name).ToList());
        }
        PrintBreakdown();
        PrintSummary(benches, outcomes);
        PrintRisk(benches, outcomes, risks);
        PrintTrialsVsRandom(benches, outcomes);
        PrintProfiles(benches, outcomes, figure);
        return 0;
    }

    private static void PrintTable(Bench b, List<Outcome> os)
    {
        Console.WriteLine("| method | reached (seeds) | median steps to target | median trials | median wall-clock to target (s) | steps per seed | best config pruned (seeds) | target configs pruned (trials) | tuner s per sweep |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |");
        foreach (var g in os.GroupBy(o => o.Method))
        {
            var l = g.OrderBy(o => o.Seed).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {g.Key} | {l.Count(o => o.Reached)}/{l.Count} | {Fmt(Median(l.Select(o => o.Cost(b))))} | {Fmt(Median(l.Select(o => o.Reached ? o.Trials : double.PositiveInfinity)), "F1")} | " +
                $"{Fmt(Median(l.Select(o => Wall(b, o))))} | {string.Join(", ", l.Select(o => o.Reached ? o.Steps.ToString(CultureInfo.InvariantCulture) : $">{o.Steps}"))} | {l.Count(o => o.PrunedBest)} | {l.Sum(o => o.PrunedAtTarget)} | {l.Average(o => o.TunerSeconds):F2} |"));
        }
        Console.WriteLine();
    }

    private static double Wall(Bench b, Outcome o) => o.Reached ? o.Steps * b.StepSeconds + o.TunerSeconds : double.PositiveInfinity;

    /// <summary>The issue's forecast-pruning targets: steps relative to ASHA and to the same sampler unpruned, per table (median over seeds).</summary>
    private static void PrintSummary(List<Bench> benches, List<Outcome> outcomes)
    {
        var pairs = new (string Pruned, string Against)[]
        {
            ("GP-BO + forecast", "GP-BO"), ("GP-BO + forecast", "GP-BO + ASHA"), ("GP-BO + forecast", "random + ASHA"),
            ("random + forecast", "random"), ("random + forecast", "random + ASHA"), ("random + oracle", "random"), ("random + incumbent oracle", "random"), ("random + incumbent oracle 0.5%", "random"), ("GP-BO", "random"),
        };
        Console.WriteLine("## Ratios (median steps to target of the first over the second; in brackets the median of the per-seed ratios)");
        Console.WriteLine();
        Console.WriteLine("| table | " + string.Join(" | ", pairs.Select(p => $"{p.Pruned} / {p.Against}")) + " |");
        Console.WriteLine("| --- |" + string.Concat(Enumerable.Repeat(" ---: |", pairs.Length)));
        foreach (var b in benches)
        {
            var cells = pairs.Select(p =>
            {
                var a = outcomes.Where(o => o.Table == b.Name && o.Method == p.Pruned).OrderBy(o => o.Seed).ToList();
                var c = outcomes.Where(o => o.Table == b.Name && o.Method == p.Against).OrderBy(o => o.Seed).ToList();
                if (a.Count == 0 || c.Count == 0) return "-";
                // A sweep that did not reach the target counts at the steps it spent (a lower bound of its cost): a
                // ratio against it is then an upper bound, marked "<=".
                double ma = Median(a.Select(o => o.Cost(b))), mc = Median(c.Select(o => o.Cost(b)));
                string r = double.IsFinite(ma) && double.IsFinite(mc) ? (ma / mc).ToString("F2", CultureInfo.InvariantCulture)
                    : double.IsFinite(ma) ? "<=" + (ma / Median(c.Select(o => (double)o.Steps))).ToString("F2", CultureInfo.InvariantCulture) : "n/r";
                double pr = Median(a.Zip(c, (x, y) => x.Cost(b) / (y.Reached ? y.Steps : double.PositiveInfinity)));
                return $"{r} ({Fmt(pr, "F2")})";
            });
            Console.WriteLine($"| {b.Name} | {string.Join(" | ", cells)} |");
        }
        Console.WriteLine();
        Console.WriteLine("Trials to target, GP-BO vs random (median): " + string.Join("; ", benches.Select(b =>
        {
            double T(string m) => Median(outcomes.Where(o => o.Table == b.Name && o.Method == m).Select(o => o.Reached ? o.Trials : double.PositiveInfinity));
            return string.Create(CultureInfo.InvariantCulture, $"{b.Name} {Fmt(T("GP-BO"), "F1")} vs {Fmt(T("random"), "F1")}");
        })));
        Console.WriteLine();
    }

    /// <summary>
    /// With --risks: the forecast pruner's trade-off, per sampler and risk (the default first): per table the median
    /// steps to target over the same sampler unpruned and over that sampler + ASHA (a sweep that missed the target counts
    /// as never reaching it, so a median of "n/r" means half the seeds or more lost it), and the seeds in which the
    /// table's best configuration was pruned at least once, summed over the tables, beside ASHA's.
    /// </summary>
    private static void PrintRisk(List<Bench> benches, List<Outcome> outcomes, List<double> risks)
    {
        if (risks.Count == 0) return;
        Console.WriteLine("## Risk trade-off (per table: forecast / unpruned, forecast / same sampler + ASHA, median steps to target; lost: seeds with the best configuration pruned)");
        Console.WriteLine();
        Console.WriteLine("| sampler | risk | " + string.Join(" | ", benches.Select(b => b.Name)) + " | lost (seeds) | ASHA lost (seeds) |");
        Console.WriteLine("| --- | ---: |" + string.Concat(Enumerable.Repeat(" --- |", benches.Count)) + " ---: | ---: |");
        foreach (var sampler in new[] { "random", "GP-BO" })
            foreach (var (risk, name) in risks.Select(r => ((double?)r, RiskMethod(sampler, r))).Prepend((null, $"{sampler} + forecast")))
            {
                if (!outcomes.Any(o => o.Method == name)) continue;
                string R(Bench b, string against)
                {
                    var c = outcomes.Where(o => o.Table == b.Name && o.Method == against).ToList();
                    var a = outcomes.Where(o => o.Table == b.Name && o.Method == name).ToList();
                    if (a.Count == 0 || c.Count == 0) return "-";
                    double ma = Median(a.Select(o => o.Cost(b))), mc = Median(c.Select(o => o.Cost(b)));
                    return double.IsFinite(ma) && double.IsFinite(mc) ? (ma / mc).ToString("F2", CultureInfo.InvariantCulture)
                        : double.IsFinite(ma) ? "<=" + (ma / Median(c.Select(o => (double)o.Steps))).ToString("F2", CultureInfo.InvariantCulture) : "n/r";
                }
                int lost = outcomes.Count(o => o.Method == name && o.PrunedBest);
                int seeds = outcomes.Count(o => o.Method == name);
                int ashaLost = outcomes.Count(o => o.Method == $"{sampler} + ASHA" && o.PrunedBest);
                int ashaSeeds = outcomes.Count(o => o.Method == $"{sampler} + ASHA");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {sampler} | {(risk is { } r ? r.ToString("G3", CultureInfo.InvariantCulture) : "default (0.025)")} | {string.Join(" | ", benches.Select(b => $"{R(b, sampler)}, {R(b, sampler + " + ASHA")}"))} | {lost}/{seeds} | {(ashaSeeds > 0 ? $"{ashaLost}/{ashaSeeds}" : "-")} |"));
            }
        Console.WriteLine();
    }

    /// <summary>
    /// Trials to target of every GP-BO method without pruning against random search, per table: median and mean
    /// (a sweep that missed the target counts at its whole budget, so its mean is a lower bound), the 95% bootstrap
    /// intervals of the differences of means and of medians (10,000 resamples of each method's seeds, independently:
    /// the two samplers share no randomness, so seeds are not pairs), and the one-sided Mann-Whitney p-value that
    /// GP-BO's trials are not smaller (normal approximation with the tie correction).
    /// </summary>
    private static void PrintTrialsVsRandom(List<Bench> benches, List<Outcome> outcomes)
    {
        var gps = outcomes.Select(o => o.Method).Distinct().Where(m => m.StartsWith("GP-BO", StringComparison.Ordinal) && !m.Contains(" + ", StringComparison.Ordinal)).ToList();
        if (gps.Count == 0 || !outcomes.Any(o => o.Method == "random")) return;
        Console.WriteLine("## Trials to target vs random (unreached sweeps count at the budget; intervals: 95% bootstrap; p: one-sided Mann-Whitney)");
        Console.WriteLine();
        Console.WriteLine("| table | method | seeds | reached | median trials | mean trials | random median | random mean | mean difference [95% CI] | median difference [95% CI] | p (fewer) |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |");
        foreach (var b in benches)
        {
            double[] T(string m) => outcomes.Where(o => o.Table == b.Name && o.Method == m).OrderBy(o => o.Seed).Select(o => o.Reached ? (double)o.Trials : b.MaxTrials).ToArray();
            var r = T("random");
            foreach (var m in gps)
            {
                var g = T(m);
                if (g.Length == 0 || r.Length == 0) continue;
                var rng = new Random(12345);
                var dMean = new double[10000];
                var dMedian = new double[10000];
                var gs = new double[g.Length];
                var rs = new double[r.Length];
                for (int k = 0; k < dMean.Length; k++)
                {
                    for (int i = 0; i < gs.Length; i++) gs[i] = g[rng.Next(g.Length)];
                    for (int i = 0; i < rs.Length; i++) rs[i] = r[rng.Next(r.Length)];
                    dMean[k] = gs.Average() - rs.Average();
                    dMedian[k] = Median(gs) - Median(rs);
                }
                Array.Sort(dMean);
                Array.Sort(dMedian);
                int reached = outcomes.Count(o => o.Table == b.Name && o.Method == m && o.Reached);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {b.Name} | {m} | {g.Length} | {reached} | {Median(g):F1} | {g.Average():F2} | {Median(r):F1} | {r.Average():F2} | " +
                    $"{g.Average() - r.Average():F2} [{dMean[249]:F2}, {dMean[9749]:F2}] | {Median(g) - Median(r):F1} [{dMedian[249]:F1}, {dMedian[9749]:F1}] | {MannWhitneyLess(g, r):G2} |"));
            }
        }
        Console.WriteLine();
    }

    /// <summary>One-sided Mann-Whitney U test of "a tends to be smaller than b": the normal approximation's p-value with the tie-corrected variance.</summary>
    internal static double MannWhitneyLess(double[] a, double[] b)
    {
        var all = a.Select(v => (v, A: true)).Concat(b.Select(v => (v, A: false))).OrderBy(x => x.v).ToArray();
        int n = all.Length;
        double rankSumA = 0, tieTerm = 0;
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j < n && all[j].v == all[i].v) j++;
            double rank = (i + 1 + j) / 2.0; // average rank of the tied block
            for (int k = i; k < j; k++) if (all[k].A) rankSumA += rank;
            double t = j - i;
            tieTerm += t * t * t - t;
            i = j;
        }
        double na = a.Length, nb = b.Length;
        double u = rankSumA - na * (na + 1) / 2; // small when a's values are small
        double mean = na * nb / 2, variance = na * nb / 12 * (n + 1 - tieTerm / (n * (double)(n - 1)));
        if (variance <= 0) return 0.5;
        double z = (u + 0.5 - mean) / Math.Sqrt(variance); // continuity correction towards the null
        return Anneal.Tuning.Acquisition.NormalCdf(z);
    }

    /// <summary>
    /// AlgoPerf-style performance profiles over every (table, seed) problem, in steps and in wall-clock: ρ_m(τ), the
    /// fraction of problems where method m reached the target within τ times the best method's cost, at a few τ,
    /// and the AlgoPerf score (the profile's mean over τ in [1, 4]). With <paramref name="figure"/> (a path ending in
    /// .svg), one figure per question (<see cref="Questions"/>), each with its own methods only, next to that path.
    /// </summary>
    private static void PrintProfiles(List<Bench> benches, List<Outcome> outcomes, string? figure)
    {
        var byName = benches.ToDictionary(b => b.Name);
        var problems = outcomes.Select(o => (o.Table, o.Seed)).Distinct().ToList();
        // Only methods run on every problem (AutoLRS's engine runs exist for one table and a few seeds: its rows are in
        // that table, not in the profiles, where a missing run would count as a miss).
        // The oracle is a bound, not a method: it would be the best on nearly every problem and set every τ.
        var methods = outcomes.Select(o => o.Method).Distinct().Where(m => outcomes.Count(o => o.Method == m) == problems.Count && !m.Contains("oracle", StringComparison.Ordinal)).ToList();
        double[] taus = [1, 1.25, 1.5, 2, 3, 4, 10];
        var measures = new (string Name, Func<Outcome, double> Cost)[] { ("steps", o => o.Cost(byName[o.Table])), ("wall-clock", o => Wall(byName[o.Table], o)) };
        foreach (var (measure, cost) in measures)
        {
            var ratios = Ratios(outcomes, problems, methods, cost);
            Console.WriteLine($"## Performance profile ({measure} to target; {problems.Count} problems: {benches.Count} tables x seeds)");
            Console.WriteLine();
            Console.WriteLine("| method | " + string.Join(" | ", taus.Select(t => string.Create(CultureInfo.InvariantCulture, $"ρ(τ={t})"))) + " | score (mean ρ on [1, 4]) |");
            Console.WriteLine("| --- |" + string.Concat(Enumerable.Repeat(" ---: |", taus.Length + 1)));
            foreach (var m in methods)
            {
                var r = ratios[m];
                double Rho(double t) => r.Count(x => x <= t * (1 + 1e-12)) / (double)r.Length;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {m} | {string.Join(" | ", taus.Select(t => Rho(t).ToString("F2", CultureInfo.InvariantCulture)))} | {Score(r):F3} |"));
            }
            Console.WriteLine();
        }
        if (figure is null) return;
        foreach (var (file, title, members) in Questions)
        {
            var here = members.Where(methods.Contains).ToList();
            if (here.Count < 2) continue;
            var curves = measures.ToDictionary(m => m.Name, m => Ratios(outcomes, problems, here, m.Cost));
            var path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(figure))!, Path.GetFileNameWithoutExtension(figure) + "-" + file + ".svg");
            File.WriteAllText(path, ProfileSvg(title, curves, problems.Count));
            Console.WriteLine($"wrote {path} (scores within the figure's methods, steps: " +
                string.Join(", ", here.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m} {Score(curves["steps"][m]):F3}"))) + "; wall-clock: " +
                string.Join(", ", here.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m} {Score(curves["wall-clock"][m]):F3}"))) + ")");
        }
    }

    /// <summary>
    /// The figures' questions, one each (13 methods in one figure are unreadable): which pruner on random search, which
    /// sampler without pruning, and the forecast pruner on GP-BO against the pruned sweeps practitioners run with Optuna.
    /// Each profile's τ is relative to the best of the figure's own methods.
    /// </summary>
    private static readonly (string File, string Title, string[] Methods)[] Questions =
    [
        ("pruners", "Which pruner? (random sampler)", ["random", "random + median", "random + ASHA", "random + Hyperband", "random + forecast"]),
        ("samplers", "Which sampler? (no pruning)", ["random", "GP-BO", "Optuna TPE", "Optuna random"]),
        ("vs-optuna", "GP-BO + forecast vs Optuna TPE with its pruners", ["GP-BO", "GP-BO + forecast", "GP-BO + ASHA", "Optuna TPE", "Optuna TPE + median", "Optuna TPE + ASHA", "Optuna TPE + Hyperband"]),
    ];

    /// <summary>Per method, its cost over the best of <paramref name="methods"/> on each problem (∞ when it missed the target).</summary>
    private static Dictionary<string, double[]> Ratios(List<Outcome> outcomes, List<(string Table, int Seed)> problems, List<string> methods, Func<Outcome, double> cost)
    {
        var ratios = methods.ToDictionary(m => m, _ => new List<double>());
        foreach (var p in problems)
        {
            var here = outcomes.Where(o => o.Table == p.Table && o.Seed == p.Seed && methods.Contains(o.Method)).ToList();
            double best = here.Count == 0 ? double.PositiveInfinity : here.Min(cost);
            foreach (var m in methods)
            {
                var o = here.FirstOrDefault(x => x.Method == m);
                ratios[m].Add(o is null || !double.IsFinite(best) ? double.PositiveInfinity : cost(o) / best);
            }
        }
        return ratios.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
    }

    /// <summary>AlgoPerf score: the profile's mean over τ in [1, 4], integrated exactly (ρ changes only at the ratios).</summary>
    private static double Score(IReadOnlyCollection<double> ratios) =>
        // ∫_1^4 ρ(τ) dτ / 3 with ρ(τ) = #{r ≤ τ}/n = (1/n) Σ_i max(0, 4 − max(1, r_i)).
        ratios.Sum(r => r <= 4 ? 4 - Math.Max(1, r) : 0) / ratios.Count / 3;

    /// <summary>
    /// Two panels (steps, wall-clock) of step-function profiles and a legend beside them. Lines are drawn exactly at
    /// their values (no offsets, so none crosses 1.0); methods with equal profiles stay visible because each is drawn
    /// narrower than the one before it, in its own colour and dash pattern.
    /// </summary>
    private static string ProfileSvg(string title, Dictionary<string, Dictionary<string, double[]>> curves, int problems)
    {
        const int pw = 380, ph = 260, left = 60, top = 58, gap = 75, legendWidth = 270;
        const double tauMax = 10;
        string[] colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"];
        string[] dashes = ["", "8,4", "2,3", "10,3,2,3", "", "5,5", "1,4"];
        var methods = curves.First().Value.Keys.ToList();
        int width = left + 2 * pw + gap + 30 + legendWidth, height = top + ph + 50;
        double W(int i) => 1.5 + 1.0 * (methods.Count - 1 - i); // the first drawn is the widest
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + pw + gap / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{System.Security.SecurityElement.Escape(title)}</text>\n");
        int panel = 0;
        foreach (var (measure, byMethod) in curves)
        {
            double x0 = left + panel * (pw + gap);
            double X(double tau) => x0 + pw * Math.Log(tau) / Math.Log(tauMax);
            double Y(double rho) => top + ph * (1 - rho);
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 + pw / 2}\" y=\"{top - 10}\" text-anchor=\"middle\" font-size=\"13\">{measure} to target ({problems} problems)</text>\n");
            foreach (var t in new double[] { 1, 1.5, 2, 3, 4, 6, 10 })
            {
                sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(t):F1}\" y1=\"{top}\" x2=\"{X(t):F1}\" y2=\"{top + ph}\" stroke=\"#e4e4e4\"/>");
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(t):F1}\" y=\"{top + ph + 15}\" text-anchor=\"middle\">{t}</text>\n");
            }
            foreach (var r in new[] { 0, 0.25, 0.5, 0.75, 1 })
            {
                sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" y1=\"{Y(r):F1}\" x2=\"{x0 + pw}\" y2=\"{Y(r):F1}\" stroke=\"#e4e4e4\"/>");
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 - 6}\" y=\"{Y(r) + 4:F1}\" text-anchor=\"end\">{r}</text>\n");
            }
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 + pw / 2}\" y=\"{top + ph + 34}\" text-anchor=\"middle\">τ = cost / best cost on the problem (log scale)</text>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate({x0 - 40},{top + ph / 2}) rotate(-90)\" text-anchor=\"middle\">fraction of problems within τ</text>\n");
            int ci = 0;
            foreach (var (m, ratios) in byMethod)
            {
                var sorted = ratios.Where(r => r <= tauMax).Order().ToArray();
                var pts = new List<string> { string.Create(CultureInfo.InvariantCulture, $"{X(1):F1},{Y(0):F1}") };
                double rho = 0;
                foreach (var r in sorted)
                {
                    double t = Math.Max(r, 1);
                    pts.Add(string.Create(CultureInfo.InvariantCulture, $"{X(t):F1},{Y(rho):F1}"));
                    rho += 1.0 / ratios.Length;
                    pts.Add(string.Create(CultureInfo.InvariantCulture, $"{X(t):F1},{Y(rho):F1}"));
                }
                pts.Add(string.Create(CultureInfo.InvariantCulture, $"{X(tauMax):F1},{Y(rho):F1}"));
                string dash = dashes[ci % dashes.Length] is { Length: > 0 } d ? $" stroke-dasharray=\"{d}\"" : "";
                sb.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{string.Join(' ', pts)}\" fill=\"none\" stroke=\"{colors[ci % colors.Length]}\" stroke-width=\"{W(ci):F1}\"{dash} stroke-linejoin=\"round\" opacity=\"0.8\"/>\n");
                ci++;
            }
            // the frame over the lines, so a profile at 1.0 or 0 runs along the edge, not outside it
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x0}\" y=\"{top}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#444\"/>\n");
            panel++;
        }
        double lx = left + 2 * pw + gap + 25;
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{lx}\" y=\"{top + 4}\" font-weight=\"bold\">method (AlgoPerf score, steps)</text>\n");
        for (int i = 0; i < methods.Count; i++)
        {
            double ly = top + 28 + 24 * i;
            string dash = dashes[i % dashes.Length] is { Length: > 0 } d ? $" stroke-dasharray=\"{d}\"" : "";
            double score = Score(curves.First().Value[methods[i]]);
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{lx}\" y1=\"{ly - 4}\" x2=\"{lx + 36}\" y2=\"{ly - 4}\" stroke=\"{colors[i % colors.Length]}\" stroke-width=\"{Math.Min(W(i), 6):F1}\"{dash}/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{lx + 44}\" y=\"{ly}\">{System.Security.SecurityElement.Escape(methods[i])} ({score:F2})</text>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    /// <summary>
    /// Wall and CPU time per GP proposal with 200 finished trials (the setup of <see cref="TuningBenchmarks"/>), over a
    /// sequence of proposals by one sampler (so one in five refits its hyperparameters), single-threaded.
    /// </summary>
    public static int Propose(string[] args)
    {
        int count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50;
        var b = new TuningBenchmarks();
        b.Setup();
        foreach (var (name, run) in new (string, Func<TrialParams>)[] { ("log-EI, warm", b.Warm), ("log-EI, refit every proposal", b.WarmRefitEach), ("noisy EI, warm", b.WarmNoisy), ("log-EI, cold (new sampler)", b.Cold) })
        {
            run();
            var proc = Process.GetCurrentProcess();
            var cpu0 = proc.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            int n = name.Contains("cold", StringComparison.Ordinal) ? Math.Max(3, count / 10) : count;
            var cpus = new List<double>();
            var walls = new List<double>();
            for (int i = 0; i < n; i++)
            {
                var c0 = Process.GetCurrentProcess().TotalProcessorTime;
                var w0 = Stopwatch.GetTimestamp();
                run();
                walls.Add(Stopwatch.GetElapsedTime(w0).TotalMilliseconds);
                cpus.Add((Process.GetCurrentProcess().TotalProcessorTime - c0).TotalMilliseconds);
            }
            double wall = sw.Elapsed.TotalMilliseconds / n, cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / n;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {n} | {wall:F1} | {Median(walls):F1} | {walls.Max():F1} | {cpu:F1} | {Median(cpus):F1} | {cpus.Max():F1} |"));
        }
        return 0;
    }

    private static bool Verbose;

    /// <summary>--decisions FILE: every forecast the pruner made (CSV), with the trial's real final value, for calibration.</summary>
    private static string? DecisionsFile;

    /// <summary>
    /// The forecast pruner replayed on the live sweeps' trials (bench/tuning/live/curves.json: every trial's reported
    /// validation losses, read from the stores of the unpruned sweeps of docs/tuning.md, "Live engine sweeps"). For each
    /// unpruned sweep (random, GP-BO, Optuna TPE; 5 seeds each) the trials are replayed in their order: trial k reports
    /// its recorded values to the pruner with trials 0..k-1 complete. Counts the trials pruned, those pruned although
    /// they end better than the incumbent they were judged against (winners lost), and the steps to the target had the
    /// same trials been proposed (the samplers' feedback from pruned trials is not replayed), against the same sequence
    /// unpruned and against a pruner that stops, at the first report, every trial that ends worse than the incumbent
    /// (the most any pruner judging against the incumbent could save).
    /// </summary>
    public static int LiveReplay(string[] args)
    {
        bool verbose = args.Contains("--verbose");
        var root = FindRoot();
        var live = Path.Combine(root, "bench", "tuning", "live");
        double target = JsonNode.Parse(File.ReadAllText(Path.Combine(live, "target.json")))!["target"]!.GetValue<double>();
        var sweeps = JsonNode.Parse(File.ReadAllText(Path.Combine(live, "curves.json")))!.AsArray();
        var pruner = new ForecastPruner();
        Console.WriteLine("| sweep | trials to target | steps unpruned | steps with forecast | ratio | oracle steps | oracle ratio | pruned | winners lost |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        var ratios = new List<double>();
        var oracleRatios = new List<double>();
        int prunedAll = 0, lostAll = 0, judged = 0, forecasts = 0, below = 0, above = 0;
        var absErr = new List<double>();
        var width = new List<double>();
        foreach (var sw in sweeps)
        {
            string name = sw!["sweep"]!.GetValue<string>();
            if (!(name.StartsWith("random-s", StringComparison.Ordinal) || name.StartsWith("GP-BO-s", StringComparison.Ordinal) || name.StartsWith("Optuna-TPE-s", StringComparison.Ordinal))) continue;
            var trials = sw["trials"]!.AsArray().Where(t => t!["state"]!.GetValue<string>() == "complete").Select(t =>
            {
                var pr = t!["params"]!;
                string sched = string.Create(CultureInfo.InvariantCulture,
                    $"wsd(peak={pr["peak"]!.GetValue<double>()}, total=300, warmup=15, decay={pr["decay"]!.GetValue<double>()}, shape={pr["shape"]!.GetValue<string>()})");
                var reps = t["reports"]!.AsArray().Select(r => new Report(r![0]!.GetValue<long>(), r[1]!.GetValue<double>())).ToArray();
                return (Number: t["number"]!.GetValue<int>(), Schedule: sched, Reports: reps, Final: reps[^1].Value);
            }).OrderBy(t => t.Number).ToList();
            long unpruned = 0, with = 0, oracle = 0;
            int pruned = 0, lost = 0, n = 0;
            var done = new List<TrialRecord>();
            foreach (var t in trials)
            {
                n++;
                var rec = new TrialRecord(t.Number, new TrialParams([]), TrialState.Running, null, []) { Schedule = t.Schedule, PlannedSteps = 300 };
                long ran = 300;
                foreach (var r in t.Reports)
                {
                    rec = rec with { Reports = [.. rec.Reports, r] };
                    var d = pruner.Decide("live", rec, [.. done, rec]);
                    if (d.SetAttributes is { } set)
                    {
                        var a = new Dictionary<string, double>(rec.Attributes);
                        foreach (var kv in set) a[kv.Key] = kv.Value;
                        rec = rec with { Attributes = a };
                    }
                    if (verbose && d.Reason is not null) Console.WriteLine($"  {name} trial {t.Number} step {r.Step}: {d.Reason} (final {t.Final:F4})");
                    if (d.SetAttributes is { } at && at.TryGetValue("forecast_low", out var lo) && at.TryGetValue("forecast_high", out var hi) && double.IsFinite(lo))
                    {
                        forecasts++;
                        if (t.Final < lo) below++;
                        if (t.Final > hi) above++;
                        absErr.Add(Math.Abs(at[ForecastPruner.ForecastKey] - t.Final));
                        width.Add(hi - lo);
                    }
                    if (d.Prune) { ran = r.Step + 1; break; }
                }
                double inc = done.Count == 0 ? double.PositiveInfinity : done.Min(x => x.Value!.Value);
                if (done.Count > 0) judged++;
                if (ran < 300) { pruned++; if (t.Final < inc) lost++; }
                unpruned += 300;
                with += ran;
                oracle += done.Count > 0 && t.Final >= inc && t.Final > target ? t.Reports[0].Step + 1 : 300;
                done.Add(new TrialRecord(t.Number, new TrialParams([]), TrialState.Complete, t.Final, t.Reports) { Schedule = t.Schedule, PlannedSteps = 300 });
                if (t.Final <= target) break;
            }
            prunedAll += pruned;
            lostAll += lost;
            ratios.Add((double)with / unpruned);
            oracleRatios.Add((double)oracle / unpruned);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {n} | {unpruned} | {with} | {(double)with / unpruned:F2} | {oracle} | {(double)oracle / unpruned:F2} | {pruned} | {lost} |"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"\nmedian ratio {Median(ratios):F2} (oracle {Median(oracleRatios):F2}); trials pruned {prunedAll} of {judged} judged; winners lost {lostAll}; " +
            $"{forecasts} forecasts: final below the band {below}, above {above}, median |error| {Median(absErr):F4}, median band width {Median(width):F4}"));
        return 0;
    }

    private static Outcome Sweep(Bench b, Method m, int seed)
    {
        var objective = new TableObjective(b.Table, b.Key);
        var spec = StudyFile.Parse($"name: table-{seed}\nobjective: {{command: [replay], log: none, steps: {b.MaxSteps}, metric: val_loss}}\nspace: {{x: {{uniform: [0, 1]}}}}\n", "table");
        spec = spec with { Space = b.Space };
        var storage = new InMemoryStudyStorage();
        using var stop = new CancellationTokenSource();
        var stopping = new StoppingObjective(objective, b.Target, stop);
        var log = new DecisionLog(m.Pruner(b));
        var runner = new StudyRunner(spec, m.Sampler(seed), Verbose ? log : log.Inner, storage, stopping) { Plan = p => (objective.Entry(p).Schedule, objective.Entry(p).Steps) };
        // Replaying costs no time, so the sweep's wall time is the tuner's own (sampler, pruner, store in memory).
        var sw = Stopwatch.StartNew();
        runner.Run(new SweepOptions { Trials = b.MaxTrials, Workers = 1, Cores = 1 }, stop.Token);
        double seconds = sw.Elapsed.TotalSeconds;
        var all = storage.Trials().Select(runner.Enrich).ToList();
        long steps = 0;
        int n = 0;
        bool reached = false;
        foreach (var t in all)
        {
            steps += t.StepsRun;
            n++;
            if (t.State == TrialState.Complete && t.Value <= b.Target) { reached = true; break; }
        }
        bool prunedBest = all.Any(t => t.State == TrialState.Pruned && b.Key(t.Params) == b.BestEntry.Key);
        int prunedAtTarget = all.Take(n).Count(t => t.State == TrialState.Pruned && b.Table[b.Key(t.Params)].Curve[^1].Value <= b.Target);
        if (DecisionsFile is not null)
            lock (DecisionsFile)
                foreach (var f in log.Forecasts)
                {
                    var t = all.First(x => x.Number == f.Trial);
                    File.AppendAllText(DecisionsFile, string.Create(CultureInfo.InvariantCulture,
                        $"{b.Name},{m.Name},{seed},{f.Trial},{b.Key(t.Params)},{f.Step},{f.Low},{f.Mid},{f.High},{b.Table[b.Key(t.Params)].Curve[^1].Value},{f.Prune},\"{f.Reason}\"\n"));
                }
        double incumbentNow = double.PositiveInfinity;
        if (Verbose)
            foreach (var t in all)
            {
                double A(string k) => t.Attributes.TryGetValue(k, out var v) ? v : double.NaN;
                double final = b.Table[b.Key(t.Params)].Curve[^1].Value;
                // Where the steps of the trials until the target went: the last reason the pruner gave for not judging
                // (or not pruning) a trial that ran in full, so that the unsaved steps can be attributed to a rule.
                // A trial that ends better than every complete trial before it cannot be pruned by a rule that compares
                // with the incumbent: its steps are no pruner's to save.
                string why = t.State == TrialState.Pruned ? "pruned" : final <= b.Target ? "reaches the target"
                    : final < incumbentNow ? "new incumbent"
                    : log.Judged.Contains(t.Number) ? "judged, kept" : "never judged: " + Category(log.LastReason.GetValueOrDefault(t.Number));
                if (t.State == TrialState.Complete) incumbentNow = Math.Min(incumbentNow, final);
                if (t.Number < n) Breakdown.Add((b.Name, m.Name, why, t.StepsRun));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {b.Name} {m.Name} seed {seed} trial {t.Number} {b.Key(t.Params)} {t.State} steps {t.StepsRun} final {final:F4} forecast {A("forecast"):F4} [{A("forecast_low"):F4}, {A("forecast_high"):F4}] [{why}] {t.Message ?? log.LastReason.GetValueOrDefault(t.Number)}"));
            }
        return new Outcome(b.Name, m.Name, seed, reached, steps, n, seconds, prunedBest, all.Sum(t => t.StepsRun), prunedAtTarget);
    }

    /// <summary>With --verbose: (table, method, where the steps went, steps) for every trial until the target.</summary>
    private static readonly List<(string Table, string Method, string Why, long Steps)> Breakdown = [];

    /// <summary>The rule a reason names, without its numbers (the breakdown's category).</summary>
    private static string Category(string? reason) => reason is null ? "no reason given" : reason.Split(':', '(')[0].Trim();

    /// <summary>
    /// Records, for --verbose, the last reason a pruner gave at each trial's reports and whether it ever forecast the
    /// trial (a decision carrying a band), so the steps it did not save can be attributed to the rule that let them run.
    /// </summary>
    private sealed class DecisionLog(IPruner inner) : IPruner
    {
        public IPruner Inner => inner;
        public Dictionary<int, string> LastReason { get; } = [];
        public HashSet<int> Judged { get; } = [];
        public List<(int Trial, long Step, double Low, double Mid, double High, bool Prune, string Reason)> Forecasts { get; } = [];
        public string Name => inner.Name;

        public PruneDecision Decide(string studyName, TrialRecord trial, IReadOnlyList<TrialRecord> trials)
        {
            var d = inner.Decide(studyName, trial, trials);
            if (d.Reason is not null) LastReason[trial.Number] = d.Reason;
            if (d.SetAttributes is { } a && a.TryGetValue("forecast_low", out var lo) && double.IsFinite(lo))
            {
                Judged.Add(trial.Number);
                Forecasts.Add((trial.Number, trial.Reports[^1].Step, lo, a[ForecastPruner.ForecastKey], a["forecast_high"], d.Prune, d.Reason ?? ""));
            }
            return d;
        }
    }

    /// <summary>With --verbose: the steps until the target per table and method, by where they went.</summary>
    private static void PrintBreakdown()
    {
        if (Breakdown.Count == 0) return;
        Console.WriteLine("## Where the steps to target went (sum over seeds; --verbose)");
        Console.WriteLine();
        Console.WriteLine("| table | method | category | trials | steps |");
        Console.WriteLine("| --- | --- | --- | ---: | ---: |");
        foreach (var g in Breakdown.GroupBy(x => (x.Table, x.Method, x.Why)).OrderBy(g => g.Key.Table).ThenBy(g => g.Key.Method).ThenByDescending(g => g.Sum(x => x.Steps)))
            Console.WriteLine($"| {g.Key.Table} | {g.Key.Method} | {g.Key.Why} | {g.Count()} | {g.Sum(x => x.Steps)} |");
        Console.WriteLine();
    }

    /// <summary>
    /// A bound, not a method: knows the table and stops every trial whose configuration misses the target at its first
    /// report. With the random sampler (whose proposals do not depend on the pruner) its steps to target are the least
    /// any pruner could spend on the same sequence of trials: the complete trials at the target, plus one report of
    /// every other trial.
    /// </summary>
    /// <remarks>
    /// With <paramref name="AgainstIncumbent"/>: the bound of a pruner that compares with the incumbent (as the forecast
    /// pruner does) and does not know the target: it stops, at its first report, every trial that misses the target
    /// and ends no better than the best complete trial so far; the first trial and every new incumbent run in full.
    /// With a <paramref name="Margin"/> (0.005: 0.5%) it stops only the trials that end more than that fraction above the
    /// incumbent: the bound of such a pruner that cannot tell finals apart closer than the margin (a configuration
    /// proposed again ends exactly at its first run's value in a replay, and the configurations of the schedule tables
    /// end within 0.3% of each other; a forecast from 10-20% of a run whose band ends are honest cannot separate those).
    /// </remarks>
    private sealed class OraclePruner(Bench b, bool AgainstIncumbent = false, double Margin = 0) : IPruner
    {
        public string Name => "oracle";

        public PruneDecision Decide(string studyName, TrialRecord trial, IReadOnlyList<TrialRecord> trials)
        {
            double final = b.Table[b.Key(trial.Params)].Curve[^1].Value;
            if (!AgainstIncumbent) return new(final > b.Target);
            double incumbent = trials.Where(t => t.State == TrialState.Complete && t.Value is not null).Select(t => t.Value!.Value).DefaultIfEmpty(double.PositiveInfinity).Min();
            return new(final > b.Target && final >= incumbent * (1 + Margin));
        }
    }

    /// <summary>Stops the sweep once a trial completes at the target (steps-to-target needs no more).</summary>
    private sealed class StoppingObjective(ITrialObjective inner, double target, CancellationTokenSource stop) : ITrialObjective
    {
        public TrialResult Run(TrialContext context)
        {
            var r = inner.Run(context);
            if (r.State == TrialState.Complete && r.Value <= target) stop.Cancel();
            return r;
        }
    }

    private static Bench? Load(string root, string kind, string workload) => kind switch
    {
        "schedules" => LoadSchedules(root, workload, 0),
        "lr" => LoadLr(root, "lr", workload, workload, 0),
        // "-best": every table again with the target "find the best configuration" (its final value; one configuration
        // reaches it). Declared for every table at once in session 9, before any sweep was run on the new rows, by the
        // rule large-best already followed: on the tables where the first targets are reached in 2-4 trials, the first
        // trial and the winner run in full whatever a pruner does, so they cannot measure what pruning is worth.
        "lr-best" => LoadLr(root, "lr-best", workload, workload, 1),
        "schedules-best" => LoadSchedules(root, workload, 1),
        // 80 configurations; target: the 5th best (top ~6%), declared before the table was recorded
        "large" => LoadLr(root, "large", workload, workload + "-large", 5),
        // the same table with the harder target "find the best configuration" (added after the first results, when
        // the 5th-best target turned out to be reached in 4-6 trials, too few for any pruner to save half the steps)
        "large-best" => LoadLr(root, "large-best", workload, workload + "-large", 1),
        _ => throw new ArgumentException($"unknown table kind '{kind}' (lr, lr-best, large, large-best, schedules or schedules-best)"),
    };

    private static List<Report> ReadCurve(string file, long below) => File.ReadLines(file).Skip(1).Select(l => l.Split(','))
        .Where(c => c.Length > 3 && c[3].Length > 0)
        .Select(c => new Report(long.Parse(c[0], CultureInfo.InvariantCulture), double.Parse(c[3], CultureInfo.InvariantCulture)))
        .Where(r => r.Step < below).ToList();

    /// <summary>A learning-rate table of bench/tuning/record_lr_table.sh (data/tuning/<paramref name="folder"/>): peak (integer index on the log scale) x shape.</summary>
    private static Bench? LoadLr(string root, string kind, string workload, string folder, int targetRank)
    {
        var dir = Path.Combine(root, "data", "tuning", folder);
        var file = Path.Combine(dir, "table.json");
        if (!File.Exists(file)) return null;
        var t = JsonNode.Parse(File.ReadAllText(file))!;
        long steps = t["steps"]!.GetValue<long>();
        var configs = t["configurations"]!.AsArray().Select(c => (Key: c!["key"]!.GetValue<string>(), Shape: c["shape"]!.GetValue<string>(), Peak: c["peak"]!.GetValue<double>(),
            Schedule: c["schedule"]!.GetValue<string>(), File: c["file"]!.GetValue<string>())).ToList();
        var peaks = configs.Select(c => c.Peak).Distinct().Order().ToArray();
        var shapes = configs.Select(c => c.Shape).Distinct().ToArray();
        var table = configs.ToDictionary(c => c.Key, c => new TableEntry(c.Key, c.Schedule, steps, ReadCurve(Path.Combine(dir, c.File), steps)));
        // The peaks are a geometric series: searched as their index, an integer on the log scale a sampler can model.
        var space = new SearchSpace([("lr_index", new IntegerDomain(0, peaks.Length - 1)), ("shape", new CategoricalDomain(shapes))]);
        var keys = configs.ToDictionary(c => (Array.IndexOf(peaks, c.Peak), c.Shape), c => c.Key);
        return new Bench($"{kind}/{workload}", workload, table, space, p => keys[((int)p["lr_index"].Number, p["shape"].Text!)], targetRank);
    }

    /// <summary>The schedule table: the seed-1 runs of data/corpora/&lt;workload&gt;, 11 shapes x 2 horizons.</summary>
    private static Bench? LoadSchedules(string root, string workload, int targetRank)
    {
        var dir = Path.Combine(root, "data", "corpora", workload);
        if (!File.Exists(Path.Combine(dir, "corpus.json"))) return null;
        var corpus = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "corpus.json")))!;
        var runs = corpus["runs"]!.AsArray().Select(r => (File: r!["file"]!.GetValue<string>(), Schedule: r["schedule"]!.GetValue<string>())).ToList();
        var cosines = runs.Where(r => r.File.StartsWith("cosine_T", StringComparison.Ordinal) && r.File.EndsWith("_s1.csv", StringComparison.Ordinal))
            .Select(r => long.Parse(r.File["cosine_T".Length..^"_s1.csv".Length], CultureInfo.InvariantCulture)).Order().ToArray();
        var table = new Dictionary<string, TableEntry>();
        foreach (var h in cosines)
            foreach (var shape in Shapes)
            {
                var file = shape == "constant" ? "constant_s1.csv" : $"{shape}_T{h}_s1.csv";
                var run = runs.FirstOrDefault(r => r.File == file);
                if (run.File is null) return null; // a corpus without this run (another design): not this table
                table[$"{shape}_T{h}"] = new TableEntry($"{shape}_T{h}", run.Schedule, h, ReadCurve(Path.Combine(dir, file), h));
            }
        var horizons = cosines.Select(h => h.ToString(CultureInfo.InvariantCulture)).ToArray();
        var space = new SearchSpace([("schedule", new CategoricalDomain(Shapes)), ("horizon", new CategoricalDomain(horizons))]);
        return new Bench($"{(targetRank == 1 ? "schedules-best" : "schedules")}/{workload}", workload, table, space, p => $"{p["schedule"].Text}_T{p["horizon"].Text}", targetRank);
    }

    /// <summary>
    /// Writes the tables as JSON for peers (bench/tuning/optuna_table.py): per table its target, best key, seconds
    /// per step, the space (integer and categorical parameters) and every configuration's parameters and curve.
    /// </summary>
    private static void Export(List<Bench> benches, string path)
    {
        var arr = new JsonArray();
        foreach (var b in benches)
        {
            var space = new JsonArray(b.Space.Parameters.Select(p => (JsonNode)(p.Domain switch
            {
                IntegerDomain d => new JsonObject { ["name"] = p.Name, ["int"] = new JsonArray(d.Low, d.High) },
                CategoricalDomain c => new JsonObject { ["name"] = p.Name, ["choice"] = new JsonArray(c.Choices.Select(x => (JsonNode)JsonValue.Create(x)!).ToArray()) },
                _ => throw new InvalidOperationException("tables have integer and categorical parameters only"),
            })).ToArray());
            // Every point of the space and the configuration it selects (the peer looks keys up by parameters).
            var points = new JsonObject();
            foreach (var combo in Combinations(b.Space))
            {
                var key = b.Key(combo);
                points[string.Join("|", combo.Items.Select(kv => kv.Value.ToString()))] = key;
            }
            arr.Add(new JsonObject
            {
                ["name"] = b.Name, ["workload"] = b.Workload, ["target"] = b.Target, ["best"] = b.BestEntry.Key, ["seconds_per_step"] = b.StepSeconds,
                ["max_trials"] = b.MaxTrials, ["max_steps"] = b.MaxSteps, ["space"] = space, ["points"] = points,
                ["configurations"] = new JsonObject(b.Table.Values.Select(e => new KeyValuePair<string, JsonNode?>(e.Key, new JsonObject
                {
                    ["steps"] = e.Steps,
                    ["curve"] = new JsonArray(e.Curve.Select(r => (JsonNode)new JsonArray(r.Step, r.Value)).ToArray()),
                }))),
            });
        }
        File.WriteAllText(path, arr.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }

    private static IEnumerable<TrialParams> Combinations(SearchSpace space)
    {
        IEnumerable<List<KeyValuePair<string, ParamValue>>> acc = [[]];
        foreach (var (name, domain) in space.Parameters)
        {
            var values = domain.Grid(int.MaxValue / 2);
            acc = acc.SelectMany(a => values.Select(v => new List<KeyValuePair<string, ParamValue>>(a) { new(name, v) })).ToList();
        }
        return acc.Select(a => new TrialParams(a));
    }

    /// <summary>Outcomes written by bench/tuning/optuna_table.py (JSON lines), joined as further methods.</summary>
    private static IEnumerable<Outcome> ReadOptuna(string path) => File.ReadLines(path).Where(l => l.Length > 0).Select(l =>
    {
        var o = JsonNode.Parse(l)!;
        return new Outcome(o["table"]!.GetValue<string>(), o["method"]!.GetValue<string>(), o["seed"]!.GetValue<int>(), o["reached"]!.GetValue<bool>(),
            o["steps"]!.GetValue<long>(), o["trials"]!.GetValue<int>(), o["tuner_seconds"]!.GetValue<double>(), o["pruned_best"]!.GetValue<bool>(), o["steps_all"]!.GetValue<long>(),
            o["pruned_at_target"]?.GetValue<int>() ?? 0);
    });

    private static string Fmt(double v, string f = "F0") => double.IsPositiveInfinity(v) ? "not reached" : v.ToString(f, CultureInfo.InvariantCulture);

    private static double Median(IEnumerable<double> v)
    {
        var s = v.Order().ToArray();
        if (s.Length == 0) return double.NaN;
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Anneal.sln"))) return d.FullName;
        throw new InvalidOperationException("run from inside the repository");
    }
}
