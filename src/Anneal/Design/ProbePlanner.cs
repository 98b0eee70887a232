using System.Diagnostics;
using System.Globalization;
using Anneal.Fitting;
using Anneal.Laws;
using static Anneal.ParameterName;

namespace Anneal.Design;

/// <summary>What <see cref="ProbePlanner.Plan"/> designs calibration runs for.</summary>
/// <param name="Budget">Steps the calibration runs may cost together (a cooldown branch counts only its own steps).</param>
/// <param name="Targets">The schedules whose final loss the calibration must predict (<see cref="ProbeTarget.Parse"/> syntax).</param>
public sealed record ProbeRequest(long Budget, IReadOnlyList<string> Targets)
{
    /// <summary>The law the user will fit on the calibration runs (default <c>auto</c>).</summary>
    public string Law { get; init; } = "auto";

    /// <summary>Laws that play the real runs as they are (e.g. a law file the user fitted in the targets' units).</summary>
    public IReadOnlyList<ProbePrior> Priors { get; init; } = [];

    /// <summary>
    /// Sets of real runs whose fitted laws play the real runs (<see cref="ProbePriors.FromReference"/>), each adding its priors;
    /// the CLI's default is in docs/probe.md. More references are more truths another design must beat the baseline under.
    /// </summary>
    public IReadOnlyList<ProbeReference> References { get; init; } = [];

    /// <summary>Noise of the simulated logs.</summary>
    public ProbeNoise Noise { get; init; } = ProbePlanner.DefaultNoise;

    /// <summary>Noise seeds per prior for the finalists (the screening uses the first).</summary>
    public int Seeds { get; init; } = 3;

    /// <summary>Designs re-simulated with every seed after the one-seed screening (the best by error, plus the cheapest close ones and the baseline).</summary>
    public int Finalists { get; init; } = 5;

    /// <summary>Base seed of the noise.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>A design within this relative margin of the most accurate counts as equally good; the cheapest such design is recommended.</summary>
    public double Tolerance { get; init; } = 0.1;

    /// <summary>
    /// How much better than the baseline (constant + cosine) another design must simulate before it is recommended: its
    /// RMS error times this must not exceed the baseline's under every prior (docs/probe.md, "Robust recommendation").
    /// 1 asks only that it win under every prior.
    /// </summary>
    public double Margin { get; init; } = ProbePlanner.DefaultMargin;

    /// <summary>The designs to compare; null: <see cref="ProbeGrid.Designs"/>.</summary>
    public IReadOnlyList<CalibrationDesign>? Candidates { get; init; }

    /// <summary>The design to compare against; null: <see cref="ProbeGrid.Baseline"/> (constant + cosine with the same budget).</summary>
    public CalibrationDesign? Baseline { get; init; }

    /// <summary>
    /// A logged run at constant rate after its warmup, at the targets' peak (a pilot, or an earlier run of the same model
    /// and data), as a fit sees it (<see cref="RegimeService.Read"/>: points after the warmup, binned); null: none. Where it enters the laws' regime
    /// (<see cref="RegimeOnset"/>, from the shortest design's horizon) is the shortest calibration horizon compared: designs
    /// whose runs end before it are left out, since a fit on them forecasts far off with no band (<see cref="RegimeCheck"/>).
    /// </summary>
    public LawRun? ConstantLog { get; init; }
}

/// <summary>One target's simulated forecast error under a design: root mean square and mean (signed) of predicted/true - 1.</summary>
public sealed record TargetScore(string Target, double RmsError, double MeanError);

/// <summary>How well a design pins down the targets' finals in the simulation.</summary>
/// <param name="Design">The design.</param>
/// <param name="RmsError">Root mean square of predicted/true - 1 over priors, seeds and targets (a failed fit counts as 100 %).</param>
/// <param name="WorstTarget">The largest per-target RMS error.</param>
/// <param name="Regret">Mean pick regret: the true final of the target predicted best over the true best, minus one, per group of targets of one horizon (NaN without such a group).</param>
/// <param name="Simulations">Simulated fits (priors x seeds).</param>
/// <param name="Failures">Simulated fits that failed.</param>
/// <param name="Targets">Per-target errors.</param>
/// <param name="Failure">The first failure's message, if any.</param>
public sealed record DesignScore(CalibrationDesign Design, double RmsError, double WorstTarget, double Regret, int Simulations, int Failures,
    IReadOnlyList<TargetScore> Targets, string? Failure)
{
    /// <summary>Whether the design was simulated with every seed (a finalist) or only screened with the first.</summary>
    public bool Finalist { get; init; }

    /// <summary>The RMS error under each prior alone (over its seeds and the targets), in the order of <see cref="ProbeSettings.Priors"/>.</summary>
    public IReadOnlyList<double> PriorErrors { get; init; } = [];

    /// <summary>Labels of the targets whose schedule shape the design's runs do not bracket (<see cref="ProbeCoverage"/>); empty when it covers them all.</summary>
    public IReadOnlyList<string> Uncovered { get; init; } = [];

    /// <summary>Whether the design's runs bracket every target's schedule shape.</summary>
    public bool Covers => Uncovered.Count == 0;

    /// <summary>Its runs whose rate falls below their peak (<see cref="ProbeCoverage.DecayRuns"/>).</summary>
    public int DecayRuns { get; init; }

    /// <summary>
    /// Whether it may be recommended over the baseline: it brackets every target and holds at least
    /// <see cref="ProbeCoverage.MinDecayRuns"/> runs that decay (docs/probe.md, "Robust recommendation").
    /// </summary>
    public bool Eligible => ProbeCoverage.Eligible(Uncovered.Count, DecayRuns);
}

/// <summary>The recommendation and everything behind it.</summary>
/// <param name="Targets">The parsed targets.</param>
/// <param name="Peak">The calibration runs' peak rate (the first target's).</param>
/// <param name="Warmup">The calibration runs' warmup steps (the first target's).</param>
/// <param name="Budget">The budget in steps.</param>
/// <param name="Law">The fitted law's spec.</param>
/// <param name="Recommended">The cheapest design within the tolerance of the most accurate.</param>
/// <param name="MostAccurate">The design with the lowest simulated error.</param>
/// <param name="Baseline">Constant + cosine with the same budget (null when the budget cannot pay for it).</param>
/// <param name="Designs">Every design, finalists first, each group by error.</param>
/// <param name="Reasons">Why the recommendation, in sentences.</param>
/// <param name="Notes">What the user should know about the inputs.</param>
/// <param name="Settings">How the simulation was run.</param>
public sealed record ProbeResult(IReadOnlyList<ProbeTarget> Targets, double Peak, long Warmup, long Budget, string Law,
    DesignScore Recommended, DesignScore MostAccurate, DesignScore? Baseline, IReadOnlyList<DesignScore> Designs,
    IReadOnlyList<string> Reasons, IReadOnlyList<string> Notes, ProbeSettings Settings)
{
    /// <summary>
    /// The regime stage: where <see cref="ProbeRequest.ConstantLog"/> enters the laws' regime, judged from the shortest design's
    /// horizon (<see cref="ProbePlanner.Regime"/>); null without a log.
    /// </summary>
    public RegimeOnset? Regime { get; init; }
}

/// <summary>The simulation's settings as run, for the report.</summary>
/// <param name="Priors">Prior names with their sources.</param>
/// <param name="Noise">The noise model.</param>
/// <param name="Seeds">Noise seeds of the finalists.</param>
/// <param name="Block">Steps per simulated step.</param>
/// <param name="LogEvery">Logging interval in the targets' steps.</param>
/// <param name="Simulations">Simulated fits run.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record ProbeSettings(IReadOnlyList<string> Priors, ProbeNoise Noise, int Seeds, int Block, long LogEvery, int Simulations, double Seconds)
{
    /// <summary>The margin another design had to beat the baseline by (<see cref="ProbeRequest.Margin"/>).</summary>
    public double Margin { get; init; } = ProbePlanner.DefaultMargin;
}

/// <summary>
/// <c>anneal probe</c> as a service: recommends the cheapest set of calibration runs that best pins down the
/// loss-curve law for the user's target schedules. Every candidate design (<see cref="ProbeGrid"/>) is scored
/// by simulation (<see cref="ProbeSimulation"/>): prior laws generate its runs with realistic noise, the user's
/// law is fitted on them, and the targets' forecast finals are compared with the priors' true ones. A design
/// that several priors agree on is robust to the law being wrong in the way they differ. All designs are
/// screened with one noise seed; among the designs whose runs bracket every target's schedule shape
/// (<see cref="ProbeCoverage"/>), the best and the cheapest close ones are then simulated with every seed, with the
/// baseline, and <see cref="Recommend"/> keeps the baseline unless one of them beats it by
/// <see cref="ProbeRequest.Margin"/> under every prior. Pure: no console, no files.
/// </summary>
public static class ProbePlanner
{
    /// <summary>
    /// The default noise: measured on the bundled multi-power-law 400M runs (docs/probe.md: the residuals of
    /// an auto fit of all nine runs, at one point per H/200 steps).
    /// </summary>
    public static ProbeNoise DefaultNoise { get; } = new(0.00186, 0.91, 0.18);

    /// <summary>The default <see cref="ProbeRequest.Margin"/> (docs/probe.md, "Robust recommendation").</summary>
    public const double DefaultMargin = 2;

    /// <summary>Checks the request (every problem names its parameter, <see cref="InputException.Parameters"/>) and returns the parsed targets.</summary>
    public static IReadOnlyList<ProbeTarget> Validate(ProbeRequest request)
    {
        if (request.Budget < 1) throw InputException.Naming($"{Parameter("budget")} must be a positive number of steps, got {request.Budget}");
        if (request.Targets.Count == 0) throw InputException.Naming($"give at least one {Parameter("target")}: a schedule to forecast, e.g. cosine(peak=3e-4, total=24000, warmup=2160)");
        var targets = request.Targets.Select(t => ProbeTarget.Parse(t)).ToArray();
        try { LossLaw.Parse(request.Law); }
        catch (InputException e) { throw e.Prefixed($"{Parameter("law")}: "); }
        if (request.Priors.Count == 0 && request.References.Count == 0) throw InputException.Naming($"{Parameter("prior")}: give at least one prior law (or reference runs) to simulate the runs with");
        request.Noise.Validate();
        if (request.Seeds is < 1 or > 50) throw InputException.Naming($"{Parameter("seeds")} must be in 1..50, got {request.Seeds}");
        if (request.Finalists < 1) throw InputException.Naming($"{Parameter("finalists")} must be >= 1, got {request.Finalists}");
        if (!(request.Margin >= 1 && request.Margin <= 100)) throw InputException.Naming($"{Parameter("margin")} must be in 1..100 (how many times smaller than constant + cosine's the simulated error of another design must be), got {request.Margin}");
        if (!(request.Tolerance >= 0 && request.Tolerance < 1)) throw InputException.Naming($"{Parameter("tolerance")} must be in [0, 1), got {request.Tolerance}");
        return targets;
    }

    /// <summary>
    /// The calibration horizons, designs and baseline the request will compare, without simulating anything:
    /// throws <see cref="InputException"/> (naming <c>budget</c>) when the budget pays for no design.
    /// </summary>
    public static (IReadOnlyList<ProbeTarget> Targets, double Peak, long Warmup, IReadOnlyList<CalibrationDesign> Designs, CalibrationDesign? Baseline, long StepUnit, RegimeOnset? Onset)
        Designs(ProbeRequest request)
    {
        var targets = Validate(request);
        var eta = targets[0].Rates();
        int w = EtaMath.PeakIndex(eta);
        double peak = eta[w];
        long h = targets.Max(t => t.Horizon);
        int block = (int)Math.Max(1, (h + ProbeSimulation.MaxSimSteps - 1) / ProbeSimulation.MaxSimSteps);
        long unit = Math.Max(1, (int)Math.Round((double)((h + block - 1) / block) / ProbeSimulation.PointsPerHorizon)) * (long)block;
        var designs = request.Candidates ?? ProbeGrid.Designs(targets, peak, w, request.Budget, unit);
        designs = designs.Where(d => d.Cost <= request.Budget).ToArray();
        if (designs.Count == 0)
        {
            long cheapest = ProbeGrid.Round(w + 4 * unit, unit);
            throw request.Candidates is null
                ? InputException.Naming($"{Parameter("budget")} {request.Budget} pays for no calibration design: the cheapest, a constant-rate run to step {cheapest} (the warmup of {w} steps plus four logging intervals of {unit}), costs {cheapest} steps")
                : InputException.Naming($"{Parameter("budget")} {request.Budget} pays for none of the {request.Candidates.Count} given designs (the cheapest costs {request.Candidates.Min(d => d.Cost)} steps)");
        }
        var baseline = request.Baseline ?? (request.Candidates is null ? ProbeGrid.Baseline(targets, peak, w, request.Budget, unit) : null);
        var onset = Regime(request, designs);
        if (onset is { AsksLonger: true })
        {
            long shortest = onset.ShortestRun;
            designs = designs.Where(d => d.Horizon >= shortest).ToArray();
            if (designs.Count == 0)
                throw InputException.Naming($"{Parameter("budget")} {request.Budget} pays for no calibration design whose runs reach the laws' regime: {onset.Describe()}; raise the budget so that a constant-rate run reaches step {shortest}");
            if (baseline is not null && baseline.Horizon < shortest) baseline = null;
        }
        return (targets, peak, w, designs, baseline, unit, onset);
    }

    /// <summary>
    /// Where the request's constant-rate log (<see cref="ProbeRequest.ConstantLog"/>) enters the laws' regime, judged from the
    /// shortest of <paramref name="designs"/>' horizons (<see cref="RegimeOnset.Of"/>); null without a log. Throws, naming
    /// <c>constant_log</c>, when the regime check cannot judge the log stopped there.
    /// </summary>
    public static RegimeOnset? Regime(ProbeRequest request, IReadOnlyList<CalibrationDesign> designs)
    {
        if (request.ConstantLog is not { } log || designs.Count == 0) return null;
        var judged = RegimeService.Judge(log, designs.Min(d => d.Horizon) - 1);
        return judged.Onset ?? throw InputException.Naming($"{Parameter("constant_log")}: {judged.Message}, the shortest design's horizon");
    }

    /// <summary>
    /// Scores every design and recommends one. <paramref name="cancel"/> stops the plan between simulated fits (each in flight
    /// finishes; none starts after it) and between the prior laws' fits, throwing <see cref="OperationCanceledException"/>:
    /// a caller that gives up (the dashboard's cancelled job) frees the machine within one fit.
    /// </summary>
    public static ProbeResult Plan(ProbeRequest request, IProgress<string>? progress = null, CancellationToken cancel = default)
    {
        var sw = Stopwatch.StartNew();
        var (targets, peak, warmup, designs, baseline, _, onset) = Designs(request);
        var notes = new List<string>();
        if (onset is not null)
            notes.Add(onset.AsksLonger ? $"{onset.Describe()}: designs whose runs end before step {onset.ShortestRun} were left out" : onset.Describe());
        for (int i = 1; i < targets.Count; i++)
        {
            var e = targets[i].Rates();
            int wi = EtaMath.PeakIndex(e);
            if (Math.Abs(e[wi] - peak) > 1e-9 * peak || wi != warmup)
                notes.Add($"target {i + 1} ({targets[i].Label}) peaks at {Num(e[wi])} after {wi} steps; the calibration runs use target 1's peak {Num(peak)} and warmup {warmup}");
        }
        var law = LossLaw.Parse(request.Law);
        var priors = request.Priors.ToList();
        foreach (var reference in request.References)
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Report($"fitting the prior laws on {reference.Name}");
            priors.AddRange(ProbePriors.FromReference(reference, peak, targets.Max(t => t.Horizon), out var failed, cancel));
            notes.AddRange(failed);
        }
        var sim = new ProbeSimulation(targets, peak, law, priors, request.Noise, request.Seed);
        var all = designs.ToList();
        if (baseline is not null && !all.Any(d => d.Key == baseline.Key)) all.Add(baseline);
        int nPriors = priors.Count;
        var results = new Dictionary<(int Design, int Prior, int Seed), (double[]? Errors, double[]? Predicted, string? Failure)>();
        int simulations = 0;
        var finalists = new HashSet<int>();

        void Simulate(IReadOnlyList<int> which, IReadOnlyList<int> seeds, string stage)
        {
            cancel.ThrowIfCancellationRequested();
            var jobs = (from d in which from p in Enumerable.Range(0, nPriors) from s in seeds select (d, p, s)).ToArray();
            var outcome = new (double[]?, double[]?, string?)[jobs.Length];
            int done = 0, reported = 0;
            var gate = new object();
            Parallel.For(0, jobs.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancel }, i =>
            {
                // Each worker fits sequentially: the designs are the parallel work.
                using var _ = EvaluationParallelism.Sequential();
                var (d, p, s) = jobs[i];
                outcome[i] = sim.Run(all[d], p, s);
                lock (gate)
                {
                    done++;
                    if (progress is not null && (done * 10 / jobs.Length > reported || done == jobs.Length))
                    {
                        reported = done * 10 / jobs.Length;
                        progress.Report($"{stage}: {done}/{jobs.Length} simulated fits ({sw.Elapsed.TotalSeconds:F1} s)");
                    }
                }
            });
            for (int i = 0; i < jobs.Length; i++) results[jobs[i]] = outcome[i];
            simulations += jobs.Length;
        }

        var targetShapes = targets.Select(ProbeCoverage.Shape).ToArray();
        var shapes = new Dictionary<string, ScheduleShape>();
        var uncovered = all.Select(d => (IReadOnlyList<string>)ProbeCoverage.Uncovered(d, targetShapes, shapes).Select(t => targets[t].Label).ToArray()).ToArray();
        var decayRuns = all.Select(d => ProbeCoverage.DecayRuns(d, shapes)).ToArray();
        // Only designs that bracket every target and hold two decays can be recommended (docs/probe.md, "Robust
        // recommendation"): the finalists are chosen among them, else among those that bracket, else among all.
        var candidates = Enumerable.Range(0, all.Count).Where(d => ProbeCoverage.Eligible(uncovered[d].Count, decayRuns[d])).ToArray();
        if (candidates.Length == 0) candidates = Enumerable.Range(0, all.Count).Where(d => uncovered[d].Count == 0).ToArray();
        if (candidates.Length == 0) candidates = Enumerable.Range(0, all.Count).ToArray();

        // Stage 1: every design, every prior, the first seed.
        Simulate(Enumerable.Range(0, all.Count).ToArray(), [0], "screening");
        var screened = Enumerable.Range(0, all.Count).Select(d => Score(d)).ToArray();
        double best1 = candidates.Min(d => screened[d].RmsError);
        var byError = candidates.OrderBy(d => screened[d].RmsError).ThenBy(d => all[d].Cost).ToArray();
        finalists.UnionWith(byError.Take(request.Finalists));
        // The cheapest designs close to the best might win the tie-break: give them every seed too.
        foreach (var d in byError.Where(d => screened[d].RmsError <= best1 * (1 + 2 * request.Tolerance)).OrderBy(d => all[d].Cost).Take(2)) finalists.Add(d);
        int baseIndex = baseline is null ? -1 : all.FindIndex(d => d.Key == baseline.Key);
        if (baseIndex >= 0) finalists.Add(baseIndex);
        if (request.Seeds > 1) Simulate(finalists.Order().ToArray(), Enumerable.Range(1, request.Seeds - 1).ToArray(), "finalists");

        DesignScore Score(int d)
        {
            var rows = results.Where(kv => kv.Key.Design == d).Select(kv => kv.Value).ToArray();
            var perTarget = Enumerable.Range(0, targets.Count).Select(_ => new List<double>()).ToArray();
            var perPrior = Enumerable.Range(0, nPriors).Select(_ => new List<double>()).ToArray();
            var regrets = new List<double>();
            int failures = 0;
            string? failure = null;
            foreach (var (key, (errors, predicted, why)) in results.Where(kv => kv.Key.Design == d).Select(kv => (kv.Key, kv.Value)))
            {
                if (errors is null)
                {
                    failures++; failure ??= why;
                    foreach (var list in perTarget) list.Add(1.0);
                    for (int t = 0; t < targets.Count; t++) perPrior[key.Prior].Add(1.0);
                    continue;
                }
                for (int t = 0; t < targets.Count; t++) perTarget[t].Add(errors[t]);
                perPrior[key.Prior].AddRange(errors);
                foreach (var group in Enumerable.Range(0, targets.Count).GroupBy(t => targets[t].Horizon).Where(g => g.Count() >= 2))
                {
                    int pick = group.MinBy(t => predicted![t]);
                    double bestTrue = group.Min(t => sim.Truth(key.Prior, t));
                    regrets.Add(sim.Truth(key.Prior, pick) / bestTrue - 1);
                }
            }
            var scores = perTarget.Select((l, t) => new TargetScore(targets[t].Label, Math.Sqrt(l.Average(e => e * e)), l.Average())).ToArray();
            double rms = Math.Sqrt(perTarget.SelectMany(l => l).Average(e => e * e));
            return new DesignScore(all[d], rms, scores.Max(s => s.RmsError), regrets.Count == 0 ? double.NaN : regrets.Average(), rows.Length, failures, scores, failure)
            {
                Finalist = finalists.Contains(d),
                PriorErrors = perPrior.Select(l => l.Count == 0 ? double.NaN : Math.Sqrt(l.Average(e => e * e))).ToArray(),
                Uncovered = uncovered[d],
                DecayRuns = decayRuns[d],
            };
        }

        var scored = Enumerable.Range(0, all.Count).Select(Score).ToArray();
        var final = scored.Where(s => s.Finalist).ToArray();
        var accurate = final.OrderBy(s => s.RmsError).ThenBy(s => s.Design.Cost).First();
        var baseScore = baseIndex >= 0 ? scored[baseIndex] : null;
        var (recommended, winners) = Recommend(final, baseScore, request.Margin, request.Tolerance);
        // The baseline is compared, not offered, when the budget cannot pay for it (it can, by construction of the grid's).
        var ordered = scored.Where(s => s.Design.Cost <= request.Budget || s == baseScore)
            .OrderByDescending(s => s.Finalist).ThenBy(s => s.RmsError).ThenBy(s => s.Design.Cost).ToArray();
        var settings = new ProbeSettings(priors.Select(p => $"{p.Name}: {p.Source}").ToArray(), request.Noise, request.Seeds, sim.Block, sim.StepUnit, simulations, sw.Elapsed.TotalSeconds) { Margin = request.Margin };
        var reasons = Reasons(request, priors, targets, peak, warmup, sim, recommended, accurate, baseScore, winners, scored.Count(x => !x.Eligible));
        return new ProbeResult(targets, peak, warmup, request.Budget, law.Spec, recommended, accurate, baseScore, ordered, reasons, notes, settings) { Regime = onset };
    }

    /// <summary>
    /// The recommendation among the finalists (docs/probe.md, "Robust recommendation"). With a baseline: the designs that
    /// bracket every target, hold two decays (<see cref="DesignScore.Eligible"/>), never failed, and simulate at most 1/<paramref name="margin"/> of the baseline's error under
    /// every prior are the winners; the cheapest winner within <paramref name="tolerance"/> of the most accurate winner is
    /// recommended, and the baseline when nothing wins. Without one: the cheapest eligible finalist within the tolerance of
    /// the most accurate eligible finalist (else among the covering ones, else any). Also returns how many designs won.
    /// </summary>
    public static (DesignScore Recommended, int Winners) Recommend(IReadOnlyList<DesignScore> finalists, DesignScore? baseline, double margin, double tolerance)
    {
        static DesignScore Cheapest(IReadOnlyList<DesignScore> pool, double tolerance)
        {
            var best = pool.OrderBy(s => s.RmsError).ThenBy(s => s.Design.Cost).First();
            return pool.Where(s => s.RmsError <= best.RmsError * (1 + tolerance)).OrderBy(s => s.Design.Cost).ThenBy(s => s.RmsError).First();
        }
        var sound = finalists.Where(s => s.Eligible && s.Failures == 0).ToArray();
        if (baseline is null)
        {
            var covering = finalists.Where(s => s.Covers && s.Failures == 0).ToArray();
            return (Cheapest(sound.Length > 0 ? sound : covering.Length > 0 ? covering : finalists, tolerance), 0);
        }
        var winners = sound.Where(s => s.Design.Key != baseline.Design.Key && Beats(s, baseline, margin)).ToArray();
        return winners.Length == 0 ? (baseline, 0) : (Cheapest(winners, tolerance), winners.Length);
    }

    /// <summary>Whether <paramref name="design"/>'s simulated error times <paramref name="margin"/> is at most <paramref name="baseline"/>'s under every prior.</summary>
    public static bool Beats(DesignScore design, DesignScore baseline, double margin) =>
        design.PriorErrors.Count == baseline.PriorErrors.Count && design.PriorErrors.Count > 0
        && design.PriorErrors.Zip(baseline.PriorErrors).All(x => x.First * margin <= x.Second);

    private static List<string> Reasons(ProbeRequest request, IReadOnlyList<ProbePrior> priors, IReadOnlyList<ProbeTarget> targets, double peak, long warmup, ProbeSimulation sim,
        DesignScore rec, DesignScore accurate, DesignScore? baseline, int winners, int notCovering)
    {
        var r = new List<string>();
        long h = targets.Max(t => t.Horizon);
        r.Add($"{targets.Count} target schedule{(targets.Count == 1 ? "" : "s")} up to {h:N0} steps; the calibration runs use peak {Num(peak)} and warmup {warmup} (target 1's).");
        r.Add($"Each design was simulated: {string.Join(", ", priors.Select(p => p.Name))} generated its runs' curves " +
              $"(mapped to the targets' peak and horizon), logged every {sim.StepUnit} steps with log-normal noise of {request.Noise.Sigma:P2} " +
              $"(lag-one correlation {request.Noise.Correlation:0.##}, {request.Noise.CommonShare:P0} shared by runs at the same step); {sim.Law.Spec} was fitted on them " +
              $"and forecast every target's final loss. Error = root mean square of predicted/true - 1 over priors, noise seeds ({request.Seeds} for the finalists, 1 for the screening) and targets.");
        r.Add($"Recommended: {rec.Design.Name}, {rec.Design.Cost:N0} steps ({string.Join(" + ", rec.Design.Runs.Select(x => $"{x.Name}: {x.Cost:N0}"))}); simulated error {rec.RmsError:P2}" +
              (double.IsNaN(rec.Regret) ? "." : $", pick regret {rec.Regret:P3}."));
        var branches = rec.Design.Runs.Where(x => x.IsBranch).ToArray();
        if (branches.Length > 0)
            r.Add($"Its cooldown{(branches.Length == 1 ? "" : "s")} start{(branches.Length == 1 ? "s" : "")} from checkpoints of the constant-rate run at step{(branches.Length == 1 ? "" : "s")} " +
                  $"{string.Join(", ", branches.Select(x => x.BranchStep.ToString("N0", CultureInfo.InvariantCulture)))} and cost{(branches.Length == 1 ? "s" : "")} only {(branches.Length == 1 ? "its" : "their")} own steps " +
                  $"({string.Join(" + ", branches.Select(x => x.Cost.ToString("N0", CultureInfo.InvariantCulture)))}); the fitted runs are one trajectory, so no offset between " +
                  "runs trained from scratch (one seed's luck) enters the fit.");
        string rule = $"another design than {baseline?.Design.Name ?? "constant + cosine"} is recommended only when its runs bracket every target's schedule shape " +
                      $"(decay share and area removed, within {ProbeCoverage.Slack:0.##}), at least {ProbeCoverage.MinDecayRuns} of them decay (one decay measures the gain at one point " +
                      $"and leaves the law's form to carry it to the targets) and its simulated error is at most 1/{request.Margin:0.##} of the baseline's under every prior";
        if (baseline is not null && rec == baseline)
            r.Add($"It is the baseline: {rule}, and no design did ({notCovering} of the designs do not bracket the targets or hold fewer than {ProbeCoverage.MinDecayRuns} decays" +
                  (accurate != rec ? $"; the most accurate finalist, {accurate.Design.Name}, simulates at {accurate.RmsError:P2} against {rec.RmsError:P2}, not under every prior by the margin)." : ")."));
        else if (baseline is not null)
            r.Add($"It beats the baseline: {rule}; {winners} design{(winners == 1 ? "" : "s")} did, and it is the cheapest within {request.Tolerance:P0} of the most accurate of them.");
        else if (accurate != rec)
            r.Add($"It is the cheapest design within {request.Tolerance:P0} of the most accurate, {accurate.Design.Name} ({accurate.Design.Cost:N0} steps, {accurate.RmsError:P2}).");
        else
            r.Add("It is the most accurate design simulated" + (rec.Design.Cost < request.Budget ? $", and leaves {request.Budget - rec.Design.Cost:N0} steps of the budget unspent." : "."));
        if (baseline is not null && baseline != rec)
        {
            string ratio = rec.RmsError > 0 ? $" ({baseline.RmsError / rec.RmsError:0.0}x the recommended design's)" : "";
            r.Add($"For comparison, {baseline.Design.Name} ({baseline.Design.Cost:N0} steps) simulates at {baseline.RmsError:P2}{ratio}" +
                  (double.IsNaN(baseline.Regret) ? "." : $", pick regret {baseline.Regret:P3}."));
            var gain = rec.Targets.Zip(baseline.Targets).OrderByDescending(x => x.Second.RmsError - x.First.RmsError).First();
            if (gain.Second.RmsError > gain.First.RmsError)
                r.Add($"The largest difference is on {gain.First.Target}: {gain.First.RmsError:P2} against {gain.Second.RmsError:P2}.");
        }
        foreach (var run in rec.Design.Runs)
            for (int i = 0; i < targets.Count; i++)
                if (run.Horizon == targets[i].Horizon && run.Schedule == targets[i].Schedule.Spec)
                    r.Add($"{run.Name} is target {i + 1} itself: training it measures that target's final loss instead of forecasting it.");
        if (rec.Failures > 0) r.Add($"{rec.Failures} of its {rec.Simulations} simulated fits failed: {rec.Failure}");
        return r;
    }

    private static string Num(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
