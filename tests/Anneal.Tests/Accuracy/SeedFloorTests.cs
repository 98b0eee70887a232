using Anneal.Accuracy;
using Anneal.Laws;
using MathNet.Numerics.Distributions;
using Shouldly;
using Xunit;

namespace Anneal.Tests.Accuracy;

/// <summary>The error a perfect forecaster would still show against one seed (<see cref="SeedFloor"/>).</summary>
public class SeedFloorTests
{
    [Fact]
    public void The_floor_of_one_and_two_forecasts_is_the_half_normals_closed_form()
    {
        // Closed forms, X_i ~ N(0, sigma^2) independent: E|X| = sigma sqrt(2/pi) (the mean, and the worst of one);
        // E max(|X1|, |X2|) = 2 sigma / sqrt(pi), since max(|a|, |b|) = (|a + b| + |a - b|) / 2 and a + b, a - b are
        // independent N(0, 2 sigma^2), each of mean absolute value sqrt(2) sigma sqrt(2/pi).
        const double sigma = 0.0025;
        SeedFloor.ExpectedMeanError([(sigma, 7)]).ShouldBe(sigma * Math.Sqrt(2 / Math.PI), 1e-15);
        SeedFloor.ExpectedWorstError([(sigma, 1)]).ShouldBe(sigma * Math.Sqrt(2 / Math.PI), 1e-12);
        SeedFloor.ExpectedWorstError([(sigma, 2)]).ShouldBe(2 * sigma / Math.Sqrt(Math.PI), 1e-12);
        // Two groups of one each are the same two draws; a group of no forecasts or no noise adds nothing.
        SeedFloor.ExpectedWorstError([(sigma, 1), (sigma, 1), (0.01, 0)]).ShouldBe(2 * sigma / Math.Sqrt(Math.PI), 1e-12);
        // Pooled mean: weighted by forecasts, (3 x 0.001 + 1 x 0.005) / 4 x sqrt(2/pi).
        SeedFloor.ExpectedMeanError([(0.001, 3), (0.005, 1)]).ShouldBe(0.002 * Math.Sqrt(2 / Math.PI), 1e-15);
    }

    [Fact]
    public void The_worst_over_corpora_of_different_noise_matches_a_simulation()
    {
        // Independent source: a seeded simulation of the largest |X| over 5 draws of sigma 0.2 % and 19 of 0.4 %
        // (200,000 repetitions; the largest has a standard deviation of about 0.1 %, so the mean's standard error is
        // about 2.3e-6: held to 2e-5).
        var rng = new Random(2024);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        const int reps = 200_000;
        double sum = 0;
        for (int r = 0; r < reps; r++)
        {
            double max = 0;
            for (int i = 0; i < 5; i++) max = Math.Max(max, Math.Abs(0.002 * Normal()));
            for (int i = 0; i < 19; i++) max = Math.Max(max, Math.Abs(0.004 * Normal()));
            sum += max;
        }
        double expected = SeedFloor.ExpectedWorstError([(0.002, 5), (0.004, 19)]);
        expected.ShouldBe(sum / reps, 2e-5);
        // And it lies between the worst of 19 at 0.4 % alone and of 24 at 0.4 %.
        expected.ShouldBeGreaterThan(SeedFloor.ExpectedWorstError([(0.004, 19)]));
        expected.ShouldBeLessThan(SeedFloor.ExpectedWorstError([(0.004, 24)]));
    }

    [Fact]
    public void The_floor_is_taken_per_corpus_with_seed_pairs_and_pooled_over_them()
    {
        // Corpus a: two questions of 2 and 3 held-out finals, one seed pair of rel. std 0.3 %; corpus b: 4 finals, pair of
        // 0.1 %; corpus c: 6 finals, no pair (no floor, out of the pooled row).
        var run = LawRun.ForSchedule("r", [1.0], [0], "r");
        ForecastSplit Split(string corpus, string question, int tests) =>
            new(corpus, question, "", [], Enumerable.Range(0, tests).Select(_ => new ForecastTarget(run, 1)).ToArray(), 1);
        SeedNoise Pair(string corpus, double relStd) => new(corpus, "s", [1 - relStd / Math.Sqrt(2), 1 + relStd / Math.Sqrt(2)]);
        var report = new AccuracyReport([Split("a", "schedules", 2), Split("a", "cooldowns", 3), Split("b", "schedules", 4), Split("c", "schedules", 6)],
            [], [Pair("a", 0.003), Pair("b", 0.001)], 0.95);
        var floors = SeedFloor.Of(report);
        floors.Select(f => f.Corpus).ShouldBe(["a", "b", SeedFloor.Pooled]);
        floors[0].Forecasts.ShouldBe(5);
        floors[0].Sigma.ShouldBe(0.003, 1e-12);
        floors[0].ExpectedMean.ShouldBe(0.003 * Math.Sqrt(2 / Math.PI), 1e-12);
        floors[0].ExpectedWorst.ShouldBe(SeedFloor.ExpectedWorstError([(0.003, 5)]), 1e-15);
        floors[2].Forecasts.ShouldBe(9);
        floors[2].Sigma.ShouldBe(Math.Sqrt((5 * 0.003 * 0.003 + 4 * 0.001 * 0.001) / 9), 1e-12);
        floors[2].ExpectedMean.ShouldBe((5 * 0.003 + 4 * 0.001) / 9.0 * Math.Sqrt(2 / Math.PI), 1e-12);
        floors[2].ExpectedWorst.ShouldBe(SeedFloor.ExpectedWorstError([(0.003, 5), (0.001, 4)]), 1e-15);
        SeedFloor.Of(report with { Noise = [] }).ShouldBeEmpty();
    }
    /// <summary>
    /// The two-run closed form of the pick's floor: with X_1 ~ N(mu_1, (mu_1 sigma)^2) the run picked (mu_1 &lt; mu_2) and
    /// X_2 ~ N(mu_2, (mu_2 sigma)^2), regret = max(0, X_1 / X_2 - 1), and given X_2 = y, E[max(0, X_1 - y)] / y is the
    /// Bachelier call price ((mu_1 - y) Phi(d) + s_1 phi(d)) / y, d = (mu_1 - y) / s_1: integrated over y by Simpson's rule
    /// on mu_2 +- 12 s_2.
    /// </summary>
    private static double TwoRunRegret(double mu1, double mu2, double sigma)
    {
        double s1 = mu1 * sigma, s2 = mu2 * sigma, a = mu2 - 12 * s2, b = mu2 + 12 * s2;
        const int n = 4000;
        double h = (b - a) / n, sum = 0;
        for (int i = 0; i <= n; i++)
        {
            double y = a + i * h, d = (mu1 - y) / s1;
            double f = ((mu1 - y) * Normal.CDF(0, 1, d) + s1 * Normal.PDF(0, 1, d)) / y * Normal.PDF(mu2, s2, y);
            sum += (i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2) * f;
        }
        return sum * h / 3;
    }

    [Fact]
    public void The_pick_floor_of_two_runs_is_the_integrated_Bachelier_call()
    {
        // 200,000 draws: the regret's per-draw standard deviation is 2.4e-3 to 4.1e-3 in these cases, its mean's standard
        // error 5.3e-6 to 9.3e-6 (held to 4e-5, over 4 standard errors). Equal means: sigma / sqrt(pi) to first order in sigma.
        foreach (var (mu2, sigma) in new[] { (1.002, 0.005), (1.0, 0.005), (1.02, 0.01) })
        {
            var (regret, spearman) = SeedFloor.ExpectedPick([1.0, mu2], sigma, 200_000, 3);
            regret.ShouldBe(TwoRunRegret(1.0, mu2, sigma), 4e-5);
            double.IsNaN(spearman).ShouldBeTrue(); // two runs have no Spearman
        }
        TwoRunRegret(1.0, 1.0, 0.005).ShouldBe(0.005 / Math.Sqrt(Math.PI), 1e-4);
        // No noise: the perfect forecaster picks the best and ranks every run right.
        SeedFloor.ExpectedPick([1.3, 1.1, 1.2], 0, 10, 1).ShouldBe((0.0, 1.0));
    }

    [Fact]
    public void The_pick_floor_of_two_close_runs_and_a_far_one_is_hand_computed()
    {
        // mu = (1, 1.01, 2), sigma 1 %: the third is never near the others (100 standard deviations), so the regret is the
        // two-run one, and the ranks are right (rho 1) or the first two swapped (rho = 1 - 6 x 2 / (3 x 8) = 0.5), the swap
        // with probability 1 - p, p = P(X_1 < X_2) = Phi(0.01 / sqrt(0.01^2 + 0.0101^2)): E rho = p + 0.5 (1 - p).
        // (the regret's standard error is 1.1e-5 at 200,000 draws: held to 5e-5)
        var (regret, spearman) = SeedFloor.ExpectedPick([1.0, 1.01, 2.0], 0.01, 200_000, 5);
        regret.ShouldBe(TwoRunRegret(1.0, 1.01, 0.01), 5e-5);
        double p = Normal.CDF(0, 1, 0.01 / Math.Sqrt(0.01 * 0.01 + 0.0101 * 0.0101));
        // rho's per-draw standard deviation is at most 0.25, its mean's standard error below 5.6e-4: held to 2.5e-3
        spearman.ShouldBe(p + 0.5 * (1 - p), 2.5e-3);
    }

    [Fact]
    public void Within_seed_noise_removes_the_seeds_shared_offset()
    {
        // Log ratios d = 0.01 and 0.03 (seed 2 lower on both): mean 0.02 removed, sample variance 2e-4, sigma = sqrt(1e-4).
        SeedNoise Pair(string corpus, double d) => new(corpus, "s", [Math.Exp(d), 1.0]);
        ForecastBenchmark.WithinSeedNoise([Pair("a", 0.01), Pair("a", 0.03), Pair("b", 0.5)], "a").ShouldBe(0.01, 1e-12);
        double.IsNaN(ForecastBenchmark.WithinSeedNoise([Pair("b", 0.5)], "b")).ShouldBeTrue(); // one pair: no variance
    }

    [Fact]
    public void The_pick_floor_of_gpt_erlang_agrees_with_the_python_simulation()
    {
        // Independent source: the session-22 script bench/regret_floor.py's simulation (Python's own generator, 200,000
        // draws per group, on `anneal accuracy --law auto --json` of gpt-erlang; the script, replaced by SeedFloor, is in
        // commit ddd5c57; docs/journal/session-22-floor.md): within-seed
        // noise 0.5212 %, groups of 9, 10 and 2 runs with regret 0.2561, 0.3388 and 0 % (standard errors 0.0009, 0.0010 %),
        // Spearman 0.8690 and 0.8198. Here 20,000 draws: the mean regret's standard error is about 0.0019 %, held to
        // 0.008 % (about 4 standard errors); Spearman's about 0.001, held to 0.005.
        var corpus = ForecastCorpus.Load(Path.Combine(TestPaths.RepoRoot, "data/corpora/gpt-erlang"));
        var report = new AccuracyReport(ForecastProtocol.AllSplits(corpus), [], ForecastBenchmark.Noise([corpus]), 0.95);
        var floor = SeedFloor.Of(report).First(f => f.Corpus == corpus.Name);
        floor.WithinSigma.ShouldBe(0.005211662562469277, 1e-12);
        floor.PickGroups.ShouldBe(3);
        floor.ExpectedRegret.ShouldBe(0.00198321, 8e-5);
        floor.ExpectedSpearman.ShouldBe((0.86901 + 0.81975) / 2, 5e-3);
    }
}
