using Anneal.Accuracy;
using Anneal.Design;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Prediction;
using Anneal.Schedules;

namespace Anneal.Tests.Design;

/// <summary>
/// The design layer's bands for an <c>auto</c> law (docs/journal/session-23-designband.md): a designed or what-if schedule's
/// loss and band are the stack's forecast, what <c>anneal predict</c> gives for the same schedule (<see cref="PredictService"/>,
/// an independent path: it samples the schedule itself and predicts many points), and a gain's half-width is
/// <see cref="DesignLaw.GainScale"/> times the reference's loss, the gain reported as unresolved within it.
/// </summary>
public class StackDesignBandTests
{
    private static (double Loss, double Low, double High) Predicted(FittedLaw fit, string spec)
    {
        var p = PredictService.Predict(new PredictRequest(fit) { Schedule = Schedule.Parse(spec), Points = 50 }).Prediction;
        p.BandUnavailable.ShouldBeNull();
        return (p.Loss[^1], p.FinalLow, p.FinalHigh);
    }

    [Fact]
    public void Whatif_and_optimize_give_predict_s_loss_and_band_for_the_same_schedule()
    {
        var fit = GptTinyStack.Fit;
        var law = DesignLaw.FromFitted(fit, "law.json");
        law.Forecaster.ShouldBeSameAs(fit);
        const string spec = "wsd(peak=3e-3, total=2000, warmup=100, decay=0.2, shape=sqrt)";
        var want = Predicted(fit, spec);
        var (loss, band) = WhatIf.Evaluate(law, Schedule.Parse(spec), null, null);
        loss.ShouldBe(want.Loss, 1e-9 * loss);
        band!.Value.Item1.ShouldBe(want.Low, 1e-9 * loss);
        band.Value.Item2.ShouldBe(want.High, 1e-9 * loss);
        // and not the member designed through: the stack corrects its gain (docs/journal/session-23-probe-seeds.md)
        var member = law.Problem(2000, 100, 3e-3).Predict(Schedule.Parse(spec));
        Math.Abs(loss / member - 1).ShouldBeGreaterThan(1e-4);

        // optimize's table: every named candidate's loss and band are predict's of its spec
        var res = OptimizeService.Optimize(new OptimizeRequest(law, 2000, 3e-3) { Warmup = 100, Family = "wsd" });
        foreach (var c in res.Candidates.Where(c => c.Spec is not null))
        {
            var p = Predicted(fit, c.Spec!);
            c.Loss.ShouldBe(p.Loss, 1e-9 * p.Loss, c.Label);
            c.Band!.Value.Low.ShouldBe(p.Low, 1e-9 * p.Loss, c.Label);
            c.Band!.Value.High.ShouldBe(p.High, 1e-9 * p.Loss, c.Label);
            // the design is chosen by the same forecast (session 24, StackDesignOptimumTests): its objective's value is predict's
            c.DesignedLoss.ShouldBe(p.Loss, 1e-9 * p.Loss, c.Label);
        }
        // the baseline is the cosine to 10 %'s forecast, and each gain's half-width GainScale times it (the closed form)
        res.Baseline.ShouldBe(Predicted(fit, res.References[0].Schedule.Spec).Loss, 1e-9 * res.Baseline);
        foreach (var c in res.Candidates) c.GainHalfWidth!.Value.ShouldBe(DesignLaw.GainScale * res.Baseline, 1e-12, c.Label);
        var json = res.ToJson();
        var gains = json["candidates"]!.AsArray();
        for (int i = 0; i < gains.Count; i++)
            ((bool)gains[i]!["gain_resolved"]!).ShouldBe(Math.Abs(res.Baseline - res.Candidates[i].Loss) > DesignLaw.GainScale * res.Baseline);
    }

    [Fact]
    public void A_gain_within_its_half_width_is_not_resolved()
    {
        DesignLaw.GainResolved(0.02, 0.01).ShouldBeTrue();
        DesignLaw.GainResolved(-0.02, 0.01).ShouldBeTrue();
        DesignLaw.GainResolved(0.01, 0.01).ShouldBeFalse();
        DesignLaw.GainResolved(0.005, 0.01).ShouldBeFalse();
        DesignLaw.GainResolved(0.5, null).ShouldBeFalse();
        DesignLaw.GainResolved(0.5, double.NaN).ShouldBeFalse();
    }

    [Fact]
    public void A_seed_ensemble_of_stacks_reports_the_ensemble_s_forecast()
    {
        // Independent source: the ensemble's own forecast (SeedEnsemble.Predict through FittedLaw.Predict) at the final step.
        var corpus = ForecastCorpus.Load(Path.Combine(TestPaths.RepoRoot, "data", "corpora", "gpt-tiny"));
        var split = ForecastProtocol.Splits(corpus).Single(s => s.Question == "schedules");
        // the second seed's pair, as bench gain-band makes it: its constant run to the first seed's H1 and its cosine at H1
        var constant2 = corpus.Runs.Single(r => r.Name == "constant_s2");
        var cosine2 = corpus.Runs.Single(r => r.Name == "cosine_T1000_s2");
        var fit = LawFitter.Fit(new AutoLaw(), [.. split.Fit, corpus.LawRunOf(constant2, endStep: 1000) with { Name = "constant_s2[:1000]" }, corpus.LawRunOf(cosine2)]);
        fit.Seeds.ShouldNotBeNull();
        var law = DesignLaw.FromFitted(fit, "law.json");
        law.Forecaster.ShouldBeSameAs(fit);
        const string spec = "wsd(peak=3e-3, total=2000, warmup=100, decay=0.2, shape=sqrt)";
        var want = Predicted(fit, spec);
        var (loss, band) = WhatIf.Evaluate(law, Schedule.Parse(spec), null, null);
        loss.ShouldBe(want.Loss, 1e-9 * loss);
        band!.Value.Item1.ShouldBe(want.Low, 1e-9 * loss);
        var problem = law.Problem(2000, 100, 3e-3);
        var cos = MplFinalLoss.PostWarmup(Schedule.Parse("cosine(peak=3e-3, total=2000, warmup=100, min=3e-4)"), 2000, 100);
        law.GainHalfWidth(problem, cos, MplFinalLoss.PostWarmup(Schedule.Parse(spec), 2000, 100))!.Value.ShouldBe(DesignLaw.GainScale * law.Predict(problem, cos).Loss, 1e-12);
    }
}
