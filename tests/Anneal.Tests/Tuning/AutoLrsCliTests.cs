using Anneal.Cli;

namespace Anneal.Tests.Tuning;

/// <summary><c>anneal train --schedule "autolrs(...)"</c> end to end, and the commands that need a pure schedule refusing it.</summary>
[Collection("Console")] // the serial collection of the in-process CLI tests
public class AutoLrsCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("anneal-autolrs-cli-").FullName;
    private static string Sample => Path.Combine(TestPaths.RepoRoot, "tests", "Anneal.Training.Tests", "Data", "brown-sample.txt");

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        return (AnnealCli.Run(args, o, e), o.ToString(), e.ToString());
    }

    [Fact]
    public void Train_reports_the_stages_and_the_exploration_cost()
    {
        string csv = Path.Combine(_dir, "auto.csv");
        var (code, stdout, stderr) = Run("train", "--model", "gpt(layers=1, heads=2, dim=16, seq=16)", "--data", Sample, "--schedule", "autolrs(min=1e-4, max=1e-1, tau=30, k=4)",
            "--steps", "60", "--batch", "4", "--eval-every", "30", "--eval-batches", "1", "--threads", "1", "--out", csv);
        code.ShouldBe(0, stderr);
        // two stages (the 30 left after the first stage are not less than tau, so: 30 + 30), 4 candidates of 3 steps
        // each, and each candidate's cooldown of 3 more (anneal, the default)
        stderr.ShouldContain("autolrs stage 0: steps 0..29");
        stderr.ShouldContain("autolrs stage 1: steps 30..59");
        stdout.ShouldContain("autolrs explored 48 more steps");
        stdout.ShouldContain("training cost 108 steps in all");
        File.ReadAllLines(csv + ".autolrs.csv").Length.ShouldBe(1 + 2 * 4);
    }

    [Theory] // a pure schedule is needed here: exit 2 with the reason, nothing written
    [InlineData("schedule", "sample", "autolrs(min=1e-4, max=1e-1, tau=100)", "--steps", "10")]
    [InlineData("schedule", "plot", "autolrs(min=1e-4, max=1e-1, tau=100)", "--steps", "10", "--svg", "OUT")]
    public void Commands_that_need_a_step_schedule_refuse_autolrs(params string[] args)
    {
        string svg = Path.Combine(_dir, "p.svg");
        var (code, stdout, stderr) = Run(args.Select(a => a == "OUT" ? svg : a).ToArray());
        code.ShouldBe(2);
        stderr.ShouldContain("not a function of the step");
        stderr.ShouldNotContain("   at ");
        stdout.ShouldBeEmpty();
        File.Exists(svg).ShouldBeFalse();
    }

    [Fact]
    public void A_bad_autolrs_spec_exits_2_before_training()
    {
        string csv = Path.Combine(_dir, "bad.csv");
        var (code, _, err) = Run("train", "--model", "gpt(layers=1, heads=2, dim=16, seq=16)", "--data", Sample, "--schedule", "autolrs(min=1e-4, max=1e-1, tau=10)", "--steps", "60", "--out", csv);
        code.ShouldBe(2);
        err.ShouldContain("tau must be >= 30");
        File.Exists(csv).ShouldBeFalse();
    }

    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }
}
