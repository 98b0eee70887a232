using MathNet.Numerics;

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
        var list = groups.Select(g => new SeedFloor(g.Corpus, g.Count, g.Sigma, ExpectedMeanError([(g.Sigma, g.Count)]), ExpectedWorstError([(g.Sigma, g.Count)]))).ToList();
        // pooled like the report's pooled rows: in-sample corpora only (a held-out corpus has its own row)
        var all = groups.Where(g => !report.HeldOut.Contains(g.Corpus)).Select(g => (g.Sigma, g.Count)).ToArray();
        if (all.Length == 0) return list;
        int n = all.Sum(g => g.Count);
        list.Add(new SeedFloor(Pooled, n, Math.Sqrt(all.Sum(g => g.Count * g.Sigma * g.Sigma) / n), ExpectedMeanError(all), ExpectedWorstError(all)));
        return list;
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
