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
    [InlineData("x.json", "{\"law\": \"powerlaw\", \"parameters\": {\"A\": 1}}", "a fitted law, as anneal fit --out writes")]
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
}
