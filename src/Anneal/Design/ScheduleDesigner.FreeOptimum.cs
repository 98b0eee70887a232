using Anneal.Laws;
using Anneal.Optimization;
using Anneal.Schedules;

namespace Anneal.Design;

/// <summary>The free (per-step) optimum: projected L-BFGS over the post-warmup rates, coarse to fine.</summary>
public sealed partial class ScheduleDesigner
{
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
        var obj = _newObjective();
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
        var obj = _newObjective();
        int iters = 0, evals = 0, offset = 0;
        var trace = new System.Text.StringBuilder();
        foreach (int kRequested in knotLevels)
        {
            if (kRequested >= n) break;
            int off = offset;
            var r = OnKnots(Knots(n, kRequested), current, coarse, method, obj, progress is null ? null : (i, f) => progress(off + i, f));
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
            var r = OnKnots(knots, current, coarse, method, obj, null);
            iters += r.Iterations; evals += r.Evaluations;
            trace.Append($"drop search {round + 1}: {knots.Length - 1} drops, {evals - before} ev, {r.Value:F6}; ");
            if (!moved) break;
        }
        // Without per-rate gradients (an auto stack's forecast) the last, per-step level cannot run: the staircase is the optimum.
        if (!obj.RateGradient)
        {
            double value = obj.Value(current);
            evals++;
            trace.Append($"staircase (no per-rate gradient): {value:F6}");
            return new FreeOptimum(current, value, new LbfgsResult(current, value, iters, evals, true, "staircase levels and drops converged (no per-rate gradient for a per-step level)"), trace.ToString());
        }
        var last = Optimize(current, fine, progress is null ? null : (i, f) => progress(offset + i, f), method);
        var s = last.Solver;
        trace.Append($"{n} steps: {s.Iterations} it, {s.Evaluations} ev, {last.Loss:F6}");
        return last with { Solver = s with { Iterations = iters + s.Iterations, Evaluations = evals + s.Evaluations }, Levels = trace.ToString() };
    }

    private LbfgsResult OnKnots(int[] knots, double[] current, LbfgsOptions options, FreeMethod method, IFinalLoss obj, Action<int, double>? progress)
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
            // the knot problem's rates are a staircase: its loss and per-knot gradient cost O(k), not O(n)
            double val = obj.EvaluateStaircase(knots, ke, n, gk);
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
    /// The trial schedules are staircases, evaluated in O(drops) (<see cref="MplFinalLoss.EvaluateStaircase"/>).
    /// </summary>
    private static bool ShiftDrops(double[] eta, IFinalLoss obj, ref int evals)
    {
        int n = eta.Length;
        bool any = false;
        var drops = DropKnots(eta);
        var levels = drops.Select(i => eta[i]).ToArray();
        var trial = (int[])drops.Clone();
        double best = obj.EvaluateStaircase(drops, levels, n, default);
        evals++;
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
                    trial[d] = nb;
                    double v = obj.EvaluateStaircase(trial, levels, n, default);
                    evals++;
                    if (!(v < best)) { trial[d] = b; break; }
                    best = v;
                    drops[d] = nb;
                    any = true;
                    step *= 2;
                }
            }
        }
        if (any) Expand(drops, levels, eta, n);
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
    internal static void Expand(ReadOnlySpan<int> knots, ReadOnlySpan<double> rates, Span<double> eta, int n)
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
    public FreeOptimum Optimize(Action<int, double>? progress = null) => Optimize([], progress);

    /// <summary>
    /// The free optimum once the named schedules <paramref name="named"/> (every family's best, the references) are known: with
    /// per-rate gradients <see cref="Optimize(Action{int, double}?)"/>, which needs no start; without (an auto stack's forecast)
    /// <see cref="Optimize(IReadOnlyList{double[]}, Action{int, double}?)"/> from the lowest of them and of the multi-power
    /// law's own per-step optimum (<see cref="DesignProblem.FinalLoss"/>, exact gradients: the stack's multi-power member),
    /// so that the optimum is forecast no higher than any of them.
    /// </summary>
    public FreeOptimum OptimizeAfter(IEnumerable<Candidate> named)
    {
        if (RateGradient) return Optimize();
        var starts = named.Select(c => MplFinalLoss.PostWarmup(c.Schedule, T, W)).Append(new ScheduleDesigner(Problem).Optimize().PostWarmup).ToArray();
        return Optimize(starts);
    }

    /// <summary>
    /// Knot counts of the staircase levels when the objective has no per-rate gradient (<see cref="IFinalLoss.RateGradient"/>:
    /// an auto stack's forecast): each gradient there costs one forecast per knot (<see cref="StackFinalLoss.EvaluateStaircase"/>),
    /// so the levels stop at 16 knots and the drop search polishes where the drops sit.
    /// </summary>
    public static IReadOnlyList<int> StaircaseLevels { get; } = [16];

    /// <summary>
    /// The free optimum, from WSD with a 20 % 1-sqrt cooldown or from the lowest of <paramref name="starts"/> (post-warmup rates,
    /// e.g. the best member of each family) under the objective where that is lower. With per-rate gradients: coarse-to-fine
    /// (<see cref="DefaultLevels"/>, then every step). Without (<see cref="RateGradient"/> false): the staircase levels
    /// (<see cref="StaircaseLevels"/>) and the drop search only; a level keeps its start unless it improves on it
    /// (<see cref="OptimizeMultilevel"/>), so the result is never above the lowest start under the objective.
    /// </summary>
    public FreeOptimum Optimize(IReadOnlyList<double[]> starts, Action<int, double>? progress = null)
    {
        var start = MplFinalLoss.PostWarmup(Schedule.Parse(WsdSpec(0.2, DecayShape.Sqrt, MinRatio)), T, W);
        double startLoss = _objective.Value(start);
        foreach (var s in starts)
        {
            double l = _objective.Value(s);
            if (l < startLoss) (start, startLoss) = ((double[])s.Clone(), l);
        }
        if (!RateGradient)
            return OptimizeMultilevel(start, StaircaseLevels, new LbfgsOptions(MaxIterations: 60, RelativeTolerance: 1e-9), new LbfgsOptions(), progress);
        return OptimizeMultilevel(start, DefaultLevels,
            new LbfgsOptions(MaxIterations: 150, RelativeTolerance: 1e-12), new LbfgsOptions(MaxIterations: 300, RelativeTolerance: 1e-13), progress);
    }
}
