using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Anneal.Web.Api;

/// <summary>
/// <c>POST /api/forecast</c>: fit a law (auto by default) to chosen runs, show each run's residuals, and predict the
/// curve of a typed schedule with its band. The fit is kept under <c>fit_id</c> for the designer.
/// </summary>
internal static class ForecastApi
{
    public static void Map(IEndpointRouteBuilder e) => e.MapPost("/api/forecast", async (HttpContext c, Dashboard d) =>
    {
        var o = await Body.Json(c);
        // A saved law (law_id) is opened as it was fitted, over the runs it was fitted to that are still stored.
        var stored = o["law_id"] is null ? null : Provenance.ReadLaw(d.Runs, Body.Int(o, "law_id", null, 1, long.MaxValue));
        var ids = stored is null ? Body.Ids(o, "runs", 1, 8) : stored.ExistingRuns.Take(8).ToArray();
        var law = stored?.Law.Law ?? Dashboard.ParseLaw(Body.Str(o, "law"));
        var target = Body.Str(o, "target") ?? "loss";
        if (target is not ("loss" or "val")) throw new ApiException(400, $"target: loss (training loss) or val (validation loss), got '{Body.Trunc(target)}'");
        double level = Body.Num(o, "level", 0.95, 0.5, 0.999);
        int points = (int)Body.Int(o, "points", 400, 10, 5000);
        var specText = Body.Str(o, "schedule");
        var schedule = string.IsNullOrWhiteSpace(specText) ? null : Dashboard.ParseSchedule(specText);
        long? steps = o["steps"] is null ? null : Body.Int(o, "steps", null, 2, Dashboard.MaxSteps);

        var runs = ids.Select(id => Prepare(d, id, target)).ToArray();
        if (runs.Select(r => r.Run.Name).Distinct().Count() < runs.Length)
            for (int i = 0; i < runs.Length; i++) runs[i] = runs[i] with { Run = runs[i].Run with { Name = $"{runs[i].Run.Name}#{runs[i].Id}" } };
        string key = stored is not null ? Provenance.LawPrefix + stored.Id : $"{law.Spec}|{target}|{string.Join(",", ids.Order())}";
        var fit = stored?.Law ?? d.Fit(key);
        if (fit is null)
        {
            await d.Heavy.WaitAsync(c.RequestAborted);
            try { fit = await Task.Run(() => LawFitter.Fit(law, runs.Select(r => r.Run).ToArray(), new FitOptions()), c.RequestAborted); }
            finally { d.Heavy.Release(); }
            d.KeepFit(key, fit, ids);
        }

        object? prediction = null;
        if (schedule is not null)
        {
            long n = steps ?? schedule.Length ?? throw new ApiException(400, $"steps: '{schedule.Spec}' has no total length; give steps (the horizon)");
            if (n < 2 || n > Dashboard.MaxSteps) throw new ApiException(400, $"steps: must be between 2 and {Dashboard.MaxSteps}, got {n}");
            var eta = schedule.Sample((int)n);
            var at = LawRun.EvenSteps(n, points, FirstStep(eta));
            var p = fit.Predict(LawRun.ForSchedule(schedule.Spec, eta, at, schedule.Spec), level);
            prediction = new
            {
                schedule = schedule.Spec, steps = n, level, final_loss = p.FinalLoss, final_low = Body.N(p.FinalLow), final_high = Body.N(p.FinalHigh),
                band_unavailable = p.BandUnavailable, step = p.Steps, loss = Body.N(p.Loss), low = Body.N(p.Low), high = Body.N(p.High),
                lr = p.Steps.Select(s => eta[s]).ToArray(),
            };
        }
        return Body.Ok(new
        {
            fit_id = key, law = fit.Law.Spec, target, saved_law = stored is null ? null : new
            {
                id = stored.Id, name = stored.Info.Name, anneal_version = stored.Info.AnnealVersion, created = stored.Info.CreatedAt,
                runs = stored.Info.Runs.Select(r => new { id = r.RunId, name = r.RunName, exists = r.Exists }).ToArray(),
            },
            members = fit.Law is AutoLaw stack ? stack.Members.Select(m => new { law = m.Law.Spec, weight = m.Weight }).ToArray() : null,
            parameters = fit.Law.Parameters.Select((p, i) => new { name = p.Name, value = Body.N(fit.Values[i]), std_error = Body.N(fit.StdErrors[i]), unit = p.Unit }).ToArray(),
            report = new { points = fit.Report.Points, rms_log_residual = Body.N(fit.Report.RmsLogResidual), seconds = fit.Report.WallSeconds, warnings = fit.Report.Warnings },
            designable = fit.Law is MultiPowerLaw || fit.Law is AutoLaw,
            runs = runs.Select(r =>
            {
                var pr = fit.Predict(r.Run, level);
                var obs = r.Run.Observed!;
                var m = LawEvaluation.Score(fit, [r.Run]).Pooled!;
                return new
                {
                    id = r.Id, name = r.Run.Name, step = r.Run.Steps, observed = Body.N(obs), predicted = Body.N(pr.Loss),
                    residual = Body.N(obs.Select((v, i) => v - pr.Loss[i])), r2 = Body.N(m.R2), rmse = Body.N(m.Rmse),
                };
            }).ToArray(),
            prediction,
        });
    });

    private sealed record Prepared(long Id, LawRun Run);

    /// <summary>A stored run as the laws fit it: after its warmup (which the laws do not describe), averaged into at most <see cref="LawRun.DefaultMaxPoints"/> bins.</summary>
    private static Prepared Prepare(Dashboard d, long id, string target)
    {
        var curve = d.Runs.LoadCurve(id) ?? throw new ApiException(404, $"runs: no run with id {id}");
        var run = LawRun.FromCurve(curve, target);
        return new Prepared(id, run.From(run.PeakStep).Binned(LawRun.DefaultMaxPoints));
    }

    /// <summary>First step worth predicting: the end of the warmup (laws are fitted after it).</summary>
    internal static long FirstStep(double[] eta) => Math.Max(1, new LawRun { Name = "", Eta = eta, Steps = [] }.PeakStep);
}
