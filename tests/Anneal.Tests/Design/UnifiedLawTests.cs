using static Anneal.Tests.Cli.CliRunner;
using Anneal.Design;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Design;

/// <summary>
/// Design reads laws through the laws layer and shares its multi-power-law kernel: the analytic
/// parameter gradient against central differences of the final loss and against the laws layer's
/// Jacobian; law.json files written by <c>anneal fit</c> with their covariance and convention.
/// </summary>
public class UnifiedLawTests
{
    [Theory]
    [InlineData("cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)")]
    [InlineData("wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)")]
    [InlineData("wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=linear)")]   // decays to exactly 0
    public void Parameter_gradient_matches_central_differences_and_the_laws_jacobian(string spec)
    {
        var lr = Schedule.Parse(spec).Sample(24000);
        var p = MplParameters.Published400M;
        double area = lr[..2160].Sum();
        var f = new MplFinalLoss(p, 3e-4, area);
        var g = new double[7];
        double value = f.ParameterGradient(lr[2160..], g);
        value.ShouldBe(f.Value(lr[2160..]), 1e-12);
        // (1) central differences of the final loss, relative step 1e-5.
        var theta = p.ToArray();
        for (int i = 0; i < 7; i++)
        {
            double h = 1e-5 * theta[i];
            var up = (double[])theta.Clone(); up[i] += h;
            var dn = (double[])theta.Clone(); dn[i] -= h;
            double fd = (new MplFinalLoss(MplParameters.FromVector(up), 3e-4, area).Value(lr[2160..]) - new MplFinalLoss(MplParameters.FromVector(dn), 3e-4, area).Value(lr[2160..])) / (2 * h);
            g[i].ShouldBe(fd, 1e-6 * Math.Max(Math.Abs(fd), 1e-6), $"parameter {MplParameters.Names[i]}");
        }
        // (2) the laws layer's analytic Jacobian at the last step (paper convention, same warmup area).
        var state = new MultiPowerLaw().Prepare(LawRun.ForSchedule("t", lr, [23999], spec));
        var loss = new double[1]; var jac = new double[7];
        state.Evaluate(theta, loss, jac);
        loss[0].ShouldBe(value, 1e-9 * value);
        for (int i = 0; i < 7; i++) g[i].ShouldBe(jac[i], 1e-9 * Math.Max(Math.Abs(jac[i]), 1e-9), $"parameter {MplParameters.Names[i]}");
    }

    [Fact]
    public void Law_json_from_anneal_fit_brings_covariance_and_reference_convention()
    {
        var v = MplParameters.Published400M.ToArray();
        var cov = Enumerable.Range(0, 7).Select(i => Enumerable.Range(0, 7).Select(j => i == j ? Math.Pow(0.02 * v[i], 2) : 0.0).ToArray()).ToArray();
        var fitted = new FittedLaw(new MultiPowerLaw(WarmupConvention.Reference), v, v.Select(x => 0.02 * x).ToArray(), cov, new FitReport());
        var path = Path.Combine(Path.GetTempPath(), $"anneal-ref-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, fitted.ToJson());
        try
        {
            var law = DesignLaw.Resolve(path);
            law.Parameters.ShouldBe(MplParameters.Published400M);
            law.Convention.ShouldBe(Anneal.Laws.WarmupConvention.Reference);
            law.Covariance.ShouldNotBeNull();
            law.Covariance![3][3].ShouldBe(cov[3][3]);
            // Design now evaluates a reference-convention law in its own convention: no warning.
            var (code, _, err) = Run("optimize", path, "--steps", "2000", "--peak", "3e-4", "--warmup", "200", "--family", "wsd");
            code.ShouldBe(0, err);
            err.ShouldNotContain("warning");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Law_json_of_another_law_is_refused_with_the_fix()
    {
        var fitted = FittedLaw.FromValues(new PowerLaw(), 2.5, 0.6, 0.4);
        var path = Path.Combine(Path.GetTempPath(), $"anneal-pl-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, fitted.ToJson());
        try
        {
            Should.Throw<InputException>(() => DesignLaw.Resolve(path)).Message.ShouldContain("not the multi-power law");
            var (code, _, err) = Run("optimize", path, "--steps", "2000", "--peak", "3e-4");
            code.ShouldBe(2);
            err.ShouldContain("mpl-400m");
        }
        finally { File.Delete(path); }
    }

    /// <summary>
    /// The design objective <paramref name="f"/> at the last step of <paramref name="lr"/> (24,000 steps, warmup 2,160) equals
    /// the laws layer's <paramref name="law"/> with parameters <paramref name="p"/> there, in value and in its parameter
    /// gradient (the law's Jacobian, itself checked against central differences in the laws' tests).
    /// </summary>
    internal static void EqualsTheLawsLayer(MplFinalLoss f, MultiPowerLaw law, MplParameters p, double[] lr, string spec)
    {
        var post = lr[2160..];
        var state = law.Prepare(LawRun.ForSchedule("t", lr, [23999], spec));
        var loss = new double[1]; var jac = new double[7];
        state.Evaluate(p.ToArray(), loss, jac);
        f.Value(post).ShouldBe(loss[0], 1e-9 * loss[0]);
        var g7 = new double[7];
        f.ParameterGradient(post, g7).ShouldBe(loss[0], 1e-9 * loss[0]);
        for (int i = 0; i < 7; i++) g7[i].ShouldBe(jac[i], 1e-9 * Math.Max(Math.Abs(jac[i]), 1e-9), $"parameter {MplParameters.Names[i]}");
    }

    [Theory]
    [InlineData("cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)")]
    [InlineData("wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)")]
    [InlineData("join(constant(peak=3e-4, warmup=2160), constant(peak=9e-5), at=[8000])")]
    public void Reference_convention_objective_equals_the_laws_layer_and_its_gradients_are_exact(string spec)
    {
        // Independent references: (1) the laws layer's mpl(warmup=reference) at the last step, the
        // evaluation that reproduces the published metrics with the published parameters; (2) central
        // differences of the final loss for the per-rate gradient.
        var lr = Schedule.Parse(spec).Sample(24000);
        var p = MplParameters.Published400M;
        var problem = new DesignProblem(p, 24000, 2160, 3e-4, 0, Convention: Anneal.Laws.WarmupConvention.Reference);
        var f = problem.Objective();
        f.IncludesWarmup.ShouldBeTrue();
        var post = lr[2160..];
        EqualsTheLawsLayer(f, new MultiPowerLaw(WarmupConvention.Reference), p, lr, spec);

        var grad = new double[post.Length];
        f.Evaluate(post, grad);
        foreach (int j in new[] { 0, 1, 500, 5000, 15000, post.Length - 2, post.Length - 1 })
        {
            double h = 1e-3 * post[j];
            var up = (double[])post.Clone(); up[j] += h;
            var dn = (double[])post.Clone(); dn[j] -= h;
            double fd = (f.Value(up) - f.Value(dn)) / (2 * h);
            grad[j].ShouldBe(fd, 1e-5 * Math.Max(Math.Abs(fd), 1), $"rate {j}");
        }
        // The paper convention differs by about B * peak (the warmup ramp's increases).
        double paper = new DesignProblem(p, 24000, 2160, 3e-4).Objective().Value(post);
        (f.Value(post) - paper).ShouldBe(p.B * 3e-4, 0.1 * p.B * 3e-4);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Design_band_is_the_laws_layer_band_at_the_final_step(bool earlyStopped)
    {
        // Independent reference: FittedLaw.Predict's band at the last step of the same schedule
        // (reference convention, where design's final loss equals the laws layer's exactly).
        var v = MplParameters.Published400M.ToArray();
        var cov = Enumerable.Range(0, 7).Select(i => Enumerable.Range(0, 7).Select(j => i == j ? Math.Pow(0.01 * v[i], 2) : 0.0).ToArray()).ToArray();
        double[][] reps = [v.Select((x, i) => x * (1 + 0.004 * (i % 3 - 1))).ToArray(), v.Select((x, i) => x * (1 - 0.003 * (i % 2))).ToArray(), v.Select((x, i) => x * (1 + 0.002 * (i % 2))).ToArray()];
        var report = new FitReport { Method = earlyStopped ? Anneal.Fitting.FitMethod.EarlyStoppedAdamW : Anneal.Fitting.FitMethod.Optimum };
        var fitted = new FittedLaw(new MultiPowerLaw(WarmupConvention.Reference), v, v.Select(x => 0.01 * x).ToArray(), cov, report) { Replicates = reps, CrossValidationLogError = 0.002 };
        const string spec = "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)";
        var lr = Schedule.Parse(spec).Sample(24000);
        var laws = fitted.Predict(LawRun.ForSchedule("t", lr, [23999], spec));

        var law = DesignLaw.FromFitted(fitted, "test");
        law.EarlyStopped.ShouldBe(earlyStopped);
        var problem = new DesignProblem(law.Parameters, 24000, 2160, 3e-4, 0, Convention: Anneal.Laws.WarmupConvention.Reference);
        var band = law.Band(problem, lr[2160..])!.Value;
        band.Low.ShouldBe(laws.FinalLow, 1e-9 * laws.FinalLow);
        band.High.ShouldBe(laws.FinalHigh, 1e-9 * laws.FinalHigh);
    }
}
