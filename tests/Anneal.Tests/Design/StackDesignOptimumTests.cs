using Anneal.Accuracy;
using Anneal.Design;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Prediction;
using Anneal.Schedules;

namespace Anneal.Tests.Design;

/// <summary>
/// The design of an <c>auto</c> law minimises the forecast it reports (docs/journal/session-24-designstack.md). Before session 24
/// it minimised the stack's multi-power member and reported the stack, and on gpt-tiny's schedules question
/// <c>optimize --family wsd</c> labelled "best wsd" a schedule the stack forecast at 1.73526 against the wsd 20 % sqrt
/// reference's 1.72163. Independent source throughout: <c>anneal predict</c>'s library (<see cref="PredictService"/>, which
/// samples the schedule itself and draws the stack's forecast by <see cref="FittedLaw.Predict(LawRun, double)"/>, not by the
/// design's objective <see cref="StackFinalLoss"/>).
/// </summary>
public class StackDesignOptimumTests
{
    /// <summary>predict's final loss of a spec, or of per-step rates.</summary>
    private static double Predicted(FittedLaw fit, string? spec, double[]? rates) =>
        PredictService.Predict(new PredictRequest(fit) { Schedule = spec is null ? null : Schedule.Parse(spec), Rates = spec is null ? rates : null, Points = 20 }).Prediction.Loss[^1];

    [Theory]
    [InlineData("free")]
    [InlineData("wsd")]
    [InlineData("cosine")]
    [InlineData("linear")]
    [InlineData("rex")]
    [InlineData("cosine_power")]
    public void The_design_is_forecast_no_higher_than_the_rows_it_is_compared_with(string family)
    {
        var fit = GptTinyStack.Fit;
        var law = DesignLaw.FromFitted(fit, "law.json");
        var res = OptimizeService.Optimize(new OptimizeRequest(law, 2000, 3e-3) { Warmup = 100, Family = family });
        var full = res.Candidates.ToDictionary(c => c.Label, c => Predicted(fit, c.Spec, res.Problem.FullSchedule(c.PostWarmup)));
        foreach (var c in res.Candidates)
        {
            // every row's loss is predict's, and the objective the design minimised (DesignedLoss) is the same forecast
            c.Loss.ShouldBe(full[c.Label], 1e-9 * c.Loss, c.Label);
            c.DesignedLoss.ShouldBe(c.Loss, 1e-9 * c.Loss, c.Label);
        }
        double design = full[res.Design.Label];
        // The free optimum is forecast no higher than any row; a family's best no higher than the references of its family
        // (a best WSD may be forecast above a cosine: it is the best WSD, not the best schedule).
        bool Comparable(DesignCandidate c) => family == OptimizeService.Free || c.Spec is { } s && s.StartsWith(family + "(", StringComparison.Ordinal);
        var compared = res.Candidates.Skip(1).Where(Comparable).ToArray();
        if (family is "wsd" or "cosine" or "linear") compared.ShouldNotBeEmpty();
        foreach (var c in compared) design.ShouldBeLessThanOrEqualTo(full[c.Label] + 1e-12, c.Label);
        // gpt-tiny's failing case before session 24: the best WSD was forecast 0.0136 above the wsd 20 % sqrt reference
        if (family is "wsd" or "free") design.ShouldBeLessThan(full["wsd 20% sqrt"]);
        // the gain band is the stack's for its optimum: GainScale x the cosine to 10 %'s forecast (the closed form)
        res.Design.GainHalfWidth!.Value.ShouldBe(DesignLaw.GainScale * full["cosine to 10%"], 1e-9);
    }

    [Fact]
    public void The_forecast_without_its_band_is_the_forecast()
    {
        // FittedLaw.ForecastLoss (the stack's own evaluation, AutoLaw's) against FittedLaw.Predict (the band's path, which
        // combines the members itself): one forecast, for a cooldown, a cosine and a seed ensemble of stacks.
        var fit = GptTinyStack.Fit;
        foreach (var spec in new[] { "wsd(peak=3e-3, total=2000, warmup=100, decay=0.3, shape=cosine)", "cosine(peak=3e-3, total=3000, warmup=100)" })
        {
            var run = LawRun.ForSchedule("x", Schedule.Parse(spec).Sample(3000), LawRun.EvenSteps(3000, 30, 100), "spec");
            var want = fit.Predict(run).Loss;
            var got = fit.ForecastLoss(run);
            for (int i = 0; i < want.Length; i++) got[i].ShouldBe(want[i], 1e-12 * want[i], spec);
        }
        var corpus = ForecastCorpus.Load(Path.Combine(TestPaths.RepoRoot, "data", "corpora", "gpt-tiny"));
        var split = ForecastProtocol.Splits(corpus).Single(s => s.Question == "schedules");
        var ensemble = LawFitter.Fit(new AutoLaw(), [.. split.Fit,
            corpus.LawRunOf(corpus.Runs.Single(r => r.Name == "constant_s2"), endStep: 1000) with { Name = "constant_s2[:1000]" },
            corpus.LawRunOf(corpus.Runs.Single(r => r.Name == "cosine_T1000_s2"))]);
        ensemble.Seeds.ShouldNotBeNull();
        var wsd = LawRun.ForSchedule("x", Schedule.Parse("wsd(peak=3e-3, total=2000, warmup=100, decay=0.2)").Sample(2000), [1999], "spec");
        ensemble.ForecastLoss(wsd)[0].ShouldBe(ensemble.Predict(wsd).Loss[0], 1e-12);
        // and the design through it: its objective is the ensemble's forecast
        var law = DesignLaw.FromFitted(ensemble, "law.json");
        var problem = law.Problem(2000, 100, 3e-3);
        law.Objective(problem).Value(MplFinalLoss.PostWarmup(Schedule.Parse("wsd(peak=3e-3, total=2000, warmup=100, decay=0.2)"), 2000, 100)).ShouldBe(ensemble.Predict(wsd).Loss[0], 1e-12);
    }

    [Fact]
    public void A_staircase_gradient_of_the_stack_is_its_forward_difference()
    {
        // The free optimum's gradient through the stack: the forward difference over each level, checked against a central
        // difference of the staircase's forecast (independent: two forecasts per level, at +-1e-4 of it).
        var law = DesignLaw.FromFitted(GptTinyStack.Fit, "law.json");
        var problem = law.Problem(2000, 100, 3e-3);
        var f = law.Objective(problem);
        f.RateGradient.ShouldBeFalse();
        int[] starts = [0, 1000, 1500, 1800];
        double[] levels = [3e-3, 2e-3, 8e-4, 1e-4];
        var g = new double[4];
        double l = f.EvaluateStaircase(starts, levels, 1900, g);
        l.ShouldBe(f.EvaluateStaircase(starts, levels, 1900, default), 1e-15);
        for (int j = 0; j < 4; j++)
        {
            double h = 1e-4 * levels[j];
            var up = (double[])levels.Clone(); up[j] += h;
            var down = (double[])levels.Clone(); down[j] -= h;
            double central = (f.EvaluateStaircase(starts, up, 1900, default) - f.EvaluateStaircase(starts, down, 1900, default)) / (2 * h);
            g[j].ShouldBe(central, 1e-3 * Math.Abs(central) + 1e-6, $"level {j}");
        }
        Should.Throw<NotSupportedException>(() => f.Evaluate(new double[1900], new double[1900]));
    }
}
