namespace Anneal.Optimization;

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
