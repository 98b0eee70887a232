using Anneal.Laws;

namespace Anneal.Tests.Laws;

/// <summary>The fit window: laws describe training after the warmup (S1 = 0 at step 0 of a warmup from zero).</summary>
[Collection("Console")] // the serial collection of the in-process CLI tests
public class LawRunWindowTests
{
    private static LawRun Run(string spec, int n)
    {
        var eta = Anneal.Schedules.Schedule.Parse(spec).Sample(n);
        var steps = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
        return new LawRun { Name = "r", Eta = eta, Steps = steps, Observed = steps.Select(s => 3.0 + 1.0 / (s + 1)).ToArray() };
    }

    [Fact]
    public void Peak_step_is_the_end_of_a_linear_warmup()
    {
        // Closed form: a linear warmup of W steps reaches the peak first at step W (factor t/W).
        Run("cosine(peak=1e-3, total=100, warmup=10)", 100).PeakStep.ShouldBe(10);
        Run("constant(peak=1e-3)", 20).PeakStep.ShouldBe(0);
    }

    [Fact]
    public void From_keeps_points_at_or_after_the_step_and_refuses_too_few()
    {
        var r = Run("constant(peak=1e-3, warmup=5)", 20).From(5);
        r.Steps.First().ShouldBe(5);
        r.Count.ShouldBe(15);
        r.Observed![0].ShouldBe(3.0 + 1.0 / 6);
        var e = Should.Throw<InputException>(() => r.From(19));
        e.Message.ShouldContain("lower from_step");
        e.MessageNaming(p => "--" + p.Replace('_', '-')).ShouldContain("--from-step");
    }

    [Fact]
    public void Cli_fit_of_a_run_with_warmup_from_zero_succeeds_by_leaving_the_warmup_out()
    {
        // Before the window, every start failed: S1(0) = 0 makes A*S1^-alpha infinite at step 0.
        var dir = Directory.CreateTempSubdirectory("anneal-window").FullName;
        var path = Path.Combine(dir, "run.csv");
        var eta = Anneal.Schedules.Schedule.Parse("cosine(peak=1e-3, total=400, warmup=20)").Sample(400);
        double s1 = 0;
        var lines = new List<string> { "step,lr,loss" };
        for (int t = 0; t < 400; t++) { s1 += eta[t]; lines.Add(FormattableString.Invariant($"{t},{eta[t]:R},{2.5 + 0.3 * Math.Pow(Math.Max(s1, 1e-9), -0.3):R}")); }
        File.WriteAllLines(path, lines);
        var err = new StringWriter();
        int code = Anneal.Cli.AnnealCli.Run(["fit", path, "--law", "powerlaw", "--json"], new StringWriter(), err);
        code.ShouldBe(0, err.ToString());
        err.ToString().ShouldContain("20 logged point(s) before step 20 left out");
    }
}
