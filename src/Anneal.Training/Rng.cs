namespace Anneal.Training;

/// <summary>
/// A small deterministic random generator (SplitMix64 seeding + xoshiro256**, Blackman and Vigna 2018).
/// Its whole state is four words, so runs are reproducible across machines and .NET versions, unlike
/// <see cref="System.Random"/>. The engine derives a fresh generator per (seed, step, purpose) rather
/// than carrying one along, so a resumed run draws exactly the numbers an uninterrupted one would.
/// </summary>
public struct Rng
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A generator for <paramref name="seed"/> mixed with optional stream identifiers.</summary>
    public Rng(ulong seed, ulong stream = 0, ulong substream = 0)
    {
        ulong x = seed ^ (stream * 0x9E3779B97F4A7C15UL) ^ (substream * 0xD1B54A32D192ED03UL);
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextULong()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3; _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n) (Lemire's multiply-shift; bias below 2^-32 for n &lt; 2^32).</summary>
    public int NextInt(int n) => (int)((NextULong() >> 32) * (ulong)n >> 32);

    /// <summary>Standard normal by Box-Muller (one of the pair is discarded to keep the state simple).</summary>
    public double NextNormal()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
