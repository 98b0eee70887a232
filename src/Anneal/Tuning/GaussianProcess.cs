using System.Numerics.Tensors;
using Anneal.Optimization;

namespace Anneal.Tuning;

/// <summary>
/// Hyperparameters of <see cref="GaussianProcess"/>, all as natural logarithms: one length scale per input
/// dimension (ARD), or per group of dimensions when the model ties them (a categorical's one-hot block), the signal
/// variance and the noise variance, in units of the standardised targets.
/// </summary>
public sealed record GpHyperparameters(double[] LogLengthScales, double LogSignalVariance, double LogNoiseVariance)
{
    /// <summary>Packed as θ = (log ℓ_1..log ℓ_d, log s², log σ²), the order of the marginal-likelihood gradient.</summary>
    public double[] Pack() => [.. LogLengthScales, LogSignalVariance, LogNoiseVariance];

    /// <summary>Inverse of <see cref="Pack"/>.</summary>
    public static GpHyperparameters Unpack(ReadOnlySpan<double> theta) => new(theta[..^2].ToArray(), theta[^2], theta[^1]);
}

/// <summary>
/// A Gaussian-process regression model with the Matérn-5/2 ARD kernel
/// k(x, x') = s² (1 + √5 r + 5r²/3) exp(−√5 r), r² = Σ_i (x_i − x'_i)² / ℓ_i², and Gaussian observation noise σ²
/// (Rasmussen &amp; Williams 2006, eqs. 2.25-2.26, 4.17, 5.8-5.9). Dimensions may share a length scale (groups): a
/// categorical parameter's one-hot block has one, so that its kernel depends only on whether two choices are equal
/// (the Hamming-distance treatment of categoricals) and a few points can teach it that the choice matters little,
/// where one length scale per column leaves every untried choice at its prior. Targets are standardised (mean 0, variance 1)
/// before fitting; predictions are returned in the original units. Hyperparameters maximise the log marginal
/// likelihood plus weak log-normal priors (MAP), by multi-start box-constrained L-BFGS.
/// </summary>
public sealed class GaussianProcess
{
    private static readonly double Sqrt5 = Math.Sqrt(5);

    // Box for θ: length scales from 1% to 20x the unit cube, signal from 0.05 to 20 standardised variances, noise
    // from 1e-6 (interpolation) to 1 (all noise). Inside it the priors below do the regularising.
    internal const double MinLogLength = -4.6, MaxLogLength = 3.0, MinLogSignal = -3.0, MaxLogSignal = 3.0, MinLogNoise = -13.8, MaxLogNoise = 0.0;

    // Weak priors (log-normal, i.e. normal on θ): length scale around 0.5 of the cube (sd 1.5 in log), signal
    // variance around 1 (sd 1.5), noise variance around 1e-3 (sd 3). Without them a handful of points is fitted by
    // vanishing length scales (a GP that interpolates noise); with them ten points behave.
    internal static readonly (double Mean, double Sd) LengthPrior = (Math.Log(0.5), 1.5), SignalPrior = (0, 1.5), NoisePrior = (Math.Log(1e-3), 3);

    private readonly double[] _x; // n x d, row-major
    private readonly double[] _l; // n x n lower Cholesky factor of K + σ²I
    private readonly double[] _alpha; // (K + σ²I)^-1 y
    private readonly double[] _invLength2; // 1/ℓ_i² per input dimension (a group's scale repeated over its dimensions)
    private readonly double _signal;
    private readonly int[]? _groups;

    /// <summary>Number of training points.</summary>
    public int Count { get; }

    /// <summary>Input dimension.</summary>
    public int Dimension { get; }

    /// <summary>The fitted (or given) hyperparameters.</summary>
    public GpHyperparameters Hyperparameters { get; }

    /// <summary>Mean of the raw targets (the standardisation offset).</summary>
    public double YMean { get; }

    /// <summary>Standard deviation of the raw targets (the standardisation scale; 1 when they are all equal).</summary>
    public double YScale { get; }

    /// <summary>The standardised training targets.</summary>
    public IReadOnlyList<double> StandardisedY { get; }

    /// <summary>The training inputs, row-major.</summary>
    internal ReadOnlySpan<double> X => _x;

    private GaussianProcess(double[] x, int n, int d, double[] ys, double yMean, double yScale, GpHyperparameters h, int[]? groups)
    {
        _x = x; Count = n; Dimension = d; YMean = yMean; YScale = yScale; Hyperparameters = h; StandardisedY = ys; _groups = groups;
        _invLength2 = Enumerable.Range(0, d).Select(i => Math.Exp(-2 * h.LogLengthScales[groups?[i] ?? i])).ToArray();
        _signal = Math.Exp(h.LogSignalVariance);
        _l = new double[n * n];
        FillKernel(_x, n, d, _invLength2, _signal, Math.Exp(h.LogNoiseVariance), _l);
        CholeskyWithJitter(_l, n);
        _alpha = (double[])ys.Clone();
        SolveLower(_l, n, _alpha);
        SolveUpper(_l, n, _alpha);
    }

    /// <summary>
    /// A model with given hyperparameters (no fitting): the closed-form posterior of Rasmussen &amp; Williams eq. 2.25-2.26
    /// on the standardised targets. <paramref name="groups"/> as in <see cref="Fit"/>.
    /// </summary>
    public static GaussianProcess WithHyperparameters(double[][] x, double[] y, GpHyperparameters h, IReadOnlyList<int>? groups = null)
    {
        var (flat, n, d) = Flatten(x);
        var (ys, mean, scale) = Standardise(y);
        var g = CheckGroups(groups, d);
        if (h.LogLengthScales.Length != (g is null ? d : g.Max() + 1)) throw new ArgumentException("one length scale per group (per dimension without groups)");
        return new GaussianProcess(flat, n, d, ys, mean, scale, h, g);
    }

    /// <summary>Validates a dimension-to-group map: one entry per dimension, groups numbered 0..G-1 with none empty.</summary>
    private static int[]? CheckGroups(IReadOnlyList<int>? groups, int d)
    {
        if (groups is null) return null;
        if (groups.Count != d) throw new ArgumentException($"groups has {groups.Count} entries for {d} dimensions");
        int g = groups.Max() + 1;
        if (groups.Any(x => x < 0) || Enumerable.Range(0, g).Any(k => !groups.Contains(k))) throw new ArgumentException("groups must number 0..G-1, each used");
        return [.. groups];
    }

    /// <summary>
    /// Fits hyperparameters by maximising the log marginal likelihood plus the priors, from <paramref name="starts"/>
    /// starting points: <paramref name="warm"/> (the previous fit, when given) and the prior means, then random points
    /// of the box. Returns the model at the best optimum found. <paramref name="groups"/> (optional, one entry per
    /// input dimension) gives the length scale each dimension uses: dimensions of one group share it.
    /// </summary>
    public static GaussianProcess Fit(double[][] x, double[] y, int starts = 3, GpHyperparameters? warm = null, int seed = 0, int maxIterations = 60, IReadOnlyList<int>? groups = null)
    {
        var (flat, n, dims) = Flatten(x);
        var (ys, mean, scale) = Standardise(y);
        var g = CheckGroups(groups, dims);
        int d = g is null ? dims : g.Max() + 1; // number of length scales
        var lml = new MarginalLikelihood(flat, n, dims, ys, g);
        var lower = new double[d + 2];
        var upper = new double[d + 2];
        for (int i = 0; i < d; i++) { lower[i] = MinLogLength; upper[i] = MaxLogLength; }
        lower[d] = MinLogSignal; upper[d] = MaxLogSignal; lower[d + 1] = MinLogNoise; upper[d + 1] = MaxLogNoise;
        var rng = new Random(seed);
        var initial = new List<double[]>();
        if (warm is not null && warm.LogLengthScales.Length == d) initial.Add(warm.Pack());
        initial.Add([.. Enumerable.Repeat(LengthPrior.Mean, d), SignalPrior.Mean, NoisePrior.Mean]);
        while (initial.Count < Math.Max(1, starts))
            initial.Add(Enumerable.Range(0, d + 2).Select(i => lower[i] + rng.NextDouble() * (upper[i] - lower[i])).ToArray());
        var options = new LbfgsOptions(Memory: 8, MaxIterations: maxIterations, ProjectedGradientTolerance: 1e-5, RelativeTolerance: 1e-9, Patience: 3, FirstStep: 0.5, ToleranceFloor: 1);
        double[]? best = null;
        double bestValue = double.PositiveInfinity;
        foreach (var x0 in initial.Take(Math.Max(1, starts)))
        {
            LbfgsResult r;
            try { r = ProjectedLbfgs.Minimize((t, g) => lml.PosteriorObjective(t, g, negate: true), x0, lower, upper, options); }
            catch (ArgumentException) { continue; } // not finite at this start (a singular K); the others decide
            if (r.Value < bestValue) { bestValue = r.Value; best = r.X; }
        }
        best ??= initial[0];
        return new GaussianProcess(flat, n, dims, ys, mean, scale, GpHyperparameters.Unpack(best), g);
    }

    /// <summary>
    /// The log marginal likelihood log p(y | X, θ) of standardised targets <paramref name="ys"/> and its gradient in θ
    /// (Rasmussen &amp; Williams eqs. 5.8-5.9); public for the finite-difference test.
    /// </summary>
    public static double LogMarginalLikelihood(double[][] x, double[] ys, ReadOnlySpan<double> theta, Span<double> gradient, IReadOnlyList<int>? groups = null)
    {
        var (flat, n, d) = Flatten(x);
        return new MarginalLikelihood(flat, n, d, ys, CheckGroups(groups, d)).Value(theta, gradient);
    }

    /// <summary>Posterior mean and variance of the latent function at <paramref name="x"/>, in the targets' original units.</summary>
    public (double Mean, double Variance) Predict(ReadOnlySpan<double> x)
    {
        Span<double> k = Count <= 512 ? stackalloc double[Count] : new double[Count];
        var (m, v) = PredictStandardised(x, k);
        return (YMean + YScale * m, YScale * YScale * v);
    }

    /// <summary>
    /// Posterior mean and variance at <paramref name="x"/> in standardised units; <paramref name="work"/> (length
    /// <see cref="Count"/>) receives L^-1 k*, reused by noisy EI.
    /// </summary>
    internal (double Mean, double Variance) PredictStandardised(ReadOnlySpan<double> x, Span<double> work)
    {
        int n = Count, d = Dimension;
        for (int i = 0; i < n; i++) work[i] = Kernel(x, _x.AsSpan(i * d, d), _invLength2, _signal);
        double mean = TensorPrimitives.Dot<double>(work, _alpha);
        SolveLower(_l, n, work);
        double variance = _signal - TensorPrimitives.Dot<double>(work, work);
        return (mean, Math.Max(variance, 1e-12 * _signal));
    }

    /// <summary>Kernel between a point and training point <paramref name="i"/> (standardised signal units).</summary>
    internal double KernelTo(ReadOnlySpan<double> x, int i) => Kernel(x, _x.AsSpan(i * Dimension, Dimension), _invLength2, _signal);

    /// <summary>Signal variance s² (standardised units).</summary>
    internal double Signal => _signal;

    /// <summary>Noise variance σ² (standardised units).</summary>
    internal double Noise => Math.Exp(Hyperparameters.LogNoiseVariance);

    /// <summary>Lower Cholesky factor of K + σ²I (row-major n x n).</summary>
    internal ReadOnlySpan<double> Cholesky => _l;

    /// <summary>A model with the same hyperparameters and standardisation and one more (x, y) point: the kriging believer's fantasy.</summary>
    public GaussianProcess With(ReadOnlySpan<double> x, double y)
    {
        int n = Count, d = Dimension;
        var flat = new double[(n + 1) * d];
        _x.CopyTo(flat, 0);
        x.CopyTo(flat.AsSpan(n * d));
        var ys = new double[n + 1];
        for (int i = 0; i < n; i++) ys[i] = StandardisedY[i];
        ys[n] = (y - YMean) / YScale;
        return new GaussianProcess(flat, n + 1, d, ys, YMean, YScale, Hyperparameters, _groups);
    }

    private static double Kernel(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> invLength2, double signal)
    {
        double r2 = 0;
        for (int i = 0; i < a.Length; i++) { double t = a[i] - b[i]; r2 += t * t * invLength2[i]; }
        double r = Math.Sqrt(r2);
        return signal * (1 + Sqrt5 * r + 5.0 / 3.0 * r2) * Math.Exp(-Sqrt5 * r);
    }

    private static void FillKernel(double[] x, int n, int d, double[] invLength2, double signal, double noise, double[] k)
    {
        for (int i = 0; i < n; i++)
        {
            k[i * n + i] = signal + noise;
            for (int j = 0; j < i; j++)
                k[i * n + j] = k[j * n + i] = Kernel(x.AsSpan(i * d, d), x.AsSpan(j * d, d), invLength2, signal);
        }
    }

    private static (double[] Flat, int N, int D) Flatten(double[][] x)
    {
        if (x.Length == 0) throw new ArgumentException("a Gaussian process needs at least one point");
        int d = x[0].Length;
        var flat = new double[x.Length * d];
        for (int i = 0; i < x.Length; i++) x[i].CopyTo(flat, i * d);
        return (flat, x.Length, d);
    }

    private static (double[] Ys, double Mean, double Scale) Standardise(double[] y)
    {
        double mean = y.Average();
        double sd = Math.Sqrt(y.Sum(v => (v - mean) * (v - mean)) / y.Length);
        if (!(sd > 1e-12 * Math.Max(1, Math.Abs(mean)))) sd = 1;
        return (y.Select(v => (v - mean) / sd).ToArray(), mean, sd);
    }

    /// <summary>In-place lower Cholesky of a row-major SPD matrix (upper triangle left as is); false when not positive definite.</summary>
    internal static bool TryCholesky(Span<double> a, int n)
    {
        for (int j = 0; j < n; j++)
        {
            var rowJ = a.Slice(j * n, j);
            double djj = a[j * n + j] - TensorPrimitives.Dot<double>(rowJ, rowJ);
            if (!(djj > 0)) return false;
            double ljj = Math.Sqrt(djj);
            a[j * n + j] = ljj;
            for (int i = j + 1; i < n; i++)
                a[i * n + j] = (a[i * n + j] - TensorPrimitives.Dot<double>(a.Slice(i * n, j), rowJ)) / ljj;
        }
        return true;
    }

    /// <summary>
    /// Cholesky of K, adding jitter (1e-10 up to 1e-2 of the mean diagonal) when rounding makes it indefinite, as GP
    /// libraries do; the caller's matrix is restored from its upper triangle before each retry.
    /// </summary>
    internal static void CholeskyWithJitter(double[] k, int n)
    {
        var diag = new double[n];
        for (int i = 0; i < n; i++) diag[i] = k[i * n + i];
        double scale = diag.Average();
        for (double jitter = 0; ; jitter = jitter == 0 ? 1e-10 * scale : jitter * 10)
        {
            if (jitter > 1e-2 * scale) throw new InvalidOperationException("kernel matrix is not positive definite even with jitter");
            for (int i = 0; i < n; i++)
            {
                k[i * n + i] = diag[i] + jitter;
                for (int j = 0; j < i; j++) k[i * n + j] = k[j * n + i];
            }
            if (TryCholesky(k, n)) return;
        }
    }

    /// <summary>Solves L z = b in place (L lower, row-major).</summary>
    internal static void SolveLower(ReadOnlySpan<double> l, int n, Span<double> b)
    {
        for (int i = 0; i < n; i++)
            b[i] = (b[i] - TensorPrimitives.Dot<double>(l.Slice(i * n, i), b[..i])) / l[i * n + i];
    }

    /// <summary>Solves Lᵀ z = b in place (L lower, row-major).</summary>
    internal static void SolveUpper(ReadOnlySpan<double> l, int n, Span<double> b)
    {
        for (int i = n - 1; i >= 0; i--)
        {
            b[i] /= l[i * n + i];
            double bi = b[i];
            for (int j = 0; j < i; j++) b[j] -= l[i * n + j] * bi;
        }
    }

    /// <summary>
    /// The log marginal likelihood and its gradient for one data set, with the pairwise squared differences
    /// precomputed once per fit (they do not depend on θ).
    /// </summary>
    private sealed class MarginalLikelihood
    {
        private readonly int _n, _d, _g; // points, input dimensions, length scales
        private readonly int[]? _groups;
        private readonly double[] _y;
        private readonly double[] _diff2; // (i, j < i, dim) squared differences, packed lower triangle
        private readonly double[] _k, _inv, _r;

        public MarginalLikelihood(double[] x, int n, int d, double[] y, int[]? groups)
        {
            _n = n; _d = d; _y = y; _groups = groups; _g = groups is null ? d : groups.Max() + 1;
            _diff2 = new double[n * (n - 1) / 2 * d];
            int p = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < i; j++)
                    for (int k = 0; k < d; k++) { double t = x[i * d + k] - x[j * d + k]; _diff2[p++] = t * t; }
            _k = new double[n * n];
            _inv = new double[n * n];
            _r = new double[n * (n - 1) / 2];
        }

        /// <summary>Log marginal likelihood plus log priors (negated when asked), gradient written with the same sign.</summary>
        public double PosteriorObjective(ReadOnlySpan<double> theta, Span<double> gradient, bool negate)
        {
            double v = Value(theta, gradient);
            if (!double.IsFinite(v)) return negate ? double.PositiveInfinity : double.NaN; // the line search steps back from +inf
            for (int i = 0; i < theta.Length; i++)
            {
                var (m, s) = i < _g ? LengthPrior : i == _g ? SignalPrior : NoisePrior;
                v += -0.5 * (theta[i] - m) * (theta[i] - m) / (s * s);
                gradient[i] += -(theta[i] - m) / (s * s);
            }
            if (negate) for (int i = 0; i < gradient.Length; i++) gradient[i] = -gradient[i];
            return negate ? -v : v;
        }

        public double Value(ReadOnlySpan<double> theta, Span<double> gradient)
        {
            int n = _n, d = _d, g = _g;
            Span<double> invL2 = stackalloc double[d];
            for (int k = 0; k < d; k++) invL2[k] = Math.Exp(-2 * theta[_groups?[k] ?? k]);
            double s2 = Math.Exp(theta[g]), noise = Math.Exp(theta[g + 1]);
            var k_ = _k;
            int p = 0, q = 0;
            for (int i = 0; i < n; i++)
            {
                k_[i * n + i] = s2 + noise;
                for (int j = 0; j < i; j++, q++)
                {
                    double r2 = 0;
                    for (int k = 0; k < d; k++) r2 += _diff2[p++] * invL2[k];
                    double r = Math.Sqrt(r2);
                    _r[q] = r;
                    k_[i * n + j] = k_[j * n + i] = s2 * (1 + Sqrt5 * r + 5.0 / 3.0 * r2) * Math.Exp(-Sqrt5 * r);
                }
            }
            if (!TryCholesky(k_, n)) { gradient.Clear(); return double.NaN; }
            // α = K^-1 y; log|K| = 2 Σ log L_ii.
            var alpha = (double[])_y.Clone();
            SolveLower(k_, n, alpha);
            double quad = TensorPrimitives.Dot<double>(alpha, alpha);
            SolveUpper(k_, n, alpha);
            double logDet = 0;
            for (int i = 0; i < n; i++) logDet += Math.Log(k_[i * n + i]);
            double value = -0.5 * quad - logDet - 0.5 * n * Math.Log(2 * Math.PI);

            // K^-1 = L^-T L^-1: U = L^-T stored row-major (upper), then (K^-1)_ij = Σ_{m >= max(i,j)} U_im U_jm.
            var u = _inv;
            Array.Clear(u);
            Span<double> e = n <= 512 ? stackalloc double[n] : new double[n];
            for (int c = 0; c < n; c++)
            {
                e.Clear();
                e[c] = 1;
                for (int i = c; i < n; i++)
                {
                    double sum = e[i] - TensorPrimitives.Dot<double>(k_.AsSpan(i * n + c, i - c), e.Slice(c, i - c));
                    e[i] = sum / k_[i * n + i];
                }
                for (int i = c; i < n; i++) u[c * n + i] = e[i]; // row c of U = column c of L^-1
            }
            // W = ααᵀ − K^-1 on the lower triangle (the gradient only needs i > j and the diagonal).
            gradient.Clear();
            double traceDiag = 0; // Σ_i W_ii
            for (int i = 0; i < n; i++)
            {
                double kinvII = TensorPrimitives.Dot<double>(u.AsSpan(i * n + i, n - i), u.AsSpan(i * n + i, n - i));
                traceDiag += alpha[i] * alpha[i] - kinvII;
            }
            // ∂K_ii/∂log s² = s², ∂K_ii/∂log σ² = σ²; ∂K_ij/∂log s² = K_ij; ∂K_ij/∂log ℓ_k = (5/3) s² (1 + √5 r) e^{−√5 r} Δ_k²/ℓ_k².
            double gSignal = 0.5 * traceDiag * s2, gNoise = 0.5 * traceDiag * noise;
            p = 0; q = 0;
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < i; j++, q++)
                {
                    int m0 = i; // max(i, j)
                    double kinv = TensorPrimitives.Dot<double>(u.AsSpan(i * n + m0, n - m0), u.AsSpan(j * n + m0, n - m0));
                    double w = alpha[i] * alpha[j] - kinv; // counted twice (ij and ji): the ½ cancels
                    double kij = s2 * (1 + Sqrt5 * _r[q] + 5.0 / 3.0 * _r[q] * _r[q]) * Math.Exp(-Sqrt5 * _r[q]);
                    gSignal += w * kij;
                    double common = w * 5.0 / 3.0 * s2 * (1 + Sqrt5 * _r[q]) * Math.Exp(-Sqrt5 * _r[q]);
                    // a shared length scale collects the terms of every dimension of its group
                    for (int k = 0; k < d; k++) gradient[_groups?[k] ?? k] += common * _diff2[p++] * invL2[k];
                }
            }
            gradient[g] = gSignal;
            gradient[g + 1] = gNoise;
            return value;
        }
    }
}
