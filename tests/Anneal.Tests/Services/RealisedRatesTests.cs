using Anneal.Curves;
using Anneal.Prediction;
using Anneal.Tuning;

namespace Anneal.Tests.Services;

/// <summary>The rates an AutoLRS run realised, continued to its planned total, for its live forecast.</summary>
public class RealisedRatesTests
{
    // autolrs(tau=30, anneal=false) (the paper's stages) over 1000 steps: stages of 30, 60, 120, 240, 240, 240 steps (tau
    // doubles up to tau_max = 8 tau = 240), then a remainder of 70 (>= tau, so a stage of its own). Written out by hand,
    // not from AutoLrsOptions.Plan.
    private static readonly long[] StageStarts = [0, 30, 90, 210, 450, 690, 930];
    private static readonly double[] StageRates = [1e-3, 3e-3, 2e-3, 5e-4, 8e-4, 4e-4, 1e-4];

    private static double RateAt(long step) => StageRates[Array.FindLastIndex(StageStarts, s => s <= step)];

    /// <summary>A run logged every 7 steps (the stage boundaries fall between logged steps) up to <paramref name="last"/>.</summary>
    private static LossCurve Logged(long last)
    {
        var steps = Enumerable.Range(0, (int)(last / 7) + 1).Select(i => 7L * i).ToArray();
        return new LossCurve { Name = "auto", Steps = steps, Loss = steps.Select(s => 3 + 1 / Math.Sqrt(1 + s)).ToArray(), Lr = steps.Select(RateAt).ToArray(), ScheduleSpec = "autolrs(min=1e-4, max=1e-2, tau=30, anneal=false)" };
    }

    [Fact]
    public void Each_started_stage_keeps_its_logged_rate_exactly_and_the_current_rate_is_held_after_its_stage()
    {
        var options = AutoLrsOptions.Parse("autolrs(min=1e-4, max=1e-2, tau=30, anneal=false)");
        var r = RealisedRates.AutoLrs(Logged(300), options, 1000);
        r.Rates.Length.ShouldBe(1000);
        r.LoggedTo.ShouldBe(294); // 7 x 42
        r.ExactTo.ShouldBe(449);  // the end of the stage holding step 294 (210..449)
        // exact per step where interpolating the lr column would blur each boundary over up to 7 steps
        for (long s = 0; s <= 449; s++) r.Rates[s].ShouldBe(RateAt(s), $"step {s}");
        for (long s = 450; s < 1000; s++) r.Rates[s].ShouldBe(5e-4, $"step {s}");
        r.Description.ShouldContain("holds 0.0005 to step 999");
    }

    [Fact]
    public void A_finished_run_is_its_own_rates_with_nothing_assumed()
    {
        var options = AutoLrsOptions.Parse("autolrs(min=1e-4, max=1e-2, tau=30, anneal=false)");
        var r = RealisedRates.AutoLrs(Logged(999), options, 1000);
        r.ExactTo.ShouldBe(999);
        for (long s = 0; s < 1000; s++) r.Rates[s].ShouldBe(RateAt(s));
        r.Description.ShouldNotContain("holds");
    }

    [Fact]
    public void With_the_final_decay_the_last_stage_decays_the_held_rate_linearly_to_zero()
    {
        // autolrs(tau=30) anneals by default: stages 0, 30, 90, 210 as above, then the first stage ending past the midpoint
        // (450 + 240 > 500) runs to the end, 450..999 (550 steps), decaying its rate r as r (550 - k) / 550 at its update k;
        // and the first stage warms up to its rate as r k / 30 (the logged rate of step 0 is 0: step 7's gives r back).
        static double Annealed(long s) => s < 30 ? 1e-3 * s / 30 : RateAt(s);
        var options = AutoLrsOptions.Parse("autolrs(min=1e-4, max=1e-2, tau=30)");
        var curve = Logged(300) with { ScheduleSpec = "autolrs(min=1e-4, max=1e-2, tau=30)" };
        curve = curve with { Lr = curve.Steps.Select(Annealed).ToArray() };
        var r = RealisedRates.AutoLrs(curve, options, 1000);
        r.ExactTo.ShouldBe(449);
        for (long s = 0; s <= 449; s++) r.Rates[s].ShouldBe(Annealed(s), 1e-18, $"step {s}");
        for (long s = 450; s < 1000; s++) r.Rates[s].ShouldBe(5e-4 * (550 - (s - 450)) / 550.0, 1e-18, $"step {s}");
        r.Description.ShouldContain("decays it linearly to 0");
        // a run logged into its final decay: the chosen rate is read back from the decayed logged rate
        var decayed = Logged(999) with { Lr = Logged(999).Steps.Select(s => s < 450 ? Annealed(s) : 5e-4 * (550 - (s - 450)) / 550.0).ToArray() };
        var done = RealisedRates.AutoLrs(decayed, options, 1000);
        for (long s = 450; s < 1000; s++) done.Rates[s].ShouldBe(5e-4 * (550 - (s - 450)) / 550.0, 1e-15, $"step {s}");
    }

    [Fact]
    public void A_run_without_a_logged_rate_is_refused_naming_the_column()
    {
        var options = AutoLrsOptions.Parse("autolrs(min=1e-4, max=1e-2, tau=30, anneal=false)");
        Should.Throw<InputException>(() => RealisedRates.AutoLrs(Logged(100) with { Lr = null }, options, 1000)).Message.ShouldContain("lr column");
    }
}
