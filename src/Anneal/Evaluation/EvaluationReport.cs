using System.Text.Json;
using System.Text.Json.Nodes;
using Anneal.Laws;

namespace Anneal.Evaluation;

/// <summary>One row of an evaluation table: a law on one held-out run, or one of its summary rows.</summary>
/// <param name="Law">The law's spec.</param>
/// <param name="Curve">The held-out run's name, <c>pooled</c>, <c>mean of curves</c>, or <c>fit failed: ...</c>.</param>
/// <param name="Metrics">The row's metrics (NaN for a failed fit).</param>
/// <param name="Test">The held-out run's result; null on summary and failure rows.</param>
/// <param name="Score">The law's score the row belongs to.</param>
public sealed record EvaluationRow(string Law, string Curve, LawMetrics Metrics, TestResult? Test, LawScore Score)
{
    /// <summary>True on the <c>pooled</c> and <c>mean of curves</c> rows.</summary>
    public bool IsSummary => Test is null && Score.Fit is not null;
}

/// <summary>
/// The result of fitting laws on some runs and scoring them on held-out runs: per law x test run,
/// the pooled row and the mean of curves (the multi-power-law paper's per-curve means), and its JSON
/// form (<see cref="Format"/>), shared by <c>anneal evaluate --json</c>, the demo and any other front end.
/// </summary>
/// <param name="Title">What was evaluated.</param>
/// <param name="FitNames">Names of the fitted runs.</param>
/// <param name="Scores">One score per law, in the order asked.</param>
/// <param name="Published">Published metrics [R2, MAE, RMSE, PredE, WorstE] (per-curve means) to compare with, when known.</param>
public sealed record EvaluationReport(string Title, string[] FitNames, IReadOnlyList<LawScore> Scores, double[]? Published)
{
    /// <summary>The versioned name of the JSON form.</summary>
    public const string Format = "anneal-evaluation/1";

    /// <summary>Per-curve means of a law's test metrics (points summed): the paper's <c>mean of curves</c>.</summary>
    public static LawMetrics MeanOfCurves(LawScore s) => new(
        s.Tests.Sum(t => t.Metrics.Points), s.Tests.Average(t => t.Metrics.R2), s.Tests.Average(t => t.Metrics.Mae), s.Tests.Average(t => t.Metrics.Rmse),
        s.Tests.Average(t => t.Metrics.PredE), s.Tests.Average(t => t.Metrics.WorstE), s.Tests.Average(t => t.Metrics.FinalErr));

    private static readonly LawMetrics Failed = new(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);

    /// <summary>The table's rows: per law, each test run, then <c>pooled</c> and <c>mean of curves</c>; a failed law has one row.</summary>
    public IEnumerable<EvaluationRow> Rows()
    {
        foreach (var s in Scores)
        {
            if (s.Fit is null) { yield return new EvaluationRow(s.Law.Spec, "fit failed: " + s.Error, Failed, null, s); continue; }
            foreach (var t in s.Tests) yield return new EvaluationRow(s.Law.Spec, t.Run.Name, t.Metrics, t, s);
            yield return new EvaluationRow(s.Law.Spec, "pooled", s.Pooled!, null, s);
            yield return new EvaluationRow(s.Law.Spec, "mean of curves", MeanOfCurves(s), null, s);
        }
    }

    /// <summary>The JSON form: <c>format</c>, <c>title</c>, <c>fit_runs</c> and per law its fit, pooled and mean metrics and every test (docs/formats.md).</summary>
    public JsonObject ToJson()
    {
        var laws = new JsonArray();
        foreach (var s in Scores)
        {
            var o = new JsonObject { ["law"] = s.Law.Spec };
            if (s.Fit is null) { o["error"] = s.Error; laws.Add(o); continue; }
            o["fit"] = JsonNode.Parse(s.Fit.ToJson());
            o["pooled"] = Metrics(s.Pooled!);
            o["mean_of_curves"] = Metrics(MeanOfCurves(s));
            o["tests"] = new JsonArray(s.Tests.Select(t => (JsonNode)new JsonObject
            {
                ["run"] = t.Run.Name, ["metrics"] = Metrics(t.Metrics), ["final_observed"] = t.ObservedFinal,
                // The protocol's final (TestResult): means over the run's last 1 % of steps, as final_covered judges it.
                ["final_loss"] = t.PredictedFinal, ["final_loss_low"] = JsonNumbers.OrNull(t.FinalLow), ["final_loss_high"] = JsonNumbers.OrNull(t.FinalHigh),
                ["band_unavailable"] = t.Prediction.BandUnavailable,
                ["final_covered"] = t.FinalCovered,
            }).ToArray());
            laws.Add(o);
        }
        return new JsonObject { ["format"] = Format, ["title"] = Title, ["fit_runs"] = new JsonArray(FitNames.Select(n => (JsonNode?)n).ToArray()), ["laws"] = laws };
    }

    /// <summary><see cref="ToJson"/> indented, as <c>anneal evaluate --json</c> prints it.</summary>
    public string ToJsonText() => ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    private static JsonObject Metrics(LawMetrics m) => new()
    {
        ["points"] = m.Points, ["r2"] = JsonNumbers.OrNull(m.R2), ["mae"] = m.Mae, ["rmse"] = m.Rmse, ["prede"] = m.PredE, ["worste"] = m.WorstE, ["final_rel_error"] = m.FinalErr,
    };
}
