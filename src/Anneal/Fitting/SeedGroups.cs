using Anneal.Laws;

namespace Anneal.Fitting;

/// <summary>
/// Fitted runs split into seed groups, one trajectory each, for a seed ensemble (<see cref="SeedEnsemble"/>). Runs that are
/// one schedule with different losses (<see cref="SeedTwins"/>, joined transitively: three seeds of one schedule are one
/// class of three) are seeds of that schedule. With k the largest such class, group i takes the i-th run of every class of
/// k, in the order the runs were given (so give each seed's runs in the same order: constant_s1, cosine_s1, constant_s2,
/// cosine_s2 groups as {constant_s1, cosine_s1}, {constant_s2, cosine_s2}), and every run without a twin joins every group:
/// it is the only trajectory of its schedule the fit has, so each group fits it (the groups then share that run's seed, and
/// the report says so). Classes of unequal sizes between 2 and k (three seeds of one schedule, two of another) cannot be
/// split into whole trajectories without guessing which seed is which: then there are no groups (<see cref="Groups"/>
/// empty), the runs are fitted together as before and <see cref="Why"/> says why.
/// </summary>
/// <param name="Groups">The runs of each group, in the order given; empty when the runs hold no twins or cannot be grouped.</param>
/// <param name="Twins">Every twin pair found (<see cref="SeedTwins.Of"/>).</param>
/// <param name="Shared">The runs without a twin that every group fits (names), in the order given.</param>
/// <param name="Why">Why the runs with twins were not grouped; null when they were, or had no twins.</param>
public sealed record SeedGroups(IReadOnlyList<IReadOnlyList<LawRun>> Groups, IReadOnlyList<SeedTwins> Twins, IReadOnlyList<string> Shared, string? Why)
{
    /// <summary>The seed groups of <paramref name="runs"/> (see the type's description).</summary>
    public static SeedGroups Of(IReadOnlyList<LawRun> runs)
    {
        var pairs = SeedTwins.Indexed(runs);
        var twins = pairs.Select(p => p.Twins).ToArray();
        if (pairs.Count == 0) return new SeedGroups([], twins, [], null);
        // Classes of one schedule: union-find over the twin pairs, each class's runs kept in the order given.
        var parent = Enumerable.Range(0, runs.Count).ToArray();
        int Root(int i) { while (parent[i] != i) i = parent[i] = parent[parent[i]]; return i; }
        foreach (var (a, b, _) in pairs) parent[Root(b)] = Root(a);
        var classes = Enumerable.Range(0, runs.Count).GroupBy(Root).Select(g => g.OrderBy(i => i).ToArray()).ToArray();
        int k = classes.Max(c => c.Length);
        var uneven = classes.Where(c => c.Length > 1 && c.Length < k).ToArray();
        if (uneven.Length > 0)
        {
            var big = classes.First(c => c.Length == k);
            string why = $"the seed groups are uneven ({string.Join(", ", big.Select(i => runs[i].Name))} are {k} runs of one schedule, {string.Join(", ", uneven[0].Select(i => runs[i].Name))} {uneven[0].Length}), so which run is which seed's cannot be told: fitted together as one trajectory; give every schedule the same number of seeds to fit each seed apart";
            return new SeedGroups([], twins, [], why);
        }
        var shared = classes.Where(c => c.Length == 1).Select(c => c[0]).ToHashSet();
        var groups = Enumerable.Range(0, k).Select(g =>
        {
            var members = classes.Where(c => c.Length == k).Select(c => c[g]).Concat(shared).OrderBy(i => i);
            return (IReadOnlyList<LawRun>)members.Select(i => runs[i]).ToArray();
        }).ToArray();
        return new SeedGroups(groups, twins, shared.OrderBy(i => i).Select(i => runs[i].Name).ToArray(), null);
    }
}
