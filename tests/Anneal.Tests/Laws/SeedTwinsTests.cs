using System.Globalization;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Tests.Cli;

namespace Anneal.Tests.Laws;

public class SeedTwinsTests
{
    private static LawRun Run(string name, double[] eta, long[] steps, double[] loss) => new() { Name = name, Eta = eta, Steps = steps, Observed = loss };

    [Fact]
    public void Two_runs_of_one_schedule_with_different_losses_are_twins_and_their_gap_is_the_mean_log_ratio_at_their_end()
    {
        // Independent source: closed form. One constant schedule of 100 steps; run b's loss is run a's times 1.03 at every
        // point, so the mean log ratio over any end is ln 1.03 and the gap exactly 3 %, read at the last common step (90).
        var eta = Enumerable.Repeat(1e-3, 100).ToArray();
        long[] steps = [10, 20, 30, 40, 50, 60, 70, 80, 90];
        var la = steps.Select(s => 2 + 5.0 / s).ToArray();
        var a = Run("a_s1", eta, steps, la);
        var b = Run("a_s2", eta, steps, la.Select(x => x * 1.03).ToArray());
        var t = SeedTwins.Of([a, b]).ShouldHaveSingleItem();
        (t.First, t.Second, t.Step).ShouldBe(("a_s1", "a_s2", 90L));
        t.Gap.ShouldBe(0.03, 1e-12);
        t.Warning.ShouldContain("a_s2 ends +3.0% against a_s1 by step 90");
        // A branch of a: the same rate to its end, a's rows before it, then a cooldown's: not twins (one trajectory).
        var branchEta = eta.Take(60).Concat(Enumerable.Range(0, 40).Select(i => 1e-3 * (1 - i / 40.0))).ToArray();
        var branch = Run("a_wsd", branchEta, steps, la.Select((x, i) => steps[i] < 60 ? x : x * 0.99).ToArray());
        SeedTwins.Of([a, branch]).ShouldBeEmpty();
        // The parent truncated before the branch starts (its rates and points a prefix of the branch's): not twins either.
        var prefix = Run("a_to50", eta.Take(50).ToArray(), steps.Take(4).ToArray(), la.Take(4).ToArray());
        SeedTwins.Of([prefix, branch]).ShouldBeEmpty();
        // the same run given twice is the fitter's other warning, not this one
        SeedTwins.Of([a, a with { Name = "a_again" }]).ShouldBeEmpty();
        // fewer than MinCommon points at common steps: nothing to compare
        SeedTwins.Of([a, Run("a_sparse", eta, [15, 90], [2.3, 2.1])]).ShouldBeEmpty();
    }

    [Fact]
    public void Anneal_fit_of_gpt_gcide_s_two_cosine_seeds_warns_with_their_gap_from_the_csv()
    {
        // Independent source: data/corpora/gpt-gcide's CSVs. cosine_T2000_s1 and cosine_T2000_s2 have one schedule and
        // validation losses at the same steps (99, 199, ..., 1999); the gap is exp(mean ln(s2/s1)) - 1 over the last five
        // (1599-1999), computed here from the files.
        string dir = Path.Combine(TestPaths.RepoRoot, "data/corpora/gpt-gcide");
        Dictionary<long, double> Val(string file) => File.ReadLines(Path.Combine(dir, file)).Skip(1).Select(l => l.Split(','))
            .Where(c => c[3].Length > 0).ToDictionary(c => long.Parse(c[0], CultureInfo.InvariantCulture), c => double.Parse(c[3], CultureInfo.InvariantCulture));
        var (s1, s2) = (Val("cosine_T2000_s1.csv"), Val("cosine_T2000_s2.csv"));
        var end = s1.Keys.Intersect(s2.Keys).Order().TakeLast(5).ToArray();
        end.ShouldBe([1599L, 1699, 1799, 1899, 1999]);
        double gap = Math.Exp(end.Average(s => Math.Log(s2[s] / s1[s]))) - 1;
        gap.ShouldBeGreaterThan(0.03); // session 19: the seed-2 cosine ends about 5.5 % above the seed-1 one
        var (code, output, err) = CliRunner.Run("fit", Path.Combine(dir, "cosine_T2000_s1.csv"), Path.Combine(dir, "cosine_T2000_s2.csv"), "--law", "momentum", "--target", "val");
        code.ShouldBe(0, err);
        (output + err).ShouldContain(string.Create(CultureInfo.InvariantCulture, $"cosine_T2000_s2 ends {gap:+0.0%} against cosine_T2000_s1 by step 1999"));
        // and a fit of one seed's constant and cosine runs says nothing of the kind
        var (code1, output1, err1) = CliRunner.Run("fit", Path.Combine(dir, "constant_s1.csv"), Path.Combine(dir, "cosine_T2000_s1.csv"), "--law", "momentum", "--target", "val");
        code1.ShouldBe(0, err1);
        (output1 + err1).ShouldNotContain("two trajectories");
    }
}
