using Anneal.Curves;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Evaluation;

/// <summary>Where a held-out run's gradient norms come from, for laws that use them (<c>convex(grad=logged)</c>).</summary>
public enum TestGradNorm
{
    /// <summary>A forecast: the mean logged norm of the fitted runs at the same progress (a held-out run's norms are an outcome of training it).</summary>
    FitMean,
    /// <summary>Each held-out run's own logged norms (where it has them).</summary>
    Logged,
}

/// <summary>A request to fit laws on some runs and score them on held-out runs.</summary>
/// <param name="FitCurves">The runs to fit on.</param>
/// <param name="TestCurves">The held-out runs to predict.</param>
/// <param name="Laws">The laws to compare.</param>
public sealed record EvaluateRequest(IReadOnlyList<LossCurve> FitCurves, IReadOnlyList<LossCurve> TestCurves, IReadOnlyList<LossLaw> Laws)
{
    /// <summary>Which loss: <c>loss</c> (training) or <c>val</c>.</summary>
    public string Target { get; init; } = "loss";

    /// <summary>First logged step fitted and scored; null: each run's peak step.</summary>
    public long? FromStep { get; init; }

    /// <summary>Weight every fitted run equally.</summary>
    public bool EqualRunWeights { get; init; }

    /// <summary>How to minimise; null: each law's own.</summary>
    public FitMethod? Method { get; init; }

    /// <summary>Gradient norms of the held-out runs.</summary>
    public TestGradNorm TestGradNorm { get; init; } = TestGradNorm.FitMean;
}

/// <summary>The outcome of <see cref="EvaluateService.Evaluate"/>: the report and how the fitted and held-out runs were prepared.</summary>
public sealed record EvaluateResult(EvaluationReport Report, PreparedRuns Fitted, PreparedRuns HeldOut);

/// <summary>Fit each law on some runs, predict held-out runs, score them.</summary>
public static class EvaluateService
{
    /// <summary>
    /// Prepares both sets of runs with one window (<see cref="FitWindow"/>), forecasts the held-out runs'
    /// gradient norms unless told to use their own, and scores every law (<see cref="LawEvaluation.Run"/>;
    /// a law that fails is recorded, not thrown). <paramref name="progress"/> receives the fitter's messages.
    /// </summary>
    public static EvaluateResult Evaluate(EvaluateRequest request, IProgress<string>? progress = null, CancellationToken cancel = default)
    {
        // where the fitted runs' data starts to repeat, when their logs have an epoch column (EpochBoundary)
        var epoch = Anneal.Fitting.EpochBoundary.FromLogs(request.FitCurves, null);
        var fits = FitWindow.Prepare(request.FitCurves, request.Target, request.FromStep, cancel);
        var tests = FitWindow.Prepare(request.TestCurves, request.Target, request.FromStep, cancel);
        var testRuns = tests.Runs;
        // A held-out run's gradient norms are an outcome of training it: forecast them from the fitted runs unless asked not to.
        if (fits.Runs.Any(f => f.GradNorm is not null))
            testRuns = testRuns.Select(t => request.TestGradNorm == TestGradNorm.Logged && t.GradNorm is not null ? t : t.WithGradNormFrom(fits.Runs)).ToArray();
        cancel.ThrowIfCancellationRequested();
        var options = new FitOptions(EqualRunWeights: request.EqualRunWeights, Method: request.Method) { Progress = progress is null ? null : progress.Report, Epoch = epoch };
        var scores = LawEvaluation.Run(request.Laws, fits.Runs, testRuns, options);
        var report = new EvaluationReport("evaluation", fits.Runs.Select(f => f.Name).ToArray(), scores, null);
        return new EvaluateResult(report, fits, tests);
    }
}
