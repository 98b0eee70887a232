namespace Anneal.Optimization;

/// <summary>Why <see cref="LbfgsWorkspace.Minimize"/> stopped.</summary>
internal enum LbfgsStop { Gradient, Improvement, LineSearch, NoDescent, MaxIterations, NotFinite }

/// <summary>Outcome of <see cref="LbfgsWorkspace.Minimize"/> (no allocation).</summary>
internal readonly record struct LbfgsOutcome(double Value, int Iterations, int Evaluations, LbfgsStop Stop)
{
    public bool Converged => Stop is LbfgsStop.Gradient or LbfgsStop.Improvement or LbfgsStop.LineSearch or LbfgsStop.NoDescent;

    public string Reason => Stop switch
    {
        LbfgsStop.Gradient => "projected gradient below tolerance",
        LbfgsStop.Improvement => "relative improvement below tolerance",
        LbfgsStop.LineSearch => "line search made no progress",
        LbfgsStop.NoDescent => "no descent direction",
        LbfgsStop.NotFinite => "objective not finite at the starting point",
        _ => "iteration limit",
    };
}

/// <summary>
/// The one projected L-BFGS of Anneal, with its buffers: create one per thread and call
/// <see cref="Minimize"/> as often as needed without allocating (the planning bootstrap runs
/// thousands of small fits; schedule design a few large ones).
/// </summary>
internal sealed class LbfgsWorkspace
{
    private readonly int _n, _m;
    private readonly double[] _probe, _g, _xt, _gt, _p, _rho, _alpha;
    private readonly bool[] _free;
    private readonly double[][] _s, _y;

    public LbfgsWorkspace(int dimension, int memory)
    {
        _n = dimension; _m = Math.Max(1, memory);
        _probe = new double[_n]; _g = new double[_n]; _xt = new double[_n]; _gt = new double[_n]; _p = new double[_n];
        _free = new bool[_n];
        _s = new double[_m][]; _y = new double[_m][];
        for (int k = 0; k < _m; k++) { _s[k] = new double[_n]; _y[k] = new double[_n]; }
        _rho = new double[_m]; _alpha = new double[_m];
    }

    /// <summary>
    /// Minimises <paramref name="f"/> from <paramref name="x"/> (feasible; updated in place) over
    /// <paramref name="set"/>, or without constraints when it is null.
    /// </summary>
    public LbfgsOutcome Minimize(ValueAndGradient f, Span<double> x, IFeasibleSet? set, LbfgsOptions o, Action<int, double>? progress = null)
    {
        int n = _n, m = Math.Min(_m, Math.Max(1, o.Memory));
        var probe = _probe; var g = _g; var xt = _xt; var gt = _gt; var p = _p; var free = _free;
        var s = _s; var y = _y; var rho = _rho; var alpha = _alpha;
        int stored = 0, head = 0, evals = 1, quiet = 0;
        double fx = f(x, g);
        if (!double.IsFinite(fx)) return new LbfgsOutcome(double.PositiveInfinity, 0, evals, LbfgsStop.NotFinite);
        var stop = LbfgsStop.MaxIterations;
        int iter;
        for (iter = 0; iter < o.MaxIterations; iter++)
        {
            double pg = 0;
            if (set is null)
            {
                for (int i = 0; i < n; i++) { pg = Math.Max(pg, Math.Abs(g[i])); free[i] = true; }
            }
            else
            {
                for (int i = 0; i < n; i++) probe[i] = x[i] - g[i];
                set.Project(probe);
                for (int i = 0; i < n; i++)
                {
                    pg = Math.Max(pg, Math.Abs(probe[i] - x[i]));
                    free[i] = !set.IsBlocked(x, g, i);
                }
            }
            if (pg <= o.ProjectedGradientTolerance) { stop = LbfgsStop.Gradient; break; }

            // Two-loop recursion on the free variables.
            for (int i = 0; i < n; i++) p[i] = free[i] ? g[i] : 0;
            for (int k = 0; k < stored; k++)
            {
                int j = (head - 1 - k + m) % m;
                alpha[j] = rho[j] * Dot(s[j], p, free);
                Axpy(-alpha[j], y[j], p);
            }
            double scale;
            if (stored > 0)
            {
                int last = (head - 1 + m) % m;
                scale = Dot(s[last], y[last], free) / Math.Max(Dot(y[last], y[last], free), 1e-300);
                if (!(scale > 0) || !double.IsFinite(scale)) scale = 1.0 / Math.Max(MaxAbs(g, free), 1e-300);
            }
            else scale = Math.Min(o.FirstStep / Math.Max(MaxAbs(g, free), 1e-300), o.FirstStepCap);
            for (int i = 0; i < n; i++) p[i] *= scale;
            for (int k = stored - 1; k >= 0; k--)
            {
                int j = (head - 1 - k + m) % m;
                double b = rho[j] * Dot(y[j], p, free);
                Axpy(alpha[j] - b, s[j], p);
            }
            double slope = 0;
            for (int i = 0; i < n; i++) { p[i] = free[i] ? -p[i] : 0; slope += p[i] * g[i]; }
            if (!(slope < 0))
            {
                // Not a descent direction: drop the memory and take a scaled projected-gradient step.
                stored = 0; head = 0;
                double sc = Math.Min(o.FirstStep / Math.Max(MaxAbs(g, free), 1e-300), o.FirstStepCap);
                slope = 0;
                for (int i = 0; i < n; i++) { p[i] = free[i] ? -sc * g[i] : 0; slope += p[i] * g[i]; }
                if (!(slope < 0)) { stop = LbfgsStop.NoDescent; break; }
            }

            double t = 1, ft = double.NaN;
            bool accepted = false;
            if (o.Search == LineSearch.Halving)
            {
                for (int ls = 0; ls < 60 && !accepted; ls++)
                {
                    for (int i = 0; i < n; i++) xt[i] = x[i] + t * p[i];
                    set?.Project(xt);
                    ft = f(xt, gt);
                    evals++;
                    if (double.IsFinite(ft) && ft <= fx + 1e-4 * t * slope) accepted = true;
                    else t *= 0.5;
                }
                if (!accepted) { stop = LbfgsStop.LineSearch; break; }
            }
            for (int ls = 0; ls < 15 && !accepted; ls++)
            {
                double decrease = 0;
                for (int i = 0; i < n; i++) xt[i] = x[i] + t * p[i];
                set?.Project(xt);
                for (int i = 0; i < n; i++) decrease += g[i] * (xt[i] - x[i]);
                ft = f(xt, gt);
                evals++;
                if (double.IsFinite(ft) && ft < fx && ft <= fx + 1e-4 * Math.Min(decrease, 0)) { accepted = true; break; }
                // Quadratic interpolation of f along the path from f(x), the slope and f(x_t), kept in [0.1 t, 0.5 t].
                double tq = double.IsFinite(ft) ? -slope * t * t / (2 * (ft - fx - slope * t)) : 0.1 * t;
                t = double.IsFinite(tq) ? Math.Clamp(tq, 0.1 * t, 0.5 * t) : 0.1 * t;
            }
            if (!accepted)
            {
                if (stored > 0) { stored = 0; head = 0; continue; }
                stop = LbfgsStop.LineSearch;
                break;
            }

            double sy = 0, yy = 0, ss = 0;
            var sn = s[head];
            var yn = y[head];
            for (int i = 0; i < n; i++)
            {
                sn[i] = xt[i] - x[i];
                yn[i] = gt[i] - g[i];
                sy += sn[i] * yn[i];
                yy += yn[i] * yn[i];
                ss += sn[i] * sn[i];
            }
            // Keep the pair only when it keeps H positive definite (Halving: the scale-free test on the
            // angle between s and y, which the small planning problems were tuned with).
            bool curvature = o.Search == LineSearch.Halving ? sy > 1e-300 && sy > 1e-12 * Math.Sqrt(ss * yy) : sy > 1e-12 * yy && sy > 0;
            if (curvature)
            {
                rho[head] = 1.0 / sy;
                head = (head + 1) % m;
                stored = Math.Min(stored + 1, m);
            }
            double gain = fx - ft;
            xt.AsSpan().CopyTo(x);
            Array.Copy(gt, g, n);
            fx = ft;
            progress?.Invoke(iter, fx);
            quiet = gain <= o.RelativeTolerance * Math.Max(o.ToleranceFloor, Math.Abs(fx)) ? quiet + 1 : 0;
            if (quiet >= o.Patience) { stop = LbfgsStop.Improvement; iter++; break; }
        }
        return new LbfgsOutcome(fx, iter, evals, stop);
    }

    private static double Dot(double[] a, double[] b, bool[] mask)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) if (mask[i]) sum += a[i] * b[i];
        return sum;
    }

    private static void Axpy(double a, double[] x, double[] y)
    {
        for (int i = 0; i < x.Length; i++) y[i] += a * x[i];
    }

    private static double MaxAbs(double[] g, bool[] mask)
    {
        double v = 0;
        for (int i = 0; i < g.Length; i++) if (mask[i]) v = Math.Max(v, Math.Abs(g[i]));
        return v;
    }
}
