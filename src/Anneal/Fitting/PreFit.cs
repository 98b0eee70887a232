using Anneal.Laws;

namespace Anneal.Fitting;

/// <summary>
/// The starting point every law's starts derive from (<see cref="StartHint"/>): the multi-power-law reference
/// initialisation, a small fit of the momentum law at lambda = 0 from a grid.
/// </summary>
internal static class PreFit
{
    /// <summary>
    /// The reference initialisation: fit L0 + A*S1^-alpha - B*(eta_peak - eta_t) (momentum law at
    /// lambda = 0) from the 5 x 3 x 3 x 3 grid and keep the best.
    /// </summary>
    public static StartHint Fit(IReadOnlyList<LawRun> runs, FitOptions options)
    {
        double minLoss = runs.Min(r => r.Observed!.Min());
        double peak = runs.Max(r => r.Eta.Max());
        // log(L - min + 0.01) against log S1, pooled.
        var xs = new List<double>(); var ys = new List<double>();
        foreach (var r in runs)
        {
            var pre = EtaMath.Prefix(r.Eta);
            for (int i = 0; i < r.Count; i++)
            {
                double s1 = pre[r.Steps[i] + 1];
                if (s1 > 0) { xs.Add(Math.Log(s1)); ys.Add(Math.Log(r.Observed![i] - minLoss + 0.01)); }
            }
        }
        double slope = -0.5, intercept = 0;
        if (xs.Count >= 2)
        {
            double mx = xs.Average(), my = ys.Average(), sxy = 0, sxx = 0;
            for (int i = 0; i < xs.Count; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) * (xs[i] - mx); }
            if (sxx > 0) { slope = sxy / sxx; intercept = my - slope * mx; }
        }
        var law = new MomentumLaw(0.0);
        var states = runs.Select(law.Prepare).ToArray();
        var fixedIdx = new HashSet<int>();
        if (law.NonIdentifiable(states).Count > 0) fixedIdx.Add(3);
        var grid = new List<double[]>(135);
        double a0 = Math.Exp(intercept), al0 = -slope;
        foreach (var l0 in new[] { -0.2, -0.1, 0, 0.1, 0.2 })
            foreach (var da in new[] { -0.1, 0, 0.1 })
                foreach (var dal in new[] { -0.1, 0, 0.1 })
                    foreach (var b in new[] { 100.0, 550, 1000 })
                        grid.Add([Math.Max(0.01, minLoss + l0), Math.Max(1e-3, a0 + da), Math.Clamp(al0 + dal, 0.01, 4.9), fixedIdx.Count > 0 ? 0 : b]);
        // 135 independent small fits, in interleaved parts side by side, one HuberObjective (scratch) per part; the
        // best is then chosen in grid order, as the sequential loop did (a fit from a grid point does not depend on what
        // its objective computed before). Eight parts, not one per core: a stack pre-fits its runs and their past side by
        // side (StackFitter), and a core done with one takes the other's remaining parts.
        var sols = new FitSolution[grid.Count];
        int parts = EvaluationParallelism.Allowed ? 8 : 1;
        LawFitter.ForEachIndependent(parts, h =>
        {
            var objective = new HuberObjective(law, states, options with { MaxIterations = 100 });
            for (int g = h; g < grid.Count; g += parts) sols[g] = objective.Minimize(grid[g], fixedIdx, 100);
        });
        FitSolution? best = null;
        foreach (var sol in sols)
            if (best is null || sol.Objective < best.Objective) best = sol;
        var x = best!.X;
        return new StartHint(x[0], x[1], x[2], Math.Max(x[3], 1e-3), minLoss, peak, options.Seed);
    }
}

/// <summary>
/// The pre-fit of a set of runs, computed once for every law fitted on them (a stack's members share it:
/// it depends only on the runs and the options, and costs more than a small law's own fit).
/// </summary>
internal sealed class SharedPreFit
{
    private StartHint? _hint;
    private readonly Lock _gate = new();

    public StartHint Get(IReadOnlyList<LawRun> runs, FitOptions options)
    {
        lock (_gate) return _hint ??= PreFit.Fit(runs, options);
    }

    /// <summary>
    /// Computes the pre-fit ahead of the fits that share it, from the runs as they see them (<see cref="LawFitter.Fitted"/>):
    /// the same hint as the first of them would compute. Runs a fit would refuse are left to the fits, which report it.
    /// </summary>
    public void Warm(IReadOnlyList<LawRun> runs, FitOptions options)
    {
        try { Get(LawFitter.Fitted(runs, options, []).Runs, options); }
        catch (InputException) { }
    }
}
