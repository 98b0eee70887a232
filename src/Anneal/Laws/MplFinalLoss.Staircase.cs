namespace Anneal.Laws;

/// <summary>The final loss of a staircase schedule (rates constant between a few drops) in O(segments).</summary>
public sealed partial class MplFinalLoss
{
    /// <summary>
    /// <see cref="Evaluate"/> of a staircase: <paramref name="levels"/>[j] is the rate of the post-warmup steps
    /// <paramref name="starts"/>[j] .. starts[j+1]-1 (the last segment runs to <paramref name="n"/>-1; starts[0] = 0,
    /// increasing). When <paramref name="gradient"/> is not empty (length k) it receives dL/dlevel_j, the sum of
    /// dL/deta_i over the segment's steps. Costs O(k) instead of O(n): inside a segment the rate does not change
    /// (d_i = 0), so LD has one term per segment, the prefix P_i is constant, and the per-step terms
    /// G(x_{i+1}) - G(x_i) of the gradient telescope to G at the next segment's start minus G at the segment's own.
    /// The sums run by segment instead of by step, so the result agrees with <see cref="Evaluate"/> of the expanded
    /// rates to rounding, not bit for bit.
    /// </summary>
    public double EvaluateStaircase(ReadOnlySpan<int> starts, ReadOnlySpan<double> levels, int n, Span<double> gradient)
    {
        int k = levels.Length;
        if (starts.Length != k) throw new ArgumentException($"starts has length {starts.Length}, levels {k}");
        if (k == 0 || starts[0] != 0) throw new ArgumentException("a staircase needs its first segment at step 0");
        bool wantGrad = !gradient.IsEmpty;
        if (wantGrad && gradient.Length != k) throw new ArgumentException($"gradient has length {gradient.Length}, expected {k}");
        double gamma = Law.Gamma, beta = Law.Beta, c = Law.C;
        // per segment j: S at its start, w = level^-gamma, x = w S, g = G(x), gp = G'(x)
        Span<double> buf = k <= 256 ? stackalloc double[5 * k] : new double[5 * k];
        Span<double> s = buf[..k], w = buf.Slice(k, k), x = buf.Slice(2 * k, k), g = buf.Slice(3 * k, k), gp = buf.Slice(4 * k, k);
        double run = 0;
        for (int j = k - 1; j >= 0; j--)
        {
            int end = j + 1 < k ? starts[j + 1] : n;
            if (end <= starts[j]) throw new ArgumentException($"segment {j} starts at {starts[j]} and ends at {end}: starts must increase and stay below n");
            run += levels[j] * (end - starts[j]);
            s[j] = run;
        }
        double total = run, ld = 0, prev = Previous;
        for (int j = 0; j < k; j++)
        {
            double eta = levels[j];
            if (eta < 0 || double.IsNaN(eta)) throw new ArgumentException($"learning rate of segment {j} is {eta}; rates must be >= 0");
            if (eta > 0)
            {
                w[j] = Math.Pow(eta, -gamma);
                x[j] = w[j] * s[j];
                double u = 1 + c * x[j], p = Math.Pow(u, -beta);
                g[j] = 1 - p;
                gp[j] = beta * c * p / u;
            }
            else { w[j] = 0; x[j] = 0; gp[j] = 0; g[j] = s[j] > 0 ? 1 : 0; }
            ld += Cut(prev, eta) ? CutDrop(prev, eta, s[j], out _, out _, out _) : (prev - eta) * g[j];
            prev = eta;
        }
        double value = Combine(total, ld, wantGrad, out double common);
        if (!wantGrad) return value;
        double prefix = 0, b = Law.B;
        prev = Previous;
        for (int j = 0; j < k; j++)
        {
            double eta = levels[j], d = prev - eta, own = g[j], local = 0;
            if (Cut(prev, eta))
            {
                CutDrop(prev, eta, s[j], out _, out double dTo, out double dS);
                prefix += dS;
                own = -dTo;
            }
            else
            {
                double dgp = d * gp[j];
                prefix += dgp * w[j];
                local = eta > 0 ? gamma * dgp * x[j] / eta : 0;
            }
            prev = eta;
            double next = j + 1 >= k ? 0 : Cut(eta, levels[j + 1]) ? DropFrom(eta, levels[j + 1], s[j + 1]) : g[j + 1];
            int len = (j + 1 < k ? starts[j + 1] : n) - starts[j];
            gradient[j] = len * common - b * (next - own + len * prefix - local);
        }
        return value;
    }
}
