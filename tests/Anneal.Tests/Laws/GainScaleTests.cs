using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// A stack member's decay gain scaled to the fitted runs' points inside decays (<see cref="GainScale"/>,
/// <see cref="AutoLaw.GainScales"/>; docs/journal/session-16-wsd-question.md): a known scale recovered, the stack's
/// forecast and Jacobian against the formula by hand and finite differences, the fit's choice of where to scale, and
/// the law file keeping the scales.
/// </summary>
public class GainScaleTests
{
    internal static readonly MomentumLaw Law = new(0.999);
    internal static readonly double[] P = [2.0, 1.5, 0.35, 1.0];
    private const string Constant = "constant(peak=3e-3, warmup=100)";

    private static string Wsd(int total) => $"wsd(peak=3e-3, total={total}, warmup=100, decay=0.1, shape=linear)";

    /// <summary>A run of <paramref name="spec"/> logged at <paramref name="steps"/>, no loss.</summary>
    internal static LawRun RunOf(string spec, int total, long[] steps) => LawRun.ForSchedule(spec, Schedule.Parse(spec).Sample(total), steps, spec);

    /// <summary>
    /// The WSD question's calibration from end points, its losses the momentum law's with every cooldown's gain over the
    /// constant run multiplied by <paramref name="gain"/>: the constant run to step 2000 (every 10th step from 209) and the
    /// end points of the 10 % cooldowns ending at 1000 and 2000. The constant counterpart is the constant schedule sampled
    /// on its own, not <see cref="GainScale.Counterpart"/>.
    /// </summary>
    private static LawRun[] Calibration(double gain) => Calibration(gain, gain);

    /// <summary>As <see cref="Calibration(double)"/>, the cooldown ending at 1000 gaining <paramref name="first"/> x the law's gain, the one at 2000 <paramref name="last"/> x.</summary>
    private static LawRun[] Calibration(double first, double last)
    {
        var constant = RunOf(Constant, 2000, Enumerable.Range(20, 180).Select(i => 10L * i + 9).ToArray());
        var runs = new List<LawRun> { constant with { Observed = Law.Predict(constant, P) } };
        foreach (var (t, gain) in new[] { (1000, first), (2000, last) })
        {
            var end = RunOf(Wsd(t), t, [t - 1]);
            double l = Law.Predict(end, P)[0], c = Law.Predict(RunOf(Constant, t, [t - 1]), P)[0];
            runs.Add(end with { Observed = [c - gain * (c - l)] });
        }
        return runs.ToArray();
    }

    /// <summary>The law's own gain over the constant run at the end of the 10 % cooldown ending at <paramref name="t"/>.</summary>
    private static double GainAt(int t) =>
        Law.Predict(RunOf(Constant, t, [t - 1]), P)[0] - Law.Predict(RunOf(Wsd(t), t, [t - 1]), P)[0];

    [Fact]
    public void The_latest_cooldown_weighs_half_of_the_scale()
    {
        // Cooldowns gaining 1.2 x (at 1000) and 1.6 x (at 2000) the law's gain: the least-squares scale over both end
        // points is (G1^2 1.2 + G2^2 1.6) / (G1^2 + G2^2), G the law's gains there; the latest one's own scale is 1.6; the
        // fit blends them by GainScale.LatestWeight = 0.5 (docs/journal/session-24-wsd.md). The formula by hand.
        double g1 = GainAt(1000), g2 = GainAt(2000);
        double all = (g1 * g1 * 1.2 + g2 * g2 * 1.6) / (g1 * g1 + g2 * g2);
        GainScale.LatestWeight.ShouldBe(0.5);
        GainScale.Fit(Law, P, Calibration(1.2, 1.6)).ShouldBe(0.5 * all + 0.5 * 1.6, 1e-9);
        // A latest cooldown that gained nothing (its end above the constant run) is no evidence of the gain's level: the
        // scale over both stands.
        double none = (g1 * g1 * 1.2 + g2 * g2 * -0.2) / (g1 * g1 + g2 * g2);
        GainScale.Fit(Law, P, Calibration(1.2, -0.2)).ShouldBe(none, 1e-9);
    }

    [Fact]
    public void A_known_gain_scale_is_recovered_from_the_cooldowns_end_points()
    {
        // The constant run has no point inside a decay; the two end points carry the scale, recovered exactly.
        GainScale.Fit(Law, P, Calibration(1.7)).ShouldBe(1.7, 1e-9);
        GainScale.Fit(Law, P, Calibration(1.0)).ShouldBe(1.0, 1e-9);
        // A constant run alone: nothing to scale.
        GainScale.Fit(Law, P, Calibration(1.7)[..1]).ShouldBe(1);
        // End points above the constant run (a decay that raised the loss): the scale stops at 0, not below.
        GainScale.Fit(Law, P, Calibration(-0.5)).ShouldBe(0);
        // The counterpart holds the peak from the peak on: the constant schedule, step for step.
        var branch = RunOf(Wsd(1000), 1000, [999]);
        GainScale.Counterpart(branch).Eta.ShouldBe(Schedule.Parse(Constant).Sample(1000), 1e-18);
        GainScale.Decays(branch).ShouldBeTrue();
        GainScale.Decays(RunOf(Wsd(1000), 1000, [899])).ShouldBeFalse();   // the step before the cooldown
    }

    [Fact]
    public void The_stacks_forecast_is_each_members_constant_part_minus_its_scaled_gain_and_its_jacobian_matches_finite_differences()
    {
        var other = new MomentumLaw(0.99);
        double[] q = [1.9, 1.2, 0.3, 0.6];
        var stack = new AutoLaw([(Law, 0.6), (other, 0.4)], crossValidatedWeights: false) { GainScales = [1.7, 0.5] };
        double[] p = [.. P, .. q];
        var steps = new long[] { 500, 1799, 1850, 1999 };
        var run = RunOf(Wsd(2000), 2000, steps);
        var constant = RunOf(Constant, 2000, steps);
        // By hand: 0.6 (Lc - 1.7 (Lc - L)) + 0.4 (Lc' - 0.5 (Lc' - L')), each member on the WSD run and on the constant schedule.
        double[] l1 = Law.Predict(run, P), c1 = Law.Predict(constant, P), l2 = other.Predict(run, q), c2 = other.Predict(constant, q);
        var byHand = steps.Select((_, i) => 0.6 * (c1[i] - 1.7 * (c1[i] - l1[i])) + 0.4 * (c2[i] - 0.5 * (c2[i] - l2[i]))).ToArray();
        stack.Predict(run, p).ShouldBe(byHand, 1e-12);
        // Step 500, before the cooldown: each member as fitted.
        stack.Predict(run, p)[0].ShouldBe(0.6 * l1[0] + 0.4 * l2[0], 1e-12);
        // The Jacobian against central differences of the forecast.
        var loss = new double[steps.Length];
        var jac = new double[steps.Length * p.Length];
        stack.Prepare(run).Evaluate(p, loss, jac);
        for (int j = 0; j < p.Length; j++)
        {
            double h = 1e-6 * Math.Max(1, Math.Abs(p[j]));
            var up = (double[])p.Clone(); up[j] += h;
            var down = (double[])p.Clone(); down[j] -= h;
            double[] fu = stack.Predict(run, up), fd = stack.Predict(run, down);
            for (int i = 0; i < steps.Length; i++)
                jac[i * p.Length + j].ShouldBe((fu[i] - fd[i]) / (2 * h), 1e-6 * Math.Max(1, Math.Abs(jac[i * p.Length + j])));
        }
    }

    [Fact]
    public void A_fit_on_short_cooldowns_scales_each_members_gain_to_its_least_squares_and_a_fit_on_a_full_decay_does_not()
    {
        // End points whose gain is 1.5 x the momentum law's: each member's scale is half its least-squares scale over the two
        // end points and half the one over the latest (GainScale.LatestWeight, where that one gained), by hand (the member on
        // each cooldown and on the constant schedule sampled on its own), stopped at 0 (the convex member forecasts a gain of
        // the other sign there).
        var runs = Calibration(1.5);
        var fit = LawFitter.Fit(new AutoLaw([(new MomentumLaw(0.999, Cap: true), 0.5), (new ConvexBoundLaw(), 0.5)]), runs);
        var stack = (AutoLaw)fit.Law;
        stack.GainScales.Count.ShouldBe(2);
        for (int m = 0; m < 2; m++)
        {
            var member = fit.Members[m];
            double num = 0, den = 0, lastNum = 0, lastDen = 0;
            foreach (var (end, t) in runs[1..].Zip(new[] { 1000, 2000 }))
            {
                double l = member.Law.Predict(end, member.Values)[0], c = member.Law.Predict(RunOf(Constant, t, [t - 1]), member.Values)[0];
                (lastNum, lastDen) = ((c - l) * (c - end.Observed![0]), (c - l) * (c - l));
                num += lastNum;
                den += lastDen;
            }
            double k = lastNum > 0 ? 0.5 * num / den + 0.5 * lastNum / lastDen : num / den;
            stack.GainScaleOf(m).ShouldBe(Math.Max(0, k), 1e-9);
        }
        stack.GainScaleOf(0).ShouldBe(1, 0.01);   // the capped momentum member meets the end points itself (its C takes the 1.5): its gain stays
        fit.StackChoice!.ShouldContain("gain x");
        // A calibration with a cosine over the whole run (the schedules question): no member's gain is scaled.
        LawRun[] full =
        [
            SyntheticRun.Of(Law, P, Constant, 1000, 15),
            SyntheticRun.Of(Law, P, "cosine(peak=3e-3, total=1000, warmup=100)", 1000, 15),
        ];
        ((AutoLaw)LawFitter.Fit(new AutoLaw([(new MomentumLaw(0.999, Cap: true), 0.5), (new ConvexBoundLaw(), 0.5)]), full).Law).GainScales.ShouldBeEmpty();
    }

    [Fact]
    public void A_member_whose_gain_runs_against_the_end_points_is_left_out_where_two_others_meet_them()
    {
        // The power law in the rate's area, L0 + A S1^-alpha, has a cooldown's area below its constant run's at the same step,
        // so it forecasts a cooldown ABOVE the constant run (closed form: gain G = A (S1c^-alpha - S1^-alpha) < 0), against the
        // end points' gain: its least-squares scale stops at 0 (by hand: sum G (Lc - y) < 0).
        var runs = Calibration(1.0);
        var power = LawFitter.Fit(new PowerLaw(), runs);
        double num = 0;
        foreach (var (end, t) in runs[1..].Zip(new[] { 1000, 2000 }))
        {
            double l = power.Law.Predict(end, power.Values)[0], c = power.Law.Predict(RunOf(Constant, t, [t - 1]), power.Values)[0];
            (c - l).ShouldBeLessThan(0);
            num += (c - l) * (c - end.Observed![0]);
        }
        num.ShouldBeLessThan(0);
        GainScale.Fit(power.Law, power.Values, runs).ShouldBe(0);
        // In a stack with the law that made the end points (twice, so that two members meet them), the power law is left out
        // (at scale 0 it would forecast every cooldown at its constant run): each member recovers the known parameters to
        // 1e-2 and the known law's end of a later branch (6,000 steps, 3x the fitted horizon) to 1e-3, and the stack a branch
        // ending within the fitted horizon (1,500 steps; past it HorizonMatch replaces the constant part) to 1e-4.
        var fit = LawFitter.Fit(new AutoLaw([(Law, 0.4), (Law, 0.3), (new PowerLaw(), 0.3)]), runs);
        var stack = (AutoLaw)fit.Law;
        stack.Members.Select(m => m.Law).ShouldBe([Law, Law]);
        fit.Report.Warnings.ShouldContain(w => w.Contains("auto: member powerlaw left out") && w.Contains("runs against the fitted runs' points inside decays"));
        var later = RunOf(Wsd(6000), 6000, [5999]);
        foreach (var member in fit.Members)
        {
            member.Values.ShouldBe(P, 1e-2);
            member.Predict(later).Loss[0].ShouldBe(Law.Predict(later, P)[0], 1e-3 * Law.Predict(later, P)[0]);
        }
        var within = RunOf(Wsd(1500), 1500, [1499]);
        fit.Predict(within).Loss[0].ShouldBe(Law.Predict(within, P)[0], 1e-4 * Law.Predict(within, P)[0]);
        // The convex bound fitted on end points whose gain is 1.5 x the law's runs to c1 -> 0 (its distance term alone, whose
        // gain has the power law's sign), as on gpt-gcide's and gpt-manpages' end points: left out too.
        var convex = LawFitter.Fit(new AutoLaw([(Law, 0.4), (new MomentumLaw(0.999, Cap: true), 0.3), (new ConvexBoundLaw(), 0.3)]), Calibration(1.5));
        ((AutoLaw)convex.Law).Members.Select(m => m.Law.Name).ShouldBe(["momentum", "momentum"]);
        // With one member whose gain meets them, nothing is left out: the cross-validation needs two members to weigh.
        var two = LawFitter.Fit(new AutoLaw([(Law, 0.5), (new PowerLaw(), 0.5)]), runs);
        ((AutoLaw)two.Law).Members.Count.ShouldBe(2);
        ((AutoLaw)two.Law).GainScaleOf(1).ShouldBe(0);
    }

    [Fact]
    public void The_law_file_keeps_the_gain_scales()
    {
        var fit = LawFitter.Fit(new AutoLaw([(new MomentumLaw(0.999, Cap: true), 0.5), (new ConvexBoundLaw(), 0.5)]), Calibration(1.5));
        var later = RunOf(Wsd(6000), 6000, [5999]);
        string json = fit.ToJson();
        json.ShouldContain("\"gain_scales\"");
        var back = FittedLaw.FromJson(json);
        ((AutoLaw)back.Law).GainScales.ShouldBe(((AutoLaw)fit.Law).GainScales);
        back.Predict(later).Loss[0].ShouldBe(fit.Predict(later).Loss[0], 1e-12);
        // A file written before the scales: every member as fitted.
        var old = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        old.Remove("gain_scales");
        ((AutoLaw)FittedLaw.FromJson(old.ToJsonString()).Law).GainScales.ShouldBeEmpty();
        old["gain_scales"] = new System.Text.Json.Nodes.JsonArray(1.0);
        Should.Throw<InputException>(() => FittedLaw.FromJson(old.ToJsonString())).Message.ShouldContain("gain_scales must list one number >= 0 per member");
        old["gain_scales"] = new System.Text.Json.Nodes.JsonArray(1.0, -2.0);
        Should.Throw<InputException>(() => FittedLaw.FromJson(old.ToJsonString())).Message.ShouldContain("gain_scales[1] must be a finite number >= 0");
    }
}
