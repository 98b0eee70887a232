using Anneal.Optimization;
using Anneal.Schedules;
using Anneal.Specs;

namespace Anneal.Design;

/// <summary>A named schedule and its predicted final loss.</summary>
public sealed record Candidate(string Label, Schedule Schedule, double Loss);

/// <summary>The free (per-step) optimum of a <see cref="DesignProblem"/>.</summary>
/// <param name="PostWarmup">Optimal rates of steps W..T-1.</param>
/// <param name="Loss">Predicted final loss.</param>
/// <param name="Solver">Iterations, evaluations and stopping reason of the optimiser (all levels).</param>
/// <param name="Levels">One line per coarse-to-fine level: knots, iterations, evaluations, loss.</param>
public sealed record FreeOptimum(double[] PostWarmup, double Loss, LbfgsResult Solver, string Levels = "");

/// <summary>How the free optimum is parameterised.</summary>
public enum FreeMethod
{
    /// <summary>v_i = log eta_i with v non-increasing in [log floor, log peak]; projection by pool-adjacent-violators.</summary>
    LogRates,
    /// <summary>Non-negative decrements u_i = (eta_{i-1} - eta_i)/peak; simple bounds.</summary>
    Decrements,
}

/// <summary>The named schedule closest (RMS over steps, relative to peak) to a free optimum.</summary>
public sealed record ClosestNamed(Candidate Candidate, double RmsDistance);

/// <summary>
/// Schedule design under the Multi-Power Law (Luo et al., arXiv 2503.12811): the free per-step
/// optimum, the best member of each named family, and the standard references.
/// </summary>
public sealed class ScheduleDesigner
{
    private readonly MplFinalLoss _objective;
    private readonly double[] _eta;

    public ScheduleDesigner(DesignProblem problem)
    {
        Problem = problem.Validate();
        _objective = problem.Objective();
        _eta = new double[problem.PostWarmupSteps];
    }

    public DesignProblem Problem { get; }

    private long T => Problem.Total;
    private long W => Problem.Warmup;
    private double P => Problem.Peak;

    /// <summary>Predicted final loss of a schedule (rates at steps W..T-1).</summary>
    public double Predict(Schedule schedule)
    {
        schedule.Fill(_eta, W);
        return _objective.Value(_eta);
    }

    /// <summary>Predicted final loss of explicit post-warmup rates.</summary>
    public double Predict(ReadOnlySpan<double> postWarmup) => _objective.Value(postWarmup);

    // Predicted losses by spec: the searches round their parameters to readable specs (3 significant digits, cooldown
    // fractions to 0.001), so the last golden-section steps and the final comparisons often ask for a spec again.
    private readonly Dictionary<string, double> _losses = new(StringComparer.Ordinal);

    private Candidate Make(string label, string spec)
    {
        var s = Schedule.Parse(spec);
        if (!_losses.TryGetValue(spec, out double loss)) _losses[spec] = loss = Predict(s);
        return new Candidate(label, s, loss);
    }

    private static string F(double v) => SpecNumber.Format(v);

    /// <summary>
    /// The references printed beside every design: cosine to 10% of peak, cosine to 0,
    /// linear to zero, and WSD with a 20% 1-sqrt cooldown, at the same T, W and peak.
    /// </summary>
    public IReadOnlyList<Candidate> References() =>
    [
        Make("cosine to 10%", $"cosine(peak={F(P)}, total={T}, warmup={W}, min={F(Round(0.1 * P))})"),
        Make("cosine to 0", $"cosine(peak={F(P)}, total={T}, warmup={W})"),
        Make("linear to zero", $"linear(peak={F(P)}, total={T}, warmup={W})"),
        Make("wsd 20% sqrt", $"wsd(peak={F(P)}, total={T}, warmup={W}, decay=0.2, shape=sqrt)"),
    ];

    /// <summary>
    /// The free optimum: the best non-increasing post-warmup schedule with rates in
    /// [<see cref="DesignProblem.Floor"/>, peak]. Parameterised by non-negative decrements
    /// u_i = (eta_{i-1} - eta_i) / peak, eta_i = max(peak (1 - sum_{k&lt;=i} u_k), floor), so the
    /// constraints are simple bounds and <see cref="ProjectedLbfgs"/> applies; the gradient in u is
    /// the suffix sum of the analytic rate gradient: dL/du_i = -peak sum_{j&gt;=i, unclamped} dL/deta_j.
    /// </summary>
    public FreeOptimum Optimize(ReadOnlySpan<double> start, LbfgsOptions? options = null, Action<int, double>? progress = null, FreeMethod method = FreeMethod.LogRates)
    {
        int n = Problem.PostWarmupSteps;
        double floor = Problem.Floor;
        var eta = new double[n];
        var ge = new double[n];
        var obj = Problem.Objective();
        var best = new double[n];
        LbfgsResult r;
        if (method == FreeMethod.LogRates)
        {
            var v0 = new double[n];
            for (int i = 0; i < n; i++) v0[i] = Math.Log(Math.Clamp(start[i], floor, P));
            double Eval(ReadOnlySpan<double> v, Span<double> gv)
            {
                for (int i = 0; i < n; i++) eta[i] = Math.Exp(v[i]);
                double val = obj.Evaluate(eta, ge);
                for (int i = 0; i < n; i++) gv[i] = ge[i] * eta[i];
                return val;
            }
            r = ProjectedLbfgs.Minimize(Eval, v0, new MonotoneBox(Math.Log(floor), Math.Log(P)), options, progress);
            for (int i = 0; i < n; i++) best[i] = Math.Clamp(Math.Exp(r.X[i]), floor, P);
        }
        else
        {
            var u0 = new double[n];
            double prev = P;
            for (int i = 0; i < n; i++)
            {
                double e = Math.Clamp(start[i], floor, prev);
                u0[i] = (prev - e) / P;
                prev = e;
            }
            var lower = new double[n];
            var upper = new double[n];
            Array.Fill(upper, 1 - floor / P);
            double Eval(ReadOnlySpan<double> u, Span<double> gu)
            {
                double c = 0;
                for (int i = 0; i < n; i++) { c += u[i]; eta[i] = Math.Max(P * (1 - c), floor); }
                double v = obj.Evaluate(eta, ge);
                double acc = 0;
                for (int i = n - 1; i >= 0; i--)
                {
                    if (eta[i] > floor) acc += ge[i];
                    gu[i] = -P * acc;
                }
                return v;
            }
            r = ProjectedLbfgs.Minimize(Eval, u0, lower, upper, options, progress);
            double cum = 0;
            for (int i = 0; i < n; i++) { cum += r.X[i]; best[i] = Math.Max(P * (1 - cum), floor); }
        }
        // Rounding exp/log can leave 1-ulp rises; the schedule handed out is exactly non-increasing.
        for (int i = 1; i < n; i++) best[i] = Math.Min(best[i], best[i - 1]);
        return new FreeOptimum(best, Predict(best), r);
    }

    /// <summary>
    /// Coarse-to-fine free optimum: the schedule is first restricted to staircases that may drop only
    /// at K knots (denser towards the end of training, where the cooldown lives), parameterised by
    /// non-negative drops (or monotone log-rates), optimised with <see cref="ProjectedLbfgs"/>; each
    /// level starts from the previous level's schedule, and the last level frees every step.
    /// Under the MPL the optimum is itself a staircase (its G term pays more for one sharp drop than
    /// for the same drop spread out), which the knot levels find quickly. Per-step problems are badly conditioned (the S_k(T) coupling makes
    /// the Hessian a dense min-kernel plus a local difference operator), so the smooth low-dimensional
    /// levels do most of the work cheaply; each evaluation is still O(n).
    /// </summary>
    public FreeOptimum OptimizeMultilevel(ReadOnlySpan<double> start, IReadOnlyList<int> knotLevels, LbfgsOptions coarse, LbfgsOptions fine, Action<int, double>? progress = null, FreeMethod method = FreeMethod.Decrements)
    {
        int n = Problem.PostWarmupSteps;
        double floor = Problem.Floor;
        var current = start.ToArray();
        var eta = new double[n];
        var ge = new double[n];
        var obj = Problem.Objective();
        int iters = 0, evals = 0, offset = 0;
        var trace = new System.Text.StringBuilder();
        foreach (int kRequested in knotLevels)
        {
            if (kRequested >= n) break;
            int off = offset;
            var r = OnKnots(Knots(n, kRequested), current, coarse, method, obj, eta, ge, progress is null ? null : (i, f) => progress(off + i, f));
            iters += r.Iterations; evals += r.Evaluations; offset += r.Iterations;
            trace.Append($"{Knots(n, kRequested).Length} knots: {r.Iterations} it, {r.Evaluations} ev, {r.Value:F6}; ");
        }
        // Per-step gradients cannot move a cliff of the staircase (a whole drop shifting by a step is not a
        // small change of any coordinate), so drop positions are polished by a discrete pattern search,
        // alternating with re-optimising the levels on the current drop positions.
        for (int round = 0; round < 6 && DropKnots(current).Length <= 65; round++)
        {
            int before = evals;
            bool moved = ShiftDrops(current, obj, ref evals);
            var knots = DropKnots(current);
            var r = OnKnots(knots, current, coarse, method, obj, eta, ge, null);
            iters += r.Iterations; evals += r.Evaluations;
            trace.Append($"drop search {round + 1}: {knots.Length - 1} drops, {evals - before} ev, {r.Value:F6}; ");
            if (!moved) break;
        }
        var last = Optimize(current, fine, progress is null ? null : (i, f) => progress(offset + i, f), method);
        var s = last.Solver;
        trace.Append($"{n} steps: {s.Iterations} it, {s.Evaluations} ev, {last.Loss:F6}");
        return last with { Solver = s with { Iterations = iters + s.Iterations, Evaluations = evals + s.Evaluations }, Levels = trace.ToString() };
    }

    private LbfgsResult OnKnots(int[] knots, double[] current, LbfgsOptions options, FreeMethod method, MplFinalLoss obj, double[] eta, double[] ge, Action<int, double>? progress)
    {
        int n = current.Length, k = knots.Length;
        double floor = Problem.Floor;
        var ke = new double[k];
        var gk = new double[k];
        var x0 = new double[k];
        double prev = P;
        for (int j = 0; j < k; j++)
        {
            double v = Math.Clamp(current[knots[j]], floor, prev);
            x0[j] = method == FreeMethod.Decrements ? (prev - v) / P : Math.Log(v);
            prev = v;
        }
        void KnotRates(ReadOnlySpan<double> x)
        {
            if (method == FreeMethod.Decrements)
            {
                double c = 0;
                for (int j = 0; j < k; j++) { c += x[j]; ke[j] = Math.Max(P * (1 - c), floor); }
            }
            else for (int j = 0; j < k; j++) ke[j] = Math.Exp(x[j]);
        }
        double Eval(ReadOnlySpan<double> x, Span<double> gx)
        {
            KnotRates(x);
            Expand(knots, ke, eta, n);
            double val = obj.Evaluate(eta, ge);
            for (int j = 0; j < k; j++)
            {
                int b = j + 1 < k ? knots[j + 1] : n;
                double acc = 0;
                for (int i = knots[j]; i < b; i++) acc += ge[i];
                gk[j] = acc;
            }
            if (method == FreeMethod.Decrements)
            {
                double acc = 0;
                for (int j = k - 1; j >= 0; j--)
                {
                    if (ke[j] > floor) acc += gk[j];
                    gx[j] = -P * acc;
                }
            }
            else for (int j = 0; j < k; j++) gx[j] = gk[j] * ke[j];
            return val;
        }
        IFeasibleSet set = method == FreeMethod.Decrements
            ? new Box(new double[k], Enumerable.Repeat(1 - floor / P, k).ToArray())
            : new MonotoneBox(Math.Log(floor), Math.Log(P));
        var r = ProjectedLbfgs.Minimize(Eval, x0, set, options, progress);
        KnotRates(r.X);
        var candidate = new double[n];
        Expand(knots, ke, candidate, n);
        // Keep the start when the restricted problem could not improve on it (it may be finer than the knots).
        if (obj.Value(candidate) <= obj.Value(current)) Array.Copy(candidate, current, n);
        return r;
    }

    /// <summary>Knots at step 0 and at every step where the rate drops.</summary>
    private static int[] DropKnots(double[] eta)
    {
        var k = new List<int> { 0 };
        for (int i = 1; i < eta.Length; i++) if (eta[i] < eta[i - 1]) k.Add(i);
        return k.ToArray();
    }

    /// <summary>
    /// Pattern search on drop positions: each drop moves earlier or later by 1, 2, 4, ... steps while
    /// the predicted loss improves (the rates keep their levels). Returns whether anything moved.
    /// </summary>
    private static bool ShiftDrops(double[] eta, MplFinalLoss obj, ref int evals)
    {
        int n = eta.Length;
        bool any = false;
        double best = obj.Value(eta);
        evals++;
        var trial = new double[n];
        var drops = DropKnots(eta);
        for (int d = 1; d < drops.Length; d++)
        {
            foreach (int dir in new[] { -1, 1 })
            {
                int step = 1;
                while (true)
                {
                    int b = drops[d], nb = b + dir * step;
                    int lo = drops[d - 1] + 1, hi = d + 1 < drops.Length ? drops[d + 1] - 1 : n - 1;
                    if (nb < lo || nb > hi) break;
                    Array.Copy(eta, trial, n);
                    if (nb < b) trial.AsSpan(nb, b - nb).Fill(eta[b]);
                    else trial.AsSpan(b, nb - b).Fill(eta[b - 1]);
                    double v = obj.Value(trial);
                    evals++;
                    if (!(v < best)) break;
                    best = v;
                    Array.Copy(trial, eta, n);
                    drops[d] = nb;
                    any = true;
                    step *= 2;
                }
            }
        }
        return any;
    }

    /// <summary>K knot indices in [0, n-1] starting at 0, position (n-1)(1 - (1-s)^2) for uniform s: spacing shrinks towards the end.</summary>
    internal static int[] Knots(int n, int k)
    {
        var list = new List<int>(k);
        for (int j = 0; j < k; j++)
        {
            double s = (double)j / (k - 1);
            int pos = (int)Math.Round((n - 1) * (1 - (1 - s) * (1 - s)));
            if (list.Count == 0 || pos > list[^1]) list.Add(pos);
        }
        
        return list.ToArray();
    }

    /// <summary>Per-step rates constant from one knot to the next (a staircase with drops at knots).</summary>
    private static void Expand(int[] knots, ReadOnlySpan<double> rates, Span<double> eta, int n)
    {
        for (int j = 0; j < knots.Length; j++)
        {
            int b = j + 1 < knots.Length ? knots[j + 1] : n;
            eta[knots[j]..b].Fill(rates[j]);
        }
    }

    /// <summary>Knot counts of the coarse levels (K - 1 = 15 * 4^m, so every level's knots contain the previous level's) used by <see cref="Optimize(Action{int, double}?)"/>.</summary>
    public static IReadOnlyList<int> DefaultLevels { get; } = [16, 61];

    /// <summary>
    /// The free optimum with the default settings: coarse-to-fine from WSD with a 20% 1-sqrt
    /// cooldown (any feasible start works; this one is cheap and close).
    /// </summary>
    public FreeOptimum Optimize(Action<int, double>? progress = null)
    {
        var start = Schedule.Parse(WsdSpec(0.2, DecayShape.Sqrt, MinRatio));
        return OptimizeMultilevel(MplFinalLoss.PostWarmup(start, T, W), DefaultLevels,
            new LbfgsOptions(MaxIterations: 150, RelativeTolerance: 1e-12), new LbfgsOptions(MaxIterations: 300, RelativeTolerance: 1e-13), progress);
    }

    /// <summary>Shapes searched by <see cref="BestWsd"/> by default.</summary>
    public static IReadOnlyList<DecayShape> AllShapes { get; } = Enum.GetValues<DecayShape>();

    private double MinRatio => Problem.MinLr / P;

    private double[] MinRatios(bool positive)
    {
        double[] grid = [0, 0.001, 0.01, 0.03, 0.1];
        var r = grid.Where(x => x >= MinRatio && (!positive || x > 0)).ToList();
        if (MinRatio > 0 && !r.Contains(MinRatio)) r.Insert(0, MinRatio);
        if (r.Count == 0) r.Add(Math.Max(MinRatio, 1e-3));
        return r.ToArray();
    }

    private double MaxDecay => (double)(T - W) / T;

    private string WsdSpec(double decay, DecayShape shape, double minRatio) =>
        $"wsd(peak={F(P)}, total={T}, warmup={W}, decay={F(decay)}, shape={DecayShapes.Name(shape)}" + (minRatio > 0 ? $", min={F(Round(minRatio * P))})" : ")");

    /// <summary>Three significant digits, so printed specs stay short.</summary>
    private static double Round(double v) => v == 0 ? 0 : Math.Round(v, Math.Clamp(2 - (int)Math.Floor(Math.Log10(Math.Abs(v))), 0, 15));

    /// <summary>
    /// The best WSD schedule: a grid over cooldown fraction (0.05 steps), shape and final LR ratio
    /// {0, 0.001, 0.01, 0.03, 0.1} (at least MinLr), then golden-section refinement of the cooldown
    /// fraction and the final ratio of the best cell. Fractions are rounded to 0.001 so the spec stays readable.
    /// </summary>
    public Candidate BestWsd(IReadOnlyList<DecayShape>? shapes = null)
    {
        shapes ??= AllShapes;
        Candidate? best = null;
        double bestDecay = 0, bestMin = 0;
        DecayShape bestShape = shapes[0];
        foreach (var shape in shapes)
            foreach (var mr in MinRatios(shape is DecayShape.Exponential or DecayShape.Inverse))
                for (double f = 0.05; f <= MaxDecay + 1e-12; f += 0.05)
                {
                    var c = Make("wsd", WsdSpec(Math.Round(f, 3), shape, mr));
                    if (best is null || c.Loss < best.Loss) { best = c; bestDecay = Math.Round(f, 3); bestMin = mr; bestShape = shape; }
                }
        var sh = bestShape;
        double mrBest = bestMin;
        double fBest = Golden(x => Make("wsd", WsdSpec(Math.Round(x, 3), sh, mrBest)).Loss, Math.Max(0.001, bestDecay - 0.05), Math.Min(MaxDecay, bestDecay + 0.05), 0.001);
        fBest = Math.Round(fBest, 3);
        if (bestMin > 0 || MinRatio > 0 || sh is DecayShape.Exponential or DecayShape.Inverse)
        {
            double lo = Math.Log(Math.Max(MinRatio, 1e-4)), hi = Math.Log(0.3);
            double lm = Golden(x => Make("wsd", WsdSpec(fBest, sh, Math.Exp(x))).Loss, lo, hi, 0.01);
            var alt = Make("wsd", WsdSpec(fBest, sh, Math.Exp(lm)));
            var keep = Make("wsd", WsdSpec(fBest, sh, mrBest));
            best = alt.Loss < keep.Loss ? alt : keep;
        }
        else best = Make("wsd", WsdSpec(fBest, sh, 0));
        return best with { Label = "best wsd" };
    }

    /// <summary>Best cosine: golden-section search of the final ratio min/peak in [MinLr/peak, 0.5].</summary>
    public Candidate BestCosine() => BestByRatio("best cosine", r => $"cosine(peak={F(P)}, total={T}, warmup={W}" + (r > 0 ? $", min={F(Round(r * P))})" : ")"));

    /// <summary>Best linear decay: golden-section search of the final ratio min/peak in [MinLr/peak, 0.5].</summary>
    public Candidate BestLinear() => BestByRatio("best linear", r => $"linear(peak={F(P)}, total={T}, warmup={W}" + (r > 0 ? $", min={F(Round(r * P))})" : ")"));

    private Candidate BestByRatio(string label, Func<double, string> spec)
    {
        double best = MinRatio, bestLoss = double.PositiveInfinity;
        for (double r = MinRatio; r <= 0.5; r += 0.025)
        {
            double l = Make(label, spec(r)).Loss;
            if (l < bestLoss) { bestLoss = l; best = r; }
        }
        double refined = Golden(r => Make(label, spec(r)).Loss, Math.Max(MinRatio, best - 0.025), best + 0.025, 1e-4);
        var a = Make(label, spec(refined));
        var b = Make(label, spec(best));
        return a.Loss < b.Loss ? a : b;
    }

    /// <summary>Best REX (Chen et al.): golden-section search of the final ratio.</summary>
    public Candidate BestRex() => BestByRatio("best rex", r => $"rex(peak={F(P)}, total={T}, warmup={W}" + (r > 0 ? $", min={F(Round(r * P))})" : ")"));

    /// <summary>Best cosine power annealing: base B in {1.5, 2, 5, 10, 20, 50, 100}, each with its best final ratio.</summary>
    public Candidate BestCosinePower() =>
        new[] { 1.5, 2.0, 5, 10, 20, 50, 100 }
            .Select(b => BestByRatio("best cosine_power", r => $"cosine_power(peak={F(P)}, total={T}, warmup={W}, base={F(b)}" + (r > 0 ? $", min={F(Round(r * P))})" : ")")))
            .MinBy(c => c.Loss)!;

    /// <summary>Family names accepted by <see cref="BestOf"/>.</summary>
    public static IReadOnlyList<string> Families { get; } = ["wsd", "cosine", "linear", "rex", "cosine_power"];

    /// <summary>The best member of one family.</summary>
    public Candidate BestOf(string family) => family switch
    {
        "wsd" => BestWsd(),
        "cosine" => BestCosine(),
        "linear" => BestLinear(),
        "rex" => BestRex(),
        "cosine_power" => BestCosinePower(),
        _ => throw new InputException($"unknown family '{family}': use free, {string.Join(", ", Families)}"),
    };

    /// <summary>Best schedule of every named family (wsd, cosine, linear, rex, cosine_power).</summary>
    public IReadOnlyList<Candidate> BestOfFamilies() => Families.Select(BestOf).ToArray();

    /// <summary>
    /// The named schedule nearest the free optimum in RMS rate distance (relative to peak): WSD of
    /// every shape over cooldown fractions in 0.005 steps, cosine and linear, all ending at the
    /// optimum's final rate; with its predicted loss so the cost of rounding to a name is visible.
    /// </summary>
    public ClosestNamed Closest(double[] optimum)
    {
        double endRatio = Math.Max(optimum[^1] / P, MinRatio);
        string? bestSpec = null;
        double bestDist = double.PositiveInfinity;
        double Dist(string spec, double[] eta)
        {
            Schedule.Parse(spec).Fill(eta, W);
            double s = 0;
            for (int i = 0; i < eta.Length; i++) { double d = (eta[i] - optimum[i]) / P; s += d * d; }
            return Math.Sqrt(s / eta.Length);
        }
        var specs = new List<string>();
        foreach (var shape in AllShapes)
            for (double f = 0.005; f <= MaxDecay + 1e-12; f += 0.005)
                specs.Add(WsdSpec(Math.Round(f, 3), shape, endRatio));
        specs.Add($"cosine(peak={F(P)}, total={T}, warmup={W}, min={F(Round(endRatio * P))})");
        specs.Add($"linear(peak={F(P)}, total={T}, warmup={W}, min={F(Round(endRatio * P))})");
        // ~1,100 independent distances: computed on every core (each range with its own buffer), then the first
        // minimum taken in list order, so the answer does not depend on the number of threads.
        var dist = new double[specs.Count];
        Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, specs.Count, 64), () => new double[optimum.Length],
            (range, _, eta) => { for (int i = range.Item1; i < range.Item2; i++) dist[i] = Dist(specs[i], eta); return eta; }, _ => { });
        for (int i = 0; i < specs.Count; i++)
            if (dist[i] < bestDist) { bestDist = dist[i]; bestSpec = specs[i]; }
        return new ClosestNamed(Make("closest named", bestSpec!), bestDist);
    }

    /// <summary>Golden-section minimisation of a unimodal f on [a, b] to width <paramref name="tol"/>.</summary>
    internal static double Golden(Func<double, double> f, double a, double b, double tol)
    {
        if (b < a) (a, b) = (b, a);
        const double R = 0.6180339887498949;
        double c = b - R * (b - a), d = a + R * (b - a);
        double fc = f(c), fd = f(d);
        while (b - a > tol)
        {
            if (fc < fd) { b = d; d = c; fd = fc; c = b - R * (b - a); fc = f(c); }
            else { a = c; c = d; fc = fd; d = a + R * (b - a); fd = f(d); }
        }
        return fc < fd ? c : d;
    }
}
