using Anneal.Curves;
using Anneal.Schedules;

namespace Anneal.Tests.Curves;

public sealed class CurveInfoTests
{
    // Expected shapes come from the schedules the shared README gives for each file name.
    [Theory]
    [InlineData("constant_24000.csv", ScheduleShape.Constant)]
    [InlineData("constant_72000.csv", ScheduleShape.Constant)]
    [InlineData("cosine_24000.csv", ScheduleShape.Cosine)]
    [InlineData("cosine_72000.csv", ScheduleShape.Cosine)]
    [InlineData("wsd_20000_24000.csv", ScheduleShape.Wsd)]
    [InlineData("wsdld_20000_24000.csv", ScheduleShape.Wsd)]
    [InlineData("wsdcon_3.csv", ScheduleShape.StepWise)]
    [InlineData("wsdcon_9.csv", ScheduleShape.StepWise)]
    [InlineData("wsdcon_18.csv", ScheduleShape.StepWise)]
    public void Detects_the_mpl_schedules_in_every_model_size(string file, ScheduleShape shape)
    {
        foreach (var size in new[] { "25m", "100m", "400m" })
        {
            var info = CurveInfo.Analyze(CurveReader.Read(TestPaths.Mpl(size, file)));
            info.Shape.ShouldBe(shape, $"{size}/{file}");
            info.Warmup.ShouldBeFalse(); // the files start after warmup
            info.MedianInterval.ShouldBe(128);
            info.RegularInterval.ShouldBeTrue();
            info.LrMax!.Value.ShouldBe(3e-4, 1e-10); // cosine_72000 logs its first post-warmup step, 2.99999965e-4
            info.LrInterpolated.ShouldBeTrue();
        }
    }

    [RopeCurvesTheory]
    [InlineData("811_rope.csv", ScheduleShape.StepWise, 27126)]
    [InlineData("cosine_rope.csv", ScheduleShape.Cosine, null)]
    [InlineData("wsd_rope.csv", ScheduleShape.Wsd, 27126)]
    public void Detects_the_gpt100m_schedules_and_their_decay_start(string file, ScheduleShape shape, int? decay)
    {
        var info = CurveInfo.Analyze(CurveReader.Read(TestPaths.RopeCurve(file)));
        info.Shape.ShouldBe(shape);
        info.LrMax.ShouldBe(1e-3);
        info.MedianInterval.ShouldBe(1);
        if (decay is { } d) info.DecayStart.ShouldBe(d); // first step below 1e-3 in the file (awk)
        info.FinalWindow.ShouldBe(200);
    }

    [RopeCurvesFact]
    public void Interval_gaps_and_final_loss_of_a_per_step_file()
    {
        var info = CurveInfo.Analyze(CurveReader.Read(TestPaths.RopeCurve("wsd_rope.csv")));
        info.Count.ShouldBe(33907);
        info.Gaps.ShouldBe(1); // step 20815 is missing (awk on the file)
        info.FinalLoss.ShouldBe(2.6357319355010986); // tail -1
        info.LrMin.ShouldBe(1e-4);
    }

    // Synthetic curves sampled from Anneal's own schedules every 100 steps: the shape and the
    // warmup (98% of the peak first reached at 0.98 * 2160 = 2117 -> sampled step 2200) are known.
    [Theory]
    [InlineData("linear(peak=3e-4, total=24000, warmup=2160)", ScheduleShape.Linear)]
    [InlineData("cosine(peak=3e-4, total=24000, warmup=2160)", ScheduleShape.Cosine)]
    [InlineData("wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)", ScheduleShape.Wsd)]
    [InlineData("constant(peak=3e-4, warmup=2160)", ScheduleShape.Constant)]
    public void Detects_warmup_and_shape_of_sampled_schedules(string spec, ScheduleShape shape)
    {
        var s = Schedule.Parse(spec);
        var steps = Enumerable.Range(0, 240).Select(i => (long)i * 100).ToArray();
        var c = new LossCurve { Name = "s", Steps = steps, Lr = steps.Select(t => s.At(t)).ToArray(), Loss = steps.Select(t => 3.0 + 1000.0 / (t + 100)).ToArray() };
        var info = CurveInfo.Analyze(c);
        info.Shape.ShouldBe(shape);
        info.Warmup.ShouldBeTrue();
        info.WarmupEnd.ShouldBe(2200);
        info.ShapeText.ShouldContain("warmup to step 2200");
    }

    [Fact]
    public void Attached_spec_is_used_for_the_shape_and_clears_the_interpolation_warning()
    {
        var c = CurveArgument.Parse(TestPaths.Mpl("100m", "wsd_20000_24000.csv") + "@wsd(peak=3e-4, total=24000, warmup=2160, decay_steps=4000, shape=exponential, min=3e-5)");
        var info = CurveInfo.Analyze(c);
        info.Shape.ShouldBe(ScheduleShape.Wsd);
        info.LrInterpolated.ShouldBeFalse();
        info.ScheduleSpec.ShouldNotBeNull();
    }
}
