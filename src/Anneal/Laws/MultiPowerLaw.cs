using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Anneal.Specs;

namespace Anneal.Laws;

/// <summary>Which LR decrements enter the multi-power law's loss-drop sum LD.</summary>
public enum WarmupConvention
{
    /// <summary>The paper's: only drops after the warmup peak count (Luo et al. 2025, eq. for LD).</summary>
    Paper,
    /// <summary>
    /// The MIT reference code's evaluation path: every step-to-step change from step 1 counts, so the
    /// warmup increases enter LD with a negative sign and L0 absorbs about +B*eta_peak. Only needed
    /// to reproduce parameters published under that convention.
    /// </summary>
    Reference,
}

/// <summary>
/// Multi-power law (Luo et al., "A Multi-Power Law for Loss Curve Prediction Across Learning Rate
/// Schedules", ICLR 2025, arXiv 2503.12811):
/// <code>
/// L(t)   = L0 + A * (S1(t) + S_W)^(-alpha) - LD(t)
/// LD(t)  = B * sum_{k&lt;=t} (eta_{k-1} - eta_k) * G(eta_k^(-gamma) * S_k(t)),  G(x) = 1 - (C x + 1)^(-beta)
/// S_k(t) = sum_{tau=k..t} eta_tau
/// </code>
/// S1 + S_W is the LR area of steps 0..t (warmup included). Parameters: L0, A, alpha, B, C, beta, gamma.
/// Evaluation is exact and fast: prefix sums make S_k(t) O(1), only steps where eta changes enter
/// LD, and the inner sum runs over SIMD lanes with the four gradient sums accumulated alongside.
/// </summary>
public sealed record MultiPowerLaw(WarmupConvention Convention = WarmupConvention.Paper) : LossLaw
{
    private static readonly LawParameter[] Params =
    [
        new("L0", 0, double.PositiveInfinity, "loss", "irreducible loss of an infinitely long run at this LR scale"),
        new("A", 0, double.PositiveInfinity, "loss", "amplitude of the power law in LR area"),
        new("alpha", 0, 5, "1", "exponent of the LR-area power law"),
        new("B", 0, double.PositiveInfinity, "loss/lr", "amplitude of the loss drop per unit LR decrease"),
        new("C", 0, double.PositiveInfinity, "lr^(gamma-1)", "rate at which a decrease's benefit saturates"),
        new("beta", 0, 10, "1", "power of the saturation G(x) = 1 - (Cx+1)^-beta"),
        new("gamma", 0, 5, "1", "LR exponent inside G: eta_k^-gamma * S_k(t)"),
    ];

    public override string Name => "mpl";

    public override string Summary => "multi-power law (Luo et al. 2025): L0 + A*(S1+S_W)^-alpha - LD(t), 7 parameters";

    public override IReadOnlyList<LawParameter> Parameters => Params;

    public override SpecCall ToSpecCall() =>
        new SpecBuilder("mpl").WordIf("warmup", Convention == WarmupConvention.Reference ? "reference" : "paper", "paper").Build();

    internal static MultiPowerLaw Create(SpecArgs a)
    {
        var w = a.Word("warmup", "paper");
        return w switch
        {
            "paper" => new MultiPowerLaw(WarmupConvention.Paper),
            "reference" => new MultiPowerLaw(WarmupConvention.Reference),
            _ => throw a.Fail($"warmup must be paper (only post-warmup LR drops count) or reference (the MIT code's convention), got '{w}'"),
        };
    }

    /// <summary>
    /// The reference convention is fitted by the reference procedure (early-stopped AdamW from the
    /// reference initialisation), which reproduces the published parameters from the benchmark runs
    /// and predicts held-out schedules better than the exact optimum, which overfits (docs/laws.md).
    /// </summary>
    public override Anneal.Fitting.FitMethod PreferredMethod =>
        Convention == WarmupConvention.Reference ? Anneal.Fitting.FitMethod.Reference : Anneal.Fitting.FitMethod.Optimum;

    public override LawState Prepare(LawRun run) => new State(run, Convention);

    public override IReadOnlyList<FixedParameter> NonIdentifiable(IReadOnlyList<LawState> runs)
    {
        if (runs.Any(r => EtaMath.HasDrop(r.Run.Eta))) return [];
        const string why = "no fitted run lowers its learning rate after the warmup, so the loss-drop term cannot be fitted; it is held at zero (B = 0) and predictions ignore LR decay";
        return [new(3, 0, why), new(4, 1, why), new(5, 0.5, why), new(6, 0.5, why)];
    }

    public override IEnumerable<double[]> Starts(StartHint h, IReadOnlyList<LawState> runs)
    {
        // Reference initialisation first (the reference procedure uses only it): the pre-fit, then
        // C = 1, beta = 0.5, gamma = 0.5. In the reference convention the warmup ramp adds about
        // B*eta_peak, which L0 must absorb: a second start does that for the optimum.
        yield return [h.L0, h.A, h.Alpha, h.B, 1, 0.5, 0.5];
        double l0 = h.L0;
        if (Convention == WarmupConvention.Reference)
        {
            l0 = Math.Max(0.05, h.L0 - h.B * h.PeakLr);
            yield return [l0, h.A, h.Alpha, h.B, 1, 0.5, 0.5];
        }
        var rng = new Random(h.Seed);
        for (int i = 0; i < 1; i++)
            yield return [l0, h.A, h.Alpha, h.B * Math.Exp(rng.NextDouble() - 0.5), Math.Exp(2 * rng.NextDouble() - 1), 0.3 + 0.6 * rng.NextDouble(), 0.3 + 0.6 * rng.NextDouble()];
    }

    /// <summary>Prepared run: prefix sums, the list of rate changes, and the per-point drop counts.</summary>
    internal sealed class State : LawState
    {
        private readonly double[] _prefix;   // P[i] = sum_{tau<i} eta
        private readonly double[] _d;        // eta_{k-1} - eta_k at each change k (eta_k > 0)
        private readonly double[] _pk;       // P[k]
        private readonly double[] _lnEta;    // ln eta_k
        private readonly long[] _k;          // the steps k
        private readonly int[] _upTo;        // changes with k <= t_i: _d[0.._upTo[i]]
        private readonly double[] _zeroD;    // changes to eta_k = 0: G = 1 whenever S_k(t) > 0
        private readonly long[] _zeroK;
        private readonly long _pairs;

        public State(LawRun run, WarmupConvention convention) : base(run)
        {
            var eta = run.Eta;
            _prefix = EtaMath.Prefix(eta);
            int first = convention == WarmupConvention.Paper ? EtaMath.PeakIndex(eta) + 1 : 1;
            var d = new List<double>(); var k = new List<long>(); var zd = new List<double>(); var zk = new List<long>();
            for (int i = Math.Max(first, 1); i < eta.Length; i++)
            {
                double diff = eta[i - 1] - eta[i];
                if (diff == 0) continue;
                if (eta[i] > 0) { d.Add(diff); k.Add(i); }
                else { zd.Add(diff); zk.Add(i); }
            }
            _d = d.ToArray(); _k = k.ToArray(); _zeroD = zd.ToArray(); _zeroK = zk.ToArray();
            _pk = _k.Select(x => _prefix[x]).ToArray();
            _lnEta = _k.Select(x => Math.Log(eta[x])).ToArray();
            _upTo = new int[run.Count];
            int j = 0;
            for (int i = 0; i < run.Count; i++)
            {
                while (j < _k.Length && _k[j] <= run.Steps[i]) j++;
                _upTo[i] = j;
                _pairs += j;
            }
        }

        /// <summary>Number of (point, change) pairs one evaluation visits.</summary>
        public long Pairs => _pairs;

        /// <summary>Number of steps where the rate changes and enters LD.</summary>
        public int Changes => _d.Length + _zeroD.Length;

        public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jac)
        {
            double l0 = p[0], a = p[1], alpha = p[2], b = p[3], c = p[4], beta = p[5], gamma = p[6];
            int n = Run.Count;
            // eta_k^-gamma once per parameter vector: O(changes), not O(changes x points).
            var e = System.Buffers.ArrayPool<double>.Shared.Rent(Math.Max(1, _d.Length));
            try
            {
                for (int j = 0; j < _d.Length; j++) e[j] = Math.Exp(-gamma * _lnEta[j]);
                var sums = System.Buffers.ArrayPool<double>.Shared.Rent(4 * n);
                try
                {
                    var eArr = e; var sArr = sums;
                    bool wantJ = !jac.IsEmpty;
                    if (_pairs > 400_000 && Environment.ProcessorCount > 1)
                        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i => { if (wantJ) Point(i, eArr, c, beta, sArr); else PointValue(i, eArr, c, beta, sArr); });
                    else
                        for (int i = 0; i < n; i++) { if (wantJ) Point(i, e, c, beta, sums); else PointValue(i, e, c, beta, sums); }
                    for (int i = 0; i < n; i++)
                    {
                        long t = Run.Steps[i];
                        double pt1 = _prefix[t + 1];
                        double s0 = sums[4 * i], s1 = sums[4 * i + 1], s2 = sums[4 * i + 2], s3 = sums[4 * i + 3];
                        for (int z = 0; z < _zeroK.Length && _zeroK[z] <= t; z++)
                            if (pt1 - _prefix[_zeroK[z]] > 0) s0 += _zeroD[z];
                        double lnX = Math.Log(pt1), pw = Math.Exp(-alpha * lnX);
                        loss[i] = l0 + a * pw - b * s0;
                        if (!wantJ) continue;
                        var row = jac.Slice(7 * i, 7);
                        row[0] = 1;
                        row[1] = pw;
                        row[2] = -a * pw * lnX;
                        row[3] = -s0;
                        row[4] = -b * beta * s1;
                        row[5] = -b * s2;
                        row[6] = -b * beta * c * s3;
                    }
                }
                finally { System.Buffers.ArrayPool<double>.Shared.Return(sums); }
            }
            finally { System.Buffers.ArrayPool<double>.Shared.Return(e); }
        }

        /// <summary>Only s0 = sum d G (no derivatives): the trial evaluations of the optimiser and plain predictions.</summary>
        private void PointValue(int i, double[] e, double c, double beta, double[] sums)
        {
            int m = _upTo[i];
            double pt1 = _prefix[Run.Steps[i] + 1];
            double s0 = 0;
            int j = 0;
            if (Vector512.IsHardwareAccelerated && m >= 16)
            {
                var vPt = Vector512.Create(pt1); var vC = Vector512.Create(c); var vNegBeta = Vector512.Create(-beta);
                Vector512<double> a0 = default;
                ref double rd = ref _d[0], rp = ref _pk[0], re = ref e[0];
                for (; j <= m - 8; j += 8)
                {
                    var d = Vector512.LoadUnsafe(ref rd, (nuint)j);
                    var q = Vector512<double>.One + vC * Vector512.LoadUnsafe(ref re, (nuint)j) * (vPt - Vector512.LoadUnsafe(ref rp, (nuint)j));
                    a0 += d - d * Vector512.Exp(vNegBeta * Vector512.Log(q));
                }
                s0 = Vector512.Sum(a0);
            }
            else if (Vector256.IsHardwareAccelerated && m >= 8)
            {
                var vPt = Vector256.Create(pt1); var vC = Vector256.Create(c); var vNegBeta = Vector256.Create(-beta);
                Vector256<double> a0 = default;
                ref double rd = ref _d[0], rp = ref _pk[0], re = ref e[0];
                for (; j <= m - 4; j += 4)
                {
                    var d = Vector256.LoadUnsafe(ref rd, (nuint)j);
                    var q = Vector256<double>.One + vC * Vector256.LoadUnsafe(ref re, (nuint)j) * (vPt - Vector256.LoadUnsafe(ref rp, (nuint)j));
                    a0 += d - d * Vector256.Exp(vNegBeta * Vector256.Log(q));
                }
                s0 = Vector256.Sum(a0);
            }
            for (; j < m; j++)
            {
                double d = _d[j], q = 1 + c * e[j] * (pt1 - _pk[j]);
                s0 += d - d * Math.Exp(-beta * Math.Log(q));
            }
            sums[4 * i] = s0; sums[4 * i + 1] = 0; sums[4 * i + 2] = 0; sums[4 * i + 3] = 0;
        }

        /// <summary>
        /// The four sums over changes k &lt;= t_i: s0 = sum d G, s1 = sum d p y/(1+x),
        /// s2 = sum d p ln(1+x), s3 = sum d p y/(1+x) * (-ln eta_k), with y = eta_k^-gamma S_k(t),
        /// x = C y, p = (1+x)^-beta. Then LD = B s0, dLD/dC = B beta s1, dLD/dbeta = B s2, dLD/dgamma = B beta C s3.
        /// </summary>
        private void Point(int i, double[] e, double c, double beta, double[] sums)
        {
            int m = _upTo[i];
            double pt1 = _prefix[Run.Steps[i] + 1];
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int j = 0;
            if (Vector512.IsHardwareAccelerated && m >= 16)
            {
                var vPt = Vector512.Create(pt1);
                var vC = Vector512.Create(c);
                var vNegBeta = Vector512.Create(-beta);
                var one = Vector512<double>.One;
                Vector512<double> a0 = default, a1 = default, a2 = default, a3 = default;
                ref double rd = ref _d[0], rp = ref _pk[0], re = ref e[0], rl = ref _lnEta[0];
                for (; j <= m - 8; j += 8)
                {
                    var d = Vector512.LoadUnsafe(ref rd, (nuint)j);
                    var y = Vector512.LoadUnsafe(ref re, (nuint)j) * (vPt - Vector512.LoadUnsafe(ref rp, (nuint)j));
                    var q = one + vC * y;
                    var l = Vector512.Log(q);
                    var pw = Vector512.Exp(vNegBeta * l);
                    var dp = d * pw;
                    var r = dp * y / q;
                    a0 += d - dp;
                    a1 += r;
                    a2 += dp * l;
                    a3 -= r * Vector512.LoadUnsafe(ref rl, (nuint)j);
                }
                s0 = Vector512.Sum(a0); s1 = Vector512.Sum(a1); s2 = Vector512.Sum(a2); s3 = Vector512.Sum(a3);
            }
            else if (Vector256.IsHardwareAccelerated && m >= 8)
            {
                var vPt = Vector256.Create(pt1);
                var vC = Vector256.Create(c);
                var vNegBeta = Vector256.Create(-beta);
                var one = Vector256<double>.One;
                Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
                ref double rd = ref _d[0], rp = ref _pk[0], re = ref e[0], rl = ref _lnEta[0];
                for (; j <= m - 4; j += 4)
                {
                    var d = Vector256.LoadUnsafe(ref rd, (nuint)j);
                    var y = Vector256.LoadUnsafe(ref re, (nuint)j) * (vPt - Vector256.LoadUnsafe(ref rp, (nuint)j));
                    var q = one + vC * y;
                    var l = Vector256.Log(q);
                    var pw = Vector256.Exp(vNegBeta * l);
                    var dp = d * pw;
                    var r = dp * y / q;
                    a0 += d - dp;
                    a1 += r;
                    a2 += dp * l;
                    a3 -= r * Vector256.LoadUnsafe(ref rl, (nuint)j);
                }
                s0 = Vector256.Sum(a0); s1 = Vector256.Sum(a1); s2 = Vector256.Sum(a2); s3 = Vector256.Sum(a3);
            }
            for (; j < m; j++)
            {
                double d = _d[j], y = e[j] * (pt1 - _pk[j]), q = 1 + c * y, l = Math.Log(q), pw = Math.Exp(-beta * l);
                double dp = d * pw, r = dp * y / q;
                s0 += d - dp; s1 += r; s2 += dp * l; s3 -= r * _lnEta[j];
            }
            sums[4 * i] = s0; sums[4 * i + 1] = s1; sums[4 * i + 2] = s2; sums[4 * i + 3] = s3;
        }
    }
}
