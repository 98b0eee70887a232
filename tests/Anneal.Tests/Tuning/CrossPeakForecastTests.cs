using Anneal.Schedules;
using Anneal.Tuning;

namespace Anneal.Tests.Tuning;

/// <summary>
/// The forecast pruner's cross-peak forecast (<see cref="CrossPeakForecast"/>): recovery of a known curve from its own
/// model, and the rule on real engine curves at peaks where no complete trial shares the trial's peak.
/// </summary>
public class CrossPeakForecastTests
{
    /// <summary>
    /// Closed form: curves generated from the model itself (levels c_r, A = 0.4, alpha = 0.3, sigma = 6, p = 1, tau =
    /// 3% of the run, all on the fit's grid; computed here independently, step by step), complete runs at peaks 0.01,
    /// 0.03 and 0.1 with different cooldowns, and a trial at 0.05 cut before its cooldown. The forecast of its final
    /// value must equal the generating curve's (noise-free data: every plausible grid point and the cross-validation
    /// reproduce it), and the band must contain it.
    /// </summary>
    [Fact]
    public void Recovers_the_final_value_of_a_curve_generated_by_its_model()
    {
        const int T = 600;
        const double A = 0.4, Alpha = 0.3, Sigma = 6, P = 1, Tau = 0.03 * T;
        var specs = new (string Schedule, double Level)[]
        {
            ("cosine(peak=0.01, total=600, warmup=30)", 1.9),
            ("wsd(peak=0.03, total=600, warmup=30, decay=0.3)", 1.7),
            ("wsd(peak=0.1, total=600, warmup=30, decay=0.6)", 1.8),
            ("wsd(peak=0.05, total=600, warmup=30, decay=0.4)", 1.75), // the trial
        };
        var etas = specs.Select(s => Schedule.Parse(s.Schedule).Sample(T)).ToArray();
        double refRate = etas.Max(e => e.Max());
        var curves = new List<(long[] Steps, double[] Values)>();
        for (int r = 0; r < specs.Length; r++)
        {
            var eta = etas[r];
            int top = Array.IndexOf(eta, eta.Max());
            double area = 0, avg = 0;
            var steps = new List<long>();
            var values = new List<double>();
            for (int k = 0; k < T; k++)
            {
                area += eta[k] / refRate;
                avg = k <= top ? eta[k] / refRate : avg + (eta[k] / refRate - avg) / Tau;
                if (k >= top && (k + 1) % 20 == 0)
                {
                    steps.Add(k);
                    values.Add(specs[r].Level + A * Math.Pow(area, -Alpha) + Sigma * Math.Pow(avg, P));
                }
            }
            curves.Add((steps.ToArray(), values.ToArray()));
        }
        var complete = Enumerable.Range(0, 3).Select(r => new CrossPeakForecast.Curve(etas[r], curves[r].Steps, curves[r].Values)).ToList();
        var (ts, tv) = curves[3];
        int cut = ts.Count(s => s < 0.6 * T); // before its cooldown
        var trial = new CrossPeakForecast.Curve(etas[3][..(int)(ts[cut - 1] + 1)], ts[..cut], tv[..cut]);
        var f = CrossPeakForecast.ForecastValidated(complete, trial, etas[3], 0.95);
        f.ShouldNotBeNull();
        double truth = tv[^1];
        f!.Value.Mid.ShouldBe(truth, 1e-6);
        f.Value.Low.ShouldBeLessThanOrEqualTo(truth + 1e-9);
        f.Value.High.ShouldBeGreaterThanOrEqualTo(truth - 1e-9);
        // the premise that makes this a forecast: the cooldown ahead moves the value by far more than the tolerance
        (tv[cut - 1] - truth).ShouldBeGreaterThan(0.05);
    }

    /// <summary>
    /// The hard rule where no complete trial shares the trial's peak: on the large MLP table (data/tuning/mlp-large,
    /// the engine's validation loss every 50 steps) the table's best configuration, `wsdsqrt50_p5e-2` (a 50% 1-sqrt
    /// cooldown from step 500, final 1.7712), is 0.068 behind the cosine incumbent `cosine_p3.54e-2` (final 1.7904) at
    /// step 499, and Optuna's median rule prunes it. With complete trials at peaks 0.0177, 0.0354 and 0.141 only, the
    /// forecast pruner (cross-peak forecast) must keep it through its stable phase, and must have judged it.
    /// </summary>
    [Fact]
    public void Keeps_a_wsd_trial_behind_before_its_cooldown_that_wins_without_a_complete_trial_at_its_peak()
    {
        var incumbent = MlpLargeTable.Trial(0, "cosine_p3.54e-2", "cosine(peak=3.54e-2, total=1000, warmup=50)");
        var complete = new[]
        {
            incumbent,
            MlpLargeTable.Trial(1, "wsd20_p3.54e-2", "wsd(peak=3.54e-2, total=1000, warmup=50, decay=0.2)"),
            MlpLargeTable.Trial(2, "cosine_p1.41e-1", "cosine(peak=1.41e-1, total=1000, warmup=50)"),
            MlpLargeTable.Trial(3, "wsd35_p1.77e-2", "wsd(peak=1.77e-2, total=1000, warmup=50, decay=0.35)"),
        };
        var best = MlpLargeTable.Curve("wsdsqrt50_p5e-2");
        var stable = best.Where(r => r.Step < 500).ToArray();
        stable[^1].Value.ShouldBeGreaterThan(incumbent.ValueAt(stable[^1].Step)!.Value + 0.05); // behind at equal steps
        best[^1].Value.ShouldBeLessThan(incumbent.Value!.Value - 0.015); // and wins
        var trial = new TrialRecord(4, new TrialParams([]), TrialState.Running, null, []) { Schedule = "wsd(peak=5e-2, total=1000, warmup=50, decay=0.5, shape=sqrt)", PlannedSteps = 1000 };
        ForecastPrunerTests.ReplayWith(new MedianPruner(startupTrials: 1), complete, trial, stable).PrunedAt.ShouldNotBeNull();
        var (prunedAt, reasons) = ForecastPrunerTests.ReplayWith(new ForecastPruner(), complete, trial, stable);
        prunedAt.ShouldBeNull(string.Join("\n", reasons));
        reasons.Count(r => r.Contains("cross-peak forecast", StringComparison.Ordinal)).ShouldBeGreaterThanOrEqualTo(3, string.Join("\n", reasons));
    }

    /// <summary>
    /// And it prunes where the cross-peak forecast is clear: `constant_p7.07e-2` (constant rate 0.0707, no cooldown, final
    /// 1.960 against the incumbent's 1.790) with the same complete trials, none at its peak, is stopped before its end.
    /// </summary>
    [Fact]
    public void Prunes_a_clearly_worse_trial_at_another_peak()
    {
        var complete = new[]
        {
            MlpLargeTable.Trial(0, "cosine_p3.54e-2", "cosine(peak=3.54e-2, total=1000, warmup=50)"),
            MlpLargeTable.Trial(1, "wsd20_p3.54e-2", "wsd(peak=3.54e-2, total=1000, warmup=50, decay=0.2)"),
            MlpLargeTable.Trial(2, "cosine_p1.41e-1", "cosine(peak=1.41e-1, total=1000, warmup=50)"),
            MlpLargeTable.Trial(3, "wsd35_p1.77e-2", "wsd(peak=1.77e-2, total=1000, warmup=50, decay=0.35)"),
        };
        var worse = MlpLargeTable.Curve("constant_p7.07e-2");
        worse[^1].Value.ShouldBeGreaterThan(1.9);
        var trial = new TrialRecord(4, new TrialParams([]), TrialState.Running, null, []) { Schedule = "constant(peak=7.07e-2, warmup=50)", PlannedSteps = 1000 };
        var (prunedAt, reasons) = ForecastPrunerTests.ReplayWith(new ForecastPruner(), complete, trial, worse.Where(r => r.Step < 999).ToArray());
        prunedAt.ShouldNotBeNull(string.Join("\n", reasons));
        prunedAt!.Value.ShouldBeLessThan(900L, string.Join("\n", reasons));
    }

    /// <summary>
    /// The law path refuses a cooldown longer than any complete run's at the trial's peak; such a trial now gets the
    /// cross-peak forecast instead of running unjudged (<see cref="ForecastPruner.CrossPeakFallback"/>). Real large MLP
    /// curves: `wsd50_p8.84e-3` (50% cooldown at the lowest peak, final 1.870) with `wsd10_p8.84e-3` (10% cooldown, final
    /// 1.862) the only complete trial at its peak, and the incumbent `cosine_p3.54e-2` (1.790) among trials at other
    /// peaks. It must be pruned before step 900 by the cross-peak forecast; with the fallback off it is never judged.
    /// </summary>
    [Fact]
    public void Judges_a_cooldown_longer_than_any_complete_one_at_its_peak_by_the_cross_peak_forecast()
    {
        var complete = new[]
        {
            MlpLargeTable.Trial(0, "cosine_p3.54e-2", "cosine(peak=3.54e-2, total=1000, warmup=50)"),
            MlpLargeTable.Trial(1, "wsd20_p3.54e-2", "wsd(peak=3.54e-2, total=1000, warmup=50, decay=0.2)"),
            MlpLargeTable.Trial(2, "wsd35_p1.77e-2", "wsd(peak=1.77e-2, total=1000, warmup=50, decay=0.35)"),
            MlpLargeTable.Trial(3, "wsd10_p8.84e-3", "wsd(peak=8.84e-3, total=1000, warmup=50, decay=0.1)"),
        };
        var loser = MlpLargeTable.Curve("wsd50_p8.84e-3");
        loser[^1].Value.ShouldBeGreaterThan(complete[0].Value!.Value + 0.07);
        var trial = new TrialRecord(4, new TrialParams([]), TrialState.Running, null, []) { Schedule = "wsd(peak=8.84e-3, total=1000, warmup=50, decay=0.5)", PlannedSteps = 1000 };
        var reports = loser.Where(r => r.Step < 999).ToArray();
        var (prunedAt, reasons) = ForecastPrunerTests.ReplayWith(new ForecastPruner(), complete, trial, reports);
        prunedAt.ShouldNotBeNull(string.Join("\n", reasons));
        prunedAt!.Value.ShouldBeLessThan(900L, string.Join("\n", reasons));
        reasons.Last().ShouldContain("cross-peak forecast");
        var (off, offReasons) = ForecastPrunerTests.ReplayWith(new ForecastPruner { CrossPeakFallback = false }, complete, trial, reports);
        off.ShouldBeNull(string.Join("\n", offReasons));
        offReasons.ShouldContain(r => r.Contains("cooldown as long as this trial's", StringComparison.Ordinal));
    }

    /// <summary>
    /// A configuration proposed twice (a random sampler on a discrete table does this) must count once in the cross-peak
    /// fit: otherwise its copy is among the "other" runs that forecast it in the cross-validation, the error seen is nil
    /// and the band collapses to the profile band. The sequence of a `lr-best/mlp` sweep (random + forecast, seed 8,
    /// data/tuning/mlp) that lost the table's best configuration this way: complete `wsd20_p1e-1` three times,
    /// `constant_p6.25e-3` and `wsd50_p1e-1` twice (incumbent, 1.800); then `wsd50_p2.5e-2` (no complete trial at its
    /// peak; final 1.796, the best of the table) was forecast 1.857 [1.832, 1.881] at step 499 and pruned. It must run
    /// to its end.
    /// </summary>
    [Fact]
    public void Counts_a_repeated_configuration_once_and_keeps_the_lr_tables_best()
    {
        static TrialRecord Done(int n, string key, string schedule)
        {
            var c = ForecastPrunerTests.CurveIn(Path.Combine(TestPaths.RepoRoot, "data", "tuning", "mlp", key + ".csv"));
            return new TrialRecord(n, new TrialParams([]), TrialState.Complete, c[^1].Value, c) { Schedule = schedule, PlannedSteps = 1000 };
        }
        const string wsd20 = "wsd(peak=1e-1, total=1000, warmup=50, decay=0.2)", wsd50 = "wsd(peak=1e-1, total=1000, warmup=50, decay=0.5)";
        var complete = new[]
        {
            Done(0, "wsd20_p1e-1", wsd20), Done(1, "wsd20_p1e-1", wsd20), Done(2, "constant_p6.25e-3", "constant(peak=6.25e-3, warmup=50)"),
            Done(3, "wsd20_p1e-1", wsd20), Done(5, "wsd50_p1e-1", wsd50), Done(11, "wsd50_p1e-1", wsd50),
        };
        var best = ForecastPrunerTests.CurveIn(Path.Combine(TestPaths.RepoRoot, "data", "tuning", "mlp", "wsd50_p2.5e-2.csv"));
        best[^1].Value.ShouldBeLessThan(complete.Min(t => t.Value!.Value));
        var trial = new TrialRecord(12, new TrialParams([]), TrialState.Running, null, []) { Schedule = "wsd(peak=2.5e-2, total=1000, warmup=50, decay=0.5)", PlannedSteps = 1000 };
        var (prunedAt, reasons) = ForecastPrunerTests.ReplayWith(new ForecastPruner(), complete, trial, best.Where(r => r.Step < 999).ToArray());
        prunedAt.ShouldBeNull(string.Join("\n", reasons));
        reasons.Count(r => r.Contains("cross-peak forecast", StringComparison.Ordinal)).ShouldBeGreaterThanOrEqualTo(3, string.Join("\n", reasons));
    }
}
