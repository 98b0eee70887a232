using Anneal.Planning;
using BenchmarkDotNet.Attributes;

namespace Anneal.Bench;

/// <summary>
/// Scaling-law fits with 1000 bootstrap resamples (the CLI default), on the bundled example data:
/// 25 Chinchilla runs (`anneal scaling example`) and a 9-group learning-rate x batch sweep.
/// Run: dotnet run -c Release --project bench/Anneal.Bench -- --filter '*Planning*'
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class PlanningBenchmarks
{
    private IReadOnlyList<ScalingRun> _runs = null!, _runs49 = null!, _sweep = null!;

    [GlobalSetup]
    public void Setup()
    {
        _runs = SyntheticRuns.Chinchilla(ChinchillaLaw.Published, SyntheticRuns.ExampleParams, SyntheticRuns.ExampleTokensPerParam, 0.005, 1);
        _runs49 = SyntheticRuns.Chinchilla(ChinchillaLaw.EpochRefit, SyntheticRuns.Geometric(1e7, 1e10, Math.Sqrt(10)), [2, 5, 10, 20, 50, 100, 200], 0.003, 1);
        _sweep = SyntheticRuns.Sweep(ChinchillaLaw.Published, StepLaw.Published, [1e8, 3e8, 1e9], [1e10, 3e10, 1e11],
            SyntheticRuns.Geometric(1e-4, 1e-1, Math.Sqrt(2)), SyntheticRuns.Geometric(1 << 16, 1 << 24, Math.Sqrt(2)), 0.02, 0.01, 0.0005, 1);
    }

    [Benchmark(Description = "Chinchilla fit, 25 runs, 1000 bootstrap")]
    public double Chinchilla25() => ChinchillaFit.Fit(_runs, new ChinchillaFitOptions(Bootstrap: 1000, Seed: 1)).Law.Alpha;

    [Benchmark(Description = "Chinchilla fit, 49 runs, 1000 bootstrap")]
    public double Chinchilla49() => ChinchillaFit.Fit(_runs49, new ChinchillaFitOptions(Bootstrap: 1000, Seed: 1)).Law.Alpha;

    [Benchmark(Description = "Step Law fit, 3060-run sweep, 1000 bootstrap")]
    public double StepLawSweep() => StepLawFit.Fit(_sweep, new StepLawFitOptions(Bootstrap: 1000, Seed: 1)).Law.LrParamsExponent;
}
