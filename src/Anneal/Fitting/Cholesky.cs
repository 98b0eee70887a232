namespace Anneal.Fitting;

/// <summary>The damped Newton step of Levenberg-Marquardt, by an in-place Cholesky factorisation (the systems are small: one row a law parameter).</summary>
internal static class Cholesky
{
        /// <summary>Solves (H + mu*diag(H)) s = -g by Cholesky; null when not positive definite.</summary>
        public static double[]? SolveDamped(double[] h, double[] g, int k, double mu)
        {
            var m = new double[k * k];
            for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++)
                    m[a * k + b] = h[a * k + b] + (a == b ? mu * Math.Max(h[a * k + a], 1e-30) + 1e-300 : 0);
            // In-place Cholesky.
            for (int a = 0; a < k; a++)
            {
                for (int b = 0; b <= a; b++)
                {
                    double s = m[a * k + b];
                    for (int c = 0; c < b; c++) s -= m[a * k + c] * m[b * k + c];
                    if (a == b)
                    {
                        if (!(s > 0)) return null;
                        m[a * k + a] = Math.Sqrt(s);
                    }
                    else m[a * k + b] = s / m[b * k + b];
                }
            }
            var y = new double[k];
            for (int a = 0; a < k; a++)
            {
                double s = -g[a];
                for (int c = 0; c < a; c++) s -= m[a * k + c] * y[c];
                y[a] = s / m[a * k + a];
            }
            for (int a = k - 1; a >= 0; a--)
            {
                double s = y[a];
                for (int c = a + 1; c < k; c++) s -= m[c * k + a] * y[c];
                y[a] = s / m[a * k + a];
            }
            return y.All(double.IsFinite) ? y : null;
        }
}
