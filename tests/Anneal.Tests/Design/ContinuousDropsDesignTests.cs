using Anneal.Design;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Design;

/// <summary>
/// Schedule design with a law fitted as <c>mpl(drops=continuous)</c> (auto's reference member since
/// docs/journal/session-13-auto-continuous-drops.md): the design objective (<see cref="MplFinalLoss"/> with <see cref="MplFinalLoss.ContinuousDrops"/>)
/// is checked against the laws layer's evaluation of the same law (value and parameter Jacobian), its per-rate and per-level
/// gradients against central differences, and an auto law file written before the member changed must read back as it was.
/// </summary>
public class ContinuousDropsDesignTests
{
    private static readonly MplParameters Law = MplParameters.Published400M;

    // wsdcon_9's drop (3e-4 -> 9e-5: 61 pieces), two 10x drops (117 pieces each), and a cosine (no decrease is cut).
    public static TheoryData<string> Schedules => new()
    {
        "join(constant(peak=3e-4, warmup=2160), constant(peak=9e-5), at=[8000])",
        "join(constant(peak=3e-4, warmup=2160), constant(peak=3e-5), constant(peak=3e-6), at=[16000, 21000])",
        "cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)",
    };

    [Theory]
    [MemberData(nameof(Schedules))]
    public void Objective_equals_the_laws_layer_and_its_rate_gradient_is_exact(string spec)
    {
        // Independent references: (1) the laws layer's mpl(warmup=reference, drops=continuous) at the last step (its value
        // is checked against a Simpson quadrature of the integral in MplContinuousDropsTests) and its parameter Jacobian
        // (checked against central differences there); (2) central differences of the design objective for the per-rate
        // gradient, at the rates around each drop, whose pieces move with both of its rates.
        var lr = Schedule.Parse(spec).Sample(24000);
        var post = lr[2160..];
        var problem = new DesignProblem(Law, 24000, 2160, 3e-4, 0, WarmupConvention.Reference) { ContinuousDrops = true };
        var f = problem.Objective();
        f.ContinuousDrops.ShouldBeTrue();
        UnifiedLawTests.EqualsTheLawsLayer(f, new MultiPowerLaw(WarmupConvention.Reference) { ContinuousDrops = true }, Law, lr, spec);

        foreach (var convention in new[] { WarmupConvention.Paper, WarmupConvention.Reference })
        {
            var obj = (problem with { Convention = convention }).Objective();
            var grad = new double[post.Length];
            obj.Evaluate(post, grad);
            var at = new List<int> { 0, 1, 500, 15000, post.Length - 2, post.Length - 1 };
            for (int j = 1; j < post.Length; j++)
                if (post[j] < post[j - 1] / MultiPowerLaw.State.MaxPieceRatio) at.AddRange([j - 1, j, j + 1]);
            foreach (int j in at.Where(j => j < post.Length).Distinct())
            {
                double h = 1e-4 * post[j];
                var up = (double[])post.Clone(); up[j] += h;
                var dn = (double[])post.Clone(); dn[j] -= h;
                double fd = (obj.Value(up) - obj.Value(dn)) / (2 * h);
                grad[j].ShouldBe(fd, 1e-5 * Math.Max(Math.Abs(fd), 1), $"{convention}, rate {j}");
            }
        }
    }

    [Fact]
    public void A_cut_drop_changes_the_objective_and_its_gradient()
    {
        // The test above can fail: on a step drop the continuous objective is not the paper's discrete sum (the drop is
        // realised more slowly: a higher final loss), while on a cosine they agree to rounding.
        var drop = MplFinalLoss.PostWarmup(Schedule.Parse("join(constant(peak=3e-4, warmup=2160), constant(peak=3e-5), at=[20000])"), 24000, 2160);
        var cosine = MplFinalLoss.PostWarmup(Schedule.Parse("cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)"), 24000, 2160);
        var step = new DesignProblem(Law, 24000, 2160, 3e-4).Objective();
        var cont = new DesignProblem(Law, 24000, 2160, 3e-4) { ContinuousDrops = true }.Objective();
        cont.Value(drop).ShouldBeGreaterThan(step.Value(drop) + 1e-3);
        cont.Value(cosine).ShouldBe(step.Value(cosine), 1e-12);
    }

    [Fact]
    public void Staircase_equals_the_per_step_evaluation_and_its_level_gradient_is_exact()
    {
        // Independent sources: Evaluate of the expanded rates (checked above; the level gradient is the sum of the per-step
        // gradient over the segment) and central differences moving a whole level. Drops of 2.5x, 10x and one below the
        // piece ratio (1.01x), and a rise.
        double peak = 3e-4;
        int n = 21840;
        int[] starts = [0, 12000, 16000, 18000, 20000, 21000];
        double[] levels = [peak, 0.4 * peak, 0.04 * peak, 0.0396 * peak, 0.05 * peak, 0.005 * peak];
        var eta = new double[n];
        for (int j = 0; j < starts.Length; j++) eta.AsSpan(starts[j], (j + 1 < starts.Length ? starts[j + 1] : n) - starts[j]).Fill(levels[j]);
        foreach (var convention in new[] { WarmupConvention.Paper, WarmupConvention.Reference })
        {
            var f = new DesignProblem(Law, 24000, 2160, peak, 0, convention) { ContinuousDrops = true }.Objective();
            var perStep = new double[n];
            double full = f.Evaluate(eta, perStep);
            var g = new double[levels.Length];
            double value = f.EvaluateStaircase(starts, levels, n, g);
            value.ShouldBe(full, 1e-13 * full, convention.ToString());
            double scale = g.Max(Math.Abs);
            for (int j = 0; j < levels.Length; j++)
            {
                int end = j + 1 < starts.Length ? starts[j + 1] : n;
                double sum = 0;
                for (int i = starts[j]; i < end; i++) sum += perStep[i];
                g[j].ShouldBe(sum, 1e-9 * scale, $"{convention}, segment {j}: sum of the per-step gradient");
                double h = 1e-5 * levels[j];
                var up = (double[])levels.Clone(); up[j] += h;
                var dn = (double[])levels.Clone(); dn[j] -= h;
                double fd = (f.EvaluateStaircase(starts, up, n, default) - f.EvaluateStaircase(starts, dn, n, default)) / (2 * h);
                g[j].ShouldBe(fd, 1e-5 * scale, $"{convention}, segment {j}: central difference");
            }
        }
    }

    [Fact]
    public void Design_takes_auto_with_continuous_drops_and_optimises_its_objective()
    {
        // A continuous-drops law (as auto's reference member is) is designed with its own form: the free optimum's
        // predicted loss is the continuous objective's value of the designed rates, and no worse than the WSD it starts from.
        var fit = FittedLaw.FromValues(new MultiPowerLaw(WarmupConvention.Reference) { ContinuousDrops = true }, Law.ToArray());
        var law = DesignLaw.FromFitted(fit, "law.json");
        law.ContinuousDrops.ShouldBeTrue();
        var result = OptimizeService.Optimize(new OptimizeRequest(law, 24000, 3e-4) { Warmup = 2160 });
        var objective = new DesignProblem(Law, 24000, 2160, 3e-4, 0, WarmupConvention.Reference) { ContinuousDrops = true }.Objective();
        objective.Value(result.Design.PostWarmup).ShouldBe(result.Design.Loss, 1e-12 * result.Design.Loss);
        var cosine = result.References[0];
        objective.Value(MplFinalLoss.PostWarmup(cosine.Schedule, 24000, 2160)).ShouldBe(cosine.Loss, 1e-12 * cosine.Loss);
        result.Design.Loss.ShouldBeLessThan(cosine.Loss);
    }

    [Fact]
    public void An_auto_law_file_written_before_reads_back_as_it_was()
    {
        // Independent source: a law file the previous build wrote (`anneal fit` of the 400M split with the default auto, whose
        // reference member was mpl(warmup=reference), before "Session 13: auto with continuous drops"). Its member keeps the
        // step drops: written again, the file is the same text; its member predicts as a step-drop law fitted with the same
        // values, not as the continuous form.
        string path = TestPaths.TestData("laws", "auto-400m-step-drops.law.json");
        string text = File.ReadAllText(path);
        var fit = FittedLaw.FromJson(text);
        var member = fit.Members.Single(m => m.Law is MultiPowerLaw);
        member.Law.Spec.ShouldBe("mpl(warmup=reference)");
        ((MultiPowerLaw)member.Law).ContinuousDrops.ShouldBeFalse();
        fit.ToJson().ShouldBe(text.TrimEnd('\n'));
        var lr = Schedule.Parse("join(constant(peak=3e-4, warmup=2160), constant(peak=3e-5), at=[16000])").Sample(24000);
        long[] at = [16500, 23999];
        var asRead = member.Predict(lr, at).Loss;
        var step = FittedLaw.FromValues(new MultiPowerLaw(WarmupConvention.Reference), member.Values).Predict(lr, at).Loss;
        var cont = FittedLaw.FromValues(new MultiPowerLaw(WarmupConvention.Reference) { ContinuousDrops = true }, member.Values).Predict(lr, at).Loss;
        asRead.ShouldBe(step);
        Math.Abs(asRead[1] - cont[1]).ShouldBeGreaterThan(1e-3);
        // Design reads it as before too: the step-drop objective.
        DesignLaw.FromFitted(fit, "law.json").ContinuousDrops.ShouldBeFalse();
    }
}
