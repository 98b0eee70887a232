using System.Numerics.Tensors;
using Anneal.Optimization;

namespace Anneal.Tuning;

/// <summary>
/// Hyperparameters of <see cref="GaussianProcess"/>, all as natural logarithms: one length scale per input
/// dimension (ARD), or per group of dimensions when the model ties them (a categorical's one-hot block), the signal
/// variance of the joint kernel, the noise variance and, for the additive model, the variance of its first-order
/// (additive) part; in units of the standardised targets.
/// </summary>
public sealed record GpHyperparameters(double[] LogLengthScales, double LogSignalVariance, double LogNoiseVariance, double? LogAdditiveVariance = null)
{
    /// <summary>Packed as θ = (log ℓ_1..log ℓ_d, log s², log σ²[, log s_a²]), the order of the marginal-likelihood gradient.</summary>
    public double[] Pack() => LogAdditiveVariance is { } a ? [.. LogLengthScales, LogSignalVariance, LogNoiseVariance, a] : [.. LogLengthScales, LogSignalVariance, LogNoiseVariance];

    /// <summary>Inverse of <see cref="Pack"/>; <paramref name="additive"/> when θ ends with the additive variance.</summary>
    public static GpHyperparameters Unpack(ReadOnlySpan<double> theta, bool additive = false) =>
        additive ? new(theta[..^3].ToArray(), theta[^3], theta[^2], theta[^1]) : new(theta[..^2].ToArray(), theta[^2], theta[^1]);
}

/// <summary>
/// Normal priors on the log hyperparameters of <see cref="GaussianProcess"/> (log-normal priors on the length scales,
/// signal variance and noise variance), for inputs in the unit cube and standardised targets.
/// </summary>
/// <param name="LogLength">mean and standard deviation of every log length scale</param>
/// <param name="LogSignal">mean and standard deviation of the log signal variance</param>
/// <param name="LogNoise">mean and standard deviation of the log noise variance</param>
public sealed record GpPrior((double Mean, double Sd) LogLength, (double Mean, double Sd) LogSignal, (double Mean, double Sd) LogNoise)
{
    /// <summary>
    /// The session-7 priors: length scales around 0.5 of the cube (sd 1.5 in log), signal variance around 1 (sd 1.5),
    /// noise variance around 1e-3 (sd 3). Short length scales a priori: with few points the model is wiggly and its
    /// acquisition close to space filling.
    /// </summary>
    public static GpPrior Weak { get; } = new((Math.Log(0.5), 1.5), (0, 1.5), (Math.Log(1e-3), 3));

    /// <summary>
    /// Hvarfner, Hellsten &amp; Nardi, "Vanilla Bayesian Optimization Performs Great in High Dimensions" (ICML 2024),
    /// BoTorch's default since 0.12: log ℓ ~ N(√2 + ½ log D, √3) for D length scales, so the prior's functions stay
    /// equally complex whatever the dimension (the expected squared distance of two points of the cube grows with D);
    /// noise variance log-normal N(−4, 1) (about 2% of the standardised variance). The signal variance keeps the weak
    /// prior (BoTorch fixes it at 1 on standardised targets; here it is fitted around 1).
    /// </summary>
    public static GpPrior DimensionScaled(int lengthScales) =>
        new((Math.Sqrt(2) + 0.5 * Math.Log(Math.Max(1, lengthScales)), Math.Sqrt(3)), (0, 1.5), (-4, 1));
}

/// <summary>
/// A Gaussian-process regression model with the Matérn-5/2 ARD kernel
/// k(x, x') = s² M(r), M(r) = (1 + √5 r + 5r²/3) exp(−√5 r), r² = Σ_i (x_i − x'_i)² / ℓ_i², and Gaussian observation
/// noise σ² (Rasmussen &amp; Williams 2006, eqs. 2.25-2.26, 4.17, 5.8-5.9). The additive model adds a first-order
/// additive part over the groups (parameters): k = s² M(r) + (s_a²/G) Σ_g M(r_g), r_g² the part of r² from group g's
/// dimensions (Duvenaud, Nickisch &amp; Rasmussen, "Additive Gaussian Processes", 2011, orders 1 and G; for one numeric
/// and one categorical parameter BoTorch's MixedSingleTaskGP kernel K_cont + K_cat + K_cont·K_cat with the length
/// scales shared between the parts), so that what one trial says about a parameter's effect carries over to the
/// other parameters' values. Dimensions may share a length scale (groups): a
/// categorical parameter's one-hot block has one, so that its kernel depends only on whether two choices are equal
/// (the Hamming-distance treatment of categoricals) and a few points can teach it that the choice matters little,
/// where one length scale per column leaves every untried choice at its prior. Targets are standardised (mean 0, variance 1)
/// before fitting; predictions are returned in the original units. Hyperparameters maximise the log marginal
/// likelihood plus log-normal priors (MAP, <see cref="GpPrior"/>), by multi-start box-constrained L-BFGS.
/// </summary>
public sealed class GaussianProcess
{
    private static readonly double Sqrt5 = Math.Sqrt(5);

    // Box for θ: length scales from 1% to 20x the unit cube (further when the prior's mean + 2 sd is beyond: the
    // dimension-scaled prior's median reaches 15 with 13 one-hot columns), signal from 0.05 to 20 standardised
    // variances, noise from 1e-6 (interpolation) to 1 (all noise). Inside it the priors do the regularising: without
    // them a handful of points is fitted by vanishing length scales (a GP that interpolates noise).
    internal const double MinLogLength = -4.6, MaxLogLength = 3.0, MinLogSignal = -3.0, MaxLogSignal = 3.0, MinLogNoise = -13.8, MaxLogNoise = 0.0;

    private readonly double[] _x; // n x d, row-major
    private readonly double[] _l; // n x n lower Cholesky factor of K + σ²I
    private readonly double[] _alpha; // (K + σ²I)^-1 y
    private readonly double[] _invLength2; // 1/ℓ_i² per input dimension (a group's scale repeated over its dimensions)
    private readonly double _signal, _additive; // s², s_a² (0 without the additive part)
    private readonly int[]? _groups;
    private readonly int _groupCount;

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
        _additive = h.LogAdditiveVariance is { } a ? Math.Exp(a) : 0;
        _groupCount = h.LogLengthScales.Length;
        _l = new double[n * n];
        FillKernel(Math.Exp(h.LogNoiseVariance), _l);
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
        if (h.LogAdditiveVariance is not null && g is null) throw new ArgumentException("the additive model needs groups (its first-order parts are the groups)");
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
    /// input dimension) gives the length scale each dimension uses: dimensions of one group share it. <paramref name="prior"/>
    /// null is <see cref="GpPrior.Weak"/>. <paramref name="additive"/> adds the first-order additive part over the groups
    /// (needs at least two groups), its variance fitted with the signal variance's prior.
    /// </summary>
    public static GaussianProcess Fit(double[][] x, double[] y, int starts = 3, GpHyperparameters? warm = null, int seed = 0, int maxIterations = 60, IReadOnlyList<int>? groups = null, GpPrior? prior = null, bool additive = false)
    {
        var (flat, n, dims) = Flatten(x);
        var (ys, mean, scale) = Standardise(y);
        var g = CheckGroups(groups, dims);
        int d = g is null ? dims : g.Max() + 1; // number of length scales
        if (additive && (g is null || d < 2)) throw new ArgumentException("the additive model needs at least two groups");
        prior ??= GpPrior.Weak;
        double maxLogLength = Math.Max(MaxLogLength, prior.LogLength.Mean + 2 * prior.LogLength.Sd);
        var lml = new MarginalLikelihood(flat, n, dims, ys, g, prior, additive);
        int m = d + (additive ? 3 : 2);
        var lower = new double[m];
        var upper = new double[m];
        for (int i = 0; i < d; i++) { lower[i] = MinLogLength; upper[i] = maxLogLength; }
        lower[d] = MinLogSignal; upper[d] = MaxLogSignal; lower[d + 1] = MinLogNoise; upper[d + 1] = MaxLogNoise;
        if (additive) { lower[d + 2] = MinLogSignal; upper[d + 2] = MaxLogSignal; }
        var rng = new Random(seed);
        var initial = new List<double[]>();
        if (warm is not null && warm.LogLengthScales.Length == d && (warm.LogAdditiveVariance is not null) == additive) initial.Add(warm.Pack());
        double[] centre = [.. Enumerable.Repeat(Math.Clamp(prior.LogLength.Mean, MinLogLength, maxLogLength), d), prior.LogSignal.Mean, Math.Clamp(prior.LogNoise.Mean, MinLogNoise, MaxLogNoise)];
        initial.Add(additive ? [.. centre, prior.LogSignal.Mean] : centre);
        while (initial.Count < Math.Max(1, starts))
            initial.Add(Enumerable.Range(0, m).Select(i => lower[i] + rng.NextDouble() * (upper[i] - lower[i])).ToArray());
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
        return new GaussianProcess(flat, n, dims, ys, mean, scale, GpHyperparameters.Unpack(best, additive), g);
    }

    /// <summary>
    /// The log marginal likelihood log p(y | X, θ) of standardised targets <paramref name="ys"/> and its gradient in θ
    /// (Rasmussen &amp; Williams eqs. 5.8-5.9); public for the finite-difference test.
    /// </summary>
    public static double LogMarginalLikelihood(double[][] x, double[] ys, ReadOnlySpan<double> theta, Span<double> gradient, IReadOnlyList<int>? groups = null, bool additive = false)
    {
        var (flat, n, d) = Flatten(x);
        return new MarginalLikelihood(flat, n, d, ys, CheckGroups(groups, d), null, additive).Value(theta, gradient);
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
        for (int i = 0; i < n; i++) work[i] = Kernel(x, _x.AsSpan(i * d, d));
        double mean = TensorPrimitives.Dot<double>(work, _alpha);
        SolveLower(_l, n, work);
        double variance = Signal - TensorPrimitives.Dot<double>(work, work);
        return (mean, Math.Max(variance, 1e-12 * Signal));
    }

    /// <summary>Kernel between a point and training point <paramref name="i"/> (standardised signal units).</summary>
    internal double KernelTo(ReadOnlySpan<double> x, int i) => Kernel(x, _x.AsSpan(i * Dimension, Dimension));

    /// <summary>Prior variance k(x, x) of the latent function: s², plus s_a² in the additive model (standardised units).</summary>
    internal double Signal => _signal + _additive;

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

    /// <summary>Matérn-5/2 correlation M(r) = (1 + √5 r + 5r²/3) exp(−√5 r) at squared distance <paramref name="r2"/>.</summary>
    private static double Matern(double r2)
    {
        double r = Math.Sqrt(r2);
        return (1 + Sqrt5 * r + 5.0 / 3.0 * r2) * Math.Exp(-Sqrt5 * r);
    }

    private double Kernel(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double r2 = 0;
        if (_additive == 0)
        {
            for (int i = 0; i < a.Length; i++) { double t = a[i] - b[i]; r2 += t * t * _invLength2[i]; }
            double r = Math.Sqrt(r2);
            return _signal * (1 + Sqrt5 * r + 5.0 / 3.0 * r2) * Math.Exp(-Sqrt5 * r); // as before the additive model, to the last bit
        }
        Span<double> part = stackalloc double[_groupCount];
        part.Clear();
        for (int i = 0; i < a.Length; i++) { double t = a[i] - b[i]; part[_groups![i]] += t * t * _invLength2[i]; }
        double sum = 0;
        for (int g = 0; g < part.Length; g++) { r2 += part[g]; sum += Matern(part[g]); }
        return _signal * Matern(r2) + _additive / _groupCount * sum;
    }

    private void FillKernel(double noise, double[] k)
    {
        int n = Count, d = Dimension;
        for (int i = 0; i < n; i++)
        {
            k[i * n + i] = Signal + noise;
            for (int j = 0; j < i; j++)
                k[i * n + j] = k[j * n + i] = Kernel(_x.AsSpan(i * d, d), _x.AsSpan(j * d, d));
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
        private readonly GpPrior _prior;
        private readonly bool _additive;

        public MarginalLikelihood(double[] x, int n, int d, double[] y, int[]? groups, GpPrior? prior = null, bool additive = false)
        {
            _n = n; _d = d; _y = y; _groups = groups; _g = groups is null ? d : groups.Max() + 1; _prior = prior ?? GpPrior.Weak; _additive = additive;
            if (additive && groups is null) throw new ArgumentException("the additive model needs groups");
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
                var (m, s) = i < _g ? _prior.LogLength : i == _g + 1 ? _prior.LogNoise : _prior.LogSignal; // the additive variance (last) takes the signal's prior
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
            double sa = _additive ? Math.Exp(theta[g + 2]) / g : 0; // s_a²/G
            Span<double> part = stackalloc double[g];
            var k_ = _k;
            int p = 0, q = 0;
            for (int i = 0; i < n; i++)
            {
                k_[i * n + i] = s2 + (_additive ? sa * g : 0) + noise;
                for (int j = 0; j < i; j++, q++)
                {
                    double r2 = 0;
                    if (_additive)
                    {
                        part.Clear();
                        for (int k = 0; k < d; k++) part[_groups![k]] += _diff2[p++] * invL2[k];
                        double add = 0;
                        for (int c = 0; c < g; c++) { r2 += part[c]; add += Matern(part[c]); }
                        double r = Math.Sqrt(r2);
                        _r[q] = r;
                        k_[i * n + j] = k_[j * n + i] = s2 * Matern(r2) + sa * add;
                    }
                    else
                    {
                        for (int k = 0; k < d; k++) r2 += _diff2[p++] * invL2[k];
                        double r = Math.Sqrt(r2);
                        _r[q] = r;
                        k_[i * n + j] = k_[j * n + i] = s2 * (1 + Sqrt5 * r + 5.0 / 3.0 * r2) * Math.Exp(-Sqrt5 * r);
                    }
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
            double gSignal = 0.5 * traceDiag * s2, gNoise = 0.5 * traceDiag * noise, gAdditive = 0.5 * traceDiag * sa * g;
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
                    if (_additive) part.Clear();
                    // a shared length scale collects the terms of every dimension of its group
                    for (int k = 0; k < d; k++)
                    {
                        double t = _diff2[p++] * invL2[k];
                        gradient[_groups?[k] ?? k] += common * t;
                        if (_additive) part[_groups![k]] += t;
                    }
                    if (_additive)
                    {
                        // ∂(s_a²/G) M(r_c)/∂log ℓ_c = (s_a²/G)(5/3)(1 + √5 r_c) e^{−√5 r_c} r_c²; ∂/∂log s_a² = the part itself
                        for (int c = 0; c < g; c++)
                        {
                            double rc = Math.Sqrt(part[c]);
                            gradient[c] += w * sa * 5.0 / 3.0 * (1 + Sqrt5 * rc) * Math.Exp(-Sqrt5 * rc) * part[c];
                            gAdditive += w * sa * Matern(part[c]);
                        }
                    }
                }
            }
            gradient[g] = gSignal;
            gradient[g + 1] = gNoise;
            if (_additive) gradient[g + 2] = gAdditive;
            return value;
        }
    }
}
