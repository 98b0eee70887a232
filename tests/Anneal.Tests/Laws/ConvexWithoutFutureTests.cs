using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// <c>auto</c>'s prior where the fitted runs' own future cannot be forecast (<see cref="AutoLaw.ConvexWithoutFuture"/>,
/// <see cref="AutoLaw.WithoutFuture"/>): on a calibration with a long decay the convex member's weight is lowered to 0.2,
/// the others sharing the rest in proportion. The independent source: the weights computed by hand
/// (0.35 x 0.8 / 0.7 = 0.4).
/// </summary>
public class ConvexWithoutFutureTests
{
    private static readonly double[] Truth = [2.0, 1.5, 0.35, 0.1];

    private static readonly MomentumLaw Capped = new(0.999, Cap: true);

    /// <summary>A run of <paramref name="spec"/> logged every 100 steps from 199 to <paramref name="total"/> - 1 (5 points at 600, as the short engine corpora), its loss the momentum law at <see cref="Truth"/>.</summary>
    private static LawRun Make(string spec, int total, long first = 199, long every = 100)
    {
        var eta = Schedule.Parse(spec).Sample(total);
        var steps = Enumerable.Range(0, (int)((total - 1 - first) / every) + 1).Select(i => first + i * every).ToArray();
        return LawRun.ForSchedule(spec, eta, steps, spec) with { Observed = new MomentumLaw(0.999).Predict(eta, steps, Truth) };
    }

    [Fact]
    public void The_convex_weight_is_lowered_to_0_2_and_the_others_share_the_rest_in_proportion()
    {
        AutoLaw.ConvexWithoutFuture.ShouldBe(0.2);
        // The default stack: 0.35 / 0.35 / 0.3 -> 0.35 x 0.8 / 0.7 = 0.4 each, convex 0.2.
        AutoLaw.WithoutFuture(AutoLaw.DefaultMembers).ShouldBe([0.4, 0.4, 0.2], 1e-15);
        // Weights given unnormalised: 7 / 3 -> 0.8 / 0.2.
        AutoLaw.WithoutFuture([(Capped, 7), (new ConvexBoundLaw(), 3)]).ShouldBe([0.8, 0.2], 1e-15);
        // A convex weight at or below 0.2 is not raised, and a convex member alone keeps all.
        AutoLaw.WithoutFuture([(Capped, 0.9), (new ConvexBoundLaw(), 0.1)]).ShouldBe([0.9, 0.1], 1e-15);
        AutoLaw.WithoutFuture([(new ConvexBoundLaw(), 1.0)]).ShouldBe([1.0]);
        // No convex member: the prior, normalised.
        AutoLaw.WithoutFuture([(Capped, 1), (new PowerLaw(), 3)]).ShouldBe([0.25, 0.75], 1e-15);
    }

    [Fact]
    public void A_fit_whose_past_cannot_be_refitted_lowers_the_convex_weight_only_with_a_long_decay()
    {
        var stack = new AutoLaw([(Capped, 0.35), (new PowerLaw(), 0.35), (new ConvexBoundLaw(), 0.3)]);
        // The schedules question of a short corpus: a constant run and a cosine over the whole run, 5 points each. The cut
        // at half the horizon leaves 2 points a run: the capped law (5 parameters) cannot be refitted on the past, so the
        // prior stands, with the convex member's weight lowered (the cosine decays over more than half its run).
        LawRun[] schedules = [Make("constant(peak=3e-3, warmup=100)", 600), Make("cosine(peak=3e-3, total=600, warmup=100)", 600)];
        ShareLaw.SpansLongDecay(schedules).ShouldBeTrue();
        var fit = LawFitter.Fit(stack, schedules);
        ((AutoLaw)fit.Law).Members.Select(m => m.Weight).ShouldBe([0.4, 0.4, 0.2], 1e-12, fit.StackChoice);
        fit.StackChoice!.ShouldContain("convex member's lowered to 0.2");
        fit.StackChoice!.ShouldContain("could not be refitted");

        // The WSD question's calibration (constant run logged at 399 and 599, 10 % cooldowns ending at 300, its end only, and
        // at 600, every 10 steps from 539): the later cooldown is the future, the past's 3 points cannot refit the capped law,
        // no fitted run decays over half its length, and the prior stands as it is.
        LawRun[] wsd =
        [
            Make("constant(peak=3e-3, warmup=100)", 600, 399, 200),
            Make("wsd(peak=3e-3, total=300, warmup=100, decay=0.1)", 300, 299, 100),
            Make("wsd(peak=3e-3, total=600, warmup=100, decay=0.1)", 600, 539, 10),
        ];
        ShareLaw.SpansLongDecay(wsd).ShouldBeFalse();
        var held = LawFitter.Fit(stack, wsd);
        ((AutoLaw)held.Law).Members.Select(m => m.Weight).ShouldBe([0.35, 0.35, 0.3], 1e-12, held.StackChoice);
        held.StackChoice!.ShouldStartWith("the prior weights stand:");
        held.StackChoice.ShouldContain("could not be refitted");

        // auto(weights=fixed) keeps its prior on the long decay too.
        var fixedStack = new AutoLaw([(Capped, 0.35), (new PowerLaw(), 0.35), (new ConvexBoundLaw(), 0.3)], crossValidatedWeights: false);
        ((AutoLaw)LawFitter.Fit(fixedStack, schedules).Law).Members.Select(m => m.Weight).ShouldBe([0.35, 0.35, 0.3], 1e-12);
    }
}
