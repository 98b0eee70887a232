using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>Noise-free runs made by a law at known parameters: what parameter-recovery tests fit the law back to.</summary>
internal static class SyntheticRun
{
    /// <summary>
    /// A run of <paramref name="spec"/> for <paramref name="total"/> steps, logged every 10 steps from step
    /// 10 <paramref name="firstLog"/> + 9, its losses exactly <paramref name="law"/> at <paramref name="truth"/>.
    /// </summary>
    public static LawRun Of(LossLaw law, double[] truth, string spec, int total, int firstLog)
    {
        var eta = Schedule.Parse(spec).Sample(total);
        var steps = Enumerable.Range(firstLog, total / 10 - firstLog).Select(i => (long)(10 * i + 9)).ToArray();
        return LawRun.ForSchedule(spec, eta, steps, spec) with { Observed = law.Predict(eta, steps, truth) };
    }

    /// <summary>
    /// The data's profile curvature in ln theta_k at <paramref name="truth"/>: 1 / [M^-1]_kk with M the Gauss-Newton matrix
    /// sum_i (dlog L_i/dtheta)(dlog L_i/dtheta)' over every logged point of <paramref name="runs"/> (theta = the law's
    /// parameters with ln theta_k in place of theta_k), from the law's own Jacobian. A prior's constant force f moves the
    /// fitted ln theta_k by f over this curvature, to first order (the other parameters absorb the rest).
    /// </summary>
    public static double ProfileCurvature(LossLaw law, IEnumerable<LawRun> runs, double[] truth, int k)
    {
        int np = truth.Length;
        var m = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(np, np);
        foreach (var run in runs)
        {
            var loss = new double[run.Count];
            var jac = new double[run.Count * np];
            law.Prepare(run).Evaluate(truth, loss, jac);
            for (int i = 0; i < run.Count; i++)
            {
                var g = Enumerable.Range(0, np).Select(c => jac[i * np + c] / loss[i] * (c == k ? truth[k] : 1)).ToArray();
                for (int a = 0; a < np; a++) for (int b = 0; b < np; b++) m[a, b] += g[a] * g[b];
            }
        }
        return 1 / m.Inverse()[k, k];
    }
}
