using Anneal.Curves;

namespace Anneal.Tests.Curves;

/// <summary>Curves that end in a NaN/infinite loss (a diverged run, as anneal train writes it).</summary>
public sealed class DivergedCurveTests : IDisposable
{
    private readonly TempDir _dir = new();

    // hand-written log: rows 0 and 1 finite, row 2 (file line 4) is the divergence, row 3 follows it
    private const string Csv = "step,lr,loss,val_loss,grad_norm\n0,0.1,5.5,,1.0\n1,0.1,4.5,4.6,1.0\n2,0.1,NaN,,NaN\n3,0.1,inf,,NaN\n";

    [Fact]
    public void A_nan_loss_is_an_error_naming_file_line_step_and_the_option()
    {
        var path = _dir.File("run.csv", Csv);
        var e = Should.Throw<CurveFormatException>(() => CurveReader.Read(path));
        e.Message.ShouldStartWith($"{path}:4: column 'loss'");
        e.Message.ShouldContain("at step 2");
        e.Message.ShouldContain("read the rows before it with stop_at_nonfinite");
        e.Parameters.ShouldBe(["stop_at_nonfinite"]);
        e.NonFiniteLoss.ShouldBeTrue();
    }

    [Fact]
    public void Stop_at_nonfinite_keeps_the_rows_before_the_divergence()
    {
        var c = CurveReader.Read(_dir.File("run.csv", Csv), new CurveReadOptions { StopAtNonFinite = true });
        c.Steps.ShouldBe([0L, 1]);
        c.Loss.ShouldBe([5.5, 4.5]);
        c.ValLoss![1].ShouldBe(4.6);
        c.Diverged.ShouldBeTrue();
        c.DivergedAtStep.ShouldBe(2);
        c.DivergedAtLine.ShouldBe(4);
        c.Warnings.ShouldHaveSingleItem().ShouldContain("diverged");
    }

    [Fact]
    public void Json_lines_with_infinity_are_truncated_the_same_way()
    {
        var path = _dir.File("run.jsonl", "{\"step\": 0, \"loss\": 5.5}\n{\"step\": 1, \"loss\": 4.5}\n{\"step\": 2, \"loss\": Infinity}\n");
        Should.Throw<CurveFormatException>(() => CurveReader.Read(path)).Message.ShouldStartWith($"{path}:3:");
        var c = CurveReader.Read(path, new CurveReadOptions { StopAtNonFinite = true });
        c.Steps.ShouldBe([0L, 1]);
        c.DivergedAtStep.ShouldBe(2);
    }

    [Fact]
    public void Step_column_after_the_loss_still_gives_the_line()
    {
        var c = CurveReader.Read(_dir.File("late.csv", "loss,step\n5.5,0\nnan,1\n"), new CurveReadOptions { StopAtNonFinite = true });
        c.Count.ShouldBe(1);
        c.DivergedAtLine.ShouldBe(3);
        c.DivergedAtStep.ShouldBeNull(); // not parsed yet when the loss was checked: reported as "after step 0"
    }

    [Fact]
    public void Divergence_on_the_first_row_leaves_nothing_and_says_so()
    {
        var path = _dir.File("first.csv", "step,loss\n0,nan\n");
        var e = Should.Throw<CurveFormatException>(() => CurveReader.Read(path, new CurveReadOptions { StopAtNonFinite = true }));
        e.Message.ShouldStartWith($"{path}:2:");
        e.Message.ShouldContain("first data row");
    }

    public void Dispose() => _dir.Dispose();
}
