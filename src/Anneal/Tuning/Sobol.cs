namespace Anneal.Tuning;

/// <summary>
/// The Sobol' low-discrepancy sequence in base 2 (Bratley &amp; Fox 1988, algorithm 659, Gray-code order as in
/// Antonov &amp; Saleev 1979) with Joe &amp; Kuo's direction numbers (2008, set new-joe-kuo-6.21201), dimensions 1-21.
/// Point 0 is the origin; point n differs from point n-1 by one direction number per dimension (XOR of v at the
/// lowest zero bit of n-1), so a point costs O(dimension). An optional digital shift (XOR of every coordinate
/// with a fixed random word) randomises the sequence per seed and keeps its net properties.
/// </summary>
public sealed class SobolSequence
{
    /// <summary>Bits per coordinate: points are multiples of 2^-32.</summary>
    public const int Bits = 32;

    // Joe & Kuo, new-joe-kuo-6.21201, rows d = 2..21: degree s of the primitive polynomial, its coefficient word a,
    // and the initial direction numbers m_1..m_s. Dimension 1 is van der Corput (all m = 1) and needs no row.
    private static readonly (int S, int A, int[] M)[] JoeKuo =
    [
        (1, 0, [1]), (2, 1, [1, 3]), (3, 1, [1, 3, 1]), (3, 2, [1, 1, 1]), (4, 1, [1, 1, 3, 3]), (4, 4, [1, 3, 5, 13]),
        (5, 2, [1, 1, 5, 5, 17]), (5, 4, [1, 1, 5, 5, 5]), (5, 7, [1, 1, 7, 11, 19]), (5, 11, [1, 1, 5, 1, 1]),
        (5, 13, [1, 1, 1, 3, 11]), (5, 14, [1, 3, 5, 5, 31]), (6, 1, [1, 3, 3, 9, 7, 49]), (6, 13, [1, 1, 1, 15, 21, 21]),
        (6, 16, [1, 3, 1, 13, 27, 49]), (6, 19, [1, 1, 1, 15, 7, 5]), (6, 22, [1, 3, 1, 15, 13, 25]), (6, 25, [1, 1, 5, 5, 19, 61]),
        (7, 1, [1, 3, 7, 11, 23, 15, 103]), (7, 4, [1, 3, 7, 13, 13, 15, 69]),
    ];

    /// <summary>Largest supported dimension.</summary>
    public const int MaxDimension = 21;

    private readonly uint[][] _v; // _v[j][k]: direction number k of dimension j, left-aligned in 32 bits
    private readonly uint[] _shift;

    /// <summary>Dimension of the points.</summary>
    public int Dimension { get; }

    /// <summary>A sequence of <paramref name="dimension"/>-dimensional points; <paramref name="shiftSeed"/> non-null applies a digital shift.</summary>
    public SobolSequence(int dimension, int? shiftSeed = null)
    {
        if (dimension < 1 || dimension > MaxDimension)
            throw new InputException($"Sobol points have 1 to {MaxDimension} dimensions, asked for {dimension}; use the random sampler for larger spaces");
        Dimension = dimension;
        _v = new uint[dimension][];
        for (int j = 0; j < dimension; j++) _v[j] = Directions(j);
        _shift = new uint[dimension];
        if (shiftSeed is { } seed)
        {
            var rng = new Random(seed);
            for (int j = 0; j < dimension; j++) _shift[j] = (uint)rng.NextInt64(0, 1L << 32);
        }
    }

    /// <summary>Direction numbers v_1..v_32 of dimension <paramref name="j"/> (0-based), scaled by 2^32.</summary>
    private static uint[] Directions(int j)
    {
        var v = new uint[Bits];
        if (j == 0)
        {
            for (int k = 0; k < Bits; k++) v[k] = 1u << (Bits - 1 - k);
            return v;
        }
        var (s, a, m) = JoeKuo[j - 1];
        for (int k = 0; k < s; k++) v[k] = (uint)m[k] << (Bits - 1 - k);
        // Recurrence of the primitive polynomial x^s + a_1 x^{s-1} + ... + a_{s-1} x + 1 (Bratley & Fox eq. 2):
        // v_k = a_1 v_{k-1} ^ a_2 v_{k-2} ^ ... ^ a_{s-1} v_{k-s+1} ^ v_{k-s} ^ (v_{k-s} >> s).
        for (int k = s; k < Bits; k++)
        {
            uint x = v[k - s] ^ (v[k - s] >> s);
            for (int i = 1; i < s; i++)
                if (((a >> (s - 1 - i)) & 1) != 0) x ^= v[k - i];
            v[k] = x;
        }
        return v;
    }

    /// <summary>
    /// Writes point <paramref name="index"/> (0 = the origin before shifting) into <paramref name="point"/>, in [0, 1).
    /// Computed from the Gray code of the index directly, so any index is O(dimension x bits) with no state.
    /// </summary>
    public void Point(long index, Span<double> point)
    {
        if (index < 0 || index >= 1L << Bits) throw new ArgumentOutOfRangeException(nameof(index), "Sobol index must be in [0, 2^32)");
        ulong gray = (ulong)index ^ ((ulong)index >> 1);
        for (int j = 0; j < Dimension; j++)
        {
            uint x = 0;
            var v = _v[j];
            for (int k = 0; gray >> k != 0; k++)
                if (((gray >> k) & 1) != 0) x ^= v[k];
            point[j] = (x ^ _shift[j]) / 4294967296.0;
        }
    }
}
