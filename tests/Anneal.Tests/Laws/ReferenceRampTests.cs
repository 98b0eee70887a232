using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Tests.Laws;

/// <summary>
/// <c>auto</c>'s ramp of the reference member's weight with the extrapolation (<see cref="AutoLaw.ReferenceRamp"/>,
/// <see cref="AutoLaw.RampsReference"/>, <see cref="StackFitter.RampsReference"/>): the weights in closed form, which stacks
/// ramp, and the law file keeping the choice.
/// </summary>
public class ReferenceRampTests
{
    private static readonly MultiPowerLaw Reference = new(WarmupConvention.Reference);

    private static LawRun RunOf(string spec, int total) =>
        LawRun.ForSchedule(spec, Anneal.Schedules.Schedule.Parse(spec).Sample(total), [total - 1], spec);

    private static AutoLaw Stack(bool ramps) =>
        new([(new ShareLaw(), 0.35), (Reference, 0.35), (new ConvexBoundLaw(), 0.3)]) { FittedHorizon = 1000, RampsReference = ramps };

    [Fact]
    public void The_reference_weight_grows_from_zero_at_the_fitted_horizon_to_its_prior_at_E_times_it()
    {
        AutoLaw.ReferenceRamp.ShouldBe(3);
        var stack = Stack(ramps: true);
        // Last step 1000 = H: the reference member keeps nothing; share and convex split 1 as 0.35 : 0.3.
        stack.WeightsFor(RunOf("constant(peak=1e-3)", 1001)).ShouldBe([0.35 / 0.65, 0, 0.3 / 0.65], 1e-15);
        // Within the horizon too.
        stack.WeightsFor(RunOf("cosine(peak=1e-3, total=501)", 501)).ShouldBe([0.35 / 0.65, 0, 0.3 / 0.65], 1e-15);
        // Last step 2000 = 2H: (2 - 1) / (3 - 1) = 1/2 of 0.35 = 0.175, the others share 0.825 in their proportions.
        stack.WeightsFor(RunOf("constant(peak=1e-3)", 2001)).ShouldBe([0.35 * 0.825 / 0.65, 0.175, 0.3 * 0.825 / 0.65], 1e-15);
        // Last step 3000 = E H: the prior weights.
        stack.WeightsFor(RunOf("constant(peak=1e-3)", 3001)).ShouldBe([0.35, 0.35, 0.3], 1e-15);
        // Last step 6000, beyond the convex taper (4H): convex 0.3 x 4000/6000 = 0.2 first, the ramp is complete: 0.4, 0.4, 0.2.
        stack.WeightsFor(RunOf("constant(peak=1e-3)", 6001)).ShouldBe([0.4, 0.4, 0.2], 1e-15);
        // Without the ramp, the prior weights within the taper.
        Stack(ramps: false).WeightsFor(RunOf("constant(peak=1e-3)", 1001)).ShouldBe([0.35, 0.35, 0.3], 1e-15);
        // Without a fitted horizon (a stack never fitted): no ramp.
        (stack with { FittedHorizon = 0 }).WeightsFor(RunOf("constant(peak=1e-3)", 1001)).ShouldBe([0.35, 0.35, 0.3], 1e-15);
        // A multi-power member fitted to the optimum (not the reference procedure) does not ramp.
        new AutoLaw([(new ShareLaw(), 0.35), (new MultiPowerLaw(), 0.35), (new ConvexBoundLaw(), 0.3)]) { FittedHorizon = 1000, RampsReference = true }
            .WeightsFor(RunOf("constant(peak=1e-3)", 1001)).ShouldBe([0.35, 0.35, 0.3], 1e-15);
    }

    [Fact]
    public void Only_a_stack_at_its_prior_weights_with_the_share_law_in_place_ramps()
    {
        double[] prior = [0.35, 0.35, 0.3];
        StackFitter.RampsReference([(new ShareLaw(), 0.35), (Reference, 0.35), (new ConvexBoundLaw(), 0.3)], prior).ShouldBeTrue();
        // The capped momentum law in the first place (the share law did not take it).
        StackFitter.RampsReference([(new MomentumLaw(0.999, Cap: true), 0.35), (Reference, 0.35), (new ConvexBoundLaw(), 0.3)], prior).ShouldBeFalse();
        // A tilt chosen by the fitted runs' future stands as chosen (the published 400M split: share 0.9).
        StackFitter.RampsReference([(new ShareLaw(), 0.9), (Reference, 0.054), (new ConvexBoundLaw(), 0.046)], prior).ShouldBeFalse();
        // The share law alone.
        StackFitter.RampsReference([(new ShareLaw(), 1), (Reference, 0), (new ConvexBoundLaw(), 0)], prior).ShouldBeFalse();
        // No reference member (its fit failed and was left out).
        StackFitter.RampsReference([(new ShareLaw(), 0.35 / 0.65), (new ConvexBoundLaw(), 0.3 / 0.65)], [0.35 / 0.65, 0.3 / 0.65]).ShouldBeFalse();
    }

    [Fact]
    public void The_law_file_keeps_the_ramp()
    {
        // A stack fitted on curves of a known law (as ConvexTaperTests), then marked as ramping: the flag round-trips, and a
        // file without the key (written before the ramp) reads as no ramp.
        LawRun[] runs =
        [
            SyntheticRun.Of(new MomentumLaw(0.999), [2.0, 1.5, 0.35, 0.1], "constant(peak=3e-3, warmup=100)", 1000, 15),
            SyntheticRun.Of(new MomentumLaw(0.999), [2.0, 1.5, 0.35, 0.1], "cosine(peak=3e-3, total=1000, warmup=100)", 1000, 15),
        ];
        var fit = LawFitter.Fit(new AutoLaw([(new MomentumLaw(0.999), 0.7), (new ConvexBoundLaw(), 0.3)], crossValidatedWeights: false), runs);
        ((AutoLaw)fit.Law).RampsReference.ShouldBeFalse();
        var marked = fit with { Law = (AutoLaw)fit.Law with { RampsReference = true } };
        string json = marked.ToJson();
        json.ShouldContain("\"reference_ramp\": true");
        var back = FittedLaw.FromJson(json);
        ((AutoLaw)back.Law).RampsReference.ShouldBeTrue();
        ((AutoLaw)back.Law).FittedHorizon.ShouldBe(999);
        var old = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        old.Remove("reference_ramp");
        ((AutoLaw)FittedLaw.FromJson(old.ToJsonString()).Law).RampsReference.ShouldBeFalse();
        old["reference_ramp"] = "yes";
        Should.Throw<InputException>(() => FittedLaw.FromJson(old.ToJsonString())).Message.ShouldContain("reference_ramp must be true or false");
    }
}
