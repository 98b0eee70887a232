namespace Anneal.Design;

/// <summary>Objective for <see cref="ProjectedLbfgs"/>: returns f(x) and writes its gradient.</summary>
public delegate double ValueAndGradient(ReadOnlySpan<double> x, Span<double> gradient);

/// <summary>Settings of <see cref="ProjectedLbfgs"/>.</summary>
/// <param name="Memory">Number of stored curvature pairs (s, y).</param>
/// <param name="MaxIterations">Iteration cap.</param>
/// <param name="ProjectedGradientTolerance">Stop when max_i |P(x - g)_i - x_i| falls below this.</param>
/// <param name="RelativeTolerance">Stop when f improves by less than this (relative) over <paramref name="Patience"/> iterations.</param>
/// <param name="Patience">Iterations of negligible progress before stopping.</param>
/// <param name="FirstStep">Without curvature pairs the step is -FirstStep * g / max|g| ...</param>
/// <param name="FirstStepCap">... capped at -FirstStepCap * g (no cap by default).</param>
/// <param name="ToleranceFloor">The improvement test is gain &lt;= RelativeTolerance * max(ToleranceFloor, |f|).</param>
/// <param name="Search">Line search: interpolating (15 tries, memory reset on failure) or plain halving (60 tries, stop on failure).</param>
public sealed record LbfgsOptions(int Memory = 12, int MaxIterations = 3000, double ProjectedGradientTolerance = 1e-12, double RelativeTolerance = 1e-15, int Patience = 10,
    double FirstStep = 1e-3, double FirstStepCap = double.PositiveInfinity, double ToleranceFloor = 1, LineSearch Search = LineSearch.Interpolating);

/// <summary>The backtracking rule of <see cref="ProjectedLbfgs"/>.</summary>
public enum LineSearch
{
    /// <summary>
    /// Quadratic interpolation of f along the projected path, step kept in [0.1 t, 0.5 t], at most
    /// 15 tries; a failure drops the curvature memory and retries once from a gradient step. Accepts
    /// f(x_t) &lt; f(x) and the Armijo condition on the projected path. For large, well-scaled problems.
    /// </summary>
    Interpolating,
    /// <summary>
    /// Halve the step up to 60 times (Armijo, f(x_t) &lt;= f(x) + 1e-4 t slope); a failure ends the
    /// minimisation (at the optimum of a Huber objective f is flat to rounding, so that is the usual
    /// exit); curvature pairs are kept when sy &gt; 1e-12 |s| |y|. Robust for small objectives that
    /// return +inf outside their domain (the planning fits).
    /// </summary>
    Halving,
}

/// <summary>
/// A closed convex feasible set for <see cref="ProjectedLbfgs"/>: its Euclidean projection, and
/// which coordinates are held fixed in an iteration (at a bound with the gradient pointing out).
/// </summary>
public interface IFeasibleSet
{
    /// <summary>Replaces <paramref name="x"/> by its Euclidean projection onto the set.</summary>
    void Project(Span<double> x);

    /// <summary>Whether coordinate i sits on the boundary with the gradient pushing it outward.</summary>
    bool IsBlocked(ReadOnlySpan<double> x, ReadOnlySpan<double> g, int i);
}

/// <summary>The box <c>lower &lt;= x &lt;= upper</c>.</summary>
public sealed class Box(double[] lower, double[] upper) : IFeasibleSet
{
    public void Project(Span<double> x) { for (int i = 0; i < x.Length; i++) x[i] = Math.Clamp(x[i], lower[i], upper[i]); }

    public bool IsBlocked(ReadOnlySpan<double> x, ReadOnlySpan<double> g, int i) => (x[i] <= lower[i] && g[i] > 0) || (x[i] >= upper[i] && g[i] < 0);
}

/// <summary>
/// Non-increasing sequences inside <c>[lower, upper]</c>: <c>upper &gt;= x_1 &gt;= ... &gt;= x_n &gt;= lower</c>.
/// The projection is antitonic regression by pool-adjacent-violators (Ayer et al. 1955), O(n),
/// followed by clipping to the bounds, which preserves both order and optimality.
/// </summary>
public sealed class MonotoneBox(double lower, double upper) : IFeasibleSet
{
    private double[] _sum = [];
    private int[] _count = [];

    public void Project(Span<double> x)
    {
        int n = x.Length;
        if (_sum.Length < n) { _sum = new double[n]; _count = new int[n]; }
        int blocks = 0;
        for (int i = 0; i < n; i++)
        {
            _sum[blocks] = x[i]; _count[blocks] = 1; blocks++;
            // Non-increasing: a block may not have a larger mean than the block before it.
            while (blocks > 1 && _sum[blocks - 1] * _count[blocks - 2] > _sum[blocks - 2] * _count[blocks - 1])
            {
                _sum[blocks - 2] += _sum[blocks - 1];
                _count[blocks - 2] += _count[blocks - 1];
                blocks--;
            }
        }
        int k = 0;
        for (int b = 0; b < blocks; b++)
        {
            double v = Math.Clamp(_sum[b] / _count[b], lower, upper);
            for (int j = 0; j < _count[b]; j++) x[k++] = v;
        }
    }

    public bool IsBlocked(ReadOnlySpan<double> x, ReadOnlySpan<double> g, int i) => (x[i] <= lower && g[i] > 0) || (x[i] >= upper && g[i] < 0);
}

/// <summary>Outcome of a minimisation.</summary>
public sealed record LbfgsResult(double[] X, double Value, int Iterations, int Evaluations, bool Converged, string Reason);

/// <summary>
/// Compact L-BFGS for box constraints <c>lower &lt;= x &lt;= upper</c> in the spirit of L-BFGS-B
/// (Byrd, Lu, Nocedal &amp; Zhu 1995), simplified to the two-metric projection scheme
/// (Bertsekas 1982; Kim, Sra &amp; Dhillon 2010): variables at a bound whose gradient pushes them
/// outward are held fixed, the limited-memory inverse-Hessian two-loop recursion
/// (Nocedal 1980) acts on the rest, and a backtracking Armijo search runs along the projected path
/// <c>P(x + t p)</c>. Memory and time are O(m n) per iteration, so it scales to the ~10^5
/// variables of a per-step schedule where a dense quasi-Newton method cannot. Without a feasible
/// set it is plain L-BFGS (the planning fits use it that way, with the domain enforced by the
/// objective returning +inf, which the line search steps back from).
/// </summary>
public static class ProjectedLbfgs
{
    /// <summary>Minimises <paramref name="f"/> over the box from <paramref name="x0"/> (projected first).</summary>
    public static LbfgsResult Minimize(ValueAndGradient f, double[] x0, double[] lower, double[] upper, LbfgsOptions? options = null, Action<int, double>? progress = null)
    {
        if (lower.Length != x0.Length || upper.Length != x0.Length) throw new ArgumentException("bounds must have the length of x0");
        return Minimize(f, x0, new Box(lower, upper), options, progress);
    }

    /// <summary>Minimises <paramref name="f"/> over a convex set from <paramref name="x0"/> (projected first).</summary>
    public static LbfgsResult Minimize(ValueAndGradient f, double[] x0, IFeasibleSet set, LbfgsOptions? options = null, Action<int, double>? progress = null)
    {
        var o = options ?? new LbfgsOptions();
        var x = (double[])x0.Clone();
        set.Project(x);
        var r = new LbfgsWorkspace(x.Length, o.Memory).Minimize(f, x, set, o, progress);
        if (r.Stop == LbfgsStop.NotFinite) throw new ArgumentException("objective is not finite at the starting point");
        return new LbfgsResult(x, r.Value, r.Iterations, r.Evaluations, r.Converged, r.Reason);
    }
}

/// <summary>Why <see cref="LbfgsWorkspace.Minimize"/> stopped.</summary>
internal enum LbfgsStop { Gradient, Improvement, LineSearch, NoDescent, MaxIterations, NotFinite }

/// <summary>Outcome of <see cref="LbfgsWorkspace.Minimize"/> (no allocation).</summary>
internal readonly record struct LbfgsRun(double Value, int Iterations, int Evaluations, LbfgsStop Stop)
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
    public LbfgsRun Minimize(ValueAndGradient f, Span<double> x, IFeasibleSet? set, LbfgsOptions o, Action<int, double>? progress = null)
    {
        int n = _n, m = Math.Min(_m, Math.Max(1, o.Memory));
        var probe = _probe; var g = _g; var xt = _xt; var gt = _gt; var p = _p; var free = _free;
        var s = _s; var y = _y; var rho = _rho; var alpha = _alpha;
        int stored = 0, head = 0, evals = 1, quiet = 0;
        double fx = f(x, g);
        if (!double.IsFinite(fx)) return new LbfgsRun(double.PositiveInfinity, 0, evals, LbfgsStop.NotFinite);
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
        return new LbfgsRun(fx, iter, evals, stop);
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
