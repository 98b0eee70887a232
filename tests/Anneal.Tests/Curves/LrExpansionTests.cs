using Anneal.Curves;
using Anneal.Schedules;

namespace Anneal.Tests.Curves;

public sealed class LrExpansionTests
{
    private const string Cosine400 = "cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)";

    [Fact]
    public void Attached_spec_gives_the_schedule_exactly()
    {
        var c = CurveArgument.Parse(TestPaths.Mpl("400m", "cosine_24000.csv") + "@" + Cosine400);
        var e = LrExpansion.Expand(c);
        e.Source.ShouldBe(LrSource.Schedule);
        e.Warning.ShouldBeNull();
        e.Lr.ShouldBe(Schedule.Parse(Cosine400).Sample(23921));
    }

    [Fact]
    public void Sparse_lr_is_interpolated_with_a_warning_and_is_close_to_the_true_cosine()
    {
        var c = CurveReader.Read(TestPaths.Mpl("400m", "cosine_24000.csv"));
        var e = LrExpansion.Expand(c);
        e.Source.ShouldBe(LrSource.Interpolated);
        e.Lr.Length.ShouldBe(23921);
        e.InterpolatedSteps.ShouldBe(23921 - 171);
        e.Warning!.ShouldContain("steps 0..2159");
        e.Warning!.ShouldContain("warmup");
        e.Warning!.ShouldContain("FILE@SPEC");
        // At logged steps: the logged values; before the first: the first value.
        for (int i = 0; i < c.Count; i++) e.Lr[c.Steps[i]].ShouldBe(c.Lr![i]);
        e.Lr[0].ShouldBe(3e-4);
        // Midway between two logged steps: their mean.
        e.Lr[2160 + 64].ShouldBe((c.Lr![0] + c.Lr[1]) / 2, 1e-18);
        // Linear-interpolation error bound h^2/8 * max|f''| for the cosine (peak-min)/2 (1 + cos(pi x)):
        // h = 128, f'' <= (peak-min)/2 * (pi / 21840)^2 -> bound 2048 * 1.35e-4 * 2.07e-8 = 5.7e-9.
        var exact = Schedule.Parse(Cosine400).Sample(23921);
        double worst = 0;
        for (int s = 2160; s <= 23920; s++) worst = Math.Max(worst, Math.Abs(exact[s] - e.Lr[s]));
        worst.ShouldBeLessThan(5.8e-9);
        worst.ShouldBeGreaterThan(0);
    }

    // `awk` on the shared file: cosine_rope.csv lacks step 22493; its neighbours are logged.
    [RopeCurvesFact]
    public void A_single_missing_step_is_the_mean_of_its_neighbours()
    {
        var c = CurveReader.Read(TestPaths.RopeCurve("cosine_rope.csv"));
        var e = LrExpansion.Expand(c);
        e.InterpolatedSteps.ShouldBe(1);
        e.Lr[22493].ShouldBe((e.Lr[22492] + e.Lr[22494]) / 2, 1e-18);
        e.Warning!.ShouldContain("1 of 33908 steps");
    }

    [RopeCurvesFact]
    public void Fully_logged_lr_is_exact_and_silent()
    {
        var c = CurveReader.Read(TestPaths.RopeCurve("811_rope.csv"));
        var e = LrExpansion.Expand(c);
        e.Source.ShouldBe(LrSource.Logged);
        e.Warning.ShouldBeNull();
        e.Lr.ShouldBe(c.Lr!);
    }

    [Fact]
    public void NaN_cells_are_skipped_and_the_tail_is_held()
    {
        var c = new LossCurve { Name = "t", Steps = [0, 1, 2, 4], Lr = [1.0, double.NaN, 0.5, double.NaN], Loss = [4, 3, 2, 1] };
        var e = LrExpansion.Expand(c, lastStep: 6);
        // 0 -> 1.0, 2 -> 0.5 linear: step 1 = 0.75; after step 2 hold 0.5.
        e.Lr.ShouldBe([1.0, 0.75, 0.5, 0.5, 0.5, 0.5, 0.5]);
        e.InterpolatedSteps.ShouldBe(5);
        e.Warning!.ShouldContain("hold the last value");
    }

    [Fact]
    public void No_lr_and_no_spec_is_an_input_error()
    {
        var c = new LossCurve { Name = "t", Steps = [0, 1], Loss = [4, 3], SourceFile = "x.csv" };
        Should.Throw<CurveFormatException>(() => LrExpansion.Expand(c)).Message.ShouldContain("FILE@SPEC");
    }
}
