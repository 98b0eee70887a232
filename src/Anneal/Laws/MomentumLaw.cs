using Anneal.Fitting;
using Anneal.Specs;

namespace Anneal.Laws;

/// <summary>
/// Momentum law (Tissue et al., "Scaling Law with Learning Rate Annealing", arXiv 2408.11029):
/// <code>
/// L(t) = L0 + A * S1(t)^(-alpha) - C * S2(t),   S2(t) = sum_{i&lt;=t} m_i,   m_i = lambda * m_{i-1} + (eta_{i-1} - eta_i)
/// </code>
/// Only post-warmup decrements enter m (warmup increases are not "annealing"). lambda is fixed
/// (0.999 as in the paper) or fitted (<c>momentum(lambda=fit)</c>); lambda = 0 gives S2 = eta_peak - eta_t.
/// <para>
/// <c>momentum(cap=fit)</c> makes the annealing gain saturate: <c>C * S2</c> becomes <c>C * S2 / (1 + S2 / S2max)</c>,
/// linear for a small annealing area and at most <c>C * S2max</c> (a fitted cap on the annealing area;
/// docs/journal/session-05-cooldown-saturation-horizons.md). With lambda = 0.999 the momentum's memory is long, so a
/// short cooldown's S2 keeps
/// growing for ~1000 steps after the rate has stopped falling; the cap lets the data say how soon the gain stops.
/// S2max is in units of the rate (S2 is), so the law stays equivariant to the rate's unit.
/// </para>
/// <para>
/// <c>momentum(cap=log)</c> and <c>momentum(cap=fit, power=q)</c> change how the gain bends: its slope in S2 is
/// <c>(1 + S2/S2max)^-q</c>, so <c>G = S2max ((1 + S2/S2max)^(1-q) - 1) / (1 - q)</c>; q = 2 is the hyperbolic cap above
/// (<see cref="HyperbolicCap"/>), q = 1 the log cap <c>S2max ln(1 + S2/S2max)</c> (<see cref="LogCap"/>), whose gain keeps
/// growing with the log of the area: longer cooldowns keep gaining, as gpt-tiny-long's 10 % cooldowns do
/// (docs/journal/session-08-cooldown-gain.md).
/// </para>
/// </summary>
public sealed record MomentumLaw(double? Lambda = 0.999, bool Cap = false, double CapPower = 2, double? AlphaPrior = null) : LossLaw
{
    /// <summary>The cap's shape of <c>cap=fit</c>: the hyperbolic cap, G = S2 / (1 + S2/S2max).</summary>
    public const double HyperbolicCap = 2;

    /// <summary>The cap's shape of <c>cap=log</c>: G = S2max ln(1 + S2/S2max), a gain growing with the log of the area.</summary>
    public const double LogCap = 1;

    private static readonly LawParameter[] Base =
    [
        new("L0", 0, double.PositiveInfinity, "loss", "asymptotic loss"),
        new("A", 0, double.PositiveInfinity, "loss", "amplitude of the LR-area power law", new LrPower(0, Plus: 2)),
        new("alpha", 0, 5, "1", "exponent in LR area"),
        new("C", 0, double.PositiveInfinity, "loss/lr", "loss drop per unit of annealing area S2", new LrPower(-1)),
    ];

    private static readonly LawParameter LambdaParameter = new("lambda", 0, 1, "1", "decay of the annealing momentum per step");

    private static readonly LawParameter CapParameter = new("S2max", 0, double.PositiveInfinity, "lr", "annealing area at which the gain has reached half its cap C*S2max", new LrPower(1));

    private static readonly LawParameter[] WithLambda = [.. Base, LambdaParameter];

    private static readonly LawParameter[] WithCap = [.. Base, CapParameter];

    private static readonly LawParameter[] WithLambdaAndCap = [.. Base, LambdaParameter, CapParameter];

    /// <summary>True when lambda is a fitted parameter.</summary>
    public bool FitLambda => Lambda is null;

    /// <summary>Index of S2max in the parameter vector (-1 without a cap).</summary>
    private int CapIndex => Cap ? (FitLambda ? 5 : 4) : -1;

    public override string Name => "momentum";

    public override string Summary => "momentum law (Tissue et al. 2024): L0 + A*S1^-alpha - C*S2, 4 parameters (+ lambda, + a cap on the annealing area, hyperbolic or log)";

    public override IReadOnlyList<LawParameter> Parameters => (FitLambda, Cap) switch
    {
        (false, false) => Base,
        (true, false) => WithLambda,
        (false, true) => WithCap,
        (true, true) => WithLambdaAndCap,
    };

    public override SpecCall ToSpecCall()
    {
        var b = new SpecBuilder("momentum");
        if (Lambda is { } l) b.NumIf("lambda", l, 0.999);
        else b.Word("lambda", "fit");
        if (Cap && CapPower == LogCap) b.Word("cap", "log");
        else if (Cap) { b.Word("cap", "fit"); b.NumIf("power", CapPower, HyperbolicCap); }
        return b.NumIf("alpha_prior", AlphaPrior).Build();
    }

    internal static MomentumLaw Create(SpecArgs a)
    {
        var raw = a.Raw("lambda");
        var capRaw = a.Raw("cap");
        bool cap = capRaw switch
        {
            null or SpecText { Value: "none" } => false,
            SpecText { Value: "fit" or "log" } => true,
            _ => throw a.Fail($"cap must be fit, log or none, got {capRaw}"),
        };
        double power = capRaw is SpecText { Value: "log" } ? LogCap : HyperbolicCap;
        if (a.Raw("power") is { } powRaw)
        {
            if (capRaw is not SpecText { Value: "fit" }) throw a.Fail("power= shapes the cap: give it with cap=fit");
            if (powRaw is not SpecNumber { Value: > 0 and <= 4 } pn) throw a.Fail($"power must be a number in (0, 4], got {powRaw}");
            power = pn.Value;
        }
        double? alphaPrior = LawPrior.ExponentMode(a);
        if (raw is null) return new MomentumLaw(0.999, cap, power, alphaPrior);
        if (raw is SpecText { Value: "fit" }) return new MomentumLaw((double?)null, cap, power, alphaPrior);
        if (raw is SpecNumber n && n.Value >= 0 && n.Value < 1) return new MomentumLaw(n.Value, cap, power, alphaPrior);
        throw a.Fail($"lambda must be a number in [0, 1) or the word fit, got {raw}");
    }

    public override LawState Prepare(LawRun run) => new State(run, Lambda, CapIndex, CapPower);

    internal override IReadOnlyList<LawPrior> Priors(IReadOnlyList<LawState> runs) =>
        AlphaPrior is { } a && runs.Count > 0 ? [LawPrior.Exponent(2, a)] : [];

    public override IReadOnlyList<HeldParameter> NonIdentifiable(IReadOnlyList<LawState> runs)
    {
        if (runs.Any(r => EtaMath.HasDrop(r.Run.Eta))) return [];
        const string why = "no fitted run lowers its learning rate after the warmup, so the annealing term cannot be fitted; it is held at zero";
        var held = new List<HeldParameter> { Held(3, 0, why) };
        if (FitLambda) held.Add(Held(4, 0.999, why));
        // With C = 0 the cap changes nothing; any positive value will do (1 in the fitter's canonical rate unit).
        if (Cap) held.Add(Held(CapIndex, 1, why));
        return held;
    }

    public override IEnumerable<double[]> Starts(StartHint h, IReadOnlyList<LawState> runs)
    {
        // The pre-fit's B*(eta_peak - eta_t) is S2 at lambda = 0; at lambda the same drop gives an S2
        // that grows about 1/(1 - lambda) times faster, so C starts smaller by that factor.
        double lam = Lambda ?? 0.999;
        double c = h.B * (1 - lam) + 1e-3;
        var starts = new List<double[]>();
        if (FitLambda)
        {
            starts.Add([h.L0, h.A, h.Alpha, c, lam]);
            starts.Add([h.L0, h.A, h.Alpha, h.B * 0.01, 0.99]);
            starts.Add([h.L0, h.A, h.Alpha, h.B * 0.5, 0.5]);
        }
        else
        {
            starts.Add([h.L0, h.A, h.Alpha, c]);
            starts.Add([h.L0, h.A, h.Alpha, c * 10]);
        }
        if (!Cap)
        {
            foreach (var s in starts) yield return s;
            yield break;
        }
        // Uncapped (S2max far beyond any S2 the runs reach: the plain law's starts) ...
        double far = 1e3 * h.PeakLr / (1 - lam);
        foreach (var s in starts) yield return [.. s, far];
        // ... and capped: the gain saturates at C*S2max, which the pre-fit's full-decay gain B*eta_peak sets, for caps of
        // 1, 10 and 100 peak rates of annealing area. Without these the fit can settle in the uncapped basin (a worse
        // optimum seen on the cooldown question of gpt-tiny at lambda = 0.9985).
        foreach (double m in (double[])[1, 10, 100])
            yield return FitLambda ? [h.L0, h.A, h.Alpha, h.B / m, lam, m * h.PeakLr] : [h.L0, h.A, h.Alpha, h.B / m, m * h.PeakLr];
    }

    private sealed class State : LawState
    {
        private readonly double[] _lnS1;
        private readonly double[] _drop;   // post-warmup eta_{i-1} - eta_i, 0 elsewhere
        private readonly double[]? _s2;    // S2 at the run's steps when lambda is fixed
        private readonly int _cap;         // index of S2max in p, -1 without a cap
        private readonly double _power;    // the cap's shape: dG/dS2 = (1 + S2/S2max)^-power

        public State(LawRun run, double? lambda, int cap, double power) : base(run)
        {
            _cap = cap;
            _power = power;
            var eta = run.Eta;
            var pre = EtaMath.Prefix(eta);
            _lnS1 = run.Steps.Select(t => Math.Log(pre[t + 1])).ToArray();
            int peak = EtaMath.PeakIndex(eta);
            _drop = new double[eta.Length];
            for (int i = peak + 1; i < eta.Length; i++) _drop[i] = eta[i - 1] - eta[i];
            if (lambda is { } l)
            {
                _s2 = new double[run.Count];
                S2(l, _s2, default);
            }
        }

        private void S2(double lambda, Span<double> s2, Span<double> ds2)
        {
            double m = 0, dm = 0, s = 0, ds = 0;
            int j = 0;
            long last = Run.Steps[^1];
            for (long i = 0; i <= last; i++)
            {
                dm = m + lambda * dm;          // d m_i / d lambda, using m_{i-1}
                m = lambda * m + _drop[i];
                s += m; ds += dm;
                if (i == Run.Steps[j])
                {
                    s2[j] = s;
                    if (!ds2.IsEmpty) ds2[j] = ds;
                    j++;
                }
            }
        }

        public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jac)
        {
            int n = loss.Length, np = p.Length;
            double[]? s2 = _s2, ds2 = null;
            if (s2 is null)
            {
                s2 = new double[n]; ds2 = new double[n];
                S2(p[4], s2, ds2);
            }
            for (int i = 0; i < n; i++)
            {
                double pw = Math.Exp(-p[2] * _lnS1[i]);
                // The annealing area as it enters the gain: S2, or with a cap G(S2) = S2max ((1 + x)^(1-q) - 1) / (1 - q),
                // x = S2/S2max, whose slope dG/dS2 = (1 + x)^-q falls from 1 as the area grows: q = 2 is S2 / (1 + x)
                // (at most S2max), q = 1 is S2max ln(1 + x) (no bound: the gain keeps growing with the log of the area).
                double g = s2[i], dg = 1, dgdm = 0;
                if (_cap >= 0)
                {
                    double m = p[_cap], x = s2[i] / m, u = 1 + x;
                    if (_power == HyperbolicCap)
                    {
                        g = s2[i] / u;
                        dg = 1 / (u * u);
                        dgdm = g * g / (m * m);
                    }
                    else
                    {
                        double lnU = Math.Log(u);
                        // ((1+x)^(1-q) - 1)/(1-q) = lnU * E((1-q) lnU), E(z) = (e^z - 1)/z: continuous through q = 1.
                        double z = (1 - _power) * lnU;
                        double shape = Math.Abs(z) < 1e-8 ? lnU * (1 + z / 2) : double.ExpM1(z) / (1 - _power);
                        dg = Math.Exp(-_power * lnU);
                        g = m * shape;
                        dgdm = shape - x * dg;
                    }
                }
                loss[i] = p[0] + p[1] * pw - p[3] * g;
                if (jac.IsEmpty) continue;
                var row = jac.Slice(np * i, np);
                row[0] = 1; row[1] = pw; row[2] = -p[1] * pw * _lnS1[i]; row[3] = -g;
                if (ds2 is not null) row[4] = -p[3] * dg * ds2[i];
                if (_cap >= 0) row[_cap] = -p[3] * dgdm;
            }
        }
    }
}
