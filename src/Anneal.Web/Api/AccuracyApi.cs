using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Anneal.Web.Api;

/// <summary>
/// <c>GET /api/accuracy</c>: the table of <c>anneal accuracy</c> over the example corpora (the library's
/// forecasting benchmark), computed once per server in the background: 202 with progress until it is ready.
/// </summary>
internal static class AccuracyApi
{
    public static void Map(IEndpointRouteBuilder e) => e.MapGet("/api/accuracy", (Dashboard d) =>
    {
        var (report, progress, error) = d.Accuracy();
        if (error is not null) throw error is ApiException or InputException ? error : new ApiException(500, $"the accuracy run failed ({error.GetType().Name}: {error.Message})");
        if (report is null) return Body.Ok(new { status = "computing", progress }, StatusCodes.Status202Accepted);
        return Body.Ok(new
        {
            status = "done", level = report.Level, skipped = report.Skipped,
            pooled = report.Laws.Select(law => report.Pooled(law)).Select(p => new
            {
                law = p.Law, forecasts = p.Count, failures = p.Failures, mean_error = Body.N(p.MeanError), worst_error = Body.N(p.WorstError),
                spearman = Body.N(p.Spearman), regret = Body.N(p.Regret), covered = p.Covered, with_band = p.WithBand,
                median_half_width = Body.N(p.MedianHalfWidth), fit_seconds = p.FitSeconds,
            }).ToArray(),
            rows = report.Rows.Select(r => new
            {
                corpus = r.Corpus, question = r.Question, law = r.Law, forecasts = r.Forecasts.Count, mean_error = Body.N(r.MeanError),
                worst_error = Body.N(r.WorstError), spearman = Body.N(r.Spearman), regret = Body.N(r.Regret), covered = r.Covered, with_band = r.WithBand,
                fit_seconds = r.FitSeconds, error = r.Error, note = r.Note,
            }).ToArray(),
        });
    });
}
