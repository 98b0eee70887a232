using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;
using static Anneal.ParameterName;

namespace Anneal.Design;

/// <summary>A calibration run taken from a corpus: the corpus run and the steps of it the design trains (and fits).</summary>
/// <param name="Run">The corpus run.</param>
/// <param name="FirstStep">First step fitted: 0 for a run from scratch, the branch step for a cooldown branch.</param>
/// <param name="EndStep">Steps 0..EndStep-1 are used (the constant run's prefix; the whole run otherwise).</param>
public sealed record CorpusPart(CorpusRun Run, long FirstStep, long EndStep);

/// <summary>A design made of a corpus's existing runs, and the parts of the runs it uses.</summary>
public sealed record CorpusDesign(CalibrationDesign Design, IReadOnlyList<CorpusPart> Parts);

/// <summary>A design fitted on real runs: its forecasts of the targets' observed finals.</summary>
/// <param name="Design">The design.</param>
/// <param name="Forecasts">Observed and predicted final loss of every target.</param>
/// <param name="Failure">Why the fit failed (then no forecasts).</param>
public sealed record RealScore(CalibrationDesign Design, IReadOnlyList<TargetForecast> Forecasts, string? Failure)
{
    /// <summary>Mean |predicted - observed| / observed.</summary>
    public double MeanError => Forecasts.Count == 0 ? double.NaN : Forecasts.Average(f => f.RelError);

    /// <summary>Root mean square relative error.</summary>
    public double RmsError => Forecasts.Count == 0 ? double.NaN : Math.Sqrt(Forecasts.Average(f => f.RelError * f.RelError));

    /// <summary>Largest relative error.</summary>
    public double WorstError => Forecasts.Count == 0 ? double.NaN : Forecasts.Max(f => f.RelError);

    /// <summary>Pick regret averaged over the groups of at least two targets of one horizon (NaN without one).</summary>
    public double Regret
    {
        get
        {
            var g = Forecasts.GroupBy(f => f.Horizon).Select(x => x.ToArray()).Where(x => x.Length >= 2).Select(LawAccuracy.PickRegret).ToArray();
            return g.Length == 0 ? double.NaN : g.Average();
        }
    }
}

/// <summary>
/// Measures <c>anneal probe</c> on real runs: the designs a corpus can realise from the runs it already has
/// (a prefix of its longest constant-rate run, its cooldown branches, its other runs), each fitted for real
/// and scored on the targets' observed finals, so that the probe's choice among them can be compared with
/// constant + cosine for the same compute. A run is a branch of the constant run when the corpus says so
/// (<c>branch_of</c>) or when its rates equal the constant run's up to a step after the warmup; it then
/// costs only its steps after that point.
/// </summary>
public static class ProbeCheck
{
    /// <summary>The corpus run of the first seed each target names (same rates at every step, same nominal horizon).</summary>
    public static IReadOnlyList<CorpusRun> MatchTargets(ForecastCorpus corpus, IReadOnlyList<ProbeTarget> targets)
    {
        int seed = corpus.Runs.Min(r => r.Seed);
        var first = corpus.Runs.Where(r => r.Seed == seed).ToArray();
        return targets.Select(t =>
        {
            var eta = t.Rates();
            // Logs may end a few steps short of the planned total: the rates must agree wherever both are known.
            return first.FirstOrDefault(r => ForecastProtocol.Nominal(r.Horizon) == ForecastProtocol.Nominal(t.Horizon) && SameRates(Rates(r), eta))
                ?? throw InputException.Naming($"{Parameter("target")} {t.Spec}: no run of corpus {corpus.Name} (seed {seed}) has this schedule and horizon, so its observed final is unknown; give the corpus's own schedules as targets");
        }).ToArray();
    }

    /// <summary>
    /// The designs the corpus can realise within <paramref name="budget"/> without the target runs, in the grid's
    /// families, and constant + cosine with the largest horizon the budget pays for (null without a cosine run).
    /// For every horizon T of a non-target run: the constant run to T; with each run from scratch of horizon T
    /// and that run alone; with each cooldown branch ending at T, alone or with one or two earlier branches of the
    /// same schedule family (same spec but the total).
    /// </summary>
    public static (IReadOnlyList<CorpusDesign> Designs, CorpusDesign? Baseline) Menu(ForecastCorpus corpus, IReadOnlyList<CorpusRun> targets, long budget)
    {
        int seed = corpus.Runs.Min(r => r.Seed);
        var constant = corpus.Runs.Where(r => r.Seed == seed && ForecastProtocol.Kind(r) == "constant").OrderByDescending(r => r.Horizon).FirstOrDefault()
            ?? throw new InputException($"corpus {corpus.Name} has no constant-rate run of seed {seed}: a probe design starts from one");
        var cEta = Rates(constant);
        var others = corpus.Runs.Where(r => r.Seed == seed && r != constant && !targets.Contains(r) && ForecastProtocol.Kind(r) != "constant")
            .Select(r => (Run: r, Branch: BranchStep(r, constant, cEta))).ToArray();
        long maxT = targets.Max(t => t.Horizon);
        var designs = new Dictionary<string, CorpusDesign>();
        void Add(string name, string family, long t, params (CorpusRun Run, long Branch)[] runs)
        {
            var parts = new List<CorpusPart>();
            var calib = new List<CalibrationRun>();
            if (t > 0)
            {
                parts.Add(new CorpusPart(constant, 0, t));
                calib.Add(new CalibrationRun($"{constant.Name} to {t}", constant.Schedule ?? constant.Curve.ScheduleSpec ?? "", t));
            }
            foreach (var (r, b) in runs)
            {
                parts.Add(new CorpusPart(r, b, r.Horizon));
                calib.Add(new CalibrationRun(r.Name, r.Schedule ?? r.Curve.ScheduleSpec ?? "", r.Horizon, b));
            }
            var d = new CalibrationDesign(name, family, calib);
            if (d.Cost <= budget && calib.All(c => c.Schedule.Length > 0)) designs.TryAdd(d.Key, new CorpusDesign(d, parts));
        }
        // Runs of one planned total (logs may end a few steps short) share one calibration horizon.
        var horizons = others.Select(o => ForecastProtocol.Nominal(o.Run.Horizon)).Where(h => h <= ForecastProtocol.Nominal(maxT)).Distinct().Order().ToArray();
        foreach (var t in horizons)
        {
            long tc = Math.Min(t, constant.Horizon);
            Add($"{constant.Name} to {tc}", "constant", tc);
            foreach (var o in others.Where(o => ForecastProtocol.Nominal(o.Run.Horizon) == t))
            {
                if (o.Branch == 0)
                {
                    Add($"{constant.Name} to {tc} + {o.Run.Name}", "constant+" + ForecastProtocol.Kind(o.Run), tc, o);
                    Add(o.Run.Name, ForecastProtocol.Kind(o.Run), 0, o);
                    continue;
                }
                if (o.Branch > tc) continue;
                Add($"{constant.Name} to {tc} + {o.Run.Name}", "constant+cooldowns", tc, o);
                var earlier = others.Where(e => e.Branch > 0 && ForecastProtocol.Nominal(e.Run.Horizon) < t && Family(e.Run) is { } f && f == Family(o.Run)).OrderBy(e => e.Run.Horizon).ToArray();
                for (int i = 0; i < earlier.Length; i++)
                {
                    Add($"{constant.Name} to {tc} + {earlier[i].Run.Name}, {o.Run.Name}", "constant+cooldowns", tc, earlier[i], o);
                    for (int j = i + 1; j < earlier.Length; j++)
                        Add($"{constant.Name} to {tc} + {earlier[i].Run.Name}, {earlier[j].Run.Name}, {o.Run.Name}", "constant+cooldowns", tc, earlier[i], earlier[j], o);
                }
            }
        }
        // The usual calibration: constant + the cosine (lowest final rate) of the largest horizon that fits twice in the budget.
        var cos = others.Where(o => o.Branch == 0 && ForecastProtocol.Kind(o.Run) == "cosine" && ForecastProtocol.Nominal(o.Run.Horizon) + o.Run.Horizon <= budget)
            .OrderByDescending(o => o.Run.Horizon).ThenBy(o => Rates(o.Run)[^1]).FirstOrDefault();
        CorpusDesign? baseline = null;
        if (cos.Run is not null)
        {
            long tc = Math.Min(ForecastProtocol.Nominal(cos.Run.Horizon), constant.Horizon);
            baseline = designs.Values.FirstOrDefault(d => d.Design.Name == $"{constant.Name} to {tc} + {cos.Run.Name}");
        }
        return (designs.Values.OrderBy(d => d.Design.Cost).ThenBy(d => d.Design.Name, StringComparer.Ordinal).ToArray(), baseline);
    }

    /// <summary>Fits <paramref name="law"/> on the design's real runs and forecasts every target's observed final.</summary>
    public static RealScore Score(ForecastCorpus corpus, CorpusDesign design, IReadOnlyList<CorpusRun> targets, LossLaw law, FitOptions? options = null)
    {
        FittedLaw fit;
        try
        {
            var runs = design.Parts.Select(p => corpus.LawRunOf(p.Run, p.FirstStep, p.EndStep) with { Name = p.EndStep < p.Run.Horizon ? $"{p.Run.Name}[:{p.EndStep}]" : p.Run.Name }).ToArray();
            // one joint fit (the seed ensemble off): the score below evaluates the fit's one parameter vector
            fit = LawFitter.Fit(law, runs, options ?? new FitOptions(Jackknife: false) { SeedEnsemble = false });
        }
        catch (InputException e) { return new RealScore(design.Design, [], e.Message); }
        var forecasts = new List<TargetForecast>();
        foreach (var t in targets)
        {
            var target = ForecastProtocol.Target(corpus, t);
            double pred = fit.Law.Predict(target.Run, fit.Values).Average();
            if (!(pred > 0) || !double.IsFinite(pred)) return new RealScore(design.Design, [], $"the fitted law predicts {pred} for {t.Name}");
            forecasts.Add(new TargetForecast(t.Name, target.Horizon, target.ObservedFinal, pred, double.NaN, double.NaN));
        }
        return new RealScore(design.Design, forecasts, null);
    }

    /// <summary>
    /// How well the simulation ranks the designs fitted on real runs: Spearman's rho of <paramref name="p"/>'s simulated RMS
    /// error and the real RMS error of every design that fitted (NaN with fewer than 3).
    /// </summary>
    public static double SimulatedVsReal(ProbeResult p, IReadOnlyList<RealScore> real)
    {
        var pairs = real.Where(x => x.Failure is null).Select(x => (Sim: p.Designs.First(d => d.Design.Key == x.Design.Key).RmsError, Real: x.RmsError)).ToArray();
        return pairs.Length < 3 ? double.NaN : RankStatistics.Spearman(pairs.Select(x => x.Sim).ToArray(), pairs.Select(x => x.Real).ToArray());
    }

    private static double[] Rates(CorpusRun r) => LawRun.FromCurve(r.Curve).Eta;

    private static bool SameRates(double[] a, double[] b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++) if (Math.Abs(a[i] - b[i]) > 1e-9 * Math.Max(Math.Abs(a[i]), Math.Abs(b[i]))) return false;
        return true;
    }

    /// <summary>
    /// Where <paramref name="r"/> leaves the constant run: its <c>branch_step</c> when the corpus says it branches
    /// from it, else the first step its rate differs if that is after the warmup; 0 for a run from scratch.
    /// </summary>
    private static long BranchStep(CorpusRun r, CorpusRun constant, double[] cEta)
    {
        if (r.BranchOf == constant.Name && r.BranchStep > 0) return r.BranchStep;
        var eta = Rates(r);
        int n = Math.Min(eta.Length, cEta.Length), peak = EtaMath.PeakIndex(cEta), i = 0;
        while (i < n && Math.Abs(eta[i] - cEta[i]) <= 1e-9 * Math.Max(eta[i], cEta[i])) i++;
        return i > peak + 1 && i < eta.Length ? i : 0;
    }

    /// <summary>A run's schedule without its total: cooldowns of one family differ only in where they end.</summary>
    private static string? Family(CorpusRun r)
    {
        if (r.Schedule is not { } spec) return null;
        var call = Specs.SpecCall.Parse(spec);
        return new Specs.SpecCall(call.Name, call.Args.Where(a => a.Name != "total").ToArray()).ToString();
    }
}
