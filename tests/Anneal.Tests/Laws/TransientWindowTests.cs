using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// The fit window after the early transient (<see cref="TransientWindow"/>): a curve that is a known power law from a step on
/// and, before it, falls ever faster in log time (its slope -dL/d ln S1 rising to the power law's own there, as gpt-tiny-long's
/// validation loss does from step 99 to 399) must be fitted from the steepest point, which recovers the power law's
/// parameters; curves that are power laws throughout must keep every point.
/// </summary>
public class TransientWindowTests
{
    private const double Peak = 3e-3;
    private static readonly double[] Truth = [1.5, 0.75, 0.47];   // L0, A, alpha of L0 + A*S1^-alpha (gpt-tiny-long's constant run, 300-12,000)

    /// <summary>
    /// Validation-style logging (every 100 steps, 199 to n-1) of a constant run with warmup 100: the power law <see cref="Truth"/>
    /// from <paramref name="transientEnd"/> on; before it, the log-time slope rises linearly in ln S1 from 0.3 times the power
    /// law's slope at step 199 to the power law's slope at <paramref name="transientEnd"/>, where the two join with equal
    /// value and slope (the loss falls ever faster in log time, then at the power law's falling rate).
    /// </summary>
    private static LawRun Constant(int n, long transientEnd, double noise = 0, int seed = 1)
    {
        var eta = Schedule.Parse(F($"constant(peak={Peak}, warmup=100)")).Sample(n);
        var pre = new double[n + 1];
        for (int i = 0; i < n; i++) pre[i + 1] = pre[i] + eta[i];
        var steps = Enumerable.Range(0, n).Where(i => i % 100 == 99 && i >= 100).Select(i => (long)i).ToArray();
        double Law(double s1) => Truth[0] + Truth[1] * Math.Pow(s1, -Truth[2]);
        const double rise = 0.3;
        double xe = Math.Log(pre[transientEnd + 1]), x0 = Math.Log(pre[steps[0] + 1]);
        double k = Truth[2] * Truth[1] * Math.Exp(-Truth[2] * xe);
        // L(x) = L(xe) + integral from x to xe of k (rise + (1 - rise) (u - x0) / (xe - x0)) du.
        double Transient(double x) => Law(Math.Exp(xe)) + k * (rise * (xe - x) + (1 - rise) * ((xe - x0) * (xe - x0) - (x - x0) * (x - x0)) / (2 * (xe - x0)));
        var rng = new Random(seed);
        var y = steps.Select(t =>
        {
            double s1 = pre[t + 1];
            double l = t >= transientEnd ? Law(s1) : Transient(Math.Log(s1));
            return l * Math.Exp(noise * (rng.NextDouble() - 0.5));
        }).ToArray();
        return new LawRun { Name = "constant", Eta = eta, Steps = steps, Observed = y };
    }

    private static string F(FormattableString s) => s.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData(399)]
    [InlineData(599)]
    public void TheSteepestPointOfARisingLogTimeSlopeIsFoundAndTheFitFromThereRecoversThePowerLaw(long transientEnd)
    {
        var run = Constant(2000, transientEnd);
        long end = TransientWindow.End([run]);
        // The smoothed slope peaks where the rise meets the power law: at the join, or at the next point, the first whose
        // local regression (its two neighbours) lies wholly on the power law; either way no transient point is kept.
        end.ShouldBeInRange(transientEnd, transientEnd + 100);

        var windowed = LawFitter.Fit(new PowerLaw(), [run], new FitOptions(Jackknife: false));
        for (int j = 0; j < Truth.Length; j++) windowed.Values[j].ShouldBe(Truth[j], 2e-3 * Truth[j], $"{new PowerLaw().Parameters[j].Name} from the window");
        windowed.Report.Warnings.ShouldContain(w => w.Contains(F($"points before step {end} left out")));

        // Fitted from the warmup on (the window off), the transient drags L0 down by more than 5 % (8 % with the two transient
        // points of transientEnd 399, more than half with 599): the failure the window removes.
        var all = LawFitter.Fit(new PowerLaw(), [run], new FitOptions(Jackknife: false, SkipTransient: false));
        (all.Values[0] / Truth[0]).ShouldBeLessThan(0.95);
    }

    [Theory]
    [InlineData(0.004, 1)]
    [InlineData(0.004, 2)]
    [InlineData(0.004, 3)]
    [InlineData(0.0, 1)]
    public void APowerLawFromTheWarmupOnKeepsEveryPoint(double noise, int seed)
    {
        // transientEnd 199 (the first point): no transient; with 0.4 % noise (the validation loss's seed noise) the slope's noise must not pass for one.
        var run = Constant(2000, transientEnd: 199, noise, seed);
        TransientWindow.End([run]).ShouldBe(0);
    }

    [Fact]
    public void RunsThatKeepTheirWarmupAreLeftAlone()
    {
        // A window chosen to include the warmup (from_step 0) is the caller's: no transient is cut out of it.
        var run = Constant(2000, transientEnd: 599);
        var withWarmup = run with { Steps = [49, .. run.Steps], Observed = [3.0, .. run.Observed!] };
        withWarmup.Validate();
        TransientWindow.End([withWarmup]).ShouldBe(0);
        TransientWindow.End([run]).ShouldBeGreaterThan(0);
    }
}
