namespace Anneal.Planning;

/// <summary>Objective with gradient: returns f(x) and writes df/dx into <paramref name="grad"/>; +inf outside the domain.</summary>
internal delegate double GradientObjective(ReadOnlySpan<double> x, Span<double> grad);

/// <summary>How a minimisation ended.</summary>
internal enum StopReason { Gradient, FunctionChange, LineSearch, MaxIterations }

internal readonly record struct LbfgsResult(double Value, int Iterations, StopReason Reason)
{
    /// <summary>
    /// Converged: small gradient, stalled objective, or a line search that can no longer decrease f
    /// (at the optimum of a Huber objective f is flat to rounding, so that is the usual exit).
    /// </summary>
    public bool Converged => Reason != StopReason.MaxIterations;
}

/// <summary>
/// Small dense L-BFGS (Nocedal &amp; Wright, Numerical Optimization, algorithm 7.4/7.5) with an
/// Armijo backtracking line search. Written here rather than taken from MathNet because MathNet's
/// minimisers throw on non-convergence and allocate per iteration; bootstrap fits call this
/// thousands of times. The domain is enforced by the objective returning +inf, which the
/// backtracking simply steps back from.
/// </summary>
internal sealed class Lbfgs
{
    private readonly int _n, _m;
    private readonly double[][] _s, _y;
    private readonly double[] _rho, _alpha, _g, _gNew, _d, _xNew;

    public Lbfgs(int dimension, int memory = 10)
    {
        _n = dimension; _m = memory;
        _s = new double[memory][]; _y = new double[memory][];
        for (int i = 0; i < memory; i++) { _s[i] = new double[dimension]; _y[i] = new double[dimension]; }
        _rho = new double[memory]; _alpha = new double[memory];
        _g = new double[dimension]; _gNew = new double[dimension]; _d = new double[dimension]; _xNew = new double[dimension];
    }

    public int MaxIterations { get; init; } = 500;
    public double GradientTolerance { get; init; } = 1e-12;
    public double RelativeFunctionTolerance { get; init; } = 1e-14;

    /// <summary>Minimises <paramref name="f"/> from <paramref name="x"/> (updated in place).</summary>
    public LbfgsResult Minimize(GradientObjective f, Span<double> x)
    {
        int n = _n;
        double fx = f(x, _g);
        if (!double.IsFinite(fx)) return new LbfgsResult(double.PositiveInfinity, 0, StopReason.LineSearch);
        int count = 0, head = 0, stall = 0;
        for (int iter = 1; iter <= MaxIterations; iter++)
        {
            if (NormInf(_g) <= GradientTolerance) return new LbfgsResult(fx, iter - 1, StopReason.Gradient);

            // Two-loop recursion: d = -H g.
            for (int i = 0; i < n; i++) _d[i] = -_g[i];
            for (int k = 0; k < count; k++)
            {
                int j = (head - 1 - k + _m) % _m;
                _alpha[j] = _rho[j] * Dot(_s[j], _d);
                Axpy(-_alpha[j], _y[j], _d);
            }
            if (count > 0)
            {
                int last = (head - 1 + _m) % _m;
                double gamma = Dot(_s[last], _y[last]) / Dot(_y[last], _y[last]);
                for (int i = 0; i < n; i++) _d[i] *= gamma;
            }
            for (int k = count - 1; k >= 0; k--)
            {
                int j = (head - 1 - k + _m) % _m;
                double beta = _rho[j] * Dot(_y[j], _d);
                Axpy(_alpha[j] - beta, _s[j], _d);
            }
            double slope = Dot(_g, _d);
            if (!(slope < 0))
            {
                // Lost descent (curvature pairs went stale): restart from steepest descent.
                count = 0;
                for (int i = 0; i < n; i++) _d[i] = -_g[i];
                slope = Dot(_g, _d);
            }

            double step = count == 0 ? Math.Min(1.0, 1.0 / Math.Max(NormInf(_g), 1e-300)) : 1.0;
            double fNew = double.NaN;
            bool accepted = false;
            for (int ls = 0; ls < 60; ls++)
            {
                for (int i = 0; i < n; i++) _xNew[i] = x[i] + step * _d[i];
                fNew = f(_xNew, _gNew);
                if (double.IsFinite(fNew) && fNew <= fx + 1e-4 * step * slope) { accepted = true; break; }
                step *= 0.5;
            }
            if (!accepted) return new LbfgsResult(fx, iter, StopReason.LineSearch);

            // Store the curvature pair only when it keeps H positive definite.
            var s = _s[head]; var y = _y[head];
            for (int i = 0; i < n; i++) { s[i] = _xNew[i] - x[i]; y[i] = _gNew[i] - _g[i]; }
            double sy = Dot(s, y);
            if (sy > 1e-300 && sy > 1e-12 * Math.Sqrt(Dot(s, s) * Dot(y, y)))
            {
                _rho[head] = 1.0 / sy;
                head = (head + 1) % _m;
                if (count < _m) count++;
            }
            double change = fx - fNew;
            for (int i = 0; i < n; i++) { x[i] = _xNew[i]; _g[i] = _gNew[i]; }
            fx = fNew;
            if (change <= RelativeFunctionTolerance * Math.Max(Math.Abs(fx), 1e-300))
            {
                if (++stall >= 3) return new LbfgsResult(fx, iter, StopReason.FunctionChange);
            }
            else stall = 0;
        }
        return new LbfgsResult(fx, MaxIterations, StopReason.MaxIterations);
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    private static void Axpy(double a, ReadOnlySpan<double> x, Span<double> y)
    {
        for (int i = 0; i < y.Length; i++) y[i] += a * x[i];
    }

    private static double NormInf(ReadOnlySpan<double> a)
    {
        double m = 0;
        foreach (var v in a) m = Math.Max(m, Math.Abs(v));
        return m;
    }
}
