using Anneal.Accuracy;
using Anneal.Design;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// Where a constant-rate run enters the laws' regime after a fit that ended before it (<see cref="RegimeOnset"/>): the end of
/// the regime check's alarm that the fit's horizon is in. On closed-form curves the onset is bracketed by the curve's own
/// geometry: a fall in ln S1 that speeds up until its inflection point and slows after it.
/// </summary>
public class RegimeOnsetTests
{
    /// <summary>A constant run at 1e-3 from step 0, logged every 50 steps from 49 to n-1, its loss <paramref name="loss"/> of S1.</summary>
    private static LawRun Constant(int n, Func<double, double> loss)
    {
        var eta = Schedule.Parse("constant(peak=1e-3)").Sample(n);
        var steps = Enumerable.Range(0, n).Where(i => i % 50 == 49).Select(i => (long)i).ToArray();
        return new LawRun { Name = "constant", Eta = eta, Steps = steps, Observed = steps.Select(t => loss(1e-3 * (t + 1))).ToArray() };
    }

    /// <summary>A power law towards a floor plus a drop of 0.5 nats in ln S1, centred where S1 = 1e-3 x 1200 (step 1199), 0.3 wide.</summary>
    private static double SecondPhase(double s1) => 2 + Math.Pow(s1, -0.3) + 0.25 * (1 - Math.Tanh((Math.Log(s1) - Math.Log(1.2)) / 0.3));

    [Fact]
    public void A_fit_that_ends_while_the_fall_speeds_up_is_told_a_step_between_the_inflection_and_two_doublings_after_it()
    {
        var onset = RegimeOnset.Of(Constant(6000, SecondPhase), 999)!;
        // At 999 the drop's fall speeds up in ln S1 (its inflection is at 1199): the check fires there.
        onset.Horizon.ShouldBe(999);
        onset.AsksLonger.ShouldBeTrue();
        onset.Reached.ShouldBeTrue();
        // Closed form: the drop is concave in ln S1 up to its inflection, so the fall is still speeding up at 1199 and the check
        // cannot be quiet before it; once the check's window (two doublings of S1, RegimeCheck.Window) lies wholly past it, the
        // curve in the window is convex and the check is quiet, so the onset is by step 4 x 1200 - 1 = 4799.
        onset.Step.ShouldBeGreaterThan(1199);
        onset.Step.ShouldBeLessThanOrEqualTo(4799);
        onset.Describe().ShouldContain($"step {onset.Step}");
    }

    [Fact]
    public void A_run_that_ends_before_its_fall_slows_has_not_reached_the_regime()
    {
        // The same curve logged only to step 1099, before the inflection: the check fires at every stop from the horizon on.
        var onset = RegimeOnset.Of(Constant(1100, SecondPhase), 999)!;
        onset.AsksLonger.ShouldBeTrue();
        onset.Reached.ShouldBeFalse();
        onset.Alarms.ShouldBe(3); // 999, 1049, 1099
        onset.Describe().ShouldContain("longer than 1099 steps");
    }

    [Fact]
    public void A_power_law_towards_a_floor_is_in_the_regime_at_any_horizon()
    {
        // Convex in ln S1 everywhere: the check never fires, so nothing longer is asked.
        var onset = RegimeOnset.Of(Constant(3000, s1 => 2 + Math.Pow(s1, -0.3)), 799)!;
        onset.AsksLonger.ShouldBeFalse();
        onset.Step.ShouldBe(799);
        onset.Alarms.ShouldBe(0);
    }

    [Fact]
    public void A_fit_before_the_regime_with_a_longer_constant_log_says_where_the_log_enters_it()
    {
        // The fitted run: the curve to step 999 (the check fires there); the log: the same run to 5999. The warning names the
        // onset RegimeOnset finds on the log from the fit's horizon, whatever it is (the rule's own value, bracketed above).
        var log = Constant(6000, SecondPhase);
        var fitted = Constant(1000, SecondPhase);
        var onset = RegimeOnset.Of(log, 999)!;
        var fit = LawFitter.Fit(LossLaw.Parse("powerlaw"), [fitted], new FitOptions { ConstantLog = log });
        fit.Regime!.Fires.ShouldBeTrue();
        fit.Report.Warnings.ShouldContain(w => w.Contains("before the regime") && w.Contains($"at about step {onset.Step}"));
        // Without the log the fit says only that its runs are too short.
        LawFitter.Fit(LossLaw.Parse("powerlaw"), [fitted]).Report.Warnings.ShouldNotContain(w => w.Contains("before the regime"));
    }

    [Fact]
    public void Probe_leaves_out_every_design_that_ends_before_the_logs_onset_and_refuses_a_budget_that_reaches_none()
    {
        var log = Constant(6000, SecondPhase);
        var request = new ProbeRequest(12000, ["cosine(peak=1e-3, total=6000)"]) { Priors = [ProbePriors.Published("mpl-400m")!], ConstantLog = log };
        var free = ProbePlanner.Designs(request with { ConstantLog = null });
        var (_, _, _, designs, baseline, _, onset) = ProbePlanner.Designs(request);
        onset!.AsksLonger.ShouldBeTrue();
        // judged from the shortest design's last step; a design's runs must reach the onset (its last step at or after it)
        onset.Horizon.ShouldBeLessThanOrEqualTo(free.Designs.Min(d => d.Horizon) - 1);
        designs.ShouldAllBe(d => d.Horizon - 1 >= onset.Step);
        designs.Count.ShouldBe(free.Designs.Count(d => d.Horizon - 1 >= onset.Step));
        designs.Count.ShouldBeLessThan(free.Designs.Count);
        (baseline is null || baseline.Horizon - 1 >= onset.Step).ShouldBeTrue();
        // A budget whose designs all end before the onset is refused, naming the budget.
        Should.Throw<InputException>(() => ProbePlanner.Designs(request with { Budget = onset.Step })).Message.ShouldContain("reach the laws' regime");
    }

    /// <summary>
    /// The rule by its definition (docs/journal/session-19-regime.md), the oracle of the next test: <see cref="RegimeCheck.Of(IReadOnlyList{LawRun})"/>
    /// on the run cut at each of its logged points from the horizon on (its points up to there, the rates up to that step), the
    /// onset the first of two quiet stops in a row. <see cref="RegimeOnset.Of"/> finds the constant-rate phase once and reads
    /// its first points at each stop instead.
    /// </summary>
    private static RegimeOnset? ByDefinition(LawRun run, long horizon)
    {
        static LawRun Cut(LawRun r, int points)
        {
            long n = r.Steps[points - 1] + 1;
            return r with { Steps = r.Steps[..points], Observed = r.Observed![..points], Eta = n < r.Eta.Length ? r.Eta[..(int)n] : r.Eta, GradNorm = null };
        }
        int at = Array.FindLastIndex(run.Steps, s => s <= horizon);
        if (at < 0 || RegimeCheck.Of([Cut(run, at + 1)]) is not { } first) return null;
        long h = run.Steps[at], end = run.Steps[^1];
        if (!first.Fires) return new RegimeOnset(run.Name, h, h, end, 0);
        int alarms = 1;
        long? quiet = null;
        for (int i = at + 1; i < run.Count; i++)
        {
            if (RegimeCheck.Of([Cut(run, i + 1)])?.Fires ?? true) { alarms++; quiet = null; continue; }
            if (quiet is { } q) return new RegimeOnset(run.Name, h, q, end, alarms);
            quiet = run.Steps[i];
        }
        return new RegimeOnset(run.Name, h, end, end, alarms) { Reached = false };
    }

    [Fact]
    public void On_every_engine_corpus_the_onset_is_the_rules_definition_and_the_shared_reader_gives_session_19s_onsets()
    {
        // Every constant run of every seed, from each question's fitted horizon (bench regime-onset's rows), read by the one
        // reader of fit, probe and the dashboard (RegimeService.Read: the fit's window and bins) and by the benchmark's
        // (ForecastCorpus.LawRunOf, which produced session 19's table): the onset on both equals the rule's definition, and
        // the flagged ones are the journal's (gpt-jargon seed 1 from 599: 2299; gpt-perldoc seed 1: 1999; their seed-2 logs
        // not reached by 1199); on every other corpus the rule asks for nothing.
        var corpora = ForecastCorpus.LoadFolders(Path.Combine(TestPaths.RepoRoot, "data/corpora"), includeHeldOut: false);
        int compared = 0;
        var asks = new List<string>();
        foreach (var corpus in corpora)
            foreach (var run in corpus.Runs.Where(r => ForecastProtocol.Kind(r) == "constant"))
                foreach (var split in ForecastProtocol.Splits(corpus))
                {
                    long h = split.Fit.Max(f => f.Steps[^1]);
                    if (run.Curve.Steps[^1] < h) continue;
                    var shared = RegimeService.Read(run.Curve, corpus.Target);
                    var onset = RegimeOnset.Of(shared, h);
                    onset.ShouldBe(ByDefinition(shared, h), $"{corpus.Name}/{run.Name} from {h}");
                    onset.ShouldBe(RegimeOnset.Of(corpus.LawRunOf(run), h), $"{corpus.Name}/{run.Name} from {h}: the shared reader and the benchmark's");
                    compared++;
                    if (onset is { AsksLonger: true }) asks.Add($"{corpus.Name}/{run.Name}@{onset.Horizon}: {(onset.Reached ? onset.Step.ToString(System.Globalization.CultureInfo.InvariantCulture) : ">" + onset.End)}");
                }
        compared.ShouldBeGreaterThan(40);
        asks.Distinct().Order().ShouldBe(new[]
        {
            "engine-gpt-jargon/constant_s1@599: 2299", "engine-gpt-jargon/constant_s2@599: >1199",
            "engine-gpt-perldoc/constant_s1@599: 1999", "engine-gpt-perldoc/constant_s1@899: 1999",
            "engine-gpt-perldoc/constant_s2@599: >1199", "engine-gpt-perldoc/constant_s2@899: >1199",
            // gpt-erlang, a development corpus since session 22: its seed-2 constant run read from the schedules fit's
            // horizon (1,199) raises the alarm, quiet from 1,399 (the blind measurement's seed ensemble: seed 2's band withheld).
            "engine-gpt-erlang/constant_s2@1199: 1399",
            // mlp-muon, a development corpus since session 23: the same for its seed-2 constant run, quiet from 1,499 (its
            // corpus section: the constant-rate curve is noisy at this peak, single validation jumps fire the statistic).
            "engine-mlp-muon/constant_s2@1199: 1499",
        }.Order());
    }

    [Fact]
    public void Probe_reads_its_constant_log_as_a_fit_does_and_refuses_a_budget_whose_runs_all_end_before_the_onset()
    {
        // anneal probe --constant-log on gpt-perldoc's seed-1 constant run (validation loss, the default): the log read by
        // RegimeService.Read gives session 19's onset, 1999 (the test above), so a budget of 1500 steps pays for no design
        // whose runs reach it; the refusal names the onset and the step to reach, before any simulation (exit 2).
        var log = Path.Combine(TestPaths.RepoRoot, "data/corpora/gpt-perldoc/constant_s1.csv") + "@constant(peak=3e-3, warmup=60)";
        var (code, _, err) = Anneal.Tests.Cli.CliRunner.Run("probe", "--budget", "1500", "--target", "cosine(peak=3e-3, total=3600, warmup=60)", "--constant-log", log);
        code.ShouldBe(2, err);
        err.ShouldContain("--budget 1500 pays for no calibration design whose runs reach the laws' regime: constant_s1 enters the power-law regime the laws assume at about step 1999");
        err.ShouldContain("raise the budget so that a constant-rate run reaches step 2000");
    }
}
