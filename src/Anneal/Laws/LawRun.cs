using Anneal.Curves;

namespace Anneal.Laws;

/// <summary>
/// The input every law sees: the learning rate at EVERY optimizer step 0..n-1 of one run and the
/// steps at which the loss is wanted. Convention (checked against the published multi-power-law
/// metrics): the loss logged at step s is the loss after the updates of steps 0..s, so
/// S1(s) = sum_{tau=0..s} eta_tau includes step s itself.
/// </summary>
public sealed record LawRun
{
    /// <summary>Name shown in tables (usually the curve name).</summary>
    public required string Name { get; init; }

    /// <summary>Per-step learning rate, index = 0-based optimizer step; length &gt; max(Steps).</summary>
    public required double[] Eta { get; init; }

    /// <summary>Steps at which the law is evaluated (strictly increasing, each &lt; Eta.Length).</summary>
    public required long[] Steps { get; init; }

    /// <summary>Observed loss at <see cref="Steps"/> (null when the run is only predicted).</summary>
    public double[]? Observed { get; init; }

    /// <summary>True when <see cref="Eta"/> was rebuilt by interpolating a logged LR column (approximate).</summary>
    public bool EtaInterpolated { get; init; }

    /// <summary>Where <see cref="Eta"/> came from, for reports (a schedule spec or "interpolated lr column").</summary>
    public string EtaSource { get; init; } = "per-step array";

    /// <summary>
    /// Per-step global gradient norm G_t (index = 0-based optimizer step, the gradient of update t, as
    /// <c>anneal train</c> logs it in <c>grad_norm</c>), same length as <see cref="Eta"/>; null when the
    /// run has none. Used by <c>convex(grad=logged)</c> (Schaipp et al. 2025's bound with G_t).
    /// </summary>
    public double[]? GradNorm { get; init; }

    /// <summary>True when <see cref="GradNorm"/> was filled in between logged steps by linear interpolation.</summary>
    public bool GradNormInterpolated { get; init; }

    /// <summary>Where <see cref="GradNorm"/> came from, for reports.</summary>
    public string? GradNormSource { get; init; }

    /// <summary>What was made up when <see cref="GradNorm"/> was rebuilt (null when exact), for the CLI to print.</summary>
    public string? GradNormWarning { get; init; }

    /// <summary>
    /// The run's seed where its source states it (a corpus's <c>seed</c> field); null otherwise. With it, or a seed named in
    /// <see cref="Name"/> (<c>_s2</c>), a fit of several seeds pairs runs by seed (<see cref="Anneal.Fitting.SeedGroups"/>).
    /// </summary>
    public int? Seed { get; init; }

    /// <summary>Number of evaluated points.</summary>
    public int Count => Steps.Length;

    /// <summary>Checks shapes and values; throws <see cref="InputException"/> naming the run.</summary>
    public LawRun Validate()
    {
        if (Steps.Length == 0) throw new InputException($"{Name}: no steps to evaluate");
        for (int i = 0; i < Steps.Length; i++)
        {
            if (Steps[i] < 0) throw new InputException($"{Name}: step {Steps[i]} is negative");
            if (i > 0 && Steps[i] <= Steps[i - 1]) throw new InputException($"{Name}: steps must be strictly increasing (row {i + 1}: {Steps[i]} after {Steps[i - 1]})");
        }
        if (GradNorm is { } g)
        {
            if (g.Length != Eta.Length) throw new InputException($"{Name}: {g.Length} gradient norms for {Eta.Length} steps of learning rate");
            for (int i = 0; i < g.Length; i++)
                if (!double.IsFinite(g[i]) || g[i] < 0) throw new InputException($"{Name}: gradient norm at step {i} is {g[i]}; it must be finite and >= 0");
        }
        if (Steps[^1] >= Eta.Length) throw new InputException($"{Name}: the learning rate is known for steps 0..{Eta.Length - 1} but the loss is wanted at step {Steps[^1]}");
        for (int i = 0; i < Eta.Length; i++)
            if (!double.IsFinite(Eta[i]) || Eta[i] < 0) throw new InputException($"{Name}: learning rate at step {i} is {Eta[i]}; it must be finite and >= 0");
        if (Observed is { } o)
        {
            if (o.Length != Steps.Length) throw new InputException($"{Name}: {o.Length} observed losses for {Steps.Length} steps");
            for (int i = 0; i < o.Length; i++)
                if (!(o[i] > 0) || !double.IsFinite(o[i])) throw new InputException($"{Name}: loss at step {Steps[i]} is {o[i]}; laws fit log(loss), so every loss must be a finite number > 0");
        }
        return this;
    }

    private static readonly ParameterName TargetParameter = ParameterName.Parameter("target");

    /// <summary>
    /// Builds a run from a logged curve. The per-step LR comes from the curve's
    /// <see cref="LossCurve.ScheduleSpec"/> when present (exact); otherwise it is rebuilt by
    /// piecewise-linear interpolation of the logged LR column (flagged: an approximation that
    /// misses anything between logged points, e.g. the exact warmup).
    /// </summary>
    /// <param name="curve">The logged run.</param>
    /// <param name="target">"loss" (training loss) or "val" (validation loss; rows without one are dropped).</param>
    public static LawRun FromCurve(LossCurve curve, string target = "loss")
    {
        var where = curve.SourceFile ?? curve.Name;
        double[] y = target switch
        {
            "loss" => curve.Loss ?? throw InputException.Naming($"{where}: no training-loss column; add one or set {TargetParameter} to val"),
            "val" => curve.ValLoss ?? throw InputException.Naming($"{where}: no validation-loss column; set {TargetParameter} to loss"),
            _ => throw InputException.Naming($"{TargetParameter} must be loss or val, got '{target}'"),
        };
        var keep = Enumerable.Range(0, curve.Count).Where(i => double.IsFinite(y[i]) && y[i] > 0).ToArray();
        if (keep.Length == 0) throw new InputException($"{where}: no rows with a finite {target} > 0");
        var steps = keep.Select(i => curve.Steps[i]).ToArray();
        var obs = keep.Select(i => y[i]).ToArray();
        long n = steps[^1] + 1;
        if (n > MaxSteps) throw new InputException($"{where}: step {steps[^1]} is too large (laws need the LR at every step; at most {MaxSteps} steps, to keep memory bounded)");
        // One expansion for every consumer: exact from the spec or a fully logged column, else interpolated.
        var expanded = LrExpansion.Expand(curve, steps[^1]);
        var eta = expanded.Lr;
        bool interpolated = expanded.Interpolated;
        string source = expanded.Source switch
        {
            LrSource.Schedule => curve.ScheduleSpec!,
            LrSource.Logged => "lr column (logged at every step)",
            _ => "interpolated lr column",
        };
        var (g, gMade, gWarning) = ExpandGradNorm(curve, eta.Length);
        return new LawRun
        {
            Name = curve.Name, Eta = eta, Steps = steps, Observed = obs, EtaInterpolated = interpolated, EtaSource = source,
            GradNorm = g, GradNormInterpolated = gMade > 0, GradNormWarning = gWarning,
            GradNormSource = g is null ? null : gMade > 0 ? "interpolated grad_norm column" : "grad_norm column (logged at every step)",
        }.Validate();
    }

    /// <summary>
    /// The logged gradient norm at every step 0..n-1, interpolated linearly between logged finite values
    /// (held at the first value before it and the last after it), the number of steps made up, and a
    /// warning naming them. Null when the curve has no finite gradient norm.
    /// </summary>
    private static (double[]? G, int Made, string? Warning) ExpandGradNorm(LossCurve curve, int n)
    {
        if (curve.GradNorm is not { } raw) return (null, 0, null);
        var idx = Enumerable.Range(0, raw.Length).Where(i => double.IsFinite(raw[i]) && raw[i] >= 0).ToArray();
        if (idx.Length == 0) return (null, 0, null);
        var g = new double[n];
        int made = 0, a = 0;
        for (int s = 0; s < n; s++)
        {
            while (a + 1 < idx.Length && curve.Steps[idx[a + 1]] <= s) a++;
            long sa = curve.Steps[idx[a]];
            if (sa == s) { g[s] = raw[idx[a]]; continue; }
            made++;
            if (s < sa || a + 1 >= idx.Length) { g[s] = raw[idx[a]]; continue; }
            long sb = curve.Steps[idx[a + 1]];
            double t = (double)(s - sa) / (sb - sa);
            g[s] = raw[idx[a]] + t * (raw[idx[a + 1]] - raw[idx[a]]);
        }
        string? warning = made == 0 ? null
            : $"{curve.SourceFile ?? curve.Name}: gradient norm not logged at {made} of {n} steps (0..{n - 1}); rebuilt by linear interpolation of {idx.Length} logged values, " +
              "holding the first before it and the last after it. convex(grad=logged) uses this approximation.";
        return (g, made, warning);
    }

    /// <summary>
    /// The rule for a run whose gradient norms are unknown (a schedule being predicted): G_t is the mean,
    /// over the <paramref name="fitRuns"/> that have gradient norms, of their norm at the same progress
    /// t/(n-1) of the run (linear interpolation in each fit run's own steps). Runs of the same length are
    /// thus compared step by step. Throws when no fit run has gradient norms.
    /// </summary>
    public LawRun WithGradNormFrom(IReadOnlyList<LawRun> fitRuns)
    {
        var src = fitRuns.Where(r => r.GradNorm is { Length: > 0 }).ToArray();
        if (src.Length == 0)
            throw new InputException($"{Name}: no fitted run has a gradient-norm column, so its gradient norms cannot be estimated; fit on runs that log grad_norm or use convex(grad=unit)");
        int n = Eta.Length;
        var g = new double[n];
        for (int t = 0; t < n; t++)
        {
            double u = n > 1 ? (double)t / (n - 1) : 1, sum = 0;
            foreach (var r in src)
            {
                var rg = r.GradNorm!;
                double x = u * (rg.Length - 1);
                int i = Math.Min((int)x, rg.Length - 1);
                double f = x - i;
                sum += i + 1 < rg.Length ? rg[i] + f * (rg[i + 1] - rg[i]) : rg[i];
            }
            g[t] = sum / src.Length;
        }
        return this with
        {
            GradNorm = g, GradNormInterpolated = true, GradNormWarning = null,
            GradNormSource = $"mean logged gradient norm of {string.Join(", ", src.Select(r => r.Name))} at the same progress",
        };
    }


    /// <summary>
    /// At most <paramref name="maxPoints"/> points: consecutive rows are averaged in equal bins (loss
    /// at the bin's mean step). Noisy per-step logs (tens of thousands of rows) carry no more
    /// information about a smooth law than a thousand bin means, and cost far less to fit.
    /// </summary>
    public LawRun Binned(int maxPoints)
    {
        if (maxPoints < 2 || Count <= maxPoints) return this;
        int b = (Count + maxPoints - 1) / maxPoints;
        var steps = new List<long>(); var obs = Observed is null ? null : new List<double>();
        for (int i = 0; i < Count; i += b)
        {
            int e = Math.Min(Count, i + b);
            double ms = 0, ml = 0;
            for (int j = i; j < e; j++) { ms += Steps[j]; if (Observed is not null) ml += Observed[j]; }
            long st = (long)Math.Round(ms / (e - i));
            if (steps.Count > 0 && st <= steps[^1]) continue;
            steps.Add(st);
            obs?.Add(ml / (e - i));
        }
        return this with { Steps = steps.ToArray(), Observed = obs?.ToArray(), BinSize = b };
    }

    /// <summary>
    /// The first step at which the learning rate reaches its maximum: the end of the warmup. The laws
    /// describe training after the warmup (at step 0 of a warmup from zero, S1 = 0 and S1^-alpha is
    /// undefined), so the CLI fits from here unless told otherwise.
    /// </summary>
    public long PeakStep => EtaMath.PeakIndex(Eta);

    /// <summary>The same run keeping only the logged points at steps &gt;= <paramref name="firstStep"/>.</summary>
    public LawRun From(long firstStep)
    {
        var keep = Enumerable.Range(0, Count).Where(i => Steps[i] >= firstStep).ToArray();
        if (keep.Length == Count) return this;
        if (keep.Length < 2)
            throw InputException.Naming($"{Name}: only {keep.Length} logged point(s) at or after step {firstStep}; a law needs at least 2 (lower {ParameterName.Parameter("from_step")})");
        return this with { Steps = keep.Select(i => Steps[i]).ToArray(), Observed = Observed is null ? null : keep.Select(i => Observed[i]).ToArray() };
    }

    /// <summary>
    /// Points a fit keeps by default (<see cref="Binned"/>): a thousand bin means describe a smooth
    /// law as well as tens of thousands of noisy per-step rows, at a fraction of the cost.
    /// </summary>
    public const int DefaultMaxPoints = 1000;

    /// <summary>Rows averaged per point by <see cref="Binned"/> (1 = raw).</summary>
    public int BinSize { get; init; } = 1;

    /// <summary>
    /// The most steps a run may have: laws read the learning rate at every step, and a fit holds about 110 bytes
    /// a step (<see cref="LrExpansion.MaxSteps"/>), so memory stays within about 0.6 GB.
    /// </summary>
    public const long MaxSteps = LrExpansion.MaxSteps;

    /// <summary>
    /// Throws <see cref="InputException"/> unless a horizon of <paramref name="steps"/> steps (0..steps-1) can be
    /// evaluated: at least 2 and at most <see cref="MaxSteps"/>. The message names the parameter <c>steps</c>, or
    /// the schedule whose total length it is (<paramref name="schedule"/>) when no horizon was given.
    /// </summary>
    public static void CheckHorizon(long steps, string? schedule = null)
    {
        if (steps >= 2 && steps <= MaxSteps) return;
        const string Why = "laws read the learning rate at every step; beyond that their memory is not bounded";
        throw schedule is null
            ? InputException.Naming($"{ParameterName.Parameter("steps")} must be between 2 and {MaxSteps} steps, got {steps} ({Why})")
            : InputException.Naming($"the schedule's total ({schedule}) must be between 2 and {MaxSteps} steps, got {steps} ({Why}); give a shorter horizon with {ParameterName.Parameter("steps")}");
    }

    /// <summary>A run to predict: the schedule's LR at every step, evaluated at <paramref name="steps"/>.</summary>
    public static LawRun ForSchedule(string name, double[] eta, long[] steps, string source) =>
        new LawRun { Name = name, Eta = eta, Steps = steps, EtaSource = source }.Validate();

    /// <summary><paramref name="points"/> roughly evenly spaced steps in [first, n-1], always including n-1.</summary>
    public static long[] EvenSteps(long n, int points, long first = 0)
    {
        if (n <= 0) return [];
        first = Math.Clamp(first, 0, n - 1);
        long span = n - 1 - first;
        if (points <= 1 || span == 0) return [n - 1];
        var list = new List<long>(points);
        for (int i = 0; i < points; i++)
        {
            long s = first + (long)Math.Round((double)span * i / (points - 1));
            if (list.Count == 0 || s > list[^1]) list.Add(s);
        }
        return list.ToArray();
    }
}
