using static Anneal.Tests.Cli.CliRunner;
using System.Globalization;
using System.Text.Json.Nodes;
using Anneal.Cli;
using Anneal.Schedules;

namespace Anneal.Tests.Schedules;

/// <summary>The schedule commands run in-process through <see cref="AnnealCli.Run"/>.</summary>
[Collection("Console")] // the serial collection of the in-process CLI tests
public class ScheduleCliTests
{

    private static double[] ParseCsv(string csv)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        lines[0].ShouldBe("step,lr");
        return lines.Skip(1).Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
    }

    [Fact] // HF transformers get_linear_schedule_with_warmup (lr 10, W 2, N 10) from the command line, tol 1e-2 as HF's test
    public void Sample_ReproducesHfLinear()
    {
        var (code, o, err) = Run("schedule", "sample", "linear(peak=10, total=10, warmup=2)", "--steps", "10");
        code.ShouldBe(0, err);
        var lr = ParseCsv(o);
        double[] hf = [0, 5, 10, 8.75, 7.5, 6.25, 5, 3.75, 2.5, 1.25];
        lr.Length.ShouldBe(10);
        for (int t = 0; t < 10; t++) Math.Abs(lr[t] - hf[t]).ShouldBeLessThanOrEqualTo(1e-2, $"t={t}");
    }

    [Fact] // optax warmup_cosine_decay_schedule(0.2, 1.21, 50, 100, -3, exponent 2) at 0, 10, 50, 75, 100 from the command line (JSON output)
    public void Sample_ReproducesOptaxWarmupCosine()
    {
        var (code, o, err) = Run("schedule", "sample", "warmup(cosine(peak=1.21, total=50, min=-3, exponent=2), steps=50, start=0.2)", "--steps", "101", "--format", "json");
        code.ShouldBe(0, err);
        JsonNode.Parse(o)!["format"]!.GetValue<string>().ShouldBe("anneal-schedule-sample/1");
        var lr = JsonNode.Parse(o)!["lr"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
        (long T, double V)[] optax = [(0, 0.2), (10, 0.402), (50, 1.21), (75, -1.9475), (100, -3.0)];
        foreach (var (t, v) in optax) Math.Abs(lr[t] - v).ShouldBeLessThanOrEqualTo(1e-12 * Math.Abs(v), $"t={t}");
    }

    [Fact]
    public void Sample_BadSpecExitsTwoWithMessage()
    {
        var (code, o, err) = Run("schedule", "sample", "cosine(peak=1, total=10, warmpu=2)", "--steps", "5");
        code.ShouldBe(2);
        err.ShouldContain("error: cosine: unknown parameter 'warmpu'");
        err.ShouldNotContain("   at ");
        o.ShouldBeEmpty();
    }

    [Fact] // schedule list --json lists every registered kind with its parameters and an example that parses
    public void List_Json()
    {
        var (code, o, err) = Run("schedule", "list", "--json");
        code.ShouldBe(0, err);
        var root = JsonNode.Parse(o)!;
        root["format"]!.GetValue<string>().ShouldBe("anneal-schedule-kinds/1");
        var arr = root["kinds"]!.AsArray();
        var names = arr.Select(x => x!["name"]!.GetValue<string>()).ToArray();
        names.ShouldBe(ScheduleRegistry.Kinds.Select(k => k.Name).Append("plateau").Append("autolrs").ToArray());
        foreach (var k in arr.Where(x => !x!["stateful"]!.GetValue<bool>()))
        {
            k!["parameters"]!.AsArray().Count.ShouldBeGreaterThan(0);
            Schedule.Parse(k["example"]!.GetValue<string>()).ShouldNotBeNull();
        }
    }

    [Fact]
    public void List_TableNamesEveryKind()
    {
        var (code, o, err) = Run("schedule", "list");
        code.ShouldBe(0, err);
        foreach (var k in ScheduleRegistry.Kinds) o.ShouldContain(k.Name);
    }
}
