using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Anneal.Training;

/// <summary>
/// Rotary position embedding tables (Su et al. 2021, RoFormer): pair (2i, 2i+1) of a head vector at
/// position t is rotated by angle <c>t · base^(-2i/d)</c>. Rotations preserve norms and make the q·k
/// score depend on the position difference only.
/// </summary>
public sealed class Rope
{
    /// <summary>cos and sin of the angle for each (position, pair), row-major [maxLen, headDim/2].</summary>
    internal double[] Cos { get; }
    internal double[] Sin { get; }

    private readonly Dictionary<Type, (Array, Array)> _typed = [];

    /// <summary>cos/sin tables converted to <typeparamref name="T"/> once.</summary>
    internal (T[] Cos, T[] Sin) Tables<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        lock (_typed)
        {
            if (!_typed.TryGetValue(typeof(T), out var t)) _typed[typeof(T)] = t = (Cos.Select(T.CreateTruncating).ToArray(), Sin.Select(T.CreateTruncating).ToArray());
            return ((T[])t.Item1, (T[])t.Item2);
        }
    }

    public int HeadDim { get; }
    public int MaxLen { get; }

    public Rope(int headDim, int maxLen, double theta = 10000.0)
    {
        if (headDim % 2 != 0) throw new ArgumentException("rotary embeddings need an even head dimension");
        HeadDim = headDim; MaxLen = maxLen;
        int half = headDim / 2;
        Cos = new double[maxLen * half]; Sin = new double[maxLen * half];
        for (int t = 0; t < maxLen; t++)
            for (int i = 0; i < half; i++)
            {
                double a = t * Math.Pow(theta, -2.0 * i / headDim);
                Cos[t * half + i] = Math.Cos(a); Sin[t * half + i] = Math.Sin(a);
            }
    }
}

public static unsafe partial class Attention
{
    /// <summary>
    /// Fused causal multi-head self-attention (Vaswani et al. 2017) on packed projections
    /// <c>qkv[B, T, 3D]</c> (q, k, v side by side; head h uses columns h·d..(h+1)·d of each, d = D/H):
    /// <c>S = Q Kᵀ/√d</c>, <c>P = softmax(S)</c> over keys j ≤ i (causal), <c>O = P V</c>; returns <c>[B, T, D]</c>.
    /// Backward: <c>dV = Pᵀ dO</c>, <c>dP = dO Vᵀ</c>, <c>dS = P ⊙ (dP - rowsum(P ⊙ dP))</c>,
    /// <c>dQ = dS K/√d</c>, <c>dK = dSᵀ Q/√d</c>. With <paramref name="rope"/> q and k are rotated first and
    /// their gradients rotated back. (batch, head) pairs run in parallel; each writes disjoint columns.
    /// </summary>
    public static Tensor<T> CausalSelfAttention<T>(Tensor<T> qkv, int heads, Rope? rope = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (qkv.Shape.Length != 3 || qkv.Shape[2] % (3 * heads) != 0) throw new ArgumentException("attention input must be [B, T, 3*D] with D divisible by heads");
        int bsz = qkv.Shape[0], tl = qkv.Shape[1], dm = qkv.Shape[2] / 3, hd = dm / heads;
        if (rope is not null && (rope.HeadDim != hd || rope.MaxLen < tl)) throw new ArgumentException("rotary table does not match head size or sequence length");
        T scale = T.One / T.Sqrt(T.CreateTruncating(hd));
        var outp = Ops.New<T>(bsz * tl * dm);
        var probs = Ops.New<T>(bsz * heads * tl * tl); // saved for backward; the upper triangle is zeroed per row
        T[]? rc = null, rs = null;
        if (rope is not null) (rc, rs) = rope.Tables<T>();

        Run(bsz * heads, tl * hd * 3 + tl * tl, () => new Scratch<T>(tl, hd), (bh, s) =>
        {
            int b = bh / heads, h = bh % heads;
            Gather(qkv.Data, b, h, tl, dm, hd, rc, rs, s.Q, s.K, s.V);
            var p = probs.AsSpan(bh * tl * tl, tl * tl);
            Gemm.Run(false, true, tl, tl, hd, scale, s.Q, hd, s.K, hd, T.Zero, p, tl, parallel: false);
            for (int i = 0; i < tl; i++)
            {
                var row = p.Slice(i * tl, tl);
                Ops.SoftmaxRow(row[..(i + 1)], row[..(i + 1)]);
                row[(i + 1)..].Clear();
            }
            Gemm.Run(false, false, tl, hd, tl, T.One, p, tl, s.V, hd, T.Zero, s.O, hd, parallel: false);
            for (int t = 0; t < tl; t++) s.O.AsSpan(t * hd, hd).CopyTo(outp.AsSpan((b * tl + t) * dm + h * hd, hd));
        });

        bool rg = Autograd.Enabled && qkv.RequiresGrad;
        var y = new Tensor<T>(outp, [bsz, tl, dm], rg, rg ? [qkv] : null) { Transient = true };
        if (rg)
            y.BackwardFn = () =>
            {
                var gq = qkv.Grad; var gy = y.Grad; // lazily allocated: fetch on this thread, not inside the parallel body
                Run(bsz * heads, tl * hd * 5 + tl * tl * 2, () => new Scratch<T>(tl, hd), (bh, s) =>
                {
                    int b = bh / heads, h = bh % heads;
                    Gather(qkv.Data, b, h, tl, dm, hd, rc, rs, s.Q, s.K, s.V);
                    for (int t = 0; t < tl; t++) gy.AsSpan((b * tl + t) * dm + h * hd, hd).CopyTo(s.O.AsSpan(t * hd, hd)); // s.O = dO
                    var p = probs.AsSpan(bh * tl * tl, tl * tl);
                    Gemm.Run(true, false, tl, hd, tl, T.One, p, tl, s.O, hd, T.Zero, s.DV, hd, parallel: false);
                    Gemm.Run(false, true, tl, tl, hd, T.One, s.O, hd, s.V, hd, T.Zero, s.DS, tl, parallel: false);
                    for (int i = 0; i < tl; i++)
                    {
                        var pr = p.Slice(i * tl, i + 1); var dr = s.DS.AsSpan(i * tl, tl);
                        T dot = TP.Dot<T>(pr, dr[..(i + 1)]);
                        for (int j = 0; j <= i; j++) dr[j] = pr[j] * (dr[j] - dot);
                        dr[(i + 1)..].Clear();
                    }
                    Gemm.Run(false, false, tl, hd, tl, scale, s.DS, tl, s.K, hd, T.Zero, s.DQ, hd, parallel: false);
                    Gemm.Run(true, false, tl, hd, tl, scale, s.DS, tl, s.Q, hd, T.Zero, s.DK, hd, parallel: false);
                    if (rc is not null) { Rotate(s.DQ, tl, hd, rc, rs!, inverse: true); Rotate(s.DK, tl, hd, rc, rs!, inverse: true); }
                    for (int t = 0; t < tl; t++)
                    {
                        int o = (b * tl + t) * 3 * dm + h * hd;
                        var q = gq.AsSpan(o, hd); TP.Add(q, s.DQ.AsSpan(t * hd, hd), q);
                        var k = gq.AsSpan(o + dm, hd); TP.Add(k, s.DK.AsSpan(t * hd, hd), k);
                        var v = gq.AsSpan(o + 2 * dm, hd); TP.Add(v, s.DV.AsSpan(t * hd, hd), v);
                    }
                });
            };
        return y;
    }

    private sealed class Scratch<T>(int tl, int hd)
    {
        public readonly T[] Q = new T[tl * hd], K = new T[tl * hd], V = new T[tl * hd], O = new T[tl * hd];
        public readonly T[] DQ = new T[tl * hd], DK = new T[tl * hd], DV = new T[tl * hd], DS = new T[tl * tl];
    }

    private static void Run<TS>(int n, long work, Func<TS> init, Action<int, TS> body)
    {
        int threads = Engine.Threads;
        if (threads <= 1 || n < 2 || n * work < 1 << 15) { var s = init(); for (int i = 0; i < n; i++) body(i, s); return; }
        int chunk = (n + threads - 1) / threads;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var s = init();
            int end = Math.Min(n, (t + 1) * chunk);
            for (int i = t * chunk; i < end; i++) body(i, s);
        });
    }

    private static void Gather<T>(T[] qkv, int b, int h, int tl, int dm, int hd, T[]? rc, T[]? rs, T[] q, T[] k, T[] v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int t = 0; t < tl; t++)
        {
            int o = (b * tl + t) * 3 * dm + h * hd;
            qkv.AsSpan(o, hd).CopyTo(q.AsSpan(t * hd, hd));
            qkv.AsSpan(o + dm, hd).CopyTo(k.AsSpan(t * hd, hd));
            qkv.AsSpan(o + 2 * dm, hd).CopyTo(v.AsSpan(t * hd, hd));
        }
        if (rc is not null) { Rotate(q, tl, hd, rc, rs!, inverse: false); Rotate(k, tl, hd, rc, rs!, inverse: false); }
    }

    /// <summary>Rotates pairs in place by +angle (forward) or -angle (the transpose, for gradients).</summary>
    private static void Rotate<T>(T[] x, int tl, int hd, T[] cos, T[] sin, bool inverse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int half = hd / 2;
        for (int t = 0; t < tl; t++)
            for (int i = 0; i < half; i++)
            {
                T c = cos[t * half + i], s = inverse ? -sin[t * half + i] : sin[t * half + i];
                int a = t * hd + 2 * i;
                T x0 = x[a], x1 = x[a + 1];
                x[a] = x0 * c - x1 * s;
                x[a + 1] = x0 * s + x1 * c;
            }
    }
}
