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
/// </summary>
public sealed record MomentumLaw(double? Lambda = 0.999) : LossLaw
{
    private static readonly LawParameter[] Base =
    [
        new("L0", 0, double.PositiveInfinity, "loss", "asymptotic loss"),
        new("A", 0, double.PositiveInfinity, "loss", "amplitude of the LR-area power law", new LrPower(0, Plus: 2)),
        new("alpha", 0, 5, "1", "exponent in LR area"),
        new("C", 0, double.PositiveInfinity, "loss/lr", "loss drop per unit of annealing area S2", new LrPower(-1)),
    ];

    private static readonly LawParameter[] WithLambda = [.. Base, new("lambda", 0, 1, "1", "decay of the annealing momentum per step")];

    /// <summary>True when lambda is a fitted parameter.</summary>
    public bool FitLambda => Lambda is null;

    public override string Name => "momentum";

    public override string Summary => "momentum law (Tissue et al. 2024): L0 + A*S1^-alpha - C*S2, 4 parameters (+ lambda)";

    public override IReadOnlyList<LawParameter> Parameters => FitLambda ? WithLambda : Base;

    public override SpecCall ToSpecCall()
    {
        if (Lambda is { } l) return new SpecBuilder("momentum").NumIf("lambda", l, 0.999).Build();
        return new SpecBuilder("momentum").Word("lambda", "fit").Build();
    }

    internal static MomentumLaw Create(SpecArgs a)
    {
        var raw = a.Raw("lambda");
        if (raw is null) return new MomentumLaw(0.999);
        if (raw is SpecText { Value: "fit" }) return new MomentumLaw((double?)null);
        if (raw is SpecNumber n && n.Value >= 0 && n.Value < 1) return new MomentumLaw(n.Value);
        throw a.Fail($"lambda must be a number in [0, 1) or the word fit, got {raw}");
    }

    public override LawState Prepare(LawRun run) => new State(run, Lambda);

    public override IReadOnlyList<HeldParameter> NonIdentifiable(IReadOnlyList<LawState> runs)
    {
        if (runs.Any(r => EtaMath.HasDrop(r.Run.Eta))) return [];
        const string why = "no fitted run lowers its learning rate after the warmup, so the annealing term cannot be fitted; it is held at zero";
        return FitLambda ? [Held(3, 0, why), Held(4, 0.999, why)] : [Held(3, 0, why)];
    }

    public override IEnumerable<double[]> Starts(StartHint h, IReadOnlyList<LawState> runs)
    {
        // The pre-fit's B*(eta_peak - eta_t) is S2 at lambda = 0; at lambda the same drop gives an S2
        // that grows about 1/(1 - lambda) times faster, so C starts smaller by that factor.
        double lam = Lambda ?? 0.999;
        double c = h.B * (1 - lam) + 1e-3;
        if (FitLambda)
        {
            yield return [h.L0, h.A, h.Alpha, c, lam];
            yield return [h.L0, h.A, h.Alpha, h.B * 0.01, 0.99];
            yield return [h.L0, h.A, h.Alpha, h.B * 0.5, 0.5];
        }
        else
        {
            yield return [h.L0, h.A, h.Alpha, c];
            yield return [h.L0, h.A, h.Alpha, c * 10];
        }
    }

    private sealed class State : LawState
    {
        private readonly double[] _lnS1;
        private readonly double[] _drop;   // post-warmup eta_{i-1} - eta_i, 0 elsewhere
        private readonly double[]? _s2;    // S2 at the run's steps when lambda is fixed

        public State(LawRun run, double? lambda) : base(run)
        {
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
            int n = loss.Length, np = _s2 is null ? 5 : 4;
            double[]? s2 = _s2, ds2 = null;
            if (s2 is null)
            {
                s2 = new double[n]; ds2 = new double[n];
                S2(p[4], s2, ds2);
            }
            for (int i = 0; i < n; i++)
            {
                double pw = Math.Exp(-p[2] * _lnS1[i]);
                loss[i] = p[0] + p[1] * pw - p[3] * s2[i];
                if (jac.IsEmpty) continue;
                var row = jac.Slice(np * i, np);
                row[0] = 1; row[1] = pw; row[2] = -p[1] * pw * _lnS1[i]; row[3] = -s2[i];
                if (ds2 is not null) row[4] = -p[3] * ds2[i];
            }
        }
    }
}
