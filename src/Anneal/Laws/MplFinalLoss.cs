using System.Numerics.Tensors;
using Anneal.Schedules;

namespace Anneal.Laws;

/// <summary>
/// The Multi-Power Law's predicted FINAL loss as a function of the post-warmup schedule, with its
/// exact gradient with respect to every per-step learning rate, in O(n) time
/// (Luo et al., arXiv 2503.12811; paper convention).
/// <para>
/// Inputs are the n = T - W post-warmup rates <c>eta_1..eta_n</c> (the rates of the 0-based optimizer
/// steps W..T-1); <c>eta_0 = peak</c> is the rate the warmup ends at; the warmup itself enters only
/// through its area S_W = 0.5 * peak * W. With S = sum eta, S_k = sum_{i&gt;=k} eta_i,
/// x_k = eta_k^(-gamma) S_k, d_k = eta_{k-1} - eta_k:
/// <code>
/// L = L0 + A (S + S_W)^(-alpha) - B sum_k d_k G(x_k),      G(x) = 1 - (C x + 1)^(-beta)
/// dL/deta_j = -alpha A (S + S_W)^(-alpha-1)
///             - B [ -G(x_j) + G(x_{j+1}) [j &lt; n] + P_j - gamma d_j G'(x_j) x_j / eta_j ]
/// P_j = sum_{k&lt;=j} d_k G'(x_k) eta_k^(-gamma),          G'(x) = beta C (C x + 1)^(-beta-1)
/// </code>
/// (the S_k term of every k &lt;= j depends on eta_j, hence the prefix sum P_j; the rest is local).
/// </para>
/// Instances hold scratch buffers and are not thread-safe; create one per thread.
/// </summary>
public sealed partial class MplFinalLoss : IFinalLoss
{
    private double[] _suffix = [], _w = [], _x = [], _u = [], _g = [], _gp = [];

    /// <summary>Creates the objective for a law, a peak LR and the warmup area S_W.</summary>
    public MplFinalLoss(MplParameters law, double peak, double warmupArea)
    {
        Law = law;
        Peak = peak;
        WarmupArea = warmupArea;
    }

    /// <summary>
    /// The objective in the reference code's warmup convention (a law fitted as
    /// <c>mpl(warmup=reference)</c>): every step-to-step change from step 1 enters LD, so the warmup
    /// ramp's increases contribute <c>B sum_{k&lt;W} (w_{k-1} - w_k) G(w_k^-gamma (R_k + S))</c>
    /// (R_k = sum of the ramp from k, S = sum of the post-warmup rates), the first post-warmup
    /// decrement is measured from the last ramp rate instead of the peak, and S_W is the ramp's
    /// exact sum. Every post-warmup rate enters each warmup term through S alone, so the gradient
    /// gains one constant, <c>-B sum_k d_k G'(x_k) w_k^-gamma</c>, on every rate: still O(n + W).
    /// <paramref name="continuousDrops"/>: <see cref="ContinuousDrops"/> (the ramp rises, so only post-warmup decreases are cut).
    /// </summary>
    public static MplFinalLoss ReferenceConvention(MplParameters law, double peak, double[] ramp, bool continuousDrops = false)
    {
        var f = new MplFinalLoss(law, peak, ramp.Sum()) { _ramp = (double[])ramp.Clone(), ContinuousDrops = continuousDrops };
        int w = ramp.Length;
        f._rampTail = new double[w];
        f._rampPow = new double[w];
        double t = 0;
        for (int k = w - 1; k >= 0; k--)
        {
            t += ramp[k];
            f._rampTail[k] = t;
            f._rampPow[k] = ramp[k] > 0 ? Math.Pow(ramp[k], -law.Gamma) : 0;   // fixed per law: not recomputed per evaluation
        }
        return f;
    }

    private double[]? _ramp, _rampTail, _rampPow;

    /// <summary>True when the warmup ramp enters LD (the reference convention).</summary>
    public bool IncludesWarmup => _ramp is not null;

    /// <summary>The rate the first post-warmup decrement is measured from: the peak, or the ramp's last rate.</summary>
    private double Previous => _ramp is { Length: > 0 } r ? r[^1] : Peak;

    /// <summary>sum_k d_k G(x_k) over the ramp's changes (k = 1..W-1) and, in <paramref name="slope"/>, sum_k d_k G'(x_k) w_k^-gamma.</summary>
    private double RampTerms(double total, out double slope)
    {
        slope = 0;
        if (_ramp is null) return 0;
        double ld = 0, beta = Law.Beta, c = Law.C;
        for (int k = 1; k < _ramp.Length; k++)
        {
            double d = _ramp[k - 1] - _ramp[k];
            if (d == 0) continue;
            double sk = _rampTail![k] + total;
            if (_ramp[k] <= 0) { if (sk > 0) ld += d; continue; }
            double w = _rampPow![k], u = 1 + c * w * sk, pw = Math.Pow(u, -beta);
            ld += d * (1 - pw);
            slope += d * beta * c * pw / u * w;
        }
        return ld;
    }

    /// <summary>The law.</summary>
    public MplParameters Law { get; }

    /// <summary>eta_0: the rate at the end of the warmup.</summary>
    public double Peak { get; }

    /// <summary>S_W, the LR area of the warmup (0.5 * peak * W for a linear warmup).</summary>
    public double WarmupArea { get; }

    /// <summary>The paper's warmup area of a linear warmup: 0.5 * peak * W.</summary>
    public static double LinearWarmupArea(double peak, long warmup) => 0.5 * peak * warmup;

    /// <summary>Predicted loss after the last step of <paramref name="eta"/>.</summary>
    public double Value(ReadOnlySpan<double> eta) => Evaluate(eta, Span<double>.Empty);

    /// <summary>
    /// Predicted final loss; when <paramref name="gradient"/> is not empty (length n) it receives
    /// dL/deta_j. Rates must be &gt;= 0; at a rate of exactly 0 the gradient is not defined and its
    /// eta^(-gamma) terms are taken as their limits (G = 1 if later rates are positive, G' = 0).
    /// </summary>
    public double Evaluate(ReadOnlySpan<double> eta, Span<double> gradient)
    {
        int n = eta.Length;
        if (n == 0) return Law.L0 + Law.A * Math.Pow(WarmupArea, -Law.Alpha);
        bool wantGrad = !gradient.IsEmpty;
        if (wantGrad && gradient.Length != n) throw new ArgumentException($"gradient has length {gradient.Length}, expected {n}");
        Ensure(n);
        double gamma = Law.Gamma, beta = Law.Beta, c = Law.C;
        var sk = _suffix.AsSpan(0, n);
        var w = _w.AsSpan(0, n);
        var x = _x.AsSpan(0, n);
        var u = _u.AsSpan(0, n);
        var g = _g.AsSpan(0, n);
        var gp = _gp.AsSpan(0, n);

        double run = 0;
        for (int i = n - 1; i >= 0; i--) { run += eta[i]; sk[i] = run; }
        double total = run;
        bool positive = TensorPrimitives.Min(eta) > 0;
        if (!wantGrad && positive && !ContinuousDrops && SparseValue(eta, sk, total) is { } sparse) return sparse;
        if (positive)
        {
            // w = eta^-gamma, x = w S_k, u = 1 + C x, g = 1 - u^-beta, gp = beta C u^(-beta-1): vectorised.
            TensorPrimitives.Log(eta, w);
            TensorPrimitives.Multiply(w, -gamma, w);
            TensorPrimitives.Exp(w, w);
            TensorPrimitives.Multiply(w, sk, x);
            TensorPrimitives.Multiply(x, c, u);
            TensorPrimitives.Add(u, 1.0, u);
            TensorPrimitives.Log(u, g);
            TensorPrimitives.Multiply(g, -beta, g);
            TensorPrimitives.Exp(g, g);                 // g = u^-beta for now
            if (wantGrad)
            {
                // gp enters the gradient only: a value alone skips its two passes (the value's bits are the same)
                TensorPrimitives.Divide(g, u, gp);
                TensorPrimitives.Multiply(gp, beta * c, gp);
            }
            TensorPrimitives.Negate(g, g);
            TensorPrimitives.Add(g, 1.0, g);
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                if (eta[i] < 0 || double.IsNaN(eta[i])) throw new ArgumentException($"learning rate at post-warmup step {i + 1} is {eta[i]}; rates must be >= 0");
                if (eta[i] > 0)
                {
                    w[i] = Math.Pow(eta[i], -gamma);
                    x[i] = w[i] * sk[i];
                    u[i] = 1 + c * x[i];
                    double p = Math.Pow(u[i], -beta);
                    g[i] = 1 - p;
                    gp[i] = beta * c * p / u[i];
                }
                else
                {
                    w[i] = 0; x[i] = 0; u[i] = 1; gp[i] = 0;
                    g[i] = sk[i] > 0 ? 1 : 0;
                }
            }
        }

        double ld = 0, prev = Previous;
        for (int i = 0; i < n; i++)
        {
            ld += Cut(prev, eta[i]) ? CutDrop(prev, eta[i], sk[i], out _, out _, out _) : (prev - eta[i]) * g[i];
            prev = eta[i];
        }
        double value = Combine(total, ld, wantGrad, out double common);
        if (!wantGrad) return value;

        double prefix = 0, b = Law.B;
        prev = Previous;
        for (int j = 0; j < n; j++)
        {
            double d = prev - eta[j], own = g[j], local = 0;
            if (Cut(prev, eta[j]))
            {
                // dT_j/deta_j = -own - local with local = 0; its LR-area term enters every later rate through the prefix.
                CutDrop(prev, eta[j], sk[j], out _, out double dTo, out double dS);
                prefix += dS;
                own = -dTo;
            }
            else
            {
                double dgp = d * gp[j];
                prefix += dgp * w[j];
                local = eta[j] > 0 ? gamma * dgp * x[j] / eta[j] : 0;
            }
            prev = eta[j];
            double next = j + 1 >= n ? 0 : Cut(eta[j], eta[j + 1]) ? DropFrom(eta[j], eta[j + 1], sk[j + 1]) : g[j + 1];
            gradient[j] = common - b * (next - own + prefix - local);
        }
        return value;
    }

    /// <summary>
    /// The value alone when at most half the post-warmup rates change (a WSD's stable phase, a staircase): a step
    /// whose rate equals the previous one adds d_k G(x_k) = 0 to LD, so only the changes need G. They are packed
    /// (rate, suffix sum, drop) and go through the same element-wise vector operations as the full arrays in
    /// <see cref="Evaluate"/>, padded to at least one 512-bit vector so that no element takes a scalar path, and LD
    /// is summed in the same order: the value is bit-identical to the full evaluation's (a test compares them), at a
    /// fraction of its transcendental functions. Null when too many rates change for packing to pay off.
    /// </summary>
    private double? SparseValue(ReadOnlySpan<double> eta, ReadOnlySpan<double> sk, double total)
    {
        int n = eta.Length, m = 0;
        double prev = Previous;
        for (int i = 0; i < n; i++) { if (eta[i] != prev) m++; prev = eta[i]; }
        // TensorPrimitives takes narrower vectors or scalar code below Vector512<double>.Count = 8 elements; padding
        // (rate 1, suffix sum 0: finite through every operation) keeps the packed elements on the full arrays' path.
        int len = Math.Max(m, 8);
        if (m > n / 2 || len > n) return null;
        // Scratch: the full path's buffers (length >= n); the suffix sums are only read while packing.
        Span<double> pe = _x.AsSpan(0, len), ps = _u.AsSpan(0, len), d = _gp.AsSpan(0, len), w = _w.AsSpan(0, len), g = _g.AsSpan(0, len);
        int k = 0;
        prev = Previous;
        for (int i = 0; i < n; i++)
        {
            if (eta[i] != prev) { pe[k] = eta[i]; ps[k] = sk[i]; d[k] = prev - eta[i]; k++; }
            prev = eta[i];
        }
        for (; k < len; k++) { pe[k] = 1; ps[k] = 0; d[k] = 0; }
        double gamma = Law.Gamma, beta = Law.Beta, c = Law.C;
        // Evaluate's sequence: w = eta^-gamma, x = w S_k, u = 1 + C x, g = 1 - u^-beta.
        TensorPrimitives.Log(pe, w);
        TensorPrimitives.Multiply(w, -gamma, w);
        TensorPrimitives.Exp(w, w);
        TensorPrimitives.Multiply(w, ps, pe);   // pe = x: the rates are no longer needed
        var u = ps;                             // nor the suffix sums
        TensorPrimitives.Multiply(pe, c, u);
        TensorPrimitives.Add(u, 1.0, u);
        TensorPrimitives.Log(u, g);
        TensorPrimitives.Multiply(g, -beta, g);
        TensorPrimitives.Exp(g, g);
        TensorPrimitives.Negate(g, g);
        TensorPrimitives.Add(g, 1.0, g);
        double ld = 0;
        for (int j = 0; j < m; j++) ld += d[j] * g[j];
        return Combine(total, ld, false, out _);
    }

    /// <summary>
    /// The final loss L0 + A (S1 + S_W)^-alpha - B LD from the rates' total area S1 and the annealing drop
    /// <paramref name="ld"/> of the schedule's steps (the warmup ramp's terms are added here), and, when
    /// <paramref name="wantSlope"/>, its derivative in S1 through the area and the ramp's terms: the part every
    /// rate's gradient shares. One place for the per-step, the staircase and the value-only evaluations.
    /// </summary>
    private double Combine(double total, double ld, bool wantSlope, out double slope)
    {
        ld += RampTerms(total, out double rampSlope);
        double area = total + WarmupArea;
        slope = wantSlope ? -Law.Alpha * Law.A * Math.Pow(area, -Law.Alpha - 1) - Law.B * rampSlope : 0;
        return Law.L0 + Law.A * Math.Pow(area, -Law.Alpha) - Law.B * ld;
    }

    /// <summary>
    /// Predicted final loss and its gradient with respect to the seven law parameters, written to
    /// <paramref name="gradient"/> in the order of <see cref="MplParameters.ToArray"/>:
    /// <code>
    /// dL/dL0 = 1, dL/dA = X^-alpha, dL/dalpha = -A X^-alpha ln X   (X = S + S_W)
    /// dL/dB = -sum d_k G(x_k), dL/dC = -B beta s1, dL/dbeta = -B s2, dL/dgamma = -B beta C s3
    /// </code>
    /// with s1..s3 the sums of the laws layer's multi-power-law kernel (the same code that gives the
    /// fitter its Jacobian), evaluated at S_k = the suffix sums of the post-warmup rates.
    /// </summary>
    public double ParameterGradient(ReadOnlySpan<double> eta, Span<double> gradient)
    {
        if (gradient.Length != 7) throw new ArgumentException($"gradient has length {gradient.Length}, expected 7");
        int n = eta.Length;
        var pool = System.Buffers.ArrayPool<double>.Shared;
        int cap = Math.Max(1, n + (_ramp?.Length ?? 0));
        if (ContinuousDrops)
        {
            double from = Previous;
            foreach (var r in eta) { if (Cut(from, r)) cap += MultiPowerLaw.State.Pieces(from, r) - 1; from = r; }
        }
        var d = pool.Rent(cap); var negS = pool.Rent(cap); var e = pool.Rent(cap); var ln = pool.Rent(cap);
        try
        {
            // The kernel sums over y_k = e_k (pt - P_k); with pt = 0 and P_k = -S_k that is e_k S_k, with
            // S_k taken from the suffix sum directly (no cancellation for the last, smallest S_k). The suffix sums are kept
            // in e (scratch until the kernel's factors), since a cut decrease writes more changes than it reads steps.
            double run = 0, zero = 0;
            for (int i = n - 1; i >= 0; i--) { run += eta[i]; e[i] = -run; }
            double total = run, prev = Previous;
            int m = 0;
            for (int i = 0; i < n; i++)
            {
                double from = prev, diff = prev - eta[i];
                prev = eta[i];
                if (diff == 0) continue;
                if (Cut(from, eta[i]))
                {
                    int pieces = MultiPowerLaw.State.CutPieces(from, eta[i], d.AsSpan(m), ln.AsSpan(m));
                    negS.AsSpan(m, pieces).Fill(e[i]);   // every piece on this step's clock
                    m += pieces;
                }
                else if (eta[i] > 0) { d[m] = diff; negS[m] = e[i]; ln[m] = eta[i]; m++; }
                else if (e[i] < 0) zero += diff;   // G = 1 at a rate of 0 followed by positive rates
            }
            if (_ramp is not null)
                for (int k = 1; k < _ramp.Length; k++)
                {
                    double diff = _ramp[k - 1] - _ramp[k];
                    if (diff == 0) continue;
                    if (_ramp[k] > 0) { d[m] = diff; negS[m] = -(_rampTail![k] + total); ln[m] = _ramp[k]; m++; }
                    else zero += diff;
                }
            var lnS = ln.AsSpan(0, m); var es = e.AsSpan(0, m);
            System.Numerics.Tensors.TensorPrimitives.Log(lnS, lnS);
            System.Numerics.Tensors.TensorPrimitives.Multiply(lnS, -Law.Gamma, es);
            System.Numerics.Tensors.TensorPrimitives.Exp(es, es);
            Span<double> sums = stackalloc double[4];
            Anneal.Laws.MplKernel.Sums(d, negS, e, ln, 0, m, 0, Law.C, Law.Beta, sums);
            double s0 = sums[0] + zero;
            double area = total + WarmupArea, lnX = Math.Log(area), pw = Math.Exp(-Law.Alpha * lnX);
            gradient[0] = 1;
            gradient[1] = pw;
            gradient[2] = -Law.A * pw * lnX;
            gradient[3] = -s0;
            gradient[4] = -Law.B * Law.Beta * sums[1];
            gradient[5] = -Law.B * sums[2];
            gradient[6] = -Law.B * Law.Beta * Law.C * sums[3];
            return Law.L0 + Law.A * pw - Law.B * s0;
        }
        finally { pool.Return(d); pool.Return(negS); pool.Return(e); pool.Return(ln); }
    }

    private void Ensure(int n)
    {
        if (_suffix.Length >= n) return;
        _suffix = new double[n]; _w = new double[n]; _x = new double[n]; _u = new double[n]; _g = new double[n]; _gp = new double[n];
    }

    /// <summary>The post-warmup rates of <paramref name="schedule"/>: steps W..T-1.</summary>
    public static double[] PostWarmup(Schedule schedule, long total, long warmup)
    {
        var eta = new double[checked((int)(total - warmup))];
        schedule.Fill(eta, warmup);
        return eta;
    }
}
