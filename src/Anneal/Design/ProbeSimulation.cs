using System.Collections.Concurrent;
using System.Text;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Design;

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
    /// of simulated fits stay cheap. One joint fit (<see cref="Anneal.Fitting.FitOptions.SeedEnsemble"/> off): the simulation evaluates the
    /// fit's one parameter vector, and models a run's seed as noise about one trajectory.
    /// </summary>
    public static FitOptions FitOptions { get; } = new(RandomStarts: 0, Jackknife: false) { SeedEnsemble = false };

    private sealed record SimRun(double[] Eta, long[] Steps, long[] UserSteps);

    /// <summary>The run at the simulation's resolution: block-mean rates and the logged steps after the warmup (or branch point).</summary>
    private SimRun Prepare(CalibrationRun r)
    {
        var eta = Blocks(Schedule.Parse(r.Schedule), r.Horizon, Block);
        int n = eta.Length;
        long from = Math.Max(EtaMath.PeakIndex(eta), (r.BranchStep + Block - 1) / Block);
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
        // A fixed per-step momentum lambda becomes lambda^k per block; every other option (cap, priors) is kept as is.
        MomentumLaw { Lambda: { } l } m => m with { Lambda = Math.Pow(l, k) },
        AutoLaw a => new AutoLaw(a.Members.Select(m => (Coarsened(m.Law, k), m.Weight)).ToArray(), a.CrossValidatedWeights)
        {
            FittedHorizon = a.FittedHorizon / k,
            RampsReference = a.RampsReference,
            GainScales = a.GainScales,
            Alternates = a.Alternates.Select(x => x is null ? null : Coarsened(x, k)).ToArray(),
        },
        _ => law,
    };
}
