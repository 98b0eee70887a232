using static Anneal.Tests.Cli.CliRunner;
using Anneal.Tests.Curves;

namespace Anneal.Tests.Cli;

/// <summary>
/// What a new user following the README met in session 23 (docs/journal/session-23-newuser.md): each test failed before
/// its fix.
/// </summary>
[Collection("Console")] // the serial collection of the in-process CLI tests
public sealed class NewUserTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private const string Cos = "cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)";

    [Fact]
    public void Fit_of_one_run_given_twice_is_exit_2_naming_both_and_writes_nothing()
    {
        // Before: exit 0; the run was fitted twice as two "seeds" (constant_24000#1, #2), its points counted twice.
        string run = TestPaths.Mpl("400m", "cosine_24000.csv") + "@" + Cos;
        string outPath = Path.Combine(_tmp.Path, "law.json");
        var (code, stdout, err) = Run("fit", run, run, "--law", "powerlaw", "--out", outPath);
        (stdout + err).ShouldNotContain("   at ");
        code.ShouldBe(2, err);
        err.ShouldContain("runs 1 and 2 (cosine_24000, cosine_24000) are the same run given twice");
        err.ShouldContain("give each run once");
        File.Exists(outPath).ShouldBeFalse();
        Directory.GetFiles(_tmp.Path).ShouldBeEmpty();
    }

    [Fact]
    public void Fit_of_two_seeds_of_one_schedule_still_fits()
    {
        // The duplicate check compares losses, not names: two seeds' runs of one schedule (gpt-lisp's constant_s1 and
        // constant_s2, one schedule, different losses) are a seed ensemble, as before.
        string dir = Path.Combine(TestPaths.RepoRoot, "data", "corpora", "gpt-lisp");
        const string C = "@constant(peak=4e-4, warmup=50)";
        string outPath = Path.Combine(_tmp.Path, "law.json");
        var (code, _, err) = Run("fit", Path.Combine(dir, "constant_s1.csv") + C, Path.Combine(dir, "constant_s2.csv") + C,
            "--law", "powerlaw", "--loss-col", "val_loss", "--out", outPath);
        code.ShouldBe(0, err);
        File.ReadAllText(outPath).ShouldContain("seed_ensemble");
    }

    [Fact]
    public void A_sparse_loss_column_chosen_with_loss_col_is_named_in_the_skipped_rows_warning()
    {
        // Before: "3 row(s) at steps without a training loss were skipped" although the loss column was val_loss.
        string f = _tmp.File("run.csv", "step,lr,loss,val_loss\n0,1e-3,3.0,3.1\n1,1e-3,2.9,\n2,1e-3,2.8,\n3,1e-3,2.7,\n4,1e-3,2.6,2.7\n");
        var (code, _, err) = Run("curve", "info", f, "--loss-col", "val_loss");
        code.ShouldBe(0, err);
        err.ShouldContain("3 row(s) at steps without a value in the loss column 'val_loss' were skipped (first: line 3, step 1)");
    }

    [Fact]
    public void The_design_band_note_of_an_auto_law_says_it_is_the_stacks_band_and_ends_cleanly()
    {
        // Before: "uncertainty: 95% band as 'anneal predict' draws it: parameter covariance (delta method), " (a dangling
        // comma: TrimEnd bound to the last term only) for the multi-power member's own band, which 'anneal predict' of the
        // stack does not draw. Since session 23 (designband) whatif and optimize of an auto law give the stack's forecast and
        // its calibrated band, as predict does (StackDesignBandTests), and the note says so.
        var (code, stdout, err) = Run("whatif", TestPaths.TestData("laws", "auto-400m-step-drops.law.json"),
            "--base", "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)", "--vary", "decay=0.1,0.2");
        code.ShouldBe(0, err);
        var note = stdout.Split('\n').Single(l => l.StartsWith("uncertainty:", StringComparison.Ordinal)).TrimEnd('\r');
        note.ShouldContain("as 'anneal predict' draws it for the auto stack (its calibrated band");
        note.ShouldNotEndWith(",");
        note.ShouldNotEndWith(" ");
    }
    [Theory]
    [InlineData("mpl,momentum", "--law 'mpl,momentum': fit fits one law; give one (e.g. --law mpl), or compare several with anneal evaluate --law 'mpl,momentum'")]
    [InlineData("mpl(warmup=reference, drops=continuous), convex", "give one (e.g. --law mpl(warmup=reference, drops=continuous))")]
    [InlineData("", "--law is empty: give one law, e.g. --law auto")]
    public void Fit_with_a_list_or_no_law_names_the_option_and_the_fix(string law, string words)
    {
        // Before: "unexpected ',' at position 4 of spec 'mpl,momentum'" and, for an empty --law, "empty spec: expected
        // something like cosine(peak=3e-4, total=10000)" (a schedule, for a law option).
        string outPath = Path.Combine(_tmp.Path, "law.json");
        var (code, stdout, err) = Run("fit", TestPaths.Mpl("400m", "cosine_24000.csv") + "@" + Cos, "--law", law, "--out", outPath);
        (stdout + err).ShouldNotContain("   at ");
        code.ShouldBe(2, err);
        err.ShouldContain(words);
        File.Exists(outPath).ShouldBeFalse();
    }
    [Fact]
    public void A_curve_argument_ending_in_at_says_the_schedule_is_missing()
    {
        // Before: "cosine_24000.csv@: file not found; check the path", though the file exists.
        string arg = TestPaths.Mpl("400m", "cosine_24000.csv") + "@";
        var (code, stdout, err) = Run("curve", "info", arg);
        (stdout + err).ShouldNotContain("   at ");
        code.ShouldBe(2, err);
        err.ShouldContain(arg + ": nothing after '@'");
        err.ShouldNotContain("file not found");
    }

    [Fact]
    public void A_64_bit_option_that_is_not_a_number_gets_no_range_of_19_digits()
    {
        // Before: "--steps-per-epoch: 'abc' is not a whole number between -9223372036854775808 and 9223372036854775807".
        var (code, _, err) = Run("fit", TestPaths.Mpl("400m", "cosine_24000.csv"), "--steps-per-epoch", "abc");
        code.ShouldBe(2, err);
        err.ShouldContain("--steps-per-epoch: 'abc' is not a whole number (write it in digits, e.g. 24000)");
        err.ShouldNotContain("9223372036854775807");
    }
}
