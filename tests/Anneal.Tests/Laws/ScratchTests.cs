using Anneal.Fitting;
using Anneal.Laws;
using Xunit.Abstractions;

namespace Anneal.Tests.Laws;

public class ScratchTests(ITestOutputHelper o)
{
    [Fact]
    public void Explore()
    {
        var fitRuns = MplData.Runs("400m", MplData.FitSplit);
        var tests = MplData.Runs("400m", MplData.TestSplit);
        foreach (var (name, opt) in new[] { ("equal", new FitOptions(EqualRunWeights: true)), ("delta1e-2", new FitOptions(HuberDelta: 1e-2)), ("default", new FitOptions()) })
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var fit = LawFitter.Fit(new MultiPowerLaw(), fitRuns, opt with { Progress = m => o.WriteLine(m) });
            var s = LawEvaluation.Score(fit, tests);
            o.WriteLine($"{name}: {sw.Elapsed.TotalSeconds:F1}s obj={fit.Report.Objective:G6} avg R2={s.Tests.Average(t => t.Metrics.R2):F5} PredE={s.Tests.Average(t => t.Metrics.PredE):F6} [{string.Join(", ", fit.Values.Select(v => v.ToString("G4")))}]");
        }
    }
}
