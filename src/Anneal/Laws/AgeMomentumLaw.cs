using Anneal.Fitting;
using Anneal.Specs;

namespace Anneal.Laws;

/// <summary>
/// The momentum law with a memory proportional to the run's age (<c>age</c>; docs/journal/session-10-cooldown-gains.md):
/// <code>
/// L(t) = L0 + A * S1(t)^(-alpha) - B * G(t),   G(t) = sum_{k&lt;=t} d_k * (1 - ((k+1)/(t+1))^nu),   d_k = eta_{k-1} - eta_k after the peak
/// </code>
/// Each post-peak decrease of the rate d_k buys a loss drop B*d_k that is realised as the run goes on, exponentially in
/// log-time: at step t a fraction <c>1 - ((k+1)/(t+1))^nu</c> of it. Written as a recursion this is the momentum law's
/// <c>m_t = lambda_t m_{t-1} + d_t</c> with <c>G = sum d - m</c>, but with <c>lambda_t = (t/(t+1))^nu</c>: a memory of
/// <c>(t+1)/nu</c> steps that grows with the age of the run instead of the fixed <c>1/(1-lambda)</c> steps of
/// <c>momentum</c> (whose gain <c>C*S2</c> is the same sum with the factor <c>1 - lambda^(t-k+1)</c> and
/// <c>B = C/(1-lambda)</c>).
/// <para>
/// Why: on the engine corpora the annealing gain of a cooldown, with the constant run's power law in LR area taken
/// out, is a function of the cooldown's length over the run's age (D/T), not of its length in steps: a 400-step cooldown
/// gains 0.109 at 2,000 steps and 0.098 at 4,000, the same fraction (20 % at 2,000, 20 % at 4,000) 0.109 and 0.119
/// (gpt-tiny-long). A memory of fixed length, fitted on a cosine at the short horizon, gives a short cooldown too little
/// and a long cooldown at a later horizon too much of the gain; one that scales with the age gives both the cosine's
/// share. Equivariant to the rate's unit (nu is unit-free, B is per unit of rate).
/// </para>
/// <para>
/// <c>age(q=...)</c> lets the memory grow as a power of the age, <c>(t+1)^q/nu</c> steps: the gain of a decrease at k is
/// realised as <c>1 - exp(-nu (tau(t) - tau(k)))</c> on the clock <c>tau(t) = ((t+1)^(1-q) - 1)/(1-q)</c>, which is
/// <c>ln(t+1)</c> at q = 1 (the default: the law above) and the step count at q = 0 (a fixed memory, as in
/// <c>momentum</c>). q &lt; 1 realises a cooldown of a given share of the run faster the longer the run.
/// </para>
/// </summary>
public sealed record AgeMomentumLaw(double? Nu = null, double Q = 1, double? NuPrior = null, double? AlphaPrior = null) : LossLaw
{
    /// <summary>
    /// The mode of <c>nu * H^(1-q)</c> (H the fitted horizon + 1: the age at the horizon over the memory there) that
    /// <c>age(prior=13)</c> uses: the geometric mean of the constant + cosine fits of the four engine workloads
    /// (docs/journal/session-10-cooldown-gains.md, "Pinning nu"). The prior is off unless the spec asks for it, and
    /// then acts only where no fitted run
    /// decays over more than half its length.
    /// </summary>
    public const double SuggestedNuPrior = 13;

    /// <summary>Standard deviation of ln nu in the prior: the spread of those four fits' ln(nu H^(1-q)).</summary>
    public const double NuPriorSigma = 0.6;

    /// <summary>
    /// The log-loss residual one sigma of the prior is worth (<see cref="LawPrior.Scale"/>): 0.01 pulls nu with a force
    /// of 1.7e-5 (objective units) per unit of ln nu once ln nu is 0.06 or more from the mode, enough to pin it on the WSD calibration of
    /// gpt-tiny-long (docs/journal/session-10-cooldown-gains.md, "Pinning nu": 0.003 was not).
    /// </summary>
    public const double NuPriorScale = 0.01;

    private static readonly LawParameter[] Base =
    [
        new("L0", 0, double.PositiveInfinity, "loss", "asymptotic loss"),
        new("A", 0, double.PositiveInfinity, "loss", "amplitude of the LR-area power law", new LrPower(0, Plus: 2)),
        new("alpha", 0, 5, "1", "exponent in LR area"),
        new("B", 0, double.PositiveInfinity, "loss/lr", "loss drop per unit of rate decrease, once realised", new LrPower(-1)),
    ];

    private static readonly LawParameter NuParameter = new("nu", 0, 1e4, "1", "speed at which a decrease's gain is realised, per unit of the age clock (memory (t+1)^q/nu steps)");

    private static readonly LawParameter[] WithNu = [.. Base, NuParameter];

    /// <summary>True when nu is a fitted parameter (the default).</summary>
    public bool FitNu => Nu is null;

    public override string Name => "age";

    public override string Summary => "momentum law with a memory proportional to the run's age: L0 + A*S1^-alpha - B*sum_k d_k (1 - ((k+1)/(t+1))^nu), 5 parameters";

    public override IReadOnlyList<LawParameter> Parameters => FitNu ? WithNu : Base;

    public override SpecCall ToSpecCall()
    {
        var b = new SpecBuilder("age").NumIf("nu", Nu).NumIf("q", Q, 1);
        if (FitNu) b = b.NumIf("prior", NuPrior);
        return b.NumIf("alpha_prior", AlphaPrior).Build();
    }

    internal static AgeMomentumLaw Create(SpecArgs a)
    {
        double q = 1;
        if (a.Raw("q") is { } qRaw)
        {
            if (qRaw is not SpecNumber { Value: >= 0 and <= 1 } qn) throw a.Fail($"q must be a number in [0, 1], got {qRaw}");
            q = qn.Value;
        }
        double? prior = null;
        if (a.Raw("prior") is { } pRaw)
        {
            if (pRaw is SpecText { Value: "none" }) prior = null;
            else if (pRaw is SpecNumber { Value: > 0 and <= 1e4 } pn) prior = pn.Value;
            else throw a.Fail($"prior must be a number in (0, 10000] (the mode of nu*H^(1-q)) or the word none, got {pRaw}");
        }
        double? alphaPrior = LawPrior.ExponentMode(a);
        var raw = a.Raw("nu");
        if (raw is null or SpecText { Value: "fit" }) return new AgeMomentumLaw(null, q, prior, alphaPrior);
        if (raw is SpecNumber { Value: > 0 and <= 1e4 } n) return new AgeMomentumLaw(n.Value, q, null, alphaPrior);
        throw a.Fail($"nu must be a number in (0, 10000] or the word fit, got {raw}");
    }

    public override LawState Prepare(LawRun run) => new State(run, Nu, Q);

    public override IReadOnlyList<HeldParameter> NonIdentifiable(IReadOnlyList<LawState> runs)
    {
        if (runs.Any(r => EtaMath.HasDrop(r.Run.Eta))) return [];
        const string why = "no fitted run lowers its learning rate after the warmup, so the annealing term cannot be fitted; it is held at zero";
        var held = new List<HeldParameter> { Held(3, 0, why) };
        if (FitNu) held.Add(Held(4, 8, why));
        return held;
    }

    internal override IReadOnlyList<LawPrior> Priors(IReadOnlyList<LawState> runs)
    {
        var priors = new List<LawPrior>(2);
        if (AlphaPrior is { } a && runs.Count > 0) priors.Add(LawPrior.Exponent(2, a));
        // On nu * H^(1-q), the fitted horizon's age over the memory there: unit-free in time, so one mode serves runs of
        // any length and any q (the memory at age H is H^q/nu steps).
        if (!FitNu || NuPrior is not { } mode || runs.Count == 0) return priors;
        // A decay spanning most of a run (a cosine, a linear decay) pins nu by itself: its gain is realised over the
        // whole age clock. Only a calibration without one (a constant run and short cooldown branches: the WSD
        // question's) leaves nu to the prior; with one, the prior would overrule a fit that forecasts better
        // (docs/journal/session-10-cooldown-gains.md, "Pinning nu").
        if (ShareLaw.SpansLongDecay(runs.Select(r => r.Run).ToArray())) return priors;
        double horizon = runs.Max(r => r.Run.Steps[^1]) + 1.0;
        priors.Add(new LawPrior(4, mode * Math.Pow(horizon, Q - 1), NuPriorSigma, NuPriorScale));
        return priors;
    }

    public override IEnumerable<double[]> Starts(StartHint h, IReadOnlyList<LawState> runs)
    {
        // The pre-fit's B*(eta_peak - eta_t) is this law's gain with every decrease realised at once (nu -> infinity),
        // so its B is this law's B. nu from a slow to a fast realisation: memories of half, an eighth and a 32nd of the
        // fitted horizon H at age H (memory H^q/nu).
        double b = Math.Max(h.B, 1e-6);
        double horizon = runs.Max(r => r.Run.Steps[^1]) + 1.0;
        double unit = Math.Pow(horizon, Q - 1);
        if (!FitNu)
        {
            yield return [h.L0, h.A, h.Alpha, b];
            yield return [h.L0, h.A, h.Alpha, 2 * b];
            yield break;
        }
        foreach (double nu in (double[])[2, 8, 32])
            yield return [h.L0, h.A, h.Alpha, b, nu * unit];
    }

    private sealed class State : LawState
    {
        private readonly double[] _lnS1;
        private readonly double[] _drop;    // post-warmup eta_{i-1} - eta_i, 0 elsewhere
        private readonly double[] _dTau;    // tau(i) - tau(i-1) = -ln(lambda_i) / nu
        private readonly double[] _total;   // sum of the decreases up to each logged step
        private readonly double[]? _gain;   // G at the run's steps when nu is fixed
        private readonly int _first;        // first step with a decrease (the recursion is 0 before it)

        public State(LawRun run, double? nu, double q) : base(run)
        {
            var eta = run.Eta;
            var pre = EtaMath.Prefix(eta);
            _lnS1 = run.Steps.Select(t => Math.Log(pre[t + 1])).ToArray();
            int peak = EtaMath.PeakIndex(eta);
            _drop = new double[eta.Length];
            _first = eta.Length;
            for (int i = peak + 1; i < eta.Length; i++)
            {
                _drop[i] = eta[i - 1] - eta[i];
                if (_drop[i] != 0 && _first == eta.Length) _first = i;
            }
            // The clock's increments: ln((i+1)/i) at q = 1; otherwise ((i+1)^(1-q) - i^(1-q))/(1-q), so that their sum
            // from k+1 to t is tau(t) - tau(k) exactly (the recursion below telescopes to the closed form).
            _dTau = new double[eta.Length];
            for (int i = 1; i < eta.Length; i++)
                _dTau[i] = q == 1 ? Math.Log((i + 1.0) / i) : (Math.Pow(i + 1.0, 1 - q) - Math.Pow(i, 1 - q)) / (1 - q);
            _total = new double[run.Count];
            double s = 0;
            int j = 0;
            for (long i = 0; i <= run.Steps[^1]; i++)
            {
                s += _drop[i];
                if (i == run.Steps[j]) _total[j++] = s;
            }
            if (nu is { } v)
            {
                _gain = new double[run.Count];
                Gain(v, _gain, default);
            }
        }

        // G_t = sum d - m_t with m_t = lambda_t m_{t-1} + d_t, lambda_t = exp(-nu dtau_t), so that the product of the lambdas
        // from k+1 to t is exp(-nu (tau(t) - tau(k))) (((k+1)/(t+1))^nu at q = 1); dm_t/dnu = lambda_t (dm_{t-1}/dnu - dtau_t m_{t-1}).
        private void Gain(double nu, Span<double> g, Span<double> dg)
        {
            double m = 0, dm = 0;
            int j = 0;
            long last = Run.Steps[^1];
            for (long i = 0; i <= last; i++)
            {
                if (i >= _first)
                {
                    double lam = Math.Exp(-nu * _dTau[i]);
                    dm = lam * (dm - _dTau[i] * m);
                    m = lam * m + _drop[i];
                }
                if (i == Run.Steps[j])
                {
                    g[j] = _total[j] - m;
                    if (!dg.IsEmpty) dg[j] = -dm;
                    j++;
                }
            }
        }

        public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jac)
        {
            int n = loss.Length, np = p.Length;
            double[]? g = _gain, dg = null;
            if (g is null)
            {
                g = new double[n]; dg = new double[n];
                Gain(p[4], g, dg);
            }
            for (int i = 0; i < n; i++)
            {
                double pw = Math.Exp(-p[2] * _lnS1[i]);
                loss[i] = p[0] + p[1] * pw - p[3] * g[i];
                if (jac.IsEmpty) continue;
                var row = jac.Slice(np * i, np);
                row[0] = 1; row[1] = pw; row[2] = -p[1] * pw * _lnS1[i]; row[3] = -g[i];
                if (dg is not null) row[4] = -p[3] * dg[i];
            }
        }
    }
}
