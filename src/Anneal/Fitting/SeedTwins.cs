using System.Globalization;
using Anneal.Laws;

namespace Anneal.Fitting;

/// <summary>
/// Two fitted runs of one schedule whose losses differ: two seeds (or data orders) of the same run, that is two
/// trajectories, given to one fit. Every law describes one trajectory, so a joint fit reads the gap between them into its
/// shape. Session 20 measured it (docs/journal/session-20-two-seeds.md, bench two-seeds): fitting both seeds' constant and
/// cosine runs in one fit forecast the other schedules worse than one seed's pair on 9 of 14 corpora (pooled mean error
/// 2.71 -> 3.10 %; gpt-gcide 2.24 -> 4.75 %, whose cosines end 5.5 % apart), while each seed's pair fitted apart and the two
/// forecasts averaged did not lose. So a fit of such runs is a seed ensemble (<see cref="SeedGroups"/>,
/// <see cref="Anneal.Laws.SeedEnsemble"/>) whose report names each pair's gap (<see cref="Description"/>); where the runs are
/// fitted together after all (<see cref="FitOptions.SeedEnsemble"/> off, uneven seed counts) the fit warns (<see cref="Warning"/>).
/// <para>
/// One schedule: the same learning rate at every step both runs have (<see cref="LawRun.Eta"/> over the shorter one), and
/// at least <see cref="MinCommon"/> fitted points at the same steps. A branch of a run and its parent share their rows
/// before the branch: their common points are equal, and they are not twins. The gap: the mean of <c>ln(L_b / L_a)</c> over
/// the last <see cref="EndPoints"/> common points, as a relative difference <c>exp(mean) - 1</c>.
/// </para>
/// </summary>
/// <param name="First">The earlier run of the pair, as given.</param>
/// <param name="Second">The later one.</param>
/// <param name="Step">The last common step the gap is read at.</param>
/// <param name="Gap">The second's loss over the first's, minus one, at the end of their common points.</param>
public sealed record SeedTwins(string First, string Second, long Step, double Gap)
{
    /// <summary>Fewest fitted points at common steps for two runs to be compared.</summary>
    public const int MinCommon = 3;

    /// <summary>The common points, counted from the last, whose mean log ratio is the gap.</summary>
    public const int EndPoints = 5;

    /// <summary>Every pair of <paramref name="runs"/> that is one schedule with different losses, in the order given.</summary>
    public static IReadOnlyList<SeedTwins> Of(IReadOnlyList<LawRun> runs) => Indexed(runs).Select(x => x.Twins).ToArray();

    /// <summary>Every twin pair of <paramref name="runs"/> with the two runs' places in the list (<c>A &lt; B</c>), in the order given.</summary>
    internal static IReadOnlyList<(int A, int B, SeedTwins Twins)> Indexed(IReadOnlyList<LawRun> runs)
    {
        var twins = new List<(int, int, SeedTwins)>();
        for (int a = 0; a < runs.Count; a++)
            for (int b = a + 1; b < runs.Count; b++)
                if (Pair(runs[a], runs[b]) is { } t) twins.Add((a, b, t));
        return twins;
    }

    private static SeedTwins? Pair(LawRun a, LawRun b)
    {
        if (a.Observed is null || b.Observed is null) return null;
        int n = Math.Min(a.Eta.Length, b.Eta.Length);
        if (!a.Eta.AsSpan(0, n).SequenceEqual(b.Eta.AsSpan(0, n))) return null;
        // Common steps: both Steps arrays are strictly increasing.
        var common = new List<(long Step, double A, double B)>();
        for (int i = 0, j = 0; i < a.Steps.Length && j < b.Steps.Length;)
        {
            if (a.Steps[i] < b.Steps[j]) i++;
            else if (a.Steps[i] > b.Steps[j]) j++;
            else { common.Add((a.Steps[i], a.Observed[i], b.Observed[j])); i++; j++; }
        }
        if (common.Count < MinCommon || common.All(c => c.A == c.B)) return null;
        var end = common.TakeLast(EndPoints).ToArray();
        double gap = Math.Exp(end.Average(c => Math.Log(c.B / c.A))) - 1;
        return new SeedTwins(a.Name, b.Name, end[^1].Step, gap);
    }

    /// <summary>What the pair is, with its gap: the first half of <see cref="Warning"/>, and what a seed ensemble's report says of each pair.</summary>
    public string Description => string.Create(CultureInfo.InvariantCulture,
        $"{First} and {Second} are one schedule (the same learning rate at every step) but two trajectories ({Second} ends {(Gap < 0 ? "-" : "+")}{Math.Abs(Gap):0.0%} against {First} by step {Step}: two seeds or data orders)");

    /// <summary>The warning of a joint fit of both (<see cref="FitOptions.SeedEnsemble"/> off, or seed groups that cannot be formed).</summary>
    public string Warning => Description + ": every law describes one trajectory, so one fit reads the gap into its shape (fitting two seeds' runs together forecast worse than one seed's on 9 of 14 corpora, docs/journal/session-20-two-seeds.md); fit each seed's runs apart and compare their forecasts";
}
