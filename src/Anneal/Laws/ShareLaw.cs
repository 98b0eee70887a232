using Anneal.Fitting;
using Anneal.Specs;

namespace Anneal.Laws;

/// <summary>
/// <c>share</c>: the age law (<see cref="AgeMomentumLaw"/>) with a spectrum of memories instead of one, tilted by one fitted
/// exponent (docs/journal/session-12-forms.md):
/// <code>
/// L(t) = L0 + A * S1(t)^(-alpha) - B * sum_{k&lt;=t} d_k * K((k+1)/(t+1)),   K(x) = sum_j w_j(p) (1 - x^(nu_j)),
/// nu_j = 2^j (j = -2 .. 8),   w_j(p) = nu_j^(-p) / sum_i nu_i^(-p)
/// </code>
/// <c>d_k</c> the post-peak decreases of the rate. Each mode realises a decrease's gain exponentially on the clock of the
/// log of the run's age (the age law at q = 1, nu = nu_j), so the law stays scale-free: a cooldown's gain depends on its
/// share of the run. The weights follow a power of the mode's speed; for 0 &lt; p &lt; 1 and ages between the fastest and
/// the slowest memory the realised fraction of a decrease grows as a power of the elapsed log-age,
/// <c>K ~ (ln((t+1)/(k+1)))^p</c> (the mixture of exponentials with density <c>nu^(-1-p)</c> is <c>Gamma(1-p) x^p</c>),
/// instead of one exponential's linear start and early saturation.
/// <para>
/// Why: on the engine corpora the gain of a linear cooldown over the share s of the run, with the constant run's power law
/// in LR area taken out, grows as about s^0.4 (10 / 20 / 40 / 60 / 80 / 100 %: 0.40 / 0.53 / 0.69 / 0.82 / 0.92 / 1 of the
/// full decay's on gpt-tiny at 1,000 and 2,000 steps; docs/journal/session-10-cooldown-gains.md), i.e. a kernel close to
/// <c>(1 - (k+1)/(t+1))^0.4</c>. One exponential, fitted on a cosine, gives cooldowns of 20-60 % almost the full decay's
/// gain (nu 7.5: 0.57 / 0.80 / 0.91) and short ones too little (10 %: 0.35): the forecasts of WSD runs too low and of
/// full decays too high, the pattern of the schedules question ("Session 12: forms").
/// </para>
/// <para>
/// The modes are fixed (2^-2 .. 2^8 per unit of log-age: memories from 4 times the age to 1/256 of it), so each run's
/// per-mode gains are computed once when it is prepared, and an evaluation costs O(points x modes). Equivariant to the
/// rate's unit (p is unit-free, B is per unit of rate). 5 parameters: L0, A, alpha, B, p.
/// </para>
/// </summary>
/// <param name="P">The spectrum's exponent, or null to fit it (the default).</param>
/// <param name="AlphaPrior">The mode of a weak prior on alpha (<see cref="LawPrior.Exponent"/>), or null.</param>
/// <param name="Q">The clock, as the age law's: <c>tau(t) = ((t+1)^(1-q) - 1)/(1-q)</c>, <c>ln(t+1)</c> at q = 1 (the default,
/// scale-free); q &lt; 1 realises a cooldown of a given share of the run more completely the longer the run.</param>
/// <param name="LevelClock">When true (<c>clock=level</c>), each decrease is realised on the clock of the level it crosses:
/// <see cref="LevelGains"/> (docs/journal/session-14-published-split-auto.md). Needs q = 1.</param>
public sealed partial record ShareLaw(double? P = null, double? AlphaPrior = null, double Q = 1, bool LevelClock = false) : LossLaw
{
    /// <summary>The modes' speeds per unit of log-age: 2^-2 .. 2^8.</summary>
    public static IReadOnlyList<double> Speeds { get; } = Enumerable.Range(-2, 11).Select(j => Math.Pow(2, j)).ToArray();

    private static readonly double[] LnSpeeds = Speeds.Select(s => Math.Log(s)).ToArray();

    private static readonly LawParameter[] Base =
    [
        new("L0", 0, double.PositiveInfinity, "loss", "asymptotic loss"),
        new("A", 0, double.PositiveInfinity, "loss", "amplitude of the LR-area power law", new LrPower(0, Plus: 2)),
        new("alpha", 0, 5, "1", "exponent in LR area"),
        new("B", 0, double.PositiveInfinity, "loss/lr", "loss drop per unit of rate decrease, once realised", new LrPower(-1)),
    ];

    private static readonly LawParameter PParameter = new("p", -2, 3, "1", "exponent of the memories' spectrum (weight of the mode of speed nu ~ nu^-p): the realised gain grows as (log-age)^p");

    private static readonly LawParameter[] WithP = [.. Base, PParameter];

    /// <summary>True when p is a fitted parameter (the default).</summary>
    public bool FitP => P is null;

    public override string Name => "share";

    public override string Summary => "age law with a spectrum of memories: L0 + A*S1^-alpha - B*sum_k d_k sum_j w_j(p) (1 - ((k+1)/(t+1))^(2^j)), w_j ~ 2^(-j p), 5 parameters";

    public override IReadOnlyList<LawParameter> Parameters => FitP ? WithP : Base;

    public override SpecCall ToSpecCall() => new SpecBuilder("share").NumIf("p", P).NumIf("q", Q, 1).NumIf("alpha_prior", AlphaPrior).WordIf("clock", LevelClock ? "level" : "age", "age").Build();

    internal static ShareLaw Create(SpecArgs a)
    {
        double? alphaPrior = LawPrior.ExponentMode(a);
        double q = 1;
        if (a.Raw("q") is { } qRaw)
        {
            if (qRaw is not SpecNumber { Value: >= 0 and <= 1 } qn) throw a.Fail($"q must be a number in [0, 1], got {qRaw}");
            q = qn.Value;
        }
        bool level = a.Word("clock", "age") switch
        {
            "age" => false,
            "level" => true,
            var c => throw a.Fail($"clock must be age or level, got {c}"),
        };
        if (level && q != 1) throw a.Fail($"clock=level runs on the log of the age (q = 1); drop q={q.ToString(System.Globalization.CultureInfo.InvariantCulture)} or the clock");
        var raw = a.Raw("p");
        if (raw is null or SpecText { Value: "fit" }) return new ShareLaw(null, alphaPrior, q, level);
        if (raw is SpecNumber { Value: >= -2 and <= 3 } n) return new ShareLaw(n.Value, alphaPrior, q, level);
        throw a.Fail($"p must be a number in [-2, 3] or the word fit, got {raw}");
    }

    /// <summary>The modes' weights w_j(p) = nu_j^-p / sum_i nu_i^-p, and sum_j w_j ln nu_j (for dw/dp = w (mean - ln nu)).</summary>
    internal static (double[] Weights, double MeanLnSpeed) Weights(double p)
    {
        int m = LnSpeeds.Length;
        var w = new double[m];
        // Shifted by the largest exponent so that no term overflows for any p in range.
        double top = LnSpeeds.Max(l => -p * l);
        double sum = 0;
        for (int j = 0; j < m; j++) sum += w[j] = Math.Exp(-p * LnSpeeds[j] - top);
        double mean = 0;
        for (int j = 0; j < m; j++) { w[j] /= sum; mean += w[j] * LnSpeeds[j]; }
        return (w, mean);
    }

    /// <summary>
    /// True when some run decays its rate over more than half of its length (its first post-peak decrease lies before the
    /// middle of its steps: a cosine, a linear decay, a long WSD cooldown): such a decay realises its gain over most of the
    /// log-age clock, which is what pins p. Short cooldowns alone (the WSD question's calibration) realise theirs in a
    /// small range of log-age and leave the spectrum's tilt to the fit's noise (docs/journal/session-12-forms.md). The same
    /// test decides whether <see cref="AgeMomentumLaw"/>'s prior on nu applies (a long decay pins nu there too), so
    /// <see cref="AutoLaw.Weighs"/> weighs exactly one of the two alternates.
    /// </summary>
    public static bool SpansLongDecay(IReadOnlyList<LawRun> runs) => runs.Any(r =>
    {
        int peak = EtaMath.PeakIndex(r.Eta);
        long last = r.Steps[^1];
        for (int i = peak + 1; i <= last && i < r.Eta.Length; i++)
            if (r.Eta[i] < r.Eta[i - 1]) return (last + 1.0 - i) / (last + 1.0) > 0.5;
        return false;
    });

    /// <summary>Steps whose q = 1 decay factors <see cref="AgeDecays"/> keeps: 2^18 (23 MB); longer runs compute the rest per step.</summary>
    internal const int AgeDecaySteps = 1 << 18;

    private static double[] _ageDecays = [];

    /// <summary>
    /// The age clock's per-step decay factors at q = 1, <c>exp(nu_j ln(i / (i + 1)))</c> at index <c>i * 11 + j</c>, for steps
    /// 0 .. min(<paramref name="steps"/>, <see cref="AgeDecaySteps"/>) - 1 at least: exactly the values
    /// <see cref="AgeGains"/> computed per step before session 24 (designspeed), computed once per process and grown on
    /// demand. They do not depend on the schedule, and evaluating them was ~90 % of the share law's cost (36 ms of a 68 ms
    /// stack forecast at 200,000 steps), which schedule design pays for every forecast it compares. Thread-safe: a grown table
    /// replaces the field whole; concurrent growers compute the same values.
    /// </summary>
    private static double[] AgeDecays(long steps)
    {
        int m = Speeds.Count;
        var table = Volatile.Read(ref _ageDecays);
        long want = Math.Min(steps, AgeDecaySteps);
        if (table.Length >= want * m) return table;
        long size = Math.Min(AgeDecaySteps, Math.Max(want, 2L * (table.Length / m)));
        var grown = new double[size * m];
        for (long i = 0; i < size; i++)
        {
            double ln = Math.Log(i / (i + 1.0));
            for (int j = 0; j < m; j++) grown[i * m + j] = Math.Exp(Speeds[j] * ln);
        }
        Volatile.Write(ref _ageDecays, grown);
        return grown;
    }

    /// <summary>
    /// The share law's per-mode gains on the age clock (<c>share</c>, the default): per mode the age law's recursion
    /// <c>m_t = exp(-nu (tau(t) - tau(t-1))) m_{t-1} + d_t</c>, <c>G = sum d - m</c>, which telescopes to
    /// <c>sum_k d_k (1 - exp(-nu (tau(t) - tau(k))))</c>, <c>((k+1)/(t+1))^nu</c> at q = 1. Nothing to do before the first
    /// decrease. The level clock's counterpart is <see cref="LevelGains"/>.
    /// </summary>
    private static void AgeGains(double[] eta, long[] steps, int peak, double q, double[][] gain)
    {
        int m = Speeds.Count;
        var mem = new double[m];
        double total = 0;
        bool started = false;
        int point = 0;
        long last = steps[^1];
        // At q = 1 the per-step decay factors do not depend on the schedule: read from AgeDecays (the same values, computed
        // once per process) up to its length, where most of the cost was 11 exponentials and a logarithm per step.
        var table = q == 1 ? AgeDecays(last + 1) : [];
        long tabled = table.Length / m;
        for (long i = 0; i <= last; i++)
        {
            double d = i > peak ? eta[i - 1] - eta[i] : 0;
            if (d != 0) started = true;
            if (started)
            {
                if (i < tabled)
                {
                    int row = (int)i * m;
                    for (int j = 0; j < m; j++) mem[j] = table[row + j] * mem[j] + d;
                }
                else
                {
                    double ln = q == 1 ? Math.Log(i / (i + 1.0)) : -(Math.Pow(i + 1.0, 1 - q) - Math.Pow(i, 1 - q)) / (1 - q);
                    for (int j = 0; j < m; j++) mem[j] = Math.Exp(Speeds[j] * ln) * mem[j] + d;
                }
                total += d;
            }
            if (i == steps[point])
            {
                for (int j = 0; j < m; j++) gain[j][point] = total - mem[j];
                point++;
            }
        }
    }

    public override LawState Prepare(LawRun run) => new State(run, P, Q, LevelClock);

    public override IReadOnlyList<HeldParameter> NonIdentifiable(IReadOnlyList<LawState> runs)
    {
        if (runs.Any(r => EtaMath.HasDrop(r.Run.Eta))) return [];
        const string why = "no fitted run lowers its learning rate after the warmup, so the annealing term cannot be fitted; it is held at zero";
        var held = new List<HeldParameter> { Held(3, 0, why) };
        if (FitP) held.Add(Held(4, 0.5, why));
        return held;
    }

    internal override IReadOnlyList<LawPrior> Priors(IReadOnlyList<LawState> runs) =>
        AlphaPrior is { } a && runs.Count > 0 ? [LawPrior.Exponent(2, a)] : [];

    public override IEnumerable<double[]> Starts(StartHint h, IReadOnlyList<LawState> runs)
    {
        // The pre-fit's B*(eta_peak - eta_t) realises every decrease at once, as this law does when its weight sits on the
        // fast modes, so its B is this law's B. p from a spectrum leaning on the fast modes to one on the slow ones.
        double b = Math.Max(h.B, 1e-6);
        if (!FitP)
        {
            yield return [h.L0, h.A, h.Alpha, b];
            yield return [h.L0, h.A, h.Alpha, 2 * b];
            yield break;
        }
        foreach (double p in (double[])[0, 0.4, 1])
            yield return [h.L0, h.A, h.Alpha, b, p];
    }

    private sealed class State : LawState
    {
        private readonly double[] _lnS1;
        private readonly double[][] _modeGain;   // [mode][logged point]: sum_k d_k (1 - ((k+1)/(t+1))^nu_j)
        private readonly double[]? _gain;        // the weighted gain when p is fixed

        public State(LawRun run, double? p, double q, bool levelClock) : base(run)
        {
            var eta = run.Eta;
            var pre = EtaMath.Prefix(eta);
            _lnS1 = run.Steps.Select(t => Math.Log(pre[t + 1])).ToArray();
            int peak = EtaMath.PeakIndex(eta);
            int m = Speeds.Count, n = run.Count;
            _modeGain = new double[m][];
            for (int j = 0; j < m; j++) _modeGain[j] = new double[n];
            if (levelClock) LevelGains(eta, run.Steps, peak, _modeGain);
            else AgeGains(eta, run.Steps, peak, q, _modeGain);
            if (p is { } v)
            {
                var (w, _) = Weights(v);
                _gain = new double[n];
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < m; j++) _gain[i] += w[j] * _modeGain[j][i];
            }
        }

        public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jac)
        {
            int n = loss.Length, np = p.Length, m = Speeds.Count;
            double[]? w = null;
            double mean = 0;
            if (_gain is null) (w, mean) = Weights(p[4]);
            for (int i = 0; i < n; i++)
            {
                double g, dg = 0;
                if (w is null) g = _gain![i];
                else
                {
                    g = 0;
                    for (int j = 0; j < m; j++)
                    {
                        double x = w[j] * _modeGain[j][i];
                        g += x;
                        dg += x * (mean - LnSpeeds[j]);   // dw_j/dp = w_j (sum_i w_i ln nu_i - ln nu_j)
                    }
                }
                double pw = Math.Exp(-p[2] * _lnS1[i]);
                loss[i] = p[0] + p[1] * pw - p[3] * g;
                if (jac.IsEmpty) continue;
                var row = jac.Slice(np * i, np);
                row[0] = 1; row[1] = pw; row[2] = -p[1] * pw * _lnS1[i]; row[3] = -g;
                if (w is not null) row[4] = -p[3] * dg;
            }
        }
    }
}
