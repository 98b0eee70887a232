using System.Collections.Concurrent;
using System.Text;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;
using static Anneal.ParameterName;

namespace Anneal.Design;

/// <summary>
/// A law that plays the real training runs in the simulation: it generates the calibration runs' curves and
/// the targets' true final losses. Its "world" is the peak rate and horizon it was fitted at: the targets'
/// schedules are mapped onto it (time stretched so that the longest target horizon becomes
/// <see cref="Horizon"/>, rates scaled so that the targets' peak becomes <see cref="Peak"/>), because a law's
/// parameters mean something only in the units and at the horizons it was fitted on.
/// </summary>
/// <param name="Name">Short name for reports, e.g. <c>mpl-400m</c>.</param>
/// <param name="Law">The law with its parameter values.</param>
/// <param name="Source">Where the law and its values come from.</param>
public sealed record ProbePrior(string Name, FittedLaw Law, string Source)
{
    /// <summary>Peak rate of the runs the law was fitted on; null: the targets' own units (no rescaling).</summary>
    public double? Peak { get; init; }

    /// <summary>Horizon (steps) the longest target is mapped onto; null: the targets' own steps (no stretching).</summary>
    public long? Horizon { get; init; }

    /// <summary>
    /// The law was fitted in the simulation's own world (<see cref="ProbePriors.FromReference"/>: the targets' rates, in
    /// blocks of <see cref="ProbeSimulation.Block"/> steps), so it generates on exactly the rates the fit sees.
    /// </summary>
    public bool InSimulationWorld { get; init; }

    /// <summary>For a prior in the simulation's world: the factor from the targets' rates to the rate units the law was fitted in.</summary>
    public double RateScale { get; init; } = 1;
}

/// <summary>
/// The noise of logged losses in the simulation, on log loss at one logged point per
/// <see cref="ProbeSimulation.PointsPerHorizon"/>-th of the longest target horizon:
/// <c>eps = Sigma * (sqrt(CommonShare) * c(t) + sqrt(1 - CommonShare) * u_run(t))</c>, where c and u are
/// unit-variance AR(1) sequences over the logged points with lag-one correlation <paramref name="Correlation"/>;
/// c is shared by every run at the same step (runs of one seed see the same batches in the same order),
/// u is each run's own. A logged loss is the law's loss times <c>exp(eps)</c> (log-normal).
/// </summary>
/// <param name="Sigma">Standard deviation of eps (relative noise of one logged point).</param>
/// <param name="Correlation">Lag-one autocorrelation of consecutive logged points, in [0, 1).</param>
/// <param name="CommonShare">Fraction of the variance shared by runs at the same step, in [0, 1].</param>
public sealed record ProbeNoise(double Sigma, double Correlation, double CommonShare)
{
    /// <summary>Throws <see cref="InputException"/> naming the parameter (<c>noise</c>, <c>noise_correlation</c>, <c>noise_common</c>) when out of range.</summary>
    public ProbeNoise Validate()
    {
        if (!(Sigma >= 0 && Sigma < 0.5)) throw InputException.Naming($"{Parameter("noise")} must be a relative standard deviation in [0, 0.5), got {Sigma}");
        if (!(Correlation >= 0 && Correlation < 1)) throw InputException.Naming($"{Parameter("noise_correlation")} must be in [0, 1), got {Correlation}");
        if (!(CommonShare >= 0 && CommonShare <= 1)) throw InputException.Naming($"{Parameter("noise_common")} must be in [0, 1], got {CommonShare}");
        return this;
    }

    /// <summary>
    /// The noise of real runs as the simulation models it: <paramref name="law"/> is fitted on all of
    /// <paramref name="runs"/> (in sample), its log residuals are averaged in cells of H/<see cref="ProbeSimulation.PointsPerHorizon"/>
    /// steps (H the longest run) per run; Sigma is their root mean square, Correlation their lag-one
    /// autocorrelation within runs, CommonShare their correlation between runs in the same cell. What the law
    /// cannot describe counts as noise, as it does for a fit.
    /// </summary>
    public static ProbeNoise Measure(IReadOnlyList<LawRun> runs, LossLaw law)
    {
        var fit = Fitting.LawFitter.Fit(law, runs, new Fitting.FitOptions(Jackknife: false));
        long h = runs.Max(r => r.Steps[^1] + 1);
        long cell = Math.Max(1, (long)Math.Round((double)h / ProbeSimulation.PointsPerHorizon));
        var byRun = runs.Select(r =>
        {
            var pred = fit.Law.Predict(r, fit.Values);
            var cells = new SortedDictionary<long, (double Sum, int Count)>();
            for (int i = 0; i < r.Count; i++)
            {
                long g = (r.Steps[i] + 1) / cell;
                double e = Math.Log(r.Observed![i] / pred[i]);
                cells[g] = cells.TryGetValue(g, out var c) ? (c.Sum + e, c.Count + 1) : (e, 1);
            }
            return cells.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / kv.Value.Count);
        }).ToArray();
        var all = byRun.SelectMany(d => d.Values).ToArray();
        double var = all.Average(e => e * e);
        double lag = 0; int nLag = 0;
        foreach (var d in byRun)
            foreach (var (g, e) in d)
                if (d.TryGetValue(g + 1, out var next)) { lag += e * next; nLag++; }
        double cross = 0; int nCross = 0;
        for (int a = 0; a < byRun.Length; a++)
            for (int b = a + 1; b < byRun.Length; b++)
                foreach (var (g, e) in byRun[a])
                    if (byRun[b].TryGetValue(g, out var other)) { cross += e * other; nCross++; }
        double rho = nLag == 0 || var == 0 ? 0 : Math.Clamp(lag / nLag / var, 0, 0.99);
        double share = nCross == 0 || var == 0 ? 0 : Math.Clamp(cross / nCross / var, 0, 1);
        return new ProbeNoise(Math.Sqrt(var), rho, share);
    }
}

/// <summary>
/// The simulator behind <see cref="ProbePlanner"/>: for one design, one prior law and one noise seed, it
/// generates the design's calibration curves from the prior, fits the user's law on them exactly as
/// <c>anneal fit</c> would (without the band's refits and random starts, which do not move the point
/// forecast), forecasts every target's final loss and returns the relative errors against the prior's
/// true finals. Thread-safe; prior curves are cached per run.
/// <para>
/// Resolution: the fit runs at the targets' own steps up to <see cref="MaxSimSteps"/>; longer horizons are
/// simulated in blocks of k steps (each block's mean rate), with a fixed momentum λ raised to the k-th
/// power so that its memory in steps is unchanged (the other laws' parameters absorb the change of time
/// unit). Losses are logged every H/<see cref="PointsPerHorizon"/> steps (H the longest target horizon),
/// on a grid shared by every run, as a training log at a fixed interval would.
/// </para>
/// </summary>
public sealed class ProbeSimulation
{
    /// <summary>Longest target horizon simulated step by step; longer ones are simulated in blocks.</summary>
    public const int MaxSimSteps = 1000;

    /// <summary>Logged points over the longest target horizon (the logging interval is H / this).</summary>
    public const int PointsPerHorizon = 200;

    private readonly IReadOnlyList<ProbeTarget> _targets;
    private readonly IReadOnlyList<ProbePrior> _priors;
    private readonly ProbeNoise _noise;
    private readonly LossLaw _law;
    private readonly int _seedBase;
    private readonly LawRun[] _targetRuns;          // sim world, evaluated at the final step
    private readonly double[][] _truth;             // [prior][target] true final loss
    private readonly double _peak;
    private readonly long _h;
    private readonly ConcurrentDictionary<string, Lazy<SimRun>> _runs = new();
    private readonly ConcurrentDictionary<(int, string), Lazy<double[]>> _clean = new();
    private readonly ConcurrentDictionary<int, Lazy<double[]>> _common = new();

    /// <summary>Sets up the simulation of fitting <paramref name="law"/> for <paramref name="targets"/> (peak rate <paramref name="peak"/>).</summary>
    public ProbeSimulation(IReadOnlyList<ProbeTarget> targets, double peak, LossLaw law, IReadOnlyList<ProbePrior> priors, ProbeNoise noise, int seedBase = 1)
    {
        _targets = targets; _priors = priors; _noise = noise; _seedBase = seedBase; _peak = peak;
        _h = targets.Max(t => t.Horizon);
        Block = BlockFor(_h);
        LogEvery = LogEveryFor(_h);
        _law = Block == 1 ? law : Coarsened(law, Block);
        _targetRuns = targets.Select(t =>
        {
            var eta = Blocks(t.Schedule, t.Horizon, Block);
            return LawRun.ForSchedule(t.Label, eta, [eta.Length - 1], t.Spec);
        }).ToArray();
        _truth = priors.Select(p => targets.Select((t, i) =>
        {
            var eta = p.InSimulationWorld ? Scaled(_targetRuns[i].Eta, p.RateScale) : WorldRates(p, t.Schedule, t.Horizon);
            return p.Law.Law.Predict(eta, [eta.Length - 1], p.Law.Values)[0];
        }).ToArray()).ToArray();
        for (int p = 0; p < priors.Count; p++)
            for (int t = 0; t < targets.Count; t++)
                if (!(_truth[p][t] > 0) || !double.IsFinite(_truth[p][t]))
                    throw new InputException($"prior {priors[p].Name} gives a non-positive or non-finite loss ({_truth[p][t]}) for target {targets[t].Label}; it cannot stand in for real runs of these schedules");
    }

    /// <summary>Steps per simulated step (1 unless the longest target exceeds <see cref="MaxSimSteps"/>).</summary>
    public int Block { get; }

    /// <summary>Steps per simulated step for a longest target horizon <paramref name="h"/>.</summary>
    public static int BlockFor(long h) => (int)Math.Max(1, (h + MaxSimSteps - 1) / MaxSimSteps);

    /// <summary>The longest target horizon in simulated steps.</summary>
    public static long SimHorizon(long h) => (h + BlockFor(h) - 1) / BlockFor(h);

    /// <summary>The logging interval in simulated steps for a longest target horizon <paramref name="h"/>.</summary>
    public static int LogEveryFor(long h) => Math.Max(1, (int)Math.Round((double)SimHorizon(h) / PointsPerHorizon));

    /// <summary>Logging interval in simulated steps.</summary>
    public int LogEvery { get; }

    /// <summary>The logging interval in the targets' steps: every horizon of a grid design is a multiple of it.</summary>
    public long StepUnit => (long)LogEvery * Block;

    /// <summary>The fitted law as simulated (the user's, with a fixed momentum λ adjusted to the block size).</summary>
    public LossLaw Law => _law;

    /// <summary>The true final loss of target <paramref name="target"/> under prior <paramref name="prior"/>.</summary>
    public double Truth(int prior, int target) => _truth[prior][target];

    /// <summary>
    /// Relative errors (predicted / true - 1) of every target's final loss after fitting on <paramref name="design"/>'s
    /// runs generated by prior <paramref name="prior"/> with noise seed <paramref name="seed"/>, with the predictions;
    /// null with the reason when the fit fails.
    /// </summary>
    public (double[]? Errors, double[]? Predicted, string? Failure) Run(CalibrationDesign design, int prior, int seed)
    {
        var runs = new List<LawRun>();
        foreach (var r in design.Runs)
        {
            var sim = _runs.GetOrAdd(r.Key, _ => new Lazy<SimRun>(() => Prepare(r))).Value;
            var clean = _clean.GetOrAdd((prior, r.Key), _ => new Lazy<double[]>(() => Generate(prior, r, sim))).Value;
            var obs = new double[clean.Length];
            var eps = Noise(r, sim, seed);
            for (int i = 0; i < obs.Length; i++) obs[i] = clean[i] * Math.Exp(eps[i]);
            runs.Add(new LawRun { Name = r.Name, Eta = sim.Eta, Steps = sim.Steps, Observed = obs, EtaSource = r.Schedule });
        }
        FittedLaw fit;
        try { fit = LawFitter.Fit(_law, runs, FitOptions); }
        catch (InputException e) { return (null, null, e.Message); }
        var errors = new double[_targets.Count];
        var predicted = new double[_targets.Count];
        for (int t = 0; t < _targets.Count; t++)
        {
            double pred = fit.Law.Predict(_targetRuns[t], fit.Values)[0];
            if (!(pred > 0) || !double.IsFinite(pred)) return (null, null, $"the fitted law predicts {pred} for {_targets[t].Label}");
            predicted[t] = pred;
            errors[t] = pred / _truth[prior][t] - 1;
        }
        return (errors, predicted, null);
    }

    /// <summary>
    /// The fit of the inner loop: the defaults of <c>anneal fit</c> without the seeded random starts and the
    /// leave-one-run-out refits (they shape the band, not the point forecast), so that a design's dozens
    /// of simulated fits stay cheap.
    /// </summary>
    public static FitOptions FitOptions { get; } = new(RandomStarts: 0, Jackknife: false);

    private sealed record SimRun(double[] Eta, long[] Steps, long[] UserSteps);

    /// <summary>The run at the simulation's resolution: block-mean rates and the logged steps after the warmup (or branch point).</summary>
    private SimRun Prepare(CalibrationRun r)
    {
        var eta = Blocks(Schedule.Parse(r.Schedule), r.Horizon, Block);
        int n = eta.Length;
        long from = Math.Max(ProbeTarget.PeakIndex(eta), (r.BranchStep + Block - 1) / Block);
        var steps = new List<long>();
        for (long j = LogEvery - 1; j < n; j += LogEvery) if (j >= from) steps.Add(j);
        if (steps.Count == 0 || steps[^1] != n - 1) steps.Add(n - 1);
        var arr = steps.ToArray();
        return new SimRun(eta, arr, arr.Select(j => Math.Min(r.Horizon - 1, (j + 1) * Block - 1)).ToArray());
    }

    /// <summary>The prior's noiseless loss at the run's logged points, computed in the prior's world.</summary>
    private double[] Generate(int prior, CalibrationRun r, SimRun sim)
    {
        var p = _priors[prior];
        if (p.InSimulationWorld) return Checked(p, r, p.Law.Law.Predict(Scaled(sim.Eta, p.RateScale), sim.Steps, p.Law.Values));
        var eta = WorldRates(p, Schedule.Parse(r.Schedule), r.Horizon);
        var at = new long[sim.UserSteps.Length];
        if (at.Length > eta.Length) throw new InputException($"prior {p.Name}: its world has {eta.Length} steps for calibration run {r.Name}, fewer than the run's {at.Length} logged points; give the prior a longer horizon");
        for (int i = 0; i < at.Length; i++)
        {
            long tau = (long)Math.Round((sim.UserSteps[i] + 1) * (double)eta.Length / r.Horizon) - 1;
            at[i] = Math.Min(eta.Length - 1, Math.Max(tau, i == 0 ? 0 : at[i - 1] + 1));
        }
        // Points that collapse onto the last prior step (a prior world shorter than the targets') keep their order.
        for (int i = at.Length - 2; i >= 0; i--) if (at[i] >= at[i + 1]) at[i] = at[i + 1] - 1;
        return Checked(p, r, p.Law.Law.Predict(eta, at, p.Law.Values));
    }

    private static double[] Scaled(double[] eta, double factor) => factor == 1 ? eta : eta.Select(v => v * factor).ToArray();

    private static double[] Checked(ProbePrior p, CalibrationRun r, double[] loss)
    {
        foreach (var v in loss)
            if (!(v > 0) || !double.IsFinite(v)) throw new InputException($"prior {p.Name} gives a non-positive or non-finite loss on calibration run {r.Name}; it cannot stand in for real runs of this schedule");
        return loss;
    }

    /// <summary>A schedule's rates in the prior's world: time stretched so that the longest target horizon becomes its horizon, rates scaled to its peak.</summary>
    private double[] WorldRates(ProbePrior p, Schedule schedule, long steps) =>
        Resample(schedule, steps, p.Horizon is { } h ? (double)h / _h : 1.0, p.Peak is { } pk ? pk / _peak : 1.0);

    /// <summary>eps at each logged point of <paramref name="r"/> for noise seed <paramref name="seed"/>.</summary>
    private double[] Noise(CalibrationRun r, SimRun sim, int seed)
    {
        int m = sim.Steps.Length;
        var eps = new double[m];
        if (_noise.Sigma == 0) return eps;
        long cells = sim.Steps[^1] / LogEvery + 2;
        var common = _common.GetOrAdd(seed, s => new Lazy<double[]>(() => Ar1((int)((_h + Block - 1) / Block / LogEvery) + 2, Hash($"common|{_seedBase}|{s}")))).Value;
        var own = Ar1((int)cells, Hash($"run|{_seedBase}|{seed}|{r.Key}"));
        double a = Math.Sqrt(_noise.CommonShare), b = Math.Sqrt(1 - _noise.CommonShare);
        for (int i = 0; i < m; i++)
        {
            int g = (int)((sim.Steps[i] + 1) / LogEvery);
            eps[i] = _noise.Sigma * (a * common[Math.Min(g, common.Length - 1)] + b * own[g]);
        }
        return eps;
    }

    /// <summary>A unit-variance AR(1) sequence of length <paramref name="n"/> (stationary from its first value).</summary>
    private double[] Ar1(int n, int seed)
    {
        var rng = new Random(seed);
        double rho = _noise.Correlation, innov = Math.Sqrt(1 - rho * rho);
        var x = new double[Math.Max(1, n)];
        x[0] = Gaussian(rng);
        for (int i = 1; i < x.Length; i++) x[i] = rho * x[i - 1] + innov * Gaussian(rng);
        return x;
    }

    private static double Gaussian(Random rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>FNV-1a of the UTF-8 text: a seed that is the same in every process (string.GetHashCode is not).</summary>
    internal static int Hash(string text)
    {
        uint h = 2166136261;
        foreach (var c in Encoding.UTF8.GetBytes(text)) { h ^= c; h *= 16777619; }
        return (int)(h & 0x7fffffff);
    }

    /// <summary>
    /// The rates of a run of <paramref name="steps"/> steps of <paramref name="schedule"/> on a grid stretched by
    /// <paramref name="scale"/> (round(steps * scale) cells; each cell the exact mean of the per-step rate over the
    /// steps it covers), times <paramref name="lrScale"/>.
    /// </summary>
    public static double[] Resample(Schedule schedule, long steps, double scale, double lrScale)
    {
        long m = Math.Max(1, (long)Math.Round(steps * scale));
        double ratio = (double)steps / m;
        return Cells((span, start) => schedule.Fill(span, start), steps, m, c => (c * ratio, Math.Min(steps, (c + 1) * ratio)), lrScale);
    }

    /// <summary>The same for per-step rates given as an array (all of it is the run).</summary>
    public static double[] Resample(double[] rates, double scale, double lrScale)
    {
        long steps = rates.Length, m = Math.Max(1, (long)Math.Round(steps * scale));
        double ratio = (double)steps / m;
        return Cells((span, start) => rates.AsSpan((int)start, span.Length).CopyTo(span), steps, m, c => (c * ratio, Math.Min(steps, (c + 1) * ratio)), lrScale);
    }

    /// <summary>
    /// The rates of a run of <paramref name="steps"/> steps in blocks of <paramref name="k"/> steps: cell c is the mean
    /// rate of steps ck..(c+1)k-1 (the last block may be shorter). Runs of any length share the block boundaries,
    /// so a branch and its parent agree cell by cell up to the branch.
    /// </summary>
    public static double[] Blocks(Schedule schedule, long steps, int k) =>
        Cells((span, start) => schedule.Fill(span, start), steps, (steps + k - 1) / k, c => (c * (double)k, Math.Min(steps, (c + 1) * (double)k)), 1);

    /// <summary>
    /// Mean of the piecewise-constant per-step rate over each cell [a, b) (fractional overlaps weighted), times
    /// <paramref name="lrScale"/>. A cell over steps of one rate gets that rate exactly, so a constant stretch stays
    /// constant to the last bit (a law would read rounding noise as a rate drop).
    /// </summary>
    private static double[] Cells(Action<Span<double>, long> fill, long steps, long m, Func<long, (double A, double B)> cell, double lrScale)
    {
        if (m > int.MaxValue / 2) throw new InputException($"a run of {steps} steps on {m} cells is too long to simulate");
        var result = new double[m];
        const int chunk = 1 << 16;
        var buf = new double[chunk];
        long bufStart = 0; int bufLen = (int)Math.Min(chunk, steps);
        fill(buf.AsSpan(0, bufLen), 0);
        for (long c = 0; c < m; c++)
        {
            var (a, b) = cell(c);
            double sum = 0, lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            for (long i = (long)Math.Floor(a); i < b && i < steps; i++)
            {
                if (i >= bufStart + bufLen)
                {
                    bufStart = i; bufLen = (int)Math.Min(chunk, steps - i);
                    fill(buf.AsSpan(0, bufLen), bufStart);
                }
                double v = buf[i - bufStart];
                sum += v * (Math.Min(b, i + 1) - Math.Max(a, i));
                lo = Math.Min(lo, v); hi = Math.Max(hi, v);
            }
            result[c] = (lo == hi ? lo : sum / (b - a)) * lrScale;
        }
        return result;
    }

    /// <summary>The law as simulated in blocks of <paramref name="k"/> steps: a fixed momentum λ becomes λ^k.</summary>
    internal static LossLaw Coarsened(LossLaw law, int k) => law switch
    {
        MomentumLaw { Lambda: { } l } => new MomentumLaw(Math.Pow(l, k)),
        AutoLaw a => new AutoLaw(a.Members.Select(m => (Coarsened(m.Law, k), m.Weight)).ToArray()),
        _ => law,
    };
}

/// <summary>
/// Real runs that the prior laws are fitted on, after mapping them onto the targets' world: steps stretched so
/// that <see cref="Horizon"/> becomes the longest target horizon (the rates keep their units; the priors then
/// see the targets' rates scaled by <see cref="Peak"/> over the targets' peak). Each law of <see cref="Laws"/> fitted there is one prior: they agree where the runs were
/// observed and differ where they extrapolate, which is where a design must be robust.
/// </summary>
/// <param name="Name">Short name, e.g. <c>mpl-400m</c>.</param>
/// <param name="Runs">The runs (per-step rates, logged losses).</param>
/// <param name="Peak">Their peak rate.</param>
/// <param name="Horizon">Their longest horizon (steps).</param>
/// <param name="Source">Where they come from.</param>
public sealed record ProbeReference(string Name, IReadOnlyList<LawRun> Runs, double Peak, long Horizon, string Source)
{
    /// <summary>The law families fitted on the mapped runs, one prior each.</summary>
    public IReadOnlyList<string> Laws { get; init; } = ["momentum(lambda=fit)", "mpl"];
}

/// <summary>The prior laws <c>anneal probe</c> simulates with (docs/probe.md).</summary>
public static class ProbePriors
{
    /// <summary>
    /// One prior per law of <paramref name="reference"/>, fitted (to the optimum, every default start) on its runs
    /// mapped onto the simulation's world for targets of peak <paramref name="peak"/> and longest horizon
    /// <paramref name="horizon"/>: rates block-averaged, logged steps moved to the same fraction of the run
    /// (points landing on one simulated step averaged), points before each run's peak left out. A law whose fit
    /// fails is left out, named in <paramref name="failed"/> with the reason. The laws are fitted in the reference's own
    /// rate units, where they were made to fit (the multi-power law is not equivariant to the units of the rate), and
    /// generate the targets' rates scaled to those units.
    /// </summary>
    public static IReadOnlyList<ProbePrior> FromReference(ProbeReference reference, double peak, long horizon, out IReadOnlyList<string> failed)
    {
        long hs = ProbeSimulation.SimHorizon(horizon);
        double scale = (double)hs / reference.Horizon;
        var runs = reference.Runs.Select(r => Map(r, scale, 1)).ToArray();
        var laws = reference.Laws.Select(LossLaw.Parse).ToArray();
        var priors = new ProbePrior?[laws.Length];
        var why = new string?[laws.Length];
        Fitting.LawFitter.ForEachIndependent(laws.Length, i =>
        {
            try
            {
                var fit = Fitting.LawFitter.Fit(laws[i], runs, new Fitting.FitOptions(Jackknife: false));
                priors[i] = new ProbePrior($"{laws[i].Spec} on {reference.Name}", fit, $"{reference.Source}, mapped to the targets' horizon")
                { InSimulationWorld = true, RateScale = reference.Peak / peak };
            }
            catch (InputException e) { why[i] = $"{laws[i].Spec} on {reference.Name}: {e.Message}"; }
        });
        failed = why.OfType<string>().ToArray();
        var ok = priors.OfType<ProbePrior>().ToArray();
        if (ok.Length == 0) throw new InputException($"no prior law could be fitted on {reference.Name} ({string.Join("; ", failed)}); give another reference");
        return ok;
    }

    /// <summary>A run moved to a world stretched <paramref name="scale"/> times with rates times <paramref name="lr"/>.</summary>
    internal static LawRun Map(LawRun run, double scale, double lr)
    {
        var eta = ProbeSimulation.Resample(run.Eta, scale, lr);
        int peakAt = ProbeTarget.PeakIndex(eta);
        var bins = new SortedDictionary<long, (double Sum, int Count)>();
        for (int i = 0; i < run.Count; i++)
        {
            long j = Math.Min(eta.Length - 1, Math.Max(0, (long)Math.Round((run.Steps[i] + 1) * scale) - 1));
            if (j < peakAt) continue;
            bins[j] = bins.TryGetValue(j, out var b) ? (b.Sum + run.Observed![i], b.Count + 1) : (run.Observed![i], 1);
        }
        if (bins.Count < 2) throw new InputException($"{run.Name}: fewer than 2 logged points after the warmup once mapped onto the targets' world");
        return new LawRun
        {
            Name = run.Name, Eta = eta, Steps = bins.Keys.ToArray(), Observed = bins.Values.Select(b => b.Sum / b.Count).ToArray(),
            EtaSource = $"{run.EtaSource}, mapped",
        }.Validate();
    }

    /// <summary>Peak rate of the multi-power-law benchmark runs.</summary>
    public const double MplPeak = 3e-4;

    /// <summary>The longest multi-power-law benchmark run (72,000 steps): the horizon the published laws were checked to.</summary>
    public const long MplHorizon = 72_000;

    /// <summary>
    /// A published multi-power law (<c>mpl-25m</c>, <c>mpl-100m</c>, <c>mpl-400m</c>; Luo et al. 2025; in its own warmup
    /// convention, <see cref="BuiltinLaws.Convention"/>) in its own world: peak 3e-4, 72,000 steps. Null for another name.
    /// </summary>
    public static ProbePrior? Published(string name) =>
        BuiltinLaws.Resolve(name) is { } law
            ? new ProbePrior(name.ToLowerInvariant(), law,
                "published multi-power law, Luo et al. 2025, in its own world (peak 3e-4, 72,000 steps)") { Peak = MplPeak, Horizon = MplHorizon }
            : null;
}
