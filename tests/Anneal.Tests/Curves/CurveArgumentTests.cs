using Anneal.Curves;
using Anneal.Schedules;

namespace Anneal.Tests.Curves;

public sealed class CurveArgumentTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void Splits_at_the_at_sign_followed_by_a_spec_and_attaches_the_canonical_spec()
    {
        var path = TestPaths.Mpl("400m", "cosine_24000.csv");
        var c = CurveArgument.Parse(path + "@cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)");
        c.Count.ShouldBe(171);
        c.ScheduleSpec.ShouldBe(Schedule.Parse("cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)").Spec);
        // The shared README says cosine_24000 decays 3e-4 -> 3e-5 after 2160 warmup steps: no disagreement warning.
        c.Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void Warns_when_the_attached_schedule_disagrees_with_the_logged_lr()
    {
        var path = TestPaths.Mpl("400m", "cosine_24000.csv");
        var c = CurveArgument.Parse(path + "@constant(peak=3e-4)");
        c.Warnings.Count.ShouldBe(1);
        c.Warnings[0].ShouldContain("check the spec");
    }

    [Fact]
    public void Plain_file_and_folders_with_at_signs()
    {
        Directory.CreateDirectory(_tmp.Combine("run@2"));
        var p = Path.Combine(_tmp.Combine("run@2"), "a.csv");
        File.WriteAllText(p, "step,loss\n0,3\n");
        CurveArgument.Split(p).ShouldBe((p, (string?)null));
        CurveArgument.Parse(p).ScheduleSpec.ShouldBeNull();
        CurveArgument.Split(p + "@constant(peak=1e-3)").ShouldBe((p, "constant(peak=1e-3)"));
        CurveArgument.Parse(p + "@constant(peak=1e-3)").ScheduleSpec.ShouldBe("constant(peak=0.001)");
        CurveArgument.Split("x@y/a.csv@wsd(peak=1, total=10)").ShouldBe(("x@y/a.csv", "wsd(peak=1, total=10)"));
    }

    [Fact]
    public void Bad_spec_is_an_input_error_naming_the_argument()
    {
        var p = _tmp.File("a.csv", "step,loss\n0,3\n");
        var e = Should.Throw<CurveFormatException>(() => CurveArgument.Parse(p + "@cosine(peak=3e-4)"));
        e.Message.ShouldContain(p + "@cosine");
        e.Message.ShouldContain("total");
        Should.Throw<CurveFormatException>(() => CurveArgument.Parse(p + "@nosuch(peak=1)")).Message.ShouldContain("unknown schedule");
    }
}
