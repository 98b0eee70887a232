using Anneal.Tuning;
using BenchmarkDotNet.Attributes;

namespace Anneal.Bench;

/// <summary>
/// Proposing the next trial with the Gaussian-process sampler after 200 finished trials (issue 15's target: &lt; 50 ms),
/// on the example space (log-uniform peak, uniform decay, a two-way choice: 4 encoded inputs) with a smooth
/// objective plus noise. "warm": the sampler proposed before, so its hyperparameter fit starts from the last one (what
/// every proposal after the first in a sweep does; with 30+ points one proposal in RefitEvery = 5 refits the
/// hyperparameters from the last fit, the others reuse it, so the mean is over that cycle); "cold": a new sampler,
/// four fit starts.
/// Run: dotnet run -c Release --project bench/Anneal.Bench -- --filter '*TuningBenchmarks*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class TuningBenchmarks
{
    private SearchSpace _space = null!;
    private List<TrialRecord> _trials = null!;
    private GpSampler _warm = null!, _warmNoisy = null!, _refitEach = null!;

    [GlobalSetup]
    public void Setup()
    {
        _space = new SearchSpace([("peak", new LogUniformDomain(3e-4, 1e-2)), ("decay", new UniformDomain(0.05, 0.6)), ("shape", new CategoricalDomain(["linear", "sqrt"]))]);
        var rng = new Random(1);
        var random = new RandomSampler(1);
        _trials = [];
        for (int n = 0; n < 200; n++)
        {
            var p = random.Propose(_space, _trials, n);
            double lp = Math.Log10(p["peak"].Number), d = p["decay"].Number;
            double v = 3 + 0.3 * (lp + 2.5) * (lp + 2.5) + 0.2 * (d - 0.25) * (d - 0.25) + (p["shape"].Text == "sqrt" ? -0.01 : 0) + 0.005 * rng.NextDouble();
            _trials.Add(new TrialRecord(n, p, TrialState.Complete, v, []));
        }
        _warm = new GpSampler(1);
        _warm.Propose(_space, _trials, 200);
        _refitEach = new GpSampler(1) { RefitEvery = 1 };
        _refitEach.Propose(_space, _trials, 200);
        _warmNoisy = new GpSampler(1, acquisition: AcquisitionKind.NoisyEi);
        _warmNoisy.Propose(_space, _trials, 200);
    }

    [Benchmark(Description = "GP propose, 200 trials, log-EI, warm")]
    public TrialParams Warm() => _warm.Propose(_space, _trials, 200);

    [Benchmark(Description = "GP propose, 200 trials, log-EI, warm refit every proposal")]
    public TrialParams WarmRefitEach() => _refitEach.Propose(_space, _trials, 200);

    [Benchmark(Description = "GP propose, 200 trials, noisy EI, warm")]
    public TrialParams WarmNoisy() => _warmNoisy.Propose(_space, _trials, 200);

    [Benchmark(Description = "GP propose, 200 trials, log-EI, cold")]
    public TrialParams Cold() => new GpSampler(1).Propose(_space, _trials, 200);
}
