using Anneal.Fitting;
using Anneal.Specs;

namespace Anneal.Laws;

/// <summary>
/// Forward-momentum law (Wang et al., AAAI 2026, arXiv 2512.13705):
/// <code>
/// L = L0 + A * S^(-alpha) + B * N^(-alpha_N) - C * M
/// S_i = S_{i-1} + eta_i,   d_i = (eta_{i-1} - eta_i) / eta_peak   (post-warmup decrements)
/// m_i = 0.9 m + 0.1 d_i,  v_i = 0.999 v + 0.001 d_i^2,  M_i = M_{i-1} + m_hat / (sqrt(v_hat) + 1e-8)
/// </code>
/// (bias-corrected m_hat, v_hat with the global step count). Decrements are measured in units of
/// the peak rate so that eps is scale-free. With one model size per fit, B*N^-alpha_N is a constant
/// folded into L0; <c>fm(n=1e8)</c> records N with the fit.
/// </summary>
public sealed record ForwardMomentumLaw(double? N = null) : LossLaw
{
    private static readonly LawParameter[] Params =
    [
        new("L0", 0, double.PositiveInfinity, "loss", "asymptotic loss (includes B*N^-alpha_N for this model size)"),
        new("A", 0, double.PositiveInfinity, "loss", "amplitude of the LR-area power law", new LrPower(0, Plus: 2)),
        new("alpha", 0, 5, "1", "exponent in LR area"),
        new("C", 0, double.PositiveInfinity, "loss", "loss drop per unit of forward momentum M"),
    ];

    public override string Name => "fm";

    public override string Summary => "forward-momentum law (Wang et al. 2026): L0 + A*S^-alpha - C*M, 4 parameters";

    public override IReadOnlyList<LawParameter> Parameters => Params;

    public override SpecCall ToSpecCall() => new SpecBuilder("fm").NumIf("n", N).Build();

    internal static ForwardMomentumLaw Create(SpecArgs a)
    {
        var n = a.OptionalNumber("n");
        if (n is { } v && !(v > 0)) throw a.Fail($"n (model size in parameters) must be > 0, got {v}");
        return new ForwardMomentumLaw(n);
    }

    public override LawState Prepare(LawRun run) => new State(run);

    public override IReadOnlyList<HeldParameter> NonIdentifiable(IReadOnlyList<LawState> runs) =>
        runs.Any(r => EtaMath.HasDrop(r.Run.Eta)) ? [] :
        [Held(3, 0, "no fitted run lowers its learning rate after the warmup, so the momentum term cannot be fitted; it is held at zero")];

    public override IEnumerable<double[]> Starts(StartHint h, IReadOnlyList<LawState> runs)
    {
        // Match the pre-fit's drop B*(eta_peak - eta_min) with C * max M.
        double mMax = runs.Select(r => ((State)r).MaxM).DefaultIfEmpty(1).Max();
        double drop = h.B * h.PeakLr * 0.9;
        yield return [h.L0, h.A, h.Alpha, mMax > 0 ? drop / mMax : 1e-4];
        yield return [h.L0, h.A, h.Alpha, mMax > 0 ? 0.1 * drop / mMax : 1e-5];
    }

    private sealed class State : LawState
    {
        private readonly double[] _lnS;
        private readonly double[] _m;

        public double MaxM { get; }

        public State(LawRun run) : base(run)
        {
            var eta = run.Eta;
            var pre = EtaMath.Prefix(eta);
            _lnS = run.Steps.Select(t => Math.Log(pre[t + 1])).ToArray();
            int peak = EtaMath.PeakIndex(eta);
            double scale = eta[peak] > 0 ? eta[peak] : 1;
            _m = new double[run.Count];
            double m = 0, v = 0, acc = 0, b1 = 1, b2 = 1;
            int j = 0;
            for (long i = 0; i <= run.Steps[^1]; i++)
            {
                double d = i > peak ? (eta[i - 1] - eta[i]) / scale : 0;
                m = 0.9 * m + 0.1 * d;
                v = 0.999 * v + 0.001 * d * d;
                b1 *= 0.9; b2 *= 0.999;
                double mh = m / (1 - b1), vh = v / (1 - b2);
                acc += mh / (Math.Sqrt(vh) + 1e-8);
                if (i == run.Steps[j]) _m[j++] = acc;
            }
            MaxM = _m.Length == 0 ? 0 : _m.Max();
        }

        public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jac)
        {
            for (int i = 0; i < loss.Length; i++)
            {
                double pw = Math.Exp(-p[2] * _lnS[i]);
                loss[i] = p[0] + p[1] * pw - p[3] * _m[i];
                if (jac.IsEmpty) continue;
                var row = jac.Slice(4 * i, 4);
                row[0] = 1; row[1] = pw; row[2] = -p[1] * pw * _lnS[i]; row[3] = -_m[i];
            }
        }
    }
}
