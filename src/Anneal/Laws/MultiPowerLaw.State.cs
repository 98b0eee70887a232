namespace Anneal.Laws;

public sealed partial record MultiPowerLaw
{
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
        private readonly double[]? _lnProgress; // ln sum_{tau<=t_i} peak (eta_tau/peak)^P, the power-law term's clock when P != 1
        // area=fit (P is p[7]): ln(eta_tau / peak) of every step with a positive rate up to the last point, and how many
        // of them precede each point; the progress sum and its derivative in P are summed per evaluation.
        private readonly double[]? _lnRatio;
        private readonly int[]? _ratioUpTo;
        private readonly double _peak;
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

        /// <summary>
        /// With continuous drops, the largest ratio eta_(k-1) / eta_k of one piece: a larger decrease is cut into geometric
        /// pieces of at most this ratio, each entering LD at its midpoint rate (the midpoint rule for the integral over the
        /// rates it crosses; relative error of order (ln ratio)^2 / 24 per piece, below 1e-4).
        /// </summary>
        internal const double MaxPieceRatio = 1.02;

        /// <summary>How many pieces a decrease from <paramref name="from"/> to <paramref name="to"/> is cut into (1: none).</summary>
        internal static int Pieces(double from, double to) =>
            from > to * MaxPieceRatio ? (int)Math.Ceiling(Math.Log(from / to) / Math.Log(MaxPieceRatio)) : 1;

        /// <summary>
        /// Edge <paramref name="j"/> (0..<paramref name="m"/>) of the geometric pieces of a decrease from <paramref name="from"/>
        /// to <paramref name="to"/>: <c>to r^j</c>, r = (from / to)^(1/m), <paramref name="lnR"/> = ln r; edge 0 is <c>to</c>
        /// and edge m is <c>from</c> exactly. The laws layer and schedule design (<see cref="MplFinalLoss"/>) cut a drop here alike.
        /// </summary>
        internal static double PieceEdge(double from, double to, double lnR, int m, int j) =>
            j == 0 ? to : j == m ? from : to * Math.Exp(j * lnR);

        /// <summary>
        /// Cuts a decrease from <paramref name="from"/> to <paramref name="to"/> into its <see cref="Pieces"/> geometric pieces
        /// (edges <see cref="PieceEdge"/>): each piece's decrement into <paramref name="d"/> and its midpoint rate into
        /// <paramref name="mid"/>; returns how many. The laws layer and schedule design (<see cref="MplFinalLoss"/>) enter a
        /// cut decrease into LD as these changes alike.
        /// </summary>
        internal static int CutPieces(double from, double to, Span<double> d, Span<double> mid)
        {
            int m = Pieces(from, to);
            double lnR = Math.Log(from / to) / m, lo = to;
            for (int q = 0; q < m; q++)
            {
                double hi = PieceEdge(from, to, lnR, m, q + 1);
                d[q] = hi - lo; mid[q] = 0.5 * (lo + hi);
                lo = hi;
            }
            return m;
        }

        /// <summary>
        /// Largest LR-area span of one fit node (<see cref="FitNodes"/>) as a fraction of the LR area from its last change to
        /// the first point after it.
        /// </summary>
        internal const double NodeSpan = 0.1;

        /// <summary>
        /// Prepares <paramref name="run"/>; <paramref name="areaPower"/> NaN: the power is the fitted eighth parameter;
        /// <paramref name="continuousDrops"/>: <see cref="MultiPowerLaw.ContinuousDrops"/>; with continuous drops and at least
        /// <paramref name="nodesFromPairs"/> (point, change) pairs change by change, LD by <see cref="FitNodes"/>' quadrature at
        /// the run's points instead (the default: never).
        /// </summary>
        public State(LawRun run, WarmupConvention convention, double areaPower = 1, bool continuousDrops = false, long nodesFromPairs = long.MaxValue) : base(run)
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
                    if (eta[i] > 0) nPos += continuousDrops ? Pieces(eta[i - 1], eta[i]) : 1; else nZero++;
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
                    int m = continuousDrops && eta[i] > 0 ? Pieces(eta[i - 1], eta[i]) : 1;
                    if (m > 1)
                    {
                        // Geometric pieces, each at its midpoint rate, all on this step's clock.
                        CutPieces(eta[i - 1], eta[i], _d.AsSpan(a, m), _lnEta.AsSpan(a, m));
                        _pk.AsSpan(a, m).Fill(prefix[i]);
                        k.AsSpan(a, m).Fill(i);
                        a += m;
                    }
                    else if (eta[i] > 0) { _d[a] = diff; _pk[a] = prefix[i]; _lnEta[a] = eta[i]; k[a] = i; a++; }
                    else { _zeroD[z] = diff; _zeroPk[z] = prefix[i]; _zeroK[z] = i; z++; }
                }
                // The kernel's own log: the same bits on every vector width (MplKernel).
                MplKernel.Log(_lnEta.AsSpan(0, nPos), _lnEta.AsSpan(0, nPos));
                if (continuousDrops && nodesFromPairs < long.MaxValue && PairCount(run, k, nPos) >= nodesFromPairs)
                    _nPos = nPos = FitNodes(run, prefix, _d, _pk, _lnEta, k, nPos);
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
                if (double.IsNaN(areaPower))
                {
                    for (int t = 0; t < len; t++) _peak = Math.Max(_peak, eta[t]);
                    int m = 0;
                    for (int t = 0; t < len; t++) if (eta[t] > 0) m++;
                    _lnRatio = new double[m];
                    _ratioUpTo = new int[n];
                    for (int t = 0, q = 0, p = 0; t < len && p < n; t++)
                    {
                        if (eta[t] > 0) _lnRatio[q++] = Math.Log(eta[t] / _peak);
                        while (p < n && run.Steps[p] == t) _ratioUpTo[p++] = q;
                    }
                }
                else if (areaPower != 1)
                {
                    // The power-law term's clock: each step adds peak (eta / peak)^P (a step at the peak adds its rate, as the area does).
                    double peak = 0, sum = 0;
                    for (int t = 0; t < len; t++) peak = Math.Max(peak, eta[t]);
                    _lnProgress = new double[n];
                    for (int t = 0, p = 0; t < len && p < n; t++)
                    {
                        if (eta[t] > 0) sum += peak * Math.Pow(eta[t] / peak, areaPower);
                        while (p < n && run.Steps[p] == t) _lnProgress[p++] = Math.Log(sum);
                    }
                }
                _itemPoint = new int[items]; _itemStart = new int[items];
                int it = 0;
                for (int i = 0; i < n; i++)
                    for (int s = 0; s == 0 || s < _upTo[i]; s += Chunk) { _itemPoint[it] = i; _itemStart[it] = s; it++; }
                System.Buffers.ArrayPool<int>.Shared.Return(k);
            }
            finally { System.Buffers.ArrayPool<double>.Shared.Return(prefix); }
        }

        /// <summary>
        /// The fit's quadrature of LD with continuous drops (<see cref="MultiPowerLaw.PrepareForFit"/>): consecutive changes of
        /// one sign that no point separates become one node, their decrements summed, at their decrement-weighted mean LR area
        /// P and mean ln eta (the midpoint rule of the integral over the rates and steps they span, as a cut drop's pieces are
        /// at their midpoint rates), as long as the node's rates stay within <see cref="MaxPieceRatio"/> of each other and its
        /// area span is at most <see cref="NodeSpan"/> of the area from its last change to the next point. The node's error is
        /// then second order: G's curvature times (span / distance)^2 / 24 of the node's own term for the nearest point, less
        /// for every later one, and of the order of the cut pieces' own midpoint error. On the published 400M split's three runs:
        /// 4.8 times fewer (point, change) pairs; at three parameter vectors along the reference fit's path, LD within 2.1e-5 of
        /// its largest size (the loss within 2.5e-6, for losses of 2.9-3.6), the drop term's derivatives within 8e-5
        /// (MplFitNodesTests; a span of 0.25 gave 7.8 times fewer pairs and 3 times the error). Returns the number of nodes
        /// (written over the first entries of the arrays).
        /// </summary>
        private static int FitNodes(LawRun run, double[] prefix, double[] d, double[] pk, double[] lnEta, int[] k, int nPos)
        {
            // The limits widened by 1e-9: regular schedules meet them exactly (a linear warmup's rates 50 and 51, a constant
            // rate's span of one step against ten), and rounding, which differs with the LR's unit, would decide such a tie
            // one way in one unit and the other way in another, giving another objective (by the node's quadrature error,
            // ~1e-6) and, on a chaotic early-stopped path, another fit (MplFewPointsTests' LR-unit check).
            const double slack = 1e-9;
            double maxLnRatio = Math.Log(MaxPieceRatio) + slack, span = NodeSpan * (1 + slack);
            var steps = run.Steps;
            int w = 0, p = 0;
            for (int r = 0; r < nPos;)
            {
                while (steps[p] < k[r]) p++;
                long next = steps[p];
                double reach = prefix[next + 1];
                double lo = lnEta[r], hi = lo;
                int end = r + 1;
                for (; end < nPos && k[end] <= next && (d[end] > 0) == (d[r] > 0); end++)
                {
                    double nlo = Math.Min(lo, lnEta[end]), nhi = Math.Max(hi, lnEta[end]);
                    if (nhi - nlo > maxLnRatio || pk[end] - pk[r] > span * (reach - pk[end])) break;
                    (lo, hi) = (nlo, nhi);
                }
                if (end == r + 1) { d[w] = d[r]; pk[w] = pk[r]; lnEta[w] = lnEta[r]; }
                else
                {
                    // Areas relative to the first change's: P is thousands of rates, a node's span a few.
                    double sd = 0, sp = 0, sl = 0, p0 = pk[r];
                    for (int j = r; j < end; j++) { sd += d[j]; sp += d[j] * (pk[j] - p0); sl += d[j] * lnEta[j]; }
                    d[w] = sd; pk[w] = p0 + sp / sd; lnEta[w] = sl / sd;
                }
                k[w] = k[end - 1];
                w++; r = end;
            }
            return w;
        }

        // Pairs of points and the changes (at steps k[0..nPos), ascending) at or before them.
        private static long PairCount(LawRun run, int[] k, int nPos)
        {
            long pairs = 0;
            for (int i = 0, j = 0; i < run.Count; i++)
            {
                while (j < nPos && k[j] <= run.Steps[i]) j++;
                pairs += j;
            }
            return pairs;
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

        public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jac)
        {
            double l0 = p[0], a = p[1], alpha = p[2], b = p[3], c = p[4], beta = p[5], gamma = p[6];
            int n = Run.Count, items = _itemPoint.Length, np = _lnRatio is null ? 7 : 8;
            bool wantJ = !jac.IsEmpty;
            var pool = System.Buffers.ArrayPool<double>.Shared;
            // eta_k^-gamma once per parameter vector: O(changes), vectorised, not O(changes x points).
            ObjectDisposedException.ThrowIf(_released, this);
            // The kernel's exp does not carry a NaN through: a NaN gamma gives NaN here, as Math.Exp would there.
            if (!double.IsFinite(gamma)) { loss.Fill(double.NaN); jac.Fill(double.NaN); return; }
            var e = pool.Rent(Math.Max(1, _nPos));
            var sums = pool.Rent(4 * items);
            // area=fit: per point, ln X (X = sum peak (eta/peak)^P) and d ln X / dP.
            var lnX = _lnRatio is null ? null : pool.Rent(2 * n);
            try
            {
                if (lnX is not null) ProgressSums(p[7], lnX);
                var es = e.AsSpan(0, _nPos);
                MplKernel.ScaledExp(_lnEta.AsSpan(0, _nPos), -gamma, es);
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
                    double lnXi = lnX is not null ? lnX[2 * i] : _lnProgress is null ? Math.Log(pt1) : _lnProgress[i], pw = Math.Exp(-alpha * lnXi);
                    loss[i] = l0 + a * pw - b * s0;
                    if (!wantJ) continue;
                    var row = jac.Slice(np * i, np);
                    if (lnX is not null) row[7] = -a * alpha * pw * lnX[2 * i + 1];
                    row[0] = 1;
                    row[1] = pw;
                    row[2] = -a * pw * lnXi;
                    row[3] = -s0;
                    row[4] = -b * beta * s1;
                    row[5] = -b * s2;
                    row[6] = -b * beta * c * s3;
                }
            }
            finally { pool.Return(sums); pool.Return(e); if (lnX is not null) pool.Return(lnX); }
        }

        // X_i = sum_{tau<=t_i, eta_tau>0} peak exp(P ln(eta_tau/peak)): o[2i] = ln X_i, o[2i+1] = (dX_i/dP) / X_i.
        private void ProgressSums(double power, double[] o)
        {
            double x = 0, dx = 0;
            for (int i = 0, q = 0; i < Run.Count; i++)
            {
                for (; q < _ratioUpTo![i]; q++)
                {
                    double r = _lnRatio![q], v = _peak * Math.Exp(power * r);
                    x += v; dx += v * r;
                }
                o[2 * i] = Math.Log(x);
                o[2 * i + 1] = dx / x;
            }
        }

        private void Item(int w, double[] e, double c, double beta, double[] sums, bool wantJ)
        {
            int i = _itemPoint[w], j0 = _itemStart[w], j1 = Math.Min(_upTo[i], j0 + Chunk);
            var o = sums.AsSpan(4 * w, 4);
            if (wantJ) MplKernel.Sums(_d, _pk, e, _lnEta, j0, j1, _pt1[i], c, beta, o);
            else { o[0] = MplKernel.Value(_d, _pk, e, j0, j1, _pt1[i], c, beta); o[1] = 0; o[2] = 0; o[3] = 0; }
        }
    }
}
