using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// The multi-power-law benchmark (data/examples/mpl, Luo et al. 2025, MIT): schedules,
/// step mapping and the published numbers.
/// </summary>
public class MplBenchmarkTests
{
    public static IEnumerable<object[]> AllFiles() =>
        from size in new[] { "25m", "100m", "400m" }
        from name in MplData.FitSplit.Concat(MplData.TestSplit)
        select new object[] { size, name };

    [Theory]
    [MemberData(nameof(AllFiles))]
    public void ScheduleSpecsReproduceTheLoggedLrColumn(string size, string name)
    {
        // Source: the lr column logged in the benchmark files themselves.
        var (steps, lr, _) = MplData.ReadCsv(TestPaths.Mpl(size, name + ".csv"));
        var s = Schedule.Parse(MplData.Spec(name));
        for (int i = 0; i < steps.Length; i++)
            Math.Abs(s.At(steps[i]) - lr[i]).ShouldBeLessThan(1e-12 * lr[i] + 1e-18, $"{name} step {steps[i]}");
    }

    [Theory]
    [InlineData("25m")]
    [InlineData("100m")]
    [InlineData("400m")]
    public void PublishedParametersReproducePublishedMetricsInTheReferenceConvention(string size)
    {
        // Source: laws.md / the reference README (parameters and the five metrics on the six
        // held-out curves). The published metrics are per-curve means; the parameters are rounded
        // to 4-5 digits, so three significant digits is what can match. This pins the step mapping
        // (loss at step s uses eta_0..eta_s) and the reference warmup convention.
        var tests = MplData.Runs(size, MplData.TestSplit);
        var fit = FittedLaw.FromValues(new MultiPowerLaw(WarmupConvention.Reference), MplData.Published(size));
        var score = LawEvaluation.Score(fit, tests);
        var pub = MplData.PublishedMetrics(size);
        double r2 = score.Tests.Average(t => t.Metrics.R2);
        r2.ShouldBe(pub[0], 1e-4);
        score.Tests.Average(t => t.Metrics.Mae).ShouldBe(pub[1], 0.01 * pub[1]);
        score.Tests.Average(t => t.Metrics.Rmse).ShouldBe(pub[2], 0.01 * pub[2]);
        score.Tests.Average(t => t.Metrics.PredE).ShouldBe(pub[3], 0.01 * pub[3]);
        score.Tests.Average(t => t.Metrics.WorstE).ShouldBe(pub[4], 0.01 * pub[4]);

        // The same numbers in the paper convention are far off: the convention matters.
        var paper = LawEvaluation.Score(FittedLaw.FromValues(new MultiPowerLaw(), MplData.Published(size)), tests);
        paper.Tests.Average(t => t.Metrics.R2).ShouldBeLessThan(0.6);
    }

    [Theory]
    [InlineData("25m")]
    [InlineData("100m")]
    [InlineData("400m")]
    public void ReferenceProcedureRecoversPublishedParametersAndHeldOutAccuracy(string size)
    {
        // Independent reference: the published parameters (laws.md) ARE the output of the reference
        // procedure on these three runs, so fitting the same runs with FitMethod.EarlyStoppedAdamW in the
        // reference convention must recover them (measured: within 4e-4 relative, the difference
        // coming from the pre-fit's optimiser), and with them the published held-out accuracy:
        // computed here from the published parameters themselves, unrounded.
        var law = new MultiPowerLaw(WarmupConvention.Reference);
        law.PreferredMethod.ShouldBe(FitMethod.EarlyStoppedAdamW);
        var fitRuns = MplData.Runs(size, MplData.FitSplit);
        var tests = MplData.Runs(size, MplData.TestSplit);
        var fit = LawFitter.Fit(law, fitRuns, new FitOptions(Jackknife: false));
        fit.Report.Method.ShouldBe(FitMethod.EarlyStoppedAdamW);
        var pub = MplData.Published(size);
        for (int j = 0; j < pub.Length; j++)
            fit.Values[j].ShouldBe(pub[j], 1e-3 * pub[j], $"{size} {law.Parameters[j].Name}");
        // And, closer, the same procedure re-run in SciPy + PyTorch on the same data (MplData.ReferenceRerun).
        var rerun = MplData.ReferenceRerun(size);
        for (int j = 0; j < rerun.Length; j++)
            fit.Values[j].ShouldBe(rerun[j], 2e-5 * rerun[j], $"{size} {law.Parameters[j].Name} vs the PyTorch re-run");
        var ours = LawEvaluation.Score(fit, tests);
        var published = LawEvaluation.Score(FittedLaw.FromValues(law, pub), tests);
        double r2 = ours.Tests.Average(t => t.Metrics.R2), r2Pub = published.Tests.Average(t => t.Metrics.R2);
        double pe = ours.Tests.Average(t => t.Metrics.PredE), pePub = published.Tests.Average(t => t.Metrics.PredE);
        r2.ShouldBeGreaterThan(r2Pub - 3e-5, size);
        pe.ShouldBeLessThan(pePub * 1.005, size);
        // And against the published table itself (laws.md, rounded there to 4 and 3 digits).
        double[] table = MplData.PublishedMetrics(size);
        Math.Round(r2, 4).ShouldBeGreaterThanOrEqualTo(table[0] - 1e-4, size);
        Math.Round(pe, 5).ShouldBeLessThanOrEqualTo(table[3] + 1e-5, size);
    }

    [Fact]
    public void ReferenceProcedureBandCoversHeldOutFinals()
    {
        // Nominal 95% band (delta method + leave-one-run-out refits, each refit by the same early-stopped
        // procedure from the same initialisation) against the 18 held-out final losses of the
        // published split. Measured 18/18 with half-widths of about 1.5% against errors up to 0.9%;
        // asserted >= 16/18 and a half-width below 3% so that a runaway band fails.
        int covered = 0;
        foreach (var size in new[] { "25m", "100m", "400m" })
        {
            var fit = LawFitter.Fit(new MultiPowerLaw(WarmupConvention.Reference), MplData.Runs(size, MplData.FitSplit));
            var score = LawEvaluation.Score(fit, MplData.Runs(size, MplData.TestSplit));
            foreach (var t in score.Tests)
            {
                if (t.FinalCovered) covered++;
                ((t.Prediction.FinalHigh - t.Prediction.FinalLow) / 2 / t.Prediction.FinalLoss).ShouldBeLessThan(0.03, $"{size} {t.Run.Name}");
            }
        }
        covered.ShouldBeGreaterThanOrEqualTo(16);
    }

    [Fact]
    public void FitFromScratchOnPublishedSplitPredictsHeldOutRunsAndBandCoverage()
    {
        // Independent references: (1) the published 400M parameters, whose reference objective on the
        // three fit curves is 5.7e-4: a real optimiser must find a lower value from scratch; (2) the
        // published held-out accuracy (mean R^2 0.9978 / 0.9983 / 0.9988, PredE 0.00168 / 0.00142 /
        // 0.00110). The exact optimum of that objective does NOT reach them (it fits the three runs
        // better and extrapolates worse; docs/accuracy.md), so the bounds asserted are the measured
        // ones with a margin and the gap is reported, not hidden. (3) Band coverage of the 18
        // held-out final losses: measured 10/18 at nominal 95%; asserted >= 9/18.
        int covered = 0, total = 0;
        foreach (var (size, minR2, maxPredE) in new[] { ("400m", 0.995, 0.0025), ("100m", 0.996, 0.0020), ("25m", 0.996, 0.0016) })
        {
            var fitRuns = MplData.Runs(size, MplData.FitSplit);
            var tests = MplData.Runs(size, MplData.TestSplit);
            var fit = LawFitter.Fit(new MultiPowerLaw(), fitRuns);
            if (size == "400m")
            {
                var pubObjective = Objective(new MultiPowerLaw(WarmupConvention.Reference), MplData.Published(size), fitRuns);
                pubObjective.ShouldBeGreaterThan(5e-4);
                fit.Report.Objective.ShouldBeLessThan(0.2 * pubObjective);
            }
            var score = LawEvaluation.Score(fit, tests);
            score.Tests.Average(t => t.Metrics.R2).ShouldBeGreaterThan(minR2, size);
            score.Tests.Average(t => t.Metrics.PredE).ShouldBeLessThan(maxPredE, size);
            score.Pooled!.FinalErr.ShouldBeLessThan(0.007, size);
            covered += score.Tests.Count(t => t.FinalCovered);
            total += score.Tests.Count;
        }
        total.ShouldBe(18);
        covered.ShouldBeGreaterThanOrEqualTo(9);
    }

    private static double Objective(LossLaw law, double[] p, LawRun[] runs)
    {
        double f = 0;
        foreach (var r in runs)
        {
            var pred = law.Predict(r, p);
            for (int i = 0; i < pred.Length; i++)
            {
                double x = Math.Log(r.Observed![i]) - Math.Log(pred[i]), a = Math.Abs(x);
                f += a <= 1e-3 ? 0.5 * x * x : 1e-3 * (a - 0.5e-3);
            }
        }
        return f;
    }
}
