using System.Text.Json.Serialization;
using Anneal.Fitting;
using Anneal.Optimization;

namespace Anneal.Planning;

/// <summary>Options for <see cref="ChinchillaFit.Fit"/>.</summary>
/// <param name="Bootstrap">Number of bootstrap resamples (0 = no confidence intervals).</param>
/// <param name="Seed">Seed for the resampling; the result is identical for a seed whatever the thread count.</param>
/// <param name="Delta">Huber threshold on the log-loss residual (1e-3 as in Hoffmann et al. and the Epoch replication).</param>
/// <param name="Level">Confidence level of the percentile intervals.</param>
/// <param name="Starts">L-BFGS runs from the best grid points of the full data.</param>
/// <param name="HoldAt">Values for parameters that the data cannot identify (default: Hoffmann et al.'s published fit).</param>
/// <param name="Frontier">Compute budgets for the frontier; default: decades spanning the runs and three beyond.</param>
public sealed record ChinchillaFitOptions(int Bootstrap = 1000, int Seed = 0, double Delta = 1e-3, double Level = 0.95, int Starts = 32,
                                          ChinchillaLaw? HoldAt = null, IReadOnlyList<double>? Frontier = null);

/// <summary>A fitted (or held) quantity with its bootstrap percentile interval (NaN when not bootstrapped).</summary>
public sealed record ParameterEstimate(string Name, double Value, double Low, double High, bool Fixed);

/// <summary>Compute-optimal point at one budget with bootstrap intervals.</summary>
public sealed record FrontierPoint(double Flops,
    double Params, double ParamsLow, double ParamsHigh,
    double Tokens, double TokensLow, double TokensHigh,
    double TokensPerParam, double TokensPerParamLow, double TokensPerParamHigh,
    double Loss, double LossLow, double LossHigh);

/// <summary>Result of fitting the Chinchilla form to runs.</summary>
public sealed record ChinchillaFitResult(
    ChinchillaLaw Law, double LogA, double LogB, double LogE,
    IReadOnlyList<ParameterEstimate> Parameters, IReadOnlyList<HeldParameter> Held,
    double Objective, bool Converged, int Iterations, int Starts, int StartsAtBest,
    double RmseLog, double R2, int Runs, int DistinctParams, int DistinctTokens,
    int Resamples, int FailedResamples, int Seed, double Level, double Delta,
    IReadOnlyList<FrontierPoint> Frontier,
    [property: JsonIgnore] IReadOnlyList<ChinchillaLaw> BootstrapLaws)
{
    /// <summary>
    /// k in C = k N D used for the frontier: the median of flops / (N D) over runs that log FLOPs
    /// (their counts may include attention or embeddings), else 6 (Kaplan et al. 2020).
    /// </summary>
    public double FlopsPerParamToken { get; init; } = 6.0;

    /// <summary>Compute-optimal points at any budgets, with intervals from the stored bootstrap fits.</summary>
    public IReadOnlyList<FrontierPoint> FrontierAt(IEnumerable<double> budgets) => ChinchillaFit.Frontier(Law, BootstrapLaws, budgets, Level, FlopsPerParamToken);
}

/// <summary>
/// Fits <c>L(N, D) = E + A/N^alpha + B/D^beta</c> the way Hoffmann et al. (arXiv 2203.15556, approach 3)
/// and the Epoch replication (Besiroglu et al., arXiv 2404.10102) do: parameters
/// theta = (log A, log B, log E, alpha, beta), prediction <c>log L = LSE(log A - alpha log N, log B - beta log D, log E)</c>,
/// objective = sum of Huber_delta(log L_pred - log L_obs) with delta = 1e-3, minimised by L-BFGS with
/// the analytic gradient from the best points of a grid over theta. Parameters are kept unrounded
/// (Epoch: rounding the published constants changes the implied allocation). Confidence intervals
/// come from resampling runs with replacement and refitting (percentile bootstrap).
/// </summary>
public static class ChinchillaFit
{
    internal const int Dim = 5; // log A, log B, log E, alpha, beta
    internal static readonly string[] Names = ["log A", "log B", "log E", "alpha", "beta"];

    /// <summary>
    /// The unconstrained L-BFGS settings of the fit (<see cref="LbfgsWorkspace"/> without a feasible set; the domain is
    /// enforced by the objective returning +inf, which the halving line search steps back from). The objective's scale
    /// asks for a first step of at most 1 along -g / max|g|, a tolerance relative to |f| itself (a Huber objective near
    /// its optimum is small) and 3 quiet iterations.
    /// </summary>
    internal static readonly LbfgsOptions Solver = new(Memory: 10, MaxIterations: 500, ProjectedGradientTolerance: 1e-12,
        RelativeTolerance: 1e-14, Patience: 3, FirstStep: 1, FirstStepCap: 1, ToleranceFloor: 1e-300, Search: LineSearch.Halving);

    public static ChinchillaFitResult Fit(IReadOnlyList<ScalingRun> runs, ChinchillaFitOptions? options = null, IProgress<int>? progress = null)
    {
        var o = options ?? new ChinchillaFitOptions();
        Require.NotNegative(o.Bootstrap, "bootstrap");
        Require.Level(o.Level, "level");
        if (!(o.Delta > 0)) throw new InputException($"Huber delta must be > 0, got {o.Delta}");
        var hold = o.HoldAt ?? ChinchillaLaw.Published;

        int n = runs.Count;
        var x = new double[n]; var y = new double[n]; var l = new double[n];
        for (int i = 0; i < n; i++) { x[i] = Math.Log(runs[i].Params); y[i] = Math.Log(runs[i].Tokens); l[i] = Math.Log(runs[i].Loss); }
        int distinctN = runs.Select(r => r.Params).Distinct().Count();
        int distinctD = runs.Select(r => r.Tokens).Distinct().Count();

        var free = new bool[Dim];
        Array.Fill(free, true);
        var fixedTheta = new[] { Math.Log(hold.A), Math.Log(hold.B), Math.Log(hold.E), hold.Alpha, hold.Beta };
        var held = new List<HeldParameter>();
        if (distinctN < 3)
        {
            free[0] = free[3] = false;
            string why = $"only {distinctN} distinct model size(s): A/N^alpha cannot be told apart from E with fewer than 3 sizes; held at {LawName(hold)}";
            held.Add(new("A", hold.A, why)); held.Add(new("alpha", hold.Alpha, why));
        }
        if (distinctD < 3)
        {
            free[1] = free[4] = false;
            string why = $"only {distinctD} distinct token count(s): B/D^beta cannot be told apart from E with fewer than 3; held at {LawName(hold)}";
            held.Add(new("B", hold.B, why)); held.Add(new("beta", hold.Beta, why));
        }
        int nFree = free.Count(f => f);
        if (n <= nFree) throw new InputException($"{n} run(s) for {nFree} free parameters; the Chinchilla fit needs at least {nFree + 1} runs");

        var weights = new double[n];
        Array.Fill(weights, 1.0);
        var objective = new ChinchillaObjective(x, y, l, weights, free, fixedTheta, o.Delta);
        var grid = Grid(free, fixedTheta);
        var ranked = RankStarts(objective, grid, Math.Max(1, o.Starts));

        var opt = new LbfgsWorkspace(nFree, Solver.Memory);
        double[] best = null!;
        LbfgsOutcome bestRes = default;
        var values = new List<double>();
        var freeX = new double[nFree];
        foreach (var start in ranked)
        {
            objective.ToFree(start, freeX);
            var r = opt.Minimize(objective.Evaluate, freeX, null, Solver);
            values.Add(r.Value);
            if (best is null || r.Value < bestRes.Value) { bestRes = r; best = objective.ToFull(freeX); }
        }
        int atBest = values.Count(v => v <= bestRes.Value * (1 + 1e-6) + 1e-15);

        // Bootstrap: resample runs with replacement (multiplicity weights) and refit from the full-data
        // optimum; the best grid points are fallbacks only if that refit fails to converge. (Measured
        // on the bundled example: over 300 resamples, restarting also from the two best grid points
        // never found a lower objective, at 2.5x the iterations each.) Each resample owns a seed
        // derived from (seed, k), so the answer does not depend on thread scheduling.
        int bN = o.Bootstrap;
        var samples = new double[bN][];
        var warm = new List<double[]> { best };
        warm.AddRange(ranked.Take(2));
        int done = 0;
        Parallel.For(0, bN,
            () => (w: new double[n], opt: new LbfgsWorkspace(nFree, Solver.Memory), fx: new double[nFree]),
            (k, _, st) =>
            {
                var rng = new Random(MixSeed(o.Seed, k));
                Array.Clear(st.w);
                for (int i = 0; i < n; i++) st.w[rng.Next(n)] += 1;
                var obj = new ChinchillaObjective(x, y, l, st.w, free, fixedTheta, o.Delta);
                double[]? bestT = null;
                foreach (var s in warm)
                {
                    obj.ToFree(s, st.fx);
                    var r = st.opt.Minimize(obj.Evaluate, st.fx, null, Solver);
                    if (double.IsFinite(r.Value) && r.Converged) { bestT = obj.ToFull(st.fx); break; }
                }
                samples[k] = bestT!;
                int c = Interlocked.Increment(ref done);
                if (progress is not null && (c % 50 == 0 || c == bN)) progress.Report(c);
                return st;
            },
            _ => { });
        var ok = samples.Where(s => s is not null && s.All(double.IsFinite)).ToArray();
        int failed = bN - ok.Length;

        var law = ToLaw(best);
        if (!free[0]) law = law with { A = hold.A, Alpha = hold.Alpha };
        if (!free[1]) law = law with { B = hold.B, Beta = hold.Beta };
        var pars = new List<ParameterEstimate>();
        void Add(string name, Func<double[], double> fn, bool isFixed)
        {
            // Held values are reported exactly as given, not as exp(log(value)).
            double v = held.FirstOrDefault(h => h.Name == name)?.Value ?? fn(best);
            if (ok.Length == 0 || isFixed) { pars.Add(new(name, v, isFixed ? v : double.NaN, isFixed ? v : double.NaN, isFixed)); return; }
            var (lo, hi) = Interval(ok.Select(fn).ToArray(), o.Level);
            pars.Add(new(name, v, lo, hi, false));
        }
        Add("E", t => Math.Exp(t[2]), !free[2]);
        Add("A", t => Math.Exp(t[0]), !free[0]);
        Add("B", t => Math.Exp(t[1]), !free[1]);
        Add("alpha", t => t[3], !free[3]);
        Add("beta", t => t[4], !free[4]);
        Add("a = beta/(alpha+beta)", t => t[4] / (t[3] + t[4]), !free[3] && !free[4]);
        Add("b = alpha/(alpha+beta)", t => t[3] / (t[3] + t[4]), !free[3] && !free[4]);

        // Goodness of fit on the full data.
        double sse = 0, sst = 0, sLog = 0, mean = runs.Average(r => r.Loss);
        for (int i = 0; i < n; i++)
        {
            double pred = law.Loss(runs[i].Params, runs[i].Tokens);
            sse += (pred - runs[i].Loss) * (pred - runs[i].Loss);
            sst += (runs[i].Loss - mean) * (runs[i].Loss - mean);
            sLog += Math.Pow(Math.Log(pred) - l[i], 2);
        }

        var sampleLaws = ok.Select(ToLaw).ToArray();
        double kFlops = FlopsPerParamToken(runs);
        var frontier = Frontier(law, sampleLaws, o.Frontier ?? DefaultBudgets(runs), o.Level, kFlops);

        return new ChinchillaFitResult(law, best[0], best[1], best[2], pars, held, bestRes.Value, bestRes.Converged, bestRes.Iterations,
            ranked.Count, atBest, Math.Sqrt(sLog / n), sst > 0 ? 1 - sse / sst : double.NaN, n, distinctN, distinctD,
            bN, failed, o.Seed, o.Level, o.Delta, frontier, sampleLaws) { FlopsPerParamToken = kFlops };
    }

    /// <summary>Median flops / (N D) over the runs with a flops value; 6 when none has one.</summary>
    public static double FlopsPerParamToken(IReadOnlyList<ScalingRun> runs)
    {
        var k = runs.Where(r => r.Flops is > 0).Select(r => r.Flops!.Value / (r.Params * r.Tokens)).ToArray();
        return k.Length == 0 ? 6.0 : SampleStatistics.Median(k);
    }

    /// <summary>N_opt, D_opt, tokens/param and loss along the frontier, with percentile intervals over <paramref name="samples"/>.</summary>
    internal static IReadOnlyList<FrontierPoint> Frontier(ChinchillaLaw law, IReadOnlyList<ChinchillaLaw> samples, IEnumerable<double> budgets, double level, double flopsPerParamToken = 6.0)
    {
        var frontier = new List<FrontierPoint>();
        foreach (double c in budgets)
        {
            var (no, dopt) = law.ComputeOptimal(c, flopsPerParamToken);
            double lossOpt = law.Loss(no, dopt);
            if (samples.Count == 0)
            {
                frontier.Add(new(c, no, double.NaN, double.NaN, dopt, double.NaN, double.NaN, dopt / no, double.NaN, double.NaN, lossOpt, double.NaN, double.NaN));
                continue;
            }
            var ns = new double[samples.Count]; var ds = new double[samples.Count]; var ls = new double[samples.Count]; var tpp = new double[samples.Count];
            for (int k = 0; k < samples.Count; k++)
            {
                var (nk, dk) = samples[k].ComputeOptimal(c, flopsPerParamToken);
                ns[k] = nk; ds[k] = dk; ls[k] = samples[k].Loss(nk, dk); tpp[k] = dk / nk;
            }
            var (nl, nh) = Interval(ns, level); var (dl, dh) = Interval(ds, level);
            var (tl, th) = Interval(tpp, level); var (ll, lh) = Interval(ls, level);
            frontier.Add(new(c, no, nl, nh, dopt, dl, dh, dopt / no, tl, th, lossOpt, ll, lh));
        }
        return frontier;
    }

    internal static ChinchillaLaw ToLaw(double[] t) => new(Math.Exp(t[2]), Math.Exp(t[0]), Math.Exp(t[1]), t[3], t[4]);

    private static string LawName(ChinchillaLaw l) =>
        l == ChinchillaLaw.Published ? "Hoffmann et al.'s published value" : l == ChinchillaLaw.EpochRefit ? "the Epoch refit value" : "the given reference value";

    /// <summary>Decades from the smallest run's compute to 1000x the largest.</summary>
    private static double[] DefaultBudgets(IReadOnlyList<ScalingRun> runs)
    {
        int lo = (int)Math.Floor(Math.Log10(runs.Min(r => r.Compute)));
        int hi = (int)Math.Ceiling(Math.Log10(runs.Max(r => r.Compute))) + 3;
        return Enumerable.Range(lo, hi - lo + 1).Select(e => Math.Pow(10, e)).ToArray();
    }

    /// <summary>
    /// The initialisation grid of Hoffmann et al. (also used by Epoch): alpha, beta in {0, 0.5, ..., 2},
    /// e in {-1, -0.5, ..., 1}, a, b in {0, 5, ..., 25}; held parameters stay at their fixed values.
    /// </summary>
    internal static List<double[]> Grid(bool[] free, double[] fixedTheta)
    {
        double[][] axes =
        [
            free[0] ? [0, 5, 10, 15, 20, 25] : [fixedTheta[0]],
            free[1] ? [0, 5, 10, 15, 20, 25] : [fixedTheta[1]],
            free[2] ? [-1, -0.5, 0, 0.5, 1] : [fixedTheta[2]],
            free[3] ? [0, 0.5, 1, 1.5, 2] : [fixedTheta[3]],
            free[4] ? [0, 0.5, 1, 1.5, 2] : [fixedTheta[4]],
        ];
        var list = new List<double[]>();
        foreach (var a in axes[0]) foreach (var b in axes[1]) foreach (var e in axes[2]) foreach (var al in axes[3]) foreach (var be in axes[4])
            list.Add([a, b, e, al, be]);
        return list;
    }

    private static List<double[]> RankStarts(ChinchillaObjective obj, List<double[]> grid, int k)
    {
        var scored = new (double v, int i)[grid.Count];
        Parallel.For(0, grid.Count, i => scored[i] = (obj.ValueFull(grid[i]), i));
        return scored.Where(s => double.IsFinite(s.v)).OrderBy(s => s.v).ThenBy(s => s.i).Take(k).Select(s => grid[s.i]).ToList();
    }

    /// <summary>Percentile interval with linear interpolation between order statistics.</summary>
    internal static (double Low, double High) Interval(double[] values, double level)
    {
        var v = values.Where(double.IsFinite).ToArray();
        if (v.Length == 0) return (double.NaN, double.NaN);
        Array.Sort(v);
        double a = (1 - level) / 2;
        return (SampleStatistics.Quantile(v, a), SampleStatistics.Quantile(v, 1 - a));
    }

    /// <summary>SplitMix64-style mixing so that neighbouring resample indices get unrelated streams.</summary>
    internal static int MixSeed(int seed, int k)
    {
        ulong z = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)k + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }
}

/// <summary>
/// Weighted Huber objective on log loss for the Chinchilla form, over the free subset of
/// theta = (log A, log B, log E, alpha, beta). Gradient: with softmax weights s_j of the three LSE
/// terms and psi = Huber'(r) = clamp(r, -delta, delta): d/dlogA = psi s1, d/dalpha = -psi s1 log N,
/// d/dlogB = psi s2, d/dbeta = -psi s2 log D, d/dlogE = psi s3.
/// </summary>
internal sealed class ChinchillaObjective(double[] x, double[] y, double[] l, double[] w, bool[] free, double[] fixedTheta, double delta)
{
    private const double MaxExponent = 5;

    public void ToFree(double[] full, Span<double> f)
    {
        int j = 0;
        for (int i = 0; i < ChinchillaFit.Dim; i++) if (free[i]) f[j++] = full[i];
    }

    public double[] ToFull(ReadOnlySpan<double> f)
    {
        var t = (double[])fixedTheta.Clone();
        int j = 0;
        for (int i = 0; i < ChinchillaFit.Dim; i++) if (free[i]) t[i] = f[j++];
        return t;
    }

    public double ValueFull(double[] t) => Core(t[0], t[1], t[2], t[3], t[4], Span<double>.Empty);

    public double Evaluate(ReadOnlySpan<double> f, Span<double> grad)
    {
        Span<double> t = stackalloc double[ChinchillaFit.Dim];
        int j = 0;
        for (int i = 0; i < ChinchillaFit.Dim; i++) t[i] = free[i] ? f[j++] : fixedTheta[i];
        Span<double> g = stackalloc double[ChinchillaFit.Dim];
        double v = Core(t[0], t[1], t[2], t[3], t[4], g);
        j = 0;
        for (int i = 0; i < ChinchillaFit.Dim; i++) if (free[i]) grad[j++] = g[i];
        return v;
    }

    private double Core(double a, double b, double e, double alpha, double beta, Span<double> g)
    {
        if (!(alpha >= 0 && alpha <= MaxExponent && beta >= 0 && beta <= MaxExponent && Math.Abs(a) < 200 && Math.Abs(b) < 200 && Math.Abs(e) < 50))
            return double.PositiveInfinity;
        bool wantGrad = !g.IsEmpty;
        double ga = 0, gb = 0, ge = 0, gal = 0, gbe = 0, sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double wi = w[i];
            if (wi == 0) continue;
            double t1 = a - alpha * x[i], t2 = b - beta * y[i];
            double m = Math.Max(Math.Max(t1, t2), e);
            double e1 = Math.Exp(t1 - m), e2 = Math.Exp(t2 - m), e3 = Math.Exp(e - m);
            double z = e1 + e2 + e3;
            double r = m + Math.Log(z) - l[i];
            double ar = Math.Abs(r);
            sum += wi * (ar <= delta ? 0.5 * r * r : delta * (ar - 0.5 * delta));
            if (!wantGrad) continue;
            double psi = wi * Math.Clamp(r, -delta, delta) / z;
            double p1 = psi * e1, p2 = psi * e2;
            ga += p1; gal -= p1 * x[i];
            gb += p2; gbe -= p2 * y[i];
            ge += psi * e3;
        }
        if (wantGrad) { g[0] = ga; g[1] = gb; g[2] = ge; g[3] = gal; g[4] = gbe; }
        return sum;
    }
}
