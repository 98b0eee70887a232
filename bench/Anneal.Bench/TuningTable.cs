using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Anneal.Tuning;

namespace Anneal.Bench;

/// <summary>
/// The tabular tuning benchmark of docs/tuning.md. Configurations are the recorded engine runs of
/// data/corpora/{gpt-tiny,mlp} (seed 1): 11 schedule shapes x 2 horizons = 22 configurations, each with its real
/// validation-loss curve (every 100 steps); the constant run is cut at each horizon. A study searches
/// {schedule, horizon} for the lowest final validation loss; a trial replays its configuration's curve, so a pruned
/// trial costs only the steps it ran. Target: within 0.5% of the table's best final value. For each method and seed,
/// one worker runs trials until one reaches the target (at most 40 trials): steps-to-target is the sum of the steps
/// every trial ran until then, trials-to-target their number.
/// </summary>
public static class TuningTable
{
    private static readonly string[] Shapes = ["constant", "cosine", "cosine10", "linear", "step", "wsd_lin10", "wsd_lin20", "wsd_lin40", "wsd_lin60", "wsd_lin80", "wsd_sqrt20"];

    public static int Main(string[] args)
    {
        int seeds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var corpora = args.Length > 1 ? args[1..] : ["gpt-tiny", "mlp"];
        var root = FindRoot();
        foreach (var corpus in corpora)
        {
            var (table, horizons) = Load(Path.Combine(root, "data", "corpora", corpus));
            double best = table.Values.Min(e => e.Curve[^1].Value);
            double target = best * 1.005;
            var bestKey = table.Values.MinBy(e => e.Curve[^1].Value)!.Key;
            Console.WriteLine($"## {corpus}: {table.Count} configurations, best {bestKey} at {best:F4}, target {target:F4} (best + 0.5%); configurations at target: {string.Join(", ", table.Values.Where(e => e.Curve[^1].Value <= target).Select(e => e.Key))}");
            Console.WriteLine();
            Console.WriteLine("| method | median steps to target | median trials to target | steps per seed | best config pruned (seeds) | tuner seconds per seed |");
            Console.WriteLine("| --- | ---: | ---: | --- | ---: | ---: |");
            var methods = new (string Name, Func<int, ISampler> Sampler, Func<IPruner> Pruner)[]
            {
                ("random", s => new RandomSampler(s), () => new NopPruner()),
                ("random + ASHA", s => new RandomSampler(s), () => new SuccessiveHalvingPruner(minResource: 100, reductionFactor: 3)),
                ("random + Hyperband", s => new RandomSampler(s), () => new HyperbandPruner(minResource: 100, maxResource: horizons[^1], reductionFactor: 3)),
                ("GP-BO", s => new GpSampler(s), () => new NopPruner()),
                ("GP-BO + ASHA", s => new GpSampler(s), () => new SuccessiveHalvingPruner(minResource: 100, reductionFactor: 3)),
                ("GP-BO + forecast", s => new GpSampler(s), () => new ForecastPruner(checkpoints: [0.2, 0.4, 0.6, 0.8])),
            };
            foreach (var (name, sampler, pruner) in methods)
            {
                var steps = new List<long>();
                var trials = new List<int>();
                int lost = 0;
                double seconds = 0;
                for (int seed = 1; seed <= seeds; seed++)
                {
                    var sw = Stopwatch.StartNew();
                    var (s, t, prunedBest) = Sweep(table, sampler(seed), pruner(), target, bestKey, seed);
                    seconds += sw.Elapsed.TotalSeconds;
                    steps.Add(s);
                    trials.Add(t);
                    if (prunedBest) lost++;
                }
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {Median(steps.Select(x => (double)x)):F0} | {Median(trials.Select(x => (double)x)):F1} | {string.Join(", ", steps)} | {lost} | {seconds / seeds:F1} |"));
            }
            Console.WriteLine();
        }
        return 0;
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
            for (int i = 0; i < n; i++)
            {
                var c0 = Process.GetCurrentProcess().TotalProcessorTime;
                run();
                cpus.Add((Process.GetCurrentProcess().TotalProcessorTime - c0).TotalMilliseconds);
            }
            double wall = sw.Elapsed.TotalMilliseconds / n, cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / n;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {n} | {wall:F1} | {cpu:F1} | {Median(cpus):F1} | {cpus.Max():F1} |"));
        }
        return 0;
    }

    private static (long Steps, int Trials, bool PrunedBest) Sweep(Dictionary<string, TableEntry> table, ISampler sampler, IPruner pruner, double target, string bestKey, int seed)
    {
        var horizons = table.Values.Select(e => e.Steps).Distinct().Order().Select(h => h.ToString(CultureInfo.InvariantCulture)).ToArray();
        var space = new SearchSpace([("schedule", new CategoricalDomain(Shapes)), ("horizon", new CategoricalDomain(horizons))]);
        string Key(TrialParams p) => $"{p["schedule"].Text}_T{p["horizon"].Text}";
        var objective = new TableObjective(table, Key);
        var spec = StudyFile.Parse($"name: table-{seed}\nobjective: {{command: [replay], log: none, steps: {horizons[^1]}, metric: val_loss}}\nspace: {{x: {{uniform: [0, 1]}}}}\n", "table");
        spec = spec with { Space = space };
        var storage = new InMemoryStudyStorage();
        using var stop = new CancellationTokenSource();
        var stopping = new StoppingObjective(objective, target, stop);
        var runner = new StudyRunner(spec, sampler, pruner, storage, stopping) { Plan = p => (objective.Entry(p).Schedule, objective.Entry(p).Steps) };
        runner.Run(new SweepOptions { Trials = 40, Workers = 1, Cores = 1 }, stop.Token);
        var all = storage.Trials().Select(runner.Enrich).ToList();
        long steps = 0;
        int n = 0;
        foreach (var t in all)
        {
            steps += t.StepsRun;
            n++;
            if (t.State == TrialState.Complete && t.Value <= target) break;
        }
        bool prunedBest = all.Any(t => t.State == TrialState.Pruned && Key(t.Params) == bestKey);
        return (steps, n, prunedBest);
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

    private static (Dictionary<string, TableEntry> Table, long[] Horizons) Load(string dir)
    {
        var corpus = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "corpus.json")))!;
        var runs = corpus["runs"]!.AsArray().Select(r => (File: r!["file"]!.GetValue<string>(), Schedule: r["schedule"]!.GetValue<string>())).ToList();
        var cosines = runs.Where(r => r.File.StartsWith("cosine_T", StringComparison.Ordinal) && r.File.EndsWith("_s1.csv", StringComparison.Ordinal))
            .Select(r => long.Parse(r.File["cosine_T".Length..^"_s1.csv".Length], CultureInfo.InvariantCulture)).Order().ToArray();
        var table = new Dictionary<string, TableEntry>();
        foreach (var h in cosines)
            foreach (var shape in Shapes)
            {
                var file = shape == "constant" ? "constant_s1.csv" : $"{shape}_T{h}_s1.csv";
                var run = runs.First(r => r.File == file);
                var curve = File.ReadLines(Path.Combine(dir, file)).Skip(1).Select(l => l.Split(','))
                    .Where(c => c.Length > 3 && c[3].Length > 0)
                    .Select(c => new Report(long.Parse(c[0], CultureInfo.InvariantCulture), double.Parse(c[3], CultureInfo.InvariantCulture)))
                    .Where(r => r.Step < h).ToList();
                table[$"{shape}_T{h}"] = new TableEntry($"{shape}_T{h}", run.Schedule, h, curve);
            }
        return (table, cosines);
    }

    private static double Median(IEnumerable<double> v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Anneal.sln"))) return d.FullName;
        throw new InvalidOperationException("run from inside the repository");
    }
}
