using Anneal.Design;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// <c>mpl(drops=continuous)</c>: a decrease between two steps enters the loss drop as the continuous decay it is the limit
/// of, <c>B * integral_{eta_k}^{eta_(k-1)} G(e^-gamma S_k(t)) de</c> (docs/journal/session-13-mpl.md). Checked against a
/// fine quadrature of that integral, the closed form at gamma = 0 (where it is the paper's term), its invariance to how a
/// drop is cut into steps, the parameters it recovers from curves it generated, its Jacobian (central differences), its
/// spec and law file.
/// </summary>
public class MplContinuousDropsTests
{
    private static readonly MultiPowerLaw Continuous = new() { ContinuousDrops = true };

    // 1,000 steps at 3e-4 (step 0 is the peak: no warmup), then 3e-5: one decrease, at step 1,000.
    private static double[] StepDrop() => [.. Enumerable.Repeat(3e-4, 1000), .. Enumerable.Repeat(3e-5, 1000)];

    [Fact]
    public void A_step_drop_is_the_integral_over_the_rates_it_crosses()
    {
        // Independent source: composite Simpson (200,000 intervals) of B * integral_{3e-5}^{3e-4} (1 - (1 + C e^-gamma S)^-beta) de,
        // S = 3e-5 (t - 999) the LR area since the drop, plus the power law in the LR area, written out here.
        double[] p = [2.5, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63];
        var eta = StepDrop();
        long[] steps = [1000, 1050, 1300, 1999];
        var pred = Continuous.Predict(eta, steps, p);
        var paper = new MultiPowerLaw().Predict(eta, steps, p);
        for (int i = 0; i < steps.Length; i++)
        {
            long t = steps[i];
            double s = 3e-5 * (t - 999), area = 3e-4 * 1000 + s;
            double G(double e) => 1 - Math.Pow(1 + p[4] * Math.Pow(e, -p[6]) * s, -p[5]);
            const int n = 200_000;
            double a = 3e-5, b = 3e-4, h = (b - a) / n, sum = G(a) + G(b);
            for (int j = 1; j < n; j++) sum += (j % 2 == 1 ? 4 : 2) * G(a + j * h);
            double ld = p[3] * sum * h / 3, expected = p[0] + p[1] * Math.Pow(area, -p[2]) - ld;
            pred[i].ShouldBe(expected, 2e-5 * ld, $"step {t}");
            // The paper's form realises all of the drop on the clock of 3e-5, the fastest: more gain, a lower loss.
            paper[i].ShouldBeLessThan(pred[i] - 1e-3, $"step {t}");
        }
    }

    [Fact]
    public void At_gamma_zero_it_is_the_papers_term()
    {
        // Closed form: with gamma = 0 the clock S_k(t) does not depend on the rate, so the integral is (eta_(k-1) - eta_k) G(S_k(t)).
        double[] p = [2.56, 0.64, 0.47, 510.0, 80.0, 0.83, 0.0];
        foreach (var spec in new[] { "join(constant(peak=3e-4, warmup=100), constant(peak=3e-5), at=[1200])", "warmup(multistep(peak=3e-4, milestones=[900, 1900], gamma=0.3), steps=100)" })
        {
            var eta = Schedule.Parse(spec).Sample(3000);
            long[] steps = [500, 1199, 1200, 1201, 1500, 2100, 2999];
            var a = Continuous.Predict(eta, steps, p);
            var b = new MultiPowerLaw().Predict(eta, steps, p);
            for (int i = 0; i < steps.Length; i++) a[i].ShouldBe(b[i], 1e-12, $"{spec} step {steps[i]}");
        }
    }

    [Fact]
    public void A_drop_cut_into_two_steps_gives_nearly_the_same_loss()
    {
        // Independent source: the integral's additivity. 3e-4 -> 3e-5 at step 1,000, against 3e-4 -> 1e-4 at 1,000 and -> 3e-5 at
        // 1,001: the continuous form differs only through one step's extra LR area (7e-5, in the power law and in the clocks),
        // the paper's form also by how much faster the clock of 3e-5 realises the first part of the drop than that of 1e-4.
        double[] p = [2.5, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63];
        var one = StepDrop();
        var two = (double[])one.Clone();
        two[1000] = 1e-4;
        long[] steps = [1100, 1500, 1999];
        var c1 = Continuous.Predict(one, steps, p); var c2 = Continuous.Predict(two, steps, p);
        var p1 = new MultiPowerLaw().Predict(one, steps, p); var p2 = new MultiPowerLaw().Predict(two, steps, p);
        for (int i = 0; i < steps.Length; i++)
        {
            Math.Abs(c1[i] - c2[i]).ShouldBeLessThan(1e-3, $"continuous, step {steps[i]}");
            Math.Abs(p1[i] - p2[i]).ShouldBeGreaterThan(10 * Math.Abs(c1[i] - c2[i]), $"paper, step {steps[i]}: {p1[i] - p2[i]} against {c1[i] - c2[i]}");
        }
    }

    [Fact]
    public void A_smooth_decay_is_the_papers_term()
    {
        // A cosine over 24,000 steps changes the rate by under 2 % a step: no decrease is cut, the law is the paper's.
        double[] p = [2.5, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63];
        var eta = Schedule.Parse("cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)").Sample(24000);
        long[] steps = [3000, 12000, 23999];
        var a = Continuous.Predict(eta, steps, p);
        var b = new MultiPowerLaw().Predict(eta, steps, p);
        for (int i = 0; i < steps.Length; i++) a[i].ShouldBe(b[i], 1e-14 * b[i]);
    }

    [Fact]
    public void Jacobian_matches_central_differences_on_step_drops()
    {
        var law = LossLaw.Parse("mpl(drops=continuous)");
        var eta = Schedule.Parse("warmup(multistep(peak=3e-4, milestones=[900, 1900], gamma=0.3), steps=100)").Sample(3000);
        long[] steps = [500, 1000, 1400, 2000, 2600, 2999];
        LawMathTests.JacobianMatchesCentralDifferences(law, law.Prepare(LawRun.ForSchedule("t", eta, steps, "test")), [2.5, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63], steps);
    }

    [Fact]
    public void Recovers_the_parameters_that_generated_its_curves()
    {
        // Independent source: the known parameters. Curves generated by mpl(drops=continuous) at 400M-like values on the
        // published split's three fitted schedules (cosine_24000, constant_24000, wsdcon_9 at their logged steps: wsdcon_9's
        // drop is cut into 61 pieces), fitted back to the optimum from the default starts.
        double[] truth = [2.52, 0.66, 0.42, 600.0, 0.3, 0.7, 0.63];
        var runs = MplData.Runs("400m", MplData.FitSplit).Select(r => r with { Observed = Continuous.Predict(r, truth) }).ToArray();
        var fit = LawFitter.Fit(Continuous, runs, new FitOptions(Jackknife: false));
        for (int j = 0; j < truth.Length; j++)
            fit.Values[j].ShouldBe(truth[j], 2e-3 * truth[j], Continuous.Parameters[j].Name);
    }

    [Fact]
    public void Parses_prints_and_is_designed_with_its_own_form()
    {
        LossLaw.Parse("mpl(drops=continuous)").Spec.ShouldBe("mpl(drops=continuous)");
        LossLaw.Parse("mpl(warmup=reference, drops=continuous)").Spec.ShouldBe("mpl(warmup=reference, drops=continuous)");
        LossLaw.Parse("mpl(drops=step)").Spec.ShouldBe("mpl");
        Should.Throw<Anneal.Specs.SpecException>(() => LossLaw.Parse("mpl(drops=smooth)")).Message.ShouldContain("drops must be step");
        var fit = FittedLaw.FromValues(Continuous, 2.52, 0.66, 0.42, 600.0, 0.3, 0.7, 0.63);
        var back = FittedLaw.FromJson(fit.ToJson());
        back.Law.ShouldBe(Continuous);
        // Schedule design models it (tests/Anneal.Tests/Design/ContinuousDropsDesignTests.cs).
        DesignLaw.FromFitted(fit, "law.json").ContinuousDrops.ShouldBeTrue();
    }
    [Theory]
    [InlineData("25m", 0.99927, 0.000874)]
    [InlineData("100m", 0.99871, 0.001220)]
    [InlineData("400m", 0.99814, 0.001545)]
    public void Reference_procedure_with_continuous_drops_beats_the_published_table(string size, double r2Measured, double predEMeasured)
    {
        // Source: the published table (mean over the six held-out curves; Luo et al. 2025): 25M 0.9988 / 0.00110, 100M 0.9983 /
        // 0.00142, 400M 0.9978 / 0.00168. mpl(warmup=reference, drops=continuous), fitted by the reference procedure from the
        // reference initialisation, beats R^2 and PredE at every size; issue 10's 400M target (R^2 >= 0.998, PredE <= 0.0015)
        // is met in R^2 and missed in PredE (0.00155). Measured values (docs/journal/session-13-mpl.md) pinned to 3e-4 in R^2 and
        // 3 % in PredE: the early-stopped fit moves with the last bits of its input.
        var law = new MultiPowerLaw(WarmupConvention.Reference) { ContinuousDrops = true };
        var fit = LawFitter.Fit(law, MplData.Runs(size, MplData.FitSplit), new FitOptions(Jackknife: false));
        var score = LawEvaluation.Score(fit, MplData.Runs(size, MplData.TestSplit));
        double r2 = score.Tests.Average(t => t.Metrics.R2), pe = score.Tests.Average(t => t.Metrics.PredE);
        r2.ShouldBe(r2Measured, 3e-4, size);
        pe.ShouldBe(predEMeasured, 0.03 * predEMeasured, size);
        var table = MplData.PublishedMetrics(size);
        r2.ShouldBeGreaterThan(table[0], size);
        pe.ShouldBeLessThan(table[3], size);
        if (size == "400m") r2.ShouldBeGreaterThanOrEqualTo(0.998);
    }
}
