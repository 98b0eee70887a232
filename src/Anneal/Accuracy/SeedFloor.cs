using MathNet.Numerics;
using MathNet.Numerics.Distributions;

namespace Anneal.Accuracy;

/// <summary>
/// The error a perfect forecaster would still show on a corpus (docs/journal/session-14-band.md, "The accuracy floor in
/// the benchmark's metrics"): one that
/// forecasts every held-out run's expected final loss exactly, scored, as the benchmark scores, against one seed's
/// observation. Its relative error is that seed's deviation, modelled as X ~ N(0, sigma^2), sigma the corpus's seed noise
/// (<see cref="ForecastBenchmark.NoiseFloor"/>: the root mean square of its seed pairs' relative standard deviations, an
/// unbiased estimate of sigma^2 per pair). Its expected mean |error| is <c>sigma sqrt(2 / pi)</c> (the half-normal's mean);
/// its expected worst |error| over the corpus's n forecasts is that of the largest of n half-normals,
/// <c>E max = integral_0^inf (1 - prod_c erf(x / (sigma_c sqrt 2))^(n_c)) dx</c> (the survival function's integral; over
/// several corpora, the product runs over them), integrated numerically (composite Simpson). The draws are taken as
/// independent: the held-out runs of one seed share its initialisation and data order, and the cooldown branches share
/// their constant run, which correlates their deviations and makes the expected worst smaller, so the worst given here is
/// the upper end of the floor's. Corpora without seed pairs (the MPL corpora, gpt100m-rope) have no floor.
/// <para>
/// The pick's floor (docs/journal/session-22-floor.md): the same forecaster, knowing each run's expected final mu_i, picks
/// the run of lowest mu in every horizon group (the groups <see cref="LawAccuracy.Regret"/> and
/// <see cref="LawAccuracy.Spearman"/> score), and is scored against one seed's finals <c>X_i = mu_i (1 + sigma z_i)</c>,
/// z_i independent standard normals: its expected regret is <c>E[X_best / min_i X_i] - 1</c>, its expected Spearman
/// <c>E[rho(mu, X)]</c>. sigma here is the within-seed noise (<see cref="ForecastBenchmark.WithinSeedNoise"/>: a seed's
/// shared offset moves no ranking), mu the held-out runs' observed finals (their own noise widens the spread of the
/// "expected" finals a little, which lowers the floor a little). Both by a seeded Monte Carlo
/// (<see cref="ExpectedPick"/>, <see cref="PickDraws"/> draws per group; no closed form beyond two runs). The draws are
/// independent while the branches of one constant run share their prefix, so these are the floor's upper end (regret)
/// and lower end (Spearman).
/// </para>
/// </summary>
/// <param name="Corpus">The corpus, or "pooled" over every corpus with seed pairs.</param>
/// <param name="Forecasts">How many held-out finals the floor is taken over.</param>
/// <param name="Sigma">The seed noise (relative standard deviation of one final); for the pooled row, the root mean square over its forecasts.</param>
/// <param name="ExpectedMean">The perfect forecaster's expected mean relative |error|.</param>
/// <param name="ExpectedWorst">Its expected worst relative |error| over the <paramref name="Forecasts"/> finals.</param>
public sealed record SeedFloor(string Corpus, int Forecasts, double Sigma, double ExpectedMean, double ExpectedWorst)
{
    /// <summary>The name of the row pooled over the corpora with seed pairs.</summary>
    public const string Pooled = "pooled";

    /// <summary>
    /// Monte Carlo draws per horizon group for <see cref="ExpectedRegret"/> and <see cref="ExpectedSpearman"/>: the regret's
    /// standard error is then below 1 % of its value on every corpus (about 0.001 % of loss at the noisiest corpus's 1 %).
    /// </summary>
    public const int PickDraws = 20_000;

    /// <summary>The within-seed noise the pick's floor is drawn with (<see cref="ForecastBenchmark.WithinSeedNoise"/>; NaN with fewer than two seed pairs; for the pooled row, the root mean square over its groups).</summary>
    public double WithinSigma { get; init; } = double.NaN;

    /// <summary>Horizon groups of at least two held-out runs the pick's floor is taken over (those of at least three for <see cref="ExpectedSpearman"/>).</summary>
    public int PickGroups { get; init; }

    /// <summary>The perfect forecaster's expected pick regret, averaged over the groups as <see cref="LawAccuracy.Regret"/> is (NaN without groups or within-seed noise).</summary>
    public double ExpectedRegret { get; init; } = double.NaN;

    /// <summary>Its expected Spearman correlation, averaged over the groups of at least three as <see cref="LawAccuracy.Spearman"/> is (NaN without such groups).</summary>
    public double ExpectedSpearman { get; init; } = double.NaN;

    /// <summary>
    /// Per corpus with seed pairs (its forecasts being the held-out finals of every question of <paramref name="report"/>'s
    /// splits but the restatements, which predict the same finals again) and pooled over those not held out (<see cref="AccuracyReport.HeldOut"/>); empty when no corpus has seed pairs.
    /// </summary>
    public static IReadOnlyList<SeedFloor> Of(AccuracyReport report)
    {
        // a restatement (cooldown-ends) predicts finals another question already counts
        var groups = report.Splits.Where(s => s.Restates is null).GroupBy(s => s.Corpus)
            .Select(g => (Corpus: g.Key, Sigma: ForecastBenchmark.NoiseFloor(report.Noise, g.Key), Count: g.Sum(s => s.Tests.Count)))
            .Where(g => double.IsFinite(g.Sigma) && g.Count > 0).ToArray();
        if (groups.Length == 0) return [];
        // per corpus, each horizon group's expected (regret, Spearman) with the corpus's within-seed noise
        var picks = groups.ToDictionary(g => g.Corpus, g => PickFloors(report, g.Corpus));
        var list = groups.Select(g => WithPick(new SeedFloor(g.Corpus, g.Count, g.Sigma, ExpectedMeanError([(g.Sigma, g.Count)]), ExpectedWorstError([(g.Sigma, g.Count)])), picks[g.Corpus])).ToList();
        // pooled like the report's pooled rows: in-sample corpora only (a held-out corpus has its own row)
        var inSample = groups.Where(g => !report.HeldOut.Contains(g.Corpus)).ToArray();
        var all = inSample.Select(g => (g.Sigma, g.Count)).ToArray();
        if (all.Length == 0) return list;
        int n = all.Sum(g => g.Count);
        list.Add(WithPick(new SeedFloor(Pooled, n, Math.Sqrt(all.Sum(g => g.Count * g.Sigma * g.Sigma) / n), ExpectedMeanError(all), ExpectedWorstError(all)),
            inSample.SelectMany(g => picks[g.Corpus]).ToArray()));
        return list;
    }

    /// <summary>One horizon group's pick floor: its size, the within-seed noise it was drawn with, and the expectations.</summary>
    private readonly record struct GroupPick(int Runs, double Sigma, double Regret, double Spearman);

    /// <summary>The pick's floor of every horizon group of <paramref name="corpus"/>'s questions (restatements left out); empty without within-seed noise.</summary>
    private static GroupPick[] PickFloors(AccuracyReport report, string corpus)
    {
        double sigma = ForecastBenchmark.WithinSeedNoise(report.Noise, corpus);
        if (!double.IsFinite(sigma)) return [];
        // the groups LawAccuracy.HorizonGroups forms from a row's forecasts, here from the split's held-out finals
        var mus = report.Splits.Where(s => s.Corpus == corpus && s.Restates is null)
            .SelectMany(s => s.Tests.GroupBy(t => t.Horizon).Select(g => g.Select(t => t.ObservedFinal).ToArray()).Where(g => g.Length >= 2)).ToArray();
        // one seed per group (its index in the corpus): a corpus's floor does not depend on which other corpora are run
        return mus.Select((mu, i) => { var (r, rho) = ExpectedPick(mu, sigma, PickDraws, 1 + i); return new GroupPick(mu.Length, sigma, r, rho); }).ToArray();
    }

    private static SeedFloor WithPick(SeedFloor floor, GroupPick[] picks)
    {
        if (picks.Length == 0) return floor;
        var ranked = picks.Where(p => p.Runs >= 3).ToArray();
        return floor with
        {
            WithinSigma = Math.Sqrt(picks.Average(p => p.Sigma * p.Sigma)), PickGroups = picks.Length, ExpectedRegret = picks.Average(p => p.Regret),
            ExpectedSpearman = ranked.Length == 0 ? double.NaN : ranked.Average(p => p.Spearman),
        };
    }

    /// <summary>
    /// A perfect forecaster's expected pick regret and Spearman correlation on one horizon group, by a Monte Carlo of
    /// <paramref name="draws"/> draws seeded with <paramref name="seed"/>: each draw takes every run's final as
    /// <c>X_i = mu_i (1 + sigma z_i)</c>, z_i independent standard normals (MathNet's sampler on <see cref="Random"/>(seed)),
    /// and scores the pick of the lowest mu, <c>X_best / min_i X_i - 1</c> (<see cref="LawAccuracy.PickRegret"/>), and
    /// <c>rho(mu, X)</c> (<see cref="RankStatistics.Spearman"/>; NaN for fewer than three runs). Two runs have a closed form
    /// to check it against (SeedFloorTests): <c>E[max(0, X_1 / X_2 - 1)]</c>, the Bachelier call price on X_1 integrated
    /// over X_2.
    /// </summary>
    public static (double Regret, double Spearman) ExpectedPick(double[] mu, double sigma, int draws, int seed)
    {
        var rng = new Random(seed);
        var group = new TargetForecast[mu.Length];
        var x = new double[mu.Length];
        double regret = 0, rho = 0;
        for (int d = 0; d < draws; d++)
        {
            for (int i = 0; i < mu.Length; i++)
            {
                x[i] = mu[i] * (1 + sigma * Normal.Sample(rng, 0, 1));
                // predicted: the expected final (the perfect forecast); observed: this draw
                group[i] = new TargetForecast("", 0, x[i], mu[i], double.NaN, double.NaN);
            }
            regret += LawAccuracy.PickRegret(group);
            if (mu.Length >= 3) rho += RankStatistics.Spearman(mu, x);
        }
        return (regret / draws, mu.Length >= 3 ? rho / draws : double.NaN);
    }

    /// <summary>
    /// The expected mean |X| over forecasts drawn from N(0, sigma_c^2), n_c of them per group:
    /// <c>sum_c n_c sigma_c sqrt(2 / pi) / sum_c n_c</c>.
    /// </summary>
    public static double ExpectedMeanError(IReadOnlyList<(double Sigma, int Count)> groups) =>
        groups.Sum(g => g.Count * g.Sigma) * Math.Sqrt(2 / Math.PI) / groups.Sum(g => g.Count);

    /// <summary>
    /// The expected largest |X| over independent forecasts drawn from N(0, sigma_c^2), n_c of them per group:
    /// <c>integral_0^inf (1 - prod_c erf(x / (sigma_c sqrt 2))^(n_c)) dx</c>, by the composite Simpson rule on 4,000
    /// intervals up to <c>sigma_max (sqrt(2 ln(2 N)) + 8)</c>, N the number of forecasts (beyond it the integrand is below
    /// 1e-14).
    /// </summary>
    public static double ExpectedWorstError(IReadOnlyList<(double Sigma, int Count)> groups)
    {
        int total = groups.Sum(g => g.Count);
        double max = groups.Where(g => g.Count > 0).Max(g => g.Sigma);
        if (!(max > 0)) return 0;
        double end = max * (Math.Sqrt(2 * Math.Log(2.0 * total)) + 8);
        const int intervals = 4000;
        double h = end / intervals, sum = 0;
        for (int i = 0; i <= intervals; i++)
        {
            double x = i * h, cdf = 1;
            foreach (var (sigma, count) in groups)
                if (count > 0 && sigma > 0) cdf *= Math.Pow(SpecialFunctions.Erf(x / (sigma * Math.Sqrt(2))), count);
            double w = i == 0 || i == intervals ? 1 : i % 2 == 1 ? 4 : 2;
            sum += w * (1 - cdf);
        }
        return sum * h / 3;
    }
}
