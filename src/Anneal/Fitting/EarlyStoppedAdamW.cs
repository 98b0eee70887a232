namespace Anneal.Fitting;

// Early-stopped AdamW on the raw parameters (FitMethod.EarlyStoppedAdamW), the multi-power-law reference procedure.
internal sealed partial class HuberObjective
{
    /// <summary>
    /// Relative margin by which an objective must fall below the best so far to count as an improvement (for the
    /// patience counter and for the recorded step). Last-bit differences of the objective (another log/exp, another
    /// summation order: ~1e-14 relative) then decide nothing where the objective stalls: a decision flips only when two
    /// objectives differ by 1e-9 to within 1e-14, instead of whenever they are equal to within rounding.
    /// </summary>
    internal const double ImprovementTolerance = 1e-9;

    /// <summary>
    /// The reference procedure's optimiser (Luo et al. 2025, MIT code; hyperparameters from its
    /// configuration): AdamW on the raw parameters, <c>lr = 5e-2</c> for parameters with a
    /// one-sided bound and <c>5e-3</c> for interval-bounded ones, betas (0.9, 0.999), eps 1e-8,
    /// decoupled weight decay 0.01, at most 200 steps, stop after 20 steps without improvement or
    /// when the gradient norm falls below 1e-5. Like the reference it records, when a step's
    /// objective is the best so far, the parameters just after that step. Iterates are kept
    /// inside the parameter bounds (the reference does not need to: its path stays inside).
    /// An improvement counts only beyond <see cref="ImprovementTolerance"/>. This does not make the result independent
    /// of the objective's last bits where the path itself is chaotic (on some small splits Adam's fixed steps oscillate
    /// around the optimum and a 1e-15 difference grows tenfold every ~8 steps: docs/benchmarks.md, "Session 9: fit speed");
    /// the objective's bits are therefore made the same on every machine (<see cref="Anneal.Laws.MplKernel"/>).
    /// With <see cref="FitOptions.KeepBestEvaluated"/> it returns instead the parameters at which the best objective was
    /// evaluated (the point before that step), so the result is the best fit the path reached: on a long split the two
    /// are a step apart on a smooth path, but where Adam's fixed steps oscillate (a few points: engine-mlp's schedules
    /// split, 10 points for 7 parameters) the point after the best step fits 3.4 times worse (objective 1.38e-4 against
    /// 4.09e-5) and lands anywhere on the oscillation (docs/journal/session-10-auto.md).
    /// </summary>
    public FitSolution AdamW(double[] x0, IReadOnlySet<int> fixedIdx, int maxSteps = 200, int patience = 20)
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
        double best = double.PositiveInfinity;
        double[]? bestX = null;
        int noImprove = 0, steps = 0, evals = 0;
        double delta = _o.HuberDelta, c1 = 1, c2 = 1;
        for (int step = 0; step < maxSteps; step++)
        {
            evals++;
            if (!Residuals(x, r, jac)) break;
            double f = Objective(r);
            bool improved = f < best * (1 - ImprovementTolerance);
            // The evaluated point, kept before the step moves x when it is the best so far and asked for.
            var evaluated = improved && _o.KeepBestEvaluated ? (double[])x.Clone() : null;
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
            if (improved) noImprove = 0; else noImprove++;
            if (step > patience && noImprove >= patience) break;
            if (gnorm < 1e-5) break;
            if (improved) { best = f; bestX = evaluated ?? (double[])x.Clone(); }
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
        return new FitSolution(bestX, fBest, steps, evals, double.IsFinite(fBest));
    }
}
