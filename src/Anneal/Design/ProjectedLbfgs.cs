namespace Anneal.Design;

/// <summary>Objective for <see cref="ProjectedLbfgs"/>: returns f(x) and writes its gradient.</summary>
public delegate double ValueAndGradient(ReadOnlySpan<double> x, Span<double> gradient);

/// <summary>Settings of <see cref="ProjectedLbfgs"/>.</summary>
/// <param name="Memory">Number of stored curvature pairs (s, y).</param>
/// <param name="MaxIterations">Iteration cap.</param>
/// <param name="ProjectedGradientTolerance">Stop when max_i |P(x - g)_i - x_i| falls below this.</param>
/// <param name="RelativeTolerance">Stop when f improves by less than this (relative) over <paramref name="Patience"/> iterations.</param>
/// <param name="Patience">Iterations of negligible progress before stopping.</param>
public sealed record LbfgsOptions(int Memory = 12, int MaxIterations = 3000, double ProjectedGradientTolerance = 1e-12, double RelativeTolerance = 1e-15, int Patience = 10);

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
/// variables of a per-step schedule where a dense quasi-Newton method cannot.
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
        int n = x0.Length, m = Math.Max(1, o.Memory);
        var x = (double[])x0.Clone();
        set.Project(x);
        var probe = new double[n];
        var g = new double[n];
        var xt = new double[n];
        var gt = new double[n];
        var p = new double[n];
        var free = new bool[n];
        var s = new double[m][];
        var y = new double[m][];
        for (int k = 0; k < m; k++) { s[k] = new double[n]; y[k] = new double[n]; }
        var rho = new double[m];
        var alpha = new double[m];
        int stored = 0, head = 0, evals = 1, quiet = 0;
        double fx = f(x, g);
        if (!double.IsFinite(fx)) throw new ArgumentException("objective is not finite at the starting point");
        string reason = "iteration limit";
        bool converged = false;
        int iter;
        for (iter = 0; iter < o.MaxIterations; iter++)
        {
            double pg = 0;
            for (int i = 0; i < n; i++) probe[i] = x[i] - g[i];
            set.Project(probe);
            for (int i = 0; i < n; i++)
            {
                pg = Math.Max(pg, Math.Abs(probe[i] - x[i]));
                free[i] = !set.IsBlocked(x, g, i);
            }
            if (pg <= o.ProjectedGradientTolerance) { converged = true; reason = "projected gradient below tolerance"; break; }

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
            else scale = 1e-3 / Math.Max(MaxAbs(g, free), 1e-300);
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
                double sc = 1e-3 / Math.Max(MaxAbs(g, free), 1e-300);
                slope = 0;
                for (int i = 0; i < n; i++) { p[i] = free[i] ? -sc * g[i] : 0; slope += p[i] * g[i]; }
                if (!(slope < 0)) { converged = true; reason = "no descent direction"; break; }
            }

            double t = 1, ft = double.NaN;
            bool accepted = false;
            for (int ls = 0; ls < 15; ls++)
            {
                double decrease = 0;
                for (int i = 0; i < n; i++) xt[i] = x[i] + t * p[i];
                set.Project(xt);
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
                converged = true; reason = "line search made no progress";
                break;
            }

            double sy = 0, yy = 0;
            var sn = s[head];
            var yn = y[head];
            for (int i = 0; i < n; i++)
            {
                sn[i] = xt[i] - x[i];
                yn[i] = gt[i] - g[i];
                sy += sn[i] * yn[i];
                yy += yn[i] * yn[i];
            }
            if (sy > 1e-12 * yy && sy > 0)
            {
                rho[head] = 1.0 / sy;
                head = (head + 1) % m;
                stored = Math.Min(stored + 1, m);
            }
            double gain = fx - ft;
            Array.Copy(xt, x, n);
            Array.Copy(gt, g, n);
            fx = ft;
            progress?.Invoke(iter, fx);
            quiet = gain <= o.RelativeTolerance * Math.Max(1, Math.Abs(fx)) ? quiet + 1 : 0;
            if (quiet >= o.Patience) { converged = true; reason = "relative improvement below tolerance"; iter++; break; }
        }
        return new LbfgsResult(x, fx, iter, evals, converged, reason);
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
