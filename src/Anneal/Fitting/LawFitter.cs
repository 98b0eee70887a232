using System.Diagnostics;
using Anneal.Laws;

namespace Anneal.Fitting;

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
    /// <summary>
    /// Fits <paramref name="law"/> to <paramref name="runs"/> (each with observed losses), and checks that the runs end in
    /// the regime the laws describe (<see cref="RegimeCheck"/>): when they do not, the fit's warnings say so and forecasts
    /// past the fitted horizon get no band (<see cref="FittedLaw.Regime"/>); with <see cref="FitOptions.Epoch"/>, records where the
    /// training data starts to repeat (<see cref="FittedLaw.Epoch"/>): forecasts past it, when the fitted runs end before it,
    /// get a warning (and no band past <see cref="EpochBoundary.EpochsWithBand"/> epochs). Two runs of one schedule with
    /// different losses (two seeds: <see cref="SeedTwins"/>) are grouped by seed (<see cref="SeedGroups"/>) and each group
    /// fitted apart, the law's forecasts the groups' mean (<see cref="SeedEnsemble"/>, <see cref="FittedLaw.Seeds"/>), unless
    /// <see cref="FitOptions.SeedEnsemble"/> is off or the groups are uneven: then one joint fit with a warning naming their gap.
    /// Runs without twins are fitted exactly as before. Twins whose stated seeds cannot form groups (<see cref="SeedGroups"/>)
    /// are an <see cref="InputException"/> saying which runs and how to fix them.
    /// </summary>
    public static FittedLaw Fit(LossLaw law, IReadOnlyList<LawRun> runs, FitOptions? options = null)
    {
        // Two or more seeds of the same schedules (SeedGroups): each seed's runs fitted apart with the same law and options,
        // the forecasts their mean (SeedEnsemble). A group holds no twins, so its fit is the ordinary one below.
        // A joint fit (the option off) needs no groups, only the twins it warns of: runs whose seeds cannot be grouped still fit.
        var seeds = options?.SeedEnsemble != false ? SeedGroups.Of(runs) : new SeedGroups([], SeedTwins.Of(runs), [], null);
        if (seeds.Groups.Count >= 2)
            return SeedEnsemble.AsFit(seeds, seeds.Groups.Select(g => Fit(law, g, options)).ToArray(), runs);
        // The regime check, made once: the stack's rule reads it (StackFitter), and the fit records it.
        var regime = RegimeCheck.Of(runs);
        var fit = FitShared(law, runs, options, null, regime);
        // Two seeds of one schedule fitted together (SeedTwins): said once per fit, not once per member of a stack.
        if (seeds.Twins.Count > 0)
            fit = fit with { Report = fit.Report with { Warnings = [.. fit.Report.Warnings, .. seeds.Twins.Select(t => t.Warning), .. seeds.Why is null ? [] : new[] { seeds.Why }] } };
        // Where the training data starts to repeat (EpochBoundary): recorded with the fitted horizon; the forecasts past it say so.
        if (options?.Epoch is var (stepsPerEpoch, source))
        {
            var epoch = new EpochBoundary(stepsPerEpoch, runs.Max(q => q.Steps[^1]), source);
            fit = fit with { Epoch = epoch };
        }
        if (regime is null) return fit;
        if (!regime.Fires) return fit with { Regime = regime };
        // How long calibration runs must be, where a longer constant-rate log says (RegimeOnset, from the fitted constant phase's end).
        var onset = RegimeService.ForFit(regime, options?.ConstantLog);
        string[] said = onset is null ? [] : [onset.FitWarning(regime)];
        return fit with { Regime = regime, Onset = onset, Report = fit.Report with { Warnings = [.. fit.Report.Warnings, regime.Warning, .. said] } };
    }

    /// <summary>
    /// The fit of <see cref="Fit"/> without its regime and epoch records; a stack's rule reads <paramref name="regime"/>
    /// (<see cref="StackFitter.Fit"/>), null for a stack's members (no stack inside a stack) or where the check cannot be made.
    /// </summary>
    internal static FittedLaw FitShared(LossLaw law, IReadOnlyList<LawRun> runs, FitOptions? options, SharedPreFit? shared, RegimeCheck? regime = null)
    {
        if (law is AutoLaw stack) return StackFitter.Fit(stack, runs, options, regime);
        var (fit, refits) = FitDeferred(law, runs, options, shared);
        return refits is null ? fit : refits();
    }

    /// <summary>
    /// The fit without its leave-one-run-out refits, and, when the options ask for them (<see cref="FitOptions.Jackknife"/>,
    /// two runs or more), the function that runs them and returns the same fit with them: <c>refits()</c> gives exactly
    /// what <see cref="Fit"/> gives (the refits depend only on the fit's point, its runs and its options). The split keeps the
    /// fit and its refits apart (<see cref="WithRefits"/>); deferring a stack's unkept candidates' refits with it saved under
    /// 10 ms on the 400M split (docs/benchmarks.md, "Session 12"), so <see cref="StackFitter"/> runs them inline. Not for
    /// <see cref="AutoLaw"/>.
    /// </summary>
    internal static (FittedLaw Fit, Func<FittedLaw>? Refits) FitDeferred(LossLaw law, IReadOnlyList<LawRun> runs, FitOptions? options, SharedPreFit? shared)
    {
        if (law is AutoLaw) throw new ArgumentException("a stack is fitted by StackFitter", nameof(law));
        options ??= new FitOptions();
        var sw = Stopwatch.StartNew();
        var warnings = new List<string>();
        (runs, double unit) = Fitted(runs, options, warnings);
        var states = runs.Select(law.PrepareForFit).ToArray();
        var objective = new HuberObjective(law, states, options);
        // The same run given twice counts twice: its weight doubles and the standard errors shrink by sqrt(2).
        for (int a = 0; a < runs.Count; a++)
            for (int b = a + 1; b < runs.Count; b++)
                if (runs[a].Steps.AsSpan().SequenceEqual(runs[b].Steps) && runs[a].Observed.AsSpan().SequenceEqual(runs[b].Observed) && runs[a].Eta.AsSpan().SequenceEqual(runs[b].Eta))
                    warnings.Add($"{runs[a].Name} and {runs[b].Name} are the same run (same rates and losses at every point): it counts twice and the standard errors are too small by sqrt(2); give each run once");
        foreach (var r in runs.Where(r => r.EtaInterpolated))
            warnings.Add($"{r.Name}: per-step learning rate interpolated from the logged lr column (attach the exact schedule as FILE@SPEC for an exact fit)");
        var fixedPs = law.NonIdentifiable(states).ToList();
        int nPoints = runs.Sum(r => r.Count);
        // Too few points for every parameter: the law's reduced form, when it has one and the options allow it.
        IReadOnlyList<HeldParameter> reduced = nPoints <= law.Parameters.Count - fixedPs.Count && options.ReducedForm ? law.ReducedForm(states, fixedPs, nPoints) : [];
        fixedPs.AddRange(reduced);
        foreach (var f in fixedPs.GroupBy(f => f.Reason))
            warnings.Add($"{string.Join(", ", f.Select(x => law.Parameters[x.Index].Name))} held fixed: {f.Key}");
        int free = law.Parameters.Count - fixedPs.Count;
        if (nPoints <= free)
            throw new InputException($"fit: {nPoints} logged points cannot determine {free} parameters of {law.Spec}; log more points or use a simpler law (e.g. powerlaw)");

        var hint = shared is null ? PreFit.Fit(runs, options) : shared.Get(runs, options);
        var starts = law.Starts(hint, states).ToList();
        var rng = new Random(options.Seed);
        var first = starts.Count > 0 ? starts[0] : throw new InvalidOperationException($"{law.Name} offered no starting point");
        for (int i = 0; i < options.RandomStarts; i++)
            starts.Add(first.Select((v, j) => Jitter(law.Parameters[j], v, rng)).ToArray());

        // Screen every start with a short budget, then polish the best one to convergence: most of
        // the cost of a multi-start fit is spent on starts that end in a worse basin.
        FitSolution? best = null;
        int totalIter = 0, totalEval = 0, converged = 0;
        var fixedSet = fixedPs.Select(f => f.Index).ToHashSet();
        var method = options.Method ?? law.PreferredMethod;
        bool earlyStopped = method == FitMethod.EarlyStoppedAdamW;
        if (earlyStopped)
        {
            // One start, the reference initialisation, as the reference procedure has.
            starts.RemoveRange(1, starts.Count - 1);
            var x0 = (double[])starts[0].Clone();
            foreach (var f in fixedPs) x0[f.Index] = f.Value;
            best = objective.AdamW(x0, fixedSet);
            totalIter = best.Iterations; totalEval = best.Evaluations; converged = 1;
            options.Progress?.Invoke($"{law.Spec}: reference procedure: objective {best.Objective:G6} after {best.Iterations} AdamW steps");
        }
        // The starts are independent: screened side by side on the cores, each with its own HuberObjective
        // (its scratch and cache are per instance), then taken in start order so the choice of the
        // best, ties included, is the sequential one.
        var screened = new FitSolution[earlyStopped ? 0 : starts.Count];
        ForEachIndependent(screened.Length, s =>
        {
            var x0 = (double[])starts[s].Clone();
            foreach (var f in fixedPs) x0[f.Index] = f.Value;
            var sol = (s == 0 ? objective : new HuberObjective(law, states, options)).Minimize(x0, fixedSet, options.ScreenIterations);
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
        if (!earlyStopped && best is not null && !best.Converged && double.IsFinite(best.Objective))
        {
            var polished = objective.Minimize(best.X, fixedSet, options.MaxIterations);
            totalIter += polished.Iterations; totalEval += polished.Evaluations;
            if (polished.Converged) converged++;
            options.Progress?.Invoke($"{law.Spec}: polished best start: objective {polished.Objective:G6} after {polished.Iterations} more iterations");
            if (polished.Objective <= best.Objective) best = polished with { Iterations = best.Iterations + polished.Iterations };
        }
        if (best is null || !double.IsFinite(best.Objective))
            throw new InputException($"fit of {law.Spec} failed: the law gives a non-positive or non-finite loss from every starting point; check that the curves' losses and learning rates are right (loss > 0, lr in the same units for all runs)");
        if (!best.Converged && !earlyStopped) warnings.Add($"the best start did not converge within {options.MaxIterations} iterations; the parameters may be imprecise");
        var rawX = law.RescaleLr(best.X, unit);
        // A parameter the optimiser ran to the edge of its search range is not determined by the data
        // (the fit prefers the law's limit there): its Gauss-Newton column is ~0, so it is left out of
        // the covariance like a fixed one instead of producing a meaningless, astronomically large variance.
        var atLimit = Enumerable.Range(0, law.Parameters.Count).Where(j => !fixedPs.Any(f => f.Index == j) && objective.AtSearchLimit(j, best.X[j])).ToArray();
        foreach (var j in atLimit)
            warnings.Add($"{law.Parameters[j].Name} = {rawX[j]:G3} ran to the edge of the range the fitter searches: the data do not bound it (the law's limit fits best), so it has no standard error and the fit is suspect (try a simpler law such as momentum, or fit more runs)");
        var (cov, inflation, s2) = objective.Covariance(best.X, fixedPs.Select(f => f.Index).Concat(atLimit).ToHashSet(), out var covWarn);
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
        // Back to the runs' own LR unit: values and covariance (the refits convert theirs) (J Cov J' with J the Jacobian of the conversion).
        if (unit != 1)
        {
            if (cov is not null)
            {
                cov = HuberObjective.Sandwich(law.RescaleLrJacobian(best.X, unit), cov);
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
        var fit = new FittedLaw(law, rawX, se, cov, report);
        if (runs.Count < 2 || !options.Jackknife) return (fit, null);
        var context = new RefitContext(law, runs, states, fixedPs, reduced, earlyStopped, starts[0], best.X, unit, options);
        return (fit, () => WithRefits(fit, context));
    }

    /// <summary>
    /// The runs as a fit sees them: checked (bad input throws <see cref="InputException"/>), their rates in the canonical LR
    /// unit (returned: the runs' unit, their peak / <see cref="LrUnits.CanonicalPeak"/>), and, when the options ask for it,
    /// without the early transient (<see cref="TransientWindow"/>; a warning says so). Every law fitted to the same runs
    /// with the same options sees the same runs, so a stack's members share one pre-fit of them (<see cref="SharedPreFit"/>).
    /// </summary>
    internal static (IReadOnlyList<LawRun> Runs, double Unit) Fitted(IReadOnlyList<LawRun> runs, FitOptions options, List<string> warnings)
    {
        if (runs.Count == 0) throw new InputException("fit: give at least one curve");
        foreach (var r in runs)
        {
            r.Validate();
            if (r.Observed is null) throw new InputException($"{r.Name}: no observed losses to fit");
        }
        double peak = runs.Max(r => r.Eta.Max());
        if (!(peak > 0)) throw new InputException($"fit: every fitted run has learning rate 0 at every step; the laws describe training at a positive rate (check the lr column or the schedule)");
        // Fit in the canonical LR unit (LrUnits): every start, grid and step size then means the
        // same thing whatever unit the runs' rates are in; the parameters are converted back at the end.
        double unit = peak / LrUnits.CanonicalPeak;
        if (unit != 1) runs = runs.Select(r => r with { Eta = Array.ConvertAll(r.Eta, e => e / unit) }).ToArray();
        // The fit window starts after the early transient, where the laws' form holds (TransientWindow).
        if (options.SkipTransient)
        {
            runs = TransientWindow.Skip(runs, out long transientEnd);
            if (transientEnd > 0) warnings.Add($"points before step {transientEnd} left out: the early transient, where the loss still falls ever faster in log time (the laws describe what follows)");
        }
        return (runs, unit);
    }

    /// <summary>What the leave-one-run-out refits of a fit need: its law, runs and states (in the canonical LR unit, after
    /// the transient), the parameters it held (and those of them its reduced form held), its method, first start and point,
    /// the runs' LR unit and the options.</summary>
    private sealed record RefitContext(LossLaw Law, IReadOnlyList<LawRun> Runs, LawState[] States, IReadOnlyList<HeldParameter> FixedPs,
        IReadOnlyList<HeldParameter> Reduced, bool EarlyStopped, double[] Start0, double[] BestX, double Unit, FitOptions Options);

    /// <summary>
    /// <paramref name="fit"/> with its leave-one-run-out refits: the replicates (in the runs' own LR unit), the
    /// cross-validated law error, their evaluations added to the report's and a warning for each run that could not be left
    /// out, after the fit's own warnings.
    /// </summary>
    private static FittedLaw WithRefits(FittedLaw fit, RefitContext x)
    {
        var sw = Stopwatch.StartNew();
        var (law, runs, states, fixedPs, earlyStopped, options) = (x.Law, x.Runs, x.States, x.FixedPs, x.EarlyStopped, x.Options);
        var warnings = new List<string>();
        int totalEval = 0;
        // Leave-one-run-out refits for the between-run part of the band and the cross-validated law error.
        var replicates = new List<double[]>();
        double cvSum = 0; int cvRuns = 0;
        // Independent refits, run side by side; each builds its own HuberObjective over its own subset.
        var refits = new FitSolution[runs.Count];
        var bestX = x.BestX;
        var start0 = x.Start0;
        // A subset that cannot identify what the full fit identified (e.g. leaving out the only
        // run with an LR decay) is skipped: its refit predicts without that term altogether, which
        // is not a plausible variant of this fit but a different, cruder law.
        var skip = new string?[runs.Count];   // why a refit was skipped: the parameters its subset cannot determine
        ForEachIndependent(runs.Count, i =>
        {
            var sub = states.Where((_, j) => j != i).ToArray();
            // a refit of a reduced form holds what the full fit's reduced form held (it is a variant of that fit)
            var identifiable = law.NonIdentifiable(sub);
            IReadOnlyList<HeldParameter> subFixed = [.. identifiable, .. x.Reduced.Where(h => !identifiable.Any(f => f.Index == h.Index))];
            if (subFixed.Count > fixedPs.Count)
            {
                skip[i] = string.Join(", ", subFixed.Where(f => !fixedPs.Any(g => g.Index == f.Index)).Select(f => law.Parameters[f.Index].Name));
                return;
            }
            // The reference procedure restarts from the initialisation (an early-stopped fit
            // depends on where it starts); the optimum is warm-started at the full fit.
            var x0 = (double[])(earlyStopped ? start0 : bestX).Clone();
            foreach (var f in subFixed) x0[f.Index] = f.Value;
            var subObjective = new HuberObjective(law, sub, options);
            var subFixedSet = subFixed.Select(f => f.Index).ToHashSet();
            refits[i] = earlyStopped ? subObjective.AdamW(x0, subFixedSet) : subObjective.Minimize(x0, subFixedSet, options.ScreenIterations);
            options.Progress?.Invoke($"{law.Spec}: refit without {runs[i].Name}: objective {refits[i].Objective:G6} after {refits[i].Iterations} {(earlyStopped ? "AdamW steps" : "iterations")}");
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
        if (x.Unit != 1) replicates = replicates.Select(r => law.RescaleLr(r, x.Unit)).ToList();
        double cvError = cvRuns > 0 ? Math.Sqrt(cvSum / cvRuns) : 0;
        var report = fit.Report with
        {
            Evaluations = fit.Report.Evaluations + totalEval,
            WallSeconds = fit.Report.WallSeconds + sw.Elapsed.TotalSeconds,
            Warnings = [.. fit.Report.Warnings, .. warnings],
        };
        return fit with { Report = report, Replicates = replicates.ToArray(), CrossValidationLogError = cvError };
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
}
