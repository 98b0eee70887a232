using System.Text.Json.Nodes;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// The members' constant parts past the fitted horizon at a fixed exponent (<see cref="HorizonMatch"/>,
/// <see cref="AutoLaw.HorizonMatchExponent"/>; docs/journal/session-17-wsd-question.md): the stack's forecast of a constant
/// run and of a WSD branch past the horizon against the closed form, its Jacobian against central differences, where a
/// fit sets it, and the law file keeping it.
/// </summary>
public class HorizonMatchTests
{
    // The momentum law and parameters of GainScaleTests, whose runs these extend past the horizon.
    private static readonly MomentumLaw Law = GainScaleTests.Law;
    private static readonly double[] P = GainScaleTests.P;
    private const double Peak = 3e-3, A = HorizonMatch.Exponent;

    // No warmup: the rate is the peak from step 0, so the LR area up to and including step s is Peak (s + 1) and the area
    // ratio to the horizon H = 1999 is (s + 1) / 2000; the slope's second point, area 1.1 x, is step 2199.
    private const string Constant = "constant(peak=3e-3)";
    private const long H = 1999;

    private static LawRun RunOf(string spec, int total, long[] steps) => GainScaleTests.RunOf(spec, total, steps);

    private static AutoLaw Stack(params (LossLaw Law, double Weight)[] members) =>
        new(members, crossValidatedWeights: false) { FittedHorizon = H, HorizonMatchExponent = A };

    /// <summary>The closed form past the horizon: C(1) - (sigma / a) (1 - x^-a), sigma = -(C(1.1) - C(1)) / ln 1.1, from the member's constant run.</summary>
    private static double Matched(LossLaw law, double[] p, double x)
    {
        var c = law.Predict(RunOf(Constant, 2200, [H, 2199]), p);
        double sigma = -(c[1] - c[0]) / Math.Log(1.1);
        return c[0] - sigma / A * (1 - Math.Pow(x, -A));
    }

    [Fact]
    public void A_constant_run_past_the_horizon_follows_the_power_law_with_the_members_level_and_slope_at_the_horizon()
    {
        long[] steps = [999, H, 3999, 5999];
        var run = RunOf(Constant, 6000, steps);
        var own = Law.Predict(run, P);
        var matched = Stack((Law, 1.0)).Predict(run, P);
        // Within the horizon the member as fitted; at 2x and 3x the area, the closed form.
        matched[0].ShouldBe(own[0], 1e-12);
        matched[1].ShouldBe(own[1], 1e-12);
        matched[2].ShouldBe(Matched(Law, P, 2.0), 1e-12);
        matched[3].ShouldBe(Matched(Law, P, 3.0), 1e-12);
        // Without the exponent (0), or without a fitted horizon, nothing changes.
        (Stack((Law, 1.0)) with { HorizonMatchExponent = 0 }).Predict(run, P).ShouldBe(own, 1e-12);
        (Stack((Law, 1.0)) with { FittedHorizon = 0 }).Predict(run, P).ShouldBe(own, 1e-12);
    }

    [Fact]
    public void A_cooldown_branch_moves_by_the_matched_constant_part_minus_the_members_own_at_its_area()
    {
        // A 10 % linear cooldown ending at 6000: its area ratio x is its rates' sum over the horizon's area, and it moves by
        // C'(x) - C(x), C(x) the member's constant run at the step of that area (Peak (s + 1) = x Peak 2000).
        var spec = "wsd(peak=3e-3, total=6000, decay=0.1, shape=linear)";
        var run = RunOf(spec, 6000, [5999]);
        double x = Schedule.Parse(spec).Sample(6000).Sum() / (Peak * 2000);
        x.ShouldBeInRange(2.8, 2.9);
        long s = (long)Math.Round(x * 2000) - 1;
        double byHand = Law.Predict(run, P)[0] + Matched(Law, P, x) - Law.Predict(RunOf(Constant, (int)s + 1, [s]), P)[0];
        Stack((Law, 1.0)).Predict(run, P)[0].ShouldBe(byHand, 1e-12);
    }

    [Fact]
    public void A_members_forecast_on_the_bands_path_is_its_gain_scaled_then_its_constant_part_matched()
    {
        // AutoLaw.MemberForecast (what FittedLaw's forecast of a stack reads) against the closed forms: at the end of a 10 %
        // cooldown ending at 6000, Lc - k (Lc - L) (GainScale, Lc the member's constant run at the same step), then moved by
        // C'(x) - C(x) (the match at the branch's area ratio x).
        var spec = "wsd(peak=3e-3, total=6000, decay=0.1, shape=linear)";
        var run = RunOf(spec, 6000, [5999]);
        double x = Schedule.Parse(spec).Sample(6000).Sum() / (Peak * 2000);
        long s = (long)Math.Round(x * 2000) - 1;
        const double k = 1.7;
        double l = Law.Predict(run, P)[0], lc = Law.Predict(RunOf(Constant, 6000, [5999]), P)[0];
        double byHand = lc - k * (lc - l) + Matched(Law, P, x) - Law.Predict(RunOf(Constant, (int)s + 1, [s]), P)[0];
        var other = new MomentumLaw(0.99);
        var stack = Stack((Law, 0.6), (other, 0.4)) with { GainScales = [k, 0.5] };
        var own = Law.Predict(run, P);
        stack.MemberForecast(0, run, P, own)[0].ShouldBe(byHand, 1e-12);
        own[0].ShouldBe(l);   // the member's own forecast is left as it was
        // And the fitted stack's forecast, on the band's path, is the fit's own evaluation of the same stack.
        double[] q = [1.9, 1.2, 0.3, 0.6];
        var fitted = FittedLaw.FromValues(stack, [.. P, .. q]) with { Members = [FittedLaw.FromValues(Law, P), FittedLaw.FromValues(other, q)], EndMisfit = 0 };
        fitted.Predict(run).Loss[0].ShouldBe(stack.Predict(run, [.. P, .. q])[0], 1e-12);
    }

    [Fact]
    public void The_stacks_jacobian_with_the_match_and_gain_scales_matches_finite_differences()
    {
        var other = new MomentumLaw(0.99);
        double[] q = [1.9, 1.2, 0.3, 0.6];
        var stack = Stack((Law, 0.6), (other, 0.4)) with { GainScales = [1.7, 0.5] };
        double[] p = [.. P, .. q];
        long[] steps = [500, 1999, 2500, 5500, 5999];
        var run = RunOf("wsd(peak=3e-3, total=6000, decay=0.1, shape=linear)", 6000, steps);
        // The forecast: each member matched, weighted (the members' own forecasts do not rise here: no NonRisingForecast hold).
        var byHand = new double[steps.Length];
        foreach (var (law, w, pm, k) in new[] { (Law, 0.6, P, 1.7), (other, 0.4, q, 0.5) })
        {
            var single = Stack((law, 1.0)) with { GainScales = [k] };
            var f = single.Predict(run, pm);
            for (int i = 0; i < steps.Length; i++) byHand[i] += w * f[i];
        }
        stack.Predict(run, p).ShouldBe(byHand, 1e-12);
        LawMathTests.JacobianMatchesCentralDifferences(stack, stack.Prepare(run), p, steps);
    }

    /// <summary>The WSD question's calibration from end points: the constant run to step 2000 and the ends of the 10 % cooldowns at 1000 and 2000.</summary>
    private static LawRun[] Wsd()
    {
        var constant = SyntheticRun.Of(Law, P, "constant(peak=3e-3, warmup=100)", 2000, 180);
        var runs = new List<LawRun> { constant };
        foreach (int t in new[] { 1000, 2000 })
        {
            var spec = $"wsd(peak=3e-3, total={t}, warmup=100, decay=0.1, shape=linear)";
            var end = RunOf(spec, t, [t - 1]);
            runs.Add(end with { Observed = Law.Predict(end, P) });
        }
        return runs.ToArray();
    }

    [Fact]
    public void A_fit_on_short_cooldowns_sets_the_exponent_and_the_law_file_keeps_it_a_fit_on_a_full_decay_does_not()
    {
        var members = new (LossLaw, double)[] { (new MomentumLaw(0.999, Cap: true), 0.5), (new ConvexBoundLaw(), 0.5) };
        var fit = LawFitter.Fit(new AutoLaw(members), Wsd());
        ((AutoLaw)fit.Law).HorizonMatchExponent.ShouldBe(A);
        fit.StackChoice!.ShouldContain("HorizonMatch");
        var later = RunOf("wsd(peak=3e-3, total=6000, warmup=100, decay=0.1, shape=linear)", 6000, [5999]);
        string json = fit.ToJson();
        json.ShouldContain("\"horizon_match\"");
        var back = FittedLaw.FromJson(json);
        ((AutoLaw)back.Law).HorizonMatchExponent.ShouldBe(A);
        back.Predict(later).Loss[0].ShouldBe(fit.Predict(later).Loss[0], 1e-12);
        // A file written before it: the members' own extrapolation; a bad value is named.
        var old = JsonNode.Parse(json)!.AsObject();
        old.Remove("horizon_match");
        ((AutoLaw)FittedLaw.FromJson(old.ToJsonString()).Law).HorizonMatchExponent.ShouldBe(0);
        old["horizon_match"] = -1.0;
        Should.Throw<InputException>(() => FittedLaw.FromJson(old.ToJsonString())).Message.ShouldContain("horizon_match must be a finite number > 0");
        // A calibration with a cosine over the whole run (the schedules question), or fixed weights: no match.
        LawRun[] full =
        [
            SyntheticRun.Of(Law, P, "constant(peak=3e-3, warmup=100)", 1000, 15),
            SyntheticRun.Of(Law, P, "cosine(peak=3e-3, total=1000, warmup=100)", 1000, 15),
        ];
        ((AutoLaw)LawFitter.Fit(new AutoLaw(members), full).Law).HorizonMatchExponent.ShouldBe(0);
        ((AutoLaw)LawFitter.Fit(new AutoLaw(members, crossValidatedWeights: false), Wsd()).Law).HorizonMatchExponent.ShouldBe(0);
    }
}
