using System.Numerics;
using System.Runtime.InteropServices;

namespace Anneal.Training;

/// <summary>
/// Row-major general matrix product <c>C = alpha * op(A) * op(B) + beta * C</c> (op = identity or
/// transpose), the one kernel every layer's forward and backward goes through. Uses OpenBLAS
/// (<c>cblas_sgemm</c>/<c>cblas_dgemm</c> from <c>libopenblas.so.0</c>) when the library loads,
/// otherwise a managed register-blocked SIMD kernel. Large products are split over the output's
/// rows (or columns) across <see cref="Engine.Threads"/> threads; the reduction dimension is never
/// split, so every output element is summed in the same order each run (deterministic).
/// </summary>
public static unsafe class Gemm
{
    /// <summary>Whether OpenBLAS was found and is used (set <see cref="UseBlas"/> false to force the managed path).</summary>
    public static bool BlasAvailable => Blas.Loaded;

    /// <summary>Use OpenBLAS when available (default true). Tests and benchmarks flip it to compare paths.</summary>
    public static bool UseBlas { get; set; } = true;

    /// <summary>Which kernel runs now: "openblas" or "managed".</summary>
    public static string Backend => UseBlas && Blas.Loaded ? "openblas" : "managed";

    /// <summary>
    /// C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C. Leading dimensions are row strides.
    /// <paramref name="parallel"/> false keeps the call on the current thread (used inside per-head loops).
    /// </summary>
    public static void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc, bool parallel = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0) return;
        int threads = parallel ? Engine.Threads : 1;
        double flops = 2.0 * m * n * k;
        if (threads <= 1 || flops < 2e6)
        {
            Kernel(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        if (m >= n || m >= 64 * threads)
        {
            int chunk = (m + threads - 1) / threads;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int i0 = t * chunk, rows = Math.Min(chunk, m - i0);
                if (rows <= 0) return;
                T* ai = (T*)pa + (transA ? i0 : (long)i0 * lda);
                Kernel(transA, transB, rows, n, k, alpha, ai, lda, (T*)pb, ldb, beta, (T*)pc + (long)i0 * ldc, ldc);
            });
        }
        else
        {
            int chunk = (n + threads - 1) / threads;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int j0 = t * chunk, cols = Math.Min(chunk, n - j0);
                if (cols <= 0) return;
                T* bj = (T*)pb + (transB ? (long)j0 * ldb : j0);
                Kernel(transA, transB, m, cols, k, alpha, (T*)pa, lda, bj, ldb, beta, (T*)pc + j0, ldc);
            });
        }
    }

    /// <summary>Span convenience overload of <see cref="Run{T}(bool,bool,int,int,int,T,T*,int,T*,int,T,T*,int,bool)"/>.</summary>
    public static void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc, bool parallel = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* pa = a) fixed (T* pb = b) fixed (T* pc = c)
            Run(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, parallel);
    }

    private static void Kernel<T>(bool ta, bool tb, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (UseBlas && Blas.Loaded)
        {
            if (typeof(T) == typeof(float))
            {
                Blas.Sgemm(Blas.RowMajor, ta ? Blas.Trans : Blas.NoTrans, tb ? Blas.Trans : Blas.NoTrans, m, n, k,
                    float.CreateTruncating(alpha), (float*)a, lda, (float*)b, ldb, float.CreateTruncating(beta), (float*)c, ldc);
                return;
            }
            if (typeof(T) == typeof(double))
            {
                Blas.Dgemm(Blas.RowMajor, ta ? Blas.Trans : Blas.NoTrans, tb ? Blas.Trans : Blas.NoTrans, m, n, k,
                    double.CreateTruncating(alpha), (double*)a, lda, (double*)b, ldb, double.CreateTruncating(beta), (double*)c, ldc);
                return;
            }
        }
        Managed(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>
    /// Managed kernel: op(B) is packed into a contiguous k x n panel (so the inner loop is a unit-stride
    /// SIMD stream), then 4 rows of C x 2 vectors are accumulated in registers over the whole k range.
    /// </summary>
    internal static void Managed<T>(bool ta, bool tb, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // beta == 0 must overwrite, not scale, so NaN/garbage in C never leaks through (BLAS semantics).
        for (int i = 0; i < m; i++)
        {
            var row = new Span<T>(c + (long)i * ldc, n);
            if (beta == T.Zero) row.Clear();
            else if (beta != T.One) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
        if (k == 0 || alpha == T.Zero) return;
        const int nb = 256; // column panel: 4 rows x 256 of C plus a k x 256 panel of B stay cache-resident
        int vw = Vector<T>.Count;
        T[] packArr = System.Buffers.ArrayPool<T>.Shared.Rent(k * nb);
        try
        {
            fixed (T* pack = packArr)
            {
                for (int j0 = 0; j0 < n; j0 += nb)
                {
                    int nc = Math.Min(nb, n - j0);
                    for (int p = 0; p < k; p++)
                    {
                        T* dst = pack + (long)p * nc;
                        if (!tb) new ReadOnlySpan<T>(b + (long)p * ldb + j0, nc).CopyTo(new Span<T>(dst, nc));
                        else for (int j = 0; j < nc; j++) dst[j] = b[(long)(j0 + j) * ldb + p];
                    }
                    int i = 0;
                    for (; i + 4 <= m; i += 4) Rows4(ta, i, nc, k, alpha, a, lda, pack, c + j0, ldc, vw);
                    for (; i < m; i++) Row1(ta, i, nc, k, alpha, a, lda, pack, c + j0, ldc, vw);
                }
            }
        }
        finally { System.Buffers.ArrayPool<T>.Shared.Return(packArr); }
    }

    private static T A<T>(bool ta, T* a, int lda, int i, int p) where T : unmanaged => ta ? a[(long)p * lda + i] : a[(long)i * lda + p];

    private static void Rows4<T>(bool ta, int i, int nc, int k, T alpha, T* a, int lda, T* pack, T* c, int ldc, int vw)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* c0 = c + (long)i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        int j = 0;
        for (; j + 2 * vw <= nc; j += 2 * vw)
        {
            Vector<T> x0 = default, x1 = default, y0 = default, y1 = default, z0 = default, z1 = default, w0 = default, w1 = default;
            for (int p = 0; p < k; p++)
            {
                var b0 = Vector.Load(pack + (long)p * nc + j);
                var b1 = Vector.Load(pack + (long)p * nc + j + vw);
                var a0 = new Vector<T>(A(ta, a, lda, i, p));
                var a1 = new Vector<T>(A(ta, a, lda, i + 1, p));
                var a2 = new Vector<T>(A(ta, a, lda, i + 2, p));
                var a3 = new Vector<T>(A(ta, a, lda, i + 3, p));
                x0 += a0 * b0; x1 += a0 * b1; y0 += a1 * b0; y1 += a1 * b1;
                z0 += a2 * b0; z1 += a2 * b1; w0 += a3 * b0; w1 += a3 * b1;
            }
            var al = new Vector<T>(alpha);
            Vector.Store(Vector.Load(c0 + j) + al * x0, c0 + j); Vector.Store(Vector.Load(c0 + j + vw) + al * x1, c0 + j + vw);
            Vector.Store(Vector.Load(c1 + j) + al * y0, c1 + j); Vector.Store(Vector.Load(c1 + j + vw) + al * y1, c1 + j + vw);
            Vector.Store(Vector.Load(c2 + j) + al * z0, c2 + j); Vector.Store(Vector.Load(c2 + j + vw) + al * z1, c2 + j + vw);
            Vector.Store(Vector.Load(c3 + j) + al * w0, c3 + j); Vector.Store(Vector.Load(c3 + j + vw) + al * w1, c3 + j + vw);
        }
        for (; j < nc; j++)
        {
            T s0 = T.Zero, s1 = T.Zero, s2 = T.Zero, s3 = T.Zero;
            for (int p = 0; p < k; p++)
            {
                T bv = pack[(long)p * nc + j];
                s0 += A(ta, a, lda, i, p) * bv; s1 += A(ta, a, lda, i + 1, p) * bv;
                s2 += A(ta, a, lda, i + 2, p) * bv; s3 += A(ta, a, lda, i + 3, p) * bv;
            }
            c0[j] += alpha * s0; c1[j] += alpha * s1; c2[j] += alpha * s2; c3[j] += alpha * s3;
        }
    }

    private static void Row1<T>(bool ta, int i, int nc, int k, T alpha, T* a, int lda, T* pack, T* c, int ldc, int vw)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* c0 = c + (long)i * ldc;
        int j = 0;
        for (; j + vw <= nc; j += vw)
        {
            Vector<T> x = default;
            for (int p = 0; p < k; p++) x += new Vector<T>(A(ta, a, lda, i, p)) * Vector.Load(pack + (long)p * nc + j);
            Vector.Store(Vector.Load(c0 + j) + new Vector<T>(alpha) * x, c0 + j);
        }
        for (; j < nc; j++)
        {
            T s = T.Zero;
            for (int p = 0; p < k; p++) s += A(ta, a, lda, i, p) * pack[(long)p * nc + j];
            c0[j] += alpha * s;
        }
    }

    /// <summary>OpenBLAS entry points, resolved once with <see cref="NativeLibrary.TryLoad(string, out nint)"/>.</summary>
    private static class Blas
    {
        public const int RowMajor = 101, NoTrans = 111, Trans = 112;
        public static readonly bool Loaded;
        private static readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
        private static readonly delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void> _dgemm;

        static Blas()
        {
            if (Environment.GetEnvironmentVariable("ANNEAL_NO_BLAS") is "1" or "true") return;
            foreach (var name in new[] { "libopenblas.so.0", "libopenblas.so", "libopenblas.dylib", "libopenblas.dll" })
            {
                if (!NativeLibrary.TryLoad(name, out var lib)) continue;
                if (!NativeLibrary.TryGetExport(lib, "cblas_sgemm", out var s) || !NativeLibrary.TryGetExport(lib, "cblas_dgemm", out var d)) continue;
                _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)s;
                _dgemm = (delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)d;
                // The engine splits work over threads itself; OpenBLAS's own pool would oversubscribe the cores.
                if (NativeLibrary.TryGetExport(lib, "openblas_set_num_threads", out var setThreads))
                    ((delegate* unmanaged<int, void>)setThreads)(1);
                Loaded = true;
                return;
            }
        }

        public static void Sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc) =>
            _sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

        public static void Dgemm(int order, int ta, int tb, int m, int n, int k, double alpha, double* a, int lda, double* b, int ldb, double beta, double* c, int ldc) =>
            _dgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}

/// <summary>Process-wide engine settings.</summary>
public static class Engine
{
    private static int _threads = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Worker threads for matrix products and per-head attention (default: processor count).</summary>
    public static int Threads { get => _threads; set => _threads = Math.Max(1, value); }
}
