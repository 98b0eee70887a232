using Anneal.Prediction;
using Anneal.Laws;
using Anneal.Schedules;
using Anneal.Tests.Design;
using Shouldly;
using Xunit;

namespace Anneal.Tests.Laws;

/// <summary>
/// An <c>auto</c> forecast past twice the fitted horizon says what the benchmark says of such forecasts
/// (<see cref="FittedLaw.FarHorizonWarning"/>; docs/laws.md, "Known limits"). Independent source: the fitted runs' own last
/// step (gpt-tiny's schedules pair, the constant run to H1 = 1,000 and the cosine at H1: step 999) and the ratio of a
/// schedule's end to it, by hand.
/// </summary>
public class FarHorizonWarningTests
{
    private static LawPrediction Predict(string spec) =>
        PredictService.Predict(new PredictRequest(GptTinyStack.Fit) { Schedule = Schedule.Parse(spec), Points = 50 }).Prediction;

    [Fact]
    public void A_forecast_past_twice_the_fitted_horizon_warns_and_one_within_it_does_not()
    {
        var fit = GptTinyStack.Fit;
        fit.FittedHorizon.ShouldBe(999);
        // 2,000 steps end at step 1,999: (1,999 + 1) / (999 + 1) = 2.0, not past 2x.
        Predict("cosine(peak=3e-3, total=2000, warmup=100)").Warning.ShouldBeNull();
        // 3,000 steps: 3.0x, past it; the warning names the ratio and the fitted runs' last step, and says what to do.
        var far = Predict("wsd(peak=3e-3, total=3000, warmup=100, decay=0.1)");
        far.Warning.ShouldNotBeNull();
        far.Warning.ShouldContain("runs to 3x the fitted runs' last step (999)");
        far.Warning.ShouldContain("Known limits");
        far.Warning.ShouldContain("fit runs that reach closer to this horizon");
        // A warning, not a refusal: the forecast and its band are still given.
        far.BandUnavailable.ShouldBeNull();
        double.IsFinite(far.FinalHigh).ShouldBeTrue();
    }
}
