namespace Anneal.Tuning;

/// <summary>Which acquisition function <see cref="GpSampler"/> maximises.</summary>
public enum AcquisitionKind
{
    /// <summary>log expected improvement over the best observed value (Ament et al. 2023).</summary>
    LogEi,
    /// <summary>
    /// Noisy expected improvement (Letham, Karrer, Ottoni &amp; Bakshy 2019): EI averaged over joint posterior samples of
    /// the latent objective at the observed points, each sample's own minimum the incumbent, so one lucky noisy value
    /// does not become a bar nothing can clear. In log space by log-mean-exp of the per-sample log EI.
    /// </summary>
    NoisyEi,
}

/// <summary>
/// Gaussian-process Bayesian optimisation (Frazier, "A Tutorial on Bayesian Optimization", 2018): a Matérn-5/2 ARD
/// process on the one-hot unit encoding of the space (<see cref="SearchSpace.Encode"/>), hyperparameters by marginal
/// likelihood (warm-started from the previous proposal's), and the next point at the maximum of the acquisition over
/// Sobol candidates, perturbations of the best points and a shrinking local search. One length scale per one-hot
/// column unless <see cref="SharedCategoricalScale"/>. Trials are Sobol points until <see cref="Startup"/> trials (at least one
/// complete) have finished complete or pruned with a forecast. Running trials count at their posterior mean (kriging believer),
/// which spreads parallel proposals. Pruned trials count at the forecast pruner's forecast of their final value when it stopped them (no better than
/// the incumbent), else as no better than the worst complete one; failed ones are left out.
/// </summary>
public sealed class GpSampler : ISampler
{
    private readonly int _seed;
    private readonly SobolSampler _startup;
    private GpHyperparameters? _warm;
    private int _sinceFit, _countAtFit;

    /// <summary>With 30 or more points, hyperparameters are refitted on every this many proposals (and when the data grew by a fifth).</summary>
    public int RefitEvery { get; init; } = 5;

    /// <summary>A sampler with seed <paramref name="seed"/>; <paramref name="startup"/> null means max(5, 2 x parameters) Sobol trials first.</summary>
    public GpSampler(int seed = 0, int? startup = null, AcquisitionKind acquisition = AcquisitionKind.LogEi, int candidates = 1024)
    {
        _seed = seed;
        _startup = new SobolSampler(seed);
        StartupOverride = startup;
        Kind = acquisition;
        Candidates = candidates;
    }

    private int? StartupOverride { get; }

    /// <summary>The acquisition function.</summary>
    public AcquisitionKind Kind { get; }

    /// <summary>Number of Sobol candidates scored per proposal (perturbations and local search come on top).</summary>
    public int Candidates { get; }

    /// <summary>Number of quasi-random samples of the incumbent in noisy EI.</summary>
    public int NoisySamples { get; init; } = 16;

    /// <inheritdoc/>
    public string Name => "gp";

    /// <summary>Complete trials, or trials pruned with a forecast, before the model is used, for <paramref name="space"/> (Sobol points until then).</summary>
    public int Startup(SearchSpace space) => StartupOverride ?? Math.Max(5, 2 * space.Count);

    /// <summary>The model fitted by the last proposal (null before the first model-based one).</summary>
    public GaussianProcess? LastModel { get; private set; }

    /// <inheritdoc/>
    public TrialParams Propose(SearchSpace space, IReadOnlyList<TrialRecord> trials, int number)
    {
        var complete = trials.Where(t => t.State == TrialState.Complete && t.Value is { } v && double.IsFinite(v)).ToList();
        // The startup design ends when as many trials as it holds have entered the data with a value of their own,
        // pruned ones with a forecast of their final value included (below). Counting complete trials only kept a
        // forecast-pruned sweep on Sobol points long after the model had its data (schedules-best/mlp: up to 16 startup
        // trials for 5 complete ones, and GP-BO + forecast needed 1.27x plain GP-BO's steps; docs/tuning.md, "Session
        // 13: GP-BO and pruned trials"). A trial pruned without a forecast enters at the worst complete value, a
        // placeholder, and does not count (counting it cost GP-BO + ASHA 31 % more steps on lr-best/mlp). A complete
        // trial is still needed: the incumbent and the worst value come from them.
        int entered = complete.Count + trials.Count(t => t.State == TrialState.Pruned && HasForecast(t));
        if (complete.Count == 0 || entered < Startup(space)) return StartupPoint(space, trials, number);
        double worst = complete.Max(t => t.Value!.Value);
        // A pruned trial's final value is unknown. When the forecast pruner stopped it, its forecast final value is the
        // model's best guess of it (at least the
        // incumbent's value, since it was pruned for being worse); otherwise it counts as the worst complete value.
        double incumbent = complete.Min(t => t.Value!.Value);
        var observed = complete.Select(t => (t.Params, Value: t.Value!.Value))
            .Concat(trials.Where(t => t.State == TrialState.Pruned).Select(t => (t.Params, Value:
                HasForecast(t) ? Math.Max(t.Attributes[ForecastPruner.ForecastKey], incumbent) : worst)))
            .ToList();
        int w = space.EncodedWidth;
        var x = observed.Select(o => { var e = new double[w]; space.Encode(o.Params, e); return e; }).ToArray();
        var y = observed.Select(o => o.Value).ToArray();
        // Hyperparameters are refitted while the data are few, every RefitEvery proposals, and when the data grew by a
        // fifth since the last fit; in between the last fit is reused (one Cholesky instead of a multi-start
        // optimisation: what keeps a proposal at 200 trials fast, docs/benchmarks.md). Fits warm-start from the last.
        bool refit = _warm is null || x.Length < 30 || _sinceFit >= RefitEvery - 1 || x.Length > 1.2 * _countAtFit;
        GaussianProcess gp;
        if (refit)
        {
            bool few = x.Length < 30; // small fits are cheap: keep two starts and the full iteration budget
            var groups = Groups(space);
            var prior = DimensionScaledPrior ? GpPrior.DimensionScaled(groups is null ? w : groups.Max() + 1) : GpPrior.Weak;
            gp = GaussianProcess.Fit(x, y, starts: _warm is null ? 4 : few ? 2 : 1, warm: _warm, seed: _seed * 7919 + number, maxIterations: _warm is null || few ? 60 : 25,
                groups: groups, prior: prior, additive: IsAdditive(space));
            _warm = gp.Hyperparameters;
            _sinceFit = 0;
            _countAtFit = x.Length;
        }
        else
        {
            gp = GaussianProcess.WithHyperparameters(x, y, _warm!, Groups(space));
            _sinceFit++;
        }
        LastModel = gp;
        // The incumbent is chosen before fantasies join: a believed value must not lower the bar.
        double best = y.Min();
        foreach (var pending in trials.Where(t => t.State == TrialState.Running))
        {
            var e = new double[w];
            space.Encode(pending.Params, e);
            gp = gp.With(e, gp.Predict(e).Mean);
        }
        var score = Kind == AcquisitionKind.NoisyEi ? NoisyEi(gp, observed.Count, number) : (Func<double[], double>)(e =>
        {
            var (m, v) = gp.Predict(e);
            return Acquisition.LogExpectedImprovement(m, Math.Sqrt(v), best);
        });
        var seen = new HashSet<string>(trials.Select(t => t.Params.ToString()));
        return Maximise(space, score, observed.OrderBy(o => o.Value).Take(5).Select(o => o.Params).ToArray(), seen, number);
    }

    /// <summary>Whether the forecast pruner left a finite forecast of <paramref name="t"/>'s final value.</summary>
    private static bool HasForecast(TrialRecord t) => t.Attributes.TryGetValue(ForecastPruner.ForecastKey, out var f) && double.IsFinite(f);

    /// <summary>
    /// The additive model (<see cref="GaussianProcess"/>: a first-order additive part over the parameters next to the
    /// joint Matérn kernel) for spaces of two or more parameters, with one length scale per parameter (a categorical's
    /// one-hot block shares one). What a trial says about one parameter's effect then carries over to the other
    /// parameters' values: with a product kernel alone, a learning rate found bad under one schedule is barely
    /// evidence against it under another schedule.
    /// </summary>
    public bool Additive { get; init; }

    private bool IsAdditive(SearchSpace space) => Additive && space.Count >= 2;

    /// <summary>Length-scale and noise priors scaled with the number of length scales (<see cref="GpPrior.DimensionScaled"/>); else <see cref="GpPrior.Weak"/>.</summary>
    public bool DimensionScaledPrior { get; init; }

    /// <summary>
    /// Candidates of the acquisition are every point of a finite space (integers and categoricals only) up to this many
    /// points: no more acquisition evaluations than the continuous search's (1024 Sobol points, 320 perturbations and
    /// the local search), so a proposal costs no more than on a continuous space.
    /// </summary>
    public int EnumerateUpTo { get; init; } = 1024;

    /// <summary>
    /// The startup design's point for trial <paramref name="number"/>: the Sobol point of that number, or, when its
    /// parameters were already tried (integers and categoricals make Sobol points collide), the next Sobol point whose
    /// parameters were not. A repeated configuration of a deterministic objective teaches nothing, and the model-based
    /// proposals already avoid them.
    /// </summary>
    private TrialParams StartupPoint(SearchSpace space, IReadOnlyList<TrialRecord> trials, int number)
    {
        var seen = new HashSet<string>(trials.Select(t => t.Params.ToString()));
        TrialParams? first = null;
        // Points after the study's own numbers: at most 64 tries (a nearly exhausted finite space may have no new one).
        for (int k = 0; k < 64; k++)
        {
            var p = _startup.Propose(space, trials, k == 0 ? number : number + 1000 * k);
            first ??= p;
            if (!seen.Contains(p.ToString())) return p;
        }
        return first!;
    }

    /// <summary>
    /// The length scale of each encoded coordinate: one per numeric parameter and, with <see cref="SharedCategoricalScale"/>
    /// or the additive model, one per categorical parameter for its whole one-hot block (else one per column); null when
    /// every coordinate has its own.
    /// </summary>
    public int[]? Groups(SearchSpace space)
    {
        if (!SharedCategoricalScale && !IsAdditive(space)) return null;
        var g = new List<int>();
        int k = 0;
        foreach (var (_, domain) in space.Parameters)
        {
            for (int j = 0; j < domain.Width; j++) g.Add(k);
            k++;
        }
        return [.. g];
    }

    /// <summary>
    /// One length scale per categorical parameter (its kernel then depends only on whether two choices are equal),
    /// instead of one per one-hot column. With per-column scales, a choice no complete trial has tried keeps its prior
    /// length scale whatever the data say, so the model cannot learn from a few trials that a choice matters less
    /// than a numeric parameter (docs/tuning.md, "Samplers"). Off by default: no measurable gain on the tuning
    /// benchmark, and each hyperparameter refit is about 2.6x slower, over the 50 ms proposal budget at 200 trials.
    /// </summary>
    public bool SharedCategoricalScale { get; init; }

    /// <summary>
    /// Noisy EI over the first <paramref name="nObserved"/> training points of <paramref name="gp"/> (the rest are
    /// fantasies): draws the latent f at them jointly from the posterior N(K_f(K_f+σ²I)^-1 y, K_f − K_f(K_f+σ²I)^-1 K_f)
    /// with normal quasi-random numbers, and scores x by log mean_s EI(μ_s(x), σ_f(x), min f_s) where μ_s, σ_f are the
    /// noise-free process conditioned on sample s (its variance is the same for every sample).
    /// </summary>
    private Func<double[], double> NoisyEi(GaussianProcess gp, int nObserved, int number)
    {
        int n = gp.Count;
        int d = gp.Dimension;
        var kf = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
                kf[i * n + j] = kf[j * n + i] = gp.KernelTo(gp.X.Slice(j * d, d), i);
        // Posterior of f at the training points: mean K_f α, covariance K_f − K_f (K+σ²I)^-1 K_f = σ² I − σ⁴ (K+σ²I)^-1.
        double noise = gp.Noise;
        var l = gp.Cholesky.ToArray();
        var cov = new double[n * n];
        var col = new double[n];
        for (int c = 0; c < n; c++)
        {
            Array.Clear(col);
            col[c] = 1;
            GaussianProcess.SolveLower(l, n, col);
            GaussianProcess.SolveUpper(l, n, col);
            for (int r = 0; r < n; r++) cov[r * n + c] = (r == c ? noise : 0) - noise * noise * col[r];
        }
        var mean = new double[n];
        var alpha = gp.StandardisedY.ToArray();
        GaussianProcess.SolveLower(l, n, alpha);
        GaussianProcess.SolveUpper(l, n, alpha);
        for (int i = 0; i < n; i++) { double s = 0; for (int j = 0; j < n; j++) s += kf[i * n + j] * alpha[j]; mean[i] = s; }
        GaussianProcess.CholeskyWithJitter(cov, n);
        GaussianProcess.CholeskyWithJitter(kf, n); // the noise-free process conditioned on a sample of f
        int m = NoisySamples;
        var sobol = new SobolSequence(Math.Min(n, SobolSequence.MaxDimension), _seed + number);
        var rng = Samplers.Stream(_seed, number, salt: 3);
        var u = new double[SobolSequence.MaxDimension];
        var alphas = new double[m][];
        var bests = new double[m];
        for (int s = 0; s < m; s++)
        {
            sobol.Point(s + 1, u);
            var z = new double[n];
            for (int i = 0; i < n; i++)
            {
                double p = i < u.Length && i < sobol.Dimension ? u[i] : rng.NextDouble();
                z[i] = MathNet.Numerics.Distributions.Normal.InvCDF(0, 1, Math.Clamp(p, 1e-12, 1 - 1e-12));
            }
            var f = new double[n];
            for (int i = 0; i < n; i++) { double acc = mean[i]; for (int j = 0; j <= i; j++) acc += cov[i * n + j] * z[j]; f[i] = acc; }
            bests[s] = f.Take(nObserved).Min();
            var a = (double[])f.Clone();
            GaussianProcess.SolveLower(kf, n, a);
            GaussianProcess.SolveUpper(kf, n, a);
            alphas[s] = a;
        }
        var kstar = new double[n];
        return e =>
        {
            for (int i = 0; i < n; i++) kstar[i] = gp.KernelTo(e, i);
            var v = (double[])kstar.Clone();
            GaussianProcess.SolveLower(kf, n, v);
            double sd = Math.Sqrt(Math.Max(gp.Signal - System.Numerics.Tensors.TensorPrimitives.Dot<double>(v, v), 1e-12 * gp.Signal));
            double maxLog = double.NegativeInfinity;
            Span<double> logs = stackalloc double[m];
            for (int s = 0; s < m; s++)
            {
                double mu = System.Numerics.Tensors.TensorPrimitives.Dot<double>(kstar, alphas[s]);
                logs[s] = Acquisition.LogExpectedImprovement(mu, sd, bests[s]);
                maxLog = Math.Max(maxLog, logs[s]);
            }
            double sum = 0;
            for (int s = 0; s < m; s++) sum += Math.Exp(logs[s] - maxLog);
            return maxLog + Math.Log(sum / m);
        };
    }

    /// <summary>
    /// The candidate of highest acquisition: Sobol points, perturbations (σ = 0.1 of the cube, categoricals
    /// redrawn with probability 0.2) of the best observed points, then a shrinking local search around the
    /// three best candidates. Candidates are decoded to parameters and encoded again, so integers and categoricals
    /// are scored where they would actually run. Already tried parameters lose to any new candidate.
    /// </summary>
    private TrialParams Maximise(SearchSpace space, Func<double[], double> score, TrialParams[] bestObserved, HashSet<string> seen, int number)
    {
        var rng = Samplers.Stream(_seed, number, salt: 1);
        var sobol = new SobolSequence(Math.Min(space.Count, SobolSequence.MaxDimension), _seed + 17 * number);
        int w = space.EncodedWidth;
        var scored = new List<(TrialParams P, double S)>();
        var unit = new double[space.Count];
        var enc = new double[w];

        void Add(TrialParams p)
        {
            space.Encode(p, enc);
            double s = score(enc);
            if (seen.Contains(p.ToString())) s = double.NegativeInfinity;
            if (!double.IsNaN(s)) scored.Add((p, s));
        }

        if (FiniteSpace(space) is { } all)
        {
            // A finite space small enough to score whole: the acquisition's exact maximum, no search needed.
            foreach (var p in all) Add(p);
            var exact = scored.MaxBy(c => c.S);
            return exact.P ?? all[0];
        }
        for (int i = 0; i < Candidates; i++)
        {
            if (space.Count <= SobolSequence.MaxDimension) sobol.Point(i + 1, unit);
            else for (int j = 0; j < unit.Length; j++) unit[j] = rng.NextDouble();
            Add(space.FromUnit(unit));
        }
        foreach (var b in bestObserved)
            for (int i = 0; i < 64; i++) Add(Perturb(space, b, 0.1, rng));
        var top = scored.OrderByDescending(c => c.S).Take(3).ToArray();
        foreach (var start in top)
        {
            var current = start;
            for (double step = 0.05; step > 0.002; step *= 0.6)
                for (int i = 0; i < 12; i++)
                {
                    var p = Perturb(space, current.P, step, rng);
                    space.Encode(p, enc);
                    double s = seen.Contains(p.ToString()) ? double.NegativeInfinity : score(enc);
                    if (s > current.S) current = (p, s);
                }
            scored.Add(current);
        }
        var best = scored.MaxBy(c => c.S);
        return best.P ?? space.FromUnit(unit);
    }

    /// <summary>Every point of <paramref name="space"/> when all its parameters are integers or categoricals and there are at most <see cref="EnumerateUpTo"/>; else null.</summary>
    private List<TrialParams>? FiniteSpace(SearchSpace space)
    {
        long size = 1;
        foreach (var (_, domain) in space.Parameters)
        {
            long count = domain switch { IntegerDomain d => d.High - d.Low + 1, CategoricalDomain c => c.Choices.Count, _ => long.MaxValue };
            if (count == long.MaxValue || (size *= count) > EnumerateUpTo) return null;
        }
        IEnumerable<List<KeyValuePair<string, ParamValue>>> acc = [[]];
        foreach (var (name, domain) in space.Parameters)
        {
            var values = domain switch
            {
                IntegerDomain d => Enumerable.Range(0, (int)(d.High - d.Low + 1)).Select(i => ParamValue.Integer(d.Low + i)).ToArray(),
                CategoricalDomain c => c.Choices.Select((w, i) => ParamValue.Choice(w, i)).ToArray(),
                _ => throw new InvalidOperationException("finite spaces hold integers and categoricals only"),
            };
            acc = acc.SelectMany(a => values.Select(v => new List<KeyValuePair<string, ParamValue>>(a) { new(name, v) })).ToList();
        }
        return acc.Select(a => new TrialParams(a)).ToList();
    }

    private static TrialParams Perturb(SearchSpace space, TrialParams p, double sd, Random rng)
    {
        var items = new KeyValuePair<string, ParamValue>[space.Count];
        for (int i = 0; i < space.Count; i++)
        {
            var (name, domain) = space.Parameters[i];
            var v = p[name];
            if (domain is CategoricalDomain c)
                items[i] = new(name, rng.NextDouble() < 0.2 ? c.FromUnit(rng.NextDouble()) : v);
            else
            {
                double g = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
                items[i] = new(name, domain.FromUnit(Math.Clamp(domain.ToUnit(v) + sd * g, 0, 1)));
            }
        }
        return new TrialParams(items);
    }
}
