using Anneal.Curves;

namespace Anneal.Tests.Curves;

public sealed class CurveReaderCsvTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private CurveFormatException Bad(string content, string name = "bad.csv", CurveReadOptions? o = null) =>
        Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File(name, content), o));

    // Expected values are read off data/examples/mpl/400m/cosine_24000.csv with `head -2` / `tail -1` / `wc -l` (171 data rows).
    [Fact]
    public void Reads_mpl_400m_cosine_first_last_and_count_as_in_the_file_text()
    {
        var c = CurveReader.Read(TestPaths.Mpl("400m", "cosine_24000.csv"));
        c.Name.ShouldBe("cosine_24000");
        c.Count.ShouldBe(171);
        c.Steps[0].ShouldBe(2160);
        c.Steps[^1].ShouldBe(23920);
        c.Lr![0].ShouldBe(0.0003);
        c.Loss![0].ShouldBe(3.5563);
        c.Lr[^1].ShouldBe(3.000893868085248e-05);
        c.Loss[^1].ShouldBe(2.7396);
        c.ValLoss.ShouldBeNull();
        for (int i = 1; i < c.Count; i++) (c.Steps[i] - c.Steps[i - 1]).ShouldBe(128);
    }

    // `awk` over the shared file: cosine_rope.csv has steps 0..33907 with step 22493 missing.
    [RopeCurvesFact]
    public void Reads_gpt100m_rope_with_its_missing_step_as_a_gap()
    {
        var c = CurveReader.Read(TestPaths.RopeCurve("cosine_rope.csv"));
        c.Count.ShouldBe(33907);
        c.Steps[0].ShouldBe(0);
        c.Steps[^1].ShouldBe(33907);
        Array.IndexOf(c.Steps, 22493L).ShouldBe(-1);
        c.Steps[22493].ShouldBe(22494);
        c.Loss![0].ShouldBe(10.40317153930664);
        c.Lr![1].ShouldBe(0.0009999999980684609);
        c.Loss[^1].ShouldBe(2.646177291870117);
    }

    [Fact]
    public void Detects_common_header_names_in_any_order_case_and_separator()
    {
        var c = CurveReader.Read(_tmp.File("a.csv", "Train/Loss,_step,learning_rate,eval/loss,grad_norm,tokens,extra\n3.5,0,1e-4,,0.9,4096,x\n3.25,10,2e-4,3.4,0.8,8192,y\n"));
        c.Steps.ShouldBe([0L, 10L]);
        c.Loss.ShouldBe([3.5, 3.25]);
        c.Lr.ShouldBe([1e-4, 2e-4]);
        double.IsNaN(c.ValLoss![0]).ShouldBeTrue();
        c.ValLoss[1].ShouldBe(3.4);
        c.GradNorm.ShouldBe([0.9, 0.8]);
        c.Tokens.ShouldBe([4096.0, 8192.0]);

        var t = CurveReader.Read(_tmp.File("b.tsv", "iter\ttrain_loss\ttrain_lr\n1\t2.5\t0.001\n2\t2.4\t0.001\n"));
        t.Steps.ShouldBe([1L, 2L]);
        t.Lr.ShouldBe([0.001, 0.001]);
    }

    [Fact]
    public void Explicit_column_names_override_detection()
    {
        var path = _tmp.File("o.csv", "step,loss,smoothed,my_lr\n0,4.0,3.9,0.1\n5,3.0,2.9,0.05\n");
        var c = CurveReader.Read(path, new CurveReadOptions { LossColumn = "smoothed", LrColumn = "MY_LR" });
        c.Loss.ShouldBe([3.9, 2.9]);
        c.Lr.ShouldBe([0.1, 0.05]);
        var e = Should.Throw<CurveFormatException>(() => CurveReader.Read(path, new CurveReadOptions { LossColumn = "nope" }));
        e.Message.ShouldContain("'nope'");
        e.Message.ShouldContain("'smoothed'");
    }

    [Fact]
    public void Accepts_crlf_bom_comments_quotes_blank_lines_and_float_steps()
    {
        var c = CurveReader.Read(_tmp.File("w.csv", "\uFEFF# exported by a tool\r\n\"step\",\"lr\",\"loss\"\r\n\r\n1.0,\"0.5\",3\r\n2e0,0.25,2.5\r\n"));
        c.Steps.ShouldBe([1L, 2L]);
        c.Lr.ShouldBe([0.5, 0.25]);
        c.Loss.ShouldBe([3.0, 2.5]);
    }

    [Fact]
    public void Blank_lr_cells_are_NaN_for_sparse_logging()
    {
        var c = CurveReader.Read(_tmp.File("s.csv", "step,lr,loss\n0,0.001,4\n1,,3.9\n2,0.0009,3.8\n"));
        c.Lr![0].ShouldBe(0.001);
        double.IsNaN(c.Lr[1]).ShouldBeTrue();
    }

    [Fact]
    public void Missing_step_column_lists_columns_found_and_accepted_names()
    {
        var e = Bad("time,loss\n0,3\n");
        e.Message.ShouldStartWith(_tmp.Combine("bad.csv") + ":1:");
        e.Message.ShouldContain("no step column");
        e.Message.ShouldContain("'time', 'loss'");
        e.Message.ShouldContain("global_step");
        e.Message.ShouldContain("(option step_col NAME)"); // the read option by its parameter name, which a front end renames
        e.Parameters.ShouldBe(["step_col"]);
    }

    [Fact]
    public void Missing_loss_column_is_named()
    {
        var e = Bad("step,lr\n0,1e-3\n");
        e.Message.ShouldContain("no loss column");
        e.Message.ShouldContain("train_loss");
    }

    [Theory]
    [InlineData("nan")]
    [InlineData("NaN")]
    [InlineData("inf")]
    [InlineData("-Infinity")]
    public void Non_finite_loss_names_line_and_column(string bad)
    {
        var e = Bad($"step,lr,loss\n0,1e-3,4\n1,1e-3,{bad}\n");
        e.Line.ShouldBe(3);
        e.Column.ShouldBe("loss");
        e.Message.ShouldContain($"'{bad}'");
        e.Message.ShouldContain("diverged");
    }

    // A blank loss makes a sparse table (Lightning, W&B): rows merge by step, and values at a step without a loss are skipped, said in a warning.
    [Fact]
    public void Blank_loss_row_is_skipped_with_a_warning_naming_its_line()
    {
        var c = CurveReader.Read(_tmp.File("blank.csv", "step,lr,loss\n0,1e-3,4\n1,1e-3,\n2,1e-3,3.9\n"));
        c.Steps.ShouldBe([0L, 2L]);
        c.Warnings.ShouldHaveSingleItem().ShouldContain("first: line 3, step 1");
    }

    [Theory]
    [InlineData("nan")]
    [InlineData("inf")]
    public void Non_finite_lr_is_an_error(string bad)
    {
        var e = Bad($"step,lr,loss\n0,{bad},4\n");
        e.Line.ShouldBe(2);
        e.Column.ShouldBe("lr");
        e.Message.ShouldContain("learning rate");
    }

    [Fact]
    public void Negative_lr_is_an_error()
    {
        var e = Bad("step,lr,loss\n0,1e-3,4\n1,-1e-3,3.9\n");
        e.Line.ShouldBe(3);
        e.Message.ShouldContain("negative");
    }

    [Fact]
    public void Duplicate_step_names_both_lines()
    {
        var e = Bad("step,lr,loss\n0,1e-3,4\n10,1e-3,3.9\n10,1e-3,3.8\n");
        e.Line.ShouldBe(4);
        e.Message.ShouldContain("step 10 repeats the step on line 3");
    }

    [Fact]
    public void Decreasing_step_names_both_lines()
    {
        var e = Bad("step,lr,loss\n0,1e-3,4\n20,1e-3,3.9\n10,1e-3,3.8\n");
        e.Line.ShouldBe(4);
        e.Message.ShouldContain("step 10 comes after step 20 on line 3");
    }

    [Fact]
    public void Empty_file_is_an_error()
    {
        Bad("").Message.ShouldContain("empty");
        Bad("\n  \n").Message.ShouldContain("empty");
    }

    [Fact]
    public void Header_only_file_is_an_error()
    {
        var e = Bad("step,lr,loss\n");
        e.Message.ShouldContain("header but no data rows");
        e.Line.ShouldBe(1);
    }

    [Fact]
    public void Ragged_row_names_the_line_and_field_counts()
    {
        var e = Bad("step,lr,loss\n0,1e-3,4\n1,1e-3\n");
        e.Line.ShouldBe(3);
        e.Message.ShouldContain("2 fields");
        e.Message.ShouldContain("has 3");
        Bad("step,lr,loss\n0,1e-3,4,5\n").Message.ShouldContain("4 fields");
    }

    [Fact]
    public void Unparsable_numbers_name_line_column_and_text()
    {
        var e = Bad("step,lr,loss\n0,1e-3,4\n1,1e-3,3,9x\n".Replace("3,9x", "3.9x"));
        e.Line.ShouldBe(3);
        e.Column.ShouldBe("loss");
        e.Message.ShouldContain("'3.9x'");
        var s = Bad("step,lr,loss\nten,1e-3,4\n");
        s.Column.ShouldBe("step");
        s.Message.ShouldContain("'ten'");
        Bad("step,lr,loss\n1.5,1e-3,4\n").Message.ShouldContain("whole step");
    }

    [Fact]
    public void Headerless_file_is_reported_as_data_not_header()
    {
        Bad("0,1e-3,4\n1,1e-3,3.9\n").Message.ShouldContain("is data, not a header");
    }

    [Fact]
    public void Negative_step_and_missing_file_are_errors()
    {
        Bad("step,loss\n-1,4\n").Message.ShouldContain("negative");
        Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.Combine("nope.csv"))).Message.ShouldContain("not found");
    }
}

/// <summary>Files above CsvCurveParser.ParallelBytes are cut at line ends and parsed on several cores.</summary>
public sealed class CurveReaderLargeCsvTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private const int Rows = 60_000; // ~2.4 MB with 17-digit numbers: above the parallel threshold

    private static (string Text, double[] Loss, double[] Lr) Generate(Func<int, long>? stepOf = null, Func<int, string?>? lossText = null)
    {
        var rng = new Random(7);
        var sb = new System.Text.StringBuilder("step,lr,loss\n");
        var loss = new double[Rows];
        var lr = new double[Rows];
        for (int i = 0; i < Rows; i++)
        {
            lr[i] = 1e-3 * rng.NextDouble();
            loss[i] = 2 + 8 * rng.NextDouble();
            sb.Append(stepOf?.Invoke(i) ?? i).Append(',').Append(lr[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Append(',')
              .Append(lossText?.Invoke(i) ?? loss[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }
        return (sb.ToString(), loss, lr);
    }

    [Fact]
    public void Large_file_reads_every_value_exactly()
    {
        var (text, loss, lr) = Generate();
        text.Length.ShouldBeGreaterThan(Anneal.Curves.CsvCurveParser.ParallelBytes);
        var c = CurveReader.Read(_tmp.File("big.csv", text));
        c.Count.ShouldBe(Rows);
        c.Steps[^1].ShouldBe(Rows - 1);
        c.Loss.ShouldBe(loss);
        c.Lr.ShouldBe(lr);
    }

    [Fact]
    public void A_resumed_run_appended_halfway_is_reported_at_its_first_row()
    {
        // Steps 0..29999 then 0..29999 again: the first bad row is data row 30000, on line 30002.
        var (text, _, _) = Generate(stepOf: i => i % (Rows / 2));
        var e = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("resumed.csv", text)));
        e.Line.ShouldBe(Rows / 2 + 2);
        e.Message.ShouldContain($"step 0 comes after step {Rows / 2 - 1} on line {Rows / 2 + 1}");
    }

    [Fact]
    public void The_first_error_in_file_order_wins()
    {
        var (text, _, _) = Generate(lossText: i => i is 10 or Rows - 1 ? "nan" : null);
        var e = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("two.csv", text)));
        e.Line.ShouldBe(12);
    }
}

public sealed class NumberTextTests
{
    // Independent source: the BCL's correctly rounded parser. Every string the fast path accepts
    // must give the same bits; the strings it declines must be the long or far-exponent ones.
    [Fact]
    public void Fast_path_agrees_bit_for_bit_with_double_Parse()
    {
        var rng = new Random(11);
        string[] formats = ["G3", "G5", "G6", "G9", "G15", "R", "F4", "F8", "E3", "e6", "0.######", "0.000000000000000"];
        int accepted = 0, total = 0;
        for (int k = 0; k < 60_000; k++)
        {
            double v = (rng.NextDouble() - 0.3) * Math.Pow(10, rng.Next(-30, 30));
            var text = v.ToString(formats[k % formats.Length], System.Globalization.CultureInfo.InvariantCulture);
            var bytes = System.Text.Encoding.ASCII.GetBytes(text);
            total++;
            if (!Anneal.Curves.NumberText.TryParseShort(bytes, out var fast)) continue;
            accepted++;
            BitConverter.DoubleToInt64Bits(fast).ShouldBe(BitConverter.DoubleToInt64Bits(double.Parse(text, System.Globalization.CultureInfo.InvariantCulture)), text);
        }
        accepted.ShouldBeGreaterThan(total / 4); // the fast path is actually taken
    }

    [Theory]
    [InlineData("3.5563", 3.5563)]
    [InlineData("0.0003", 0.0003)]
    [InlineData("3e-4", 3e-4)]
    [InlineData("-2.5E+3", -2500.0)]
    [InlineData("+.5", 0.5)]
    [InlineData("1.", 1.0)]
    [InlineData("000123.4500", 123.45)]
    [InlineData("123456789012345", 123456789012345.0)]
    [InlineData("1e22", 1e22)]
    public void Fast_path_accepts_short_decimals(string text, double expected)
    {
        Anneal.Curves.NumberText.TryParseShort(System.Text.Encoding.ASCII.GetBytes(text), out var v).ShouldBeTrue();
        v.ShouldBe(expected);
    }

    [Theory]
    [InlineData("1234567890123456")] // 16 digits
    [InlineData("1e23")]
    [InlineData("1e-23")]
    [InlineData("0.00029999996503488155")]
    [InlineData("nan")]
    [InlineData("1e")]
    [InlineData(".")]
    [InlineData("1.2.3")]
    [InlineData("-")]
    [InlineData("")]
    public void Fast_path_declines_everything_else(string text) =>
        Anneal.Curves.NumberText.TryParseShort(System.Text.Encoding.ASCII.GetBytes(text), out _).ShouldBeFalse();

    [Fact]
    public void Negative_zero_keeps_its_sign()
    {
        Anneal.Curves.NumberText.TryParseShort("-0.0"u8, out var z).ShouldBeTrue();
        double.IsNegative(z).ShouldBeTrue();
    }
}
