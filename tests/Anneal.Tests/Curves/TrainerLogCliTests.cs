using Anneal.Curves.Logs;
using static Anneal.Tests.Cli.CliRunner;
using static Anneal.Tests.Curves.TrainerLogFixtures;

namespace Anneal.Tests.Curves;

/// <summary>Every trainer log is read by the commands with no options: a fit runs on it directly, on every logged row.</summary>
[Collection("Console")] // the serial collection of the in-process CLI tests
public sealed class TrainerLogCliTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private string Write(string rel, string text)
    {
        var p = _tmp.Combine(rel);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        File.WriteAllText(p, text);
        return p;
    }

    public static TheoryData<string> Formats() => ["hf", "tensorboard", "lightning", "mlflow", "wandb", "keras", "long"];

    [Theory]
    [MemberData(nameof(Formats))]
    public void Fit_runs_on_each_trainer_log_with_no_options(string format)
    {
        (string Path, int Rows) log = format switch
        {
            "hf" => (System.IO.Path.GetDirectoryName(Write("out/checkpoint-200/trainer_state.json", HfTrainerState()))!, 20),
            "tensorboard" => (TestPaths.TestData("logs", "peer-simple.tfevents"), 20),
            "lightning" => (System.IO.Path.GetDirectoryName(Write("lightning_logs/version_0/metrics.csv", LightningMetricsCsv()))!, 20),
            "mlflow" => (MlflowRun(_tmp.Combine("mlruns"), "0123abcd", "run-a"), 20),
            "wandb" => (Write("wandb.csv", WandbHistoryCsv()), 20),
            "keras" => (Write("keras.csv", KerasCsvLogger()), 12),
            _ => (Write("long.csv", LongCsv()), 20),
        };
        var (code, stdout, err) = Run("fit", log.Path, "--law", "powerlaw", "--from-step", "0");
        code.ShouldBe(0, err);
        stdout.ShouldContain($"fitted to 1 run(s), {log.Rows} points");
    }

    [Fact]
    public void Every_curve_reading_command_takes_the_column_options()
    {
        var tb = TestPaths.TestData("logs", "peer-simple.tfevents");
        var (code, stdout, err) = Run("curve", "info", tb, "--loss-col", "eval/loss");
        code.ShouldBe(0, err);
        stdout.ShouldContain("rows          4 (steps 50..200)");
        (code, stdout, err) = Run("fit", tb, "--loss-col", "eval/loss", "--law", "powerlaw", "--from-step", "0");
        code.ShouldBe(0, err);
        stdout.ShouldContain("fitted to 1 run(s), 4 points");
        (code, _, err) = Run("evaluate", "--fit", tb, "--test", tb, "--law", "powerlaw", "--from-step", "0", "--lr-col", "train/grad_norm");
        code.ShouldBe(0, err);
        (code, stdout, err) = Run("train", "compare", tb, "--val-col", "train/grad_norm");
        code.ShouldBe(0, err);
        stdout.ShouldContain("0.005"); // the last grad_norm, 1/200, read as the validation loss
        foreach (var cmd in new[] { new[] { "watch" }, ["curve", "plot"], ["curve", "convert"], ["fit"], ["evaluate"], ["train", "compare"] })
        {
            var (_, help, _) = Run([.. cmd, "--help"]);
            foreach (var o in new[] { "--step-col", "--loss-col", "--lr-col", "--val-col" }) help.ShouldContain(o, customMessage: string.Join(" ", cmd));
        }
    }

    [Fact]
    public void Convert_writes_a_tensorboard_file_that_reads_back()
    {
        var out1 = _tmp.Combine("events.out.tfevents.1700000000.conv");
        var (code, _, err) = Run("curve", "convert", TestPaths.Mpl("400m", "cosine_24000.csv"), "--out", out1);
        code.ShouldBe(0, err);
        var back = Anneal.Curves.CurveReader.Read(out1);
        var orig = Anneal.Curves.CurveReader.Read(TestPaths.Mpl("400m", "cosine_24000.csv"));
        back.Steps.ShouldBe(orig.Steps);
        back.Loss!.ShouldBe(orig.Loss!.Select(v => (double)(float)v).ToArray()); // simple_value is a float32
        TensorBoardLog.Looks(File.ReadAllBytes(out1)).ShouldBeTrue();
    }
}
