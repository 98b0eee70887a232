using Anneal.Laws;

namespace Anneal.Fitting;

/// <summary>A minimiser's result: the parameters, the objective there, the work done and whether it converged.</summary>
internal sealed record FitSolution(double[] X, double Objective, int Iterations, int Evaluations, bool Converged);

/// <summary>
/// The Huber objective over all runs in log-loss (<c>sum_i w_i Huber_delta(log L_obs,i - log L_pred,i)</c>) and the
/// unconstrained coordinates the minimisers search in. Its minimisers and covariance are in the files named for them:
/// <see cref="Minimize"/> (LevenbergMarquardt.cs), <see cref="AdamW"/> (EarlyStoppedAdamW.cs), <see cref="Covariance"/> (FitCovariance.cs).
/// </summary>
internal sealed partial class HuberObjective
{
    private readonly LossLaw _law;
    private readonly LawState[] _states;
    private readonly FitOptions _o;
    private readonly double[] _w;          // weight of each point (pooled order)
    private readonly double[] _logObs;
    private readonly int _n, _p, _maxRun;
    private readonly IReadOnlyList<LawPrior> _priors;   // one pseudo-residual row each after the runs' points (LossLaw.Priors)

    public HuberObjective(LossLaw law, LawState[] states, FitOptions options)
    {
        _law = law; _states = states; _o = options;
        _p = law.Parameters.Count;
        _priors = law.Priors(states);
        _n = states.Sum(s => s.Run.Count) + _priors.Count;
        _maxRun = states.Length == 0 ? 0 : states.Max(s => s.Run.Count);
        _w = new double[_n]; _logObs = new double[_n];
        int k = 0;
        foreach (var s in states)
        {
            double w = options.EqualRunWeights ? (double)_n / (states.Length * s.Run.Count) : 1.0;
            for (int i = 0; i < s.Run.Count; i++) { _w[k] = w; _logObs[k] = Math.Log(s.Run.Observed![i]); k++; }
        }
        for (int j = 0; j < _priors.Count; j++) _w[k + j] = 1;
    }

    // Scratch and a one-entry cache, owned by this problem: a HuberObjective is used by one thread at a time
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
        foreach (var prior in _priors)
        {
            if (!(x[prior.Index] > 0)) return false;
            r[k] = prior.Residual(x, jv.AsSpan(k * _p, _p));
            k++;
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
}
