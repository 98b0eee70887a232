using static Anneal.Tests.Cli.CliRunner;
using System.Text.Json.Nodes;
using Anneal.Design;
using Anneal.Laws;
using Anneal.Schedules;
using Anneal.Specs;

namespace Anneal.Tests.Design;

[Collection("Console")] // the serial collection of the in-process CLI tests
public class WhatIfAndCliTests
{
    private static readonly DesignLaw Law400 = DesignLaw.Resolve("mpl-400m");

    /// <summary>The published 400M values in the paper convention, the one <see cref="Naive"/> evaluates.</summary>
    private static readonly DesignLaw Paper400 = new(MplParameters.Published400M, null, "published 400M, paper convention", Anneal.Laws.WarmupConvention.Paper);

    /// <summary>Independent O(n^2) MPL final loss straight from the paper's formula (paper convention).</summary>
    private static double Naive(MplParameters p, double peak, long warmup, double[] eta)
    {
        double sw = 0.5 * peak * warmup, ld = 0;
        for (int k = 0; k < eta.Length; k++)
        {
            double sk = 0;
            for (int t = k; t < eta.Length; t++) sk += eta[t];
            double prev = k == 0 ? peak : eta[k - 1];
            ld += (prev - eta[k]) * (1 - Math.Pow(p.C * Math.Pow(eta[k], -p.Gamma) * sk + 1, -p.Beta));
        }
        return p.L0 + p.A * Math.Pow(eta.Sum() + sw, -p.Alpha) - p.B * ld;
    }

    [Fact]
    public void Vary_axis_parses_ranges_and_lists_without_binary_noise()
    {
        VaryAxis.Parse("decay=0.05:0.3:0.05").Values.ShouldBe([0.05, 0.1, 0.15, 0.2, 0.25, 0.3]);
        VaryAxis.Parse("total=1000,2000").Values.ShouldBe([1000, 2000]);
        Should.Throw<InputException>(() => VaryAxis.Parse("decay0.1")).Message.ShouldContain("key=start:stop:step");
    }

    [Fact]
    public void Whatif_grid_values_match_the_naive_law_on_each_rebuilt_spec()
    {
        var baseSpec = SpecCall.Parse("wsd(peak=3e-4, total=2000, warmup=200, decay_steps=300, shape=sqrt)");
        var pts = WhatIf.Grid(Paper400, baseSpec, [VaryAxis.Parse("decay=0.1:0.5:0.2")], null, null);
        pts.Count.ShouldBe(3);
        foreach (var p in pts)
        {
            p.Spec.ShouldNotContain("decay_steps");
            var s = Schedule.Parse(p.Spec);
            ((WsdSchedule)s).DecaySteps.ShouldBe((long)Math.Round(p.Values[0] * 2000));
            var eta = s.Sample(2000)[200..];
            p.Loss.ShouldBe(Naive(MplParameters.Published400M, 3e-4, 200, eta), 1e-9 * p.Loss);
        }
    }

    [Fact]
    public void Cooling_down_at_the_planned_cooldown_start_reproduces_the_plan()
    {
        // A WSD run at the first step of its cooldown, continued with the same cooldown, is the same schedule.
        var b = Schedule.Parse("wsd(peak=3e-4, total=3000, warmup=300, decay_steps=600, shape=cosine)");
        var list = WhatIf.Continue(Law400, b, 2400, [0, 500], null, null, null, null);
        var planned = list.Single(c => c.Label == "as planned");
        var now = list.Single(c => c.Extend == 0 && c.Label != "as planned");
        now.Total.ShouldBe(3000);
        now.Loss.ShouldBe(planned.Loss, 1e-12);
        Schedule.Parse(now.Spec).Sample(3000).ShouldBe(b.Sample(3000), tolerance: 1e-18);
        list.Single(c => c.Extend == 500).Total.ShouldBe(3500);
    }


    [Fact]
    public void Optimize_json_reports_a_free_optimum_below_every_candidate()
    {
        var (code, stdout, err) = Run("optimize", "mpl-100m", "--steps", "3000", "--peak", "3e-4", "--warmup", "300", "--json");
        code.ShouldBe(0, err);
        var o = JsonNode.Parse(stdout)!.AsObject();
        double free = o["free"]!["loss"]!.GetValue<double>();
        var cands = o["candidates"]!.AsArray();
        cands.Count.ShouldBeGreaterThan(8);
        foreach (var c in cands.Skip(1)) free.ShouldBeLessThan(c!["loss"]!.GetValue<double>(), c["label"]!.ToString());
        o["band_available"]!.GetValue<bool>().ShouldBeFalse();
        // What the command prints is the service's result (its numbers: Services/DesignServiceTests).
        var service = OptimizeService.Optimize(new OptimizeRequest(DesignLaw.Resolve("mpl-100m"), 3000, 3e-4) { Warmup = 300 });
        o.ToJsonString().ShouldBe(JsonNode.Parse(service.ToJsonText())!.ToJsonString());
    }

    [Fact]
    public void Optimize_text_prints_the_final_rate_to_6_significant_digits()
    {
        var (code, stdout, err) = Run("optimize", "mpl-100m", "--steps", "3000", "--peak", "3e-4", "--warmup", "300");
        code.ShouldBe(0, err);
        var m = System.Text.RegularExpressions.Regex.Match(stdout, @"final LR ([0-9.e+-]+),");
        m.Success.ShouldBeTrue(stdout);
        string printed = m.Groups[1].Value;
        // The full-precision rate is the service's (what --json prints); 6 significant digits round it within half a unit
        // of the 6th digit, i.e. 5e-6 relative, and print no more digits than that.
        double exact = OptimizeService.Optimize(new OptimizeRequest(DesignLaw.Resolve("mpl-100m"), 3000, 3e-4) { Warmup = 300 }).Design.PostWarmup[^1];
        double shown = double.Parse(printed, System.Globalization.CultureInfo.InvariantCulture);
        Math.Abs(shown - exact).ShouldBeLessThanOrEqualTo(5e-6 * Math.Abs(exact), $"{printed} vs {exact:R}");
        printed.Split('e')[0].Replace(".", "").TrimStart('0', '-').Length.ShouldBeLessThanOrEqualTo(6, printed);
        exact.ToString("R", System.Globalization.CultureInfo.InvariantCulture).Split('E')[0].Replace(".", "").Length.ShouldBeGreaterThan(6, "the check needs a rate with more than 6 digits");
    }

    [Fact]
    public void Optimize_writes_a_full_schedule_csv()
    {
        var path = Path.Combine(Path.GetTempPath(), $"anneal-opt-{Guid.NewGuid():N}.csv");
        try
        {
            var (code, _, err) = Run("optimize", "mpl-25m", "--steps", "2000", "--peak", "1e-3", "--warmup", "100", "--family", "wsd", "--out", path);
            code.ShouldBe(0, err);
            var lines = File.ReadAllLines(path);
            lines.Length.ShouldBe(2001);
            lines[0].ShouldBe("step,lr");
            lines[101].ShouldBe("100,0.001");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Gain_uncertainty_cancels_shared_parameter_errors()
    {
        // Closed form: L0 enters every schedule's loss with derivative 1, so an error in L0 alone moves
        // both predictions equally: the band of each has log half-width 1.96 sd(L0) / L (the band is
        // L exp(+-z sd/L), as the laws layer draws it), the gain's half-width is 0.
        var cov = new double[7][];
        for (int i = 0; i < 7; i++) cov[i] = new double[7];
        cov[0][0] = 0.01 * 0.01;
        var law = new DesignLaw(MplParameters.Published400M, cov, "test", Anneal.Laws.WarmupConvention.Paper);
        var problem = new DesignProblem(law.Parameters, 3000, 300, 3e-4);
        var a = Schedule.Parse("wsd(peak=3e-4, total=3000, warmup=300, decay=0.2, shape=sqrt)").Sample(3000)[300..];
        var b = Schedule.Parse("cosine(peak=3e-4, total=3000, warmup=300)").Sample(3000)[300..];
        var band = law.Band(problem, a)!.Value;
        double l = problem.Objective().Value(a);
        (Math.Log(band.High / l)).ShouldBe(1.959963984540054 * 0.01 / l, 1e-10);
        (Math.Log(l / band.Low)).ShouldBe(1.959963984540054 * 0.01 / l, 1e-10);
        law.GainHalfWidth(problem, a, b)!.Value.ShouldBe(0, 1e-8);
    }

    [Fact]
    public void Whatif_cli_marks_the_grid_minimum_and_writes_svg()
    {
        var svg = Path.Combine(Path.GetTempPath(), $"anneal-whatif-{Guid.NewGuid():N}.svg");
        try
        {
            var (code, stdout, err) = Run("whatif", "mpl-400m", "--base", "wsd(peak=3e-4, total=3000, warmup=300, shape=sqrt)", "--vary", "decay=0.1:0.5:0.1", "--svg", svg, "--json");
            code.ShouldBe(0, err);
            var o = JsonNode.Parse(stdout)!.AsObject();
            var losses = o["points"]!.AsArray().Select(p => p!["loss"]!.GetValue<double>()).ToArray();
            losses.Length.ShouldBe(5);
            o["best_loss"]!.GetValue<double>().ShouldBe(losses.Min());
            File.ReadAllText(svg).ShouldStartWith("<svg");
        }
        finally { File.Delete(svg); }
    }

    [Fact]
    public void Bad_inputs_exit_2_with_the_fix()
    {
        Run("optimize", "no-such-law.json", "--steps", "100", "--peak", "1e-3").Err.ShouldContain("mpl-400m");
        Run("optimize", "mpl-400m", "--steps", "100", "--peak", "1e-3", "--warmup", "100").Code.ShouldBe(2);
        var r = Run("export", "rex(peak=1e-3, total=100)", "--format", "hf", "--steps", "100");
        r.Code.ShouldBe(2);
        r.Err.ShouldContain("--format pytorch");
        Run("export", "cosine(peak=1e-3, total=100)", "--format", "pytorch", "--steps", "100").Err.ShouldContain("--out");
        var csv = Path.Combine(Path.GetTempPath(), $"anneal-bad-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(csv, ["step,lr", "0,0.1", "2,0.1"]);
        try
        {
            var e = Run("export", csv, "--steps", "3");
            e.Code.ShouldBe(2);
            e.Err.ShouldContain("LR not logged at 1 of 3 steps");
            e.Err.ShouldContain("must list every step from 0");
        }
        finally { File.Delete(csv); }
    }

    [Fact]
    public void Law_json_in_the_fitted_format_is_read_with_its_covariance()
    {
        var path = Path.Combine(Path.GetTempPath(), $"anneal-law-{Guid.NewGuid():N}.json");
        var p = MplParameters.Published400M.ToArray();
        var ps = new JsonArray(MplParameters.Names.Select((n, i) => (JsonNode)new JsonObject { ["name"] = n, ["value"] = p[i], ["std_error"] = 0.01 * p[i] }).ToArray());
        var cov = new JsonArray(Enumerable.Range(0, 7).Select(i => (JsonNode)new JsonArray(Enumerable.Range(0, 7).Select(j => (JsonNode)(i == j ? Math.Pow(0.01 * p[i], 2) : 0.0)).ToArray())).ToArray());
        File.WriteAllText(path, new JsonObject { ["format"] = "anneal-law/1", ["law"] = "mpl", ["warmup_convention"] = "paper", ["parameters"] = ps, ["covariance"] = cov }.ToJsonString());
        try
        {
            var law = DesignLaw.Resolve(path);
            law.Parameters.ShouldBe(MplParameters.Published400M);
            var problem = new DesignProblem(law.Parameters, 3000, 300, 3e-4);
            var eta = Schedule.Parse("cosine(peak=3e-4, total=3000, warmup=300)").Sample(3000)[300..];
            var band = law.Band(problem, eta)!.Value;
            double l = problem.Objective().Value(eta);
            // Diagonal covariance: sd = sqrt(sum (dL/dp_i sd_i)^2) >= 0.01 * L0 (dL/dL0 = 1 alone); the band
            // is log-symmetric, L exp(+-1.96 sd / L).
            Math.Log(band.High / l).ShouldBeGreaterThan(1.959 * 0.01 * p[0] / l);
            Math.Log(band.High / l).ShouldBe(Math.Log(l / band.Low), 1e-12);
        }
        finally { File.Delete(path); }
    }
}
