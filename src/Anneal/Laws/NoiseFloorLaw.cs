using Anneal.Fitting;
using Anneal.Specs;

namespace Anneal.Laws;

/// <summary>
/// Noise-floor law: the momentum law written as a bias term plus a noise floor set by the recent
/// learning rate, with the floor's shape in the rate fitted:
/// <code>
/// L(t) = L0 + A * S1(t)^(-alpha) + sigma * (ebar_t / eta_peak)^p,   ebar_t = lambda * ebar_{t-1} + (1 - lambda) * eta_t   (ebar = eta_peak at the peak)
/// </code>
/// At p = 1 this is exactly the momentum law of Tissue et al. 2024 (arXiv 2408.11029): with
/// S2 the annealing area, <c>eta_peak - ebar_t = (1 - lambda) * S2(t)</c>, so
/// <c>C * S2 = sigma * (1 - ebar_t / eta_peak)</c> with <c>sigma = C * eta_peak / (1 - lambda)</c>.
/// p &lt; 1 makes the gain of lowering the rate concave (most of it comes near zero rate); p &gt; 1 makes it
/// saturate (the first part of a cooldown gains most) — the "cooldown gains that saturate" candidate of
/// docs/journal/session-05-cooldown-saturation-horizons.md. The SGD picture behind it: the stationary excess loss of SGD with constant rate eta is
/// proportional to eta for a quadratic (Mandt et al. 2017), and the exponent measures departures from that.
/// <c>floor(time=area)</c> runs the average on the intrinsic clock of cumulative rate instead of steps:
/// <c>ebar_t = ebar_{t-1} + (1 - lambda) * (eta_t / eta_peak) * (eta_t - ebar_{t-1})</c>.
/// Equivariant in the rate's units (only eta/eta_peak and A*S1^-alpha enter).
/// </summary>
public sealed record NoiseFloorLaw(double Lambda = 0.999, bool AreaTime = false) : LossLaw
{
    private static readonly LawParameter[] Params =
    [
        new("L0", 0, double.PositiveInfinity, "loss", "asymptotic loss at zero rate"),
        new("A", 0, double.PositiveInfinity, "loss", "amplitude of the LR-area power law", new LrPower(0, Plus: 2)),
        new("alpha", 0, 5, "1", "exponent in LR area"),
        new("sigma", 0, double.PositiveInfinity, "loss", "noise floor at the peak rate"),
        new("p", 0.05, 4, "1", "exponent of the floor in the averaged rate (1 = the momentum law)"),
    ];

    public override string Name => "floor";

    public override string Summary => "noise-floor law: L0 + A*S1^-alpha + sigma*(ebar/eta_peak)^p (momentum law at p = 1), 5 parameters";

    public override IReadOnlyList<LawParameter> Parameters => Params;

    public override SpecCall ToSpecCall()
    {
        var b = new SpecBuilder("floor").NumIf("lambda", Lambda, 0.999);
        if (AreaTime) b.Word("time", "area");
        return b.Build();
    }

    internal static NoiseFloorLaw Create(SpecArgs a)
    {
        var raw = a.Raw("lambda");
        double lambda = 0.999;
        if (raw is SpecNumber n && n.Value >= 0 && n.Value < 1) lambda = n.Value;
        else if (raw is not null) throw a.Fail($"lambda must be a number in [0, 1), got {raw}");
        var time = a.Raw("time");
        bool area = time switch
        {
            null or SpecText { Value: "steps" } => false,
            SpecText { Value: "area" } => true,
            _ => throw a.Fail($"time must be steps or area, got {time}"),
        };
        return new NoiseFloorLaw(lambda, area);
    }

    public override LawState Prepare(LawRun run) => new State(run, Lambda, AreaTime);

    public override IReadOnlyList<HeldParameter> NonIdentifiable(IReadOnlyList<LawState> runs)
    {
        if (runs.Any(r => EtaMath.HasDrop(r.Run.Eta))) return [];
        const string why = "no fitted run lowers its learning rate after the warmup, so the floor's shape cannot be fitted; it is held at the momentum law's";
        return [Held(4, 1.0, why)];
    }

    public override IEnumerable<double[]> Starts(StartHint h, IReadOnlyList<LawState> runs)
    {
        // The pre-fit's B*(eta_peak - eta_t) is the floor's drop at lambda = 0 and p = 1: sigma = B*eta_peak.
        double sigma = Math.Max(h.B * h.PeakLr, 1e-3);
        yield return [Math.Max(h.L0 - sigma, 0.5 * h.L0), h.A, h.Alpha, sigma, 1.0];
        yield return [Math.Max(h.L0 - sigma, 0.5 * h.L0), h.A, h.Alpha, sigma, 0.5];
        yield return [Math.Max(h.L0 - sigma, 0.5 * h.L0), h.A, h.Alpha, sigma, 2.0];
    }

    private sealed class State : LawState
    {
        private readonly double[] _lnS1;
        private readonly double[] _lnR;   // ln(ebar_t / eta_peak) at the run's steps

        public State(LawRun run, double lambda, bool area) : base(run)
        {
            var eta = run.Eta;
            var pre = EtaMath.Prefix(eta);
            _lnS1 = run.Steps.Select(t => Math.Log(pre[t + 1])).ToArray();
            int peak = EtaMath.PeakIndex(eta);
            double ep = eta[peak];
            _lnR = new double[run.Count];
            double e = ep;
            int j = 0;
            for (long i = 0; i <= run.Steps[^1]; i++)
            {
                // Before the peak the floor is the peak's (warmup increases are not annealing, as in the momentum law).
                // In area time the average moves by (1 - lambda) per unit of eta/eta_peak: at a low rate
                // the model barely moves, so neither does its floor (a functional-scaling-law-style clock).
                if (i > peak) e += (1 - lambda) * (area ? eta[i] / ep : 1) * (eta[i] - e);
                if (i == run.Steps[j]) { _lnR[j] = Math.Log(Math.Max(e, 1e-300) / ep); j++; }
            }
        }

        public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jac)
        {
            for (int i = 0; i < loss.Length; i++)
            {
                double pw = Math.Exp(-p[2] * _lnS1[i]);
                double fl = Math.Exp(p[4] * _lnR[i]);
                loss[i] = p[0] + p[1] * pw + p[3] * fl;
                if (jac.IsEmpty) continue;
                var row = jac.Slice(5 * i, 5);
                row[0] = 1; row[1] = pw; row[2] = -p[1] * pw * _lnS1[i]; row[3] = fl; row[4] = p[3] * fl * _lnR[i];
            }
        }
    }
}
