using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Tests.Laws;

/// <summary>
/// <c>auto</c>'s taper of the convex bound's weight far past the fitted horizon (<see cref="AutoLaw.ConvexTaper"/>,
/// <see cref="AutoLaw.WeightsFor"/>): the weights in closed form, and a synthetic stack whose convex member is known to be
/// wrong far out, where the taper must take weight from it.
/// </summary>
public class ConvexTaperTests
{
    private static readonly double[] Truth = [2.0, 1.5, 0.35, 0.1];

    private static LawRun RunOf(string spec, int total) =>
        LawRun.ForSchedule(spec, Anneal.Schedules.Schedule.Parse(spec).Sample(total), [total - 1], spec);

    [Fact]
    public void Within_the_taper_the_weights_stand_and_beyond_it_the_convex_share_falls_as_R_H_over_T()
    {
        var stack = new AutoLaw([(new MomentumLaw(0.999, Cap: true), 0.35), (new MultiPowerLaw(WarmupConvention.Reference), 0.35), (new ConvexBoundLaw(), 0.3)])
        { FittedHorizon = 1000 };
        AutoLaw.ConvexTaper.ShouldBe(4);
        // Last step 4000 = R x H: untouched.
        stack.WeightsFor(RunOf("constant(peak=1e-3)", 4001)).ShouldBe([0.35, 0.35, 0.3], 1e-15);
        // Last step 8000 = 2 R H: convex 0.3 x 4000/8000 = 0.15; the others share 0.85 in their proportions, 0.425 each.
        stack.WeightsFor(RunOf("constant(peak=1e-3)", 8001)).ShouldBe([0.425, 0.425, 0.15], 1e-15);
        // Last step 40,000: 0.3 x 4000/40000 = 0.03, the others (1 - 0.03) / 2.
        stack.WeightsFor(RunOf("cosine(peak=1e-3, total=40001)", 40001)).ShouldBe([0.485, 0.485, 0.03], 1e-15);
        // No fitted horizon (a stack never fitted, or a law file without one): no taper.
        (stack with { FittedHorizon = 0 }).WeightsFor(RunOf("constant(peak=1e-3)", 10001)).ShouldBe([0.35, 0.35, 0.3], 1e-15);
        // A convex member alone keeps all the weight (nobody to give it to).
        new AutoLaw([(new ConvexBoundLaw(), 1.0)]) { FittedHorizon = 1000 }.WeightsFor(RunOf("constant(peak=1e-3)", 10001)).ShouldBe([1.0]);
    }

    [Fact]
    public void Far_past_the_horizon_the_taper_takes_weight_from_a_convex_member_that_is_wrong_there()
    {
        // Data from the momentum law at known parameters (the independent source: its fit recovers them, so its forecast
        // of a run 8x the fitted horizon is exact); the convex bound, fitted to the same runs, extrapolates its own shape.
        LawRun[] runs =
        [
            SyntheticRun.Of(new MomentumLaw(0.999), Truth, "constant(peak=3e-3, warmup=100)", 1000, 15),
            SyntheticRun.Of(new MomentumLaw(0.999), Truth, "cosine(peak=3e-3, total=1000, warmup=100)", 1000, 15),
        ];
        var fit = LawFitter.Fit(new AutoLaw([(new MomentumLaw(0.999), 0.7), (new ConvexBoundLaw(), 0.3)], crossValidatedWeights: false), runs);
        var stack = (AutoLaw)fit.Law;
        stack.FittedHorizon.ShouldBe(999);
        fit.Members[0].Values.ShouldBe(Truth, 1e-4);
        fit.StackChoice!.ShouldContain("convex member's weight is scaled by 3996 / T");

        var far = RunOf("constant(peak=3e-3, warmup=100)", 8000);
        double truth = new MomentumLaw(0.999).Predict(far.Eta, far.Steps, Truth)[0];
        double momentum = fit.Members[0].Law.Predict(far, fit.Members[0].Values)[0];
        double convex = fit.Members[1].Law.Predict(far, fit.Members[1].Values)[0];
        momentum.ShouldBe(truth, 1e-4 * truth);
        // The convex member is off by more than 1 % there: the case the taper is for.
        Math.Abs(convex / truth - 1).ShouldBeGreaterThan(0.01);
        // Its weight: 0.3 x 3996 / 7999 (closed form); the stack's forecast is the members' mix at those weights.
        double wc = 0.3 * 4 * 999 / 7999.0;
        double tapered = (1 - wc) * momentum + wc * convex, fixedMix = 0.7 * momentum + 0.3 * convex;
        fit.Predict(far).FinalLoss.ShouldBe(tapered, 1e-12 * tapered);
        Math.Abs(tapered - truth).ShouldBeLessThan(0.7 * Math.Abs(fixedMix - truth));
        // Within R x H the prior mix stands.
        var near = RunOf("constant(peak=3e-3, warmup=100)", 3000);
        fit.Predict(near).FinalLoss.ShouldBe(0.7 * fit.Members[0].Law.Predict(near, fit.Members[0].Values)[0] + 0.3 * fit.Members[1].Law.Predict(near, fit.Members[1].Values)[0], 1e-12);
        // The law file keeps the fitted horizon, so a reloaded stack tapers alike.
        var back = FittedLaw.FromJson(fit.ToJson());
        ((AutoLaw)back.Law).FittedHorizon.ShouldBe(999);
        back.Predict(far).FinalLoss.ShouldBe(tapered, 1e-9 * tapered);
        back.StackChoice.ShouldBe(fit.StackChoice);
    }
}
