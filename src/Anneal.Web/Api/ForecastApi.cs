using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Prediction;
using Anneal.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Anneal.Web.Api;

/// <summary>
/// <c>POST /api/forecast</c>: fit a law (auto by default) to chosen runs, show each run's residuals, and predict the
/// curve of a typed schedule with its band. The fit and the prediction are the services of <c>anneal fit</c> and
/// <c>anneal predict</c> (<see cref="FitService"/>, <see cref="PredictService"/>); this page only renders them. The fit is
/// kept under <c>fit_id</c> for the designer.
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
        var target = Body.Target(o, "loss");
        double level = Body.Num(o, "level", 0.95, 0.5, 0.999);
        int points = (int)Body.Int(o, "points", 400, 10, 5000);
        var specText = Body.Str(o, "schedule");
        var schedule = string.IsNullOrWhiteSpace(specText) ? null : Dashboard.ParseSchedule(specText);
        long? steps = o["steps"] is null ? null : Body.Int(o, "steps", null, 2, Dashboard.MaxSteps);
        // A longer log of a constant-rate run (a stored run), read with the fit's target: where it enters the laws' regime
        // when the fitted runs end before it (RegimeService, as anneal fit --constant-log).
        var log = ConstantLog.LoadIfGiven(d, o);
        var (logId, logCurve) = (log?.Id, log?.Curve);

        // The curves as the store holds them; one name per run (two stored runs may share a name).
        var curves = ids.Select(id => d.Runs.LoadCurve(id) ?? throw new ApiException(404, $"runs: no run with id {id}")).ToArray();
        if (curves.Select(r => r.Name).Distinct().Count() < curves.Length)
            for (int i = 0; i < curves.Length; i++) curves[i] = curves[i] with { Name = $"{curves[i].Name}#{ids[i]}" };
        string key = stored is not null ? Provenance.LawPrefix + stored.Id
            : $"{law.Spec}|{target}|{(logId is { } l ? $"log {l}|" : "")}{string.Join(",", ids)}"; // in the given order: the runs' order is the fit's
        // The fit of `anneal fit` (FitService: the same fit window, bins, fitter and per-run scores); a saved law is
        // scored on its runs prepared the same way.
        var result = stored is not null ? FitService.Scored(stored.Law, FitWindow.Prepare(curves, target, cancel: c.RequestAborted)) : d.FitResult(key);
        if (result is null)
        {
            await d.Heavy.WaitAsync(c.RequestAborted);
            try { result = await Task.Run(() => FitService.Fit(new FitRequest(curves, law) { Target = target, ConstantLog = logCurve }, cancel: c.RequestAborted), c.RequestAborted); }
            finally { d.Heavy.Release(); }
            d.KeepFit(key, result, ids);
        }
        var fit = result.Fit;
        // A saved law was fitted before: its regime check is in the law file, the log is judged against it here as the fit would.
        var onset = stored is null || logCurve is null ? fit.Onset
            : RegimeService.ForFit(fit.Regime, await Task.Run(() => RegimeService.Read(logCurve, target, cancel: c.RequestAborted), c.RequestAborted));

        object? prediction = null;
        if (schedule is not null)
        {
            long n = steps ?? schedule.Length ?? throw new ApiException(400, $"steps: '{schedule.Spec}' has no total length; give steps (the horizon)");
            if (n < 2 || n > Dashboard.MaxSteps) throw new ApiException(400, $"steps: must be between 2 and {Dashboard.MaxSteps}, got {n}");
            // The prediction of `anneal predict` (PredictService): the same points from the end of the warmup, the same band.
            var res = await Task.Run(() => PredictService.Predict(new PredictRequest(fit) { Schedule = schedule, Steps = n, Points = points, Level = level }, c.RequestAborted), c.RequestAborted);
            var p = res.Prediction;
            prediction = new
            {
                schedule = schedule.Spec, steps = n, level, final_loss = p.FinalLoss, final_low = Body.N(p.FinalLow), final_high = Body.N(p.FinalHigh),
                band_unavailable = p.BandUnavailable, band_withheld_by_regime = fit.Regime?.BandWithheld(n - 1, level) is not null, step = p.Steps, loss = Body.N(p.Loss), low = Body.N(p.Low), high = Body.N(p.High),
                lr = p.Steps.Select(s => res.Rates[s]).ToArray(),
            };
        }
        return Body.Ok(new
        {
            fit_id = key, law = fit.Law.Spec, target, saved_law = stored is null ? null : new
            {
                id = stored.Id, name = stored.Info.Name, anneal_version = stored.Info.AnnealVersion, created = stored.Info.CreatedAt,
                runs = stored.Info.Runs.Select(r => new { id = r.RunId, name = r.RunName, exists = r.Exists }).ToArray(),
            },
            members = Members(fit),
            parameters = Parameters(fit),
            // A seed ensemble (SeedEnsemble): each seed group's runs, stack and parameters; the fields above are the first group's.
            seed_groups = fit.Seeds?.Groups.Select(g => new { runs = g.Report.Runs, points = g.Report.Points, members = Members(g), parameters = Parameters(g) }).ToArray(),
            report = new { points = fit.Report.Points, rms_log_residual = Body.N(fit.Report.RmsLogResidual), seconds = fit.Report.WallSeconds, warnings = fit.Report.Warnings },
            designable = fit.Law is MultiPowerLaw || fit.Law is AutoLaw,
            regime = Regime(fit.Regime, onset, logId),
            notes = result.Prepared.Notes.ToArray(),
            runs = result.Runs.Select((run, i) =>
            {
                // a seed ensemble's run against its own seed group's fit, as its scores (FitService.Scored)
                var pr = (fit.Seeds?.GroupOf(run.Name) ?? fit).Predict(run, level);
                var obs = run.Observed!;
                var m = result.PerRun[i].Metrics;
                return new
                {
                    id = ids[i], name = run.Name, step = run.Steps, observed = Body.N(obs), predicted = Body.N(pr.Loss),
                    residual = Body.N(obs.Select((v, j) => v - pr.Loss[j])), r2 = Body.N(m.R2), rmse = Body.N(m.Rmse),
                };
            }).ToArray(),
            prediction,
        });
    });

    /// <summary>An auto stack's members and weights as the API gives them; null for another law.</summary>
    private static object? Members(FittedLaw fit) => fit.Law is AutoLaw stack ? stack.Members.Select(m => new { law = m.Law.Spec, weight = m.Weight }).ToArray() : null;

    /// <summary>A fit's parameters as the API gives them: name, value, standard error, unit.</summary>
    private static object Parameters(FittedLaw fit) =>
        fit.Law.Parameters.Select((p, i) => new { name = p.Name, value = Body.N(fit.Values[i]), std_error = Body.N(fit.StdErrors[i]), unit = p.Unit }).ToArray();

    /// <summary>
    /// The regime verdict of a fit as the API gives it (the forecast's and the designer's): the check's numbers and its
    /// sentence (<see cref="RegimeCheck.Verdict"/>, the fit's warning when it fires), the step past which bands are withheld,
    /// and, with a constant-rate log (<paramref name="logId"/>), where it enters the regime (<see cref="RegimeOnset"/>: the
    /// sentence <c>anneal fit --constant-log</c> prints, <see cref="RegimeOnset.FitWarning"/>).
    /// </summary>
    internal static object Regime(RegimeCheck? check, RegimeOnset? onset, long? logId) => check is null
        ? new { @checked = false, fires = false, message = RegimeCheck.Unavailable, horizon = (long?)null, z = (double?)null, band_withheld_past = (long?)null, constant_log = logId, onset = (object?)null }
        : new
        {
            @checked = true, fires = check.Fires, message = check.Verdict, horizon = (long?)check.Horizon, z = Body.N(check.Z),
            band_withheld_past = check.Fires ? check.Horizon : (long?)null, constant_log = logId,
            onset = onset is null ? null : (object)Onset(onset, check),
        };

    /// <summary>One onset for the API: its numbers, the step calibration runs must reach, and the library's sentence.</summary>
    internal static object Onset(RegimeOnset o, RegimeCheck? fit = null) => new
    {
        run = o.Run, horizon = o.Horizon, step = o.Step, end = o.End, alarms = o.Alarms, reached = o.Reached, asks_longer = o.AsksLonger,
        shortest_run = o.ShortestRun, ask = o.Ask, message = fit is null ? o.Describe() : o.FitWarning(fit),
    };

    /// <summary>First step worth predicting: the end of the warmup (laws are fitted after it).</summary>
    internal static long FirstStep(double[] eta) => Math.Max(1, new LawRun { Name = "", Eta = eta, Steps = [] }.PeakStep);
}
