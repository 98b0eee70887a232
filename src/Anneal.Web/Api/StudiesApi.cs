using System.Globalization;
using System.Text.Json.Nodes;
using Anneal.Store;
using Anneal.Tuning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using TrialState = Anneal.Store.TrialState;

namespace Anneal.Web.Api;

/// <summary>
/// <c>/api/studies</c>: the sweeps of <c>anneal sweep run</c>, read from the run store. A study's page shows its
/// optimization history (every complete trial's value and the best so far), its parallel coordinates (the search
/// space's axes, log for log domains, read from the stored study file) and the intermediate values of every trial,
/// running ones included; the page polls while trials run.
/// </summary>
internal static class StudiesApi
{
    public static void Map(IEndpointRouteBuilder e)
    {
        e.MapGet("/api/studies", (Dashboard d) => Body.Ok(new
        {
            studies = d.Runs.ListStudies().Select(s =>
            {
                var trials = d.Runs.ListTrials(s.Id, withIntermediate: false);
                var (file, _) = StudyFileOf(s);
                return new
                {
                    id = s.Id, name = s.Name, direction = s.Direction, trials = trials.Count, counts = Counts(trials), best = Best(s, trials),
                    sampler = file?.Sampler.Name, pruner = file?.Pruner.Name, metric = file?.Objective.Metric,
                    created = s.CreatedAt.ToString("O", CultureInfo.InvariantCulture), anneal_version = s.AnnealVersion,
                };
            }).ToArray(),
        }));
        e.MapGet("/api/studies/{id:long}", (long id, Dashboard d) =>
        {
            var s = d.Runs.ListStudies().FirstOrDefault(x => x.Id == id) ?? throw new ApiException(404, $"no study with id {id}; GET /api/studies lists them");
            var trials = d.Runs.ListTrials(s.Id, withIntermediate: true);
            var (file, specError) = StudyFileOf(s);
            return Body.Ok(new
            {
                id = s.Id, name = s.Name, direction = s.Direction, created = s.CreatedAt.ToString("O", CultureInfo.InvariantCulture), anneal_version = s.AnnealVersion,
                sampler = file?.Sampler.Name, pruner = file?.Pruner.Name, metric = file?.Objective.Metric, planned_steps = file?.Objective.Steps,
                schedule = file?.Schedule, spec_error = specError, study_file = s.SpecText,
                space = Space(file, trials), counts = Counts(trials), best = Best(s, trials), history = History(s, trials),
                trials = trials.Select(t => new
                {
                    number = t.Number, state = Name(t.State), @params = JsonNode.Parse(t.ParamsJson), value = t.Value is { } v ? Body.N(v) : null,
                    steps = t.Intermediate.Count == 0 ? 0 : t.Intermediate[^1].Step + 1, message = t.Message, worker = t.Worker, run_id = t.RunId,
                    started = Time(t.StartedAt), finished = Time(t.FinishedAt), heartbeat = Time(t.HeartbeatAt),
                    intermediate = new { step = t.Intermediate.Select(i => i.Step).ToArray(), value = Body.N(t.Intermediate.Select(i => i.Value)) },
                }).ToArray(),
            });
        });
    }

    private static string Name(TrialState s) => s.ToString().ToLowerInvariant();

    private static string? Time(DateTimeOffset? t) => t?.ToString("O", CultureInfo.InvariantCulture);

    /// <summary>
    /// The stored study file, parsed by the library as <c>anneal sweep show</c> parses it (the search space's domains
    /// give the axes); null with the reason when this version cannot read it, and the page then infers the axes.
    /// </summary>
    private static (StudySpec? File, string? Error) StudyFileOf(StudyInfo s)
    {
        try { return (StudyFile.Parse(s.SpecText, $"study {s.Name} (as stored)"), null); }
        catch (InputException e) { return (null, e.Message); }
    }

    private static object Counts(IReadOnlyList<TrialInfo> trials) =>
        Enum.GetValues<TrialState>().ToDictionary(Name, st => trials.Count(t => t.State == st));

    private static bool Better(StudyInfo s, double a, double b) => s.Direction == "maximize" ? a > b : a < b;

    private static IEnumerable<TrialInfo> Complete(IReadOnlyList<TrialInfo> trials) =>
        trials.Where(t => t.State == TrialState.Complete && t.Value is { } v && double.IsFinite(v));

    private static object? Best(StudyInfo s, IReadOnlyList<TrialInfo> trials)
    {
        TrialInfo? best = null;
        foreach (var t in Complete(trials)) if (best is null || Better(s, t.Value!.Value, best.Value!.Value)) best = t;
        return best is null ? null : new { number = best.Number, value = best.Value, @params = JsonNode.Parse(best.ParamsJson) };
    }

    /// <summary>Optuna's optimization history: complete trials in number order with their value and the best value so far.</summary>
    private static object History(StudyInfo s, IReadOnlyList<TrialInfo> trials)
    {
        var done = Complete(trials).ToList();
        var best = new double[done.Count];
        for (int i = 0; i < done.Count; i++)
            best[i] = i == 0 || Better(s, done[i].Value!.Value, best[i - 1]) ? done[i].Value!.Value : best[i - 1];
        return new { number = done.Select(t => t.Number).ToArray(), value = done.Select(t => t.Value!.Value).ToArray(), best };
    }

    /// <summary>
    /// One axis per parameter: from the study file's domain (<c>log</c> for log_uniform and log_int, the choices of a
    /// categorical); without a readable file, inferred from the trials (words: categorical, numbers: linear).
    /// </summary>
    private static object[] Space(StudySpec? file, IReadOnlyList<TrialInfo> trials)
    {
        if (file is not null)
            return file.Space.Parameters.Select(p => (object)(p.Domain switch
            {
                LogUniformDomain l => new { name = p.Name, kind = "log_uniform", log = true, low = (double?)l.Low, high = (double?)l.High, choices = (string[]?)null },
                UniformDomain u => new { name = p.Name, kind = "uniform", log = false, low = (double?)u.Low, high = (double?)u.High, choices = (string[]?)null },
                IntegerDomain i => new { name = p.Name, kind = i.Log ? "log_int" : "int", log = i.Log, low = (double?)i.Low, high = (double?)i.High, choices = (string[]?)null },
                CategoricalDomain c => new { name = p.Name, kind = "choice", log = false, low = (double?)null, high = (double?)null, choices = (string[]?)c.Choices.ToArray() },
                _ => new { name = p.Name, kind = "unknown", log = false, low = (double?)null, high = (double?)null, choices = (string[]?)null },
            })).ToArray();
        var names = new List<string>();
        var words = new Dictionary<string, SortedSet<string>>();
        foreach (var t in trials)
            if (JsonNode.Parse(t.ParamsJson) is JsonObject o)
                foreach (var (k, v) in o)
                {
                    if (!names.Contains(k)) names.Add(k);
                    if (v is JsonValue jv && jv.TryGetValue<string>(out var w)) { if (!words.TryGetValue(k, out var set)) words[k] = set = new(StringComparer.Ordinal); set.Add(w); }
                }
        return names.Select(n => (object)(words.TryGetValue(n, out var set)
            ? new { name = n, kind = "choice", log = false, low = (double?)null, high = (double?)null, choices = (string[]?)set.ToArray() }
            : new { name = n, kind = "uniform", log = false, low = (double?)null, high = (double?)null, choices = (string[]?)null })).ToArray();
    }
}
