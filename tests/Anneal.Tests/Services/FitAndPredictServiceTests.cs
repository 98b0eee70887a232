using Anneal.Curves;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Prediction;
using Anneal.Schedules;
using Anneal.Tests.Laws;

namespace Anneal.Tests.Services;

/// <summary>Fitting and predicting through the services, on the bundled multi-power-law benchmark (data/examples/mpl).</summary>
public class FitAndPredictServiceTests
{
    private static LossCurve Curve(string name) => CurveArgument.Parse(TestPaths.Mpl("400m", name + ".csv") + "@" + MplData.Spec(name));

    private static FitResult MomentumFit() => FitService.Fit(new FitRequest([Curve("constant_24000"), Curve("wsdcon_9")], LossLaw.Parse("momentum")));

    [Fact]
    public void A_two_run_fit_predicts_the_held_out_final_loss_with_a_band_around_it()
    {
        var fit = MomentumFit();
        fit.Runs.Count.ShouldBe(2);
        fit.PerRun.Select(r => r.Run).ShouldBe(["constant_24000", "wsdcon_9"]);
        var res = PredictService.Predict(new PredictRequest(fit.Fit) { Schedule = Schedule.Parse(MplData.Spec("wsdcon_3")), Steps = 16000 });
        var p = res.Prediction;
        p.FinalLow.ShouldBeLessThan(p.FinalLoss);
        p.FinalHigh.ShouldBeGreaterThan(p.FinalLoss);
        // Source: the observed final of wsdcon_3 (400M) is 2.8402 (its last logged row); a two-run momentum fit gets within 1%.
        p.FinalLoss.ShouldBe(2.8402, 0.03);
        res.Steps.ShouldBe(16000);
        // The points run from the end of the warmup (step 2160: the schedule's warmup=2160) to the last step.
        p.Steps[0].ShouldBe(2160);
        p.Steps[^1].ShouldBe(15999);
        res.ToJson()["format"]!.GetValue<string>().ShouldBe("anneal-prediction/1");
        res.ToJson()["final_loss"]!.GetValue<double>().ShouldBe(p.FinalLoss);
    }

    [Fact]
    public void The_fit_window_starts_at_the_warmup_end_unless_told_and_says_so()
    {
        // A per-step log of 10,000 steps under constant(peak=1e-3, warmup=1000): the rate first peaks at step 1000
        // (peak * t / W), so 1000 points are left out by default, and the 9000 left are averaged 9 to a bin
        // (ceil(9000 / 1000)) for at most LawRun.DefaultMaxPoints = 1000 points.
        var schedule = Schedule.Parse("constant(peak=1e-3, warmup=1000)");
        long[] steps = Enumerable.Range(0, 10000).Select(i => (long)i).ToArray();
        var curve = new LossCurve { Name = "log", Steps = steps, Loss = steps.Select(s => 3 + 1 / Math.Sqrt(1 + s)).ToArray(), ScheduleSpec = schedule.Spec };
        var prepared = FitWindow.Prepare([curve]);
        var run = prepared.Runs.Single();
        run.Steps[0].ShouldBe(1000 + 4);          // the first bin's mean step: 1000..1008
        run.BinSize.ShouldBe(9);
        run.Count.ShouldBe(1000);
        prepared.Notes.ShouldBe([
            "log: 1000 logged point(s) before step 1000 left out (the warmup, which the laws do not describe; from_step 0 keeps them)",
            "log: 10000 rows averaged in bins of 9 (1000 points) for the fit"]);
        var all = FitWindow.Prepare([curve], fromStep: 0);
        all.Runs[0].Steps[0].ShouldBe(4);        // 0..9999 in bins of 10: the first mean is 4.5, rounded to even
        all.Notes.ShouldBe(["log: 10000 rows averaged in bins of 10 (1000 points) for the fit"]);
        var from5000 = FitWindow.Prepare([curve], fromStep: 5000);
        from5000.Notes.First().ShouldBe("log: 5000 logged point(s) before step 5000 left out (from_step)");
        prepared.NotesNaming(p => "--" + p.Replace('_', '-')).First().ShouldEndWith("(the warmup, which the laws do not describe; --from-step 0 keeps them)");
        var e = Should.Throw<InputException>(() => FitWindow.Prepare([curve], fromStep: -1));
        e.Parameters.ShouldBe(["from_step"]);
        e.MessageNaming(p => "--" + p.Replace('_', '-')).ShouldContain("--from-step must be >= 0");
        // Two runs of one file name (two folders, or two seeds' logs): names made unique.
        var seed2 = curve with { Loss = curve.Loss!.Select(l => l * 1.01).ToArray() };
        FitWindow.Prepare([curve, seed2]).Runs.Select(r => r.Name).ShouldBe(["log#1", "log#2"]);
        // The same run twice (same steps, rates and losses) is refused, naming both: it would be fitted twice.
        Should.Throw<InputException>(() => FitWindow.Prepare([curve, curve])).Message.ShouldContain("runs 1 and 2 (log, log) are the same run given twice");
        // The benchmark's logs start after the warmup: nothing left out.
        MomentumFit().Runs.ShouldAllBe(r => r.Steps[0] >= 2160);
    }

    [Fact]
    public void Per_step_rates_predict_what_the_spec_predicts()
    {
        // Independent source: the same schedule given as a spec. Every step given: identical predictions. Every 100th
        // step, interpolated: linear interpolation of the cosine over 100-step gaps errs by at most
        // peak*(pi/T)^2*100^2/8 ~ 4e-10 per step, which moves the final loss by a few 1e-6.
        var law = MomentumFit().Fit;
        var spec = Schedule.Parse("cosine(peak=3e-4, total=30000, warmup=2160, min=3e-5)");
        var a = PredictService.Predict(new PredictRequest(law) { Schedule = spec }).Prediction;
        var b = PredictService.Predict(new PredictRequest(law) { Rates = spec.Sample(30000) }).Prediction;
        b.FinalLoss.ShouldBe(a.FinalLoss);
        b.FinalHigh.ShouldBe(a.FinalHigh);
        long[] steps = [.. Enumerable.Range(0, 300).Select(i => (long)i * 100), 29999];
        var sparse = new LossCurve { Name = "sparse", Steps = steps, Lr = steps.Select(s => spec.At(s)).ToArray() };
        var expanded = LrExpansion.Expand(sparse);
        expanded.InterpolatedSteps.ShouldBeGreaterThan(0);
        var c = PredictService.Predict(new PredictRequest(law) { Rates = expanded.Lr }).Prediction;
        c.FinalLoss.ShouldBe(a.FinalLoss, 2e-5);
    }

    [Fact]
    public void Bad_requests_name_the_parameter()
    {
        var law = FittedLaw.FromValues(LossLaw.Parse("powerlaw"), 2.0, 1.0, 0.5);
        var s = Schedule.Parse("cosine(peak=1e-3, total=100)");
        Should.Throw<InputException>(() => PredictService.Predict(new PredictRequest(law))).Message.ShouldContain("one of them");
        Should.Throw<InputException>(() => PredictService.Predict(new PredictRequest(law) { Schedule = Schedule.Parse("constant(peak=1e-3)") })).Message.ShouldContain("steps is needed");
        Should.Throw<InputException>(() => PredictService.Predict(new PredictRequest(law) { Schedule = s, Level = 1 })).Message.ShouldContain("level must be in (0, 1)");
        Should.Throw<InputException>(() => PredictService.Predict(new PredictRequest(law) { Schedule = s, Points = 0 })).Message.ShouldContain("points must be >= 1");
        Should.Throw<InputException>(() => PredictService.Predict(new PredictRequest(law) { Schedule = s, Steps = 1 })).MessageNaming(p => "--" + p).ShouldContain("--steps must be between 2 and 5000000");
    }
}
