using System.Globalization;
using Anneal.Fitting;

namespace Anneal.Laws;

/// <summary>
/// A law fitted to two or more seeds of the same schedules as one fit per seed (<see cref="SeedGroups"/>), forecasting their
/// mean. Every law describes one trajectory; two seeds' runs are two, and one joint fit reads the gap between them into its
/// shape (session 20: the joint fit of both seeds' constant and cosine runs forecast worse than one seed's pair on 9 of 14
/// corpora, pooled 2.71 -> 3.10 %). Each group's fit sees one trajectory; the mean of the groups' forecasts estimates what
/// the schedule yields over seeds. Measured in session 21 (docs/journal/session-21-seeds.md, bench seed-ensemble).
/// <para>
/// Forecast: the geometric mean of the G groups' forecasts, <c>L = exp(mean_g ln L_g)</c>, point by point (the mean in log
/// loss, the scale the laws are fitted and the bands drawn on; it is below the arithmetic mean by about
/// <c>(ln(L_1/L_2))^2 / 8</c> relative for two groups: 0.01 % at a 3 % gap).
/// </para>
/// <para>
/// Band: <c>L exp(+-(sqrt(mean_g w_g^2) + max_g |ln(L_g / L)|))</c>, w_g each group's own log half-width
/// (<c>ln(High_g / Low_g) / 2</c>): the groups' bands' root mean square half-width (what each fit knows of its own error),
/// widened by the largest group's distance from the mean (half the groups' spread for two: what the fits disagree by,
/// which no single fit's band sees). It holds every group's forecast, and every group's band to within the groups' difference
/// in width, so a run of either seed is covered about as its own seed's fit would cover it. No constant is fitted. Chosen
/// among four parameter-free forms on the two-seed question of the fourteen corpora with two seeds, seeing them (bench
/// seed-ensemble; first-seed finals of the schedules question, 340 with a band): the root mean square alone (session 20's
/// b': 316 covered, median half-width 4.72 %; gpt-rope-lion, whose seeds sit 4 % apart, 9/25), the same with the spread in
/// quadrature (325, 5.08 %; gpt-rope-lion 18/25), this sum (333, 5.38 %; every corpus covered at least as often as by the
/// first seed's own fit) and the union of the groups' bands (333, 5.49 %). The narrowest that loses no corpus against one
/// seed's fit; wider than one seed's band (4.20 %) by the seeds' disagreement (docs/journal/session-21-seeds.md). No band where
/// any group has none (the first such group's reason is given).
/// </para>
/// </summary>
/// <param name="Groups">Each seed group's fit, in the order of <see cref="SeedGroups.Groups"/>; its runs are its report's <see cref="FitReport.Runs"/>.</param>
public sealed record SeedEnsemble(IReadOnlyList<FittedLaw> Groups)
{
    /// <summary>The forecast of <paramref name="run"/>: every group's forecast combined (<see cref="Combine"/>).</summary>
    public LawPrediction Predict(LawRun run, double level) => Combine(Groups.Select(g => g.Predict(run, level)).ToArray());

    /// <summary>The first group that fitted the run named <paramref name="run"/> (a run without a twin is in every group); null: none did.</summary>
    public FittedLaw? GroupOf(string run) => Groups.FirstOrDefault(g => g.Report.Runs.Contains(run));

    /// <summary>
    /// The groups' forecasts of one schedule as one: the geometric mean, and the band of the type's description (none where
    /// any group has none). A forecast's warning is the first group's that has one (the groups share their horizon and epoch).
    /// </summary>
    public static LawPrediction Combine(IReadOnlyList<LawPrediction> groups)
    {
        if (groups.Count == 0) throw new ArgumentException("a seed ensemble has at least one group", nameof(groups));
        var first = groups[0];
        int n = first.Loss.Length, g = groups.Count;
        var loss = new double[n];
        var lo = new double[n];
        var hi = new double[n];
        int noBand = groups.ToList().FindIndex(p => !p.HasBand);
        Span<double> at = stackalloc double[g], atLow = stackalloc double[g], atHigh = stackalloc double[g];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < g; k++) { at[k] = groups[k].Loss[i]; atLow[k] = groups[k].Low[i]; atHigh[k] = groups[k].High[i]; }
            loss[i] = noBand >= 0 ? CombinePoint(at, default, default, out lo[i], out hi[i]) : CombinePoint(at, atLow, atHigh, out lo[i], out hi[i]);
        }
        string? unavailable = noBand < 0 ? null : string.Create(CultureInfo.InvariantCulture, $"seed group {noBand + 1}: {groups[noBand].BandUnavailable}");
        return new LawPrediction(first.Steps, loss, lo, hi, first.Level)
        {
            BandUnavailable = unavailable,
            Warning = groups.Select(p => p.Warning).FirstOrDefault(w => w is not null),
        };
    }

    /// <summary>
    /// One point of <see cref="Combine"/>: the groups' losses <paramref name="loss"/> (and bands <paramref name="low"/>,
    /// <paramref name="high"/>) as the ensemble's, <c>L = exp(mean_g ln L_g)</c>, band
    /// <c>L exp(+-(sqrt(mean_g w_g^2) + max_g |ln(L_g / L)|))</c>, w_g = ln(high_g / low_g) / 2 (the type's description).
    /// Empty <paramref name="low"/>: no band (<paramref name="bandLow"/>, <paramref name="bandHigh"/> NaN). Every forecast
    /// of an ensemble combines through here, a curve's (<see cref="Predict"/>) and a designed schedule's final loss
    /// (<c>DesignLaw.Predict</c>).
    /// </summary>
    public static double CombinePoint(ReadOnlySpan<double> loss, ReadOnlySpan<double> low, ReadOnlySpan<double> high, out double bandLow, out double bandHigh)
    {
        int g = loss.Length;
        if (g == 0) throw new ArgumentException("a seed ensemble has at least one group", nameof(loss));
        double meanLog = 0;
        foreach (double l in loss) meanLog += Math.Log(l);
        meanLog /= g;
        double mean = Math.Exp(meanLog);
        if (low.IsEmpty) { bandLow = bandHigh = double.NaN; return mean; }
        double squares = 0, farthest = 0;
        for (int k = 0; k < g; k++)
        {
            double w = Math.Log(high[k] / low[k]) / 2;
            squares += w * w;
            farthest = Math.Max(farthest, Math.Abs(Math.Log(loss[k]) - meanLog));
        }
        double half = Math.Sqrt(squares / g) + farthest;
        bandLow = mean * Math.Exp(-half);
        bandHigh = mean * Math.Exp(half);
        return mean;
    }

    /// <summary>
    /// The ensemble as one fitted law (what <see cref="LawFitter.Fit"/> returns and law.json records): the first group's fit
    /// (its law, values, members, regime check and epoch: what a reader of one parameter vector takes; the schedule designer
    /// reads every group, <c>DesignLaw.FromFitted</c>) with <see cref="FittedLaw.Seeds"/> set, so that every forecast is the ensemble's. Its
    /// report lists every run fitted (<paramref name="runs"/>, in the order given), the points and seconds of all groups, and
    /// as its first warning what was grouped and why (<paramref name="grouping"/>), then each group's warnings. The regime check
    /// recorded is the first group's that fires, if any (its band is withheld past the horizon in the ensemble too).
    /// </summary>
    public static FittedLaw AsFit(SeedGroups grouping, IReadOnlyList<FittedLaw> groups, IReadOnlyList<LawRun> runs)
    {
        var ensemble = new SeedEnsemble(groups);
        var first = groups[0];
        var warnings = new List<string> { ensemble.Describe(grouping) };
        for (int i = 0; i < groups.Count; i++)
            warnings.AddRange(groups[i].Report.Warnings.Select(w => $"seed group {i + 1}: {w}"));
        var report = first.Report with
        {
            Runs = runs.Select(r => r.Name).ToArray(),
            Points = groups.Sum(x => x.Report.Points),
            WallSeconds = groups.Sum(x => x.Report.WallSeconds),
            Warnings = warnings.ToArray(),
        };
        return first with { Report = report, Seeds = ensemble, Regime = groups.Select(x => x.Regime).FirstOrDefault(x => x?.Fires == true) ?? first.Regime };
    }

    /// <summary>What the fit did, for its report: the twins found, the groups and their runs, the shared runs, how forecasts combine.</summary>
    public string Describe(SeedGroups grouping)
    {
        var groups = string.Join("; ", Groups.Select((x, i) => $"group {i + 1}: {string.Join(", ", x.Report.Runs)}"));
        string shared = grouping.Shared.Count == 0 ? ""
            : $"; {string.Join(", ", grouping.Shared)} {(grouping.Shared.Count == 1 ? "has" : "have")} no twin and {(grouping.Shared.Count == 1 ? "is" : "are")} fitted in every group, so the groups share {(grouping.Shared.Count == 1 ? "its" : "their")} seed's luck (give each seed every schedule for groups that do not)";
        return $"seed ensemble: {string.Join("; ", grouping.Twins.Select(t => t.Description))}; every law describes one trajectory, so each seed's runs were fitted apart ({groups}){shared}; a forecast is the geometric mean of the {Groups.Count} groups' forecasts, its band each group's band (root mean square half-width) widened by the largest group's distance from the mean (docs/journal/session-21-seeds.md)";
    }
}
