using Anneal.Curves;
using Anneal.Store;
using BenchmarkDotNet.Attributes;

namespace Anneal.Bench;

/// <summary>
/// The run store at the dashboard's sizes: a page of a 10,000-run listing (sorted by final loss, and filtered), a
/// 1M-point curve served downsampled to 2,000 points, and the insert rate of <c>anneal train --store</c> (one batch
/// of 1,000 logged steps × 6 metrics per call). The store is built once (SQLite: a file under the temp folder;
/// PostgreSQL: database anneal_bench on the server named by <c>ANNEAL_BENCH_POSTGRES</c>, skipped when unset) and
/// reused by every case.
/// Run: dotnet run -c Release --project bench/Anneal.Bench -- --filter '*StoreBenchmarks*' --job short --inProcess
/// </summary>
public class StoreBenchmarks
{
    private const int Runs = 10_000, BigPoints = 1_000_000;
    private RunStore _store = null!;
    private long _big, _live, _nextStep;

    [ParamsSource(nameof(Backends))]
    public string Backend { get; set; } = "sqlite";

    public static IEnumerable<string> Backends() =>
        Environment.GetEnvironmentVariable("ANNEAL_BENCH_POSTGRES") is { Length: > 0 } ? ["sqlite", "postgres"] : ["sqlite"];

    [GlobalSetup]
    public void Setup()
    {
        string location = Backend == "sqlite"
            ? Path.Combine(Path.GetTempPath(), "anneal-bench-store.db")
            : new UriBuilder(Environment.GetEnvironmentVariable("ANNEAL_BENCH_POSTGRES")!) { Path = "/anneal_bench" }.Uri.ToString();
        _store = RunStore.Open(location);
        if (_store.GetStudy("bench-built") is null) Build();
        _big = _store.ListRuns(new RunQuery { Search = "big-1m", Limit = 1 }).Runs[0].Id;
        _live = _store.AddRun(new NewRun { Name = "live", Tags = ["bench-live"] });
        _nextStep = 0;
    }

    /// <summary>10,000 runs of 200 logged steps (loss, lr; validation every 50) with tags, and one run of 1M points.</summary>
    private void Build()
    {
        var rng = new Random(1);
        for (int chunk = 0; chunk < Runs; chunk += 500)
        {
            var curves = new List<(LossCurve, NewRun?)>();
            for (int i = chunk; i < chunk + 500; i++)
            {
                double floor = 2 + rng.NextDouble();
                var steps = Enumerable.Range(0, 200).Select(k => 100L * k).ToArray();
                var curve = new LossCurve
                {
                    Name = $"run-{i:D5}", Steps = steps,
                    Loss = steps.Select(s => floor + 5 / Math.Sqrt(1 + s / 100.0)).ToArray(),
                    Lr = steps.Select(s => 3e-4).ToArray(),
                    ValLoss = steps.Select((s, k) => k % 50 == 49 ? floor + 5 / Math.Sqrt(1 + s / 100.0) + 0.02 : double.NaN).ToArray(),
                };
                curves.Add((curve, new NewRun { Name = curve.Name, Tags = [i % 3 == 0 ? "a" : "b", $"sweep-{i % 20}"], Schedule = $"cosine(peak={1 + i % 9}e-4, total=20000)" }));
            }
            _store.ImportCurves(curves);
        }
        long big = _store.AddRun(new NewRun { Name = "big-1m" });
        for (int start = 0; start < BigPoints; start += 50_000)
            _store.AppendPoints(big, Enumerable.Range(start, 50_000).Select(i => new MetricPoint(Metrics.Loss, i, 2.5 + 8.0 / Math.Sqrt(1 + i) + 0.05 * Math.Sin(i * 0.37))));
        _store.GetOrCreateStudy("bench-built", "{}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.DeleteRun(_live);
        _store.Dispose();
    }

    [Benchmark(Description = "ListRuns page of 100 of 10k, by final loss")]
    public int ListPage() => _store.ListRuns(new RunQuery { Sort = RunSort.FinalLoss, Descending = false, Limit = 100 }).Runs.Count;

    [Benchmark(Description = "ListRuns page of 100 of 10k, text + tag filter, by name")]
    public int ListFiltered() => _store.ListRuns(new RunQuery { Search = "run-0", Tags = ["b"], Sort = RunSort.Name, Limit = 100 }).Runs.Count;

    [Benchmark(Description = "GetCurve 1M points -> 2,000 (min/max)")]
    public int Curve1M() => _store.GetCurve(_big, Metrics.Loss, 2000)!.Steps.Length;

    [Benchmark(Description = "GetCurve 1M points, zoom to 100k steps -> 2,000")]
    public int CurveZoom() => _store.GetCurve(_big, Metrics.Loss, 2000, 400_000, 500_000)!.Steps.Length;

    [Benchmark(Description = "train --store batch: 1,000 steps x 6 metrics")]
    public void AppendBatch()
    {
        var pts = new List<MetricPoint>(6000);
        for (int i = 0; i < 1000; i++, _nextStep++)
        {
            pts.Add(new MetricPoint(Metrics.Loss, _nextStep, 3.0 - _nextStep * 1e-7));
            pts.Add(new MetricPoint(Metrics.Lr, _nextStep, 3e-4));
            pts.Add(new MetricPoint(Metrics.ValLoss, _nextStep, _nextStep % 100 == 99 ? 3.1 : double.NaN));
            pts.Add(new MetricPoint(Metrics.GradNorm, _nextStep, 0.5));
            pts.Add(new MetricPoint(Metrics.Tokens, _nextStep, _nextStep * 4096.0));
            pts.Add(new MetricPoint(Metrics.Seconds, _nextStep, _nextStep * 0.1));
        }
        _store.AppendPoints(_live, pts);
    }
}
