using MathNet.Numerics.LinearAlgebra;

namespace Anneal.Fitting;

// The parameters' covariance at the fitted point: the Gauss-Newton matrix, inflated for autocorrelated residuals.
internal sealed partial class HuberObjective
{
    /// <summary>
    /// Covariance of the parameters: s^2 (J' W J)^-1 in parameter space (J = dlog pred/dp), times
    /// the AR(1) inflation (1 + rho)/(1 - rho) with rho the lag-1 autocorrelation of the residuals
    /// within runs: logged points of one run are not independent, and ignoring that makes the
    /// standard errors far too small. Fixed parameters get zero variance.
    /// </summary>
    public (double[][]? Cov, double Inflation, double S2) Covariance(double[] x, IReadOnlySet<int> fixedIdx, out string? warning)
    {
        warning = null;
        var r = new double[_n]; var jac = new double[_n * _p];
        if (!Residuals(x, r, jac)) throw new InvalidOperationException("the fitted point gives a non-positive loss");
        var free = Enumerable.Range(0, _p).Where(j => !fixedIdx.Contains(j)).ToArray();
        int k = free.Length;
        var cov = new double[_p][];
        for (int j = 0; j < _p; j++) cov[j] = new double[_p];
        double sw = 0, ssr = 0;
        for (int i = 0; i < _n; i++) { sw += _w[i]; ssr += _w[i] * r[i] * r[i]; }
        double s2 = ssr / Math.Max(1, sw - k);
        // Lag-1 autocorrelation within runs.
        double num = 0, den = 0; int off = 0;
        foreach (var s in _states)
        {
            for (int i = 0; i < s.Run.Count; i++)
            {
                den += r[off + i] * r[off + i];
                if (i > 0) num += r[off + i] * r[off + i - 1];
            }
            off += s.Run.Count;
        }
        double rho = den > 0 ? Math.Clamp(num / den, 0, 0.995) : 0;
        double inflation = Math.Min((1 + rho) / (1 - rho), Math.Max(1, _n / (double)Math.Max(1, k + 1)));
        if (k == 0) return (cov, inflation, s2);
        var m = Matrix<double>.Build.Dense(k, k);
        for (int i = 0; i < _n; i++)
            for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++)
                    m[a, b] += _w[i] * jac[i * _p + free[a]] * jac[i * _p + free[b]];
        // Scale to unit diagonal before inverting: the parameters span many orders of magnitude.
        var d = Enumerable.Range(0, k).Select(a => m[a, a] > 0 ? 1 / Math.Sqrt(m[a, a]) : 1).ToArray();
        var ms = Matrix<double>.Build.Dense(k, k, (a, b) => m[a, b] * d[a] * d[b]);
        const string unavailable = "standard errors unavailable: the Gauss-Newton matrix at the fitted point {0}; the fitted values stand, but predictions that need the parameter covariance (the delta method) get no band";
        if (!ms.Enumerate().All(double.IsFinite) || !d.All(double.IsFinite))
        {
            warning = string.Format(System.Globalization.CultureInfo.InvariantCulture, unavailable, "is not finite (the law's derivatives overflow there)");
            return (null, inflation, s2);
        }
        MathNet.Numerics.LinearAlgebra.Factorization.Svd<double> svd;
        try { svd = ms.Svd(true); }
        catch (MathNet.Numerics.NonConvergenceException)
        {
            warning = string.Format(System.Globalization.CultureInfo.InvariantCulture, unavailable, "could not be decomposed (its SVD did not converge)");
            return (null, inflation, s2);
        }
        double smax = svd.S[0];
        var sInv = Vector<double>.Build.Dense(k, a => svd.S[a] > 1e-12 * smax ? 1 / svd.S[a] : 0);
        if (svd.S[k - 1] <= 1e-12 * smax) warning = "the parameters are not all determined by the data (singular Gauss-Newton matrix): standard errors of the dependent combination are unreliable";
        else if (svd.S[k - 1] <= 1e-9 * smax) warning = "some parameters are almost interchangeable (condition number > 1e9): expect large, correlated standard errors";
        var inv = svd.VT.Transpose() * Matrix<double>.Build.DenseOfDiagonalVector(sInv) * svd.U.Transpose();
        // Symmetrised: U and V of a symmetric matrix agree only to rounding, and a law file's covariance must be symmetric.
        for (int a = 0; a < k; a++)
            for (int b = 0; b <= a; b++)
                cov[free[a]][free[b]] = cov[free[b]][free[a]] = 0.5 * (inv[a, b] + inv[b, a]) * d[a] * d[b] * s2 * inflation;
        // A parameter the data carry no information on gets zero variance from the pseudo-inverse but
        // rounding leaves covariances of ~1e-170 beside it; a parameter without variance has none.
        for (int a = 0; a < _p; a++)
            if (!(cov[a][a] > 0))
                for (int b = 0; b < _p; b++) { cov[a][b] = 0; cov[b][a] = 0; }
        if (!cov.All(row => row.All(double.IsFinite)))
        {
            warning = string.Format(System.Globalization.CultureInfo.InvariantCulture, unavailable, "is too close to singular for a finite inverse");
            return (null, inflation, s2);
        }
        return (cov, inflation, s2);
    }

    /// <summary>J C J', made exactly symmetric (a law file's covariance must be): the covariance C carried through a change of parameters with Jacobian J.</summary>
    public static double[][] Sandwich(double[][] j, double[][] c)
    {
        int p = c.Length;
        var jc = new double[p][];
        for (int a = 0; a < p; a++)
        {
            jc[a] = new double[p];
            for (int b = 0; b < p; b++) for (int k = 0; k < p; k++) jc[a][b] += j[a][k] * c[k][b];
        }
        var r = new double[p][];
        for (int a = 0; a < p; a++) r[a] = new double[p];
        for (int a = 0; a < p; a++)
            for (int b = 0; b <= a; b++)
            {
                double v = 0;
                for (int k = 0; k < p; k++) v += jc[a][k] * j[b][k];
                r[a][b] = r[b][a] = v;
            }
        return r;
    }
}
