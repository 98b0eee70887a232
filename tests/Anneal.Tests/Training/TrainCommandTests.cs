using Anneal.Cli;

namespace Anneal.Tests.Training;

/// <summary>The anneal train command end to end on the bundled Brown slice (tiny model, a few steps).</summary>
[Collection("Console")] // AnnealCli.Run swaps Console.Out while a command runs
public class TrainCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("anneal-traincmd-").FullName;
    private static string Sample => Path.Combine(TestPaths.RepoRoot, "tests", "Anneal.Training.Tests", "Data", "brown-sample.txt");

    private (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        return (AnnealCli.Run(args, o, e), o.ToString(), e.ToString());
    }

    [Fact]
    public void Trains_logs_csv_plots_and_compares()
    {
        string csv = Path.Combine(_dir, "run.csv"), svg = Path.Combine(_dir, "run.svg");
        var (code, stdout, stderr) = Run("train", "--model", "gpt(layers=1, heads=2, dim=16, seq=16)", "--data", Sample, "--schedule", "cosine(peak=1e-2, total=20, warmup=2)",
            "--steps", "20", "--batch", "4", "--eval-every", "10", "--eval-batches", "2", "--out", csv, "--plot", svg);
        code.ShouldBe(0, stderr);
        stdout.ShouldContain("tokens/s");
        stderr.ShouldContain("ETA");
        var lines = File.ReadAllLines(csv);
        lines[0].ShouldBe("step,lr,loss,val_loss,grad_norm,tokens,seconds");
        lines.Length.ShouldBe(21);
        lines[20].Split(',')[5].ShouldBe((20 * 4 * 16).ToString()); // tokens = steps x batch x seq
        File.ReadAllText(svg).ShouldStartWith("<svg");
        var (c2, table, _) = Run("train", "compare", csv);
        c2.ShouldBe(0);
        table.ShouldContain("val_loss");
    }

    [Fact]
    public void Bad_input_exits_2_with_a_message_and_no_output_file()
    {
        string csv = Path.Combine(_dir, "bad.csv");
        var (code, _, err) = Run("train", "--model", "gpt-tiny", "--data", Sample, "--schedule", "cosine(peak=1e-2, total=20)", "--steps", "0", "--out", csv);
        code.ShouldBe(2);
        err.ShouldContain("--steps");
        File.Exists(csv).ShouldBeFalse();
        var (c2, _, e2) = Run("train", "--model", "gpt(dim=10, heads=3)", "--data", Sample, "--schedule", "constant(peak=1e-3)", "--steps", "5", "--out", csv);
        c2.ShouldBe(2);
        e2.ShouldContain("divisible");
        var (c3, _, e3) = Run("train", "--data", Path.Combine(_dir, "missing.txt"), "--schedule", "constant(peak=1e-3)", "--steps", "5", "--out", csv);
        c3.ShouldBe(2);
        e3.ShouldContain("missing.txt");
    }

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }
}
