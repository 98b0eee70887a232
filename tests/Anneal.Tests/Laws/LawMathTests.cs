using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// The laws' numerics against independent references: a direct O(T x points) transcription of the
/// multi-power-law formula (Luo et al. 2025, eq. for LD) and central finite differences for every
/// law's analytic Jacobian.
/// </summary>
public class LawMathTests
{
    /// <summary>Direct transcription of L(t) = L0 + A (sum_{tau&lt;=t} eta)^-alpha - B sum_k (eta_{k-1}-eta_k) (1 - (1 + C eta_k^-gamma S_k(t))^-beta).</summary>
    /// With <paramref name="area"/> P != 1 (mpl(area=P)) the power-law term's sum is sum_{tau&lt;=t} peak (eta_tau / peak)^P.
    private static double NaiveMpl(double[] eta, long t, double[] p, bool paper, double area = 1)
    {
        int peak = 0;
        for (int i = 1; i < eta.Length; i++) if (eta[i] > eta[peak]) peak = i;
        double s1 = 0;
        for (long i = 0; i <= t; i++) s1 += area == 1 ? eta[i] : eta[i] > 0 ? eta[peak] * Math.Pow(eta[i] / eta[peak], area) : 0;
        double ld = 0;
        for (long k = paper ? peak + 1 : 1; k <= t; k++)
        {
            double d = eta[k - 1] - eta[k];
            if (d == 0) continue;
            double sk = 0;
            for (long tau = k; tau <= t; tau++) sk += eta[tau];
            double g = eta[k] > 0 ? 1 - Math.Pow(p[4] * Math.Pow(eta[k], -p[6]) * sk + 1, -p[5]) : (sk > 0 ? 1 : 0);
            ld += d * g;
        }
        return p[0] + p[1] * Math.Pow(s1, -p[2]) - p[3] * ld;
    }

    public static IEnumerable<object[]> Schedules() =>
    [
        ["cosine(peak=3e-4, total=3000, warmup=200, min=3e-5)"],
        ["wsd(peak=1e-3, total=3000, warmup=100, decay=0.3, shape=sqrt)"],
        ["wsd(peak=3e-4, total=2500, warmup=300, decay_steps=700, shape=exponential, min=3e-5)"],
        ["join(constant(peak=3e-4, warmup=150), constant(peak=9e-5), constant(peak=1e-5), at=[1200, 2000])"],
        ["linear(peak=6e-4, total=3000, warmup=250)"],
    ];

    [Theory]
    [MemberData(nameof(Schedules))]
    public void FastMplEqualsNaiveTo1e9(string spec)
    {
        var eta = Schedule.Parse(spec).Sample(3000);
        var rng = new Random(spec.Length);
        var steps = Enumerable.Range(0, 3000).Where(i => i >= 5 && rng.NextDouble() < 0.03).Select(i => (long)i).Append(2999).Distinct().ToArray();
        foreach (var paper in new[] { true, false })
        {
            double[] p = [2.5 + rng.NextDouble(), 0.3 + rng.NextDouble(), 0.3 + 0.3 * rng.NextDouble(), 300 + 500 * rng.NextDouble(), 0.5 + 2 * rng.NextDouble(), 0.3 + 0.5 * rng.NextDouble(), 0.3 + 0.5 * rng.NextDouble()];
            var law = new MultiPowerLaw(paper ? WarmupConvention.Paper : WarmupConvention.Reference);
            var fast = law.Predict(eta, steps, p);
            for (int i = 0; i < steps.Length; i++)
            {
                double naive = NaiveMpl(eta, steps[i], p, paper);
                Math.Abs(fast[i] - naive).ShouldBeLessThan(1e-9 * Math.Abs(naive), $"{spec} step {steps[i]} paper={paper}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Schedules))]
    public void FastMplWithAreaPowerEqualsNaiveTo1e9(string spec)
    {
        // mpl(area=P): the same direct transcription with the power-law term's sum taken over peak (eta / peak)^P.
        var eta = Schedule.Parse(spec).Sample(3000);
        var rng = new Random(spec.Length + 1);
        var steps = Enumerable.Range(0, 3000).Where(i => i >= 5 && rng.NextDouble() < 0.03).Select(i => (long)i).Append(2999).Distinct().ToArray();
        foreach (var (paper, area) in new[] { (true, 0.6), (false, 0.6), (true, 1.3) })
        {
            double[] p = [2.5 + rng.NextDouble(), 0.3 + rng.NextDouble(), 0.3 + 0.3 * rng.NextDouble(), 300 + 500 * rng.NextDouble(), 0.5 + 2 * rng.NextDouble(), 0.3 + 0.5 * rng.NextDouble(), 0.3 + 0.5 * rng.NextDouble()];
            var law = new MultiPowerLaw(paper ? WarmupConvention.Paper : WarmupConvention.Reference, area);
            var fast = law.Predict(eta, steps, p);
            for (int i = 0; i < steps.Length; i++)
            {
                double naive = NaiveMpl(eta, steps[i], p, paper, area);
                Math.Abs(fast[i] - naive).ShouldBeLessThan(1e-9 * Math.Abs(naive), $"{spec} step {steps[i]} paper={paper} area={area}");
            }
        }
    }

    [Fact]
    public void MplAreaPowerLeavesARunAtItsPeakRateUnchanged()
    {
        // peak (eta / peak)^P = eta when eta = peak: a run at its peak rate from step 0 (no warmup, no decay) has the same
        // progress sum, so mpl(area=0.6) forecasts it exactly as mpl does; a run that decays does not.
        double[] p = [2.5, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63];
        long[] steps = [10, 500, 1999];
        var constant = Enumerable.Repeat(3e-4, 2000).ToArray();
        var same = new MultiPowerLaw(AreaPower: 0.6).Predict(constant, steps, p);
        var mpl = new MultiPowerLaw().Predict(constant, steps, p);
        for (int i = 0; i < steps.Length; i++) same[i].ShouldBe(mpl[i], 1e-12 * mpl[i]);   // the sums' order differs: last bits
        var cosine = Schedule.Parse("cosine(peak=3e-4, total=2000, min=3e-5)").Sample(2000);
        new MultiPowerLaw(AreaPower: 0.6).Predict(cosine, [1999], p)[0].ShouldBeLessThan(new MultiPowerLaw().Predict(cosine, [1999], p)[0] - 1e-3);
    }

    public static IEnumerable<object[]> LawsWithParams() =>
    [
        ["powerlaw", new[] { 2.5, 0.6, 0.42 }],
        ["momentum", new[] { 2.5, 0.6, 0.42, 0.4 }],
        ["momentum(lambda=fit)", new[] { 2.5, 0.6, 0.42, 0.4, 0.995 }],
        ["mpl", new[] { 2.5, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63 }],
        ["mpl(warmup=reference)", new[] { 2.37, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63 }],
        ["mpl(area=0.6)", new[] { 2.5, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63 }],
        ["mpl(area=fit)", new[] { 2.5, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63, 0.7 }],
        ["mpl(warmup=reference, area=fit)", new[] { 2.37, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63, 1.2 }],
        ["mpl(area=fit, gamma=0)", new[] { 2.56, 0.64, 0.47, 510.0, 80.0, 0.83, 0.0, 0.7 }],
        ["fm", new[] { 2.5, 0.6, 0.42, 1e-4 }],
        ["convex", new[] { 2.5, 50.0, 0.01 }],
        ["convex(area=fit)", new[] { 2.5, 50.0, 0.01, 0.6 }],
        ["floor", new[] { 2.3, 0.6, 0.42, 0.2, 1.3 }],
        ["floor(time=area)", new[] { 2.3, 0.6, 0.42, 0.2, 0.8 }],
        ["momentum(cap=fit)", new[] { 2.5, 0.6, 0.42, 0.4, 0.05 }],
        ["momentum(lambda=fit, cap=fit)", new[] { 2.5, 0.6, 0.42, 0.4, 0.995, 0.05 }],
        ["momentum(cap=log)", new[] { 2.5, 0.6, 0.42, 0.4, 0.05 }],
        ["fsl", new[] { 2.4, 0.6, 0.42, 300.0, 0.3 }],
        ["fsl(slowest=1000)", new[] { 2.4, 0.6, 0.42, 300.0 }],
        ["age", new[] { 2.5, 0.6, 0.42, 300.0, 6.0 }],
        ["age(nu=6)", new[] { 2.5, 0.6, 0.42, 300.0 }],
        ["age(q=0.8)", new[] { 2.5, 0.6, 0.42, 300.0, 1.2 }],
        ["share", new[] { 2.5, 0.6, 0.42, 300.0, 0.4 }],
        ["share(p=0.4)", new[] { 2.5, 0.6, 0.42, 300.0 }],
        ["momentum(lambda=fit, cap=fit, power=1.5)", new[] { 2.5, 0.6, 0.42, 0.4, 0.995, 0.05 }],
        ["auto", new[] { 2.5, 0.6, 0.42, 0.4, 0.05, 2.37, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63, 2.5, 50.0, 0.01 }],
    ];

    [Theory]
    [MemberData(nameof(LawsWithParams))]
    public void AnalyticJacobianMatchesCentralDifferences(string spec, double[] p)
    {
        var law = LossLaw.Parse(spec);
        var eta = Schedule.Parse("wsd(peak=3e-4, total=4000, warmup=300, decay=0.4, shape=cosine, min=3e-5)").Sample(4000);
        long[] steps = [400, 1000, 2000, 2500, 3000, 3500, 3999];
        JacobianMatchesCentralDifferences(law, law.Prepare(LawRun.ForSchedule("t", eta, steps, "test")), p, steps);
    }

    /// <summary>The state's analytic dL/dp against central differences (relative step 1e-6), to 1e-6.</summary>
    internal static void JacobianMatchesCentralDifferences(LossLaw law, LawState state, double[] p, long[] steps)
    {
        int n = steps.Length, np = p.Length;
        var loss = new double[n]; var jac = new double[n * np];
        state.Evaluate(p, loss, jac);
        for (int j = 0; j < np; j++)
        {
            double h = 1e-6 * Math.Max(Math.Abs(p[j]), 1e-3);
            var pp = (double[])p.Clone(); pp[j] += h;
            var pm = (double[])p.Clone(); pm[j] -= h;
            var lp = new double[n]; var lm = new double[n];
            state.Evaluate(pp, lp, default); state.Evaluate(pm, lm, default);
            for (int i = 0; i < n; i++)
            {
                double fd = (lp[i] - lm[i]) / (2 * h);
                Math.Abs(jac[i * np + j] - fd).ShouldBeLessThan(1e-6 * Math.Max(1, Math.Abs(fd)), $"{law.Spec}: dL/d{law.Parameters[j].Name} at step {steps[i]}");
            }
        }
    }

    [Fact]
    public void NoiseFloorAtPowerOneIsTheMomentumLaw()
    {
        // eta_peak - ebar_t = (1 - lambda) S2(t), so C*S2 = sigma*(1 - ebar/eta_peak) with sigma = C eta_peak / (1 - lambda):
        // floor(L0 - sigma, A, alpha, sigma, p = 1) equals momentum(L0, A, alpha, C) at every step.
        var eta = Schedule.Parse("wsd(peak=3e-4, total=6000, warmup=300, decay=0.3, shape=sqrt)").Sample(6000);
        long[] steps = [299, 1000, 4000, 4300, 5000, 5999];
        double c = 150, sigma = c * 3e-4 / (1 - 0.999);
        var m = new MomentumLaw(0.999).Predict(eta, steps, [2.5, 0.6, 0.42, c]);
        var f = new NoiseFloorLaw().Predict(eta, steps, [2.5 - sigma, 0.6, 0.42, sigma, 1.0]);
        for (int i = 0; i < steps.Length; i++) f[i].ShouldBe(m[i], 1e-9);
    }

    [Fact]
    public void MomentumAtLambdaZeroIsPeakMinusCurrentRate()
    {
        // Tissue et al.: lambda = 0 gives S2 = eta_0 - eta_t, so L = L0 + A S1^-alpha - C (eta_peak - eta_t).
        var eta = Schedule.Parse("cosine(peak=3e-4, total=2000, warmup=100, min=3e-5)").Sample(2000);
        long[] steps = [150, 800, 1999];
        var pred = new MomentumLaw(0.0).Predict(eta, steps, [2.0, 0.5, 0.4, 100.0]);
        for (int i = 0; i < steps.Length; i++)
        {
            double s1 = eta.Take((int)steps[i] + 1).Sum();
            pred[i].ShouldBe(2.0 + 0.5 * Math.Pow(s1, -0.4) - 100.0 * (3e-4 - eta[steps[i]]), 1e-12);
        }
    }

    [Fact]
    public void ConvexBoundOfConstantScheduleMatchesClosedForm()
    {
        // Constant eta, G = 1, T steps: sum eta = T eta, sum eta^2 = T eta^2, and for k < T-1:
        // alpha_k = (T-1-k) eta, beta_k = (T-k) eta, gamma_k = (T-k) eta^2, so the tail term is
        // 1/2 sum_{k=0}^{T-2} eta / (T-1-k) = eta/2 * H_{T-1} (harmonic number).
        double eta0 = 0.1; int T = 500;
        var eta = Enumerable.Repeat(eta0, T).ToArray();
        var pred = new ConvexBoundLaw().Predict(eta, [T - 1], [0.0, 1.0, 2.0]);
        double harmonic = Enumerable.Range(1, T - 1).Sum(k => 1.0 / k);
        double bound = 2.0 / (2 * T * eta0) + T * eta0 * eta0 / (2 * T * eta0) + 0.5 * eta0 * harmonic;
        pred[0].ShouldBe(bound, 1e-12);
    }
}
