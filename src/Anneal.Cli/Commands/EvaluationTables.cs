using System.Globalization;
using System.Text;
using Anneal.Evaluation;
using Anneal.Laws;

namespace Anneal.Cli.Commands;

/// <summary>An <see cref="EvaluationReport"/> as the terminal table of <c>anneal evaluate</c> and <c>anneal demo</c>, and as Markdown.</summary>
internal static class EvaluationTables
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static string FormatOrDash(double v, string fmt) => double.IsNaN(v) ? "-" : v.ToString(fmt, Inv);

    /// <summary>The observed and predicted final loss of a test row, the protocol's final (<see cref="Anneal.Laws.TestResult.ObservedFinal"/>; "" on summary rows).</summary>
    private static string Final(EvaluationRow row) => row.Test is { } t ? string.Create(Inv, $"{t.ObservedFinal:F4} / {t.PredictedFinal:F4}") : "";

    /// <summary>
    /// The final-loss error of a row at the protocol's final (<see cref="Anneal.Laws.TestResult.FinalError"/>; the mean over the tests on a
    /// summary row), so that the error, the finals shown and the band's coverage all score the same final.
    /// </summary>
    private static double FinalErr(EvaluationRow row) =>
        row.Test is { } t ? t.FinalError : row.IsSummary && row.Score.Tests.Count > 0 ? row.Score.Tests.Average(x => x.FinalError) : double.NaN;

    /// <summary>The band of a test row at the protocol's final and whether it covers the observed final; the coverage count on the pooled row.</summary>
    private static string Band(EvaluationRow row)
    {
        if (row.Test is { } t)
            return t.Prediction.HasBand ? string.Create(Inv, $"[{t.FinalLow:F4}, {t.FinalHigh:F4}] {(t.FinalCovered ? "yes" : "no")}") : "none (too wide or not finite)";
        return row.Curve == "pooled" ? $"{row.Score.Tests.Count(x => x.FinalCovered)}/{row.Score.Tests.Count} covered" : "";
    }

    /// <summary>The terminal table.</summary>
    public static string Text(EvaluationReport report)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{report.Title}");
        sb.AppendLine($"{"law",-22} {"test run",-20} {"R^2",8} {"MAE",8} {"RMSE",8} {"PredE",8} {"WorstE",8} {"final",7}  {"obs / pred final",17}  band (95%)");
        foreach (var row in report.Rows())
        {
            var m = row.Metrics;
            sb.AppendLine($"{row.Law,-22} {row.Curve,-20} {FormatOrDash(m.R2, "F4"),8} {FormatOrDash(m.Mae, "F5"),8} {FormatOrDash(m.Rmse, "F5"),8} {FormatOrDash(m.PredE, "F5"),8} {FormatOrDash(m.WorstE, "F5"),8} {FormatOrDash(FinalErr(row), "P2"),7}  {Final(row),17}  {Band(row)}");
        }
        if (report.Published is { } p)
            sb.AppendLine(string.Create(Inv, $"{"published mpl",-22} {"mean of curves",-20} {p[0],8:F4} {p[1],8:F5} {p[2],8:F5} {p[3],8:F5} {p[4],8:F5}"));
        foreach (var s in report.Scores.Where(s => s.Fit is not null))
        {
            foreach (var w in s.Fit!.Report.Warnings) sb.AppendLine($"note ({s.Law.Spec}): {w}");
            foreach (var n in BandNotes(s)) sb.AppendLine($"note ({s.Law.Spec}): {n}");
        }
        return sb.ToString();
    }

    /// <summary>
    /// Why a law has no band, once per reason: a band that cannot be computed usually fails the same way for every
    /// held-out run (the fit's covariance, not the run), so the runs sharing a reason are named together.
    /// </summary>
    internal static IEnumerable<string> BandNotes(LawScore s)
    {
        var missing = s.Tests.Where(t => !t.Prediction.HasBand).ToList();
        foreach (var g in missing.GroupBy(t => t.Prediction.BandUnavailable))
            yield return g.Count() == s.Tests.Count && s.Tests.Count > 1
                ? $"every held-out run: {g.Key}"
                : $"{string.Join(", ", g.Select(t => t.Run.Name))}: {g.Key}";
    }

    /// <summary>The Markdown table, then each law's fitted values and notes.</summary>
    public static string Markdown(EvaluationReport report)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| law | test run | R^2 | MAE | RMSE | PredE | WorstE | final err | obs / pred final | 95% band, covers? |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var row in report.Rows())
        {
            var m = row.Metrics;
            string b(string x) => row.IsSummary ? $"**{x}**" : x;
            sb.AppendLine($"| {row.Law} | {b(row.Curve)} | {FormatOrDash(m.R2, "F4")} | {FormatOrDash(m.Mae, "F5")} | {FormatOrDash(m.Rmse, "F5")} | {FormatOrDash(m.PredE, "F5")} | {FormatOrDash(m.WorstE, "F5")} | {FormatOrDash(FinalErr(row), "P2")} | {Final(row)} | {Band(row)} |");
        }
        if (report.Published is { } p)
            sb.AppendLine(string.Create(Inv, $"| published mpl (Luo et al.) | **mean of curves** | {p[0]:F4} | {p[1]:F5} | {p[2]:F5} | {p[3]:F5} | {p[4]:F5} | | | |"));
        sb.AppendLine();
        foreach (var s in report.Scores.Where(s => s.Fit is not null))
        {
            var f = s.Fit!;
            sb.AppendLine(string.Create(Inv, $"- `{s.Law.Spec}`: {string.Join(", ", f.Law.Parameters.Select((p, i) => $"{p.Name} = {f.Values[i]:G4} ± {f.StdErrors[i]:G2}"))}; fit {f.Report.WallSeconds:F2} s, {f.Report.Starts} starts, objective {f.Report.Objective:G4}"));
            foreach (var w in f.Report.Warnings) sb.AppendLine($"  - note: {w}");
            foreach (var n in BandNotes(s)) sb.AppendLine($"  - note: {n}");
        }
        sb.AppendLine();
        return sb.ToString();
    }
}
