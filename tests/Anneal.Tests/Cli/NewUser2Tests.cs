using static Anneal.Tests.Cli.CliRunner;
using Anneal.Tests.Curves;

namespace Anneal.Tests.Cli;

/// <summary>
/// What a new user following the README met in session 24 (docs/journal/session-24-newuser.md): each test failed before
/// its fix (the "before" of each is what the same command printed on the CLI before it).
/// </summary>
[Collection("Console")] // the serial collection of the in-process CLI tests
public sealed class NewUser2Tests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private static string Cos => TestPaths.Mpl("400m", "cosine_24000.csv") + "@cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)";
    private static string Con => TestPaths.Mpl("400m", "constant_24000.csv") + "@constant(peak=3e-4, warmup=2160)";

    [Fact]
    public void Fit_json_followed_by_a_file_name_says_json_is_a_switch_and_points_to_out()
    {
        // Before: "law.json: file not found; check the path": --json is a switch, so law.json was read as a third curve
        // (accuracy --json FILE takes a file, which is what the user meant here: fit's --out).
        string lawPath = Path.Combine(_tmp.Path, "law.json");
        var (code, stdout, err) = Run("fit", Cos, Con, "--json", lawPath);
        (stdout + err).ShouldNotContain("   at ");
        code.ShouldBe(2, err);
        err.ShouldContain("--json is a switch that takes no value");
        err.ShouldContain($"use --out {lawPath}");
        err.ShouldContain($"--json > {lawPath}");
        err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length.ShouldBe(1);
        stdout.ShouldBeEmpty();
        Directory.GetFiles(_tmp.Path).ShouldBeEmpty();
    }

    [Fact]
    public void Fit_json_followed_by_an_existing_law_file_says_so_before_the_readers_words()
    {
        // Before: "law.json: no step column; found keys: 'law', ..." (a fitted law read as a curve), no word of --json.
        string lawPath = _tmp.File("law.json", "{\"law\": \"powerlaw\", \"parameters\": {}}");
        var (code, _, err) = Run("fit", Cos, Con, "--json", lawPath);
        code.ShouldBe(2, err);
        err.ShouldStartWith("error: --json is a switch that takes no value");
        err.ShouldContain("as one it fails");
        err.ShouldContain("no step column");
        File.ReadAllText(lawPath).ShouldBe("{\"law\": \"powerlaw\", \"parameters\": {}}");
    }

    [Fact]
    public void Predict_json_followed_by_a_file_name_names_the_switch_not_an_unrecognized_argument()
    {
        // Before: "Unrecognized command or argument 'out.json'."
        var (code, _, err) = Run("predict", "mpl-400m", "--schedule", "cosine(peak=3e-4, total=30000, warmup=2160)", "--json", "out.json");
        code.ShouldBe(2, err);
        err.ShouldContain("--json is a switch that takes no value");
        err.ShouldContain("redirect it: --json > out.json");
        err.ShouldNotContain("Unrecognized");
    }

    [Fact]
    public void A_switch_followed_by_an_existing_curve_still_reads_it_as_one()
    {
        // The check refuses only a value that is not a file (or fails as the argument it became): fit --json A B is two curves.
        var (code, stdout, err) = Run("fit", "--json", Cos, Con, "--law", "powerlaw");
        code.ShouldBe(0, err);
        stdout.ShouldContain("\"law\"");
    }

    [Theory]
    // Before: "x.jsonl: not valid JSON ('{' is invalid after a single JSON value. Expected end of data. LineNumber: 1 | BytePositionInLine: 0.)"
    [InlineData("x.jsonl", "{\"step\": 0, \"loss\": 3.1}\n{\"step\": 1, \"loss\": 3.0}\n", "JSON Lines, one object a line: a run's log")]
    // Before: "x.csv: not valid JSON ('s' is an invalid start of a value. LineNumber: 0 | BytePositionInLine: 0.)"
    [InlineData("x.csv", "step,lr,loss\n0,1e-3,3.1\n1,1e-3,3.0\n", "a table (CSV): a run's log")]
    // Before: "x.json: \"format\" must be a string"
    [InlineData("x.json", "{\"law\": \"powerlaw\", \"parameters\": {\"A\": 1}}", "a fitted law file, as anneal fit writes one")]
    [InlineData("x.json", "{\"runs\": []}", "a JSON object without \"format\"; its keys: runs")]
    public void Accuracy_of_a_file_that_is_not_a_corpus_manifest_names_it_and_the_format(string name, string text, string why)
    {
        string f = _tmp.File(name, text);
        string report = Path.Combine(_tmp.Path, "accuracy.md");
        var (code, stdout, err) = Run("accuracy", "--corpus", f, "--no-bundled", "--out", report);
        (stdout + err).ShouldNotContain("   at ");
        code.ShouldBe(2, err);
        err.ShouldContain($"{f}: not a corpus manifest ({why}");
        err.ShouldContain("\"format\": \"anneal-corpus/1\"");
        err.ShouldContain("give a corpus folder or its corpus.json");
        err.ShouldNotContain("LineNumber");
        File.Exists(report).ShouldBeFalse();
    }

    [Fact]
    public void Accuracy_writes_its_report_to_the_current_folder_by_default_not_into_docs()
    {
        // Before: --out defaulted to docs/accuracy.md, so `anneal accuracy` run from a user's own folder wrote into (or failed
        // on) a docs/ folder there; the project's docs/accuracy.md is regenerated with an explicit --out (docs/laws.md).
        var (code, stdout, err) = Run("accuracy", "--help");
        code.ShouldBe(0, err);
        var line = stdout.Split('\n').Single(l => l.TrimStart().StartsWith("-o, --out", StringComparison.Ordinal));
        line.ShouldContain("[default: accuracy.md]");
        line.ShouldNotContain("docs/");
    }

    [Fact]
    public void Accuracy_json_alone_prints_the_json_on_stdout_as_every_other_commands_json_does()
    {
        // Before: accuracy's --json needed a file name (`--json` alone: "Required argument missing"), where fit, predict,
        // evaluate, probe, ... print JSON on stdout with a bare --json. Independent source: the JSON parser (System.Text.Json)
        // and the report written beside it, whose pooled row for the same law must give the same number of forecasts.
        string md = Path.Combine(_tmp.Path, "acc.md");
        var (code, stdout, err) = Run("accuracy", "--no-bundled", "--corpus", Path.Combine(TestPaths.RepoRoot, "data", "corpora", "mlp"), "--law", "powerlaw", "--json", "--out", md);
        code.ShouldBe(0, err);
        var doc = System.Text.Json.JsonDocument.Parse(stdout).RootElement;
        doc.GetProperty("format").GetString().ShouldBe("anneal-accuracy/1");
        var pooled = doc.GetProperty("pooled").EnumerateArray().Single(p => p.GetProperty("law").GetString() == "powerlaw");
        int n = pooled.GetProperty("forecasts").GetInt32();
        n.ShouldBeGreaterThan(0);
        File.ReadAllText(md).ShouldContain($"| `powerlaw` | {n} |");
        err.ShouldContain($"wrote {md}");
    }

    [Fact]
    public void Accuracy_no_held_out_computes_no_forecast_on_a_corpus_kept_for_a_blind_measurement()
    {
        // Session 26: a development run of the benchmark (`--law` with a candidate) computed forecasts on the held-out corpus
        // gpt-tcl and printed its pooled line. Independent source: the bundled corpora's own held_out flags
        // (BundledCorpora, from each corpus.json): with --no-held-out no row is of a flagged corpus, the held-out list is
        // empty, and every unflagged engine corpus is still there.
        string md = Path.Combine(_tmp.Path, "acc.md");
        var (code, stdout, err) = Run("accuracy", "--no-held-out", "--law", "powerlaw", "--json", "--out", md);
        code.ShouldBe(0, err);
        var doc = System.Text.Json.JsonDocument.Parse(stdout).RootElement;
        var flagged = Anneal.Cli.Commands.BundledCorpora.All().Where(c => c.HeldOut).Select(c => c.Name).ToHashSet();
        var kept = Anneal.Cli.Commands.BundledCorpora.All().Where(c => !c.HeldOut).Select(c => c.Name).ToHashSet();
        var seen = doc.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("corpus").GetString()!).ToHashSet();
        seen.Overlaps(flagged).ShouldBeFalse(string.Join(", ", seen.Intersect(flagged)));
        kept.IsSubsetOf(seen).ShouldBeTrue(string.Join(", ", kept.Except(seen)));
        (doc.TryGetProperty("held_out_corpora", out var held) ? held.GetArrayLength() : 0).ShouldBe(0);
        File.ReadAllText(md).ShouldContain("--no-held-out");
    }

    private static string Perldoc(string file) => Path.Combine(TestPaths.RepoRoot, "data", "corpora", "gpt-perldoc", file);

    [Fact]
    public void Fit_constant_log_of_a_cosine_run_is_refused_before_the_fit_naming_the_option_and_the_fix()
    {
        // --help: "A longer log of a constant-rate run at the fitted runs' peak". Before: a cosine's log was accepted without
        // a word (exit 0; it is read only when the regime check fires, and then "cannot judge" it).
        string outPath = Path.Combine(_tmp.Path, "law.json");
        var (code, stdout, err) = Run("fit", Cos, Con, "--law", "powerlaw", "--constant-log", TestPaths.Mpl("400m", "cosine_72000.csv") + "@cosine(peak=3e-4, total=72000, warmup=2160, min=3e-5)", "--out", outPath);
        (stdout + err).ShouldNotContain("   at ");
        code.ShouldBe(2, err);
        err.ShouldContain("error: --constant-log cosine_72000: its learning rate falls after its peak (0.0003 at step ");
        err.ShouldContain("a decaying schedule, not a constant rate");
        err.ShouldContain("give such a run's log");
        err.ShouldNotContain("start 1/");   // refused before the fit's first start
        File.Exists(outPath).ShouldBeFalse();
    }

    [Fact]
    public void Probe_constant_log_of_a_cosine_run_is_refused_naming_the_option()
    {
        var (code, _, err) = Run("probe", "--budget", "6000", "--target", "cosine(peak=3e-3, total=3600, warmup=60)",
            "--constant-log", Perldoc("cosine_T600_s1.csv") + "@cosine(peak=3e-3, total=600, warmup=60)");
        code.ShouldBe(2, err);
        err.ShouldContain("--constant-log: cosine_T600_s1: its learning rate falls after its peak");
    }

    [Fact]
    public void Fit_constant_log_no_longer_than_the_fitted_constant_run_or_without_one_is_refused()
    {
        // The log the same length as the fitted constant run: no point past the step the regime check judges from.
        var (code, _, err) = Run("fit", Cos, Con, "--law", "powerlaw", "--constant-log", Con);
        code.ShouldBe(2, err);
        err.ShouldContain("--constant-log constant_24000: its constant-rate phase ends at step");
        err.ShouldContain("not past the fitted constant-rate run's last step");
        // No fitted run at a constant rate: the check that reads the log cannot be made.
        (code, _, err) = Run("fit", Cos, "--law", "powerlaw", "--constant-log", TestPaths.Mpl("400m", "constant_72000.csv") + "@constant(peak=3e-4, warmup=2160)");
        code.ShouldBe(2, err);
        err.ShouldContain("--constant-log constant_72000: the regime check that reads this log cannot be made on the fitted runs (it needs a constant-rate phase");
    }

    [Fact]
    public void Fit_constant_log_of_a_longer_constant_run_is_still_read()
    {
        // The option's own use (gpt-perldoc, docs/journal/session-19-regime.md): the constant run cut at 600 steps fitted with
        // the 600-step cosine on the validation loss; its whole log (3,600 steps) enters the regime at step 1999 (the value
        // session 19 measured and RegimeOnsetTests pins).
        string cut = _tmp.File("constant_600.csv", string.Join("\n", File.ReadLines(Perldoc("constant_s1.csv"))
            .Where((l, i) => i == 0 || long.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture) < 600)) + "\n");
        var (code, stdout, err) = Run("fit", Perldoc("cosine_T600_s1.csv") + "@cosine(peak=3e-3, total=600, warmup=60)",
            cut + "@constant(peak=3e-3, warmup=60)", "--law", "powerlaw", "--loss-col", "val_loss",
            "--constant-log", Perldoc("constant_s1.csv") + "@constant(peak=3e-3, warmup=60)");
        code.ShouldBe(0, err);
        stdout.ShouldContain("constant_s1 enters the power-law regime the laws assume at about step 1999");
    }

    [Fact]
    public void A_spec_errors_valid_here_lists_every_parameter_of_the_kind_marking_the_given_ones()
    {
        // Before: "wsd: unknown parameter 'bogus'; valid here: convention, decay, min, min_ratio, shape, warmup, warmup_shape":
        // peak and total (given) missing, as if not valid, and decay_steps and stable (read only in some forms) never listed.
        // The list: ScheduleRegistry's wsd parameters, as `anneal schedule list` prints them.
        var (code, _, err) = Run("schedule", "sample", "wsd(peak=3e-4, total=100, bogus=1)", "--steps", "10");
        code.ShouldBe(2, err);
        err.ShouldContain("wsd: unknown parameter 'bogus'; valid here: convention, decay, decay_steps, min, min_ratio, peak (given), shape, stable, total (given), warmup, warmup_shape (in ");
        var listed = Anneal.Schedules.ScheduleRegistry.Find("wsd")!.Parameters.Select(p => p.Name).Order(StringComparer.Ordinal);
        err.ShouldContain("valid here: " + string.Join(", ", listed.Select(p => p is "peak" or "total" ? p + " (given)" : p)) + " (in ");
        // A near miss of a parameter read only in some forms gets its hint (before: none, decay_steps was not in the list).
        (code, _, err) = Run("schedule", "sample", "wsd(peak=3e-4, total=100, decay_step=10)", "--steps", "10");
        code.ShouldBe(2, err);
        err.ShouldContain("'decay_step' (did you mean 'decay_steps'?)");
    }

    [Fact]
    public void Optimize_past_the_horizon_of_runs_before_the_regime_withholds_the_gain_band_with_the_loss_band_and_says_why()
    {
        // gpt-perldoc cut at 600 steps (the regime check fires there: RegimeOnsetTests, session 19), fitted with its 600-step
        // cosine on the validation loss (auto). Before: at T = 1200 every loss band was withheld, yet every gain got the
        // calibrated half-width (3.5 % of the cosine to 10 %'s loss) and was printed "(unresolved)".
        string cut = _tmp.File("constant_600.csv", string.Join("\n", File.ReadLines(Perldoc("constant_s1.csv"))
            .Where((l, i) => i == 0 || long.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture) < 600)) + "\n");
        string law = Path.Combine(_tmp.Path, "law.json");
        var (code, _, err) = Run("fit", Perldoc("cosine_T600_s1.csv") + "@cosine(peak=3e-3, total=600, warmup=60)",
            cut + "@constant(peak=3e-3, warmup=60)", "--loss-col", "val_loss", "--out", law);
        code.ShouldBe(0, err);
        (code, var stdout, err) = Run("optimize", law, "--steps", "1200", "--peak", "3e-3", "--warmup", "60", "--family", "wsd", "--json");
        code.ShouldBe(0, err);
        var json = System.Text.Json.Nodes.JsonNode.Parse(stdout)!;
        json["band_withheld"]!.GetValue<string>().ShouldContain("past the fitted horizon (step 599)");
        json["gain_half_width_95"]!.AsArray().ShouldAllBe(h => h == null);
        json["candidates"]!.AsArray().ShouldAllBe(c => c!["band"] == null && !c["gain_resolved"]!.GetValue<bool>());
        (code, stdout, err) = Run("optimize", law, "--steps", "1200", "--peak", "3e-3", "--warmup", "60", "--family", "wsd");
        code.ShouldBe(0, err);
        stdout.ShouldContain("no band and no gain ± for these schedules: no 95% band: the forecast reaches past the fitted horizon (step 599)");
        stdout.ShouldNotContain("(unresolved)");
        // Within the fitted horizon nothing is withheld: the gains keep their half-width (GainScale x the baseline's loss).
        (code, stdout, err) = Run("optimize", law, "--steps", "600", "--peak", "3e-3", "--warmup", "60", "--family", "wsd", "--json");
        code.ShouldBe(0, err);
        json = System.Text.Json.Nodes.JsonNode.Parse(stdout)!;
        json["band_withheld"].ShouldBeNull();
        var cos10 = json["candidates"]!.AsArray().First(c => c!["label"]!.GetValue<string>() == "cosine to 10%")!["loss"]!.GetValue<double>();
        json["gain_half_width_95"]!.AsArray().ShouldAllBe(h => Math.Abs(h!.GetValue<double>() - Anneal.Design.DesignLaw.GainScale * cos10) < 1e-12);
    }

    [Fact]
    public void Export_of_a_missing_rate_table_says_file_not_found_not_unknown_schedule()
    {
        // The Tour's `anneal export optimum.csv --format pytorch ...` before `anneal optimize ... --out optimum.csv` ran.
        // Before: "unknown schedule 'optimum.csv': run 'anneal schedule list' to see them all".
        string missing = Path.Combine(_tmp.Path, "optimum.csv");
        var (code, _, err) = Run("export", missing, "--format", "pytorch", "--steps", "24000", "--out", Path.Combine(_tmp.Path, "schedule.json"));
        code.ShouldBe(2, err);
        err.ShouldContain($"{missing}: file not found");
        err.ShouldContain("anneal optimize ... --out");
        err.ShouldNotContain("unknown schedule");
        Directory.GetFiles(_tmp.Path).ShouldBeEmpty();
    }
}
