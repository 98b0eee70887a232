using Anneal.Tuning;

namespace Anneal.Tests.Tuning;

public class GaussianProcessTests
{
    private static double Matern52(double r2, double s2)
    {
        double r = Math.Sqrt(r2);
        return s2 * (1 + Math.Sqrt(5) * r + 5.0 / 3.0 * r2) * Math.Exp(-Math.Sqrt(5) * r);
    }

    /// <summary>
    /// Closed form on two points (Rasmussen &amp; Williams eqs. 2.25-2.26 with the 2 x 2 inverse written out):
    /// mean k*ᵀ(K+σ²I)^-1 y and variance s² − k*ᵀ(K+σ²I)^-1 k*, in standardised units and back.
    /// </summary>
    [Theory]
    [InlineData(0.3, 0.25)]
    [InlineData(0.8, 0.5)]
    [InlineData(1.7, 1.0)]
    public void Posterior_on_two_points_matches_the_closed_form(double xStar, double length)
    {
        double s2 = 1.3, noise = 0.01;
        var h = new GpHyperparameters([Math.Log(length)], Math.Log(s2), Math.Log(noise));
        var gp = GaussianProcess.WithHyperparameters([[0.0], [1.0]], [1.0, 3.0], h);
        // Standardised targets: mean 2, sd 1, so y = (-1, 1).
        double k12 = Matern52(1 / (length * length), s2);
        double a = s2 + noise, det = a * a - k12 * k12;
        double k1 = Matern52(xStar * xStar / (length * length), s2), k2 = Matern52((xStar - 1) * (xStar - 1) / (length * length), s2);
        // (K+σ²I)^-1 = [[a, -k12], [-k12, a]] / det
        double w1 = (a * k1 - k12 * k2) / det, w2 = (a * k2 - k12 * k1) / det;
        double mean = 2 + (w1 * -1 + w2 * 1);
        double variance = s2 - (k1 * w1 + k2 * w2);
        var (m, v) = gp.Predict([xStar]);
        m.ShouldBe(mean, 1e-12);
        v.ShouldBe(variance, 1e-12);
    }

    [Fact]
    public void Log_marginal_likelihood_matches_the_closed_form_on_two_points()
    {
        double l = 0.4, s2 = 0.7, noise = 0.05;
        double[] y = [-1, 1];
        double k12 = Matern52(1 / (l * l), s2), a = s2 + noise, det = a * a - k12 * k12;
        double quad = (a * y[0] * y[0] - 2 * k12 * y[0] * y[1] + a * y[1] * y[1]) / det;
        double expected = -0.5 * quad - 0.5 * Math.Log(det) - Math.Log(2 * Math.PI);
        var g = new double[3];
        GaussianProcess.LogMarginalLikelihood([[0.0], [1.0]], y, [Math.Log(l), Math.Log(s2), Math.Log(noise)], g).ShouldBe(expected, 1e-12);
    }

    /// <summary>The analytic gradient of the log marginal likelihood (eq. 5.9) against central finite differences, every hyperparameter.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Marginal_likelihood_gradient_matches_finite_differences(int seed)
    {
        var rng = new Random(seed);
        int n = 15, d = 3;
        var x = Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, d).Select(_ => rng.NextDouble()).ToArray()).ToArray();
        var y = x.Select(p => Math.Sin(3 * p[0]) + p[1] * p[1] - 0.5 * p[2] + 0.1 * rng.NextDouble()).ToArray();
        double mean = y.Average(), sd = Math.Sqrt(y.Sum(v => (v - mean) * (v - mean)) / n);
        y = y.Select(v => (v - mean) / sd).ToArray();
        double[] theta = [Math.Log(0.3 + rng.NextDouble()), Math.Log(0.2 + rng.NextDouble()), Math.Log(0.5 + rng.NextDouble()), Math.Log(1.2), Math.Log(0.02)];
        var g = new double[theta.Length];
        GaussianProcess.LogMarginalLikelihood(x, y, theta, g);
        var scratch = new double[theta.Length];
        for (int i = 0; i < theta.Length; i++)
        {
            const double h = 1e-5;
            var up = (double[])theta.Clone(); up[i] += h;
            var dn = (double[])theta.Clone(); dn[i] -= h;
            double fd = (GaussianProcess.LogMarginalLikelihood(x, y, up, scratch) - GaussianProcess.LogMarginalLikelihood(x, y, dn, scratch)) / (2 * h);
            g[i].ShouldBe(fd, 1e-6 * Math.Max(1, Math.Abs(fd)), $"θ[{i}]");
        }
    }

    /// <summary>
    /// Shared length scales: the gradient of the grouped likelihood against central finite differences, and its value
    /// against the ungrouped likelihood with the group's scale repeated over its dimensions (the same kernel).
    /// </summary>
    [Fact]
    public void Grouped_length_scales_match_the_repeated_scale_and_finite_differences()
    {
        var rng = new Random(7);
        int n = 12;
        // x0 numeric, x1..x3 a one-hot block of three choices (group 1)
        var x = Enumerable.Range(0, n).Select(i => { var e = new double[4]; e[0] = rng.NextDouble(); e[1 + i % 3] = 1; return e; }).ToArray();
        var y = x.Select(p => Math.Sin(4 * p[0]) + 0.3 * p[2] + 0.05 * rng.NextDouble()).ToArray();
        int[] groups = [0, 1, 1, 1];
        double[] theta = [Math.Log(0.4), Math.Log(1.3), Math.Log(0.9), Math.Log(0.03)];
        var g = new double[theta.Length];
        double v = GaussianProcess.LogMarginalLikelihood(x, y, theta, g, groups);
        var scratch = new double[6];
        GaussianProcess.LogMarginalLikelihood(x, y, [theta[0], theta[1], theta[1], theta[1], theta[2], theta[3]], scratch).ShouldBe(v, 1e-12);
        for (int i = 0; i < theta.Length; i++)
        {
            const double h = 1e-5;
            var up = (double[])theta.Clone(); up[i] += h;
            var dn = (double[])theta.Clone(); dn[i] -= h;
            double fd = (GaussianProcess.LogMarginalLikelihood(x, y, up, scratch, groups) - GaussianProcess.LogMarginalLikelihood(x, y, dn, scratch, groups)) / (2 * h);
            g[i].ShouldBe(fd, 1e-6 * Math.Max(1, Math.Abs(fd)), $"θ[{i}]");
        }
    }

    /// <summary>
    /// The additive model's likelihood: its value against the two-point closed form with the kernel written out
    /// (s² M(r) + s_a²/2 (M(r_0) + M(r_1)) for two groups), and its gradient in every hyperparameter, the additive
    /// variance included, against central finite differences on a numeric parameter and a three-way one-hot block.
    /// </summary>
    [Fact]
    public void Additive_likelihood_matches_the_closed_form_and_finite_differences()
    {
        // two points: numeric 0.2 vs 0.7 (group 0), choices A vs B (group 1, one-hot)
        double l0 = 0.5, l1 = 1.5, s2 = 0.8, sa = 0.6, noise = 0.04;
        double[][] two = [[0.2, 1, 0, 0], [0.7, 0, 1, 0]];
        double r0 = 0.25 / (l0 * l0), r1 = 2 / (l1 * l1);
        double k12 = Matern52(r0 + r1, s2) + sa / 2 * (Matern52(r0, 1) + Matern52(r1, 1)), a = s2 + sa + noise, det = a * a - k12 * k12;
        double[] y2 = [-1, 1];
        double quad = (a - 2 * k12 * -1 + a) / det;
        double expected = -0.5 * quad - 0.5 * Math.Log(det) - Math.Log(2 * Math.PI);
        var g2 = new double[5];
        GaussianProcess.LogMarginalLikelihood(two, y2, [Math.Log(l0), Math.Log(l1), Math.Log(s2), Math.Log(noise), Math.Log(sa)], g2, [0, 1, 1, 1], additive: true)
            .ShouldBe(expected, 1e-12);

        var rng = new Random(11);
        int n = 14;
        var x = Enumerable.Range(0, n).Select(i => { var e = new double[4]; e[0] = rng.NextDouble(); e[1 + i % 3] = 1; return e; }).ToArray();
        var y = x.Select(p => Math.Sin(4 * p[0]) + 0.4 * p[2] - 0.2 * p[3] * p[0] + 0.05 * rng.NextDouble()).ToArray();
        int[] groups = [0, 1, 1, 1];
        double[] theta = [Math.Log(0.4), Math.Log(0.9), Math.Log(0.7), Math.Log(0.03), Math.Log(1.1)];
        var g = new double[theta.Length];
        GaussianProcess.LogMarginalLikelihood(x, y, theta, g, groups, additive: true);
        var scratch = new double[theta.Length];
        for (int i = 0; i < theta.Length; i++)
        {
            const double h = 1e-5;
            var up = (double[])theta.Clone(); up[i] += h;
            var dn = (double[])theta.Clone(); dn[i] -= h;
            double fd = (GaussianProcess.LogMarginalLikelihood(x, y, up, scratch, groups, true) - GaussianProcess.LogMarginalLikelihood(x, y, dn, scratch, groups, true)) / (2 * h);
            g[i].ShouldBe(fd, 1e-6 * Math.Max(1, Math.Abs(fd)), $"θ[{i}]");
        }
    }

    /// <summary>
    /// What the additive part buys: y = (x − 0.3)² depends on the numeric x alone, observed along x under choice A and
    /// at two points under B. Choice C is untried. The additive model (fitted by marginal likelihood) predicts C's
    /// curve from A's within 0.1 at x = 0.3 and 0.9 and ranks x = 0.3 below x = 0.9 under C; the prediction at an
    /// untried choice is what decides whether a sweep wastes trials re-learning the numeric parameter for every choice.
    /// </summary>
    [Fact]
    public void The_additive_model_carries_a_numeric_effect_to_an_untried_choice()
    {
        var x = new List<double[]>();
        foreach (double u in new[] { 0.0, 0.2, 0.4, 0.6, 0.8, 1.0 }) x.Add([u, 1, 0, 0]);
        x.Add([0.1, 0, 1, 0]);
        x.Add([0.9, 0, 1, 0]);
        var y = x.Select(e => (e[0] - 0.3) * (e[0] - 0.3)).ToArray();
        var gp = GaussianProcess.Fit([.. x], y, starts: 3, seed: 1, groups: [0, 1, 1, 1], prior: GpPrior.DimensionScaled(2), additive: true);
        double low = gp.Predict([0.3, 0, 0, 1]).Mean, high = gp.Predict([0.9, 0, 0, 1]).Mean;
        low.ShouldBe(0.0, 0.1);
        high.ShouldBe(0.36, 0.1);
        low.ShouldBeLessThan(high);
    }

    /// <summary>
    /// What one length scale per categorical buys: y depends on the numeric x alone, observed for choices A and B only.
    /// With the block's columns sharing a scale the fit learns that the choice does not matter and predicts the untried
    /// choice C from x (within 0.15 of the true value at x = 0.1 and 0.9, where y = 0.1 and 0.9); with one scale per
    /// column, C's column keeps its prior scale (no point has C) and the prediction is pulled to the mean of the data.
    /// </summary>
    [Fact]
    public void A_shared_categorical_scale_carries_the_numeric_trend_to_an_untried_choice()
    {
        var x = new List<double[]>();
        foreach (double u in new[] { 0.0, 0.25, 0.5, 0.75, 1.0 })
            for (int c = 0; c < 2; c++) { var e = new double[4]; e[0] = u; e[1 + c] = 1; x.Add(e); }
        var y = x.Select(e => e[0]).ToArray();
        var shared = GaussianProcess.Fit([.. x], y, starts: 3, seed: 1, groups: [0, 1, 1, 1]);
        var perColumn = GaussianProcess.Fit([.. x], y, starts: 3, seed: 1);
        foreach (double u in new[] { 0.1, 0.9 })
        {
            double[] q = [u, 0, 0, 1];
            shared.Predict(q).Mean.ShouldBe(u, 0.15, $"shared, x = {u}");
            Math.Abs(perColumn.Predict(q).Mean - u).ShouldBeGreaterThan(Math.Abs(shared.Predict(q).Mean - u), $"per column, x = {u}");
        }
    }

    /// <summary>
    /// Fitting recovers what generated the data: on a smooth function of x1 alone, the fitted length scale of the
    /// irrelevant x2 is far longer than that of x1 (ARD), and the noise is tiny.
    /// </summary>
    [Fact]
    public void Ard_fit_finds_the_irrelevant_dimension()
    {
        var rng = new Random(4);
        var x = Enumerable.Range(0, 30).Select(_ => new[] { rng.NextDouble(), rng.NextDouble() }).ToArray();
        var y = x.Select(p => Math.Sin(6 * p[0])).ToArray();
        var gp = GaussianProcess.Fit(x, y, starts: 3, seed: 1);
        var h = gp.Hyperparameters;
        h.LogLengthScales[1].ShouldBeGreaterThan(h.LogLengthScales[0] + 1.5);
        Math.Exp(h.LogNoiseVariance).ShouldBeLessThan(1e-3);
        var (m, _) = gp.Predict([0.25, 0.5]);
        m.ShouldBe(Math.Sin(1.5), 0.02);
    }

    /// <summary>The kriging believer: a point added at the posterior mean leaves the mean there unchanged and shrinks the variance to about the noise.</summary>
    [Fact]
    public void Believer_point_keeps_the_mean_and_shrinks_the_variance()
    {
        var rng = new Random(2);
        var x = Enumerable.Range(0, 10).Select(_ => new[] { rng.NextDouble() }).ToArray();
        var gp = GaussianProcess.Fit(x, x.Select(p => p[0] * p[0]).ToArray(), seed: 2);
        double[] q = [0.37];
        var (m, v) = gp.Predict(q);
        var (m2, v2) = gp.With(q, m).Predict(q);
        m2.ShouldBe(m, 1e-9);
        v2.ShouldBeLessThan(v);
    }
}

public class LogExpectedImprovementTests
{
    private static double DirectH(double z) => Acquisition.Phi(z) + z * Acquisition.NormalCdf(z);

    /// <summary>Where φ(z) + zΦ(z) is computed without underflow or heavy cancellation, log h must equal it.</summary>
    [Theory]
    [InlineData(4.0)] [InlineData(1.5)] [InlineData(0.0)] [InlineData(-0.5)] [InlineData(-0.999)] [InlineData(-1.0)]
    [InlineData(-1.001)] [InlineData(-2.0)] [InlineData(-3.5)] [InlineData(-5.0)]
    public void Log_h_matches_the_direct_formula_where_that_is_stable(double z)
    {
        // The direct formula loses about log10(1/z²·e^{z²/2}) digits to cancellation for negative z; 1e-7 covers z = -5.
        Acquisition.LogH(z).ShouldBe(Math.Log(DirectH(z)), 1e-7 * Math.Max(1, Math.Abs(Math.Log(DirectH(z)))));
    }

    /// <summary>
    /// In the far tail h(z) underflows, and the Mills-ratio series h(z) = φ(z)/z² (1 − 3/z² + 15/z⁴ − 105/z⁶ ...)
    /// (Abramowitz &amp; Stegun 26.2.12 integrated twice) is the reference.
    /// </summary>
    [Theory]
    [InlineData(-40.0)] [InlineData(-1e3)] [InlineData(-1e6)] [InlineData(-1e9)]
    public void Log_h_matches_the_asymptotic_series_in_the_tail(double z)
    {
        double z2 = z * z;
        double series = 1 - 3 / z2 + 15 / (z2 * z2) - 105 / (z2 * z2 * z2);
        double expected = -0.5 * z2 - 0.5 * Math.Log(2 * Math.PI) - 2 * Math.Log(-z) + Math.Log(series);
        DirectH(z).ShouldBe(0.0); // what log-EI is for: the plain formula has underflowed
        Acquisition.LogH(z).ShouldBe(expected, 1e-9 * Math.Abs(expected));
    }

    /// <summary>
    /// log EI against its definition, EI = ∫ max(best − y, 0) N(y; μ, σ²) dy, integrated numerically (composite
    /// Simpson on [μ − 12σ, best], 20,000 intervals), where EI is not too small for the integral to resolve (z ≥ −6).
    /// </summary>
    [Theory]
    [InlineData(1.0, 0.5, 1.2)]
    [InlineData(2.0, 0.3, 1.5)]
    [InlineData(0.0, 2.0, -3.0)]
    [InlineData(5.0, 0.1, 4.5)]
    [InlineData(-1.0, 1.0, 0.0)]
    public void Log_ei_matches_a_numeric_integral(double mean, double sd, double best)
    {
        double lo = mean - 12 * sd, hi = best;
        int m = 20000;
        double h = (hi - lo) / m, sum = 0;
        for (int i = 0; i <= m; i++)
        {
            double y = lo + i * h;
            double f = (best - y) * Math.Exp(-0.5 * (y - mean) * (y - mean) / (sd * sd)) / (sd * Math.Sqrt(2 * Math.PI));
            sum += f * (i == 0 || i == m ? 1 : i % 2 == 1 ? 4 : 2);
        }
        double ei = sum * h / 3;
        Math.Exp(Acquisition.LogExpectedImprovement(mean, sd, best)).ShouldBe(ei, 1e-9 * Math.Max(1, ei) + 1e-6 * ei);
    }

    [Fact]
    public void Log_h_is_increasing_and_continuous_across_its_branches()
    {
        double prev = double.NegativeInfinity;
        for (double z = -1e8; z < 5; z = z < -10 ? z / 1.5 : z + 0.01)
        {
            double v = Acquisition.LogH(z);
            double.IsFinite(v).ShouldBeTrue();
            v.ShouldBeGreaterThan(prev);
            prev = v;
        }
        double cut = -1 / Math.Sqrt(2.220446049250313e-16);
        Acquisition.LogH(cut * (1 - 1e-12)).ShouldBe(Acquisition.LogH(cut * (1 + 1e-12)), 1e-10 * Math.Abs(Acquisition.LogH(cut)));
        Acquisition.LogH(-1 + 1e-12).ShouldBe(Acquisition.LogH(-1 - 1e-12), 1e-9);
    }

    [Fact]
    public void Erfcx_is_continuous_where_it_switches_to_the_series()
    {
        Acquisition.Erfcx(10 - 1e-12).ShouldBe(Acquisition.Erfcx(10), 1e-14);
        // erfcx(x) → 1/(x√π) for large x.
        (Acquisition.Erfcx(1e6) * 1e6 * Math.Sqrt(Math.PI)).ShouldBe(1.0, 1e-11);
        Acquisition.Erfcx(0).ShouldBe(1.0, 1e-15);
    }
}
