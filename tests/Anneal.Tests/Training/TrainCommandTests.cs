using Anneal.Cli;

namespace Anneal.Tests.Training;

/// <summary>The anneal train command end to end on the bundled Brown slice (tiny model, a few steps).</summary>
[Collection("Console")] // the serial collection of the in-process CLI tests
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
        lines[0].ShouldBe("step,lr,loss,val_loss,grad_norm,tokens,seconds,epoch");
        lines.Length.ShouldBe(21);
        lines[20].Split(',')[5].ShouldBe((20 * 4 * 16).ToString()); // tokens = steps x batch x seq
        File.ReadAllText(svg).ShouldStartWith("<svg");
        var (c2, table, _) = Run("train", "compare", csv);
        c2.ShouldBe(0);
        table.ShouldContain("val_loss");
    }

    [Fact]
    public void The_log_epoch_column_gives_fits_the_step_where_the_text_repeats()
    {
        // A 1,200-byte text: 1,080 training bytes (the first 90 %), 4 x 16 = 64 tokens a step, so the text is drawn once by
        // 1,080 / 64 = 16.875 updates: by hand, the epoch after update s is (s + 1) * 64 / 1,080, and the epoch ends
        // within update 16 (updates 0..15 draw 1,024 bytes, 0..16 draw 1,088): 17 steps per epoch, ceil(16.875).
        string text = Path.Combine(_dir, "short.txt"), csv = Path.Combine(_dir, "short.csv");
        File.WriteAllBytes(text, File.ReadAllBytes(Sample)[..1200]);
        var (code, _, stderr) = Run("train", "--model", "gpt(layers=1, heads=2, dim=16, seq=16)", "--data", text, "--schedule", "constant(peak=1e-2)",
            "--steps", "40", "--batch", "4", "--eval-every", "10", "--eval-batches", "1", "--out", csv);
        code.ShouldBe(0, stderr);
        var rows = File.ReadAllLines(csv)[1..].Select(l => l.Split(',')).ToArray();
        foreach (var r in rows)
            double.Parse(r[7], System.Globalization.CultureInfo.InvariantCulture).ShouldBe((long.Parse(r[0]) + 1) * 64 / 1080.0, 1e-7);
        // a fit reads the column (as epochs completed) and finds that number
        var curve = Anneal.Curves.CurveReader.Read(csv);
        Anneal.Fitting.EpochBoundary.FromLogs([curve], null)!.Value.StepsPerEpoch.ShouldBe(17);
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

    [Fact]
    public void Branches_from_a_kept_checkpoint_and_refuses_a_schedule_that_differs_before_it()
    {
        string parent = Path.Combine(_dir, "const.csv"), wsd = Path.Combine(_dir, "wsd.csv"), bad = Path.Combine(_dir, "bad.csv");
        string[] common = ["--model", "gpt(layers=1, heads=2, dim=16, seq=16)", "--data", Sample, "--batch", "4", "--eval-every", "4", "--eval-batches", "1", "--log-every", "2"];
        var (c1, _, e1) = Run(["train", .. common, "--schedule", "constant(peak=1e-2, warmup=2)", "--steps", "12", "--save-at", "6,8", "--out", parent]);
        c1.ShouldBe(0, e1);
        File.Exists(parent + ".step6.ckpt").ShouldBeTrue();
        var (c2, _, e2) = Run(["train", .. common, "--schedule", "wsd(peak=1e-2, total=10, warmup=2, decay=0.2)", "--steps", "10", "--branch-from", parent + ".step8.ckpt", "--out", wsd]);
        c2.ShouldBe(0, e2);
        e2.ShouldContain("branching from");
        // the parent's rows before the branch point (steps 1, 3, 5 on the log-every-2 grid), then the branch's own (7, 9)
        File.ReadAllLines(wsd).Skip(1).Select(l => l.Split(',')[0]).ShouldBe(["1", "3", "5", "7", "9"]);
        // the cooldown of wsd(total=10, decay=0.4) starts at step 6: its lr(7) differs from the parent's
        var (c3, _, e3) = Run(["train", .. common, "--schedule", "wsd(peak=1e-2, total=10, warmup=2, decay=0.4)", "--steps", "10", "--branch-from", parent + ".step8.ckpt", "--out", bad]);
        c3.ShouldBe(2);
        e3.ShouldContain("at step 7");
        e3.ShouldContain("--schedule");
        File.Exists(bad).ShouldBeFalse();
        var (c4, _, e4) = Run(["train", .. common, "--schedule", "constant(peak=1e-2)", "--steps", "10", "--save-at", "4,x", "--out", bad]);
        c4.ShouldBe(2);
        e4.ShouldContain("--save-at");
    }

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }
}

/// <summary><c>anneal train compare</c> on a run that diverged (the trainer's own NaN row).</summary>
[Collection("Console")]
public class TrainCompareDivergedTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("anneal-diverged-").FullName;
    private static string Sample => Path.Combine(TestPaths.RepoRoot, "tests", "Anneal.Training.Tests", "Data", "brown-sample.txt");

    [Fact]
    public void Diverged_run_is_reported_at_its_nan_row_and_plotted_up_to_it()
    {
        string bad = Path.Combine(_dir, "bad.csv"), good = Path.Combine(_dir, "good.csv"), svg = Path.Combine(_dir, "cmp.svg");
        const string model = "gpt(layers=1, heads=2, dim=16, seq=16)";
        var (c1, _, e1) = Anneal.Tests.Cli.CliRunner.Run("train", "--model", model, "--data", Sample, "--schedule", "step(peak=1e-3, every=3, gamma=1e12)", "--optimizer", "sgd(momentum=0)",
            "--clip", "0", "--steps", "30", "--batch", "4", "--eval-every", "5", "--eval-batches", "1", "--out", bad);
        c1.ShouldBe(2);
        e1.ShouldContain("diverged");
        e1.ShouldContain("clip gradients (--clip)"); // the trainer's advice names the parameter, the CLI its option
        var (c2, _, e2) = Anneal.Tests.Cli.CliRunner.Run("train", "--model", model, "--data", Sample, "--schedule", "constant(peak=1e-3)", "--steps", "6",
            "--batch", "4", "--eval-every", "3", "--eval-batches", "1", "--out", good);
        c2.ShouldBe(0, e2);
        // independent source: the step of the trainer's last row, which holds the NaN
        var last = File.ReadAllLines(bad)[^1].Split(',');
        last[2].ShouldBe("NaN");
        long nanStep = long.Parse(last[0]);
        var (code, table, err) = Anneal.Tests.Cli.CliRunner.Run("train", "compare", bad, good, "--plot", svg);
        code.ShouldBe(0, err);
        table.ShouldContain($"diverged at step {nanStep}");
        table.Split('\n')[1].ShouldStartWith("good"); // finished runs first
        err.ShouldContain("warning:");
        var plot = File.ReadAllText(svg);
        plot.ShouldStartWith("<svg");
        plot.ShouldNotContain("NaN");
        var (cj, json, _) = Anneal.Tests.Cli.CliRunner.Run("train", "compare", bad, "--json");
        cj.ShouldBe(0);
        json.ShouldContain($"\"diverged_at_step\":{nanStep}");
        json.ShouldStartWith("{\"format\":\"anneal-train-compare/1\",\"runs\":[");
    }

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }
}

/// <summary><c>anneal train --model logreg|mlp</c> end to end.</summary>
[Collection("Console")]
public class TrainWorkloadCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("anneal-workloadcmd-").FullName;
    private static string Sample => Path.Combine(TestPaths.RepoRoot, "tests", "Anneal.Training.Tests", "Data", "brown-sample.txt");

    [Theory]
    [InlineData("logreg", 256 * 256 + 256)]                       // W [256, 256] + b [256]
    [InlineData("mlp(context=2, hidden=16)", 512 * 16 + 16 + 16 * 256 + 256)]
    public void Small_workloads_train_and_log(string model, int parameters)
    {
        string csv = Path.Combine(_dir, "run.csv");
        var (code, stdout, stderr) = Anneal.Tests.Cli.CliRunner.Run("train", "--model", model, "--data", Sample, "--schedule", "cosine(peak=1e-2, total=20, warmup=2)",
            "--steps", "20", "--batch", "4", "--seq", "32", "--eval-every", "10", "--eval-batches", "2", "--out", csv);
        code.ShouldBe(0, stderr);
        stdout.ShouldContain($"{parameters:N0} parameters");
        var curve = Anneal.Curves.CurveReader.Read(csv);
        curve.Steps.ShouldBe(Enumerable.Range(0, 20).Select(i => (long)i).ToArray());
        var schedule = Anneal.Schedules.Schedule.Parse("cosine(peak=1e-2, total=20, warmup=2)");
        curve.Lr.ShouldBe(Enumerable.Range(0, 20).Select(s => schedule.At(s)).ToArray()); // row s = the LR of update s
        curve.Loss![0].ShouldBeLessThan(Math.Log(256) + 0.5); // near-uniform start (logreg starts at exactly ln 256 before its first update)
        curve.Loss![^1].ShouldBeLessThan(curve.Loss![0]);
    }

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }
}

/// <summary>
/// Checkpoints carry a SHA-256 of their content (issue 12, defect 7): a bit flipped anywhere in one, or a cut copy,
/// is refused by <c>--resume</c> and <c>--branch-from</c> with exit 2 before anything is trained, and the run's log and
/// checkpoint stay byte for byte as they were.
/// </summary>
[Collection("Console")]
public sealed class CorruptCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("anneal-ckpt-").FullName;
    private static string Sample => Path.Combine(TestPaths.RepoRoot, "tests", "Anneal.Training.Tests", "Data", "brown-sample.txt");

    private static (int Code, string Err) Run(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        return (AnnealCli.Run(args, o, e), e.ToString());
    }

    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    [Theory]
    [InlineData("flip a byte in the parameters", "corrupted")]
    [InlineData("flip a byte in the header", "corrupted")]
    [InlineData("cut the last 100 bytes", "checkpoint")]
    [InlineData("format 3 (no checksum)", "format 3")]
    public void A_corrupt_checkpoint_is_exit_2_and_the_run_is_untouched(string damage, string word)
    {
        string csv = Path.Combine(_dir, "run.csv"), ckpt = csv + ".ckpt", kept = csv + ".step4.ckpt";
        string[] common = ["--model", "gpt(layers=1, heads=2, dim=16, seq=16)", "--data", Sample, "--batch", "4", "--eval-every", "4", "--eval-batches", "1",
            "--schedule", "cosine(peak=1e-2, total=12, warmup=2)"];
        var (c0, e0) = Run(["train", .. common, "--steps", "8", "--save-at", "4", "--out", csv]);
        c0.ShouldBe(0, e0);
        // the intact checkpoint resumes (a copy of the run), so the refusals below are the checksum's doing
        string good = Path.Combine(_dir, "good.csv");
        File.Copy(csv, good); File.Copy(ckpt, good + ".ckpt");
        var (cg, eg) = Run(["train", .. common, "--steps", "12", "--resume", "--out", good]);
        cg.ShouldBe(0, eg);
        var bytes = File.ReadAllBytes(ckpt);
        var damaged = damage switch
        {
            "flip a byte in the parameters" => Flip(bytes, bytes.Length - 40 - 1000),
            "flip a byte in the header" => Flip(bytes, 20),
            "cut the last 100 bytes" => bytes[..^100],
            _ => Format3(bytes),
        };
        File.WriteAllBytes(ckpt, damaged);
        File.WriteAllBytes(kept, damaged);
        var logBefore = File.ReadAllBytes(csv);

        var (c1, e1) = Run(["train", .. common, "--steps", "12", "--resume", "--out", csv]);
        c1.ShouldBe(2, e1);
        e1.ShouldContain(word);
        e1.ShouldNotContain("   at ");
        File.ReadAllBytes(csv).ShouldBe(logBefore);
        File.ReadAllBytes(ckpt).ShouldBe(damaged);

        var branch = Path.Combine(_dir, "branch.csv");
        var (c2, e2) = Run(["train", .. common, "--steps", "12", "--branch-from", kept, "--out", branch]);
        c2.ShouldBe(2, e2);
        e2.ShouldContain(word);
        File.Exists(branch).ShouldBeFalse();
    }

    private static byte[] Flip(byte[] b, int at) { var c = (byte[])b.Clone(); c[at] ^= 0x10; return c; }

    // what an earlier Anneal wrote: version 3 in the header and no checksum at the end
    private static byte[] Format3(byte[] b) { var c = b[..^32]; BitConverter.GetBytes(3).CopyTo(c, 8); return c; }
}
