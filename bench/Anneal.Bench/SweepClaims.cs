using System.Diagnostics;
using System.Globalization;
using Anneal.Store;

namespace Anneal.Bench;

/// <summary>
/// Throughput of the sweep workers' store protocol (docs/tuning.md, "Executors"), without any training: K workers, each
/// with a store instance of its own (its own connection pool, as a worker process has), on a SQLite file and, when
/// <c>ANNEAL_BENCH_POSTGRES</c> names a server, on a fresh PostgreSQL database.
/// <list type="bullet">
/// <item><b>claim</b>: N waiting trials queued; each worker claims the next (<c>ClaimWaitingTrial</c>) and ends it
/// (<c>FinishTrial</c>) until none is left.</item>
/// <item><b>propose</b>: each worker reads the study's trials (<c>ListTrials</c>, with reports, as the sampler gets them),
/// adds one with <c>TryCreateTrial(expected = count)</c> (refused when another worker added one meanwhile: a stale
/// proposal, made again), reports 3 intermediate values and ends it, until the study holds N trials.</item>
/// </list>
/// Run: dotnet run -c Release --project bench/Anneal.Bench -- sweep-claims [workers=4] [trials=400]
/// </summary>
internal static class SweepClaims
{
    public static int Main(string[] args)
    {
        int k = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 4;
        int n = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 400;
        var dir = Directory.CreateTempSubdirectory("anneal-bench-claims-").FullName;
        try
        {
            Console.WriteLine($"{k} workers, {n} trials; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            Console.WriteLine("| store | protocol | trials/s | stale proposals | wall s | CPU s |");
            Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: |");
            foreach (var mode in new[] { "claim", "propose" }) Measure("sqlite", Path.Combine(dir, $"{mode}.db"), mode, k, n);
            if (Environment.GetEnvironmentVariable("ANNEAL_BENCH_POSTGRES") is { Length: > 0 } pg)
                foreach (var mode in new[] { "claim", "propose" })
                {
                    using (var s = RunStore.Open(pg)) s.DeleteStudy($"bench-{mode}");
                    Measure("postgres", pg, mode, k, n);
                }
        }
        finally { Directory.Delete(dir, recursive: true); }
        return 0;
    }

    private static void Measure(string kind, string location, string mode, int k, int n)
    {
        using var main = RunStore.Open(location);
        var study = main.GetOrCreateStudy($"bench-{mode}", "bench");
        if (mode == "claim") for (int i = 0; i < n; i++) main.CreateTrial(study.Id, $$"""{"x": {{i}}}""", Anneal.Store.TrialState.Waiting);
        var stores = Enumerable.Range(0, k).Select(_ => RunStore.Open(location)).ToArray();
        int stale = 0;
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, k).Select(w => new Thread(() =>
        {
            var s = stores[w];
            string me = $"bench-w{w}";
            while (true)
            {
                if (mode == "claim")
                {
                    if (s.ClaimWaitingTrial(study.Id, me) is not { } t) return;
                    s.FinishTrial(t.Id, Anneal.Store.TrialState.Complete, 1.0);
                }
                else
                {
                    int count = s.ListTrials(study.Id).Count;
                    if (count >= n) return;
                    if (s.TryCreateTrial(study.Id, $$"""{"x": {{count}}}""", me, count) is not { } t) { Interlocked.Increment(ref stale); continue; }
                    for (int step = 0; step < 3; step++) s.ReportIntermediate(t.Id, step, 1.0 / (step + 1));
                    s.FinishTrial(t.Id, Anneal.Store.TrialState.Complete, 1.0);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        double wall = clock.Elapsed.TotalSeconds, cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        int done = main.ListTrials(study.Id, withIntermediate: false).Count(t => t.State == Anneal.Store.TrialState.Complete);
        if (done != n) throw new InvalidOperationException($"{kind} {mode}: {done} trials complete, expected {n}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {kind} | {mode} | {n / wall:F0} | {stale} | {wall:F1} | {cpu:F1} |"));
        foreach (var s in stores) s.Dispose();
    }
}
