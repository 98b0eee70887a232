namespace Anneal.Optimization;

/// <summary>Objective for <see cref="ProjectedLbfgs"/>: returns f(x) and writes its gradient.</summary>
public delegate double ValueAndGradient(ReadOnlySpan<double> x, Span<double> gradient);

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
