using System.Text.Json.Nodes;
using Anneal.Design;
using Anneal.Fitting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Anneal.Web.Api;

/// <summary>
/// <c>POST /api/probe</c>: the calibration runs to train for the user's target schedules (<c>anneal probe</c>), from the same
/// service (<see cref="ProbePlanner.Plan"/>) and written by the same serializer (<see cref="ProbeJson"/>, format
/// <c>anneal-probe/1</c>). The request is the CLI's: <c>budget</c>, <c>targets</c>, <c>law</c>, <c>margin</c>, <c>seeds</c>,
/// <c>noise</c>, <c>reference</c> (example corpora by name), <c>prior</c> (a published law or a saved <c>law:ID</c>),
/// <c>constant_log</c> (a stored run) and <c>constant_log_target</c>. Every input is checked before any work (a 400 naming
/// the field); the plan then runs in the background (<see cref="ProbeJobs"/>): 202 with the job's address, which answers
/// 202 with the planner's progress until it answers 200 with the document; <c>DELETE</c> on it stops the planner and forgets the job.
/// A separate route from <c>/api/calibration</c>: that one is the regime stage alone, answered at once; this one is the
/// whole design, which includes that stage (the document's <c>regime</c>) and takes tens of seconds.
/// </summary>
internal static class ProbeApi
{
    /// <summary>How long <c>DELETE /api/probe/{job}</c> waits for the planner to stop (the simulated fits in flight to end) before answering <c>cancelling</c>.</summary>
    public static readonly TimeSpan StopWait = TimeSpan.FromSeconds(30);

    /// <summary>Most target schedules in one request (the simulation's cost grows with them).</summary>
    public const int MaxTargets = 16;

    public static void Map(IEndpointRouteBuilder e)
    {
        e.MapPost("/api/probe", async (HttpContext c, Dashboard d) =>
        {
            var o = await Body.Json(c);
            var request = Request(d, o);
            string job = d.Probes.Start(request, d.Heavy);
            return Body.Ok(new { status = "computing", job, poll = $"/api/probe/{job}", progress = "queued" }, StatusCodes.Status202Accepted);
        });
        e.MapGet("/api/probe/{job}", (string job, Dashboard d) =>
        {
            var s = d.Probes.Get(job) ?? throw new ApiException(404, $"job: no calibration design '{Body.Trunc(job)}' on this server (it was cancelled, went {d.Probes.Unpolled.TotalSeconds:0} s without a poll, finished long ago, or the server restarted); start it again");
            if (s.Error is not null) throw s.Error is ApiException or InputException ? s.Error : new ApiException(500, $"the calibration design failed ({s.Error.GetType().Name}: {s.Error.Message})");
            if (s.Result is null) return Body.Ok(new { status = "computing", job, progress = s.Progress, seconds = s.Seconds }, StatusCodes.Status202Accepted);
            // The document itself, exactly as anneal probe --json prints it.
            return Results.Text(s.Result.ToJsonString(), "application/json; charset=utf-8");
        });
        e.MapDelete("/api/probe/{job}", async (string job, Dashboard d) =>
        {
            // Stops the planner (its token reaches the loop of simulated fits) and forgets the job; answers once it stopped.
            var x = await d.Probes.Cancel(job, StopWait) ?? throw new ApiException(404, $"job: no calibration design '{Body.Trunc(job)}' on this server (it was cancelled, went {d.Probes.Unpolled.TotalSeconds:0} s without a poll, finished long ago, or the server restarted)");
            return Body.Ok(new { job, status = !x.WasRunning ? "dropped" : x.Stopped ? "cancelled" : "cancelling", seconds = x.Seconds });
        });
    }

    /// <summary>
    /// The <see cref="ProbeRequest"/> of a body, checked as <c>anneal probe</c> checks its options (<see cref="ProbePlanner.Designs"/>:
    /// targets, budget, law, noise, and the regime stage of the constant-rate log) before anything is simulated.
    /// </summary>
    internal static ProbeRequest Request(Dashboard d, JsonObject o)
    {
        long budget = Body.Int(o, "budget", null, 1, Dashboard.MaxSteps);
        var targets = Strings(o, "targets", 1, MaxTargets, "schedules to forecast, e.g. [\"cosine(peak=3e-4, total=24000, warmup=2160)\", \"constant(peak=3e-4, warmup=2160)@24000\"]");
        foreach (var t in targets)
        {
            if (t.Length > Dashboard.MaxSpecLength) throw new ApiException(400, $"targets: a spec of at most {Dashboard.MaxSpecLength} characters");
            // Specs that read a file on the server are refused, as everywhere on the dashboard.
            Dashboard.ParseSchedule(t.Split('@')[0], "targets");
        }
        string law = Dashboard.ParseLaw(Body.Str(o, "law") ?? "auto").Spec;
        var priors = (o["prior"] is null ? [] : Strings(o, "prior", 1, 8, "published laws (mpl-25m, mpl-100m, mpl-400m) or saved laws (law:ID)")).Select(p => Prior(d, p)).ToArray();
        var refNames = o["reference"] is null ? priors.Length == 0 ? ["mpl-400m"] : [] : Strings(o, "reference", 1, 4, "example corpora by name, e.g. [\"mpl-400m\"]");
        var references = refNames.Select(n => d.ProbeReference(n)).ToArray();
        var request = new ProbeRequest(budget, targets)
        {
            Law = law,
            Seeds = (int)Body.Int(o, "seeds", 3, 1, 50),
            Margin = Body.Num(o, "margin", ProbePlanner.DefaultMargin, 1, 100),
            Noise = ProbePlanner.DefaultNoise with { Sigma = Body.Num(o, "noise", ProbePlanner.DefaultNoise.Sigma, 0, 1) },
            Priors = priors,
            References = references,
            ConstantLog = ConstantLogRun(d, o),
        };
        try { _ = ProbePlanner.Designs(request); }
        catch (InputException x) { throw new ApiException(400, x.MessageNaming(Field)); }
        return request;
    }

    /// <summary>The library's parameter names as this API's fields (the one list of targets is <c>targets</c>).</summary>
    private static string Field(string parameter) => parameter == "target" ? "targets" : parameter;

    /// <summary>The constant-rate log (a stored run) read as <c>anneal probe --constant-log</c> reads a file (<see cref="RegimeService.Read"/>).</summary>
    private static Anneal.Laws.LawRun? ConstantLogRun(Dashboard d, JsonObject o)
    {
        var target = Body.Target(o, "val", "constant_log_target");
        if (ConstantLog.LoadIfGiven(d, o) is not { Curve: var curve }) return null;
        try { return RegimeService.Read(curve, target); }
        catch (InputException x) { throw new ApiException(400, "constant_log: " + x.Message); }
    }

    /// <summary>A prior law: a published one in its own world, or a saved law as it was fitted (in the user's units).</summary>
    private static ProbePrior Prior(Dashboard d, string name)
    {
        if (ProbePriors.Published(name) is { } published) return published;
        if (Anneal.Store.Provenance.IsLaw(name))
        {
            var stored = Anneal.Store.Provenance.ReadLaw(d.Runs, name);
            return new ProbePrior(name, stored.Law, stored.Describe());
        }
        throw new ApiException(400, $"prior: '{Body.Trunc(name)}' is neither a published law (mpl-25m, mpl-100m, mpl-400m) nor a saved law (law:ID)");
    }

    private static string[] Strings(JsonObject o, string key, int min, int max, string what)
    {
        if (o[key] is not JsonArray a) throw new ApiException(400, $"{key}: give a list of {what}");
        if (a.Count < min || a.Count > max) throw new ApiException(400, $"{key}: give {min} to {max} items, got {a.Count}");
        return a.Select(x => x is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new ApiException(400, $"{key}: every item is a string: {what}")).ToArray();
    }
}
