using Anneal.Laws;
using Anneal.Schedules;
using Shouldly;
using Xunit;

namespace Anneal.Tests.Laws;

/// <summary>The auto stack's band model (<see cref="StackBand"/>; docs/laws.md, "Session 10: bands").</summary>
public class StackBandTests
{
    private static readonly double[] P = [2.0, 1.5, 0.35, 0.1];

    /// <summary>A run whose logged points follow the momentum law with parameters <see cref="P"/>, times exp(offset) over its last tenth.</summary>
    private static LawRun Run(string spec, long total, double offset)
    {
        var eta = Schedule.Parse(spec).Sample((int)total);
        long[] steps = Enumerable.Range(1, 50).Select(i => (long)(i * (total - 1) / 50)).ToArray();
        var loss = new MomentumLaw(0.999).Predict(eta, steps, P);
        for (int i = 45; i < 50; i++) loss[i] *= Math.Exp(offset);
        return LawRun.ForSchedule(spec, eta, steps, spec) with { Observed = loss };
    }

    [Fact]
    public void The_end_misfit_is_the_level_offset_the_fit_misses_at_its_runs_ends()
    {
        // Independent source: the offset put on the last tenth of each run's points (5 of 50), the stack's forecast
        // being the exact law. Signed per run before the mean: offsets of opposite sign are no common level.
        var stack = new AutoLaw([(new MomentumLaw(0.999), 1.0)]);
        LawRun[] same = [Run("constant(peak=3e-3, warmup=100)", 2000, 0.008), Run("cosine(peak=3e-3, total=2000, warmup=100)", 2000, 0.008)];
        StackBand.EndMisfitOf(stack, P, same).ShouldBe(0.008, 1e-12);
        LawRun[] opposite = [Run("constant(peak=3e-3, warmup=100)", 2000, 0.008), Run("cosine(peak=3e-3, total=2000, warmup=100)", 2000, -0.008)];
        StackBand.EndMisfitOf(stack, P, opposite).ShouldBe(0, 1e-12);
        LawRun[] one = [Run("constant(peak=3e-3, warmup=100)", 2000, -0.004), Run("cosine(peak=3e-3, total=2000, warmup=100)", 2000, 0)];
        StackBand.EndMisfitOf(stack, P, one).ShouldBe(0.002, 1e-12);
    }

    [Fact]
    public void The_future_error_is_the_mean_absolute_log_error_of_the_weighted_past_fits_at_each_tails_end()
    {
        // Two "past fits" with known parameters; each tail's last observed point is its law value times a known factor.
        var law = new MomentumLaw(0.999);
        var a = FittedLaw.FromValues(law, P);
        var b = FittedLaw.FromValues(law, 2.2, 1.5, 0.35, 0.1);
        var t1 = Run("constant(peak=3e-3, warmup=100)", 2000, 0);
        var t2 = Run("cosine(peak=3e-3, total=2000, warmup=100)", 2000, 0);
        double Mix(LawRun t) => 0.25 * law.Predict(t with { Steps = [t.Steps[^1]], Observed = null }, P)[0]
            + 0.75 * law.Predict(t with { Steps = [t.Steps[^1]], Observed = null }, b.Values)[0];
        t1.Observed![^1] = Mix(t1) * Math.Exp(0.01);
        t2.Observed![^1] = Mix(t2) * Math.Exp(-0.03);
        // Weights are normalised: 1 and 3 mix as 0.25 and 0.75.
        StackBand.FutureErrorOf([a, b], [1.0, 3.0], [t1, t2]).ShouldBe(0.02, 1e-12);
        StackBand.FutureErrorOf([a, b], [1.0, 3.0], []).ShouldBe(double.NaN);
    }

    [Fact]
    public void The_band_covers_a_known_noise_at_its_nominal_rate()
    {
        // A forecast whose log error has exactly the band's variance (known sigma from the three inputs): the
        // log-normal band L exp(+-z sigma) covers it at the nominal 95 %, within binomial noise (simulation, fixed
        // seed; 40,000 draws: standard deviation 0.11 %). And with a level offset shared by every forecast of a fit
        // (the MLP case): drawn as N(0, M^2) per fit and known to the band as M = its scale, the band's a-term alone
        // (disagreement and future error 0) covers at the rate of a normal of standard deviation a M against one of
        // standard deviation M: P(|N(0,1)| <= z a), the closed form.
        var rng = new Random(12345);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        double z = FittedLaw.NormalQuantile(0.975);
        double sigma = Math.Sqrt(StackBand.RelativeVariance(1.2e-4, 0.004, 0.01));
        int n = 40000, covered = 0, offsetCovered = 0;
        for (int i = 0; i < n; i++)
        {
            double loss = 2.5, observed = loss * Math.Exp(sigma * Normal());
            var (lo, hi) = PredictionBand.Interval(loss, Math.Pow(sigma * loss, 2), z);
            if (observed >= lo && observed <= hi) covered++;
            double m = 0.008, offset = m * Normal();
            double s = Math.Sqrt(StackBand.RelativeVariance(0, m, double.NaN));
            if (Math.Abs(offset) <= z * s) offsetCovered++;
        }
        ((double)covered / n).ShouldBe(0.95, 0.0045);
        double expected = 2 * MathNet.Numerics.Distributions.Normal.CDF(0, 1, z * StackBand.MisfitScale) - 1;
        ((double)offsetCovered / n).ShouldBe(expected, 0.007);
    }
}
