using System.Text.Json.Nodes;
using Anneal.Design;
using Anneal.Laws;

namespace Anneal.Tests.Laws;

/// <summary>
/// The built-in laws (<c>mpl-25m</c>, <c>mpl-100m</c>, <c>mpl-400m</c>) are one truth: the published multi-power-law
/// parameters in the warmup convention they were fitted in, for design, probe and the dashboard alike.
/// </summary>
public class BuiltinLawsTests
{
    [Theory]
    [InlineData("25m")]
    [InlineData("100m")]
    [InlineData("400m")]
    public void Built_in_laws_are_the_published_values_in_the_convention_the_source_names(string size)
    {
        // Source: data/examples/mpl/manifest.json, "published" (Luo et al. 2025, the MIT reference code's README; the
        // same values as shared/docs/laws.md): the parameters, "in the reference warmup convention".
        var published = JsonNode.Parse(File.ReadAllText(TestPaths.Mpl("manifest.json")))!["published"]!;
        published["note"]!.GetValue<string>().ShouldContain("parameters are in the reference warmup convention");
        var values = published[size]!["params"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
        string name = "mpl-" + size;
        var law = BuiltinLaws.Resolve(name)!;
        law.Values.ShouldBe(values);
        law.Law.ShouldBe(new MultiPowerLaw(WarmupConvention.Reference));
        // Every user of a built-in name gets that law: schedule design (the CLI and the dashboard) and probe.
        var design = DesignLaw.Resolve(name);
        design.Parameters.ToArray().ShouldBe(values);
        design.Convention.ShouldBe(WarmupConvention.Reference);
        design.Source.ShouldBe(name + " (published parameters, reference convention)");
        ProbePriors.Published(name)!.Law.Law.ShouldBe(law.Law);
        ProbePriors.Published(name)!.Law.Values.ShouldBe(values);
    }

    [Theory]
    [InlineData("25m", 0.01)]
    [InlineData("100m", 0.01)]
    [InlineData("400m", 0.01)]
    public void The_designs_cosine_reference_predicts_the_logged_final_loss_of_that_run(string size, double tolerance)
    {
        // Source: the logged run data/examples/mpl/SIZE/cosine_24000.csv, cosine(peak=3e-4, total=24000, warmup=2160,
        // min=3e-5): the design's "cosine to 10%" for T = 24000, W = 2160, peak 3e-4. Its last logged loss (step 23920;
        // the 79 steps left at the minimum rate lower it by well under 0.1%) must be what the design predicts, within
        // 1%, about the published worst-case relative error on held-out runs (WorstE 0.4-1.0%, manifest.json).
        var (_, _, loss) = MplData.ReadCsv(TestPaths.Mpl(size, "cosine_24000.csv"));
        double logged = loss[^1];
        var request = new OptimizeRequest(DesignLaw.Resolve("mpl-" + size), 24000, 3e-4) { Warmup = 2160, Family = "cosine" };
        var res = OptimizeService.Optimize(request);
        res.Candidates.Single(c => c.Label == "cosine to 10%").Loss.ShouldBe(res.Baseline);
        Math.Abs(res.Baseline / logged - 1).ShouldBeLessThan(tolerance, $"predicted {res.Baseline}, logged {logged}");
        // The same values in the paper convention (what design used before) predict about B * peak too low.
        var paper = new DesignLaw(BuiltinLaws.Find("mpl-" + size)!, null, "paper", WarmupConvention.Paper);
        double paperLoss = OptimizeService.Optimize(request with { Law = paper }).Baseline;
        (logged - paperLoss).ShouldBeGreaterThan(0.03, $"paper convention {paperLoss}, logged {logged}");
    }
}
