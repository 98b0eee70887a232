using Anneal.Fitting;

namespace Anneal.Laws;

/// <summary>
/// Goodness of a prediction against observations (the multi-power-law paper's metrics):
/// R^2 = 1 - SSE/SST over the pooled points, MAE, RMSE (loss units), PredE = mean |pred-obs|/obs,
/// WorstE = max |pred-obs|/obs, and FinalErr = |pred-obs|/obs at the last point of each run (mean when pooled).
/// </summary>
public sealed record LawMetrics(int Points, double R2, double Mae, double Rmse, double PredE, double WorstE, double FinalErr)
{
    /// <summary>Metrics of predictions against observations, pooled over runs.</summary>
    public static LawMetrics Compute(IReadOnlyList<(double[] Obs, double[] Pred)> runs)
    {
        int n = 0; double sum = 0;
        foreach (var (o, _) in runs) { n += o.Length; sum += o.Sum(); }
        double mean = sum / n, sse = 0, sst = 0, mae = 0, prede = 0, worst = 0, fin = 0;
        foreach (var (o, p) in runs)
        {
            for (int i = 0; i < o.Length; i++)
            {
                double e = p[i] - o[i];
                sse += e * e; sst += (o[i] - mean) * (o[i] - mean); mae += Math.Abs(e);
                double rel = Math.Abs(e) / o[i];
                prede += rel; worst = Math.Max(worst, rel);
            }
            fin += Math.Abs(p[^1] - o[^1]) / o[^1];
        }
        return new LawMetrics(n, sst > 0 ? 1 - sse / sst : double.NaN, mae / n, Math.Sqrt(sse / n), prede / n, worst, fin / runs.Count);
    }
}

/// <summary>
/// A fitted law's prediction of one held-out run, and its final scored as the forecasting protocol scores it
/// (<see cref="Anneal.Accuracy.ForecastProtocol.FinalPoints"/>): the mean over the logged points of the run's last 1 % of
/// steps, observed, predicted and the band's ends alike, so that the published split's table and
/// <c>anneal accuracy</c> (and the band's calibration) count the same final. (The last logged point alone, used before
/// session 11, disagreed: 400M's table counted 4 of 6 finals covered where the calibration counted 5.)
/// </summary>
public sealed record TestResult(LawRun Run, LawPrediction Prediction, LawMetrics Metrics)
{
    // Every logged step is below Eta.Length (LawRun), so the window is never empty.
    private int[] Window => Anneal.Accuracy.ForecastProtocol.FinalPoints(Run.Steps, Run.Eta.Length);

    private double Mean(double[] x) => Window.Average(i => x[i]);

    /// <summary>The observed final loss: the mean of the observations over the final window.</summary>
    public double ObservedFinal => Mean(Run.Observed!);

    /// <summary>The predicted final loss: the mean of the prediction over the final window.</summary>
    public double PredictedFinal => Mean(Prediction.Loss);

    /// <summary>The band's low end at the final: its mean over the final window (NaN without a band).</summary>
    public double FinalLow => Mean(Prediction.Low);

    /// <summary>The band's high end at the final: its mean over the final window (NaN without a band).</summary>
    public double FinalHigh => Mean(Prediction.High);

    /// <summary>The relative error of the predicted final: |predicted - observed| / observed, both the window means.</summary>
    public double FinalError => Math.Abs(PredictedFinal - ObservedFinal) / ObservedFinal;

    /// <summary>Whether the band holds the observed final loss (false when there is no band).</summary>
    public bool FinalCovered => Prediction.HasBand && ObservedFinal >= FinalLow && ObservedFinal <= FinalHigh;
}

/// <summary>One law fitted on the fit runs and scored on every test run.</summary>
public sealed record LawScore(LossLaw Law, FittedLaw? Fit, IReadOnlyList<TestResult> Tests, LawMetrics? Pooled, string? Error);

/// <summary>The evaluation loop shared by every law: fit on some runs, predict the others, score.</summary>
public static class LawEvaluation
{
    /// <summary>Scores an already fitted law on <paramref name="tests"/>.</summary>
    public static LawScore Score(FittedLaw fit, IReadOnlyList<LawRun> tests, double level = 0.95)
    {
        var results = new List<TestResult>();
        foreach (var t in tests)
        {
            var pred = fit.Predict(t, level);
            results.Add(new TestResult(t, pred, LawMetrics.Compute([(t.Observed!, pred.Loss)])));
        }
        var pooled = LawMetrics.Compute(results.Select(r => (r.Run.Observed!, r.Prediction.Loss)).ToArray());
        return new LawScore(fit.Law, fit, results, pooled, null);
    }

    /// <summary>Fits each law on <paramref name="fitRuns"/> and scores it on <paramref name="tests"/>; a failed fit or prediction is reported, not thrown.</summary>
    public static IReadOnlyList<LawScore> Run(IReadOnlyList<LossLaw> laws, IReadOnlyList<LawRun> fitRuns, IReadOnlyList<LawRun> tests, FitOptions? options = null, double level = 0.95)
    {
        var scores = new List<LawScore>();
        foreach (var law in laws)
        {
            FittedLaw fit;
            try { fit = LawFitter.Fit(law, fitRuns, options); }
            catch (InputException e) { scores.Add(new LawScore(law, null, [], null, e.Message)); continue; }
            try { scores.Add(Score(fit, tests, level)); }
            catch (InputException e) { scores.Add(new LawScore(law, null, [], null, e.Message)); }
        }
        return scores;
    }
}
