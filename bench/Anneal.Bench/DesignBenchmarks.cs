using Anneal.Laws;
using Anneal.Design;
using Anneal.Schedules;
using BenchmarkDotNet.Attributes;

namespace Anneal.Bench;

/// <summary>
/// Schedule design on the published MPL 400M law (T = 24000, W = 2160, peak 3e-4; 21,840 free rates):
/// one final-loss + analytic-gradient evaluation, the free optimum, and the WSD family search.
/// The reference code needs ~20 s for its 10,000 Adam steps on the same problem.
/// </summary>
[MemoryDiagnoser]
public class DesignBenchmarks
{
    private readonly DesignProblem _problem = new(MplParameters.Published400M, 24000, 2160, 3e-4);
    private double[] _eta = [];
    private double[] _grad = [];
    private MplFinalLoss _objective = null!;

    [GlobalSetup]
    public void Setup()
    {
        _eta = MplFinalLoss.PostWarmup(Schedule.Parse("wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)"), 24000, 2160);
        _grad = new double[_eta.Length];
        _objective = _problem.Objective();
    }

    [Benchmark(Description = "MPL final loss + gradient, n=21840")]
    public double ValueAndGradient() => _objective.Evaluate(_eta, _grad);

    [Benchmark(Description = "free optimum 400M (coarse-to-fine L-BFGS)")]
    public double FreeOptimum() => new ScheduleDesigner(_problem).Optimize().Loss;

    [Benchmark(Description = "best WSD (6 shapes x final LR x cooldown grid + refine)")]
    public double BestWsd() => new ScheduleDesigner(_problem).BestWsd().Loss;
}
