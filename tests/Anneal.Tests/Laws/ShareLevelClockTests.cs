using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// <c>share(clock=level)</c> (docs/journal/session-14-published-split-auto.md): each decrease realised on the
/// age clock scaled by the rate relative to the level it crosses. Its gains against the definition summed over every
/// decrease, its equivariance to the rate's units, its spec, and its place in <c>auto</c>: chosen over <c>share</c> by the
/// better fit of the fitted runs (<see cref="StackFitter.BetterFitOfSame"/>), which meets the published 400M target.
/// </summary>
public class ShareLevelClockTests
{
    private static readonly ShareLaw Level = new(LevelClock: true);

    /// <summary>
    /// The law from its definition, independently of the implementation's level buckets and lazy updates:
    /// L0 + A S1^-alpha - B sum_{k > peak} sum_pieces d sum_j w_j (1 - exp(-nu_j (I(t) - I(k)) / e)),
    /// I(t) = sum_{1 &lt;= s &lt;= t} eta_s ln((s+1)/s), a decrease cut into geometric pieces of ratio at most 1.02, each at its
    /// arithmetic midpoint e (a rise, or a drop to zero, is one piece at its midpoint).
    /// </summary>
    private static double Definition(double[] eta, long t, double[] p)
    {
        var speeds = Enumerable.Range(-2, 11).Select(j => Math.Pow(2, j)).ToArray();
        var raw = speeds.Select(v => Math.Pow(v, -p[4])).ToArray();
        var w = raw.Select(r => r / raw.Sum()).ToArray();
        int peak = Array.IndexOf(eta, eta.Max());
        var clock = new double[t + 1];
        for (long s = 1; s <= t; s++) clock[s] = clock[s - 1] + eta[s] * Math.Log((s + 1.0) / s);
        double s1 = 0, g = 0;
        for (int i = 0; i <= t; i++) s1 += eta[i];
        for (int k = peak + 1; k <= t; k++)
        {
            double from = eta[k - 1], to = eta[k];
            if (from == to) continue;
            var pieces = new List<(double D, double Level)>();
            if (from > to && to > 0)
            {
                int m = (int)Math.Ceiling(Math.Log(from / to) / Math.Log(1.02) - 1e-12);
                m = Math.Max(m, 1);
                for (int q = 0; q < m; q++)
                {
                    double lo = to * Math.Pow(from / to, (double)q / m), hi = to * Math.Pow(from / to, (double)(q + 1) / m);
                    pieces.Add((hi - lo, 0.5 * (lo + hi)));
                }
            }
            else pieces.Add((from - to, 0.5 * (from + to)));
            foreach (var (d, level) in pieces)
                for (int j = 0; j < speeds.Length; j++)
                    g += d * w[j] * (1 - Math.Exp(-speeds[j] * (clock[t] - clock[k]) / level));
        }
        return p[0] + p[1] * Math.Pow(s1, -p[2]) - p[3] * g;
    }

    [Theory]
    [InlineData("warmup(multistep(peak=3e-3, milestones=[1400, 2150], gamma=0.1), steps=100)", 0.3)]
    [InlineData("join(constant(peak=3e-3, warmup=100), constant(peak=3e-4), at=[1000])", -0.2)]
    [InlineData("cosine(peak=3e-3, total=3000, warmup=100, min=3e-4)", 0.4)]
    [InlineData("wsd(peak=3e-3, total=3000, warmup=100, decay=0.2)", 0.4)]
    public void Gains_match_the_definition_summed_over_every_decrease(string spec, double exponent)
    {
        // The implementation realises each decrease at its level bucket's geometric centre (ratio 1.02), so its clock runs
        // within 1 % of the definition's; 1 - y^(1 +- 0.01) differs from 1 - y by at most 0.01 max|y ln y| = 0.0037 of the
        // decrease, the tolerance. The age clock (share) misses the step drops' definition by 10-40x that (checked below), so
        // the comparison can fail.
        var eta = Schedule.Parse(spec).Sample(3000);
        long[] steps = [99, 999, 1000, 1001, 1100, 1500, 2200, 2600, 2999];
        double[] p = [1.5, 0.8, 0.4, 40, exponent];
        var pred = Level.Predict(eta, steps, p);
        var fixedP = new ShareLaw(exponent, LevelClock: true).Predict(eta, steps, p[..4]);
        var age = new ShareLaw().Predict(eta, steps, p);
        int peak = Array.IndexOf(eta, eta.Max());
        double drop = 40 * Enumerable.Range(peak + 1, 2999 - peak).Sum(k => Math.Abs(eta[k - 1] - eta[k]));
        double ageMiss = 0;
        for (int j = 0; j < steps.Length; j++)
        {
            double expected = Definition(eta, steps[j], p);
            pred[j].ShouldBe(expected, 0.0037 * drop, $"{spec} step {steps[j]}");
            fixedP[j].ShouldBe(pred[j], 1e-12 * pred[j], $"{spec} step {steps[j]} (p held)");
            ageMiss = Math.Max(ageMiss, Math.Abs(age[j] - expected));
        }
        if (spec.Contains("multistep") || spec.Contains("join")) ageMiss.ShouldBeGreaterThan(0.03 * drop, spec);
    }

    [Fact]
    public void A_small_decrease_followed_by_its_rate_is_realised_as_on_the_age_clock()
    {
        // Closed form: a decrease d from e to e' = e / 1.01 at step k0 (one piece, level (e + e') / 2), then e' held, is
        // realised by step t as d sum_j w_j (1 - ((k0+1)/(t+1))^(nu_j e' / centre)), centre the level bucket's geometric centre
        // (within 1 % of the level); the age clock's exponent is nu_j. Checked against that closed form to 1e-12, and the
        // clock ratio e' / centre within 1.5 % of 1.
        double e = 3e-3, e2 = e / 1.01, mid = 0.5 * (e + e2), lnR = Math.Log(1.02);
        double centre = e * Math.Exp((Math.Floor(Math.Log(mid / e) / lnR) + 0.5) * lnR);   // buckets counted from the peak rate e
        Math.Abs(e2 / centre - 1).ShouldBeLessThan(0.015);
        int k0 = 999, n = 4000;
        var eta = Enumerable.Range(0, n).Select(i => i < k0 ? e : e2).ToArray();
        double[] p = [1.5, 0.8, 0.4, 40, 0.3];
        var (w, _) = ShareLaw.Weights(0.3);
        foreach (long t in (long[])[1500, 2999, 3999])
        {
            double gain = Level.Predict(eta, [t], [p[0], p[1], p[2], 0, p[4]])[0] - Level.Predict(eta, [t], p)[0];
            double expected = 40 * (e - e2) * ShareLaw.Speeds.Select((v, j) => w[j] * (1 - Math.Pow((k0 + 1.0) / (t + 1), v * e2 / centre))).Sum();
            gain.ShouldBe(expected, 1e-12 * expected, $"step {t}");
        }
    }

    [Fact]
    public void The_forecast_does_not_depend_on_the_rates_units()
    {
        // Equivariance: rates x 10 with B / 10 and A's LR-area factor (A S1^-alpha: A x 10^alpha) give the same losses.
        var eta = Schedule.Parse("warmup(multistep(peak=3e-3, milestones=[1400, 2150], gamma=0.3), steps=100)").Sample(3000);
        var scaled = eta.Select(x => 10 * x).ToArray();
        long[] steps = [500, 1500, 2200, 2999];
        double[] p = [1.5, 0.8, 0.4, 40, 0.3];
        var a = Level.Predict(eta, steps, p);
        var b = Level.Predict(scaled, steps, [p[0], p[1] * Math.Pow(10, p[2]), p[2], p[3] / 10, p[4]]);
        for (int i = 0; i < steps.Length; i++) b[i].ShouldBe(a[i], 1e-12 * a[i]);
    }

    [Fact]
    public void The_spec_reads_writes_and_refuses_what_it_cannot_mean()
    {
        LossLaw.Parse("share(clock=level)").ShouldBe(Level);
        Level.Spec.ShouldBe("share(clock=level)");
        LossLaw.Parse("share(clock=age)").Spec.ShouldBe("share");
        Should.Throw<Anneal.Specs.SpecException>(() => LossLaw.Parse("share(clock=area)")).Message.ShouldContain("clock must be age or level");
        Should.Throw<Anneal.Specs.SpecException>(() => LossLaw.Parse("share(q=0.7, clock=level)")).Message.ShouldContain("q = 1");
        var fit = FittedLaw.FromValues(Level, 2.5, 0.66, 0.41, 680.0, -0.2);
        FittedLaw.FromJson(fit.ToJson()).Law.ShouldBe(Level);
    }

    [Fact]
    public void Of_two_alternates_with_the_same_parameters_the_better_fit_is_weighed()
    {
        // BetterFitOfSame: share and share(clock=level) are one choice, made by the objective; a law with other parameters
        // (the age law) is kept beside them; on a tie the earlier stands.
        LossLaw age = new AgeMomentumLaw(Q: 0.7), share = new ShareLaw();
        FittedLaw Fit(LossLaw law, double objective) =>
            FittedLaw.FromValues(law, law.Parameters.Select(_ => 1.0).ToArray()) with { Report = new FitReport { Objective = objective } };
        var candidates = new[] { age, share, Level };
        (FittedLaw?, string?)[] outcome = [(Fit(age, 5), null), (Fit(share, 2), null), (Fit(Level, 1), null)];
        var why = new List<string>();
        StackFitter.BetterFitOfSame([0, 1, 2], candidates, outcome, why).ShouldBe([0, 2]);
        why.ShouldHaveSingleItem().ShouldContain("share(clock=level) weighed, not share");
        outcome[2] = (Fit(Level, 2), null);
        StackFitter.BetterFitOfSame([0, 1, 2], candidates, outcome, []).ShouldBe([0, 1]);
    }

    [Theory]
    [InlineData("25m", "share weighed, not share(clock=level)")]
    [InlineData("100m", "share weighed, not share(clock=level)")]
    [InlineData("400m", "share(clock=level) weighed, not share")]
    public void Auto_beats_the_published_table_at_every_size_and_meets_the_400m_target(string size, string choice)
    {
        // Source: the published table (mean over the six held-out curves of R^2, MAE, RMSE, PredE, WorstE; Luo et al. 2025;
        // MplData.PublishedMetrics). Issue 10: 400M R^2 >= 0.998 and PredE <= 0.0015, every size at least as good as the
        // table. Measured (docs/journal/session-14-published-split-auto.md): 25M 0.99907 / 0.000944, 100M 0.99852 /
        // 0.001298, 400M 0.99879 / 0.001302
        // (before: 0.99790 / 0.001752, share in the first place). At 400M the level clock fits the three runs better
        // (objective 9.25e-5 against 9.39e-5); at 25M and 100M the age clock does.
        var fit = LawFitter.Fit(new AutoLaw(), MplData.Runs(size, MplData.FitSplit), new FitOptions(Jackknife: false));
        fit.StackChoice.ShouldNotBeNull().ShouldContain(choice);
        var score = LawEvaluation.Score(fit, MplData.Runs(size, MplData.TestSplit));
        var m = new[] { score.Tests.Average(t => t.Metrics.R2), score.Tests.Average(t => t.Metrics.Mae), score.Tests.Average(t => t.Metrics.Rmse),
            score.Tests.Average(t => t.Metrics.PredE), score.Tests.Average(t => t.Metrics.WorstE) };
        var table = MplData.PublishedMetrics(size);
        m[0].ShouldBeGreaterThan(table[0], size);
        for (int i = 1; i < 5; i++) m[i].ShouldBeLessThan(table[i], $"{size} metric {i}");
        if (size == "400m")
        {
            m[0].ShouldBeGreaterThanOrEqualTo(0.998);
            m[3].ShouldBeLessThanOrEqualTo(0.0015);
            // The law file keeps the member: read back, it forecasts the same curve.
            var back = FittedLaw.FromJson(fit.ToJson());
            back.Members.ShouldContain(f => f.Law.Spec == "share(clock=level)");
            var test = MplData.Run(size, "wsdcon_3");
            back.Law.Predict(test, back.Values).ShouldBe(fit.Law.Predict(test, fit.Values), 1e-12);
        }
    }
}
