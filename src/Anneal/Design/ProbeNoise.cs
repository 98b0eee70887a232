using Anneal.Laws;
using static Anneal.ParameterName;

namespace Anneal.Design;

/// <summary>
/// The noise of logged losses in the simulation, on log loss at one logged point per
/// <see cref="ProbeSimulation.PointsPerHorizon"/>-th of the longest target horizon:
/// <c>eps = Sigma * (sqrt(CommonShare) * c(t) + sqrt(1 - CommonShare) * u_run(t))</c>, where c and u are
/// unit-variance AR(1) sequences over the logged points with lag-one correlation <paramref name="Correlation"/>;
/// c is shared by every run at the same step (runs of one seed see the same batches in the same order),
/// u is each run's own. A logged loss is the law's loss times <c>exp(eps)</c> (log-normal).
/// </summary>
/// <param name="Sigma">Standard deviation of eps (relative noise of one logged point).</param>
/// <param name="Correlation">Lag-one autocorrelation of consecutive logged points, in [0, 1).</param>
/// <param name="CommonShare">Fraction of the variance shared by runs at the same step, in [0, 1].</param>
public sealed record ProbeNoise(double Sigma, double Correlation, double CommonShare)
{
    /// <summary>Throws <see cref="InputException"/> naming the parameter (<c>noise</c>, <c>noise_correlation</c>, <c>noise_common</c>) when out of range.</summary>
    public ProbeNoise Validate()
    {
        if (!(Sigma >= 0 && Sigma < 0.5)) throw InputException.Naming($"{Parameter("noise")} must be a relative standard deviation in [0, 0.5), got {Sigma}");
        if (!(Correlation >= 0 && Correlation < 1)) throw InputException.Naming($"{Parameter("noise_correlation")} must be in [0, 1), got {Correlation}");
        if (!(CommonShare >= 0 && CommonShare <= 1)) throw InputException.Naming($"{Parameter("noise_common")} must be in [0, 1], got {CommonShare}");
        return this;
    }

    /// <summary>
    /// The noise of real runs as the simulation models it: <paramref name="law"/> is fitted on all of
    /// <paramref name="runs"/> (in sample), its log residuals are averaged in cells of H/<see cref="ProbeSimulation.PointsPerHorizon"/>
    /// steps (H the longest run) per run; Sigma is their root mean square, Correlation their lag-one
    /// autocorrelation within runs, CommonShare their correlation between runs in the same cell. What the law
    /// cannot describe counts as noise, as it does for a fit.
    /// </summary>
    public static ProbeNoise Measure(IReadOnlyList<LawRun> runs, LossLaw law)
    {
        // One joint fit (the seed ensemble off): the noise is the runs' scatter about one parameter vector, seeds included.
        var fit = Fitting.LawFitter.Fit(law, runs, new Fitting.FitOptions(Jackknife: false) { SeedEnsemble = false });
        long h = runs.Max(r => r.Steps[^1] + 1);
        long cell = Math.Max(1, (long)Math.Round((double)h / ProbeSimulation.PointsPerHorizon));
        var byRun = runs.Select(r =>
        {
            var pred = fit.Law.Predict(r, fit.Values);
            var cells = new SortedDictionary<long, (double Sum, int Count)>();
            for (int i = 0; i < r.Count; i++)
            {
                long g = (r.Steps[i] + 1) / cell;
                double e = Math.Log(r.Observed![i] / pred[i]);
                cells[g] = cells.TryGetValue(g, out var c) ? (c.Sum + e, c.Count + 1) : (e, 1);
            }
            return cells.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / kv.Value.Count);
        }).ToArray();
        var all = byRun.SelectMany(d => d.Values).ToArray();
        double var = all.Average(e => e * e);
        double lag = 0; int nLag = 0;
        foreach (var d in byRun)
            foreach (var (g, e) in d)
                if (d.TryGetValue(g + 1, out var next)) { lag += e * next; nLag++; }
        double cross = 0; int nCross = 0;
        for (int a = 0; a < byRun.Length; a++)
            for (int b = a + 1; b < byRun.Length; b++)
                foreach (var (g, e) in byRun[a])
                    if (byRun[b].TryGetValue(g, out var other)) { cross += e * other; nCross++; }
        double rho = nLag == 0 || var == 0 ? 0 : Math.Clamp(lag / nLag / var, 0, 0.99);
        double share = nCross == 0 || var == 0 ? 0 : Math.Clamp(cross / nCross / var, 0, 1);
        return new ProbeNoise(Math.Sqrt(var), rho, share);
    }
}
