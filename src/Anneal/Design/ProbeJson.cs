using System.Text.Json.Nodes;
using Anneal.Fitting;

namespace Anneal.Design;

/// <summary>
/// The one writer of format <c>anneal-probe/1</c> (docs/formats.md): a <see cref="ProbeResult"/> as JSON with snake_case
/// names. <c>anneal probe --json</c> and the dashboard's <c>/api/probe</c> both print what this returns, so the two
/// cannot drift apart. Non-finite numbers (a regret without a group of one horizon) are written as null.
/// </summary>
public static class ProbeJson
{
    /// <summary>The format name written into every document.</summary>
    public const string Format = "anneal-probe/1";

    /// <summary>
    /// The document for <paramref name="p"/>. <paramref name="seconds"/> is the wall time of the whole request (the
    /// simulation's own is in <c>settings.simulation_seconds</c>); with <paramref name="check"/> (a corpus's name and its
    /// designs fitted on the real runs, <see cref="ProbeCheck.Score"/>) a <c>check</c> section is added.
    /// </summary>
    public static JsonObject Write(ProbeResult p, double seconds, (string Corpus, IReadOnlyList<RealScore> Real)? check = null)
    {
        var o = new JsonObject
        {
            ["format"] = Format,
            ["budget"] = p.Budget,
            ["law"] = p.Law,
            ["peak"] = p.Peak,
            ["warmup"] = p.Warmup,
            ["targets"] = new JsonArray(p.Targets.Select(t => (JsonNode)new JsonObject { ["spec"] = t.Spec, ["label"] = t.Label, ["horizon"] = t.Horizon }).ToArray()),
            ["recommended"] = Design(p.Recommended),
            ["most_accurate"] = Design(p.MostAccurate),
            ["baseline"] = p.Baseline is null ? null : Design(p.Baseline),
            ["designs"] = new JsonArray(p.Designs.Select(d => (JsonNode)Design(d)).ToArray()),
            ["reasons"] = new JsonArray(p.Reasons.Select(x => (JsonNode?)x).ToArray()),
            ["notes"] = new JsonArray(p.Notes.Select(x => (JsonNode?)x).ToArray()),
            ["regime"] = p.Regime is { } onset ? Onset(onset) : null,
            ["settings"] = new JsonObject
            {
                ["priors"] = new JsonArray(p.Settings.Priors.Select(x => (JsonNode?)x).ToArray()),
                ["noise"] = new JsonObject { ["sigma"] = p.Settings.Noise.Sigma, ["correlation"] = p.Settings.Noise.Correlation, ["common_share"] = p.Settings.Noise.CommonShare },
                ["seeds"] = p.Settings.Seeds,
                ["margin"] = p.Settings.Margin,
                ["block"] = p.Settings.Block,
                ["log_every"] = p.Settings.LogEvery,
                ["simulations"] = p.Settings.Simulations,
                ["simulation_seconds"] = p.Settings.Seconds,
                ["seconds"] = seconds,
            },
        };
        if (check is { } c)
            o["check"] = new JsonObject
            {
                ["corpus"] = c.Corpus,
                ["spearman_simulated_vs_real"] = Finite(ProbeCheck.SimulatedVsReal(p, c.Real)),
                ["designs"] = new JsonArray(c.Real.Select(s => (JsonNode)new JsonObject
                {
                    ["name"] = s.Design.Name, ["cost"] = s.Design.Cost, ["failure"] = s.Failure,
                    ["mean_error"] = Finite(s.MeanError), ["rms_error"] = Finite(s.RmsError), ["worst_error"] = Finite(s.WorstError), ["regret"] = Finite(s.Regret),
                    ["forecasts"] = new JsonArray(s.Forecasts.Select(f => (JsonNode)new JsonObject { ["run"] = f.Run, ["horizon"] = f.Horizon, ["observed"] = f.Observed, ["predicted"] = f.Predicted }).ToArray()),
                }).ToArray()),
            };
        return o;
    }

    /// <summary>
    /// The regime stage (<see cref="ProbeRequest.ConstantLog"/> judged from the shortest design's horizon): where the log enters
    /// the laws' regime, the step calibration runs must reach (<c>ask</c>, null when it asks nothing) and the library's sentence
    /// (<see cref="RegimeOnset.Describe"/>, the message of <see cref="RegimeService"/>).
    /// </summary>
    private static JsonObject Onset(RegimeOnset o) => new()
    {
        ["run"] = o.Run, ["horizon"] = o.Horizon, ["step"] = o.Step, ["end"] = o.End, ["alarms"] = o.Alarms, ["reached"] = o.Reached,
        ["asks_longer"] = o.AsksLonger, ["shortest_run"] = o.ShortestRun, ["ask"] = o.Ask, ["message"] = o.Describe(),
    };

    private static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    private static JsonObject Design(DesignScore d) => new()
    {
        ["name"] = d.Design.Name,
        ["family"] = d.Design.Family,
        ["cost"] = d.Design.Cost,
        ["runs"] = new JsonArray(d.Design.Runs.Select(x => (JsonNode)new JsonObject
        {
            ["name"] = x.Name, ["schedule"] = x.Schedule, ["horizon"] = x.Horizon, ["branch_step"] = x.BranchStep, ["cost"] = x.Cost,
        }).ToArray()),
        ["rms_error"] = Finite(d.RmsError),
        ["prior_rms_errors"] = new JsonArray(d.PriorErrors.Select(Finite).ToArray()),
        ["covers_targets"] = d.Covers,
        ["uncovered_targets"] = new JsonArray(d.Uncovered.Select(x => (JsonNode?)x).ToArray()),
        ["decay_runs"] = d.DecayRuns,
        ["eligible"] = d.Eligible,
        ["worst_target_error"] = Finite(d.WorstTarget),
        ["regret"] = Finite(d.Regret),
        ["simulations"] = d.Simulations,
        ["failures"] = d.Failures,
        ["failure"] = d.Failure,
        ["finalist"] = d.Finalist,
        ["targets"] = new JsonArray(d.Targets.Select(t => (JsonNode)new JsonObject { ["target"] = t.Target, ["rms_error"] = Finite(t.RmsError), ["mean_error"] = Finite(t.MeanError) }).ToArray()),
    };
}
