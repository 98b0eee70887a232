using System.Text.Json.Nodes;
using Anneal.Laws;
using Anneal.Schedules;
using static Anneal.ParameterName;

namespace Anneal.Prediction;

/// <summary>
/// A request to predict the loss curve of one schedule with a fitted law. The schedule is either a
/// <see cref="Schedule"/> or per-step rates (<see cref="Rates"/>, e.g. read with <see cref="Anneal.Curves.LrFile"/>): exactly one.
/// </summary>
/// <param name="Law">The fitted law (e.g. <see cref="LawFile.Read"/> of a law file).</param>
public sealed record PredictRequest(FittedLaw Law)
{
    /// <summary>The schedule to predict, as a spec.</summary>
    public Schedule? Schedule { get; init; }

    /// <summary>The schedule to predict, as the rate of every step 0..n-1.</summary>
    public double[]? Rates { get; init; }

    /// <summary>Where <see cref="Rates"/> came from, for labels (e.g. the file's path).</summary>
    public string RatesSource { get; init; } = "per-step rates";

    /// <summary>Horizon: steps 0..Steps-1; null: the schedule's total (or the length of <see cref="Rates"/>).</summary>
    public long? Steps { get; init; }

    /// <summary>Number of predicted points, evenly spaced from the end of the warmup.</summary>
    public int Points { get; init; } = 500;

    /// <summary>Coverage of the band, in (0, 1).</summary>
    public double Level { get; init; } = 0.95;

    /// <summary>
    /// Optimizer steps in one pass over the training data, when the law file does not record it (or to confirm it): a
    /// forecast past it, when the fitted runs end before it, gets a warning, and no band past
    /// <see cref="Anneal.Fitting.EpochBoundary.EpochsWithBand"/> epochs (<see cref="Anneal.Fitting.EpochBoundary"/>).
    /// </summary>
    public long? StepsPerEpoch { get; init; }

    /// <summary>Called, before the work starts, with a note when the prediction will take long (a horizon of millions of steps).</summary>
    public Action<string>? Note { get; init; }
}

/// <summary>The outcome of <see cref="PredictService.Predict"/>.</summary>
/// <param name="Law">The law's spec.</param>
/// <param name="Label">The schedule's spec, or where its rates came from.</param>
/// <param name="Steps">The horizon.</param>
/// <param name="Rates">The rate of every step 0..Steps-1.</param>
/// <param name="Prediction">The curve, its band and the final loss.</param>
public sealed record PredictResult(string Law, string Label, long Steps, double[] Rates, LawPrediction Prediction)
{
    /// <summary>The versioned name of the JSON form.</summary>
    public const string Format = "anneal-prediction/1";

    /// <summary>The JSON form printed by <c>anneal predict --json</c> (docs/formats.md).</summary>
    public JsonObject ToJson() => new()
    {
        ["format"] = Format,
        ["law"] = Law, ["schedule"] = Label, ["steps"] = Steps, ["level"] = Prediction.Level,
        ["final_loss"] = Prediction.FinalLoss, ["final_loss_low"] = JsonNumbers.OrNull(Prediction.FinalLow), ["final_loss_high"] = JsonNumbers.OrNull(Prediction.FinalHigh),
        ["band_unavailable"] = Prediction.BandUnavailable,
        ["warning"] = Prediction.Warning,
        ["curve"] = new JsonObject
        {
            ["step"] = JsonNumbers.Array(Prediction.Steps.Select(v => (double)v)), ["loss"] = JsonNumbers.Array(Prediction.Loss),
            ["low"] = JsonNumbers.Array(Prediction.Low), ["high"] = JsonNumbers.Array(Prediction.High),
        },
    };
}

/// <summary>Predicting a schedule's loss curve with a fitted law, with its uncertainty band.</summary>
public static class PredictService
{
    /// <summary>Largest horizon a prediction accepts: the laws' (<see cref="LawRun.MaxSteps"/>; the rates of every step are held in memory).</summary>
    public const long MaxSteps = LawRun.MaxSteps;

    /// <summary>Horizons above this many steps get a <see cref="PredictRequest.Note"/>: the laws sum over every step for every point.</summary>
    private const long LongSteps = 1_000_000;

    /// <summary>
    /// Throws <see cref="InputException"/> unless <paramref name="steps"/> is a horizon in [2, <see cref="MaxSteps"/>]
    /// (<see cref="LawRun.CheckHorizon"/>); a caller that reads rates from a file checks a given horizon before reading.
    /// </summary>
    public static void CheckSteps(long steps) => LawRun.CheckHorizon(steps);

    /// <summary>
    /// Throws <see cref="InputException"/> unless exactly one of a spec and per-step rates is given (a caller that
    /// reads rates from a file checks before reading).
    /// </summary>
    public static void CheckOneSchedule(bool schedule, bool rates)
    {
        if (schedule == rates) throw InputException.Naming($"give the schedule either as {Parameter("schedule")} or as {Parameter("rates")} (one of them)");
    }

    /// <summary>
    /// Predicts <see cref="PredictRequest.Points"/> points from the end of the warmup (where the learning rate
    /// first peaks: laws are fitted after it) to the last step. Checks the request first; errors name
    /// the parameters (<c>steps</c>, <c>level</c>, <c>points</c>, <c>schedule</c>, <c>rates</c>, <c>steps_per_epoch</c>).
    /// </summary>
    public static PredictResult Predict(PredictRequest request, CancellationToken cancel = default)
    {
        var s = request.Schedule;
        CheckOneSchedule(s is not null, request.Rates is not null);
        var label = s?.Spec ?? request.RatesSource;
        long n = request.Rates?.Length ?? request.Steps ?? s!.Length ?? throw InputException.Naming($"{Parameter("steps")} is needed: '{s!.Spec}' has no total length");
        // a horizon that is the schedule's own total is named as such
        LawRun.CheckHorizon(n, request.Steps is null && request.Rates is null ? s!.Spec : null);
        double level = request.Level;
        if (!(level > 0 && level < 1)) throw InputException.Naming($"{Parameter("level")} must be in (0, 1), got {level}");
        if (request.Points < 1) throw InputException.Naming($"{Parameter("points")} must be >= 1, got {request.Points}");
        var law = Anneal.Fitting.EpochBoundary.Given(request.Law, request.StepsPerEpoch);
        cancel.ThrowIfCancellationRequested();
        if (n > LongSteps) request.Note?.Invoke($"predicting {n} steps at {request.Points} points; the law sums over every step, so at this length it takes minutes");
        var eta = request.Rates ?? s!.Sample((int)n);
        long first = Math.Max(1, EtaMath.PeakIndex(eta));
        var prediction = law.Predict(LawRun.ForSchedule(label, eta, LawRun.EvenSteps(n, request.Points, first), label), level);
        return new PredictResult(request.Law.Law.Spec, label, n, eta, prediction);
    }
}
