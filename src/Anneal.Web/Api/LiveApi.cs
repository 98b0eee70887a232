using System.Text.Json;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Prediction;
using Anneal.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Anneal.Web.Api;

/// <summary>
/// <c>GET /api/live?run=ID</c>: server-sent events of a run as it is trained into the store. Events: <c>points</c>
/// (new logged rows: step, loss, lr), <c>forecast</c> (the law fitted to the run so far, predicting the rest of its
/// schedule with a band; refreshed when the run has grown by a tenth), <c>end</c> (the run finished).
/// </summary>
internal static class LiveApi
{
    /// <summary>How often the store is read for new rows.</summary>
    public static TimeSpan Poll { get; set; } = TimeSpan.FromMilliseconds(500);

    public static void Map(IEndpointRouteBuilder e) => e.MapGet("/api/live", async (HttpContext c, Dashboard d) =>
    {
        var idText = c.Request.Query["run"].ToString();
        if (!long.TryParse(idText, out var id)) throw new ApiException(400, "run: the id of the run to follow, e.g. /api/live?run=12");
        var law = Dashboard.ParseLaw(c.Request.Query["law"].ToString());
        if (d.Runs.GetRun(id) is null) throw new ApiException(404, $"no run with id {id}");
        c.Response.ContentType = "text/event-stream";
        c.Response.Headers.CacheControl = "no-cache";
        long last = -1;
        int forecastAt = 0, sent = 0;
        Task? forecast = null;
        var ct = c.RequestAborted;
        var send = new SemaphoreSlim(1, 1);
        async Task Send(string evt, object data)
        {
            await send.WaitAsync(ct);
            try
            {
                await c.Response.WriteAsync($"event: {evt}\ndata: {JsonSerializer.Serialize(data, ErrorHandling.JsonOptions)}\n\n", ct);
                await c.Response.Body.FlushAsync(ct);
            }
            finally { send.Release(); }
        }
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var run = d.Runs.GetRun(id);
                if (run is null) { await Send("end", new { reason = "the run was removed" }); break; }
                // Only the rows after the last one sent, read raw from the store (a window, not the whole run).
                var loss = d.Runs.GetCurve(id, Metrics.Loss, 100_000, last + 1);
                var lr = d.Runs.GetCurve(id, Metrics.Lr, 100_000, last + 1);
                bool fresh = loss is { Steps.Length: > 0 };
                if (fresh)
                {
                    var lrAt = new Dictionary<long, double>();
                    if (lr is not null) for (int i = 0; i < lr.Steps.Length; i++) lrAt[lr.Steps[i]] = lr.Values[i];
                    await Send("points", new
                    {
                        step = loss!.Steps, loss = Body.N(loss.Values), lr = loss.Steps.Select(st => lrAt.TryGetValue(st, out var v) ? Body.N(v) : null).ToArray(),
                    });
                    last = loss.Steps[^1];
                    sent += loss.Steps.Length;
                }
                // A forecast once the run has grown by a tenth since the last one, fitted off the request loop.
                if (run.Schedule is not null && sent >= 20 && sent >= forecastAt * 11 / 10 && (forecast is null || forecast.IsCompleted))
                {
                    forecastAt = sent;
                    forecast = Task.Run(async () =>
                    {
                        object data;
                        var snapshot = d.Runs.LoadCurve(id);
                        try { data = snapshot is null ? new { error = "the run was removed", points = 0 } : Forecast(law, snapshot, run.MetadataJson); }
                        catch (Exception ex) when (ex is InputException or ArgumentException or InvalidOperationException) { data = new { error = ex.Message, points = snapshot?.Count ?? 0 }; }
                        await Send("forecast", data);
                    }, ct);
                }
                if (run.Status != RunStatus.Running && !fresh)
                {
                    // The last forecast goes out before the end, so a client that stops reading at "end" has it.
                    if (forecast is not null) { await forecast; forecast = null; }
                    await Send("end", new { reason = run.Status.ToString().ToLowerInvariant(), points = sent });
                    break;
                }
                await Task.Delay(Poll, ct);
            }
            if (forecast is not null) await forecast;
        }
        catch (OperationCanceledException) { }
        return Results.Empty;
    });

    /// <summary>
    /// The law fitted to the run so far, predicting the rest of its schedule. A run trained with <c>autolrs(...)</c> has no
    /// schedule to sample (its rates are chosen while training): it is fitted on, and forecast with, the rates it realised
    /// (<see cref="RealisedRates.AutoLrs"/>: exact per stage to the current stage's end, then held), to the planned total
    /// its trainer recorded (the metadata's <c>steps</c>); the event's <c>schedule_note</c> says which rates are assumed.
    /// </summary>
    internal static object Forecast(LossLaw law, Anneal.Curves.LossCurve curve, string metadataJson)
    {
        string? note = null;
        double[] eta;
        string label;
        LawRun run;
        if (Anneal.Tuning.AutoLrsOptions.Is(curve.ScheduleSpec!))
        {
            var options = Anneal.Tuning.AutoLrsOptions.Parse(curve.ScheduleSpec!);
            long total = PlannedSteps(metadataJson) ?? curve.Steps[^1] + 1;
            var realised = RealisedRates.AutoLrs(curve, options, Math.Min(total, Dashboard.MaxSteps));
            eta = realised.Rates;
            label = options.Spec + " (realised)";
            note = realised.Description + (PlannedSteps(metadataJson) is null ? "; the run recorded no planned total, so the forecast ends at its last logged step" : "");
            var logged = LawRun.FromCurve(curve with { ScheduleSpec = null });
            run = logged with { Eta = eta[..(int)(realised.LoggedTo + 1)], EtaInterpolated = false, EtaSource = "AutoLRS realised rates (one per stage, from the logged lr)" };
        }
        else
        {
            var schedule = Anneal.Schedules.Schedule.Parse(curve.ScheduleSpec!);
            long n = schedule.Length ?? curve.Steps[^1] + 1;
            eta = schedule.Sample((int)Math.Min(n, Dashboard.MaxSteps));
            label = schedule.Spec;
            run = LawRun.FromCurve(curve);
        }
        // Laws are fitted after the warmup, where the rate first peaks; AutoLRS has no warmup, and its rate may rise at a
        // later stage, which must not cut the points before it, so its run is fitted whole.
        bool auto = note is not null;
        run = (auto ? run : run.From(run.PeakStep)).Binned(LawRun.DefaultMaxPoints);
        var fit = LawFitter.Fit(law, [run], new FitOptions());
        var at = LawRun.EvenSteps(eta.Length, 200, auto ? Math.Max(1, run.Steps[0]) : ForecastApi.FirstStep(eta));
        var p = fit.Predict(LawRun.ForSchedule(label, eta, at, label));
        return new
        {
            law = fit.Law.Spec, points = curve.Count, schedule = label, schedule_note = note, final_loss = p.FinalLoss, final_low = Body.N(p.FinalLow), final_high = Body.N(p.FinalHigh),
            step = p.Steps, loss = Body.N(p.Loss), low = Body.N(p.Low), high = Body.N(p.High),
        };
    }

    /// <summary>The planned number of steps a trainer recorded in the run's metadata (<c>steps</c>), or null.</summary>
    private static long? PlannedSteps(string metadataJson)
    {
        using var doc = JsonDocument.Parse(metadataJson);
        return doc.RootElement.TryGetProperty("steps", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var v) && v > 0 ? v : null;
    }
}
