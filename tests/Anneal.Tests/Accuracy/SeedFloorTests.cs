using Anneal.Accuracy;
using Anneal.Laws;
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
}
