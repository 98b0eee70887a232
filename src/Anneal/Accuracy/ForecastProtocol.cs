using Anneal.Laws;
using Anneal.Specs;

namespace Anneal.Accuracy;

/// <summary>One held-out run of a split: the run to predict (its schedule at every step, its final window) and what it is.</summary>
/// <param name="Run">Per-step rates of the whole run; <c>Steps</c>/<c>Observed</c> hold only the final window.</param>
/// <param name="Horizon">Steps the run trained (<see cref="ForecastProtocol.Nominal"/>); runs of one horizon compete for the pick.</param>
public sealed record ForecastTarget(LawRun Run, long Horizon)
{
    /// <summary>The observed final loss: the mean over the final window (the last 1 % of the run's steps, at least one logged point).</summary>
    public double ObservedFinal => Run.Observed!.Average();
}

/// <summary>What a law is fitted on and what it must predict, for one question asked of one corpus.</summary>
/// <param name="Corpus">The corpus's name.</param>
/// <param name="Question"><c>schedules</c> (constant prefix + one cosine → every other schedule) or <c>cooldowns</c> (the WSD question).</param>
/// <param name="Description">What is fitted and predicted, in words.</param>
/// <param name="Fit">The runs the law is fitted on (points after the warmup, binned).</param>
/// <param name="Tests">The held-out runs.</param>
/// <param name="FitHorizon">The last step any fitted point reaches; test horizons are measured against it.</param>
public sealed record ForecastSplit(string Corpus, string Question, string Description, IReadOnlyList<LawRun> Fit, IReadOnlyList<ForecastTarget> Tests, long FitHorizon)
{
    /// <summary>
    /// The question whose held-out finals this split predicts again from other fitted data (<c>cooldown-ends</c> restates
    /// <c>cooldowns</c>); null for a question of its own. A restatement is reported apart: pooling it with the question it
    /// restates would count the same finals twice.
    /// </summary>
    public string? Restates { get; init; }

    /// <summary>Optimizer steps in one pass over the corpus's training data (<see cref="ForecastCorpus.StepsPerEpoch"/>); null: unknown.</summary>
    public long? StepsPerEpoch { get; init; }
}

/// <summary>
/// The fixed forecasting protocol of <c>anneal accuracy</c>, the same for every corpus (docs/accuracy.md):
/// <list type="bullet">
/// <item><b>schedules</b>: the short horizon H is that of the shortest cosine run of the first seed (the one
/// ending at the lowest rate when several share H). Fit on that cosine plus a constant-rate run truncated at
/// H (the longest constant run; without one, the longest constant-at-peak prefix of any run). Predict the
/// final loss of every other run of the first seed, except constant runs no longer than H (already fitted).</item>
/// <item><b>cooldowns</b> (corpora with at least four cooldowns branched from the constant run, with the same
/// cooldown fraction): sorted by length, fit on the first two branches (their cooldown points only: the
/// prefix is the parent's) and the constant run up to the second branch's end; predict the end of every
/// later branch. A corpus may name the two fitted branches (<see cref="ForecastCorpus.CooldownsFit"/>): then
/// they are fitted, and every branch of their series that ends after the second is predicted.</item>
/// <item><b>cooldown-ends</b> (restates <b>cooldowns</b>: the same series, split and held-out branches): each fitted branch
/// contributes only its end point, as the WSD question is asked of runs kept outside the project ("each given as its constant
/// prefix and its end point"): one point, the mean loss over the branch's final window (the same number the protocol scores
/// as a held-out run's observed final) at the window's mean step (the last logged point when the window holds one, as every
/// fitted branch of the bundled corpora does). The constant run is fitted as in <b>cooldowns</b>. Reported apart from the
/// pooled questions (<see cref="ForecastSplit.Restates"/>).</item>
/// </list>
/// Fitted runs start at the end of the warmup (and at the corpus's <c>min_step</c>) and are binned to at most
/// 1000 points. A prediction is scored on the run's final window: the last 1 % of its steps.
/// </summary>
public static class ForecastProtocol
{
    /// <summary>Fraction of a run's steps that makes its final window.</summary>
    public const double FinalWindow = 0.01;

    /// <summary>The question that fits the cooldown branches' end points only (<see cref="CooldownEnds"/>).</summary>
    public const string CooldownEndsQuestion = "cooldown-ends";

    /// <summary>
    /// The splits the protocol pools for <paramref name="corpus"/>: none, one (<c>schedules</c>) or two (and <c>cooldowns</c>).
    /// Without the restatements (<see cref="ForecastSplit.Restates"/>): what the pooled tables and the band's calibration read.
    /// </summary>
    public static IReadOnlyList<ForecastSplit> Splits(ForecastCorpus corpus) => AllSplits(corpus).Where(s => s.Restates is null).ToArray();

    /// <summary>Every split the protocol defines for <paramref name="corpus"/>: <see cref="Splits"/>, then the restatements (<c>cooldown-ends</c>).</summary>
    public static IReadOnlyList<ForecastSplit> AllSplits(ForecastCorpus corpus)
    {
        var splits = new List<ForecastSplit>();
        if (Schedules(corpus) is { } s) splits.Add(s);
        if (CooldownSeries(corpus) is { } series)
        {
            splits.Add(Cooldowns(corpus, series));
            splits.Add(CooldownEnds(corpus, series));
        }
        return splits.Select(s => s with { StepsPerEpoch = corpus.StepsPerEpoch }).ToArray();
    }

    /// <summary>Why a corpus asks no question of the protocol (for a corpus with none).</summary>
    public const string NoQuestion = "the protocol needs a cosine run plus a constant-rate run (or a run with a constant-rate prefix) of the same seed, or at least four cooldowns branched from a constant run";

    /// <summary>The schedule kind of a run: the name of its spec (e.g. <c>cosine</c>), else the start of its file name.</summary>
    public static string Kind(CorpusRun run)
    {
        if (run.Schedule is { } spec) return SpecCall.Parse(spec).Name.ToLowerInvariant();
        var n = run.Name.ToLowerInvariant();
        return n.StartsWith("constant", StringComparison.Ordinal) ? "constant" : n.StartsWith("cosine", StringComparison.Ordinal) ? "cosine" : n;
    }

    private static ForecastSplit? Schedules(ForecastCorpus corpus)
    {
        int seed = corpus.Runs.Min(r => r.Seed);
        var first = corpus.Runs.Where(r => r.Seed == seed).ToArray();
        var cosines = first.Where(r => Kind(r) == "cosine").ToArray();
        if (cosines.Length == 0) return null;
        long h = cosines.Min(r => r.Horizon);
        var cosine = cosines.Where(r => r.Horizon == h).OrderBy(FinalRate).First();
        var constants = first.Where(r => Kind(r) == "constant").OrderByDescending(r => r.Horizon).ToArray();
        CorpusRun constant;
        long end;
        if (constants.Length > 0) { constant = constants[0]; end = h; }
        else
        {
            // No constant run: the longest constant-at-peak prefix stands in (what a WSD run logs before its cooldown).
            var best = first.Where(r => r != cosine).Select(r => (Run: r, End: ConstantPrefixEnd(r))).OrderByDescending(x => x.End).FirstOrDefault();
            if (best.Run is null || best.End <= 0) return null;
            constant = best.Run; end = Math.Min(h, best.End);
        }
        var fit = new[] { corpus.LawRunOf(constant, endStep: end) with { Name = $"{constant.Name}[:{end}]" }, corpus.LawRunOf(cosine) };
        var tests = first.Where(r => r != cosine && !(Kind(r) == "constant" && Nominal(r.Horizon) <= Nominal(h))).Select(r => Target(corpus, r)).ToArray();
        if (tests.Length == 0) return null;
        return new ForecastSplit(corpus.Name, "schedules", $"fit {constant.Name} to step {end} + {cosine.Name}; predict {tests.Length} other schedules",
            fit, tests, Math.Max(end, cosine.Horizon));
    }

    /// <summary>
    /// The WSD question's series of one corpus: the constant run, its two fitted branches, the held-out branches (ending
    /// after the second fitted one, by length) and the cooldown fraction; null when the corpus has none.
    /// </summary>
    private sealed record Series(CorpusRun Constant, CorpusRun[] Fitted, ForecastTarget[] Tests, double Fraction)
    {
        /// <summary>The last step the fitted runs reach: the second fitted branch's end.</summary>
        public long End => Fitted[1].Horizon;

        public string Predicts => $"predict {Tests.Length} later cooldowns ({Fraction:P0} of the run) out to {(double)Tests[^1].Horizon / End:0.#}x";
    }

    private static Series? CooldownSeries(ForecastCorpus corpus)
    {
        int seed = corpus.Runs.Min(r => r.Seed);
        var constant = corpus.Runs.Where(r => r.Seed == seed && Kind(r) == "constant").OrderByDescending(r => r.Horizon).FirstOrDefault();
        if (constant is null) return null;
        // Branches of the constant run with one cooldown fraction (the most common; ties: the shortest cooldown).
        static double Fraction(CorpusRun r) => Math.Round((double)(r.Horizon - r.BranchStep) / r.Horizon, 2);
        var series = corpus.Runs.Where(r => r.BranchOf == constant.Name && r.BranchStep > 0 && r.BranchStep >= corpus.MinStep).ToArray();
        var group = series.GroupBy(Fraction).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).FirstOrDefault();
        if (group is null || group.Count() < 4) return null;
        var branches = group.OrderBy(r => r.Horizon).ToArray();
        CorpusRun[] fitted = branches[..2];
        if (corpus.CooldownsFit.Count == 2)
        {
            // the corpus names its two fitted cooldowns: they must be branches of this series
            fitted = corpus.CooldownsFit.Select(n => branches.FirstOrDefault(r => r.Name == n)
                ?? throw new InputException($"{corpus.Name}: cooldowns_fit names '{n}', which is not one of the {group.Key:P0} cooldowns branched from {constant.Name}")).OrderBy(r => r.Horizon).ToArray();
        }
        long end = fitted[1].Horizon;
        var tests = branches.Where(r => r.Horizon > end).Select(r => Target(corpus, r)).ToArray();
        return tests.Length == 0 ? null : new Series(constant, fitted, tests, group.Key);
    }

    /// <summary>The constant run up to the second fitted branch's end, fitted by both cooldown questions.</summary>
    private static LawRun ConstantPrefix(ForecastCorpus corpus, Series s) =>
        corpus.LawRunOf(s.Constant, endStep: s.End) with { Name = $"{s.Constant.Name}[:{s.End}]" };

    private static ForecastSplit Cooldowns(ForecastCorpus corpus, Series s)
    {
        var fit = new[]
        {
            ConstantPrefix(corpus, s),
            corpus.LawRunOf(s.Fitted[0], firstStep: s.Fitted[0].BranchStep),
            corpus.LawRunOf(s.Fitted[1], firstStep: s.Fitted[1].BranchStep),
        };
        return new ForecastSplit(corpus.Name, "cooldowns",
            $"fit {s.Constant.Name} to step {s.End} + cooldowns {s.Fitted[0].Name}, {s.Fitted[1].Name}; {s.Predicts}", fit, s.Tests, s.End);
    }

    private static ForecastSplit CooldownEnds(ForecastCorpus corpus, Series s)
    {
        var fit = new[] { ConstantPrefix(corpus, s), EndPoint(corpus, s.Fitted[0]), EndPoint(corpus, s.Fitted[1]) };
        return new ForecastSplit(corpus.Name, CooldownEndsQuestion,
            $"fit {s.Constant.Name} to step {s.End} + the end points of cooldowns {s.Fitted[0].Name}, {s.Fitted[1].Name}; {s.Predicts}", fit, s.Tests, s.End)
        { Restates = "cooldowns" };
    }

    /// <summary>
    /// A branch as its end point only: its rates at every step up to it and one observed point, the mean loss over the
    /// branch's final window (<see cref="ForecastTarget.ObservedFinal"/>, what a held-out run is scored on) at the window's
    /// mean step, rounded (the last logged point when the window holds one).
    /// </summary>
    public static LawRun EndPoint(ForecastCorpus corpus, CorpusRun branch)
    {
        var window = Target(corpus, branch);
        long step = (long)Math.Round(window.Run.Steps.Average(s => (double)s));
        var r = window.Run;
        return r with
        {
            Name = $"{branch.Name}[end]", Steps = [step], Observed = [window.ObservedFinal],
            Eta = r.Eta[..(int)(step + 1)], GradNorm = r.GradNorm is { } g ? g[..(int)(step + 1)] : null,
        };
    }

    /// <summary>
    /// The held-out run: its rates at every step and its final window of logged points. With <paramref name="endStep"/>,
    /// the run as if it had stopped there (its steps before <paramref name="endStep"/>; for comparing a longer run of one
    /// schedule with a shorter one).
    /// </summary>
    public static ForecastTarget Target(ForecastCorpus corpus, CorpusRun run, long endStep = long.MaxValue) =>
        Target(LawRun.FromCurve(run.Curve, corpus.Target), Math.Min(run.Horizon, endStep), $"{corpus.Name}/{run.Name}");

    /// <summary>
    /// Run <paramref name="r"/> as a held-out target stopped at <paramref name="horizon"/>: its rates before that step and
    /// its final window (the logged points of the last <see cref="FinalWindow"/> of its steps, at least the last one).
    /// <paramref name="name"/> names it in the message when no point is logged before the horizon.
    /// </summary>
    public static ForecastTarget Target(LawRun r, long horizon, string name)
    {
        var keep = FinalPoints(r.Steps, horizon);
        if (keep.Length == 0) throw new InputException($"{name}: no logged point before step {horizon}");
        var eta = horizon < r.Eta.Length ? r.Eta[..(int)horizon] : r.Eta;
        var grad = r.GradNorm is { } g && horizon < g.Length ? g[..(int)horizon] : r.GradNorm;
        return new ForecastTarget(r with { Eta = eta, GradNorm = grad, Steps = keep.Select(i => r.Steps[i]).ToArray(), Observed = keep.Select(i => r.Observed![i]).ToArray() }, Nominal(horizon));
    }

    /// <summary>
    /// The indices of a run's final window among its logged <paramref name="steps"/>, for a run of <paramref name="horizon"/>
    /// steps: the points logged in the last <see cref="FinalWindow"/> of its steps (before <paramref name="horizon"/>), else
    /// the last point before it; empty when none is. The one definition of "the final" that every score of a held-out run
    /// uses (the protocol's targets, and the published split's table through <see cref="TestResult"/>).
    /// </summary>
    public static int[] FinalPoints(IReadOnlyList<long> steps, long horizon)
    {
        long from = horizon - Math.Max(1, (long)Math.Round(FinalWindow * horizon));
        var keep = Enumerable.Range(0, steps.Count).Where(i => steps[i] >= from && steps[i] < horizon).ToArray();
        if (keep.Length > 0) return keep;
        int last = -1;
        for (int i = 0; i < steps.Count; i++) if (steps[i] < horizon) last = i;
        return last < 0 ? [] : [last];
    }

    /// <summary>
    /// A horizon rounded to two significant digits: logs end a few steps short of the planned total
    /// (23,905 and 23,937 are both a 24,000-step run), and runs of one planned total compete for the pick. Halves round
    /// away from zero: 10,500 is 11,000, not (banker's rounding) the 10,000 of a shorter run it would then compete with.
    /// </summary>
    public static long Nominal(long horizon)
    {
        if (horizon < 100) return horizon;
        double scale = Math.Pow(10, Math.Floor(Math.Log10(horizon)) - 1);
        return (long)(Math.Round(horizon / scale, MidpointRounding.AwayFromZero) * scale);
    }

    private static double FinalRate(CorpusRun run) => LawRun.FromCurve(run.Curve).Eta[^1];

    /// <summary>The first step after the peak at which the rate falls below it (0 when it never stays at the peak).</summary>
    private static long ConstantPrefixEnd(CorpusRun run)
    {
        var eta = LawRun.FromCurve(run.Curve).Eta;
        int k = EtaMath.PeakIndex(eta);
        int j = k;
        while (j + 1 < eta.Length && eta[j + 1] >= eta[k] * (1 - 1e-9)) j++;
        return j + 1 >= eta.Length ? 0 : j + 1;
    }
}
