using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// The fit window after the early transient (<see cref="TransientWindow"/>): a curve that is a known power law from step
/// 600 on and falls at the power law's own log-time slope before (a plateau of -dL/d ln S1, as gpt-tiny's validation
/// loss does over steps 199-599) must be fitted from the plateau's end, which recovers the power law's parameters; curves
/// that are power laws throughout must keep every point.
/// </summary>
public class TransientWindowTests
{
    private const double Peak = 3e-3;
    private static readonly double[] Truth = [1.5, 0.75, 0.47];   // L0, A, alpha of L0 + A*S1^-alpha (gpt-tiny-long's constant run, 300-12,000)

    /// <summary>Validation-style logging (every 100 steps, 99 to n-1) of a constant run with warmup 100.</summary>
    private static LawRun Constant(int n, long transientEnd, double noise = 0, int seed = 1)
    {
        var eta = Schedule.Parse(F($"constant(peak={Peak}, warmup=100)")).Sample(n);
        var pre = new double[n + 1];
        for (int i = 0; i < n; i++) pre[i + 1] = pre[i] + eta[i];
        var steps = Enumerable.Range(0, n).Where(i => i % 100 == 99 && i >= 100).Select(i => (long)i).ToArray();
        double Law(double s1) => Truth[0] + Truth[1] * Math.Pow(s1, -Truth[2]);
        // Before transientEnd: the straight line in ln S1 that touches the power law there (the power law is convex in ln S1, so
        // the line lies below it): the loss falls at a constant log-time rate, as in the early transient.
        double sEnd = pre[transientEnd + 1], k = Truth[2] * Truth[1] * Math.Pow(sEnd, -Truth[2]);
        var rng = new Random(seed);
        var y = steps.Select(t =>
        {
            double s1 = pre[t + 1];
            double l = t >= transientEnd ? Law(s1) : Law(sEnd) + k * (Math.Log(sEnd) - Math.Log(s1));
            return l * Math.Exp(noise * (rng.NextDouble() - 0.5));
        }).ToArray();
        return new LawRun { Name = "constant", Eta = eta, Steps = steps, Observed = y };
    }

    private static string F(FormattableString s) => s.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void TheEndOfAPlateauOfTheLogTimeSlopeIsFoundAndTheFitFromThereRecoversThePowerLaw()
    {
        var run = Constant(2000, transientEnd: 599);
        long end = TransientWindow.End([run]);
        // The plateau ends at 599; the scan stops once the slope has fallen by the tolerance (15 %), which a power law with
        // alpha 0.47 needs a 1.41-fold growth of S1 for: steps 599..~840.
        end.ShouldBeInRange(599, 899);

        var windowed = LawFitter.Fit(new PowerLaw(), [run], new FitOptions(Jackknife: false));
        for (int j = 0; j < Truth.Length; j++) windowed.Values[j].ShouldBe(Truth[j], 2e-3 * Truth[j], $"{new PowerLaw().Parameters[j].Name} from the window");
        windowed.Report.Warnings.ShouldContain(w => w.Contains(F($"points before step {end} left out")));

        // Fitted from the warmup on (the window off), the transient drags L0 down by more than 10 %: the failure the window removes.
        var all = LawFitter.Fit(new PowerLaw(), [run], new FitOptions(Jackknife: false, SkipTransient: false));
        (all.Values[0] / Truth[0]).ShouldBeLessThan(0.9);
    }

    [Theory]
    [InlineData(0.004, 1)]
    [InlineData(0.004, 2)]
    [InlineData(0.004, 3)]
    [InlineData(0.0, 1)]
    public void APowerLawFromTheWarmupOnKeepsEveryPoint(double noise, int seed)
    {
        // transientEnd 99: no plateau; with 0.4 % noise (the validation loss's seed noise) the slope's noise must not pass for one.
        var run = Constant(2000, transientEnd: 99, noise, seed);
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
