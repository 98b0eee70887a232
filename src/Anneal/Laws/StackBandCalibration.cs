using System.Globalization;

namespace Anneal.Laws;

/// <summary>
/// One held-out forecast of the band's calibration: its corpus and question, its log error ln(observed / forecast), and
/// the band's inputs as <see cref="StackBand.RelativeVariance(double, double, double, double, double, double, double)"/> takes them (the disagreement of every fitted member, that
/// of the members of positive weight, the end misfit M, the future error F, NaN when not measured, and the extrapolation
/// in intrinsic time h, <see cref="StackBand.Extrapolation"/>, the fitted runs' point noise N, <see cref="StackBand.NoiseOf"/>,
/// and the own relative variance of the stack's band-carrying member, <c>own</c>, session 22).
/// </summary>
public sealed record BandCalibrationRow(string Corpus, string Question, double LogError, double Disagreement, double Chosen, double EndMisfit, double FutureError, double Extrapolation, double Noise = double.NaN, double Own = 0)
{
    /// <summary>The group whose coverage is held to the rule: the corpus, the published split of a size apart (another kind of fit).</summary>
    public string Group => Question == StackBandCalibration.Published ? Corpus + "/" + Question : Corpus;
}

/// <summary>
/// The constants of <see cref="StackBand"/>: k, kw, a, b, the floor s, the extrapolation's scale c (session 16), the noise
/// floor N0 (session 18; 0: no noise factor), the disagreements' discount D (session 20: their variance counts
/// <c>e^(-2 D h)</c>; 1 as sessions 13-19, 0 undiscounted) and the scale u of the members' own variance (session 22).
/// </summary>
public sealed record BandConstants(double K, double KW, double A, double B, double S, double C = 0, double N0 = 0, double D = 1, double U = 0)
{
    /// <summary>The constants in use (<see cref="StackBand"/>).</summary>
    public static BandConstants InUse => new(StackBand.DisagreementScale, StackBand.WeightedDisagreementScale, StackBand.MisfitScale, StackBand.FutureScale, StackBand.FloorScale, StackBand.ExtrapolationScale, StackBand.NoiseFloor, StackBand.DisagreementDiscount, StackBand.OwnScale);

    /// <summary>The relative variance of the band for one row's inputs, as <see cref="StackBand.RelativeVariance(double, double, double, double, double, double, double)"/> computes it with these constants.</summary>
    public double Variance(BandCalibrationRow r) => StackBand.RelativeVariance(r.Disagreement, r.Chosen, r.EndMisfit, r.FutureError, r.Extrapolation, r.Noise, this, r.Own);

    /// <summary>The line to copy into <see cref="StackBand"/>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"k = {K:0.###}, kw = {KW:0.###}, a = {A:0.###}, b = {B:0.###}, s = {S:0.#####}, c = {C:0.#####}, N0 = {N0:0.#####}, D = {D:0.##}, u = {U:0.###}");
}

/// <summary>
/// The calibration rule of the <c>auto</c> band's constants (docs/journal/session-12-bands.md), run by
/// <c>dotnet run -c Release --project bench/Anneal.Bench -- band-calibration . rows.csv</c> on the forecasting benchmark's
/// held-out finals. Among the constants whose 95 % band covers
/// <list type="bullet">
/// <item>at least 95 % of all the forecasts,</item>
/// <item>every corpus: at least 90 % of one with 20 forecasts or more, else all but one at most (the published split of a
/// size counted apart),</item>
/// <item>every question pooled over the corpora (the schedules question, the WSD question of cooldown branches, the
/// published splits): at least 90 % of one with 20 forecasts or more, else all but one at most, as a corpus (session 13:
/// without it the WSD question's bands covered 20 of 24, its five to seven forecasts a corpus each one miss apart;
/// session 14: at every size, so that a calibration leaving one corpus out still holds the question),</item>
/// <item>and at most 98 % of every question with 20 forecasts or more (issue 10's upper bound: a band that never misses is
/// wider than 95 % needs; held per question, not per corpus, so that a corpus cannot meet it by missing the forecasts of
/// its other, smaller question),</item>
/// </list>
/// the one of the smallest mean log half-width. Search: the shape of the band (the ratios of k, kw, a, b, s) on a grid,
/// and for each shape its scale solved exactly, split-conformal style: with normalised scores |e| / (z sigma), the
/// smallest scale that meets every lower bound is the largest of the order statistics they ask for (the pooled 95 %
/// quantile, each corpus's and large pooled question's 90 % one, each small group's second largest); the shape is feasible when that scale stays
/// below every large question's largest score. The printed constants are rounded up to three decimals (the floor s to
/// five), then checked again.
/// </summary>
public static class StackBandCalibration
{
    /// <summary>The question name of the published multi-power-law split's forecasts.</summary>
    public const string Published = "published";

    /// <summary>Pooled coverage the band must reach; a corpus of <see cref="LargeGroup"/> forecasts or more must reach <see cref="CorpusLow"/>, a question that large stay at or below <see cref="QuestionHigh"/>.</summary>
    public const double Pooled = 0.95, CorpusLow = 0.90, QuestionHigh = 0.98;

    /// <summary>A group of at least this many forecasts is held to a fraction; a smaller one may miss one forecast.</summary>
    public const int LargeGroup = 20;

    /// <summary>
    /// The shapes the rule tries: k and kw in [0, 0.5], a in [0, 2], b in [0, 1.5], and with <paramref name="floor"/> s in
    /// [0, 0.4 %], else s = 0 (the band calibration tool keeps the floor only where it holds with each corpus left out).
    /// </summary>
    public static IEnumerable<BandConstants> Shapes(bool floor = true)
    {
        for (int k = 0; k <= 6; k++)
            for (int kw = 0; kw <= 10; kw++)
                for (int a = 0; a <= 16; a++)
                    for (int b = 0; b <= 12; b++)
                        for (int s = 0; s <= (floor ? 16 : 0); s++)
                            if (k + kw + a + b + s > 0)
                                yield return new BandConstants(0.05 * k, 0.05 * kw, 0.125 * a, 0.125 * b, 0.00025 * s);
    }

    /// <summary>
    /// The shapes of the band that does not depend on the fit (session 16): <c>s^2 + c^2 h^2</c>, k = kw = a = b = 0, the
    /// ratio c / s in [0, 10] by 0.1 (the scale, solved exactly, sets both). The band calibration tool offers it beside
    /// <see cref="Shapes"/> with and without the floor and keeps the form whose calibrations with each corpus left out
    /// cover best.
    /// </summary>
    public static IEnumerable<BandConstants> ExtrapolationShapes() => ExtrapolationShapes(0);

    /// <summary>
    /// <see cref="ExtrapolationShapes()"/> times the noise factor <c>max(N, N0) / N0</c> of the fit's point noise N, with
    /// N0 = <paramref name="noiseFloor"/> (0: none; session 18, <see cref="StackBand.NoiseFloor"/>).
    /// </summary>
    public static IEnumerable<BandConstants> ExtrapolationShapes(double noiseFloor)
    {
        for (int c = 0; c <= 100; c++)
            yield return new BandConstants(0, 0, 0, 0, 0.001, 0.0001 * c, noiseFloor);
    }

    /// <summary>
    /// <see cref="ExtrapolationShapes(double)"/> with the disagreement of every fitted member, undiscounted (D = 0): the
    /// variance <c>(k^2 disagreement + s^2 + c^2 h^2) max(N, N0) / N0</c>, the ratios k / s in [0, 120] by 2 and c / s in
    /// [0, 10] by 0.2 (session 20: the members part where a fitted run's seed offset makes them read its decay differently,
    /// gpt-gcide's fitted cosine; docs/journal/session-20-band.md).
    /// </summary>
    public static IEnumerable<BandConstants> DisagreementShapes(double noiseFloor)
    {
        for (int k = 0; k <= 60; k++)
            for (int c = 0; c <= 50; c++)
                yield return new BandConstants(0.002 * k, 0, 0, 0, 0.001, 0.0002 * c, noiseFloor, 0);
    }

    /// <summary>
    /// The shape of the band that follows each fit's own evidence (session 22, docs/journal/session-22-band.md): the variance
    /// <c>u^2 (own + disagreement)</c>, k = u with the disagreement undiscounted (D = 0), no noise factor and no floor (the
    /// scale, solved exactly, sets u). own + disagreement is the law of total variance of the stack read as a mixture of its
    /// members: the variance of the carrying member's own forecast (its delta-method, leave-one-run-out and cross-validated
    /// law error, <see cref="FittedLaw"/>) plus the spread of the members' forecasts about the stack's. Session 22 offered it
    /// over a floor, the ratio u / s from 0 to 10^3.3; session 23 (docs/journal/session-23-band.md) drops the floor: on the
    /// twenty corpora, and on every calibration leaving one out but gpt-manpages', the rule put the ratio at the grid's edge
    /// (s 0.00035 against u 0.693: no width), and where the calibration held few clean corpora (the eight before session 14)
    /// it chose a floor alone (u 0, 0.8 % everywhere), which follows no evidence and covered the next blind corpora less
    /// (gpt-rope-lion 12 of 30; without the floor 30 of 30).
    /// Session 24 (docs/journal/session-24-band.md): with <paramref name="future"/> the stack's error on the fitted runs' own
    /// future F (<see cref="FittedLaw.FutureError"/>, b = u; NaN: not measured, no term) joins the sum, with
    /// <paramref name="misfit"/> its misfit at the fitted runs' ends M (<see cref="FittedLaw.EndMisfit"/>, a = u): the variance
    /// <c>u^2 (own + disagreement + F^2 + M^2)</c>, the two errors the stack itself makes where its fit can check it, at the
    /// same scale as the members' variance (no ratio to fit).
    /// </summary>
    public static IEnumerable<BandConstants> OwnShapes(bool future = false, bool misfit = false)
    {
        yield return new BandConstants(1, 0, misfit ? 1 : 0, future ? 1 : 0, 0, 0, 0, 0, 1);
    }

    /// <summary>
    /// <see cref="OwnShapes"/> with the stack's own errors (F and M) and an error that grows with the extrapolation h
    /// (session 26, docs/journal/session-26-band.md): the variance <c>u^2 (own + disagreement + F^2 + M^2) + c^2 h^2</c>, the
    /// ratio c / u in [0, 0.3] by 0.003. Why: on gpt-ruby and gpt-ocaml the members agree on the same miss, which grows with
    /// the horizon (+3 % at H, +8 to +16 % at 2-4 H): the fit's own evidence is small there, and only a term of the
    /// extrapolation follows those errors without widening every band within the horizon.
    /// </summary>
    public static IEnumerable<BandConstants> ExtrapolatingOwnShapes()
    {
        for (int c = 0; c <= 100; c++)
            yield return new BandConstants(1, 0, 1, 1, 0, 0.003 * c, 0, 0, 1);
    }

    /// <summary>
    /// The rule's constants for <paramref name="rows"/> (see <see cref="StackBandCalibration"/>), over <paramref name="shapes"/>
    /// (default <see cref="Shapes"/>); null when no shape meets the bounds. Without <paramref name="upperBound"/> the
    /// questions' "at most 98 %" is not asked: the narrowest band that meets the lower bounds (session 15: on the nine
    /// corpora no shape of the grid meets both, gpt-rope-lion needing twice the scale that leaves every other large
    /// question one miss; the lower bounds are the band's promise, the upper one its narrowness, so the tool falls back
    /// to this and says so).
    /// </summary>
    public static BandConstants? Narrowest(IReadOnlyList<BandCalibrationRow> rows, double level = 0.95, IEnumerable<BandConstants>? shapes = null, bool upperBound = true)
    {
        double z = FittedLaw.NormalQuantile(0.5 + level / 2);
        var groups = LowerBoundGroups(rows);
        var questions = upperBound
            ? rows.Select((r, i) => (Key: (r.Corpus, r.Question), i)).GroupBy(x => x.Key, x => x.i).Select(g => g.ToArray()).Where(g => g.Length >= LargeGroup).ToArray()
            : [];
        var candidates = new List<(double Width, BandConstants C)>();
        var sigma = new double[rows.Count];
        var score = new double[rows.Count];
        foreach (var shape in shapes ?? Shapes())
        {
            if (Scale(rows, shape, z, groups, questions, sigma, score) is not { } q) continue;
            candidates.Add((q * sigma.Average(), Scaled(shape, q)));
        }
        // The narrowest first; rounding up may (rarely) lift a score's band past a large question's last miss: the next then.
        foreach (var (_, c) in candidates.OrderBy(x => x.Width))
            if (upperBound ? Meets(rows, c, level) : MeetsLowerBounds(rows, rows.Select(_ => c).ToList(), level)) return c;
        return null;
    }

    /// <summary>
    /// Whether the bands of <paramref name="rows"/>, each with its own constants (<paramref name="constants"/>, e.g. those
    /// calibrated without the row's corpus), meet the rule's lower bounds: 95 % pooled, every corpus 90 % or one miss,
    /// every large question pooled over the corpora 90 %.
    /// </summary>
    public static bool MeetsLowerBounds(IReadOnlyList<BandCalibrationRow> rows, IReadOnlyList<BandConstants> constants, double level = 0.95)
    {
        var covered = Covered(rows, constants, level);
        return covered.Count(x => x) >= Pooled * rows.Count - 1e-9 && Short(rows, covered).Count == 0;
    }

    /// <summary>Whether each row's final lies in its band (<paramref name="constants"/>[i] for row i).</summary>
    private static bool[] Covered(IReadOnlyList<BandCalibrationRow> rows, IReadOnlyList<BandConstants> constants, double level)
    {
        double z = FittedLaw.NormalQuantile(0.5 + level / 2);
        return rows.Select((r, i) => Math.Abs(r.LogError) <= z * Math.Sqrt(constants[i].Variance(r))).ToArray();
    }

    /// <summary>The groups of <see cref="LowerBoundGroups"/> below their lower bound, with whether each is a question pooled over the corpora.</summary>
    private static List<(string Name, bool Question)> Short(IReadOnlyList<BandCalibrationRow> rows, bool[] covered)
    {
        var shortOf = new List<(string, bool)>();
        foreach (var (g, name, question) in LowerBoundGroups(rows).Zip(GroupNames(rows), (g, n) => (g, n.Name, n.Question)))
        {
            int n = g.Length, hit = g.Count(i => covered[i]);
            if (n >= LargeGroup ? hit < CorpusLow * n - 1e-9 : n - hit > 1) shortOf.Add((name, question));
        }
        return shortOf;
    }

    /// <summary>The corpora a form's left-out bands may leave below their lower bound and still be chosen (<see cref="ScoreForm"/>).</summary>
    public const int CorporaShortAllowed = 1;

    /// <summary>
    /// How one form of the band does with each corpus left out of its calibration (<see cref="ScoreForm"/>): the forecasts
    /// covered of all, the corpora (the published split of a size apart) below their lower bound, whether every question
    /// pooled over the corpora meets its own, and the width score: the geometric mean over the corpora of each corpus's
    /// median relative half-width <c>sinh(z sigma)</c>.
    /// </summary>
    public sealed record FormScore(int Covered, int Count, IReadOnlyList<string> CorporaShort, bool QuestionsMet, double Width)
    {
        /// <summary>At least <see cref="Pooled"/> covered, every question's lower bound met, at most <see cref="CorporaShortAllowed"/> corpora short of theirs.</summary>
        public bool Admissible => Covered >= Pooled * Count - 1e-9 && QuestionsMet && CorporaShort.Count <= CorporaShortAllowed;
    }

    /// <summary>
    /// The form choice's score of bands whose constants were each calibrated without the row's corpus (session 20,
    /// docs/journal/session-20-band.md): the band calibration tool keeps, among the admissible forms
    /// (<see cref="FormScore.Admissible"/>), the one of the smallest <see cref="FormScore.Width"/>,
    /// <c>exp(mean over corpora of ln median_corpus sinh(z sigma))</c>. Per corpus, because each corpus is one workload and
    /// its user sees its band (a pooled median lets the corpora of many forecasts decide); in log, because a band's cost is
    /// its width relative to what its workload can resolve: a band twice as wide as it need be on a clean corpus costs as
    /// much as one twice too wide on a noisy corpus, where a median in percent lets a band flat over the corpora trade the
    /// noisy corpus's width for the clean ones'. One corpus may fall short (the band's promise is about one new workload in
    /// ten covered less than 90 %).
    /// </summary>
    public static FormScore ScoreForm(IReadOnlyList<BandCalibrationRow> rows, IReadOnlyList<BandConstants> constants, double level = 0.95)
    {
        double z = FittedLaw.NormalQuantile(0.5 + level / 2);
        var covered = Covered(rows, constants, level);
        var shortOf = Short(rows, covered);
        double logWidth = rows.Select((r, i) => (r.Corpus, W: Math.Sinh(z * Math.Sqrt(constants[i].Variance(r)))))
            .GroupBy(x => x.Corpus).Average(g => Math.Log(Median(g.Select(x => x.W))));
        return new FormScore(covered.Count(x => x), rows.Count, shortOf.Where(x => !x.Question).Select(x => x.Name).ToList(),
            shortOf.All(x => !x.Question), Math.Exp(logWidth));
    }

    private static double Median(IEnumerable<double> x)
    {
        var w = x.Order().ToArray();
        return w.Length % 2 == 1 ? w[w.Length / 2] : (w[w.Length / 2 - 1] + w[w.Length / 2]) / 2;
    }

    /// <summary>
    /// The groups held to a lower bound (indices into <paramref name="rows"/>): every corpus (the published split of a size
    /// apart), and every question pooled over the corpora, whatever its size (as a corpus: 90 % from
    /// <see cref="LargeGroup"/> forecasts, else all but one). Session 14: held only from 20 forecasts, the WSD question (24)
    /// dropped out of the rule in the calibrations that leave out one of its corpora (17-19 left), which then covered
    /// the left-out corpus's cooldowns 21 of 24; held at every size, 22 of 24.
    /// </summary>
    private static int[][] LowerBoundGroups(IReadOnlyList<BandCalibrationRow> rows) =>
        [.. rows.Select((r, i) => (r.Group, i)).GroupBy(x => x.Group, x => x.i).Select(g => g.ToArray()),
         .. rows.Select((r, i) => (r.Question, i)).GroupBy(x => x.Question, x => x.i).Select(g => g.ToArray())];

    /// <summary>The names of <see cref="LowerBoundGroups"/>, in its order, and whether each is a question pooled over the corpora.</summary>
    private static (string Name, bool Question)[] GroupNames(IReadOnlyList<BandCalibrationRow> rows) =>
        [.. rows.Select(r => r.Group).Distinct().Select(g => (g, false)), .. rows.Select(r => r.Question).Distinct().Select(q => (q, true))];

    /// <summary>Whether constants <paramref name="c"/> meet the rule's bounds on <paramref name="rows"/> (every forecast counted once).</summary>
    public static bool Meets(IReadOnlyList<BandCalibrationRow> rows, BandConstants c, double level = 0.95)
    {
        double z = FittedLaw.NormalQuantile(0.5 + level / 2);
        if (!MeetsLowerBounds(rows, rows.Select(_ => c).ToList(), level)) return false;
        var covered = rows.Select(r => Math.Abs(r.LogError) <= z * Math.Sqrt(c.Variance(r))).ToArray();
        foreach (var g in rows.Select((r, i) => ((r.Corpus, r.Question), i)).GroupBy(x => x.Item1, x => x.i))
            if (g.Count() >= LargeGroup && g.Count(i => covered[i]) > QuestionHigh * g.Count() + 1e-9) return false;
        return true;
    }

    /// <summary>
    /// The smallest scale q of <paramref name="shape"/> whose band meets the lower bounds, if it stays below every large
    /// question's upper bound; fills <paramref name="sigma"/> (z times the shape's standard deviation) and <paramref name="score"/>.
    /// </summary>
    private static double? Scale(IReadOnlyList<BandCalibrationRow> rows, BandConstants shape, double z, int[][] groups, int[][] questions, double[] sigma, double[] score)
    {
        for (int i = 0; i < rows.Count; i++)
        {
            sigma[i] = z * Math.Sqrt(shape.Variance(rows[i]));
            if (!(sigma[i] > 0)) return null;
            score[i] = Math.Abs(rows[i].LogError) / sigma[i];
        }
        // Covered at scale q: score <= q. At least m of n covered: q >= the m-th smallest score.
        double lo = OrderStatistic(score, Enumerable.Range(0, rows.Count).ToArray(), (int)Math.Ceiling(Pooled * rows.Count - 1e-9));
        foreach (var g in groups)
            lo = Math.Max(lo, OrderStatistic(score, g, g.Length >= LargeGroup ? (int)Math.Ceiling(CorpusLow * g.Length - 1e-9) : g.Length - 1));
        // At most m of n covered (m = floor(0.98 n) < n for n < 50): at least n - m scores above q.
        double hi = double.PositiveInfinity;
        foreach (var g in questions)
            hi = Math.Min(hi, OrderStatistic(score, g, (int)Math.Floor(QuestionHigh * g.Length + 1e-9) + 1));
        return lo < hi ? lo : null;
    }

    /// <summary>The m-th smallest (1-based) of <paramref name="score"/> over <paramref name="idx"/>; 0 for m below 1.</summary>
    private static double OrderStatistic(double[] score, int[] idx, int m)
    {
        if (m < 1) return 0;
        var v = idx.Select(i => score[i]).ToArray();
        Array.Sort(v);
        return v[Math.Min(m, v.Length) - 1];
    }

    /// <summary>The shape scaled by q, rounded up (three decimals; the floor and the extrapolation's scale five) so that no score at the bound is lost.</summary>
    private static BandConstants Scaled(BandConstants shape, double q)
    {
        static double Up(double x, int digits) { double f = Math.Pow(10, digits); return Math.Max(0.0, Math.Ceiling(x * f - 1e-9) / f); }
        return new BandConstants(Up(q * shape.K, 3), Up(q * shape.KW, 3), Up(q * shape.A, 3), Up(q * shape.B, 3), Up(q * shape.S, 5), Up(q * shape.C, 5), shape.N0, shape.D, Up(q * shape.U, 3));
    }
}
