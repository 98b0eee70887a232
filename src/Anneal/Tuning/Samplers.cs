namespace Anneal.Tuning;

/// <summary>
/// Chooses the parameters of the next trial from the study's trials so far (complete, pruned, failed and running).
/// Samplers are deterministic in (seed, trial number, history), so a resumed study proposes what it would have.
/// </summary>
public interface ISampler
{
    /// <summary>The sampler's name as written in a study file.</summary>
    string Name { get; }

    /// <summary>Parameters for trial <paramref name="number"/>; null when the sampler has nothing left (a finished grid).</summary>
    TrialParams? Propose(SearchSpace space, IReadOnlyList<TrialRecord> trials, int number);
}

/// <summary>Helpers shared by samplers.</summary>
public static class Samplers
{
    /// <summary>
    /// Proposals for <paramref name="count"/> parallel workers: each proposal joins the history as a running trial
    /// before the next is made, so a model-based sampler spreads the batch (for the Gaussian process, the kriging
    /// believer of Ginsbourger, Le Riche &amp; Carraro 2010: a pending point counts at its posterior mean).
    /// </summary>
    public static IReadOnlyList<TrialParams> ProposeBatch(ISampler sampler, SearchSpace space, IReadOnlyList<TrialRecord> trials, int firstNumber, int count)
    {
        var history = trials.ToList();
        var batch = new List<TrialParams>();
        for (int i = 0; i < count; i++)
        {
            var p = sampler.Propose(space, history, firstNumber + i);
            if (p is null) break;
            batch.Add(p);
            history.Add(new TrialRecord(firstNumber + i, p, TrialState.Running, null, []));
        }
        return batch;
    }

    /// <summary>A random stream for (seed, trial number), independent of how many draws earlier trials made.</summary>
    internal static Random Stream(int seed, int number, int salt = 0)
    {
        // SplitMix64 finaliser of the packed triple: nearby seeds and numbers give unrelated streams.
        ulong z = ((ulong)(uint)seed << 32 | (uint)number) + 0x9E3779B97F4A7C15UL * (ulong)(salt + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return new Random((int)(z & 0x7FFFFFFF));
    }
}

/// <summary>Independent uniform draws in each parameter's unit coordinate (log-uniform for log domains).</summary>
public sealed class RandomSampler(int seed = 0) : ISampler
{
    /// <inheritdoc/>
    public string Name => "random";

    /// <inheritdoc/>
    public TrialParams Propose(SearchSpace space, IReadOnlyList<TrialRecord> trials, int number)
    {
        var rng = Samplers.Stream(seed, number);
        Span<double> u = stackalloc double[space.Count];
        for (int i = 0; i < u.Length; i++) u[i] = rng.NextDouble();
        return space.FromUnit(u);
    }
}

/// <summary>
/// Every combination of grid points in a fixed order (the last parameter varies fastest): all choices of a
/// categorical, whole numbers up to <paramref name="points"/>, <paramref name="points"/> even (log-even) points of a range.
/// Each proposal is the first combination that no trial of the study has yet, so a requeued copy of a dead worker's
/// trial (same parameters, a later number) does not skip a combination; the grid ends when every combination is taken.
/// </summary>
public sealed class GridSampler(int points = 5) : ISampler
{
    /// <inheritdoc/>
    public string Name => "grid";

    /// <summary>Number of grid points per real-valued parameter.</summary>
    public int Points => points;

    /// <summary>Number of combinations in the grid of <paramref name="space"/>.</summary>
    public long Size(SearchSpace space) => space.Parameters.Aggregate(1L, (acc, p) => checked(acc * p.Domain.Grid(points).Count));

    /// <inheritdoc/>
    public TrialParams? Propose(SearchSpace space, IReadOnlyList<TrialRecord> trials, int number)
    {
        long size = Size(space);
        var grids = space.Parameters.Select(p => p.Domain.Grid(points)).ToArray();
        var taken = trials.Select(t => t.Params).ToHashSet();
        for (long n = 0; n < size; n++)
            if (Combination(space, grids, n) is var c && !taken.Contains(c)) return c;
        return null;
    }

    private static TrialParams Combination(SearchSpace space, IReadOnlyList<ParamValue>[] grids, long n)
    {
        var items = new KeyValuePair<string, ParamValue>[space.Count];
        for (int i = space.Count - 1; i >= 0; i--)
        {
            items[i] = new(space.Parameters[i].Name, grids[i][(int)(n % grids[i].Count)]);
            n /= grids[i].Count;
        }
        return new TrialParams(items);
    }
}

/// <summary>
/// Sobol' quasi-random points (<see cref="SobolSequence"/>), one coordinate per parameter, digitally shifted by the
/// seed. Trial n takes point n + 1 (point 0 is the corner of lowest values). Covers the space more evenly than random
/// draws: the first 2^m points put one point in each of 2^m equal slices of every coordinate.
/// </summary>
public sealed class SobolSampler(int seed = 0, bool shift = true) : ISampler
{
    private SobolSequence? _sequence;

    /// <inheritdoc/>
    public string Name => "sobol";

    /// <inheritdoc/>
    public TrialParams Propose(SearchSpace space, IReadOnlyList<TrialRecord> trials, int number)
    {
        if (_sequence is null || _sequence.Dimension != space.Count) _sequence = new SobolSequence(space.Count, shift ? seed : null);
        Span<double> u = stackalloc double[space.Count];
        _sequence.Point(number + 1, u);
        return space.FromUnit(u);
    }
}
