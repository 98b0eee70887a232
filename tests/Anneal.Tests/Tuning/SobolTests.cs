using Anneal.Tuning;

namespace Anneal.Tests.Tuning;

public class SobolTests
{
    /// <summary>
    /// The first eight unscrambled Sobol' points in three dimensions with Joe &amp; Kuo's direction numbers, as printed by
    /// SciPy's documentation of scipy.stats.qmc.Sobol(d, scramble=False) and by Joe &amp; Kuo's sobol.cc (which starts at
    /// point 1): dimension 1 is van der Corput in Gray-code order, dimensions 2 and 3 follow from the rows
    /// "2 1 0 1" and "3 2 1 1 3" of new-joe-kuo-6.21201.
    /// </summary>
    [Fact]
    public void First_points_match_the_published_joe_kuo_sequence()
    {
        double[][] expected =
        [
            [0, 0, 0], [0.5, 0.5, 0.5], [0.75, 0.25, 0.25], [0.25, 0.75, 0.75],
            [0.375, 0.375, 0.625], [0.875, 0.875, 0.125], [0.625, 0.125, 0.875], [0.125, 0.625, 0.375],
        ];
        var s = new SobolSequence(3);
        var p = new double[3];
        for (int n = 0; n < expected.Length; n++)
        {
            s.Point(n, p);
            p.ShouldBe(expected[n], $"point {n}");
        }
    }

    /// <summary>
    /// An independent construction: Bratley &amp; Fox's integer recurrence on the m_k
    /// (m_k = 2a_1 m_{k-1} ⊕ 4a_2 m_{k-2} ⊕ ... ⊕ 2^s m_{k-s} ⊕ m_{k-s}) and the direct (not Gray-code) digital
    /// definition x_n = ⊕_k b_k(n) m_k / 2^k. The Gray-code order permutes points within each block of 2^m, so the
    /// first 2^m points must be the same set in all 21 dimensions, and each coordinate must hit each of the 2^m slices
    /// of [0, 1) exactly once.
    /// </summary>
    [Fact]
    public void Gray_code_points_equal_the_direct_definition_as_sets_in_every_dimension()
    {
        (int S, int A, int[] M)[] rows =
        [
            (1, 0, [1]), (2, 1, [1, 3]), (3, 1, [1, 3, 1]), (3, 2, [1, 1, 1]), (4, 1, [1, 1, 3, 3]), (4, 4, [1, 3, 5, 13]),
            (5, 2, [1, 1, 5, 5, 17]), (5, 4, [1, 1, 5, 5, 5]), (5, 7, [1, 1, 7, 11, 19]), (5, 11, [1, 1, 5, 1, 1]),
            (5, 13, [1, 1, 1, 3, 11]), (5, 14, [1, 3, 5, 5, 31]), (6, 1, [1, 3, 3, 9, 7, 49]), (6, 13, [1, 1, 1, 15, 21, 21]),
            (6, 16, [1, 3, 1, 13, 27, 49]), (6, 19, [1, 1, 1, 15, 7, 5]), (6, 22, [1, 3, 1, 15, 13, 25]), (6, 25, [1, 1, 5, 5, 19, 61]),
            (7, 1, [1, 3, 7, 11, 23, 15, 103]), (7, 4, [1, 3, 7, 13, 13, 15, 69]),
        ];
        const int bits = 12, count = 1 << bits;
        var seq = new SobolSequence(SobolSequence.MaxDimension);
        var gray = new double[count][];
        for (int n = 0; n < count; n++) { gray[n] = new double[SobolSequence.MaxDimension]; seq.Point(n, gray[n]); }
        for (int j = 0; j < SobolSequence.MaxDimension; j++)
        {
            var m = new long[bits + 1];
            if (j == 0) for (int k = 1; k <= bits; k++) m[k] = 1;
            else
            {
                var (s, a, init) = rows[j - 1];
                for (int k = 1; k <= s; k++) m[k] = init[k - 1];
                for (int k = s + 1; k <= bits; k++)
                {
                    long v = (1L << s) * m[k - s] ^ m[k - s];
                    for (int i = 1; i < s; i++) if (((a >> (s - 1 - i)) & 1) != 0) v ^= (1L << i) * m[k - i];
                    m[k] = v;
                }
            }
            for (int block = 1; block <= bits; block++)
            {
                int size = 1 << block;
                var direct = new List<long>();
                for (int n = 0; n < size; n++)
                {
                    long x = 0;
                    for (int k = 1; k <= block; k++) if (((n >> (k - 1)) & 1) != 0) x ^= m[k] << (bits - k);
                    direct.Add(x);
                }
                var fromGray = Enumerable.Range(0, size).Select(n => (long)Math.Round(gray[n][j] * (1L << bits))).ToList();
                fromGray.Order().ShouldBe(direct.Order(), $"dimension {j + 1}, first {size} points");
                fromGray.Select(x => x >> (bits - block)).Distinct().Count().ShouldBe(size, $"dimension {j + 1}: one point per slice of 1/{size}");
            }
        }
    }

    [Fact]
    public void Digital_shift_keeps_the_stratification()
    {
        var s = new SobolSequence(4, shiftSeed: 7);
        var p = new double[4];
        var slices = new HashSet<int>[4];
        for (int j = 0; j < 4; j++) slices[j] = [];
        for (int n = 0; n < 64; n++)
        {
            s.Point(n, p);
            for (int j = 0; j < 4; j++) slices[j].Add((int)(p[j] * 64));
        }
        slices.ShouldAllBe(h => h.Count == 64);
    }
}
