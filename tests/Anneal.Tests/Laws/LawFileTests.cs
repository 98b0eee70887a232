using Anneal.Design;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>The one law-file reader (<see cref="LawFile"/>) on files written by earlier versions and by hand, and the built-in names.</summary>
public class LawFileTests
{
    private static string Path(string name) => TestPaths.TestData("laws", name);

    [Fact]
    public void A_law_file_written_by_the_previous_version_reads_and_predicts_what_its_values_predict()
    {
        var path = Path("mpl-reference-400m.anneal-law-1.json");
        var fit = LawFile.Read(File.ReadAllText(path), path);
        fit.Law.Spec.ShouldBe("mpl(warmup=reference)");
        fit.Replicates.Length.ShouldBe(3);   // leave-one-run-out over its three runs
        fit.Covariance.ShouldNotBeNull();
        // Source: the same values through a law built from them alone (no file): the same final loss.
        var eta = Schedule.Parse("cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)").Sample(24000);
        var bare = FittedLaw.FromValues(new MultiPowerLaw(WarmupConvention.Reference), fit.Values);
        fit.Predict(eta, [23999]).FinalLoss.ShouldBe(bare.Predict(eta, [23999]).FinalLoss, 1e-12);
        // Design reads it in its own convention, with its band.
        var law = DesignLaw.Resolve(path);
        law.Convention.ShouldBe(WarmupConvention.Reference);
        law.HasBand.ShouldBeTrue();
        law.Replicates.Length.ShouldBe(3);
    }

    [Fact]
    public void A_hand_written_law_and_a_built_in_name_give_the_published_values()
    {
        var path = Path("mpl-400m.hand-written.json");
        var fit = LawFile.Read(File.ReadAllText(path), path);
        fit.Law.ShouldBe(new MultiPowerLaw(WarmupConvention.Paper));
        fit.Values.ShouldBe(MplParameters.Published400M.ToArray());
        // Source: the published 400M values (arXiv 2503.12811, reference code README), by name and by file.
        BuiltinLaws.Find("MPL-400M").ShouldBe(MplParameters.Published400M);
        BuiltinLaws.Find("mpl-7m").ShouldBeNull();
        DesignLaw.Resolve("mpl-400m").Parameters.ShouldBe(DesignLaw.Resolve(path).Parameters);
        DesignLaw.Resolve(path).HasBand.ShouldBeFalse();
        BuiltinLaws.Resolve("mpl-100m")!.Law.ShouldBe(new MultiPowerLaw(WarmupConvention.Reference));
        Should.Throw<InputException>(() => DesignLaw.Resolve("no-such-law.json")).Message.ShouldContain("mpl-25m, mpl-100m, mpl-400m");
        Should.Throw<InputException>(() => LawFile.Read("{\"law\": \"momentum\", \"params\": [1, 2]}", "x.json")).Message.ShouldContain("not the multi-power law");
        Should.Throw<InputException>(() => LawFile.Read("{\"format\": \"anneal-law/9\"}", "x.json")).Message.ShouldContain("anneal-law/1");
        Should.Throw<InputException>(() => LawFile.Read("[1", "x.json")).Message.ShouldContain("x.json: not valid JSON");
    }
}
