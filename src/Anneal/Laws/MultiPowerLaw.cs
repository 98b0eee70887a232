using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Anneal.Fitting;
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
        new("A", 0, double.PositiveInfinity, "loss", "amplitude of the power law in LR area", new LrPower(0, Plus: 2)),
        new("alpha", 0, 5, "1", "exponent of the LR-area power law"),
        new("B", 0, double.PositiveInfinity, "loss/lr", "amplitude of the loss drop per unit LR decrease", new LrPower(-1)),
        new("C", 0, double.PositiveInfinity, "lr^(gamma-1)", "rate at which a decrease's benefit saturates", new LrPower(-1, Plus: 6)),
        new("beta", 0, 10, "1", "power of the saturation G(x) = 1 - (Cx+1)^-beta"),
        new("gamma", 0, 5, "1", "LR exponent inside G: eta_k^-gamma * S_k(t)"),
    ];

    public override string Name => "mpl";

    public override string Summary => "multi-power law (Luo et al. 2025): L0 + A*(S1+S_W)^-alpha - LD(t), 7 parameters";

    public override IReadOnlyList<LawParameter> Parameters => Params;

    public override SpecCall ToSpecCall() =>
        new SpecBuilder("mpl").WordIf("warmup", WarmupConventions.Name(Convention), "paper").Build();

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
        Convention == WarmupConvention.Reference ? Anneal.Fitting.FitMethod.EarlyStoppedAdamW : Anneal.Fitting.FitMethod.Optimum;

    public override LawState Prepare(LawRun run) => new State(run, Convention);

    public override IReadOnlyList<HeldParameter> NonIdentifiable(IReadOnlyList<LawState> runs)
    {
        if (runs.Any(r => EtaMath.HasDrop(r.Run.Eta))) return [];
        const string why = "no fitted run lowers its learning rate after the warmup, so the loss-drop term cannot be fitted; it is held at zero (B = 0) and predictions ignore LR decay";
        return [Held(3, 0, why), Held(4, 1, why), Held(5, 0.5, why), Held(6, 0.5, why)];
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

    /// <summary>
    /// Prepared run: the rate changes that enter LD (decrement d_k, prefix P[k], ln eta_k) and, per
    /// point, the LR area P[t+1] and how many changes precede it. Immutable after construction, so
    /// one state may be evaluated from several threads at once.
    /// </summary>
    internal sealed class State : LawState
    {
        /// <summary>Changes per work item: the unit of parallel work and of the fixed summation order.</summary>
        internal const int Chunk = 8192;

        private readonly double[] _pt1;      // P[t_i + 1]: the LR area up to and including step t_i
        // Per-change arrays come from the shared pool (a 100k-step prediction would otherwise allocate
        // 2.4 MB of large-object heap per call, which costs more than the math); only the first
        // _nPos entries are meaningful. Release() returns them.
        private double[] _d;                 // eta_{k-1} - eta_k at each change k with eta_k > 0
        private double[] _pk;                // P[k]
        private double[] _lnEta;             // ln eta_k
        private readonly int _nPos;
        private bool _released;
        private readonly int[] _upTo;        // changes with k <= t_i: _d[0.._upTo[i]]
        private readonly double[] _zeroD;    // changes to eta_k = 0: G = 1 whenever S_k(t) > 0
        private readonly double[] _zeroPk;
        private readonly long[] _zeroK;
        private readonly int[] _itemPoint;   // work item -> point; items of one point are consecutive
        private readonly int[] _itemStart;   // work item -> first change
        private readonly long _pairs;

        public State(LawRun run, WarmupConvention convention) : base(run)
        {
            var eta = run.Eta;
            int n = run.Count;
            long last = run.Steps[n - 1];
            // Only steps 0..last matter; a prefix from the pool (the 100k-step prediction path is
            // called in loops and a fresh 800 kB array per call costs more than the math).
            int len = checked((int)last + 1);
            var prefix = System.Buffers.ArrayPool<double>.Shared.Rent(len + 1);
            try
            {
                EtaMath.Prefix(eta.AsSpan(0, len), prefix.AsSpan(0, len + 1));
                int first = Math.Max(1, convention == WarmupConvention.Paper ? EtaMath.PeakIndex(eta) + 1 : 1);
                int nPos = 0, nZero = 0;
                for (int i = first; i < len; i++)
                {
                    if (eta[i - 1] == eta[i]) continue;
                    if (eta[i] > 0) nPos++; else nZero++;
                }
                var pool = System.Buffers.ArrayPool<double>.Shared;
                _nPos = nPos;
                _d = pool.Rent(Math.Max(1, nPos)); _pk = pool.Rent(Math.Max(1, nPos)); _lnEta = pool.Rent(Math.Max(1, nPos));
                _zeroD = new double[nZero]; _zeroPk = new double[nZero]; _zeroK = new long[nZero];
                var k = System.Buffers.ArrayPool<int>.Shared.Rent(Math.Max(1, nPos));
                int a = 0, z = 0;
                for (int i = first; i < len; i++)
                {
                    double diff = eta[i - 1] - eta[i];
                    if (diff == 0) continue;
                    if (eta[i] > 0) { _d[a] = diff; _pk[a] = prefix[i]; _lnEta[a] = eta[i]; k[a] = i; a++; }
                    else { _zeroD[z] = diff; _zeroPk[z] = prefix[i]; _zeroK[z] = i; z++; }
                }
                System.Numerics.Tensors.TensorPrimitives.Log(_lnEta.AsSpan(0, nPos), _lnEta.AsSpan(0, nPos));
                _pt1 = new double[n];
                _upTo = new int[n];
                int j = 0, items = 0;
                for (int i = 0; i < n; i++)
                {
                    long t = run.Steps[i];
                    _pt1[i] = prefix[t + 1];
                    while (j < nPos && k[j] <= t) j++;
                    _upTo[i] = j;
                    _pairs += j;
                    items += Math.Max(1, (j + Chunk - 1) / Chunk);
                }
                _itemPoint = new int[items]; _itemStart = new int[items];
                int it = 0;
                for (int i = 0; i < n; i++)
                    for (int s = 0; s == 0 || s < _upTo[i]; s += Chunk) { _itemPoint[it] = i; _itemStart[it] = s; it++; }
                System.Buffers.ArrayPool<int>.Shared.Return(k);
            }
            finally { System.Buffers.ArrayPool<double>.Shared.Return(prefix); }
        }

        /// <summary>Number of (point, change) pairs one evaluation visits.</summary>
        public long Pairs => _pairs;

        /// <summary>Number of steps where the rate changes and enters LD.</summary>
        public int Changes => _nPos + _zeroD.Length;

        /// <summary>Returns the pooled per-change arrays; the state must not be evaluated afterwards.</summary>
        internal override void Release()
        {
            if (_released) return;
            _released = true;
            var pool = System.Buffers.ArrayPool<double>.Shared;
            pool.Return(_d); pool.Return(_pk); pool.Return(_lnEta);
            _d = _pk = _lnEta = [];
        }

        /// <summary>Pairs above which one evaluation is split over the cores.</summary>
        internal const long ParallelPairs = 200_000;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jac)
        {
            double l0 = p[0], a = p[1], alpha = p[2], b = p[3], c = p[4], beta = p[5], gamma = p[6];
            int n = Run.Count, items = _itemPoint.Length;
            bool wantJ = !jac.IsEmpty;
            var pool = System.Buffers.ArrayPool<double>.Shared;
            // eta_k^-gamma once per parameter vector: O(changes), vectorised, not O(changes x points).
            ObjectDisposedException.ThrowIf(_released, this);
            var e = pool.Rent(Math.Max(1, _nPos));
            var sums = pool.Rent(4 * items);
            try
            {
                var es = e.AsSpan(0, _nPos);
                System.Numerics.Tensors.TensorPrimitives.Multiply(_lnEta.AsSpan(0, _nPos), -gamma, es);
                System.Numerics.Tensors.TensorPrimitives.Exp(es, es);
                if (_pairs > ParallelPairs && EvaluationParallelism.Allowed)
                {
                    var eArr = e; var sArr = sums;
                    Parallel.For(0, items, EvaluationParallelism.Options, w => Item(w, eArr, c, beta, sArr, wantJ));
                }
                else
                    for (int w = 0; w < items; w++) Item(w, e, c, beta, sums, wantJ);
                int item = 0;
                for (int i = 0; i < n; i++)
                {
                    // Partial sums of one point in item order: the same result on any number of threads.
                    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    for (; item < items && _itemPoint[item] == i; item++)
                    {
                        s0 += sums[4 * item]; s1 += sums[4 * item + 1]; s2 += sums[4 * item + 2]; s3 += sums[4 * item + 3];
                    }
                    double pt1 = _pt1[i];
                    long t = Run.Steps[i];
                    for (int z = 0; z < _zeroK.Length && _zeroK[z] <= t; z++)
                        if (pt1 - _zeroPk[z] > 0) s0 += _zeroD[z];
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
            finally { pool.Return(sums); pool.Return(e); }
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private void Item(int w, double[] e, double c, double beta, double[] sums, bool wantJ)
        {
            int i = _itemPoint[w], j0 = _itemStart[w], j1 = Math.Min(_upTo[i], j0 + Chunk);
            var o = sums.AsSpan(4 * w, 4);
            if (wantJ) MplKernel.Sums(_d, _pk, e, _lnEta, j0, j1, _pt1[i], c, beta, o);
            else { o[0] = MplKernel.Value(_d, _pk, e, j0, j1, _pt1[i], c, beta); o[1] = 0; o[2] = 0; o[3] = 0; }
        }
    }
}

/// <summary>
/// The loss-drop sums of the multi-power law over a range of rate changes, SIMD over changes.
/// With y_k = eta_k^-gamma (P_t - P_k), q = 1 + C y, p = q^-beta:
/// s0 = sum d (1 - p), s1 = sum d p y / q, s2 = sum d p ln q, s3 = -sum d p y / q ln eta_k;
/// then LD = B s0, dLD/dC = B beta s1, dLD/dbeta = B s2, dLD/dgamma = B beta C s3.
/// Shared by the laws' evaluator and the design layer's final-loss objective.
/// </summary>
internal static class MplKernel
{
    /// <summary>
    /// s0 = sum_{j0 &lt;= k &lt; j1} d_k (1 - (1 + C e_k (pt - P_k))^-beta), bit for bit the s0 of
    /// <see cref="Sums"/> (same lanes, same order), so a fit sees the same objective whether or not
    /// it asked for derivatives.
    /// </summary>
    // AggressiveOptimization: compiled fully optimised on first use. Under tiered compilation a
    // short-lived CLI process would otherwise run the first hundreds of milliseconds of a fit in
    // unoptimised code, where every Vector512 Log/Exp is a call.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static double Value(double[] dArr, double[] pkArr, double[] eArr, int j0, int j1, double pt, double c, double beta)
    {
        double s0 = 0;
        int j = j0;
        if (Vector512.IsHardwareAccelerated && j1 - j0 >= 16)
        {
            var vPt = Vector512.Create(pt); var vC = Vector512.Create(c); var vNegBeta = Vector512.Create(-beta);
            Vector512<double> a0 = default;
            ref double rd = ref dArr[0], rp = ref pkArr[0], re = ref eArr[0];
            for (; j <= j1 - 8; j += 8)
            {
                var d = Vector512.LoadUnsafe(ref rd, (nuint)j);
                var q = Vector512<double>.One + vC * (Vector512.LoadUnsafe(ref re, (nuint)j) * (vPt - Vector512.LoadUnsafe(ref rp, (nuint)j)));
                a0 += d - d * Vector512.Exp(vNegBeta * Vector512.Log(q));
            }
            s0 = Vector512.Sum(a0);
        }
        else if (Vector256.IsHardwareAccelerated && j1 - j0 >= 8)
        {
            var vPt = Vector256.Create(pt); var vC = Vector256.Create(c); var vNegBeta = Vector256.Create(-beta);
            Vector256<double> a0 = default;
            ref double rd = ref dArr[0], rp = ref pkArr[0], re = ref eArr[0];
            for (; j <= j1 - 4; j += 4)
            {
                var d = Vector256.LoadUnsafe(ref rd, (nuint)j);
                var q = Vector256<double>.One + vC * (Vector256.LoadUnsafe(ref re, (nuint)j) * (vPt - Vector256.LoadUnsafe(ref rp, (nuint)j)));
                a0 += d - d * Vector256.Exp(vNegBeta * Vector256.Log(q));
            }
            s0 = Vector256.Sum(a0);
        }
        for (; j < j1; j++)
        {
            double d = dArr[j], q = 1 + c * (eArr[j] * (pt - pkArr[j]));
            s0 += d - d * Math.Exp(-beta * Math.Log(q));
        }
        return s0;
    }

    /// <summary>The four sums s0..s3 over changes j0 &lt;= k &lt; j1, written to <paramref name="o"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Sums(double[] dArr, double[] pkArr, double[] eArr, double[] lnEta, int j0, int j1, double pt, double c, double beta, Span<double> o)
    {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int j = j0;
        if (Vector512.IsHardwareAccelerated && j1 - j0 >= 16)
        {
            var vPt = Vector512.Create(pt);
            var vC = Vector512.Create(c);
            var vNegBeta = Vector512.Create(-beta);
            var one = Vector512<double>.One;
            Vector512<double> a0 = default, a1 = default, a2 = default, a3 = default;
            ref double rd = ref dArr[0], rp = ref pkArr[0], re = ref eArr[0], rl = ref lnEta[0];
            for (; j <= j1 - 8; j += 8)
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
        else if (Vector256.IsHardwareAccelerated && j1 - j0 >= 8)
        {
            var vPt = Vector256.Create(pt);
            var vC = Vector256.Create(c);
            var vNegBeta = Vector256.Create(-beta);
            var one = Vector256<double>.One;
            Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
            ref double rd = ref dArr[0], rp = ref pkArr[0], re = ref eArr[0], rl = ref lnEta[0];
            for (; j <= j1 - 4; j += 4)
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
        for (; j < j1; j++)
        {
            double d = dArr[j], y = eArr[j] * (pt - pkArr[j]), q = 1 + c * y, l = Math.Log(q), pw = Math.Exp(-beta * l);
            double dp = d * pw, r = dp * y / q;
            s0 += d - dp; s1 += r; s2 += dp * l; s3 -= r * lnEta[j];
        }
        o[0] = s0; o[1] = s1; o[2] = s2; o[3] = s3;
    }
}

/// <summary>
/// Whether a law evaluation may split itself over the cores. Callers that already run independent
/// evaluations in parallel (jackknife refits, screened starts, prediction replicates) mark their
/// workers with <see cref="Sequential"/> so the evaluations inside stay on one thread each.
/// </summary>
internal static class EvaluationParallelism
{
    [ThreadStatic] private static int t_depth;

    public static ParallelOptions Options { get; } = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    /// <summary>True when this thread is not already one worker of an outer parallel loop.</summary>
    public static bool Allowed => t_depth == 0 && Environment.ProcessorCount > 1;

    /// <summary>Marks the current thread as an outer worker until disposed.</summary>
    public static Scope Sequential() { t_depth++; return new Scope(true); }

    /// <summary>Ends a <see cref="Sequential"/> region; a default instance does nothing.</summary>
    public readonly struct Scope(bool active) : IDisposable
    {
        public void Dispose() { if (active) t_depth--; }
    }
}
