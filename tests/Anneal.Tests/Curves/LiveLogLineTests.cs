using Anneal.Curves;

namespace Anneal.Tests.Curves;

/// <summary>Issue 12 defect 8: a last line cut by a writer still running, and a huge cell echoed in a message.</summary>
public sealed class LiveLogLineTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    [Theory]
    [InlineData("500,3e-4,3.")]
    [InlineData("500,3e-4,3.1e")]
    [InlineData("500,3e-4,3.1e-")]
    [InlineData("500,3e-4,")]
    [InlineData("500,3e-")]
    [InlineData("50")]
    public void A_cut_last_csv_line_is_left_out_with_a_warning(string last)
    {
        var c = CurveReader.Read(_tmp.File("live.csv", "step,lr,loss\n400,3e-4,3.0121\n450,3e-4,3.0054\n" + last));
        c.Steps.ShouldBe([400L, 450L]);
        c.Warnings.ShouldHaveSingleItem().ShouldContain("live.csv:4: the last line");
        c.Warnings[0].ShouldContain("looks cut off");
    }

    [Fact]
    public void A_complete_last_line_without_a_line_end_is_read()
    {
        var c = CurveReader.Read(_tmp.File("hand.csv", "step,lr,loss\n400,3e-4,3.0121\n500,3e-4,3"));
        c.Steps.ShouldBe([400L, 500L]);
        c.Loss![1].ShouldBe(3.0);
        c.Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void A_cut_last_json_line_is_left_out_with_a_warning()
    {
        var c = CurveReader.Read(_tmp.File("live.jsonl", "{\"step\": 400, \"loss\": 3.01}\n{\"step\": 450, \"loss\": 3.00}\n{\"step\": 500, \"lo"));
        c.Steps.ShouldBe([400L, 450L]);
        c.Warnings.ShouldHaveSingleItem().ShouldContain("live.jsonl:3: the last line");
    }

    [Fact]
    public void A_5_MB_cell_makes_a_short_message()
    {
        var huge = new string('1', 5_000_000);
        var e = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("huge.csv", $"step,lr,loss\n1,3e-4,3.2\n2,3e-4,{huge}x\n3,3e-4,3.1\n")));
        e.Message.Length.ShouldBeLessThan(500);
        e.Message.ShouldContain("huge.csv:3");
        e.Message.ShouldContain("5,000,001 bytes");

        // a 5 MB number is infinite: the loss message echoes it cut as well
        e = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("inf.csv", $"step,lr,loss\n1,3e-4,3.2\n2,3e-4,{huge}\n")));
        e.Message.Length.ShouldBeLessThan(1000);
        e.Message.ShouldContain("not a finite number");

        // and a 5 MB header name
        e = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("hdr.csv", $"step,{huge}\n1,2\n")));
        e.Message.Length.ShouldBeLessThan(1500);
    }
}
