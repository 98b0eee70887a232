using Anneal.Curves;

namespace Anneal.Tests.Curves;

public sealed class CurveReaderJsonTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void Json_lines_with_nested_keys_and_eval_rows_at_the_same_step()
    {
        var path = _tmp.File("run.jsonl", """
            {"iter": 0, "train": {"loss": 4.0}, "lr": 0.001}
            {"iter": 10, "train": {"loss": 3.5}, "lr": 0.002}
            {"iter": 10, "val_loss": 3.6}
            {"iter": 20, "train": {"loss": 3.0}, "lr": 0.002, "val_loss": NaN}
            {"iter": 25, "val_loss": 3.1}
            {"summary": "done"}
            """);
        var c = CurveReader.Read(path);
        c.Steps.ShouldBe([0L, 10L, 20L]);
        c.Loss.ShouldBe([4.0, 3.5, 3.0]);
        c.Lr.ShouldBe([0.001, 0.002, 0.002]);
        double.IsNaN(c.ValLoss![0]).ShouldBeTrue();
        c.ValLoss[1].ShouldBe(3.6);
        double.IsNaN(c.ValLoss[2]).ShouldBeTrue();
        c.Warnings.Single().ShouldContain("line 5, step 25");
    }

    [Fact]
    public void Json_lines_wandb_style_keys_escapes_and_deep_nesting()
    {
        var c = CurveReader.Read(_tmp.File("w.jsonl", """
            {"_step": 0, "train/loss": 4.0, "trainer": {"lr": {"abs": 1e-3}}, "extra": [1, 2], "_runtime": 1.5}
            {"_step": 3, "train/loss": 3.0, "trainer": {"lr": {"abs": 5e-4}}, "extra": {"x": 1}}
            """), new CurveReadOptions { LrColumn = "trainer/lr/abs" });
        c.Steps.ShouldBe([0L, 3L]);
        c.Loss.ShouldBe([4.0, 3.0]);
        c.Lr.ShouldBe([1e-3, 5e-4]); // nested objects flatten to "trainer/lr/abs"
    }

    [Fact]
    public void Json_lines_errors_name_the_line()
    {
        var e1 = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("a.jsonl", "{\"step\": 0, \"loss\": 4}\n{\"step\": 1, \"loss\": NaN}\n")));
        e1.Line.ShouldBe(2);
        e1.Message.ShouldContain("diverged");
        var e2 = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("b.jsonl", "{\"step\": 0, \"loss\": 4}\n{\"step\": 1, \"loss\": 3,}}\n")));
        e2.Line.ShouldBe(2);
        e2.Message.ShouldContain("not valid JSON");
        var e3 = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("c.jsonl", "{\"step\": 5, \"loss\": 4}\n{\"step\": 5, \"loss\": 3}\n")));
        e3.Message.ShouldContain("step 5 repeats the step on line 1");
        var e4 = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("d.jsonl", "{\"step\": 5, \"loss\": 4}\n{\"step\": 3, \"loss\": 3}\n")));
        e4.Line.ShouldBe(2);
        e4.Message.ShouldContain("comes after step 5 on line 1");
        var e5 = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("e.jsonl", "{\"time\": 5, \"loss\": 4}\n")));
        e5.Message.ShouldContain("no step column");
        e5.Message.ShouldContain("'time', 'loss'");
    }

    [Fact]
    public void Wandb_history_merges_val_into_train_steps()
    {
        var path = _tmp.File("history.json", """
            {"history": {
              "train": {"iter": [0, 10, 20, 30], "train_lr": [0.0, 0.001, 0.001, 0.0005], "train_loss": [10.0, 6.0, 5.0, 4.5]},
              "val": {"iter": [0, 20, 25], "val_loss": [10.1, 5.2, 5.1]}
            }}
            """);
        var c = CurveReader.Read(path);
        c.Steps.ShouldBe([0L, 10L, 20L, 30L]);
        c.Lr.ShouldBe([0.0, 0.001, 0.001, 0.0005]);
        c.Loss.ShouldBe([10.0, 6.0, 5.0, 4.5]);
        c.ValLoss![0].ShouldBe(10.1);
        double.IsNaN(c.ValLoss[1]).ShouldBeTrue();
        c.ValLoss[2].ShouldBe(5.2);
        double.IsNaN(c.ValLoss[3]).ShouldBeTrue();
        c.Warnings.Single().ShouldContain("1 validation point(s)");
        c.Warnings.Single().ShouldContain("step 25");
    }

    [Fact]
    public void Wandb_history_errors_name_the_key_and_index()
    {
        var ragged = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("r.json",
            """{"history": {"train": {"iter": [0, 10, 20], "train_loss": [3, 2]}}}""")));
        ragged.Message.ShouldContain("history.train.train_loss");
        ragged.Message.ShouldContain("has 2 values");
        var bad = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("b.json",
            """{"history": {"train": {"iter": [0, 10], "train_loss": [3, "x"]}}}""")));
        bad.Column.ShouldBe("history.train.train_loss[1]");
        var neg = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("n.json",
            """{"history": {"train": {"iter": [0, 10], "train_lr": [1e-3, -1e-3], "train_loss": [3, 2]}}}""")));
        neg.Column.ShouldBe("history.train.train_lr[1]");
        neg.Message.ShouldContain("negative");
        var syntax = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("s.json", "{\n\"history\": {\n\"train\": [1,,2]}}")));
        syntax.Line.ShouldBe(3);
    }

    [Fact]
    public void Format_detection_by_extension_and_content()
    {
        CurveReader.Detect("step,loss\n"u8, "a.txt").ShouldBe(CurveFileFormat.Csv);
        CurveReader.Detect("{\"step\":1,\"loss\":2}\n{\"step\":2,\"loss\":1}\n"u8, "a.json").ShouldBe(CurveFileFormat.JsonLines);
        CurveReader.Detect("{\n \"history\": {}\n}\n"u8, "a.json").ShouldBe(CurveFileFormat.Json);
        CurveReader.Detect("{\"step\":1}"u8, "a.jsonl").ShouldBe(CurveFileFormat.JsonLines);
        CurveReader.Detect("[{\"step\":1}]"u8, "x").ShouldBe(CurveFileFormat.Json);
        // A JSON Lines file saved as .json reads the same.
        var c = CurveReader.Read(_tmp.File("rows.json", "{\"step\":1,\"loss\":2}\n{\"step\":2,\"loss\":1}\n"));
        c.Loss.ShouldBe([2.0, 1.0]);
        CurveReader.Read(_tmp.File("arr.json", "[{\"step\":1,\"loss\":2},{\"step\":3,\"loss\":1}]")).Steps.ShouldBe([1L, 3L]);
    }
}

public sealed class CurveWriterTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private static LossCurve Random(int n, int seed)
    {
        var rng = new Random(seed);
        var steps = new long[n];
        long s = 0;
        for (int i = 0; i < n; i++) { s += 1 + rng.Next(50); steps[i] = s; }
        double[] Col(bool gaps) => Enumerable.Range(0, n).Select(i => gaps && i % 3 == 1 ? double.NaN : rng.NextDouble() * Math.Pow(10, rng.Next(-12, 6))).ToArray();
        return new LossCurve { Name = "r", Steps = steps, Lr = Col(false), Loss = Col(false), ValLoss = Col(true), GradNorm = Col(true), Tokens = Col(false) };
    }

    private static void ShouldRoundTrip(LossCurve a, LossCurve b)
    {
        b.Steps.ShouldBe(a.Steps);
        // Bit-exact: "R" formatting and the JSON writer both print the shortest round-tripping text.
        foreach (var (x, y) in new[] { (a.Lr, b.Lr), (a.Loss, b.Loss), (a.ValLoss, b.ValLoss), (a.GradNorm, b.GradNorm), (a.Tokens, b.Tokens) })
            for (int i = 0; i < x!.Length; i++) BitConverter.DoubleToInt64Bits(y![i]).ShouldBe(BitConverter.DoubleToInt64Bits(x[i]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Csv_and_json_round_trip_exactly(int seed)
    {
        var c = Random(500, seed) with { ScheduleSpec = "constant(peak=0.001)" };
        var csv = _tmp.Combine($"c{seed}.csv");
        var json = _tmp.Combine($"c{seed}.json");
        CurveWriter.WriteCsv(c, csv);
        CurveWriter.WriteJson(c, json);
        ShouldRoundTrip(c, CurveReader.Read(csv));
        var j = CurveReader.Read(json);
        ShouldRoundTrip(c, j);
        j.ScheduleSpec.ShouldBe("constant(peak=0.001)");
        j.Name.ShouldBe("r");
    }

    [Fact]
    public void Writing_into_a_missing_folder_is_an_input_error_and_leaves_nothing()
    {
        var c = Random(3, 3);
        Should.Throw<InputException>(() => CurveWriter.WriteCsv(c, _tmp.Combine("nope/x.csv")));
        Directory.Exists(_tmp.Combine("nope")).ShouldBeFalse();
    }
}
