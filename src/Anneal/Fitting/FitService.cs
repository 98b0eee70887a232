using Anneal.Curves;
using Anneal.Laws;

namespace Anneal.Fitting;

/// <summary>A request to fit one law to logged runs.</summary>
/// <param name="Curves">The logged runs (each with its schedule or an lr column).</param>
/// <param name="Law">The law to fit (e.g. <c>LossLaw.Parse("auto")</c>).</param>
public sealed record FitRequest(IReadOnlyList<LossCurve> Curves, LossLaw Law)
{
    /// <summary>Which loss to fit: <c>loss</c> (training) or <c>val</c>.</summary>
    public string Target { get; init; } = "loss";

    /// <summary>First logged step fitted; null: each run's peak step (the end of its warmup).</summary>
    public long? FromStep { get; init; }

    /// <summary>Weight every run equally, whatever its number of points.</summary>
    public bool EqualRunWeights { get; init; }

    /// <summary>Seed of the random starts (the fit is deterministic per seed).</summary>
    public int Seed { get; init; }

    /// <summary>How to minimise; null: the law's own (<see cref="LossLaw.PreferredMethod"/>).</summary>
    public FitMethod? Method { get; init; }

    /// <summary>
    /// Optimizer steps in one pass over the training data (training tokens / tokens per step); null: read from the logs'
    /// epoch column where they have one (<see cref="EpochBoundary.FromLogs"/>). Forecasts past it, when the fitted runs end
    /// before it, get a warning, and no band past <see cref="EpochBoundary.EpochsWithBand"/> epochs (<see cref="EpochBoundary"/>).
    /// </summary>
    public long? StepsPerEpoch { get; init; }

    /// <summary>
    /// A longer log of a constant-rate run at the fitted runs' peak, read with the same target and window as the fitted
    /// runs; null: none. When the fit is before the laws' regime, where this log enters it is in the warning
    /// (<see cref="FitOptions.ConstantLog"/>).
    /// </summary>
    public LossCurve? ConstantLog { get; init; }
}

/// <summary>How well the fitted law describes one of the runs it was fitted on (a seed ensemble's: the run's own seed group's fit).</summary>
public sealed record RunFit(string Run, LawMetrics Metrics);

/// <summary>The outcome of <see cref="FitService.Fit"/>.</summary>
/// <param name="Fit">The fitted law (values, standard errors, covariance, report); <see cref="FittedLaw.ToJson"/> is the law file.</param>
/// <param name="Runs">The runs as fitted (window and bins applied).</param>
/// <param name="Prepared">The runs' preparation: what was left out or averaged before the fit (<see cref="FitWindow"/>).</param>
/// <param name="PerRun">The fitted law's metrics on each fitted run, in order.</param>
public sealed record FitResult(FittedLaw Fit, IReadOnlyList<LawRun> Runs, PreparedRuns Prepared, IReadOnlyList<RunFit> PerRun);

/// <summary>Fitting a loss-curve law to logged runs: window, binning, fit and per-run scores.</summary>
public static class FitService
{
    /// <summary>
    /// Prepares the runs (<see cref="FitWindow.Prepare"/>), fits the law (<see cref="LawFitter.Fit"/>) and
    /// scores it on each run. <paramref name="progress"/> receives the fitter's messages (it may be called
    /// from several threads).
    /// Bad input throws <see cref="InputException"/>.
    /// </summary>
    public static FitResult Fit(FitRequest request, IProgress<string>? progress = null, CancellationToken cancel = default)
    {
        var epoch = EpochBoundary.FromLogs(request.Curves, request.StepsPerEpoch);
        var prepared = FitWindow.Prepare(request.Curves, request.Target, request.FromStep, cancel);
        cancel.ThrowIfCancellationRequested();
        var options = new FitOptions(EqualRunWeights: request.EqualRunWeights, Seed: request.Seed, Method: request.Method)
        {
            Progress = progress is null ? null : progress.Report,
            Epoch = epoch,
            ConstantLog = request.ConstantLog is { } log ? ReadConstantLog(log, request, cancel) : null,
        };
        if (options.ConstantLog is { } constantLog) RegimeService.CheckForFit(constantLog, prepared.Runs);
        var fit = LawFitter.Fit(request.Law, prepared.Runs, options);
        cancel.ThrowIfCancellationRequested();
        return Scored(fit, prepared);
    }

    /// <summary>The request's constant-rate log read by <see cref="RegimeService.Read"/>; its refusal names the parameter it came from.</summary>
    private static LawRun ReadConstantLog(LossCurve log, FitRequest request, CancellationToken cancel)
    {
        try { return RegimeService.Read(log, request.Target, request.FromStep, cancel); }
        catch (InputException e) { throw e.Prefixed($"{ParameterName.Parameter("constant_log")} "); }
    }

    /// <summary>
    /// The result <see cref="Fit"/> gives, for a law fitted before (e.g. a saved one reopened with the runs it was
    /// fitted to): <paramref name="fit"/> scored on each of the <paramref name="prepared"/> runs
    /// (<see cref="FitWindow.Prepare"/>, as a fit prepares them).
    /// </summary>
    public static FitResult Scored(FittedLaw fit, PreparedRuns prepared)
    {
        // Each run's score is independent of the others': side by side on the cores (the CLI's fit waits for them, the
        // second core otherwise idle), each written to its place.
        // A seed ensemble's run is scored by its own seed group's fit (SeedEnsemble.GroupOf): the ensemble's mean is not
        // meant to pass through either seed's runs.
        var perRun = new RunFit[prepared.Runs.Count];
        LawFitter.ForEachIndependent(perRun.Length, i => { var r = prepared.Runs[i]; perRun[i] = new RunFit(r.Name, LawEvaluation.Score(fit.Seeds?.GroupOf(r.Name) ?? fit, [r]).Pooled!); });
        return new FitResult(fit, prepared.Runs, prepared, perRun);
    }
}
