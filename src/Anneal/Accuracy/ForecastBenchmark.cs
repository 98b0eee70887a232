using System.Diagnostics;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Accuracy;

/// <summary>One held-out run's final loss: observed, predicted, and the predicted band (NaN when the law could not give one).</summary>
public sealed record TargetForecast(string Run, long Horizon, double Observed, double Predicted, double Low, double High)
{
    /// <summary>|predicted - observed| / observed.</summary>
    public double RelError => Math.Abs(Predicted - Observed) / Observed;

    /// <summary>Whether a band exists.</summary>
    public bool HasBand => double.IsFinite(Low) && double.IsFinite(High);

    /// <summary>Whether the band holds the observation (false without a band).</summary>
    public bool Covered => HasBand && Observed >= Low && Observed <= High;

    /// <summary>Half the band's width relative to the prediction (NaN without a band).</summary>
    public double RelHalfWidth => HasBand ? (High - Low) / 2 / Predicted : double.NaN;

    /// <summary>
    /// Whether the run trains past the first epoch of its corpus's training data when the fitted runs did not
    /// (<see cref="EpochBoundary.Repeats"/>): the forecast warns that it assumes fresh data.
    /// </summary>
    public bool RepeatsData { get; init; }

    /// <summary>
    /// Whether the regime check withheld the band (<see cref="RegimeCheck.BandWithheld(LawRun, double)"/>: a forecast past the fitted
    /// horizon of runs that had not reached the laws' regime). The pooled coverage counts it as not covering; the report
    /// also gives the coverage among the forecasts given a band, with the count withheld beside it.
    /// </summary>
    public bool RegimeWithheld { get; init; }
}

/// <summary>One law on one split: its forecasts and the protocol's metrics.</summary>
public sealed record LawAccuracy(string Corpus, string Question, string Law, IReadOnlyList<TargetForecast> Forecasts, double FitSeconds, string? Error)
{
    /// <summary>What the fitted law chose (for <c>auto</c>) or warned, for the report.</summary>
    public string? Note { get; init; }

    public bool Failed => Error is not null;
    public double MeanError => Forecasts.Count == 0 ? double.NaN : Forecasts.Average(f => f.RelError);
    public double WorstError => Forecasts.Count == 0 ? double.NaN : Forecasts.Max(f => f.RelError);
    public int Covered => Forecasts.Count(f => f.Covered);
    public int WithBand => Forecasts.Count(f => f.HasBand);
    /// <summary>Forecasts whose band the regime check withheld (<see cref="TargetForecast.RegimeWithheld"/>).</summary>
    public int RegimeWithheld => Forecasts.Count(f => f.RegimeWithheld);
    public double MedianHalfWidth => SampleStatistics.Median(Forecasts.Select(f => f.RelHalfWidth));

    /// <summary>Groups of at least two held-out runs of one horizon: the schedules a user would choose among.</summary>
    public IEnumerable<TargetForecast[]> HorizonGroups => Forecasts.GroupBy(f => f.Horizon).Select(g => g.ToArray()).Where(g => g.Length >= 2);

    /// <summary>Spearman correlation of predicted and observed finals within each horizon group of at least three, averaged (NaN when none).</summary>
    public double Spearman => MeanSpearman(HorizonGroups);

    /// <summary>
    /// Pick regret per horizon group: the observed loss of the schedule predicted best over the best
    /// observed loss, minus one; averaged over groups (NaN when none).
    /// </summary>
    public double Regret => MeanRegret(HorizonGroups);

    /// <summary>The mean Spearman correlation over the groups of at least three (NaN when none).</summary>
    public static double MeanSpearman(IEnumerable<TargetForecast[]> groups) =>
        Mean(groups.Where(g => g.Length >= 3).Select(g => RankStatistics.Spearman(g.Select(f => f.Predicted).ToArray(), g.Select(f => f.Observed).ToArray())));

    /// <summary>The mean pick regret over the groups (NaN when none).</summary>
    public static double MeanRegret(IEnumerable<TargetForecast[]> groups) => Mean(groups.Select(PickRegret));

    private static double Mean(IEnumerable<double> v)
    {
        var a = v.ToArray();
        return a.Length == 0 ? double.NaN : a.Average();
    }

    /// <summary>The regret of picking the predicted best of <paramref name="group"/>.</summary>
    public static double PickRegret(TargetForecast[] group)
    {
        var pick = group.MinBy(f => f.Predicted)!;
        return pick.Observed / group.Min(f => f.Observed) - 1;
    }
}

/// <summary>The seed-to-seed difference of one schedule's final loss: the floor below which no forecast can be judged.</summary>
public sealed record SeedNoise(string Corpus, string Schedule, double[] Finals)
{
    /// <summary>Sample standard deviation of the finals over their mean.</summary>
    public double RelStd
    {
        get
        {
            double m = Finals.Average();
            return Math.Sqrt(Finals.Sum(x => (x - m) * (x - m)) / (Finals.Length - 1)) / m;
        }
    }
}

/// <summary>What <see cref="ForecastBenchmark.Run"/> measures: laws by spec, over corpora, at a band level.</summary>
public sealed record AccuracyRequest(IReadOnlyList<ForecastCorpus> Corpora, IReadOnlyList<string> Laws, double Level = 0.95)
{
    /// <summary>Fit options (seed, method); null: the defaults every command uses.</summary>
    public FitOptions? Options { get; init; }
}

/// <summary>Every split, every law's accuracy on it, and the corpora's seed noise.</summary>
public sealed record AccuracyReport(IReadOnlyList<ForecastSplit> Splits, IReadOnlyList<LawAccuracy> Rows, IReadOnlyList<SeedNoise> Noise, double Level)
{
    /// <summary>Corpora that ask the protocol no question, with the reason.</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];

    /// <summary>
    /// The names of the held-out corpora (<see cref="ForecastCorpus.HeldOut"/>): no constant was chosen on them, so their
    /// forecasts are pooled apart from the others' (<see cref="Pooled"/>, <see cref="ByRatio"/>).
    /// </summary>
    public IReadOnlySet<string> HeldOut { get; init; } = new HashSet<string>();

    /// <summary>The laws in request order.</summary>
    public IReadOnlyList<string> Laws => Rows.Select(r => r.Law).Distinct().ToArray();

    /// <summary>Whether the report has rows of a held-out corpus.</summary>
    public bool HasHeldOut => Rows.Any(r => HeldOut.Contains(r.Corpus));

    /// <summary>
    /// The questions that restate another (<see cref="ForecastSplit.Restates"/>, e.g. <c>cooldown-ends</c>): left out of
    /// every pooling over questions, since they predict the same finals again.
    /// </summary>
    public IReadOnlySet<string> Restatements => Splits.Where(s => s.Restates is not null).Select(s => s.Question).ToHashSet();

    /// <summary>The question <paramref name="question"/> restates (<see cref="ForecastSplit.Restates"/>), or null.</summary>
    public string? QuestionRestatedBy(string question) => Splits.FirstOrDefault(s => s.Question == question)?.Restates;

    /// <summary>The questions of the report in split order, the pooled ones first, then the restatements.</summary>
    public IReadOnlyList<string> Questions
    {
        get
        {
            var restated = Restatements;
            return Splits.Select(s => s.Question).Distinct().OrderBy(q => restated.Contains(q) ? 1 : 0).ToArray();
        }
    }

    /// <summary>
    /// Whether a row answers <paramref name="question"/> (null: any question that restates none); the restatements are
    /// listed once per call, not once per row.
    /// </summary>
    private Func<LawAccuracy, bool> Answering(string? question)
    {
        if (question is not null) return r => r.Question == question;
        var restated = Restatements;
        return r => !restated.Contains(r.Question);
    }

    /// <summary>
    /// All of one law's rows pooled into one (forecasts concatenated; Spearman and regret over every horizon group): those
    /// of the in-sample corpora, or with <paramref name="heldOut"/> those of the held-out ones (<see cref="HeldOut"/>). With
    /// <paramref name="question"/> null, every question but the restatements (<see cref="Restatements"/>).
    /// </summary>
    public PooledAccuracy Pooled(string law, string? question = null, bool heldOut = false)
    {
        var answers = Answering(question);
        var rows = Rows.Where(r => r.Law == law && answers(r) && HeldOut.Contains(r.Corpus) == heldOut).ToArray();
        return new PooledAccuracy(law, rows);
    }

    /// <summary>
    /// Per split, <paramref name="law"/> against the best of the report's other laws (by mean final-loss error) and the
    /// corpus's seed noise; splits where <paramref name="law"/> or every other law failed are left out.
    /// </summary>
    public IReadOnlyList<VersusBest> AgainstBest(string law)
    {
        var list = new List<VersusBest>();
        foreach (var g in Rows.GroupBy(r => (r.Corpus, r.Question)))
        {
            var mine = g.FirstOrDefault(r => r.Law == law && !r.Failed);
            var best = g.Where(r => r.Law != law && !r.Failed).MinBy(r => r.MeanError);
            if (mine is null || best is null) continue;
            list.Add(new VersusBest(g.Key.Corpus, g.Key.Question, law, mine.MeanError, best.Law, best.MeanError, ForecastBenchmark.NoiseFloor(Noise, g.Key.Corpus)));
        }
        return list;
    }

    /// <summary>Upper ends of the extrapolation-ratio buckets of <see cref="ByRatio"/> (the last is open).</summary>
    public static readonly double[] RatioBuckets = [1.0, 1.5, 2.0, 3.0, double.PositiveInfinity];

    /// <summary>
    /// How far a forecast can be trusted: one law's forecasts pooled over every split, grouped by how far they
    /// extrapolate, the held-out run's horizon over the last fitted step of its split (<see cref="ForecastSplit.FitHorizon"/>).
    /// One accuracy per bucket of <see cref="RatioBuckets"/> (a bucket holds ratios above the previous end, up to its own);
    /// empty buckets are left out. The in-sample corpora's splits, or with <paramref name="heldOut"/> the held-out ones'; every
    /// question but the restatements, or only <paramref name="question"/>. With <paramref name="inRegime"/>, only the forecasts
    /// the laws are meant for: those whose band the regime check withheld (<see cref="TargetForecast.RegimeWithheld"/>: fitted
    /// before the laws' regime) and those of runs past the first epoch of their data (<see cref="TargetForecast.RepeatsData"/>)
    /// left out. Pooled with them, the far buckets' signed error is those corpora's (docs/journal/session-20-far-horizons.md).
    /// </summary>
    public IReadOnlyList<RatioAccuracy> ByRatio(string law, bool heldOut = false, string? question = null, bool inRegime = false)
    {
        var fitEnd = Splits.ToDictionary(s => (s.Corpus, s.Question), s => s.FitHorizon);
        var answers = Answering(question);
        var ratios = Rows.Where(r => r.Law == law && !r.Failed && HeldOut.Contains(r.Corpus) == heldOut && answers(r))
            .SelectMany(r => r.Forecasts.Where(f => !inRegime || !(f.RegimeWithheld || f.RepeatsData))
                .Select(f => (Ratio: (double)f.Horizon / fitEnd[(r.Corpus, r.Question)], Forecast: f)))
            .ToArray();
        var result = new List<RatioAccuracy>();
        double from = 0;
        foreach (double to in RatioBuckets)
        {
            var inside = ratios.Where(x => x.Ratio > from && x.Ratio <= to).Select(x => x.Forecast).ToArray();
            if (inside.Length > 0) result.Add(new RatioAccuracy(law, from, to, inside));
            from = to;
        }
        return result;
    }
}

/// <summary>
/// One split's answer to the issue's requirement for <c>auto</c>: never worse than the best single law by more than seed noise.
/// </summary>
/// <param name="Corpus">The corpus's name.</param>
/// <param name="Question">The protocol's question.</param>
/// <param name="Law">The law compared (<c>auto</c>).</param>
/// <param name="Mean">Its mean final-loss error on the split.</param>
/// <param name="Best">The single law (any other law of the report) with the lowest mean error there.</param>
/// <param name="BestMean">That law's mean error.</param>
/// <param name="Noise">The corpus's seed noise (<see cref="ForecastBenchmark.NoiseFloor"/>; NaN without seed pairs).</param>
public sealed record VersusBest(string Corpus, string Question, string Law, double Mean, string Best, double BestMean, double Noise)
{
    /// <summary>The law's mean error minus the best single law's (negative: better).</summary>
    public double Excess => Mean - BestMean;

    /// <summary>True when the excess is at most the seed noise; null when the corpus has no seed pairs and the law is worse.</summary>
    public bool? Within => Excess <= 0 ? true : double.IsFinite(Noise) ? Excess <= Noise : null;
}

/// <summary>One law's forecasts whose horizon is more than <paramref name="From"/> and at most <paramref name="To"/> times its fit's last step.</summary>
public sealed record RatioAccuracy(string Law, double From, double To, IReadOnlyList<TargetForecast> Forecasts)
{
    public double MeanError => Forecasts.Average(f => f.RelError);
    public double WorstError => Forecasts.Max(f => f.RelError);
    /// <summary>Mean signed error (pred-obs)/obs: negative when the law forecasts too low a loss.</summary>
    public double MeanSignedError => Forecasts.Average(f => (f.Predicted - f.Observed) / f.Observed);
    public int Covered => Forecasts.Count(f => f.Covered);
    public int WithBand => Forecasts.Count(f => f.HasBand);
    public int RegimeWithheld => Forecasts.Count(f => f.RegimeWithheld);
    public double MedianHalfWidth => SampleStatistics.Median(Forecasts.Select(f => f.RelHalfWidth));
}

/// <summary>One law's rows pooled over corpora.</summary>
public sealed record PooledAccuracy(string Law, IReadOnlyList<LawAccuracy> Rows)
{
    public IEnumerable<TargetForecast> Forecasts => Rows.Where(r => !r.Failed).SelectMany(r => r.Forecasts);
    public int Failures => Rows.Count(r => r.Failed);
    public int Count => Forecasts.Count();
    public double MeanError => Count == 0 ? double.NaN : Forecasts.Average(f => f.RelError);
    public double WorstError => Count == 0 ? double.NaN : Forecasts.Max(f => f.RelError);
    public double Spearman => LawAccuracy.MeanSpearman(Rows.Where(r => !r.Failed).SelectMany(r => r.HorizonGroups));
    public double Regret => LawAccuracy.MeanRegret(Rows.Where(r => !r.Failed).SelectMany(r => r.HorizonGroups));
    public int Covered => Forecasts.Count(f => f.Covered);
    public int WithBand => Forecasts.Count(f => f.HasBand);
    /// <summary>Forecasts whose band the regime check withheld (<see cref="TargetForecast.RegimeWithheld"/>).</summary>
    public int RegimeWithheld => Forecasts.Count(f => f.RegimeWithheld);
    public double MedianHalfWidth => SampleStatistics.Median(Forecasts.Select(f => f.RelHalfWidth));
    public double FitSeconds => Rows.Sum(r => r.FitSeconds);
}

/// <summary>
/// <c>anneal accuracy</c> as a service: runs <see cref="ForecastProtocol"/> on every corpus, fits every law
/// on each split's fit runs and scores its forecasts of the held-out finals. Pure: no console, no files.
/// </summary>
public static class ForecastBenchmark
{
    /// <summary>
    /// Runs the protocol (every split of <see cref="ForecastProtocol.AllSplits"/>). A law that fails on a split is recorded with
    /// its message, never thrown.
    /// </summary>
    public static AccuracyReport Run(AccuracyRequest request, IProgress<string>? progress = null, CancellationToken cancel = default)
    {
        var laws = request.Laws.Select(LossLaw.Parse).ToArray();
        // Splits, rows and the report's tables are keyed by corpus name: two corpora of one name would be conflated.
        if (request.Corpora.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new InputException($"two corpora are named '{twice.Key}' (a corpus given twice, or two manifests with one \"name\"): give each corpus once, with names of their own");
        var splits = new List<ForecastSplit>();
        var rows = new List<LawAccuracy>();
        var skipped = new List<string>();
        foreach (var corpus in request.Corpora)
        {
            var mine = ForecastProtocol.AllSplits(corpus);
            if (mine.Count == 0) { skipped.Add($"{corpus.Name}: {ForecastProtocol.NoQuestion}"); continue; }
            foreach (var split in mine)
            {
                splits.Add(split);
                foreach (var law in laws)
                {
                    cancel.ThrowIfCancellationRequested();
                    progress?.Report($"{corpus.Name} / {split.Question}: {law.Spec}");
                    rows.Add(Score(split, law, request.Level, request.Options));
                }
            }
        }
        return new AccuracyReport(splits, rows, Noise(request.Corpora), request.Level)
        {
            Skipped = skipped, HeldOut = request.Corpora.Where(c => c.HeldOut).Select(c => c.Name).ToHashSet(),
        };
    }

    /// <summary>Fits <paramref name="law"/> on the split's fit runs and forecasts each held-out final.</summary>
    public static LawAccuracy Score(ForecastSplit split, LossLaw law, double level, FitOptions? options)
    {
        var sw = Stopwatch.StartNew();
        FittedLaw fit;
        // the corpus's epoch length, where it records one (EpochBoundary: forecasts past it get no band)
        if (split.StepsPerEpoch is { } spe) options = (options ?? new FitOptions()) with { Epoch = (spe, $"steps_per_epoch of {split.Corpus}'s corpus.json") };
        try { fit = LawFitter.Fit(law, split.Fit, options); }
        catch (InputException e) { return new LawAccuracy(split.Corpus, split.Question, law.Spec, [], sw.Elapsed.TotalSeconds, e.Message); }
        catch (Exception e) when (e is not OperationCanceledException) { return new LawAccuracy(split.Corpus, split.Question, law.Spec, [], sw.Elapsed.TotalSeconds, InternalError("fit", e)); }
        double seconds = sw.Elapsed.TotalSeconds;
        var forecasts = new List<TargetForecast>();
        foreach (var t in split.Tests)
        {
            try
            {
                var p = fit.Predict(t.Run, level);
                double pred = p.Loss.Average(), lo = p.Low.Average(), hi = p.High.Average();
                if (!double.IsFinite(pred) || pred <= 0)
                    return new LawAccuracy(split.Corpus, split.Question, law.Spec, [], seconds, $"{t.Run.Name}: the fitted law predicts a non-positive or non-finite loss");
                if (!(double.IsFinite(lo) && double.IsFinite(hi)) || lo <= 0 || hi / lo > 10) (lo, hi) = (double.NaN, double.NaN);
                forecasts.Add(new TargetForecast(t.Run.Name, t.Horizon, t.ObservedFinal, pred, lo, hi)
                {
                    RepeatsData = fit.Epoch?.Repeats(t.Run) == true, RegimeWithheld = fit.Regime?.BandWithheld(t.Run, level) is not null,
                });
            }
            catch (InputException e) { return new LawAccuracy(split.Corpus, split.Question, law.Spec, [], seconds, $"{t.Run.Name}: {e.Message}"); }
            catch (Exception e) when (e is not OperationCanceledException) { return new LawAccuracy(split.Corpus, split.Question, law.Spec, [], seconds, $"{t.Run.Name}: {InternalError("predict", e)}"); }
        }
        return new LawAccuracy(split.Corpus, split.Question, law.Spec, forecasts, seconds, null) { Note = fit.Report.Warnings.Length > 0 ? string.Join("; ", fit.Report.Warnings) : null };
    }

    /// <summary>
    /// A law's internal error (a bug: anything but an <see cref="InputException"/>) as the row's one-line failure, so that one
    /// law's bug is reported where it happened instead of ending the benchmark of every other law.
    /// </summary>
    private static string InternalError(string stage, Exception e) =>
        $"{stage}: internal error ({e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")})";

    /// <summary>
    /// Runs repeated with another seed: each schedule's finals over seeds. Runs of one schedule spec are compared at the
    /// shortest horizon among them (a spec fixes the rate at every step whatever the run's length, so a longer run
    /// truncated there is the same schedule to that step): the engine corpora's second-seed constant runs are a third
    /// as long as the first seed's, which branches cooldowns out to 4x further.
    /// </summary>
    public static IReadOnlyList<SeedNoise> Noise(IEnumerable<ForecastCorpus> corpora)
    {
        var list = new List<SeedNoise>();
        foreach (var c in corpora)
        {
            foreach (var g in c.Runs.Where(r => r.Schedule is not null).GroupBy(r => Schedules.Schedule.Parse(r.Schedule!).Spec))
            {
                // One run per seed: its longest.
                var bySeed = g.GroupBy(r => r.Seed).OrderBy(s => s.Key).Select(s => s.MaxBy(r => r.Horizon)!).ToArray();
                if (bySeed.Length < 2) continue;
                long h = bySeed.Min(r => r.Horizon);
                var finals = bySeed.Select(r => ForecastProtocol.Target(c, r, h).ObservedFinal).ToArray();
                list.Add(new SeedNoise(c.Name, $"{g.Key} to step {h}", finals));
            }
        }
        return list;
    }

    /// <summary>
    /// A corpus's seed noise in one number: the root mean square of its schedules' relative standard deviations
    /// (<see cref="SeedNoise.RelStd"/>); NaN when it has no schedule run with two seeds.
    /// </summary>
    public static double NoiseFloor(IEnumerable<SeedNoise> noise, string corpus)
    {
        var v = noise.Where(n => n.Corpus == corpus).Select(n => n.RelStd * n.RelStd).ToArray();
        return v.Length == 0 ? double.NaN : Math.Sqrt(v.Average());
    }

    /// <summary>
    /// A corpus's seed noise within one seed, the part that can reorder its runs: each seed pair's log ratio of finals
    /// <c>d = ln(L_seed1 / L_seed2)</c> (the first two seeds of every schedule of <paramref name="noise"/>) has its mean over
    /// the corpus's pairs removed, since a seed lower on every run (a shared offset) moves no ranking, and
    /// <c>sigma = sqrt(var(d) / 2)</c> (the sample variance; one final's relative deviation, each pair holding two).
    /// NaN with fewer than two pairs. gpt-lisp: 0.75 %, against its 2.95 % total (docs/journal/session-22-stack.md).
    /// </summary>
    public static double WithinSeedNoise(IEnumerable<SeedNoise> noise, string corpus)
    {
        var d = noise.Where(n => n.Corpus == corpus && n.Finals.Length >= 2).Select(n => Math.Log(n.Finals[0] / n.Finals[1])).ToArray();
        if (d.Length < 2) return double.NaN;
        double m = d.Average();
        return Math.Sqrt(d.Sum(x => (x - m) * (x - m)) / (d.Length - 1) / 2);
    }
}

/// <summary>Rank statistics for the accuracy report.</summary>
public static class RankStatistics
{
    /// <summary>Spearman's rho: the Pearson correlation of the ranks (ties get their mean rank); NaN when either side is constant.</summary>
    public static double Spearman(double[] x, double[] y)
    {
        var rx = Ranks(x); var ry = Ranks(y);
        double mx = rx.Average(), my = ry.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++) { sxy += (rx[i] - mx) * (ry[i] - my); sxx += (rx[i] - mx) * (rx[i] - mx); syy += (ry[i] - my) * (ry[i] - my); }
        return sxx > 0 && syy > 0 ? sxy / Math.Sqrt(sxx * syy) : double.NaN;
    }

    /// <summary>1-based ranks, ties averaged.</summary>
    public static double[] Ranks(double[] v)
    {
        var idx = Enumerable.Range(0, v.Length).OrderBy(i => v[i]).ToArray();
        var r = new double[v.Length];
        for (int i = 0; i < idx.Length;)
        {
            int j = i;
            while (j + 1 < idx.Length && v[idx[j + 1]] == v[idx[i]]) j++;
            double mean = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) r[idx[k]] = mean;
            i = j + 1;
        }
        return r;
    }
}
