using Anneal.Fitting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Anneal.Web.Api;

/// <summary>
/// <c>POST /api/calibration</c>: how long calibration runs must be. Given a longer log of a constant-rate run (a stored run,
/// <c>constant_log</c>) and the last step the planned calibration runs reach (<c>horizon</c>), where the log enters the laws'
/// regime from there on: the judgement <c>anneal probe --constant-log</c> makes before it compares designs (designs ending
/// before the onset are left out there), from the same service (<see cref="RegimeService.Judge(RegimeRequest, CancellationToken)"/>).
/// </summary>
internal static class CalibrationApi
{
    public static void Map(IEndpointRouteBuilder e) => e.MapPost("/api/calibration", async (HttpContext c, Dashboard d) =>
    {
        var o = await Body.Json(c);
        // Validation loss by default, as anneal probe --constant-log-target: the regime check is 8-12x less noisy on it.
        var target = Body.Target(o, "val");
        long horizon = Body.Int(o, "horizon", null, 1, Dashboard.MaxSteps);
        var (id, curve) = ConstantLog.Load(d, o);
        var judged = await Task.Run(() => RegimeService.Judge(new RegimeRequest(curve, horizon) { Target = target }, c.RequestAborted), c.RequestAborted);
        return Body.Ok(new
        {
            constant_log = id, run = judged.Log.Name, target, horizon, logged_to = judged.Log.Steps[^1],
            judged = judged.Onset is not null, asks_longer = judged.Onset?.AsksLonger ?? false, ask = judged.Onset?.Ask, message = judged.Message,
            onset = judged.Onset is { } onset ? ForecastApi.Onset(onset) : null,
        });
    });
}
