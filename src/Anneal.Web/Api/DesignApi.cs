using System.Globalization;
using Anneal.Design;
using Anneal.Laws;
using Anneal.Schedules;
using Anneal.Specs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using System.Text.Json.Nodes;

namespace Anneal.Web.Api;

/// <summary>
/// The designer: <c>POST /api/design</c> predicts a WSD schedule's curve and final loss as the sliders move (fast: one
/// law evaluation); <c>POST /api/design/optimum</c> finds the free optimum and the best member of every family at the
/// same horizon, warmup and peak (seconds; cached); <c>POST /api/export</c> writes a schedule for HF or PyTorch.
/// </summary>
internal static class DesignApi
{
    internal const string DefaultLaw = "mpl-400m";

    public static void Map(IEndpointRouteBuilder e)
    {
        e.MapPost("/api/design", async (HttpContext c, Dashboard d) =>
        {
            var o = await Body.Json(c);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var result = Design(d, o);
            // The server's own time, for the browser's latency measurement (PerformanceResourceTiming.serverTiming).
            c.Response.Headers["Server-Timing"] = $"design;dur={System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds.ToString("F2", CultureInfo.InvariantCulture)}";
            return Body.Ok(result);
        });
        e.MapPost("/api/design/optimum", async (HttpContext c, Dashboard d) =>
        {
            var o = await Body.Json(c);
            var (dl, problem) = Problem(d, o);
            string key = string.Create(CultureInfo.InvariantCulture, $"{Body.Str(o, "law") ?? DefaultLaw}|{problem.Total}|{problem.Warmup}|{problem.Peak:R}|{problem.MinLr:R}");
            await d.Heavy.WaitAsync(c.RequestAborted);
            object result;
            try { result = await Task.Run(() => d.Design(key, () => Optimum(dl, problem)), c.RequestAborted); }
            finally { d.Heavy.Release(); }
            return Body.Ok(result);
        });
        // Export (the library's ScheduleExport, as `anneal export` writes it): POST answers what the designer shows
        // (the HF scheduler, the PyTorch snippet) and the address of the file; GET streams the file as a download, a
        // block of rates at a time, so a long horizon costs no memory.
        e.MapPost("/api/export", async (HttpContext c) =>
        {
            var o = await Body.Json(c);
            var schedule = Dashboard.ParseSchedule(Body.Str(o, "schedule"));
            long steps = Body.Int(o, "steps", schedule.Length, 1, Dashboard.MaxSteps);
            var format = Format(Body.Str(o, "format"));
            var request = new ExportRequest(steps, format) { Schedule = schedule };
            // The whole export is computed (and dropped): its checks and the snippet's peak are the download's own.
            var snippet = await Task.Run(() => ScheduleExport.Write(request, TextWriter.Null), c.RequestAborted);
            var query = $"schedule={Uri.EscapeDataString(schedule.Spec)}&steps={steps}&format={FormatName(format)}";
            return Body.Ok(new
            {
                format = FormatName(format), schedule = schedule.Spec, steps, file = FileName(format), download = "/api/export?" + query, snippet,
                hf = format == ExportFormat.Hf ? JsonNode.Parse(HfExport.Exact(schedule, steps).ToJson().ToJsonString()) : null,
            });
        });
        e.MapGet("/api/export", async (HttpContext c) =>
        {
            var q = c.Request.Query;
            var schedule = Dashboard.ParseSchedule(q["schedule"].ToString());
            var st = q["steps"].ToString();
            long steps = st.Length == 0 ? schedule.Length ?? throw new ApiException(400, $"steps: '{schedule.Spec}' has no total length; give steps (the horizon)")
                : long.TryParse(st, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
            if (steps < 1 || steps > Dashboard.MaxSteps) throw new ApiException(400, $"steps: a whole number between 1 and {Dashboard.MaxSteps}, got '{Body.Trunc(st.Length == 0 ? steps.ToString(CultureInfo.InvariantCulture) : st)}'");
            var format = Format(q["format"].ToString() is { Length: > 0 } f ? f : null);
            var request = new ExportRequest(steps, format) { Schedule = schedule };
            // HF's check (an exact equivalent) runs before the first byte, so its refusal is a 400, not a cut file.
            if (format == ExportFormat.Hf) _ = HfExport.Exact(schedule, steps);
            c.Response.ContentType = format == ExportFormat.Csv ? "text/csv; charset=utf-8" : "application/json; charset=utf-8";
            c.Response.Headers.ContentDisposition = $"attachment; filename=\"{FileName(format)}\"";
            // ScheduleExport writes to a TextWriter synchronously: off the request thread, with synchronous writes allowed
            // for this response only.
            if (c.Features.Get<IHttpBodyControlFeature>() is { } body) body.AllowSynchronousIO = true;
            await Task.Run(() =>
            {
                using var w = new StreamWriter(c.Response.Body, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
                ScheduleExport.Write(request, w);
            }, c.RequestAborted);
            return Results.Empty;
        });
    }

    private static ExportFormat Format(string? text) => text switch
    {
        null or "hf" => ExportFormat.Hf,
        "pytorch" => ExportFormat.Pytorch,
        "json" => ExportFormat.Json,
        "csv" => ExportFormat.Csv,
        _ => throw new ApiException(400, $"format: hf, pytorch, json or csv, got '{Body.Trunc(text)}'"),
    };

    private static string FormatName(ExportFormat f) => f.ToString().ToLowerInvariant();

    /// <summary>The download's name: the PyTorch snippet opens <c>schedule.json</c> (<see cref="ExportRequest.MultipliersFile"/>).</summary>
    private static string FileName(ExportFormat f) => f switch
    {
        ExportFormat.Csv => "schedule.csv",
        ExportFormat.Hf => "hf_scheduler.json",
        _ => new ExportRequest(1, f).MultipliersFile,
    };

    /// <summary>
    /// One designer update: the WSD spec of the sliders, its predicted final loss (the design layer's MplFinalLoss, with
    /// the band when the law has one) and its curve (the laws layer's multi-power law). The schedule is sampled once,
    /// into a buffer of the horizon's length kept across moves (a fresh 8 MB array per move at a million steps cost more
    /// CPU in page faults and collections than filling it); the law objects and the final-loss evaluator's buffers are
    /// reused too (<see cref="Dashboard"/>), so a move allocates little beyond its answer, even at a million steps. The
    /// curve's points whose rates the move did not change keep the last move's loss (<see cref="CurveMemo"/>, exact).
    /// </summary>
    internal static object Design(Dashboard d, JsonObject o)
    {
        var (dl, problem) = Problem(d, o);
        // Keyed by the law's name (a built-in or a fit id), which names one parameter vector; the source text may not.
        string lawName = Body.Str(o, "law") ?? DefaultLaw;
        double cooldown = Body.Num(o, "cooldown", 0.2, 0, 1);
        var shapeName = Body.Str(o, "shape") ?? "sqrt";
        if (!DecayShapes.TryParse(shapeName, out _)) throw new ApiException(400, $"shape: one of linear, cosine, sqrt, square, exponential, inverse; got '{Body.Trunc(shapeName)}'");
        int points = (int)Body.Int(o, "points", 300, 10, 5000);
        var spec = new SpecBuilder("wsd").Num("peak", problem.Peak).Num("total", problem.Total).Num("warmup", problem.Warmup)
            .Num("decay", Math.Round(cooldown, 4)).Word("shape", shapeName);
        if (problem.MinLr > 0) spec = spec.Num("min", problem.MinLr);
        var schedule = Dashboard.ParseSchedule(spec.Build().ToString());
        // An auto stack's or a seed ensemble's update forecasts the whole schedule twice (its final loss and band, its curve):
        // kept per request, so that a drag back over values already shown does not forecast them again (Dashboard.DesignAnswer).
        if (dl.Forecaster is not null || dl.Seeds is not null)
            return d.DesignAnswer(string.Create(CultureInfo.InvariantCulture, $"{lawName}|{schedule.Spec}|{points}"), () => Update(d, dl, problem, schedule, lawName, points));
        return Update(d, dl, problem, schedule, lawName, points);
    }

    /// <summary>One designer update of <paramref name="schedule"/> (the sliders' WSD spec), as <see cref="Design"/> describes it.</summary>
    private static object Update(Dashboard d, DesignLaw dl, DesignProblem problem, Schedule schedule, string lawName, int points)
    {
        var eta = d.RentRates(checked((int)problem.Total));
        try
        {
            schedule.Fill(eta);
            // Steps W..T-1 of the same rates are the post-warmup schedule MplFinalLoss.PostWarmup would sample again.
            var post = eta.AsSpan(checked((int)problem.Warmup));
            string key = string.Create(CultureInfo.InvariantCulture, $"{lawName}|{problem.Total}|{problem.Warmup}|{problem.Peak:R}|{problem.MinLr:R}");
            var objective = d.RentObjective(key, problem.FinalLoss);
            double final;
            try { final = objective.Value(post); }
            finally { d.ReturnObjective(key, objective); }
            // An auto stack's law reports the stack's forecast of the schedule and its calibrated band, as anneal predict
            // (DesignLaw.Predict); the curve below is still the member designed through.
            (double Low, double High)? band;
            if (dl.Forecaster is not null) (final, band) = dl.Predict(problem, post);
            else band = dl.Band(problem, post);
            var at = LawRun.EvenSteps(problem.Total, points, ForecastApi.FirstStep(eta));
            var curve = dl.Seeds is null && dl.Forecaster is null ? d.DesignCurve(lawName, d.CurveLaw(lawName, () => CurveLaw(dl)), eta, at) : Curve(dl, eta, at);
            return new
            {
                law = dl.Source, spec = schedule.Spec, final_loss = final, band = band is { } b ? new { low = b.Low, high = b.High, level = 0.95 } : null,
                // A law fitted on runs that end before the laws' regime gives no band past its fitted horizon (RegimeCheck).
                band_withheld = dl.BandWithheld(problem), regime = dl.Regime is { } g ? ForecastApi.Regime(g, null, null) : null,
                step = at, loss = Body.N(curve), lr = at.Select(s => eta[s]).ToArray(),
            };
        }
        finally { d.ReturnRates(eta); }
    }

    /// <summary>
    /// The predicted loss of rates <paramref name="eta"/> at steps <paramref name="at"/> (the free optimum's curve; a
    /// slider move's goes through <see cref="Dashboard.DesignCurve"/>): the law's own evaluation, the losses of <see cref="FittedLaw.Predict(double[], long[], double)"/> bit for bit, without that call's band (its
    /// parameter Jacobian costs a fifth more at a million steps, and the designer's band is the final loss's, from
    /// <see cref="DesignLaw.Band"/>).
    /// </summary>
    internal static double[] Curve(FittedLaw law, double[] eta, long[] at) =>
        law.Law.Predict(LawRun.ForSchedule("design", eta, at, "designer sliders"), law.Values);

    /// <summary>
    /// One designer update computed at start-up, off the request path: the CLI runs without tiered compilation, so the
    /// first call of each method pays its full JIT (about a second here), which would otherwise land on the first slider move.
    /// </summary>
    internal static void WarmUp(Dashboard d) =>
        Design(d, new JsonObject { ["law"] = "mpl-400m", ["peak"] = 3e-4, ["total"] = 24000, ["warmup"] = 2160, ["cooldown"] = 0.2, ["shape"] = "sqrt" });

    /// <summary>The law and the problem (horizon, warmup, peak, floor) shared by both design routes, validated by the library.</summary>
    private static (DesignLaw Law, DesignProblem Problem) Problem(Dashboard d, JsonObject o)
    {
        var dl = Law(d, Body.Str(o, "law") ?? DefaultLaw);
        long total = Body.Int(o, "total", null, 3, Dashboard.MaxSteps);
        long warmup = Body.Int(o, "warmup", 0, 0, Dashboard.MaxSteps);
        double peak = Body.Num(o, "peak", null, 1e-12, DesignProblem.MaxPeak);
        double minLr = Body.Num(o, "min_lr", 0, 0, DesignProblem.MaxPeak);
        var problem = dl.Problem(total, warmup, peak, minLr);
        return (dl, problem);
    }

    /// <summary>A built-in published law (<c>mpl-400m</c>, ...), a saved law (<c>law:ID</c>) or a law fitted by <c>/api/forecast</c> (its <c>fit_id</c>).</summary>
    private static DesignLaw Law(Dashboard d, string name) => d.DesignLaw(name, () =>
    {
        if (BuiltinLaws.Resolve(name) is { } builtin) return DesignLaw.FromFitted(builtin, BuiltinLaws.Describe(name));
        if (Anneal.Store.Provenance.IsLaw(name))
        {
            // a saved law never changes, so the cache keyed by its name stays right
            var stored = Anneal.Store.Provenance.ReadLaw(d.Runs, name);
            return DesignLaw.FromFitted(stored.Law, stored.Describe());
        }
        var fit = d.Fit(name) ?? throw new ApiException(400, $"law: '{Body.Trunc(name)}' is neither a built-in law ({string.Join(", ", BuiltinLaws.Names)}) nor a fit of this server (fit runs on the Forecast page first)");
        return DesignLaw.FromFitted(fit, "fit of " + name.Split('|')[0] + " to runs " + name.Split('|')[^1]);
    });

    /// <summary>
    /// The design law's predicted loss of rates <paramref name="eta"/> at steps <paramref name="at"/>: <see cref="Curve(FittedLaw, double[], long[])"/>
    /// of its multi-power law, or for a seed ensemble each group's curve combined as the ensemble forecasts
    /// (<see cref="SeedEnsemble.Combine"/>: the geometric mean), so the curve ends at the designer's final loss. An ensemble's
    /// curve is evaluated whole on every move (the memo holds one law's).
    /// </summary>
    private static double[] Curve(DesignLaw dl, double[] eta, long[] at)
    {
        // An auto law's curve is the stack's forecast, as its final loss and band are (DesignLaw.Predict), so the curve ends there.
        if (dl.Forecaster is { } forecaster) return forecaster.Predict(LawRun.ForSchedule("design", eta, at, "designer sliders")).Loss;
        if (dl.Seeds is not { } seeds) return Curve(CurveLaw(dl), eta, at);
        var none = Enumerable.Repeat(double.NaN, at.Length).ToArray();
        return SeedEnsemble.Combine(seeds.Select(g => new LawPrediction(at, Curve(CurveLaw(g), eta, at), none, none, 0.95) { BandUnavailable = "a curve without a band" }).ToArray()).Loss;
    }

    /// <summary>The law layer's multi-power law with the design law's parameters, to draw whole curves.</summary>
    private static FittedLaw CurveLaw(DesignLaw dl) =>
        FittedLaw.FromValues(new MultiPowerLaw(dl.Convention) { ContinuousDrops = dl.ContinuousDrops }, dl.Parameters.ToArray());

    /// <summary>The final loss the designer shows for a schedule: an auto law's stack forecast (<see cref="DesignLaw.Predict"/>, as the slider's), else the law designed through's (<paramref name="designed"/>).</summary>
    private static double Reported(DesignLaw dl, DesignProblem problem, double[] post, double designed) =>
        dl.Forecaster is null ? designed : dl.Predict(problem, post).Loss;

    private static object Optimum(DesignLaw dl, DesignProblem problem)
    {
        // The optimum of what the designer reports (DesignLaw.Designer: an auto stack's forecast, else the multi-power law's).
        var designer = dl.Designer(problem);
        var named = designer.BestOfFamilies().Concat(designer.References()).ToArray();
        var free = designer.OptimizeAfter(named);
        var full = problem.FullSchedule(free.PostWarmup);
        var at = LawRun.EvenSteps(problem.Total, 300, Math.Max(1, problem.Warmup));
        var freeCurve = Curve(dl, full, at);
        var families = named.Select(x => new
        {
            label = x.Label, spec = x.Schedule.Spec, final_loss = Reported(dl, problem, MplFinalLoss.PostWarmup(x.Schedule, problem.Total, problem.Warmup), x.Loss),
        }).ToArray();
        var lrAt = LawRun.EvenSteps(problem.Total, 600);
        return new
        {
            law = dl.Source, total = problem.Total, warmup = problem.Warmup, peak = problem.Peak,
            free = new { final_loss = Reported(dl, problem, free.PostWarmup, free.Loss), step = lrAt, lr = lrAt.Select(s => full[s]).ToArray(), loss_step = at, loss = Body.N(freeCurve) },
            candidates = families,
        };
    }
}
