using System.Numerics;

namespace Anneal.Training.Optim;

/// <summary>
/// Approximate orthogonalisation of a matrix by the quintic Newton–Schulz iteration of Muon (Jordan et al. 2024,
/// "Muon: MomentUm Orthogonalized by Newton-Schulz"; Bernstein and Newhouse 2024, "Old Optimizer, New Norm"): for
/// <c>G = U S Vᵀ</c> it returns about <c>U Vᵀ</c> (the orthogonal polar factor) without an SVD. Starting from
/// <c>X₀ = G / (‖G‖_F + 10⁻⁷)</c> (so every singular value is at most 1), each step is
/// <c>X ← aX + b(XXᵀ)X + c(XXᵀ)²X</c> with <c>(a, b, c) = (3.4445, −4.7750, 2.0315)</c>, which maps each singular value s
/// of X to <c>p(s) = as + bs³ + cs⁵</c> and leaves the singular vectors alone. The coefficients trade exactness for speed:
/// the slope <c>a</c> at 0 pulls small singular values up fast (by a⁵ ≈ 490 over 5 steps), and after 5 steps every
/// singular value that started above 0.0015 ‖G‖_F lies in [0.68, 1.21] (iterating p on a fine grid) instead of at exactly
/// 1, which Muon's updates tolerate; smaller ones stay below 0.68 (a direction the gradient barely has).
/// A matrix with more rows than columns is iterated as its transpose, so <c>XXᵀ</c> is the smaller Gram matrix.
/// The products run in <typeparamref name="T"/> (float in training; the reference runs them in bfloat16: the iteration
/// corrects its own rounding) through <see cref="Gemm"/>, deterministic for a given thread count.
/// </summary>
public sealed class NewtonSchulz<T>(int steps) where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The quintic's coefficients (Jordan et al. 2024).</summary>
    public const double A = 3.4445, B = -4.7750, C = 2.0315;

    /// <summary>Added to the Frobenius norm before dividing by it (a zero matrix stays zero).</summary>
    public const double Epsilon = 1e-7;

    /// <summary>Iterations (5 in the reference).</summary>
    public int Steps { get; } = steps;

    // scratch reused across calls: the iterate, the next iterate, XXᵀ and b(XXᵀ) + c(XXᵀ)²
    private T[] _x = [], _next = [], _gram = [], _poly = [];

    /// <summary>Writes the orthogonalised <paramref name="g"/> (<paramref name="rows"/> x <paramref name="cols"/>, row-major) into <paramref name="result"/>.</summary>
    public void Orthogonalize(ReadOnlySpan<T> g, int rows, int cols, Span<T> result)
    {
        int n = rows * cols;
        if (g.Length != n || result.Length != n) throw new ArgumentException($"a {rows}x{cols} matrix needs {n} values");
        bool transposed = rows > cols;
        int r = transposed ? cols : rows, c = transposed ? rows : cols; // X is r x c with r <= c
        Grow(ref _x, n); Grow(ref _next, n); Grow(ref _gram, r * r); Grow(ref _poly, r * r);
        var x = _x.AsSpan(0, n);
        double sq = 0;
        foreach (var v in g) { double d = double.CreateTruncating(v); sq += d * d; }
        var inv = T.CreateTruncating(1.0 / (Math.Sqrt(sq) + Epsilon));
        if (transposed) { for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) x[j * rows + i] = g[i * cols + j] * inv; }
        else for (int i = 0; i < n; i++) x[i] = g[i] * inv;
        T a = T.CreateTruncating(A), b = T.CreateTruncating(B), cc = T.CreateTruncating(C);
        var (cur, nxt) = (_x, _next);
        for (int s = 0; s < Steps; s++)
        {
            var gram = _gram.AsSpan(0, r * r); var poly = _poly.AsSpan(0, r * r);
            Gemm.Run(false, true, r, r, c, T.One, cur, c, cur, c, T.Zero, gram, r);            // XXᵀ
            for (int i = 0; i < gram.Length; i++) poly[i] = b * gram[i];
            Gemm.Run(false, false, r, r, r, cc, gram, r, gram, r, T.One, poly, r);            // b XXᵀ + c (XXᵀ)²
            for (int i = 0; i < n; i++) nxt[i] = a * cur[i];
            Gemm.Run(false, false, r, c, r, T.One, poly, r, cur, c, T.One, nxt.AsSpan(0, n), c); // aX + (b XXᵀ + c (XXᵀ)²) X
            (cur, nxt) = (nxt, cur);
        }
        if (transposed) { for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) result[i * cols + j] = cur[j * rows + i]; }
        else cur.AsSpan(0, n).CopyTo(result);
    }

    private static void Grow(ref T[] a, int n) { if (a.Length < n) a = new T[n]; }
}
