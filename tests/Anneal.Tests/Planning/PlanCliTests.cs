using Anneal.Planning;
using static Anneal.Tests.Cli.CliRunner;
using System.Text.Json.Nodes;
using Anneal.Cli;

namespace Anneal.Tests.Planning;

[Collection("Console")] // the serial collection of the in-process CLI tests
public class PlanCliTests
{

    // planning.md worked example through the CLI's JSON: eta ~ 1.63e-3, B ~ 1.11M tokens, 541 sequences.
    [Fact]
    public void Plan_json_carries_the_worked_example()
    {
        var (code, o, _) = Run("plan", "--params", "1e9", "--tokens", "1e11", "--seq-len", "2048", "--non-embedding-params", "--json");
        code.ShouldBe(CliExit.Ok);
        var j = JsonNode.Parse(o)!;
        j["step_law"]!["lr"]!.GetValue<double>().ShouldBe(1.63e-3, 0.005e-3);
        j["step_law"]!["batch_tokens"]!.GetValue<double>().ShouldBe(1.11e6, 0.005e6);
        Math.Round(j["step_law"]!["batch_sequences"]!.GetValue<double>()).ShouldBe(541);
        j["allocations"]!.AsArray().Count.ShouldBe(2);
        j["format"]!.GetValue<string>().ShouldBe("anneal-plan/1");
    }

    // Fit files written before the snake_case formats (camelCase, no format field; committed in Data/plans) are read
    // as before: the plan from them equals the plan from the same fits written now.
    [Fact]
    public void Scaling_fits_written_by_the_previous_version_still_feed_the_plan()
    {
        var oldC = FitFile.Read(TestPaths.TestData("plans", "chinchilla-fit.camel-case.json")).Chinchilla!;
        var oldS = FitFile.Read(TestPaths.TestData("plans", "steplaw-fit.camel-case.json")).StepLaw!;
        var c = JsonNode.Parse(File.ReadAllText(TestPaths.TestData("plans", "chinchilla-fit.camel-case.json")))!["law"]!;
        oldC.Alpha.ShouldBe(c["alpha"]!.GetValue<double>());
        oldC.E.ShouldBe(c["e"]!.GetValue<double>());
        var st = JsonNode.Parse(File.ReadAllText(TestPaths.TestData("plans", "steplaw-fit.camel-case.json")))!["law"]!;
        oldS.ShouldBe(new StepLaw(st["lrCoefficient"]!.GetValue<double>(), st["lrParamsExponent"]!.GetValue<double>(), st["lrTokensExponent"]!.GetValue<double>(),
            st["batchCoefficient"]!.GetValue<double>(), st["batchTokensExponent"]!.GetValue<double>()));
        string dir = Directory.CreateTempSubdirectory("anneal-plan-").FullName;
        try
        {
            string sweep = Path.Combine(dir, "sweep.csv"), sf = Path.Combine(dir, "s.json");
            Run("scaling", "example", "--sweep", "--out", sweep).Code.ShouldBe(CliExit.Ok);
            var fresh = Run("scaling", "fit", sweep, "--law", "steplaw", "--bootstrap", "0", "--json").Out;
            JsonNode.Parse(fresh)!["format"]!.GetValue<string>().ShouldBe("anneal-scaling-fit/1");
            File.WriteAllText(sf, fresh);
            FitFile.Read(sf).StepLaw.ShouldBe(oldS);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Plan_explain_prints_formulas_and_sources()
    {
        var (code, o, _) = Run("plan", "--params", "1e9", "--tokens", "1e11", "--explain");
        code.ShouldBe(CliExit.Ok);
        o.ShouldContain("eta = 1.79 N^-0.713 D^0.307");
        o.ShouldContain("arXiv 2401.02954");
        o.ShouldContain("B_crit = 2e8 / L^(1/0.21)");
    }

    // Square-root rule by hand: 3e-4 * sqrt(1024/256) = 6e-4.
    [Fact]
    public void Rescale_batch_json()
    {
        var (code, o, _) = Run("plan", "rescale", "batch", "--lr", "3e-4", "--from-batch", "256", "--to-batch", "1024", "--json");
        code.ShouldBe(CliExit.Ok);
        JsonNode.Parse(o)!["result"]!["lr"]!.GetValue<double>().ShouldBe(6e-4, 1e-15);
    }

    [Fact]
    public void Missing_params_is_a_clear_error()
    {
        var (code, _, e) = Run("plan", "--tokens", "1e11");
        code.ShouldBe(CliExit.BadInput);
        e.ShouldContain("--params is required");
    }

    [Fact]
    public void Example_then_fit_round_trip_recovers_the_generating_exponents()
    {
        string dir = Directory.CreateTempSubdirectory("anneal-plan-").FullName;
        try
        {
            string runs = Path.Combine(dir, "runs.csv");
            Run("scaling", "example", "--out", runs, "--noise", "0").Code.ShouldBe(CliExit.Ok);
            File.ReadAllText(runs).ShouldStartWith("# Synthetic runs made by: anneal scaling example");
            string svg = Path.Combine(dir, "frontier.svg");
            string iso = Path.Combine(dir, "iso.svg");
            var (code, o, _) = Run("scaling", "fit", runs, "--bootstrap", "20", "--json", "--svg", svg, "--contours", iso);
            code.ShouldBe(CliExit.Ok);
            File.ReadAllText(iso).ShouldContain("compute-optimal N, D");
            Run("scaling", "fit", runs, "--law", "steplaw", "--contours", iso).Code.ShouldBe(CliExit.BadInput);
            string svgText = File.ReadAllText(svg);
            svgText.ShouldContain("<svg");
            svgText.ShouldContain("compute-optimal frontier");
            svgText.ShouldContain("N = 1e9");
            var law = JsonNode.Parse(o)!["law"]!;
            // Noise-free example generated from the published constants (Hoffmann et al., unrounded).
            law["alpha"]!.GetValue<double>().ShouldBe(0.33917084, 2e-3);
            law["beta"]!.GetValue<double>().ShouldBe(0.2849083, 2e-3);
        }
        finally { Directory.Delete(dir, true); }
    }

    // Round trip: `scaling fit --json` output feeds `plan --fit`; the "your fit" allocation must equal
    // the closed form evaluated by hand from the constants in the JSON.
    [Fact]
    public void Plan_uses_fits_of_your_own_runs()
    {
        string dir = Directory.CreateTempSubdirectory("anneal-plan-").FullName;
        try
        {
            string runs = Path.Combine(dir, "runs.csv"), sweep = Path.Combine(dir, "sweep.csv");
            Run("scaling", "example", "--out", runs).Code.ShouldBe(CliExit.Ok);
            Run("scaling", "example", "--sweep", "--out", sweep).Code.ShouldBe(CliExit.Ok);
            string cf = Path.Combine(dir, "c.json"), sf = Path.Combine(dir, "s.json");
            File.WriteAllText(cf, Run("scaling", "fit", runs, "--bootstrap", "0", "--json").Out);
            string stepSvg = Path.Combine(dir, "step.svg");
            File.WriteAllText(sf, Run("scaling", "fit", sweep, "--law", "steplaw", "--bootstrap", "0", "--json", "--svg", stepSvg).Out);
            File.ReadAllText(stepSvg).ShouldContain("published Step Law");
            var (code, o, _) = Run("plan", "-N", "1e9", "-D", "1e11", "--fit", cf, "--fit", sf, "--json");
            code.ShouldBe(CliExit.Ok);
            var plan = JsonNode.Parse(o)!;
            var mine = plan["allocations"]!.AsArray()[2]!;
            var law = JsonNode.Parse(File.ReadAllText(cf))!["law"]!;
            double e = law["e"]!.GetValue<double>(), a = law["a"]!.GetValue<double>(), b = law["b"]!.GetValue<double>();
            double al = law["alpha"]!.GetValue<double>(), be = law["beta"]!.GetValue<double>();
            double g = Math.Pow(al * a / (be * b), 1 / (al + be));
            double nOpt = g * Math.Pow(6e20 / 6, be / (al + be));
            mine["optimal_params"]!.GetValue<double>().ShouldBe(nOpt, 1e-9 * nOpt);
            mine["loss_at_plan"]!.GetValue<double>().ShouldBe(e + a / Math.Pow(1e9, al) + b / Math.Pow(1e11, be), 1e-9);
            var step = JsonNode.Parse(File.ReadAllText(sf))!["law"]!;
            double lr = step["lr_coefficient"]!.GetValue<double>() * Math.Pow(1e9, step["lr_params_exponent"]!.GetValue<double>()) * Math.Pow(1e11, step["lr_tokens_exponent"]!.GetValue<double>());
            plan["fitted_lr_batch"]!.AsArray()[0]!["lr"]!.GetValue<double>().ShouldBe(lr, 1e-9 * lr);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Fit_bad_file_names_file_and_line_and_writes_nothing()
    {
        string dir = Directory.CreateTempSubdirectory("anneal-plan-").FullName;
        try
        {
            string bad = Path.Combine(dir, "bad.csv");
            File.WriteAllText(bad, "params,tokens,lr,batch,loss\n1e8,2e9,1e-3,1e6,3.0\n1e8,4e9,1e-3,1e6,0\n");
            string svg = Path.Combine(dir, "out.svg");
            var (code, _, e) = Run("scaling", "fit", bad, "--svg", svg);
            code.ShouldBe(CliExit.BadInput);
            e.ShouldContain("bad.csv:3: column 'loss' must be a finite number > 0");
            File.Exists(svg).ShouldBeFalse();
        }
        finally { Directory.Delete(dir, true); }
    }
}

/// <summary>In-process CLI tests that run one at a time. <see cref="AnnealCli.Run"/> no longer swaps the global Console (ConcurrentRunTests runs two commands at once).</summary>
[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCollection;
