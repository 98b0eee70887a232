using System.Globalization;
using Anneal.Tuning;

namespace Anneal.Tests.Tuning;

/// <summary>
/// The forecast pruner on real engine curves (data/corpora/gpt-tiny: training loss of `anneal train` runs, logged every
/// 10 steps): the runs' own schedules are the trials' planned schedules.
/// </summary>
public class ForecastPrunerTests
{
    /// <summary>A corpus run's curve of one metric: column 2 is the training loss (every 10 steps), 3 the validation loss (every 100).</summary>
    internal static Report[] Curve(string corpus, string file, long? untilStep = null, int column = 3) =>
        CurveIn(Path.Combine(TestPaths.RepoRoot, "data", "corpora", corpus, file), column)
            .Where(r => untilStep is null || r.Step <= untilStep)
            .ToArray();

    /// <summary>The (step, value) rows of a step-first log CSV whose <paramref name="column"/> is filled.</summary>
    internal static Report[] CurveIn(string path, int column = 3) =>
        File.ReadLines(path).Skip(1)
            .Select(l => l.Split(','))
            .Where(c => c.Length > column && c[column].Length > 0)
            .Select(c => new Report(long.Parse(c[0], CultureInfo.InvariantCulture), double.Parse(c[column], CultureInfo.InvariantCulture)))
            .ToArray();

    private static TrialRecord Complete(int n, string file, string schedule, string corpus = "gpt-tiny")
    {
        var c = Curve(corpus, file);
        return new TrialRecord(n, new TrialParams([]), TrialState.Complete, c[^1].Value, c) { Schedule = schedule, PlannedSteps = c[^1].Step + 1 };
    }

    /// <summary>
    /// Replays a trial's reports through a pruner, recording attributes as a study would; returns the step it was
    /// pruned at (null: never) and every decision's reason.
    /// </summary>
    internal static (long? PrunedAt, List<string> Reasons) Replay(IPruner pruner, TrialRecord incumbent, TrialRecord trial, Report[] reports) =>
        ReplayWith(pruner, [incumbent], trial, reports);

    /// <summary><see cref="Replay"/> with several complete trials.</summary>
    internal static (long? PrunedAt, List<string> Reasons) ReplayWith(IPruner pruner, IReadOnlyList<TrialRecord> complete, TrialRecord trial, Report[] reports)
    {
        var reasons = new List<string>();
        var t = trial;
        foreach (var r in reports)
        {
            t = t with { Reports = [.. t.Reports, r] };
            var d = pruner.Decide("s", t, [.. complete, t]);
            if (d.SetAttributes is { } set)
            {
                var a = new Dictionary<string, double>(t.Attributes);
                foreach (var kv in set) a[kv.Key] = kv.Value;
                t = t with { Attributes = a };
            }
            if (d.Reason is not null) reasons.Add($"step {r.Step}: {d.Reason}");
            if (d.Prune) return (r.Step, reasons);
        }
        return (null, reasons);
    }

    /// <summary>
    /// The issue's requirement: a WSD trial (20% linear cooldown from step 1600) is behind the cosine incumbent at equal
    /// steps all through its stable phase (validation loss 1.862 vs 1.778 at step 1599), so the median rule prunes it, yet it
    /// ends ahead (1.731 vs 1.751). The forecast pruner, which forecasts the planned cooldown, must not prune it before the
    /// cooldown starts.
    /// </summary>
    [Theory]
    [InlineData(null)]
    [InlineData(0.5)] // the riskiest setting: prunes whenever the point forecast is worse than the incumbent
    public void Never_prunes_a_wsd_trial_before_its_cooldown_for_being_behind_a_cosine_incumbent(double? risk)
    {
        var incumbent = Complete(0, "cosine_T2000_s1.csv", "cosine(peak=3e-3, total=2000, warmup=100)");
        var wsd = Curve("gpt-tiny", "wsd_lin20_T2000_s1.csv");
        var stable = wsd.Where(r => r.Step < 1600).ToArray();
        var trial = new TrialRecord(1, new TrialParams([]), TrialState.Running, null, []) { Schedule = "wsd(peak=3e-3, total=2000, warmup=100, decay=0.2)", PlannedSteps = 2000 };

        // The premise, from the data: behind at equal steps before the cooldown, ahead at the end.
        stable[^1].Value.ShouldBeGreaterThan(incumbent.ValueAt(stable[^1].Step)!.Value + 0.05);
        wsd[^1].Value.ShouldBeLessThan(incumbent.Value!.Value);
        // Equal-step pruning gets it wrong: Optuna's median rule (one complete trial) prunes it.
        Replay(new MedianPruner(startupTrials: 1), incumbent, trial, stable).PrunedAt.ShouldNotBeNull();

        var (prunedAt, reasons) = Replay(new ForecastPruner(risk: risk), incumbent, trial, stable);
        prunedAt.ShouldBeNull(string.Join("\n", reasons));
        reasons.Count.ShouldBeGreaterThanOrEqualTo(4); // it was judged at the checkpoints up to 80%, not skipped
    }

    /// <summary>
    /// The same requirement over every WSD cooldown of the gpt-tiny corpus at 2000 steps (linear 10-80% and 1-sqrt 20%):
    /// each ends ahead of the cosine incumbent (data/corpora/README.md's table: 1.726-1.742 vs 1.751) and none may be
    /// pruned before its cooldown starts, with two complete trials (cosine and linear) in the fit.
    /// </summary>
    [Theory]
    [InlineData("wsd_lin10_T2000_s1.csv", 0.1, "linear", null)]
    [InlineData("wsd_lin20_T2000_s1.csv", 0.2, "linear", null)]
    [InlineData("wsd_lin40_T2000_s1.csv", 0.4, "linear", null)]
    [InlineData("wsd_lin60_T2000_s1.csv", 0.6, "linear", null)]
    [InlineData("wsd_lin80_T2000_s1.csv", 0.8, "linear", null)]
    [InlineData("wsd_sqrt20_T2000_s1.csv", 0.2, "sqrt", null)]
    [InlineData("wsd_lin10_T2000_s1.csv", 0.1, "linear", 0.5)]
    [InlineData("wsd_lin20_T2000_s1.csv", 0.2, "linear", 0.5)]
    [InlineData("wsd_lin40_T2000_s1.csv", 0.4, "linear", 0.5)]
    [InlineData("wsd_lin60_T2000_s1.csv", 0.6, "linear", 0.5)]
    [InlineData("wsd_lin80_T2000_s1.csv", 0.8, "linear", 0.5)]
    [InlineData("wsd_sqrt20_T2000_s1.csv", 0.2, "sqrt", 0.5)]
    public void Never_prunes_any_wsd_cooldown_of_the_corpus_before_it_starts(string file, double decay, string shape, double? risk)
    {
        var cosine = Complete(0, "cosine_T2000_s1.csv", "cosine(peak=3e-3, total=2000, warmup=100)");
        var linear = Complete(1, "linear_T2000_s1.csv", "linear(peak=3e-3, total=2000, warmup=100)");
        var wsd = Curve("gpt-tiny", file);
        wsd[^1].Value.ShouldBeLessThan(cosine.Value!.Value); // the premise: it wins
        long start = (long)Math.Round(2000 * (1 - decay));
        var stable = wsd.Where(r => r.Step < start).ToArray();
        var trial = new TrialRecord(2, new TrialParams([]), TrialState.Running, null, [])
        { Schedule = $"wsd(peak=3e-3, total=2000, warmup=100, decay={decay.ToString(CultureInfo.InvariantCulture)}, shape={shape})", PlannedSteps = 2000 };
        var (prunedAt, reasons) = ReplayWith(new ForecastPruner(risk: risk), [cosine, linear], trial, stable);
        prunedAt.ShouldBeNull(string.Join("\n", reasons));
    }

    /// <summary>
    /// A constant-rate run says nothing about what a cooldown gains: with only the constant run complete, the law's
    /// annealing terms are unidentified. Before the guard, the tabular benchmark pruned wsd_lin60_T2000 (final 1.726,
    /// the table's second best) at step 399 on such a prior, forecasting 1.886 [1.882, 1.890] against the constant
    /// run's 1.829. The trial must run until a complete trial has annealed.
    /// </summary>
    [Fact]
    public void Does_not_forecast_a_cooldown_from_a_constant_rate_prior()
    {
        var c = Curve("gpt-tiny", "constant_s1.csv", untilStep: 1999);
        var constant = new TrialRecord(0, new TrialParams([]), TrialState.Complete, c[^1].Value, c) { Schedule = "constant(peak=3e-3, warmup=100)", PlannedSteps = 2000 };
        var wsd = Curve("gpt-tiny", "wsd_lin60_T2000_s1.csv");
        wsd[^1].Value.ShouldBeLessThan(constant.Value!.Value - 0.05); // the premise: far better in the end
        var trial = new TrialRecord(1, new TrialParams([]), TrialState.Running, null, []) { Schedule = "wsd(peak=3e-3, total=2000, warmup=100, decay=0.6)", PlannedSteps = 2000 };
        var (prunedAt, reasons) = Replay(new ForecastPruner(), constant, trial, wsd.Where(r => r.Step < 800).ToArray());
        prunedAt.ShouldBeNull(string.Join("\n", reasons));
        reasons.ShouldContain(r => r.Contains("annealed", StringComparison.Ordinal));
    }

    /// <summary>
    /// A short cooldown does not tell how much a long one gains. On the large MLP table (data/tuning/mlp-large: the
    /// engine's validation loss every 50 steps), with `wsd10_p5e-2` (a 10% cooldown, final 1.818) complete at the trial's
    /// peak and `wsd20_p3.54e-2` (1.797) the incumbent, `wsd50_p5e-2` (final 1.776, the table's 4th best of 48) was
    /// forecast 1.860 [1.819, 1.903] at step 799, 60% into its run and into its cooldown, and pruned in the tabular
    /// benchmark (random + forecast, seed 2). It must run to its end: no complete run of the fit has a cooldown as
    /// long as its own.
    /// </summary>
    [Fact]
    public void Does_not_forecast_a_long_cooldown_from_a_short_one()
    {
        var shortCooldown = MlpLargeTable.Trial(0, "wsd10_p5e-2", "wsd(peak=5e-2, total=1000, warmup=50, decay=0.1)");
        var incumbent = MlpLargeTable.Trial(1, "wsd20_p3.54e-2", "wsd(peak=3.54e-2, total=1000, warmup=50, decay=0.2)");
        var best = MlpLargeTable.Curve("wsd50_p5e-2");
        best[^1].Value.ShouldBeLessThan(incumbent.Value!.Value - 0.02); // the premise: it wins
        var trial = new TrialRecord(2, new TrialParams([]), TrialState.Running, null, []) { Schedule = "wsd(peak=5e-2, total=1000, warmup=50, decay=0.5)", PlannedSteps = 1000 };
        var (prunedAt, reasons) = ReplayWith(new ForecastPruner(), [shortCooldown, incumbent], trial, best.Where(r => r.Step < 999).ToArray());
        prunedAt.ShouldBeNull(string.Join("\n", reasons));
        reasons.ShouldContain(r => r.Contains("cooldown as long", StringComparison.Ordinal));
    }

    /// <summary>
    /// On the MLP workload a trial at constant LR for 1000 steps ends at validation loss 1.918, 8% above the cosine
    /// incumbent's 1.777: pruned before the end, saving steps, at the default risk (0.025) and at 0.2. With one complete
    /// trial no case calibrates the law path (docs/tuning.md, session 12), so the trial is judged by auto's own band
    /// (<see cref="ForecastPruner.UncalibratedScale"/> 1 since session 21): since session 21 that band is the one covering
    /// every development corpus (docs/journal/session-21-band-decision.md), about +-5 % on this noisy training loss. Widened
    /// 3x as before session 21 (+-16 %), P(ends below the incumbent) was 0.14-0.18 from step 199 to 699 and the trial ran
    /// to its end at the default risk; the 3x widening was set in session 10 for the fit's delta-method band, which missed
    /// 19 % of the tables' finals, where auto's band, unwidened, misses no more often than it promises (docs/tuning.md, "Session
    /// 21: the pruner under the wider band").
    /// </summary>
    [Fact]
    public void Prunes_a_trial_whose_forecast_is_clearly_worse()
    {
        var incumbent = Complete(0, "cosine_T1000_s1.csv", "cosine(peak=5e-2, total=1000, warmup=50)", "mlp");
        var constant = Curve("mlp", "constant_s1.csv", untilStep: 999);
        var trial = new TrialRecord(1, new TrialParams([]), TrialState.Running, null, []) { Schedule = "constant(peak=5e-2, warmup=50)", PlannedSteps = 1000 };
        double final = constant[^1].Value;
        final.ShouldBe(1.918, 0.001); // the premise: 8 % above the incumbent
        foreach (var pruner in new[] { new ForecastPruner(), new ForecastPruner(risk: 0.2) })
        {
            var (prunedAt, reasons) = Replay(pruner, incumbent, trial, constant);
            prunedAt.ShouldNotBeNull(string.Join("\n", reasons));
            prunedAt!.Value.ShouldBeLessThan(900L, string.Join("\n", reasons));
            // The unwidened band it is pruned on still holds the run's recorded end (the independent check: the corpus's own
            // final value), so the prune is not bought by a band that is confidently wrong.
            var band = System.Text.RegularExpressions.Regex.Match(reasons[^1], @"\[([0-9.]+), ([0-9.]+)\]");
            band.Success.ShouldBeTrue(reasons[^1]);
            final.ShouldBeInRange(double.Parse(band.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(band.Groups[2].Value, CultureInfo.InvariantCulture), reasons[^1]);
        }
        // The band widened 3x (the rule before session 21) let it run to its end at the default risk with the bands of
        // sessions 16-21; session 22's band follows the fit's own evidence and is about a third as wide here (+-2.5 % at step
        // 299), so even widened 3x it prunes, never before the unwidened band does.
        var (plain, _) = Replay(new ForecastPruner(), incumbent, trial, constant);
        var (widened, why) = Replay(new ForecastPruner { UncalibratedScale = 3 }, incumbent, trial, constant);
        widened.ShouldNotBeNull(string.Join("\n", why));
        widened!.Value.ShouldBeGreaterThanOrEqualTo(plain!.Value, string.Join("\n", why));
    }

    /// <summary>
    /// The risk option: a prune needs the probability that the trial ends below the incumbent
    /// (<see cref="ForecastPruner.BeatsIncumbent"/>) below the risk. Risk 0.025 (= (1 - level) / 2) is the default bit for
    /// bit, and at risk 0.5 a trial is pruned exactly when its point forecast is worse than the incumbent's value (the
    /// normal distribution function is below 1/2 exactly for a negative argument). Replayed on the MLP corpus's
    /// constant-rate trial against the cosine incumbent (1.918 vs 1.777 at the end), and a higher risk never prunes later.
    /// </summary>
    [Fact]
    public void Risk_sets_the_quantile_that_decides()
    {
        var incumbent = Complete(0, "cosine_T1000_s1.csv", "cosine(peak=5e-2, total=1000, warmup=50)", "mlp");
        var constant = Curve("mlp", "constant_s1.csv", untilStep: 999);
        var trial = new TrialRecord(1, new TrialParams([]), TrialState.Running, null, []) { Schedule = "constant(peak=5e-2, warmup=50)", PlannedSteps = 1000 };
        var byDefault = Replay(new ForecastPruner(), incumbent, trial, constant);
        var explicitDefault = Replay(new ForecastPruner(risk: 0.025), incumbent, trial, constant);
        explicitDefault.PrunedAt.ShouldBe(byDefault.PrunedAt);
        explicitDefault.Reasons.ShouldBe(byDefault.Reasons);

        // At risk 0.5 every judged decision is "point forecast above the incumbent's value".
        var half = new ForecastPruner(risk: 0.5);
        var t = trial;
        int judged = 0;
        long? prunedHalf = null;
        foreach (var r in constant)
        {
            t = t with { Reports = [.. t.Reports, r] };
            var d = half.Decide("s", t, [incumbent, t]);
            if (d.SetAttributes is { } set)
            {
                var a = new Dictionary<string, double>(t.Attributes);
                foreach (var kv in set) a[kv.Key] = kv.Value;
                t = t with { Attributes = a };
                if (set.TryGetValue(ForecastPruner.ForecastKey, out var mid) && set.TryGetValue("forecast_low", out var low) && double.IsFinite(low)
                    && d.Reason!.Contains("P(ends below it)", StringComparison.Ordinal) && !d.Reason.Contains("cooldown ahead", StringComparison.Ordinal))
                {
                    judged++;
                    d.Prune.ShouldBe(mid > incumbent.Value!.Value, d.Reason);
                }
            }
            if (d.Prune) { prunedHalf = r.Step; break; }
        }
        judged.ShouldBeGreaterThan(0);
        var fifth = Replay(new ForecastPruner(risk: 0.2), incumbent, trial, constant).PrunedAt;
        prunedHalf.ShouldNotBeNull();
        fifth.ShouldNotBeNull();
        byDefault.PrunedAt.ShouldNotBeNull();
        prunedHalf!.Value.ShouldBeLessThanOrEqualTo(fifth!.Value);
        fifth.Value.ShouldBeLessThanOrEqualTo(byDefault.PrunedAt!.Value);
    }

    /// <summary>
    /// The probability that a trial ends below the incumbent, against a Monte Carlo draw of the model it states (the
    /// independent source: 400,000 seeded Box-Muller pairs, trial final ~ N(mid, sd_t^2), incumbent ~ N(inc, sd_i^2), the
    /// standard deviations the band's distances over z(0.975) = 1.959964): sd_t = 0.01, sd_i = 0.005 and the forecast 0.02
    /// or 0.025 above the incumbent give Phi(-1.7889) = 0.0368 and Phi(-2.2361) = 0.0127. The second is pruned at the
    /// default risk (0.025) though its optimistic end (1.7854) is below the incumbent's pessimistic end (1.7898), the rule
    /// before session 14, which added the two distances where the variances add.
    /// </summary>
    [Theory]
    [InlineData(0.020, 0.0368)]
    [InlineData(0.025, 0.0127)]
    public void The_probability_of_beating_the_incumbent_adds_the_variances(double ahead, double expected)
    {
        const double z = 1.959963984540054, sdT = 0.01, sdI = 0.005, inc = 1.78;
        double mid = inc + ahead, low = mid - z * sdT, pessimistic = inc + z * sdI;
        var pruner = new ForecastPruner();
        double p = pruner.BeatsIncumbent(mid, low, inc, pessimistic);
        var rng = new Random(20261201);
        int n = 400_000, below = 0;
        for (int i = 0; i < n; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble(), r = Math.Sqrt(-2 * Math.Log(u1));
            double trial = mid + sdT * r * Math.Cos(2 * Math.PI * u2), incumbent = inc + sdI * r * Math.Sin(2 * Math.PI * u2);
            if (trial < incumbent) below++;
        }
        p.ShouldBe((double)below / n, 0.0015); // binomial sd at p = 0.037: 0.0003
        p.ShouldBe(expected, 5e-4);
        (p < pruner.Risk).ShouldBe(ahead == 0.025);
        if (ahead == 0.025) low.ShouldBeLessThan(pessimistic); // the old rule kept it
    }

    /// <summary>
    /// The calibration cache is a memo: bounded to 2 entries (evicting the oldest), the pruner makes the same decisions
    /// with the same reasons as with the default bound on a replay that calibrates (three complete trials at the
    /// trial's peak: gpt-tiny's cosine, linear and 20% WSD runs, and the 40% WSD trial), and never holds more than 2.
    /// </summary>
    [Fact]
    public void The_calibration_cache_is_bounded_and_changes_no_decision()
    {
        var complete = new[]
        {
            Complete(0, "cosine_T2000_s1.csv", "cosine(peak=3e-3, total=2000, warmup=100)"),
            Complete(1, "linear_T2000_s1.csv", "linear(peak=3e-3, total=2000, warmup=100)"),
            Complete(2, "wsd_lin20_T2000_s1.csv", "wsd(peak=3e-3, total=2000, warmup=100, decay=0.2)"),
        };
        var trial = new TrialRecord(3, new TrialParams([]), TrialState.Running, null, []) { Schedule = "constant(peak=3e-3, warmup=100)", PlannedSteps = 2000 };
        var reports = Curve("gpt-tiny", "constant_s1.csv", untilStep: 1999);
        var small = new ForecastPruner { CaseCacheCapacity = 2 };
        var big = new ForecastPruner();
        var a = ReplayWith(small, complete, trial, reports);
        var b = ReplayWith(big, complete, trial, reports);
        a.Reasons.ShouldBe(b.Reasons);
        a.PrunedAt.ShouldBe(b.PrunedAt);
        big.CachedCases.ShouldBeGreaterThan(2); // the replay does fill a cache, so the bound was exercised
        small.CachedCases.ShouldBeLessThanOrEqualTo(2);
    }
    /// <summary>
    /// A trial with a single complete trial at its peak cannot have its law-path band calibrated (fewer than 2
    /// cross-validation cases), and the law's own band widened 3x decided nothing on the tables (session 12: on
    /// large-best/mlp such forecasts of losers had a median half-width of 0.2 where their errors were 0.01); such a
    /// trial now gets the cross-peak forecast, whose band is the same forecast's errors on this study's complete runs.
    /// On the large MLP table (data/tuning/mlp-large), with `wsd10_p5e-2` complete at the trial's peak and three
    /// complete trials at other peaks (`wsd20_p3.54e-2`, `cosine_p3.54e-2`, the incumbent at 1.7904, `wsd35_p7.07e-2`),
    /// `constant_p5e-2` (recorded final 1.9180) is judged by the cross-peak forecast and pruned at its first checkpoint
    /// (measured: step 99, 1.920 [1.856, 1.952]), and the band it is pruned on contains its recorded final value (the
    /// independent check: the table's own end). The rule before (<see cref="ForecastPruner.CrossPeakFallback"/> off, so
    /// the uncalibrated law band) never prunes it: its forecasts are as close (1.922-1.929) but its band about 0.35 wide
    /// on each side ([1.58, 2.30] at step 199).
    /// </summary>
    [Fact]
    public void An_uncalibrated_law_path_trial_gets_the_cross_peak_forecast()
    {
        var complete = new[]
        {
            MlpLargeTable.Trial(0, "wsd10_p5e-2", "wsd(peak=5e-2, total=1000, warmup=50, decay=0.1)"),
            MlpLargeTable.Trial(1, "wsd20_p3.54e-2", "wsd(peak=3.54e-2, total=1000, warmup=50, decay=0.2)"),
            MlpLargeTable.Trial(2, "cosine_p3.54e-2", "cosine(peak=3.54e-2, total=1000, warmup=50)"),
            MlpLargeTable.Trial(3, "wsd35_p7.07e-2", "wsd(peak=7.07e-2, total=1000, warmup=50, decay=0.35)"),
        };
        var curve = MlpLargeTable.Curve("constant_p5e-2");
        double final = curve[^1].Value;
        final.ShouldBe(1.9180, 1e-4); // the premise: a clear loser against the incumbent's 1.7909
        var trial = new TrialRecord(4, new TrialParams([]), TrialState.Running, null, []) { Schedule = "constant(peak=5e-2, warmup=50)", PlannedSteps = 1000 };
        var reports = curve.Where(r => r.Step < 999).ToArray();
        var (prunedAt, reasons) = ReplayWith(new ForecastPruner(), complete, trial, reports);
        var (prunedBefore, reasonsBefore) = ReplayWith(new ForecastPruner { CrossPeakFallback = false }, complete, trial, reports);
        string said = string.Join("\n", reasons) + "\n-- before:\n" + string.Join("\n", reasonsBefore);
        reasons.ShouldAllBe(r => r.Contains("cross-peak forecast", StringComparison.Ordinal), said);
        reasonsBefore.ShouldContain(r => r.Contains(": forecast at step", StringComparison.Ordinal), said); // the law path judged it before
        prunedAt.ShouldNotBeNull(said);
        // Whether the law path alone prunes it depends on the auto band's calibrated width (StackBand): with session 11's
        // constants it never did ([1.58, 2.30] at step 199); with session 12's it does at step 199, on [1.86, 1.99],
        // which contains the final. So only that the law path judged it is asserted here.
        if (prunedBefore is not null) reasonsBefore[^1].ShouldContain(": forecast at step", Case.Sensitive, said);
        var last = reasons[^1];
        var band = System.Text.RegularExpressions.Regex.Match(last, @"\[([0-9.]+), ([0-9.]+)\]");
        band.Success.ShouldBeTrue(last);
        double lo = double.Parse(band.Groups[1].Value, CultureInfo.InvariantCulture), hi = double.Parse(band.Groups[2].Value, CultureInfo.InvariantCulture);
        final.ShouldBeInRange(lo, hi, last);
    }
}
