using Anneal.Curves;
using Anneal.Evaluation;
using Anneal.Laws;
using Anneal.Tests.Laws;

namespace Anneal.Tests.Services;

/// <summary>Evaluation through the services: held-out scores, the report's rows and its JSON.</summary>
public class EvaluationServiceTests
{
    private static LossCurve Curve(string name) => CurveArgument.Parse(TestPaths.Mpl("400m", name + ".csv") + "@" + MplData.Spec(name));

    [Fact]
    public void The_report_scores_each_held_out_run_and_its_summaries()
    {
        var res = EvaluateService.Evaluate(new EvaluateRequest([Curve("constant_24000"), Curve("wsdcon_9")], [Curve("wsdcon_3"), Curve("wsdcon_18")],
            [LossLaw.Parse("momentum"), LossLaw.Parse("powerlaw")]));
        var report = res.Report;
        report.FitNames.ShouldBe(["constant_24000", "wsdcon_9"]);
        var rows = report.Rows().ToArray();
        rows.Length.ShouldBe(2 * (2 + 2));
        foreach (var s in report.Scores)
        {
            s.Fit.ShouldNotBeNull();
            foreach (var t in s.Tests)
            {
                // Source: the metric's definition, |pred - obs| / obs at the run's last point.
                double obs = t.Run.Observed![^1], pred = t.Prediction.FinalLoss;
                t.Metrics.FinalErr.ShouldBe(Math.Abs(pred - obs) / obs, 1e-12);
            }
            var mean = EvaluationReport.MeanOfCurves(s);
            mean.PredE.ShouldBe((s.Tests[0].Metrics.PredE + s.Tests[1].Metrics.PredE) / 2, 1e-15);
            mean.Points.ShouldBe(s.Tests[0].Metrics.Points + s.Tests[1].Metrics.Points);
            rows.Single(r => r.Law == s.Law.Spec && r.Curve == "mean of curves").Metrics.ShouldBe(mean);
            rows.Single(r => r.Law == s.Law.Spec && r.Curve == "pooled").IsSummary.ShouldBeTrue();
        }
        var json = report.ToJson();
        json["format"]!.GetValue<string>().ShouldBe(EvaluationReport.Format);
        var t0 = json["laws"]![0]!["tests"]![0]!;
        t0["run"]!.GetValue<string>().ShouldBe("wsdcon_3");
        // The JSON's finals are the protocol's (TestResult): means over the logged points of the run's last 1 % of steps.
        var first = report.Scores[0].Tests[0];
        long horizon = first.Run.Eta.Length, from = horizon - (long)Math.Round(0.01 * horizon);
        var window = Enumerable.Range(0, first.Run.Count).Where(i => first.Run.Steps[i] >= from).ToArray();
        t0["final_observed"]!.GetValue<double>().ShouldBe(window.Average(i => first.Run.Observed![i]), 1e-12);
        t0["final_loss"]!.GetValue<double>().ShouldBe(window.Average(i => first.Prediction.Loss[i]), 1e-12);
        t0["final_covered"]!.GetValue<bool>().ShouldBe(first.FinalCovered);
    }

    [Fact]
    public void A_law_that_cannot_fit_is_a_row_not_an_exception()
    {
        // convex(grad=logged) needs logged gradient norms; the benchmark curves have none.
        var res = EvaluateService.Evaluate(new EvaluateRequest([Curve("constant_24000")], [Curve("wsdcon_3")], [LossLaw.Parse("convex(grad=logged)")]));
        var s = res.Report.Scores.Single();
        s.Fit.ShouldBeNull();
        s.Error.ShouldNotBeNullOrEmpty();
        res.Report.Rows().Single().Curve.ShouldStartWith("fit failed: ");
        res.Report.ToJson()["laws"]![0]!["error"]!.GetValue<string>().ShouldBe(s.Error);
    }

    [Fact]
    public void The_published_split_is_read_from_the_benchmark_folder_with_its_published_numbers()
    {
        var bench = MplBenchmark.FromFolder(TestPaths.Mpl());
        bench.Sizes.ShouldBe(["25m", "100m", "400m"]);
        bench.FitSplit.ShouldBe(MplData.FitSplit);
        bench.TestSplit.ShouldBe(MplData.TestSplit);
        // Source: the published numbers as the tests' own table holds them (laws.md / the reference README).
        bench.PublishedMetrics("400m")!.ShouldBe(MplData.PublishedMetrics("400m"));
        var report = PublishedSplit.Evaluate(new PublishedSplitRequest(bench, "400m", [LossLaw.Parse("powerlaw")]));
        report.Title.ShouldBe("400m: fit on cosine_24000, constant_24000, wsdcon_9");
        report.Published.ShouldBe(MplData.PublishedMetrics("400m"));
        report.Scores.Single().Tests.Select(t => t.Run.Name).ShouldBe(MplData.TestSplit);
        Should.Throw<InputException>(() => PublishedSplit.Evaluate(new PublishedSplitRequest(bench, "7m", []))).Message.ShouldContain("size must be one of 25m, 100m, 400m");
        Should.Throw<InputException>(() => MplBenchmark.FromFolder(Path.Combine(TestPaths.Mpl(), "nope"))).Message.ShouldContain("not found");
    }
}
