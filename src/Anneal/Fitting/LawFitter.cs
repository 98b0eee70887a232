using System.Diagnostics;
using Anneal.Laws;
using MathNet.Numerics.LinearAlgebra;

namespace Anneal.Fitting;

/// <summary>How <see cref="LawFitter.Fit"/> minimises the objective.</summary>
public enum FitMethod
{
    /// <summary>
    /// Levenberg-Marquardt from every start, the best polished to convergence: the exact minimiser
    /// of the Huber objective on the fitted runs.
    /// </summary>
    Optimum,
    /// <summary>
    /// The multi-power-law reference procedure (Luo et al. 2025, MIT code): from the reference
    /// initialisation only, at most 200 AdamW steps on the raw parameters (learning rate 5e-2 for
    /// parameters with a one-sided bound such as L0, A, B, C and 5e-3 for interval-bounded exponents
    /// such as alpha, beta, gamma; betas 0.9/0.999, eps 1e-8, weight decay 0.01), stopped after 20
    /// steps without improvement, keeping the best point seen. It is deliberately not run to
    /// convergence: the early stop keeps the parameters near the initialisation, a regulariser.
    /// </summary>
    Reference,
}

/// <summary>Options of <see cref="LawFitter.Fit"/>.</summary>
/// <param name="HuberDelta">Huber threshold on log-loss residuals (1e-3 as in the multi-power-law reference fit).</param>
/// <param name="EqualRunWeights">Weight every run equally whatever its number of logged points (default: every point equally).</param>
/// <param name="Seed">Seed of the random starts; the fit is deterministic for a given seed.</param>
/// <param name="RandomStarts">Seeded random starts per law on top of the deterministic ones (the law decides how many it offers).</param>
/// <param name="MaxIterations">Levenberg-Marquardt iterations per start.</param>
/// <param name="Jackknife">Refit without each run in turn (when there are two or more) for the between-run part of the band.</param>
/// <param name="ScreenIterations">Iterations each start gets before only the best one is continued.</param>
/// <param name="Method">Levenberg-Marquardt to the optimum, or the early-stopped reference procedure; null: the law's <see cref="LossLaw.PreferredMethod"/>.</param>
public sealed record FitOptions(double HuberDelta = 1e-3, bool EqualRunWeights = false, int Seed = 0, int RandomStarts = 2, int MaxIterations = 300, int ScreenIterations = 40, bool Jackknife = true, FitMethod? Method = null)
{
    /// <summary>
    /// Progress messages (long fits report each start and refit as it finishes); null for silence.
    /// Starts and refits run in parallel, so it may be called from several threads: it must be
    /// thread-safe (<c>Console.Error.WriteLine</c> is).
    /// </summary>
    public Action<string>? Progress { get; init; }
}

/// <summary>
/// Fits any <see cref="LossLaw"/> to logged runs. Objective: <c>sum_i w_i Huber_delta(log L_obs,i - log L_pred,i)</c>
/// in float64 (the multi-power-law reference objective). Parameters are optimised in an unconstrained
/// space (log for positive, logit for interval bounds) with a Levenberg-Marquardt / IRLS method that
/// uses the laws' analytic Jacobians; deterministic multi-start from the reference initialisation grid
/// (pre-fit of <c>L0 + A*S1^-alpha - B*(eta_peak - eta_t)</c> on L0 = min +-0.2, A, alpha = regression +-0.1,
/// B in {100, 550, 1000}) plus each law's own and seeded random starts. Standard errors come from the
/// Gauss-Newton matrix at the optimum, inflated for autocorrelated residuals (see <see cref="FitReport.Inflation"/>).
/// </summary>
public static class LawFitter
{
    /// <summary>Fits <paramref name="law"/> to <paramref name="runs"/> (each with observed losses).</summary>
    public static FittedLaw Fit(LossLaw law, IReadOnlyList<LawRun> runs, FitOptions? options = null) => FitShared(law, runs, options, null);

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
            lock (_gate) return _hint ??= PreFit(runs, options);
        }
    }

    internal static FittedLaw FitShared(LossLaw law, IReadOnlyList<LawRun> runs, FitOptions? options, SharedPreFit? shared)
    {
        if (law is AutoLaw stack) return StackFitter.Fit(stack, runs, options);
        options ??= new FitOptions();
        var sw = Stopwatch.StartNew();
        if (runs.Count == 0) throw new InputException("fit: give at least one curve");
        foreach (var r in runs)
        {
            r.Validate();
            if (r.Observed is null) throw new InputException($"{r.Name}: no observed losses to fit");
        }
        double peak = runs.Max(r => r.Eta.Max());
        if (!(peak > 0)) throw new InputException($"fit: every fitted run has learning rate 0 at every step; the laws describe training at a positive rate (check the lr column or the schedule)");
        // Fit in the canonical LR unit (LrUnits): every start, grid and step size below then means the
        // same thing whatever unit the runs' rates are in; the parameters are converted back at the end.
        double unit = peak / LrUnits.CanonicalPeak;
        if (unit != 1) runs = runs.Select(r => r with { Eta = Array.ConvertAll(r.Eta, e => e / unit) }).ToArray();
        var states = runs.Select(law.Prepare).ToArray();
        var problem = new Problem(law, states, options);
        var warnings = new List<string>();
        // The same run given twice counts twice: its weight doubles and the standard errors shrink by sqrt(2).
        for (int a = 0; a < runs.Count; a++)
            for (int b = a + 1; b < runs.Count; b++)
                if (runs[a].Steps.AsSpan().SequenceEqual(runs[b].Steps) && runs[a].Observed.AsSpan().SequenceEqual(runs[b].Observed) && runs[a].Eta.AsSpan().SequenceEqual(runs[b].Eta))
                    warnings.Add($"{runs[a].Name} and {runs[b].Name} are the same run (same rates and losses at every point): it counts twice and the standard errors are too small by sqrt(2); give each run once");
        foreach (var r in runs.Where(r => r.EtaInterpolated))
            warnings.Add($"{r.Name}: per-step learning rate interpolated from the logged lr column (attach the exact schedule as FILE@SPEC for an exact fit)");
        var fixedPs = law.NonIdentifiable(states);
        foreach (var f in fixedPs.GroupBy(f => f.Reason))
            warnings.Add($"{string.Join(", ", f.Select(x => law.Parameters[x.Index].Name))} held fixed: {f.Key}");
        int free = law.Parameters.Count - fixedPs.Count;
        int nPoints = runs.Sum(r => r.Count);
        if (nPoints <= free)
            throw new InputException($"fit: {nPoints} logged points cannot determine {free} parameters of {law.Spec}; log more points or use a simpler law (e.g. powerlaw)");

        var hint = shared is null ? PreFit(runs, options) : shared.Get(runs, options);
        var starts = law.Starts(hint, states).ToList();
        var rng = new Random(options.Seed);
        var first = starts.Count > 0 ? starts[0] : throw new InvalidOperationException($"{law.Name} offered no starting point");
        for (int i = 0; i < options.RandomStarts; i++)
            starts.Add(first.Select((v, j) => Jitter(law.Parameters[j], v, rng)).ToArray());

        // Screen every start with a short budget, then polish the best one to convergence: most of
        // the cost of a multi-start fit is spent on starts that end in a worse basin.
        Solution? best = null;
        int totalIter = 0, totalEval = 0, converged = 0;
        var fixedSet = fixedPs.Select(f => f.Index).ToHashSet();
        var method = options.Method ?? law.PreferredMethod;
        bool reference = method == FitMethod.Reference;
        if (reference)
        {
            // One start, the reference initialisation, as the reference procedure has.
            starts.RemoveRange(1, starts.Count - 1);
            var x0 = (double[])starts[0].Clone();
            foreach (var f in fixedPs) x0[f.Index] = f.Value;
            best = problem.AdamW(x0, fixedSet);
            totalIter = best.Iterations; totalEval = best.Evaluations; converged = 1;
            options.Progress?.Invoke($"{law.Spec}: reference procedure: objective {best.Objective:G6} after {best.Iterations} AdamW steps");
        }
        // The starts are independent: screened side by side on the cores, each with its own Problem
        // (its scratch and cache are per instance), then taken in start order so the choice of the
        // best, ties included, is the sequential one.
        var screened = new Solution[reference ? 0 : starts.Count];
        ForEachIndependent(screened.Length, s =>
        {
            var x0 = (double[])starts[s].Clone();
            foreach (var f in fixedPs) x0[f.Index] = f.Value;
            var sol = (s == 0 ? problem : new Problem(law, states, options)).Minimize(x0, fixedSet, options.ScreenIterations);
            screened[s] = sol;
            // Reported as each start finishes (so in completion order); the choice below is in start order.
            options.Progress?.Invoke($"{law.Spec}: start {s + 1}/{starts.Count}: objective {sol.Objective:G6} after {sol.Iterations} iterations{(sol.Converged ? " (converged)" : "")}");
        });
        for (int s = 0; s < screened.Length; s++)
        {
            var sol = screened[s];
            totalIter += sol.Iterations; totalEval += sol.Evaluations;
            if (sol.Converged) converged++;
            if (best is null || sol.Objective < best.Objective) best = sol;
        }
        if (!reference && best is not null && !best.Converged && double.IsFinite(best.Objective))
        {
            var polished = problem.Minimize(best.X, fixedSet, options.MaxIterations);
            totalIter += polished.Iterations; totalEval += polished.Evaluations;
            if (polished.Converged) converged++;
            options.Progress?.Invoke($"{law.Spec}: polished best start: objective {polished.Objective:G6} after {polished.Iterations} more iterations");
            if (polished.Objective <= best.Objective) best = polished with { Iterations = best.Iterations + polished.Iterations };
        }
        if (best is null || !double.IsFinite(best.Objective))
            throw new InputException($"fit of {law.Spec} failed: the law gives a non-positive or non-finite loss from every starting point; check that the curves' losses and learning rates are right (loss > 0, lr in the same units for all runs)");
        if (!best.Converged && !reference) warnings.Add($"the best start did not converge within {options.MaxIterations} iterations; the parameters may be imprecise");
        var rawX = law.RescaleLr(best.X, unit);
        // A parameter the optimiser ran to the edge of its search range is not determined by the data
        // (the fit prefers the law's limit there): its Gauss-Newton column is ~0, so it is left out of
        // the covariance like a fixed one instead of producing a meaningless, astronomically large variance.
        var atLimit = Enumerable.Range(0, law.Parameters.Count).Where(j => !fixedPs.Any(f => f.Index == j) && problem.AtSearchLimit(j, best.X[j])).ToArray();
        foreach (var j in atLimit)
            warnings.Add($"{law.Parameters[j].Name} = {rawX[j]:G3} ran to the edge of the range the fitter searches: the data do not bound it (the law's limit fits best), so it has no standard error and the fit is suspect (try a simpler law such as momentum, or fit more runs)");
        var (cov, inflation, s2) = problem.Covariance(best.X, fixedPs.Select(f => f.Index).Concat(atLimit).ToHashSet(), out var covWarn);
        if (covWarn is not null) warnings.Add(covWarn);
        for (int j = 0; j < law.Parameters.Count; j++)
        {
            if (fixedPs.Any(f => f.Index == j) || atLimit.Contains(j)) continue;
            var p = law.Parameters[j];
            double v = best.X[j];
            bool nearLo = double.IsFinite(p.Lower) && v - p.Lower <= 1e-6 * Math.Max(1, Math.Abs(p.Lower));
            bool nearHi = double.IsFinite(p.Upper) && p.Upper - v <= 1e-6 * Math.Max(1, Math.Abs(p.Upper));
            if (nearLo || nearHi) warnings.Add($"{p.Name} = {rawX[j]:G6} sits on its bound {(nearLo ? p.Lower : p.Upper):G6}: the data push it out of the law's valid range, so the fit is suspect (try a simpler law such as momentum, or fit more runs)");
        }
        // Leave-one-run-out refits for the between-run part of the band and the cross-validated law error.
        var replicates = new List<double[]>();
        double cvSum = 0; int cvRuns = 0;
        if (runs.Count >= 2 && options.Jackknife)
        {
            // Independent refits, run side by side; each builds its own Problem over its own subset.
            var refits = new Solution[runs.Count];
            var bestX = best.X;
            var start0 = starts[0];
            // A subset that cannot identify what the full fit identified (e.g. leaving out the only
            // run with an LR decay) is skipped: its refit predicts without that term altogether, which
            // is not a plausible variant of this fit but a different, cruder law.
            var skip = new string?[runs.Count];   // why a refit was skipped: the parameters its subset cannot determine
            ForEachIndependent(runs.Count, i =>
            {
                var sub = states.Where((_, j) => j != i).ToArray();
                var subFixed = law.NonIdentifiable(sub);
                if (subFixed.Count > fixedPs.Count)
                {
                    skip[i] = string.Join(", ", subFixed.Where(f => !fixedPs.Any(g => g.Index == f.Index)).Select(f => law.Parameters[f.Index].Name));
                    return;
                }
                // The reference procedure restarts from the initialisation (an early-stopped fit
                // depends on where it starts); the optimum is warm-started at the full fit.
                var x0 = (double[])(reference ? start0 : bestX).Clone();
                foreach (var f in subFixed) x0[f.Index] = f.Value;
                var subProblem = new Problem(law, sub, options);
                var subFixedSet = subFixed.Select(f => f.Index).ToHashSet();
                refits[i] = reference ? subProblem.AdamW(x0, subFixedSet) : subProblem.Minimize(x0, subFixedSet, options.ScreenIterations);
                options.Progress?.Invoke($"{law.Spec}: refit without {runs[i].Name}: objective {refits[i].Objective:G6} after {refits[i].Iterations} {(reference ? "AdamW steps" : "iterations")}");
            });
            for (int i = 0; i < runs.Count; i++)
            {
                if (skip[i] is { } cannot)
                {
                    warnings.Add($"band: no leave-one-out refit without {runs[i].Name}: the other runs cannot determine {cannot}");
                    continue;
                }
                var sol = refits[i];
                totalEval += sol.Evaluations;
                if (double.IsFinite(sol.Objective) && sol.X.All(double.IsFinite))
                {
                    replicates.Add(sol.X);
                    // Out-of-sample error on the left-out run, over the second half of its points.
                    var left = runs[i];
                    var pred = new double[left.Count];
                    states[i].Evaluate(sol.X, pred, default);
                    long mid = left.Steps[0] + (left.Steps[^1] - left.Steps[0]) / 2;
                    double ss = 0; int cnt = 0;
                    for (int q = 0; q < left.Count; q++)
                    {
                        if (left.Steps[q] < mid) continue;
                        double e = pred[q] > 0 && double.IsFinite(pred[q]) ? Math.Log(left.Observed![q] / pred[q]) : 1.0;   // a non-positive prediction counts as a 100% error
                        ss += e * e; cnt++;
                    }
                    if (cnt > 0) { cvSum += ss / cnt; cvRuns++; }
                }
            }
        }
        // Back to the runs' own LR unit: values, refits and covariance (J Cov J' with J the Jacobian of the conversion).
        if (unit != 1)
        {
            replicates = replicates.Select(x => law.RescaleLr(x, unit)).ToList();
            if (cov is not null)
            {
                cov = Sandwich(law.RescaleLrJacobian(best.X, unit), cov);
                // A parameter without variance (fixed, or at the edge of the search range) keeps none:
                // the conversion couples C to gamma, which would give it covariances without a variance.
                foreach (var j in fixedPs.Select(f => f.Index).Concat(atLimit))
                    for (int k = 0; k < cov.Length; k++) cov[j][k] = cov[k][j] = 0;
            }
        }
        var se = new double[law.Parameters.Count];
        for (int j = 0; j < se.Length; j++)
            se[j] = cov is null ? (fixedPs.Any(f => f.Index == j) ? 0 : double.NaN) : atLimit.Contains(j) ? double.NaN : Math.Sqrt(Math.Max(0, cov[j][j]));
        var report = new FitReport
        {
            Objective = best.Objective,
            Iterations = best.Iterations,
            TotalIterations = totalIter,
            Evaluations = totalEval,
            Starts = starts.Count,
            ConvergedStarts = converged,
            Converged = best.Converged,
            WallSeconds = sw.Elapsed.TotalSeconds,
            Points = nPoints,
            Runs = runs.Select(r => r.Name).ToArray(),
            RmsLogResidual = Math.Sqrt(s2),
            Inflation = inflation,
            HuberDelta = options.HuberDelta,
            EqualRunWeights = options.EqualRunWeights,
            Method = method,
            Seed = options.Seed,
            Fixed = fixedPs.Select(f => law.Parameters[f.Index].Name).ToArray(),
            Warnings = warnings.ToArray(),
        };
        double cvError = cvRuns > 0 ? Math.Sqrt(cvSum / cvRuns) : 0;
        return new FittedLaw(law, rawX, se, cov, report) { Replicates = replicates.ToArray(), CrossValidationLogError = cvError };
    }

    /// <summary>J C J', made exactly symmetric (a law file's covariance must be).</summary>
    private static double[][] Sandwich(double[][] j, double[][] c)
    {
        int p = c.Length;
        var jc = new double[p][];
        for (int a = 0; a < p; a++)
        {
            jc[a] = new double[p];
            for (int b = 0; b < p; b++) for (int k = 0; k < p; k++) jc[a][b] += j[a][k] * c[k][b];
        }
        var r = new double[p][];
        for (int a = 0; a < p; a++) r[a] = new double[p];
        for (int a = 0; a < p; a++)
            for (int b = 0; b <= a; b++)
            {
                double v = 0;
                for (int k = 0; k < p; k++) v += jc[a][k] * j[b][k];
                r[a][b] = r[b][a] = v;
            }
        return r;
    }

    /// <summary>
    /// Runs body(0..count-1), independent tasks, on the cores. Results must be written by index, so
    /// they do not depend on the schedule. Law evaluations inside may still split themselves: the
    /// tasks are uneven (one jackknife refit can cost ten times another), and a core that has run
    /// out of tasks then helps with the evaluations of the one still running. Their sums have a
    /// fixed order, so the numbers are the same on any number of threads.
    /// </summary>
    internal static void ForEachIndependent(int count, Action<int> body)
    {
        if (count >= 2 && EvaluationParallelism.Allowed)
            Parallel.For(0, count, EvaluationParallelism.Options, body);
        else
            for (int i = 0; i < count; i++) body(i);
    }

    private static double Jitter(LawParameter p, double v, Random rng)
    {
        double f = Math.Exp(0.6 * (rng.NextDouble() - 0.5));
        double x = v * f;
        if (x <= p.Lower) x = p.Lower + 0.5 * (v - p.Lower);
        if (x >= p.Upper) x = p.Upper - 0.5 * (p.Upper - v);
        return x;
    }

    /// <summary>
    /// The reference initialisation: fit L0 + A*S1^-alpha - B*(eta_peak - eta_t) (momentum law at
    /// lambda = 0) from the 5 x 3 x 3 x 3 grid and keep the best.
    /// </summary>
    internal static StartHint PreFit(IReadOnlyList<LawRun> runs, FitOptions options)
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
        // 135 independent small fits: two halves side by side, one Problem (scratch) per half; the
        // best is then chosen in grid order, as the sequential loop did.
        var sols = new Solution[grid.Count];
        int halves = EvaluationParallelism.Allowed ? 2 : 1;
        ForEachIndependent(halves, h =>
        {
            var problem = new Problem(law, states, options with { MaxIterations = 100 });
            for (int g = h; g < grid.Count; g += halves) sols[g] = problem.Minimize(grid[g], fixedIdx, 100);
        });
        Solution? best = null;
        foreach (var sol in sols)
            if (best is null || sol.Objective < best.Objective) best = sol;
        var x = best!.X;
        return new StartHint(x[0], x[1], x[2], Math.Max(x[3], 1e-3), minLoss, peak, options.Seed);
    }

    internal sealed record Solution(double[] X, double Objective, int Iterations, int Evaluations, bool Converged);

    /// <summary>The Huber objective over all runs, its IRLS Gauss-Newton model, and the minimiser.</summary>
    internal sealed class Problem
    {
        private readonly LossLaw _law;
        private readonly LawState[] _states;
        private readonly FitOptions _o;
        private readonly double[] _w;          // weight of each point (pooled order)
        private readonly double[] _logObs;
        private readonly int _n, _p, _maxRun;

        public Problem(LossLaw law, LawState[] states, FitOptions options)
        {
            _law = law; _states = states; _o = options;
            _p = law.Parameters.Count;
            _n = states.Sum(s => s.Run.Count);
            _maxRun = states.Length == 0 ? 0 : states.Max(s => s.Run.Count);
            _w = new double[_n]; _logObs = new double[_n];
            int k = 0;
            foreach (var s in states)
            {
                double w = options.EqualRunWeights ? (double)_n / (states.Length * s.Run.Count) : 1.0;
                for (int i = 0; i < s.Run.Count; i++) { _w[k] = w; _logObs[k] = Math.Log(s.Run.Observed![i]); k++; }
            }
        }

        // Scratch and a one-entry cache, owned by this problem: a Problem is used by one thread at a time
        // (parallel starts and refits each build their own).
        private double[] _pred = [];
        private double[]? _cacheX, _cacheR, _cacheJ;
        private bool _cacheValid;

        /// <summary>
        /// Residuals r = log obs - log pred and dpred/dp / pred (row-major); false if a prediction is not positive.
        /// A value-only call (a trial point of the optimiser) also computes and keeps the Jacobian at
        /// that point: when the trial is accepted the optimiser asks for the Jacobian at the same x
        /// next, and it is then a copy instead of a second evaluation (for the multi-power law a
        /// Jacobian evaluation costs about 1.2 value evaluations, so an accepted step costs 1.2
        /// instead of 2.2). The numbers are the same either way: the law computes the loss
        /// identically with or without the Jacobian.
        /// </summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public bool Residuals(double[] x, double[] r, double[]? jac)
        {
            if (jac is not null && _cacheValid && x.AsSpan().SequenceEqual(_cacheX))
            {
                Array.Copy(_cacheR!, r, _n);
                Array.Copy(_cacheJ!, jac, _n * _p);
                return true;
            }
            bool speculative = jac is null;
            if (speculative)
            {
                if (_cacheJ is null) { _cacheJ = new double[_n * _p]; _cacheR = new double[_n]; _cacheX = new double[_p]; }
                jac = _cacheJ!;
                _cacheValid = false;
            }
            if (_pred.Length < _maxRun) _pred = new double[_maxRun];
            var jv = jac!;
            int k = 0;
            foreach (var s in _states)
            {
                int m = s.Run.Count;
                var pred = _pred.AsSpan(0, m);
                s.Evaluate(x, pred, jv.AsSpan(k * _p, m * _p));
                for (int i = 0; i < m; i++)
                {
                    if (!(pred[i] > 0) || !double.IsFinite(pred[i])) return false;
                    r[k + i] = _logObs[k + i] - Math.Log(pred[i]);
                    for (int c = 0; c < _p; c++) jv[(k + i) * _p + c] /= pred[i];
                }
                k += m;
            }
            if (speculative)
            {
                Array.Copy(x, _cacheX!, _p);
                Array.Copy(r, _cacheR!, _n);
                _cacheValid = true;
            }
            return true;
        }

        private double Objective(double[] r)
        {
            double d = _o.HuberDelta, f = 0;
            for (int i = 0; i < _n; i++)
            {
                double a = Math.Abs(r[i]);
                f += _w[i] * (a <= d ? 0.5 * r[i] * r[i] : d * (a - 0.5 * d));
            }
            return f;
        }

        /// <summary>
        /// The search range of the unconstrained coordinates: |u| &lt;= 100, i.e. a one-sided parameter
        /// within e^+-100 (1e+-43) of its bound. Far beyond any value a law means in the canonical LR
        /// unit, and small enough that every product the laws form stays finite: without it a
        /// degenerate direction (e.g. a multi-power law whose drop term vanishes, B -> 0 and C -> inf)
        /// ran to C = inf, whose NaN derivatives broke the covariance.
        /// </summary>
        internal const double MaxU = 100;

        /// <summary>True when a parameter of value <paramref name="v"/> sits at the edge of the search range (its bound excluded).</summary>
        public bool AtSearchLimit(int j, double v)
        {
            var p = _law.Parameters[j];
            bool lo = double.IsFinite(p.Lower), hi = double.IsFinite(p.Upper);
            if (lo == hi) return false;   // interval-bounded ones end at their bounds, which the bound warning reports
            return Math.Abs(ToU(j, v)) >= MaxU * (1 - 1e-9);
        }

        // Unconstrained coordinates: log for one-sided bounds, logit for intervals.
        private double ToU(int j, double v)
        {
            var p = _law.Parameters[j];
            bool lo = double.IsFinite(p.Lower), hi = double.IsFinite(p.Upper);
            if (lo && hi)
            {
                double w = p.Upper - p.Lower, f = Math.Clamp((v - p.Lower) / w, 1e-12, 1 - 1e-12);
                return Math.Log(f / (1 - f));
            }
            if (lo) return Math.Clamp(Math.Log(Math.Max(v - p.Lower, 1e-300)), -MaxU, MaxU);
            if (hi) return Math.Clamp(-Math.Log(Math.Max(p.Upper - v, 1e-300)), -MaxU, MaxU);
            return v;
        }

        private (double V, double Dv) FromU(int j, double u)
        {
            var p = _law.Parameters[j];
            bool lo = double.IsFinite(p.Lower), hi = double.IsFinite(p.Upper);
            if (lo && hi)
            {
                double s = 1 / (1 + Math.Exp(-u)), w = p.Upper - p.Lower;
                return (p.Lower + w * s, w * s * (1 - s));
            }
            if (lo) { double e = Math.Exp(u); return (p.Lower + e, e); }
            if (hi) { double e = Math.Exp(-u); return (p.Upper - e, e); }
            return (u, 1);
        }

        public Solution Minimize(double[] x0, IReadOnlySet<int> fixedIdx, int maxIterations)
        {
            var freeIdx = Enumerable.Range(0, _p).Where(j => !fixedIdx.Contains(j)).ToArray();
            int k = freeIdx.Length;
            var x = (double[])x0.Clone();
            var u = freeIdx.Select(j => ToU(j, x[j])).ToArray();
            for (int a = 0; a < k; a++) x[freeIdx[a]] = FromU(freeIdx[a], u[a]).V;
            var r = new double[_n];
            var jac = new double[_n * _p];
            int evals = 1;
            if (!Residuals(x, r, jac)) return new Solution(x, double.PositiveInfinity, 0, evals, false);
            double f = Objective(r);
            double mu = 1e-3;
            var g = new double[k]; var h = new double[k * k]; var dv = new double[k];
            var xt = new double[_p]; var rt = new double[_n];
            int it = 0, smallSteps = 0;
            bool converged = false;
            double delta = _o.HuberDelta;
            while (it < maxIterations)
            {
                it++;
                for (int a = 0; a < k; a++) dv[a] = FromU(freeIdx[a], u[a]).Dv;
                Array.Clear(g); Array.Clear(h);
                for (int i = 0; i < _n; i++)
                {
                    double ar = Math.Abs(r[i]);
                    double psi = ar <= delta ? r[i] : delta * Math.Sign(r[i]);
                    double omega = ar <= delta ? 1 : delta / ar;
                    double wi = _w[i];
                    int row = i * _p;
                    for (int a = 0; a < k; a++)
                    {
                        double ja = -jac[row + freeIdx[a]] * dv[a];   // d r_i / d u_a
                        g[a] += wi * psi * ja;
                        double wja = wi * omega * ja;
                        for (int b = 0; b <= a; b++) h[a * k + b] += wja * (-jac[row + freeIdx[b]] * dv[b]);
                    }
                }
                for (int a = 0; a < k; a++) for (int b = 0; b < a; b++) h[b * k + a] = h[a * k + b];
                // A coordinate at the edge of the search range whose descent direction points outward
                // stays there (an active bound): the others keep improving.
                for (int a = 0; a < k; a++)
                {
                    if (!(u[a] >= MaxU && g[a] < 0) && !(u[a] <= -MaxU && g[a] > 0)) continue;
                    g[a] = 0;
                    for (int b = 0; b < k; b++) { h[a * k + b] = 0; h[b * k + a] = 0; }
                    h[a * k + a] = 1;
                }
                double gmax = g.Max(Math.Abs);
                if (gmax <= 1e-14 * Math.Max(f, 1e-30) || gmax == 0) { converged = true; break; }
                bool accepted = false;
                while (mu < 1e14)
                {
                    var step = Solve(h, g, k, mu);
                    if (step is null) { mu *= 10; continue; }
                    var ut = new double[k];
                    Array.Copy(x, xt, _p);
                    for (int a = 0; a < k; a++) { ut[a] = Math.Clamp(u[a] + step[a], -MaxU, MaxU); xt[freeIdx[a]] = FromU(freeIdx[a], ut[a]).V; }
                    evals++;
                    double ft = Residuals(xt, rt, null) ? Objective(rt) : double.PositiveInfinity;
                    if (ft < f)
                    {
                        double rel = (f - ft) / Math.Max(f, 1e-300);
                        double stepMax = step.Max(Math.Abs);
                        Array.Copy(ut, u, k); Array.Copy(xt, x, _p);
                        f = ft;
                        mu = Math.Max(mu / 3, 1e-12);
                        accepted = true;
                        smallSteps = rel < 1e-9 || stepMax < 1e-9 ? smallSteps + 1 : 0;
                        break;
                    }
                    mu *= 4;
                }
                if (!accepted) { converged = true; break; }   // no descent even for tiny steps: at a minimum to working precision
                evals++;
                Residuals(x, r, jac);
                if (smallSteps >= 3) { converged = true; break; }
            }
            return new Solution(x, f, it, evals, converged);
        }

        /// <summary>
        /// The reference procedure's optimiser (Luo et al. 2025, MIT code; hyperparameters from its
        /// configuration): AdamW on the raw parameters, <c>lr = 5e-2</c> for parameters with a
        /// one-sided bound and <c>5e-3</c> for interval-bounded ones, betas (0.9, 0.999), eps 1e-8,
        /// decoupled weight decay 0.01, at most 200 steps, stop after 20 steps without improvement or
        /// when the gradient norm falls below 1e-5. Like the reference it records, when a step's
        /// objective is the best so far, the parameters just after that step. Iterates are kept
        /// inside the parameter bounds (the reference does not need to: its path stays inside).
        /// </summary>
        public Solution AdamW(double[] x0, IReadOnlySet<int> fixedIdx, int maxSteps = 200, int patience = 20)
        {
            const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, decay = 0.01;
            var x = (double[])x0.Clone();
            var lr = new double[_p];
            for (int j = 0; j < _p; j++)
            {
                var par = _law.Parameters[j];
                lr[j] = fixedIdx.Contains(j) ? 0 : double.IsFinite(par.Lower) && double.IsFinite(par.Upper) ? 5e-3 : 5e-2;
            }
            var m = new double[_p]; var v = new double[_p]; var g = new double[_p];
            var r = new double[_n]; var jac = new double[_n * _p];
            double best = double.PositiveInfinity, minF = double.PositiveInfinity;
            double[]? bestX = null;
            int noImprove = 0, steps = 0, evals = 0;
            double delta = _o.HuberDelta, c1 = 1, c2 = 1;
            for (int step = 0; step < maxSteps; step++)
            {
                evals++;
                if (!Residuals(x, r, jac)) break;
                double f = Objective(r);
                Array.Clear(g);
                for (int i = 0; i < _n; i++)
                {
                    double psi = Math.Abs(r[i]) <= delta ? r[i] : delta * Math.Sign(r[i]);
                    double wp = _w[i] * psi;
                    int row = i * _p;
                    for (int j = 0; j < _p; j++) g[j] -= wp * jac[row + j];
                }
                double gnorm = 0;
                for (int j = 0; j < _p; j++) if (lr[j] > 0) gnorm += g[j] * g[j];
                gnorm = Math.Sqrt(gnorm);
                c1 *= beta1; c2 *= beta2;
                for (int j = 0; j < _p; j++)
                {
                    if (lr[j] == 0) continue;
                    x[j] *= 1 - lr[j] * decay;
                    m[j] = beta1 * m[j] + (1 - beta1) * g[j];
                    v[j] = beta2 * v[j] + (1 - beta2) * g[j] * g[j];
                    x[j] -= lr[j] * (m[j] / (1 - c1)) / (Math.Sqrt(v[j] / (1 - c2)) + eps);
                    var par = _law.Parameters[j];
                    double room = 1e-9 * Math.Max(1, Math.Abs(x[j]));
                    if (double.IsFinite(par.Lower) && x[j] <= par.Lower) x[j] = par.Lower + room;
                    if (double.IsFinite(par.Upper) && x[j] >= par.Upper) x[j] = par.Upper - room;
                }
                steps = step + 1;
                if (f < minF) { minF = f; noImprove = 0; } else noImprove++;
                if (step > patience && noImprove >= patience) break;
                if (gnorm < 1e-5) break;
                if (f < best) { best = f; bestX = (double[])x.Clone(); }
            }
            // Stopped before any step was recorded: the gradient at the start was already below the
            // tolerance (an initialisation that fits), or the start itself gives a non-positive loss.
            // The start is then the result, or the failure.
            bestX ??= x0;
            evals++;
            double fBest = Residuals(bestX, r, null) ? Objective(r) : double.PositiveInfinity;
            if (!double.IsFinite(fBest) && !ReferenceEquals(bestX, x0))
            {
                // The recorded point (the parameters just after the best step) overshot into a
                // non-positive loss: fall back to the start, a valid point the procedure evaluated.
                bestX = x0;
                evals++;
                fBest = Residuals(bestX, r, null) ? Objective(r) : double.PositiveInfinity;
            }
            return new Solution(bestX, fBest, steps, evals, double.IsFinite(fBest));
        }

        /// <summary>Solves (H + mu*diag(H)) s = -g by Cholesky; null when not positive definite.</summary>
        private static double[]? Solve(double[] h, double[] g, int k, double mu)
        {
            var m = new double[k * k];
            for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++)
                    m[a * k + b] = h[a * k + b] + (a == b ? mu * Math.Max(h[a * k + a], 1e-30) + 1e-300 : 0);
            // In-place Cholesky.
            for (int a = 0; a < k; a++)
            {
                for (int b = 0; b <= a; b++)
                {
                    double s = m[a * k + b];
                    for (int c = 0; c < b; c++) s -= m[a * k + c] * m[b * k + c];
                    if (a == b)
                    {
                        if (!(s > 0)) return null;
                        m[a * k + a] = Math.Sqrt(s);
                    }
                    else m[a * k + b] = s / m[b * k + b];
                }
            }
            var y = new double[k];
            for (int a = 0; a < k; a++)
            {
                double s = -g[a];
                for (int c = 0; c < a; c++) s -= m[a * k + c] * y[c];
                y[a] = s / m[a * k + a];
            }
            for (int a = k - 1; a >= 0; a--)
            {
                double s = y[a];
                for (int c = a + 1; c < k; c++) s -= m[c * k + a] * y[c];
                y[a] = s / m[a * k + a];
            }
            return y.All(double.IsFinite) ? y : null;
        }

        /// <summary>
        /// Covariance of the parameters: s^2 (J' W J)^-1 in parameter space (J = dlog pred/dp), times
        /// the AR(1) inflation (1 + rho)/(1 - rho) with rho the lag-1 autocorrelation of the residuals
        /// within runs: logged points of one run are not independent, and ignoring that makes the
        /// standard errors far too small. Fixed parameters get zero variance.
        /// </summary>
        public (double[][]? Cov, double Inflation, double S2) Covariance(double[] x, IReadOnlySet<int> fixedIdx, out string? warning)
        {
            warning = null;
            var r = new double[_n]; var jac = new double[_n * _p];
            if (!Residuals(x, r, jac)) throw new InvalidOperationException("the fitted point gives a non-positive loss");
            var free = Enumerable.Range(0, _p).Where(j => !fixedIdx.Contains(j)).ToArray();
            int k = free.Length;
            var cov = new double[_p][];
            for (int j = 0; j < _p; j++) cov[j] = new double[_p];
            double sw = 0, ssr = 0;
            for (int i = 0; i < _n; i++) { sw += _w[i]; ssr += _w[i] * r[i] * r[i]; }
            double s2 = ssr / Math.Max(1, sw - k);
            // Lag-1 autocorrelation within runs.
            double num = 0, den = 0; int off = 0;
            foreach (var s in _states)
            {
                for (int i = 0; i < s.Run.Count; i++)
                {
                    den += r[off + i] * r[off + i];
                    if (i > 0) num += r[off + i] * r[off + i - 1];
                }
                off += s.Run.Count;
            }
            double rho = den > 0 ? Math.Clamp(num / den, 0, 0.995) : 0;
            double inflation = Math.Min((1 + rho) / (1 - rho), Math.Max(1, _n / (double)Math.Max(1, k + 1)));
            if (k == 0) return (cov, inflation, s2);
            var m = Matrix<double>.Build.Dense(k, k);
            for (int i = 0; i < _n; i++)
                for (int a = 0; a < k; a++)
                    for (int b = 0; b < k; b++)
                        m[a, b] += _w[i] * jac[i * _p + free[a]] * jac[i * _p + free[b]];
            // Scale to unit diagonal before inverting: the parameters span many orders of magnitude.
            var d = Enumerable.Range(0, k).Select(a => m[a, a] > 0 ? 1 / Math.Sqrt(m[a, a]) : 1).ToArray();
            var ms = Matrix<double>.Build.Dense(k, k, (a, b) => m[a, b] * d[a] * d[b]);
            const string unavailable = "standard errors unavailable: the Gauss-Newton matrix at the fitted point {0}; the fitted values stand, but predictions that need the parameter covariance (the delta method) get no band";
            if (!ms.Enumerate().All(double.IsFinite) || !d.All(double.IsFinite))
            {
                warning = string.Format(System.Globalization.CultureInfo.InvariantCulture, unavailable, "is not finite (the law's derivatives overflow there)");
                return (null, inflation, s2);
            }
            MathNet.Numerics.LinearAlgebra.Factorization.Svd<double> svd;
            try { svd = ms.Svd(true); }
            catch (MathNet.Numerics.NonConvergenceException)
            {
                warning = string.Format(System.Globalization.CultureInfo.InvariantCulture, unavailable, "could not be decomposed (its SVD did not converge)");
                return (null, inflation, s2);
            }
            double smax = svd.S[0];
            var sInv = Vector<double>.Build.Dense(k, a => svd.S[a] > 1e-12 * smax ? 1 / svd.S[a] : 0);
            if (svd.S[k - 1] <= 1e-12 * smax) warning = "the parameters are not all determined by the data (singular Gauss-Newton matrix): standard errors of the dependent combination are unreliable";
            else if (svd.S[k - 1] <= 1e-9 * smax) warning = "some parameters are almost interchangeable (condition number > 1e9): expect large, correlated standard errors";
            var inv = svd.VT.Transpose() * Matrix<double>.Build.DenseOfDiagonalVector(sInv) * svd.U.Transpose();
            // Symmetrised: U and V of a symmetric matrix agree only to rounding, and a law file's covariance must be symmetric.
            for (int a = 0; a < k; a++)
                for (int b = 0; b <= a; b++)
                    cov[free[a]][free[b]] = cov[free[b]][free[a]] = 0.5 * (inv[a, b] + inv[b, a]) * d[a] * d[b] * s2 * inflation;
            // A parameter the data carry no information on gets zero variance from the pseudo-inverse but
            // rounding leaves covariances of ~1e-170 beside it; a parameter without variance has none.
            for (int a = 0; a < _p; a++)
                if (!(cov[a][a] > 0))
                    for (int b = 0; b < _p; b++) { cov[a][b] = 0; cov[b][a] = 0; }
            if (!cov.All(row => row.All(double.IsFinite)))
            {
                warning = string.Format(System.Globalization.CultureInfo.InvariantCulture, unavailable, "is too close to singular for a finite inverse");
                return (null, inflation, s2);
            }
            return (cov, inflation, s2);
        }
    }
}
