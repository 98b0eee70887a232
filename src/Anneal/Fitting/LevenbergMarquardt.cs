namespace Anneal.Fitting;

// Levenberg-Marquardt / IRLS on the Huber objective in the unconstrained coordinates: the Gauss-Newton model
// of the reweighted least-squares problem, damped by mu * diag(H), solved by Cholesky (Cholesky.cs).
internal sealed partial class HuberObjective
{
    /// <summary>
    /// Levenberg-Marquardt from <paramref name="x0"/> with the parameters in <paramref name="fixedIdx"/> held, at most
    /// <paramref name="maxIterations"/> iterations: the exact minimiser of the Huber objective (<see cref="FitMethod.Optimum"/>).
    /// </summary>
    public FitSolution Minimize(double[] x0, IReadOnlySet<int> fixedIdx, int maxIterations)
    {
        var freeIdx = Enumerable.Range(0, _p).Where(j => !fixedIdx.Contains(j)).ToArray();
        int k = freeIdx.Length;
        var x = (double[])x0.Clone();
        var u = freeIdx.Select(j => ToU(j, x[j])).ToArray();
        for (int a = 0; a < k; a++) x[freeIdx[a]] = FromU(freeIdx[a], u[a]).V;
        var r = new double[_n];
        var jac = new double[_n * _p];
        int evals = 1;
        if (!Residuals(x, r, jac)) return new FitSolution(x, double.PositiveInfinity, 0, evals, false);
        double f = Objective(r);
        double mu = 1e-3;
        var g = new double[k]; var h = new double[k * k]; var dv = new double[k];
        var xt = new double[_p]; var rt = new double[_n];
        int it = 0, smallSteps = 0;
        bool converged = false;
        double delta = _o.HuberDelta;
        while (it < maxIterations)
        {
            it++;
            for (int a = 0; a < k; a++) dv[a] = FromU(freeIdx[a], u[a]).Dv;
            Array.Clear(g); Array.Clear(h);
            for (int i = 0; i < _n; i++)
            {
                double ar = Math.Abs(r[i]);
                double psi = ar <= delta ? r[i] : delta * Math.Sign(r[i]);
                double omega = ar <= delta ? 1 : delta / ar;
                double wi = _w[i];
                int row = i * _p;
                for (int a = 0; a < k; a++)
                {
                    double ja = -jac[row + freeIdx[a]] * dv[a];   // d r_i / d u_a
                    g[a] += wi * psi * ja;
                    double wja = wi * omega * ja;
                    for (int b = 0; b <= a; b++) h[a * k + b] += wja * (-jac[row + freeIdx[b]] * dv[b]);
                }
            }
            for (int a = 0; a < k; a++) for (int b = 0; b < a; b++) h[b * k + a] = h[a * k + b];
            // A coordinate at the edge of the search range whose descent direction points outward
            // stays there (an active bound): the others keep improving.
            for (int a = 0; a < k; a++)
            {
                if (!(u[a] >= MaxU && g[a] < 0) && !(u[a] <= -MaxU && g[a] > 0)) continue;
                g[a] = 0;
                for (int b = 0; b < k; b++) { h[a * k + b] = 0; h[b * k + a] = 0; }
                h[a * k + a] = 1;
            }
            double gmax = g.Max(Math.Abs);
            if (gmax <= 1e-14 * Math.Max(f, 1e-30) || gmax == 0) { converged = true; break; }
            bool accepted = false;
            while (mu < 1e14)
            {
                var step = Cholesky.SolveDamped(h, g, k, mu);
                if (step is null) { mu *= 10; continue; }
                var ut = new double[k];
                Array.Copy(x, xt, _p);
                for (int a = 0; a < k; a++) { ut[a] = Math.Clamp(u[a] + step[a], -MaxU, MaxU); xt[freeIdx[a]] = FromU(freeIdx[a], ut[a]).V; }
                evals++;
                double ft = Residuals(xt, rt, null) ? Objective(rt) : double.PositiveInfinity;
                if (ft < f)
                {
                    double rel = (f - ft) / Math.Max(f, 1e-300);
                    double stepMax = step.Max(Math.Abs);
                    Array.Copy(ut, u, k); Array.Copy(xt, x, _p);
                    f = ft;
                    mu = Math.Max(mu / 3, 1e-12);
                    accepted = true;
                    smallSteps = rel < 1e-9 || stepMax < 1e-9 ? smallSteps + 1 : 0;
                    break;
                }
                mu *= 4;
            }
            if (!accepted) { converged = true; break; }   // no descent even for tiny steps: at a minimum to working precision
            evals++;
            Residuals(x, r, jac);
            if (smallSteps >= 3) { converged = true; break; }
        }
        return new FitSolution(x, f, it, evals, converged);
    }
}
