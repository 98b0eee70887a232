using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Tests.Laws;

/// <summary>
/// The weak prior on the LR-area exponent, <c>alpha_prior=</c> of <c>age</c> and <c>momentum</c>
/// (docs/journal/session-11-horizons.md): its pseudo-residual's derivative against central differences, recovery of
/// known parameters when its mode is
/// the truth, and, on curves that pin alpha, a move of the fitted alpha by the prior's force over the data's profile
/// curvature (the first-order MAP shift).
/// </summary>
public class ExponentPriorTests
{
    private static readonly double[] Truth = [1.5, 0.8, 0.45, 60, 7];

    [Fact]
    public void ThePriorRowsDerivativeMatchesCentralDifferences()
    {
        // The fitter's Jacobian rows are d log pred / dp, i.e. -dr/dp for r = log obs - log pred; the prior's row is
        // r = -Scale ln(alpha/mode)/Sigma, so its entry is Scale/(Sigma alpha), and 0 for every other parameter.
        var prior = LawPrior.Exponent(2, 0.5);
        double[] p = [1.5, 0.8, 0.45, 60, 7];
        var row = new double[p.Length];
        prior.Residual(p, row);
        for (int j = 0; j < p.Length; j++)
        {
            double h = 1e-6 * p[j];
            double[] up = (double[])p.Clone(), down = (double[])p.Clone();
            up[j] += h; down[j] -= h;
            double fd = -(prior.Residual(up, default) - prior.Residual(down, default)) / (2 * h);
            row[j].ShouldBe(fd, 1e-7 * Math.Max(1, Math.Abs(fd)), $"column {j}");
        }
        prior.Residual(p, default).ShouldBe(-LawPrior.ExponentScale * Math.Log(0.45 / 0.5) / LawPrior.ExponentSigma, 1e-15);
    }

    [Theory]
    [InlineData("age(alpha_prior=0.45)")]
    [InlineData("age(q=0.7, prior=13, alpha_prior=0.45)")]
    public void WithItsModeAtTheTruthTheFitRecoversTheParameters(string spec)
    {
        // Noise-free constant + cosine curves from known parameters (the schedules question's calibration): with the prior's
        // mode at the true alpha its row is 0 there, so the truth is still the optimum and the fit gives it back.
        var law = LossLaw.Parse(spec);
        LawRun Make(string s) => SyntheticRun.Of(law, Truth, s, 2000, firstLog: 10);
        LawRun[] runs = [Make("constant(peak=3e-3, warmup=100)"), Make("cosine(peak=3e-3, total=2000, warmup=100)")];
        var fit = LawFitter.Fit(law, runs, new FitOptions { Jackknife = false });
        for (int k = 0; k < Truth.Length; k++)
            fit.Values[k].ShouldBe(Truth[k], 1e-3 * Truth[k], law.Parameters[k].Name);
    }

    [Theory]
    [InlineData("age(alpha_prior=0.5)")]
    [InlineData("momentum(alpha_prior=0.5)")]
    public void WithStrongDataThePriorMovesAlphaByItsForceOverTheProfileCurvature(string spec)
    {
        // Noise-free constant + WSD (40 % cooldown) curves from alpha = 0.45, prior mode 0.5: the runs' residuals are 0 at
        // the truth, inside the Huber threshold (quadratic), while the prior's row, |Scale ln(0.45/0.5)/Sigma| > delta = 1e-3,
        // is in its linear part and pushes ln alpha up with the constant force delta * Scale / Sigma. To first order the fit
        // moves ln alpha by that force over the data's profile curvature in ln alpha: the Schur complement of the
        // Gauss-Newton matrix sum_i (dlog L_i/dtheta)(dlog L_i/dtheta)' at the truth (theta = the law's parameters with
        // ln alpha for alpha), from the law's own Jacobian.
        var law = LossLaw.Parse(spec);
        double[] truth = spec.StartsWith("momentum") ? [1.5, 0.8, 0.45, 0.06] : Truth;
        LawRun Make(string s) => SyntheticRun.Of(law, truth, s, 2000, firstLog: 10);
        LawRun[] runs = [Make("constant(peak=3e-3, warmup=100)"), Make("wsd(peak=3e-3, total=2000, warmup=100, decay=0.4)")];
        Math.Abs(LawPrior.ExponentScale * Math.Log(0.45 / 0.5) / LawPrior.ExponentSigma).ShouldBeGreaterThan(1e-3);
        double profile = SyntheticRun.ProfileCurvature(law, runs, truth, 2);
        double force = 1e-3 * LawPrior.ExponentScale / LawPrior.ExponentSigma;
        double expected = force / profile;
        var fit = LawFitter.Fit(law, runs, new FitOptions { Jackknife = false, SkipTransient = false });
        double moved = Math.Log(fit.Values[2] / truth[2]);
        moved.ShouldBe(expected, 0.1 * expected);
        moved.ShouldBeLessThan(0.02);   // and that is small: strong data keep alpha within 2 % of the truth
    }

    [Fact]
    public void ParsesAndPrintsItsSpec()
    {
        LossLaw.Parse("age(alpha_prior=0.5)").Spec.ShouldBe("age(alpha_prior=0.5)");
        LossLaw.Parse("age(q=0.7, prior=13, alpha_prior=0.5)").Spec.ShouldBe("age(q=0.7, prior=13, alpha_prior=0.5)");
        LossLaw.Parse("age(nu=6, alpha_prior=0.5)").Spec.ShouldBe("age(nu=6, alpha_prior=0.5)");
        LossLaw.Parse("age(alpha_prior=none)").Spec.ShouldBe("age");
        LossLaw.Parse("momentum(cap=fit, alpha_prior=0.5)").Spec.ShouldBe("momentum(cap=fit, alpha_prior=0.5)");
        LossLaw.Parse("momentum(lambda=fit, alpha_prior=0.45)").Spec.ShouldBe("momentum(lambda=fit, alpha_prior=0.45)");
        LossLaw.Parse("momentum(alpha_prior=none)").Spec.ShouldBe("momentum");
        Should.Throw<Anneal.Specs.SpecException>(() => LossLaw.Parse("age(alpha_prior=0)")).Message.ShouldContain("alpha_prior must be a number in (0, 5]");
        Should.Throw<Anneal.Specs.SpecException>(() => LossLaw.Parse("momentum(cap=fit, alpha_prior=high)")).Message.ShouldContain("alpha_prior must be a number in (0, 5]");
    }
}
