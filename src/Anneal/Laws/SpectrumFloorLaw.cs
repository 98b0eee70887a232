using Anneal.Fitting;
using Anneal.Specs;

namespace Anneal.Laws;

/// <summary>
/// Spectrum-floor law (<c>fsl</c>): a power law in LR area plus a noise floor that fills and relaxes in intrinsic time
/// (cumulative rate) over a scale-free ladder of modes, after the functional scaling law of Li et al. 2025
/// (arXiv 2509.19189: SGD on a power-law kernel regression; the schedule enters through a convolution in intrinsic time):
/// <code>
/// L(t) = L0 + A * S1(t)^(-alpha) + sigma * (1/M) sum_j V_j(t),
/// V_j(k) = x V_j(k-1) + (1 - x) eta_k,   x = exp(-r_j eta_k),   r_j = 2^j / tau,   j = 0..M-1,   V_j(-1) = 0
/// </code>
/// Each mode is the rate averaged on the clock of LR area at its own speed r_j: at a constant rate it fills towards
/// eta (mode j after an area of about 1/r_j), and when the rate falls it relaxes towards the new rate, again only as
/// area accrues (no area, no relaxation: SGD at rate zero does not move). The modes span M = 12 octaves of speed with
/// equal weight, the scale-free case of the FSL's power-law spectrum (<c>fsl(octaves=M)</c> sets M); tau is the slowest mode's area, fitted, or held at N steps of the run's own peak rate
/// with <c>fsl(slowest=N)</c> (a prior on the time scales, which the calibration runs do not identify:
/// docs/journal/session-08-cooldown-gain.md). Why this shape
/// (docs/journal/session-08-cooldown-gain.md): a short cooldown relaxes the fast modes at once, a longer one reaches slower modes, so
/// the gain keeps growing with the cooldown's length like a log of its area; and a later cooldown of the same fraction
/// finds more slow modes filled, so gains grow with the run's progress, as gpt-tiny-long's 10 % cooldowns do.
/// Equivariant in the rate's unit: sigma is per unit of rate, tau an area.
/// </summary>
public sealed record SpectrumFloorLaw(int Modes = SpectrumFloorLaw.DefaultModes, double? SlowestSteps = null) : LossLaw
{
    /// <summary>Default number of modes (octaves of relaxation speed).</summary>
    public const int DefaultModes = 12;

    private static readonly LawParameter[] Params =
    [
        new("L0", 0, double.PositiveInfinity, "loss", "asymptotic loss at zero rate"),
        new("A", 0, double.PositiveInfinity, "loss", "amplitude of the LR-area power law", new LrPower(0, Plus: 2)),
        new("alpha", 0, 5, "1", "exponent in LR area"),
        new("sigma", 0, double.PositiveInfinity, "loss/lr", "noise floor per unit of rate, all modes filled", new LrPower(-1)),
        new("tau", 0, double.PositiveInfinity, "lr", "LR area over which the slowest mode fills or relaxes", new LrPower(1)),
    ];

    // Declared after Params: static fields initialise in textual order.
    private static readonly LawParameter[] HeldTau = [.. Params[..4]];

    public override string Name => "fsl";

    public override string Summary => "spectrum-floor law (after Li et al. 2025's functional scaling law): L0 + A*S1^-alpha + sigma*mean_j V_j, V_j the rate averaged in LR-area time at speeds 2^j/tau, 12 octaves; 5 parameters";

    public override IReadOnlyList<LawParameter> Parameters => SlowestSteps is null ? Params : HeldTau;

    public override SpecCall ToSpecCall() => new SpecBuilder("fsl").NumIf("octaves", Modes, DefaultModes).NumIf("slowest", SlowestSteps).Build();

    internal static SpectrumFloorLaw Create(SpecArgs a)
    {
        var raw = a.Raw("octaves");
        int modes = DefaultModes;
        if (raw is SpecNumber { Value: >= 1 and <= 24 } n && n.Value == Math.Floor(n.Value)) modes = (int)n.Value;
        else if (raw is not null) throw a.Fail($"octaves must be a whole number from 1 to 24, got {raw}");
        double? slowest = null;
        var sl = a.Raw("slowest");
        if (sl is SpecNumber { Value: > 0 } s) slowest = s.Value;
        else if (sl is not null) throw a.Fail($"slowest must be a positive number of steps at the peak rate, got {sl}");
        return new(modes, slowest);
    }

    public override LawState Prepare(LawRun run) => new State(run, Modes, SlowestSteps);

    public override IReadOnlyList<HeldParameter> NonIdentifiable(IReadOnlyList<LawState> runs)
    {
        if (runs.Any(r => EtaMath.HasDrop(r.Run.Eta))) return [];
        const string why = "no fitted run lowers its learning rate after the warmup, so the floor cannot be told from the power law; it is held at zero";
        // With sigma = 0 tau changes nothing; any positive value will do (1 in the fitter's canonical rate unit).
        return SlowestSteps is null ? [Held(3, 0, why), Held(4, 1, why)] : [Held(3, 0, why)];
    }

    public override IEnumerable<double[]> Starts(StartHint h, IReadOnlyList<LawState> runs)
    {
        // The pre-fit's B*(eta_peak - eta_t) is a floor per unit of rate, fully relaxed: sigma = B. The slowest mode fills
        // over 300, 3,000 or 30,000 steps at the peak rate; the floor at the peak, sigma*eta_peak when filled, comes out of L0.
        double sigma = Math.Max(h.B, 1e-3 / h.PeakLr);
        double l0 = Math.Max(h.L0 - 0.5 * sigma * h.PeakLr, 0.5 * h.L0);
        foreach (double n in (double[])[300, 3000, 30000])
        {
            yield return SlowestSteps is null ? [l0, h.A, h.Alpha, sigma, n * h.PeakLr] : [l0, h.A, h.Alpha, sigma];
            yield return SlowestSteps is null ? [h.L0, h.A, h.Alpha, 0.2 * sigma, n * h.PeakLr] : [h.L0, h.A, h.Alpha, 0.2 * sigma];
        }
    }

    private sealed class State : LawState
    {
        private readonly double[] _lnS1;
        private readonly int _modes;

        private readonly double _heldTau;   // tau held at slowest x the run's peak rate; 0 when tau is fitted

        public State(LawRun run, int modes, double? slowest) : base(run)
        {
            _modes = modes;
            _heldTau = slowest is { } n ? n * run.Eta[EtaMath.PeakIndex(run.Eta)] : 0;
            var pre = EtaMath.Prefix(run.Eta);
            _lnS1 = run.Steps.Select(t => Math.Log(pre[t + 1])).ToArray();
        }

        public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jac)
        {
            int n = loss.Length, np = p.Length;
            var eta = Run.Eta;
            double tau = _heldTau > 0 ? _heldTau : p[4];
            bool withJac = !jac.IsEmpty;
            Span<double> r = stackalloc double[_modes], v = stackalloc double[_modes], dv = stackalloc double[_modes], x = stackalloc double[_modes];
            for (int m = 0; m < _modes; m++) r[m] = Math.ScaleB(1.0, m) / tau;
            double lastEta = double.NaN;
            int j = 0;
            long last = Run.Steps[^1];
            for (long k = 0; k <= last && j < n; k++)
            {
                double e = eta[k];
                // exp(-r_j eta) only when the rate changes: constant stretches reuse it.
                if (e != lastEta)
                {
                    for (int m = 0; m < _modes; m++) x[m] = Math.Exp(-r[m] * e);
                    lastEta = e;
                }
                for (int m = 0; m < _modes; m++)
                {
                    double prev = v[m];
                    // dV/dtau: dx/dtau = x r e / tau, so d(x V + (1 - x) e) = x dV + (V - e) dx.
                    if (withJac) dv[m] = x[m] * dv[m] + (prev - e) * x[m] * r[m] * e / tau;
                    v[m] = x[m] * prev + (1 - x[m]) * e;
                }
                if (k != Run.Steps[j]) continue;
                double mean = 0, dmean = 0;
                for (int m = 0; m < _modes; m++) { mean += v[m]; dmean += dv[m]; }
                mean /= _modes; dmean /= _modes;
                double pw = Math.Exp(-p[2] * _lnS1[j]);
                loss[j] = p[0] + p[1] * pw + p[3] * mean;
                if (withJac)
                {
                    var row = jac.Slice(np * j, np);
                    row[0] = 1; row[1] = pw; row[2] = -p[1] * pw * _lnS1[j]; row[3] = mean;
                    if (np > 4) row[4] = p[3] * dmean;
                }
                j++;
            }
        }
    }
}
