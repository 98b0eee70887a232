using Anneal.Laws;

namespace Anneal.Fitting;

/// <summary>
/// Fitted runs split into seed groups, one trajectory each, for a seed ensemble (<see cref="SeedEnsemble"/>). Runs that are
/// one schedule with different losses (<see cref="SeedTwins"/>, joined transitively: three seeds of one schedule are one
/// class of three) are seeds of that schedule. Every run without a twin joins every group: it is the only trajectory of its
/// schedule the fit has, so each group fits it (the groups then share that run's seed, and the report says so).
/// <para>
/// Which twin goes with which: by seed where the twins state theirs (<see cref="SeedOf"/>: <see cref="LawRun.Seed"/>, a
/// corpus's <c>seed</c> field, or a seed named in the run's name, <c>constant_s2</c>): group i holds the runs with twins of
/// the i-th smallest seed (a branch of a seed's run is that seed's, whichever other seed's run it is a twin of) and the
/// runs without twins. Then every run with a twin must state a seed, no twin pair may state one seed (two trajectories),
/// and every run with a twin must have a twin of every seed stated (so each seed's runs are one whole trajectory of what the
/// others ran); otherwise the groups cannot be formed consistently and <see cref="Of"/> throws <see cref="InputException"/>
/// saying which runs and how to fix them.
/// </para>
/// <para>
/// Where no twin states a seed, by the order the runs were given: with k the largest class, group i takes the i-th run of
/// every class of k (so give each seed's runs in the same order: constant_a, cosine_a, constant_b, cosine_b group as
/// {constant_a, cosine_a}, {constant_b, cosine_b}). Classes of unequal sizes between 2 and k (three runs of one schedule,
/// two of another) cannot then be split into whole trajectories without guessing which seed is which: there are no groups
/// (<see cref="Groups"/> empty), the runs are fitted together as before and <see cref="Why"/> says why.
/// </para>
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
        if (pairs.Any(p => SeedOf(runs[p.A]) is not null || SeedOf(runs[p.B]) is not null)) return BySeed(runs, pairs);
        // In the order given. Classes of one schedule: union-find over the twin pairs, each class's runs kept in that order.
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

    /// <summary>
    /// The seed <paramref name="run"/> states: <see cref="LawRun.Seed"/>, else the last <c>sN</c> of its name that follows the
    /// start, <c>_</c>, <c>-</c> or <c>.</c> and is followed by no letter or digit (<c>cosine_T600_s2</c>, <c>constant_s1[:2000]</c>:
    /// 2 and 1); null when it states none.
    /// </summary>
    public static int? SeedOf(LawRun run)
    {
        if (run.Seed is { } seed) return seed;
        var m = SeedInName.Matches(run.Name);
        return m.Count > 0 && int.TryParse(m[^1].Groups[1].Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    private static readonly System.Text.RegularExpressions.Regex SeedInName = new(@"(?:^|[_.\-])s(\d{1,9})(?![0-9A-Za-z])", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>The groups of runs whose twins state their seeds: one per seed, smallest first (see the type's description).</summary>
    private static SeedGroups BySeed(IReadOnlyList<LawRun> runs, IReadOnlyList<(int A, int B, SeedTwins Twins)> pairs)
    {
        string Names(IEnumerable<int> ix) => string.Join(", ", ix.Select(i => runs[i].Name));
        string Stated(IEnumerable<int> ix) => string.Join(", ", ix.Select(i => $"{runs[i].Name} seed {SeedOf(runs[i])}"));
        const string how = "a corpus's seed field, or the seed in the run's name such as constant_s2";
        var twinned = pairs.SelectMany(p => new[] { p.A, p.B }).Distinct().Order().ToArray();
        var silent = twinned.Where(i => SeedOf(runs[i]) is null).ToArray();
        if (silent.Length > 0)
        {
            var stating = twinned.Where(i => SeedOf(runs[i]) is not null).Take(4);
            throw new InputException($"seed groups: {Names(silent)} state{(silent.Length == 1 ? "s" : "")} no seed while other runs with twins do ({Stated(stating)}), so which seed {(silent.Length == 1 ? "it belongs" : "they belong")} to cannot be told; state every such run's seed ({how}) or none (then runs are paired in the order given)");
        }
        int Seed(int i) => SeedOf(runs[i])!.Value;
        // Twins are two trajectories: one seed cannot have both. (Pairs only: a branch and its parent, one trajectory, are no pair.)
        if (pairs.FirstOrDefault(p => Seed(p.A) == Seed(p.B)) is { Twins: not null } same)
            throw new InputException($"seed groups: {runs[same.A].Name} and {runs[same.B].Name} are one schedule with different losses (two trajectories) but state the same seed {Seed(same.A)}; one of them is another seed's run: correct its seed ({how})");
        // Each seed's runs must be one whole trajectory of every schedule the others ran: every run with a twin has one of every seed.
        var seeds = twinned.Select(Seed).Distinct().Order().ToArray();
        foreach (int i in twinned)
        {
            var have = pairs.Where(p => p.A == i || p.B == i).Select(p => Seed(p.A == i ? p.B : p.A)).Append(Seed(i)).ToHashSet();
            if (seeds.Where(x => !have.Contains(x)).ToArray() is { Length: > 0 } missing)
                throw new InputException($"seed groups: {runs[i].Name} (seed {Seed(i)}) has no twin of seed {string.Join(", ", missing)} (a run of its schedule with that seed's losses), while the fitted runs hold seeds {string.Join(", ", seeds)}; to fit each seed's runs apart every run with a twin needs one of every seed: leave out the runs of seed {string.Join(", ", missing)}, or add {(missing.Length == 1 ? "that seed's" : "those seeds'")} run of {runs[i].Name}'s schedule");
        }
        var shared = Enumerable.Range(0, runs.Count).Except(twinned).ToHashSet();
        var groups = seeds.Select(seed => (IReadOnlyList<LawRun>)Enumerable.Range(0, runs.Count)
            .Where(i => shared.Contains(i) || Seed(i) == seed).Select(i => runs[i]).ToArray()).ToArray();
        return new SeedGroups(groups, pairs.Select(p => p.Twins).ToArray(), shared.Order().Select(i => runs[i].Name).ToArray(), null);
    }
}
