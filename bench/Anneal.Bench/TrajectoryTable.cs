using System.Globalization;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// Whether the schedules question's two fitted runs are one trajectory before their learning rates part, on every corpus:
/// the first seed's fit (the protocol's: the constant run to H and the cosine at H) and, where the corpus has a second seed,
/// that seed's own fit (its constant run to H and its cosine at H, forecasting the second seed's other runs, so that a
/// seed-level offset between the seeds does not count as an error). For each fit: auto's forecast errors against the same
/// seed's finals, ln(forecast / observed), and the statistic: at the two fitted runs' common logged steps where the cosine's
/// rate is within a tolerance of the constant run's (5 % and 10 %), the log-loss gap beyond the fitted law's own,
/// <c>d = ln(L_const / L_cos) - ln(P_const / P_cos)</c> (L observed, P the fitted law), its largest |d| and where, and
/// d over the pair's point scatter (each run's log loss from its second differences over all common steps, white noise of
/// variance sigma^2 giving 6 sigma^2, combined in quadrature). Rows (one per common step) go to a CSV for inspection.
/// Run: <c>dotnet run -c Release --project bench/Anneal.Bench -- trajectory-check [repo] [rows.csv]</c>
/// (docs/journal/session-20-trajectory.md).
/// </summary>
internal static class TrajectoryTable
{
    /// <summary>The tolerances on the rate ratio eta_cos / eta_const that bound the stretch read.</summary>
    private static readonly double[] Tolerances = [0.05, 0.10];

    public static void Run(string repo, string? rowsPath)
    {
        var law = LossLaw.Parse("auto");
        var rows = new List<string> { "corpus,seed,step,eta_const,eta_cos,obs_const,obs_cos,fit_const,fit_cos" };
        Console.WriteLine("| corpus | seed | forecasts | mean |err| | mean signed | worst | "
            + string.Join(" | ", Tolerances.Select(t => $"rates within {t:P0}: points | step of max abs d | d | d / scatter")) + " | pair scatter |");
        Console.WriteLine("|---|---|---|---|---|---|" + string.Concat(Enumerable.Repeat("---|---|---|---|", Tolerances.Length)) + "---|");
        foreach (var corpus in BandCalibration.Corpora(repo))
            foreach (int seed in corpus.Runs.Select(r => r.Seed).Distinct().Order())
            {
                // The seed's own schedules question: the protocol on its runs alone.
                var one = corpus with { Runs = corpus.Runs.Where(r => r.Seed == seed).ToArray() };
                var split = ForecastProtocol.Splits(one).FirstOrDefault(s => s.Question == "schedules");
                if (split is null) continue;
                var fit = LawFitter.Fit(law, split.Fit, split.StepsPerEpoch is { } spe ? new FitOptions { Epoch = (spe, $"steps_per_epoch of {corpus.Name}") } : null);
                var errs = split.Tests.Select(t => Math.Log(fit.Predict(t.Run).Loss.Average() / t.ObservedFinal)).ToArray();
                var (a, b) = (split.Fit[0], split.Fit[1]);
                var pa = fit.Predict(a).Loss; var pb = fit.Predict(b).Loss;
                var ib = b.Steps.Select((st, i) => (st, i)).ToDictionary(x => x.st, x => x.i);
                var common = new List<(long Step, double EtaA, double EtaB, double LogA, double LogB, double D)>();
                for (int i = 0; i < a.Steps.Length; i++)
                    if (ib.TryGetValue(a.Steps[i], out int j))
                    {
                        long st = a.Steps[i];
                        double la = a.Observed![i], lb = b.Observed![j];
                        common.Add((st, a.Eta[st], b.Eta[st], Math.Log(la), Math.Log(lb), Math.Log(la / lb) - Math.Log(pa[i] / pb[j])));
                        rows.Add(string.Create(CultureInfo.InvariantCulture, $"{corpus.Name},{seed},{st},{a.Eta[st]},{b.Eta[st]},{la},{lb},{pa[i]},{pb[j]}"));
                    }
                double scatter = Math.Sqrt(Scatter(common.Select(c => c.LogA).ToArray()) + Scatter(common.Select(c => c.LogB).ToArray()));
                var cells = Tolerances.Select(tol =>
                {
                    var stretch = common.Where(c => c.EtaB >= (1 - tol) * c.EtaA).ToArray();
                    if (stretch.Length == 0) return "0 | - | - | -";
                    var m = stretch.MaxBy(c => Math.Abs(c.D));
                    return string.Create(CultureInfo.InvariantCulture, $"{stretch.Length} | {m.Step} | {m.D * 100:+0.0;-0.0} % | {m.D / scatter:+0.0;-0.0}");
                });
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {corpus.Name} | {seed} | {errs.Length} | {errs.Average(Math.Abs) * 100:0.0} % | {errs.Average() * 100:+0.0;-0.0} % | {errs.MaxBy(Math.Abs) * 100:+0.0;-0.0} % | {string.Join(" | ", cells)} | {(common.Count > 2 ? $"{scatter * 100:0.00} %" : "-")} |"));
            }
        File.WriteAllLines(rowsPath ?? "trajectory-rows.csv", rows);
    }

    /// <summary>The variance of white noise on <paramref name="y"/> from its second differences (6 sigma^2 each; RegimeCheck.Of estimates its sigma so, inline); NaN under three points.</summary>
    private static double Scatter(double[] y)
    {
        double s = 0;
        for (int i = 1; i + 1 < y.Length; i++) { double d = y[i + 1] - 2 * y[i] + y[i - 1]; s += d * d; }
        return y.Length < 3 ? double.NaN : s / (6.0 * (y.Length - 2));
    }
}
