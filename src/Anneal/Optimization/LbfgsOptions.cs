namespace Anneal.Optimization;

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
