using Anneal.Design;
using Anneal.Laws;
using Anneal.Schedules;
using Anneal.Specs;

namespace Anneal.Tests.Services;

/// <summary>Schedule design through the services: optimize, what-if and export.</summary>
public class DesignServiceTests
{
    private static readonly DesignLaw Law100 = DesignLaw.Resolve("mpl-100m");

    [Fact]
    public void The_free_optimum_is_below_every_candidate_and_gains_are_against_cosine_to_10_percent()
    {
        var res = OptimizeService.Optimize(new OptimizeRequest(Law100, 3000, 3e-4) { Warmup = 300 });
        res.Candidates.Count.ShouldBeGreaterThan(8);
        res.Design.Label.ShouldBe("free optimum");
        res.Design.Spec.ShouldBeNull();
        foreach (var c in res.Candidates.Skip(1)) res.Design.Loss.ShouldBeLessThan(c.Loss, c.Label);
        // Source: the law itself: each candidate's loss is the objective of its own rates.
        var problem = new DesignProblem(Law100.Parameters, 3000, 300, 3e-4, 0, Law100.Convention);
        foreach (var c in res.Candidates) c.Loss.ShouldBe(problem.Objective().Value(c.PostWarmup), 1e-12, c.Label);
        var cos10 = res.Candidates.Single(c => c.Label == "cosine to 10%");
        res.Baseline.ShouldBe(cos10.Loss);
        Law100.HasBand.ShouldBeFalse();
        res.Candidates.ShouldAllBe(c => c.Band == null && c.GainHalfWidth == null);
        var json = res.ToJson();
        json["format"]!.GetValue<string>().ShouldBe("anneal-design/1");
        json["band_available"]!.GetValue<bool>().ShouldBeFalse();
        json["free"]!["drops"]!.GetValue<int>().ShouldBe(OptimizeService.Drops(res.Design.PostWarmup));
        res.Free!.Closest.Candidate.Loss.ShouldBeGreaterThanOrEqualTo(res.Design.Loss);
    }

    [Fact]
    public void A_family_design_writes_the_full_schedule_with_its_warmup()
    {
        var res = OptimizeService.Optimize(new OptimizeRequest(DesignLaw.Resolve("mpl-25m"), 2000, 1e-3) { Warmup = 100, Family = "wsd" });
        res.Free.ShouldBeNull();
        res.Design.Label.ShouldBe("best wsd");
        var full = res.FullSchedule();
        full.Length.ShouldBe(2000);
        full[50].ShouldBe(1e-3 * 50 / 100);   // the linear warmup peak * t / W
        var lines = ScheduleExport.Csv(full).TrimEnd('\n').Split('\n');
        lines.Length.ShouldBe(2001);
        lines[0].ShouldBe("step,lr");
        lines[101].ShouldBe("100,0.001");
        Should.Throw<InputException>(() => OptimizeService.Optimize(new OptimizeRequest(Law100, 3000, 3e-4) { Family = "bogus" })).Message.ShouldContain("family must be free or one of wsd");
        Should.Throw<InputException>(() => OptimizeService.Optimize(new OptimizeRequest(Law100, 100, 1e-3) { Warmup = 100 })).MessageNaming(p => "--" + p).ShouldContain("--total (100) must exceed --warmup (100)");
    }

    [Fact]
    public void The_json_names_the_laws_own_warmup_convention()
    {
        // The bug of issue 11: "convention" was always "paper". A reference-convention law is designed (and reported) in its own convention.
        var reference = new DesignLaw(MplParameters.Published400M, null, "test", WarmupConvention.Reference);
        var res = OptimizeService.Optimize(new OptimizeRequest(reference, 3000, 3e-4) { Warmup = 300, Family = "cosine" });
        res.Problem.Convention.ShouldBe(WarmupConvention.Reference);
        res.ToJson()["convention"]!.GetValue<string>().ShouldBe("reference");
        // Source: the laws layer's own reference-convention evaluation of the same schedule at its last step.
        var spec = res.Design.Spec!;
        var eta = Schedule.Parse(spec).Sample(3000);
        var laws = FittedLaw.FromValues(new MultiPowerLaw(WarmupConvention.Reference), MplParameters.Published400M.ToArray()).Predict(eta, [2999]);
        res.Design.Loss.ShouldBe(laws.FinalLoss, 1e-9 * laws.FinalLoss);
        OptimizeService.Optimize(new OptimizeRequest(Law100, 3000, 3e-4) { Warmup = 300, Family = "cosine" }).ToJson()["convention"]!.GetValue<string>().ShouldBe("reference"); // the built-in laws' (BuiltinLawsTests)
        var paper = new DesignLaw(MplParameters.Published100M, null, "test", WarmupConvention.Paper);
        OptimizeService.Optimize(new OptimizeRequest(paper, 3000, 3e-4) { Warmup = 300, Family = "cosine" }).ToJson()["convention"]!.GetValue<string>().ShouldBe("paper");
    }

    [Fact]
    public void The_grid_marks_its_minimum_overall_and_per_line()
    {
        var law = DesignLaw.Resolve("mpl-400m");
        var res = WhatIfService.Grid(new WhatIfGridRequest(law, SpecCall.Parse("wsd(peak=3e-4, total=3000, warmup=300, shape=sqrt)"),
            [VaryAxis.Parse("decay=0.1:0.5:0.1"), VaryAxis.Parse("total=3000,4000")]));
        res.Points.Count.ShouldBe(10);
        res.Best.Loss.ShouldBe(res.Points.Min(p => p.Loss));
        res.BestPerLine.Count.ShouldBe(2);
        foreach (var total in new[] { 3000.0, 4000.0 })
            res.BestPerLine.Single(b => b.Values[1] == total).Loss.ShouldBe(res.Points.Where(p => p.Values[1] == total).Min(p => p.Loss));
        res.ToJson()["format"]!.GetValue<string>().ShouldBe("anneal-whatif-grid/1");
        Should.Throw<InputException>(() => WhatIfService.Grid(new WhatIfGridRequest(law, SpecCall.Parse("wsd(peak=3e-4, total=3000)"), []))).Message.ShouldContain("vary is required");
    }

    [Fact]
    public void Continuations_compare_with_cooling_down_now()
    {
        var law = DesignLaw.Resolve("mpl-400m");
        var b = Schedule.Parse("wsd(peak=3e-4, total=3000, warmup=300, decay_steps=600, shape=cosine)");
        var res = WhatIfService.Continue(new ContinuationRequest(law, b, 1200) { Axes = [VaryAxis.Parse("extend=0:1200:400")] });
        res.Continuations.Select(c => c.Label).ShouldBe(["as planned", "cool down now", "extend 400 then cool down", "extend 800 then cool down", "extend 1200 then cool down"]);
        res.Now.Label.ShouldBe("cool down now");
        // Source: the law: more steps at the same rates, then the same cooldown, end lower.
        for (int i = 2; i < res.Continuations.Count; i++) res.Continuations[i].Loss.ShouldBeLessThan(res.Continuations[i - 1].Loss);
        res.ToJson()["format"]!.GetValue<string>().ShouldBe("anneal-whatif-continuations/1");
        Should.Throw<InputException>(() => WhatIfService.Continue(new ContinuationRequest(law, b, 1200) { Axes = [VaryAxis.Parse("extend=0.5")] })).Message.ShouldContain("whole steps");
        Should.Throw<InputException>(() => WhatIfService.Continue(new ContinuationRequest(law, b, 1200) { Axes = [VaryAxis.Parse("decay=1")] })).Message.ShouldContain("only extend");
    }

    [Fact]
    public void Exports_give_the_schedules_rates()
    {
        var s = Schedule.Parse("wsd(peak=3e-4, total=24, warmup=2, decay=0.25, shape=linear)");
        var csv = ScheduleExport.Export(new ExportRequest(24, ExportFormat.Csv) { Schedule = s }).Text.TrimEnd('\n').Split('\n');
        csv.Length.ShouldBe(25);
        csv[1].ShouldBe("0,0");
        csv[5].ShouldBe("4,0.0003");
        var json = System.Text.Json.Nodes.JsonNode.Parse(ScheduleExport.Export(new ExportRequest(24, ExportFormat.Json) { Schedule = s }).Text)!;
        json["format"]!.GetValue<string>().ShouldBe(ScheduleExport.MultipliersFormat);
        var m = json["multipliers"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
        m.Length.ShouldBe(24);
        m.Max().ShouldBe(1);
        for (int t = 0; t < 24; t++) (m[t] * 3e-4).ShouldBe(s.At(t), 1e-18);
        var py = ScheduleExport.Export(new ExportRequest(24, ExportFormat.Pytorch) { Schedule = s, MultipliersFile = "m.json" });
        py.Snippet!.ShouldContain("open(\"m.json\")");
        Should.Throw<InputException>(() => ScheduleExport.Export(new ExportRequest(10, ExportFormat.Csv) { Rates = [1e-4, 2e-4, 3e-4], RatesSource = "short.csv" }))
            .MessageNaming(p => "--" + p).ShouldContain("short.csv: has 3 steps, fewer than --steps 10");
        Should.Throw<InputException>(() => ScheduleExport.Export(new ExportRequest(3, ExportFormat.Hf) { Rates = [1e-4, 2e-4, 3e-4] })).Message.ShouldContain("hf needs a schedule spec");
        Should.Throw<InputException>(() => ScheduleExport.Export(new ExportRequest(0, ExportFormat.Csv) { Schedule = s })).Message.ShouldContain("steps must be between 1 and 100000000");
    }
}
