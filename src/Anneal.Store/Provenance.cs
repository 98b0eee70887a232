using System.Globalization;
using System.Text.Json.Nodes;
using Anneal.Curves;
using Anneal.Design;
using Anneal.Laws;
using Anneal.Prediction;
using Anneal.Schedules;

namespace Anneal.Store;

/// <summary>A stored run read as a curve to fit or forecast.</summary>
/// <param name="Id">Its id in the store.</param>
/// <param name="Curve">Its points (loss, lr, val_loss, ...) and schedule, named after the run.</param>
public sealed record StoredRun(long Id, LossCurve Curve);

/// <summary>A stored fitted law with its provenance.</summary>
/// <param name="Id">Its id in the store.</param>
/// <param name="Law">The law, read from its stored law file.</param>
/// <param name="Info">Its provenance: the runs it was fitted to, the Anneal version, when.</param>
public sealed record StoredLaw(long Id, FittedLaw Law, ArtifactInfo Info)
{
    /// <summary>The runs it was fitted to that are still in the store (a forecast or design made with it inherits them).</summary>
    public IReadOnlyList<long> ExistingRuns => Info.Runs.Where(r => r.Exists).Select(r => r.RunId).ToArray();

    /// <summary>How it is named where it is used: <c>law:5 (auto fitted to runs 12, 13)</c>.</summary>
    public string Describe() => $"{Provenance.LawPrefix}{Id} ({Law.Law.Spec}" + (Info.Runs.Count == 0 ? ", fitted outside the store)"
        : $" fitted to run{(Info.Runs.Count == 1 ? "" : "s")} {string.Join(", ", Info.Runs.Select(r => $"{r.RunId} '{r.RunName}'"))})");
}

/// <summary>
/// Results kept in a store with their provenance, as every front end saves and reads them (the CLI's <c>--store</c>, the
/// dashboard's save buttons): stored runs named as inputs (<c>run:12</c>, <c>run:NAME</c>), fitted laws with the runs they
/// were fitted to, and forecasts and designs linked to the law they used (and, through it, to its runs). Every result
/// records the Anneal version that computed it (<see cref="RunStore.AnnealVersion"/>). Bad references are
/// <see cref="InputException"/>s naming the reference and the store.
/// </summary>
public static class Provenance
{
    /// <summary>The prefix of a stored run used as an input: <c>run:12</c> (by id) or <c>run:NAME</c> (by its exact name).</summary>
    public const string RunPrefix = "run:";

    /// <summary>The prefix of a stored law used as a law argument: <c>law:5</c>.</summary>
    public const string LawPrefix = "law:";

    /// <summary>Whether an input names a stored run (<c>run:...</c>) rather than a file.</summary>
    public static bool IsRun(string input) => input.StartsWith(RunPrefix, StringComparison.Ordinal);

    /// <summary>Whether a law argument names a stored law (<c>law:...</c>) rather than a file or a built-in law.</summary>
    public static bool IsLaw(string input) => input.StartsWith(LawPrefix, StringComparison.Ordinal);

    /// <summary>
    /// Reads stored runs named <c>run:ID</c> or <c>run:NAME</c>, each optionally <c>@SPEC</c> (the exact schedule, as for a
    /// file; otherwise the run's stored schedule, else its lr column). Every reference is resolved before any is read, so
    /// a bad one fails first. Runs that share a name are told apart as <c>NAME#ID</c>.
    /// </summary>
    public static IReadOnlyList<StoredRun> ReadRuns(RunStore store, IEnumerable<string> references)
    {
        var resolved = references.Select(r => (Reference: r, Id: RunId(store, r))).ToList();
        var runs = resolved.Select(x => Load(store, x.Reference, x.Id)).ToList();
        var shared = runs.GroupBy(r => r.Curve.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        return runs.Select(r => shared.Contains(r.Curve.Name) ? r with { Curve = r.Curve with { Name = $"{r.Curve.Name}#{r.Id}" } } : r).ToList();
    }

    /// <summary>The id a <c>run:ID</c> or <c>run:NAME</c> reference names (its <c>@SPEC</c>, if any, aside).</summary>
    public static long RunId(RunStore store, string reference)
    {
        var (target, _) = SplitSpec(reference);
        if (!IsRun(target)) throw new InputException($"'{reference}' does not name a stored run: write run:ID or run:NAME");
        var key = target[RunPrefix.Length..];
        if (key.Length == 0) throw new InputException($"'{reference}': give the run's id or name after run:, e.g. run:12");
        if (long.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            if (store.GetRun(id) is null) throw new InputException($"{reference}: there is no run {id} in store {store.Location}; list its runs to see their ids");
            return id;
        }
        var named = store.FindRunsNamed(key);
        return named.Count switch
        {
            0 => throw new InputException($"{reference}: no run is named '{key}' in store {store.Location}; list its runs to see their names and ids"),
            1 => named[0],
            _ => throw new InputException($"{reference}: {named.Count} runs are named '{key}' in store {store.Location} (ids {string.Join(", ", named)}); name one by its id, e.g. run:{named[^1]}"),
        };
    }

    private static StoredRun Load(RunStore store, string reference, long id)
    {
        var curve = store.LoadCurve(id) ?? throw new InputException($"{reference}: run {id} was removed from store {store.Location} while it was being read");
        if (curve.Loss is null || curve.Loss.All(double.IsNaN)) throw new InputException($"{reference}: run {id} '{curve.Name}' has no logged loss to fit");
        var (_, spec) = SplitSpec(reference);
        if (spec is not null)
        {
            try { curve = CurveArgument.Attach(curve, Schedule.Parse(spec)); }
            catch (InputException e) { throw new InputException($"{reference}: the schedule after '@' is not valid: {e.Message}"); }
        }
        else if (curve.ScheduleSpec is { } stored && Anneal.Tuning.AutoLrsOptions.Is(stored))
            // AutoLRS chose its rates while training: there is no spec to sample, and the rates it realised are the lr column
            curve = curve with
            {
                ScheduleSpec = null,
                Warnings = [.. curve.Warnings, $"{reference}: trained with {stored}, whose rates were chosen while training; its logged lr column is the schedule"],
            };
        return new StoredRun(id, curve);
    }

    private static (string Target, string? Spec) SplitSpec(string reference)
    {
        int at = reference.IndexOf('@', StringComparison.Ordinal);
        return at < 0 ? (reference, null) : (reference[..at], reference[(at + 1)..]);
    }

    /// <summary>Reads the stored law <c>law:ID</c>.</summary>
    public static StoredLaw ReadLaw(RunStore store, string reference)
    {
        if (!IsLaw(reference)) throw new InputException($"'{reference}' does not name a stored law: write law:ID");
        var key = reference[LawPrefix.Length..];
        if (!long.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            throw new InputException($"{reference}: give the stored law's id after law:, e.g. law:5");
        return ReadLaw(store, id, reference);
    }

    /// <summary>Reads the stored law with id <paramref name="id"/>; <paramref name="where"/> names it in messages.</summary>
    public static StoredLaw ReadLaw(RunStore store, long id, string? where = null)
    {
        where ??= LawPrefix + id.ToString(CultureInfo.InvariantCulture);
        var info = store.GetArtifact(id) ?? throw new InputException($"{where}: there is no stored result {id} in store {store.Location}; list its laws to see their ids");
        if (info.Kind != ArtifactKind.Law) throw new InputException($"{where}: stored result {id} is a {info.Kind.ToString().ToLowerInvariant()}, not a law");
        return new StoredLaw(id, LawFile.Read(info.BodyJson, $"{where} (stored by Anneal {info.AnnealVersion})"), info);
    }

    /// <summary>
    /// Saves a law fitted to stored runs <paramref name="runIds"/> (its law file as <see cref="FittedLaw.ToJson"/> writes
    /// it, named by its spec); returns its id.
    /// </summary>
    public static long SaveLaw(RunStore store, FittedLaw fit, IEnumerable<long> runIds) =>
        store.SaveLaw(new NewArtifact { Name = fit.Law.Spec, BodyJson = fit.ToJson(), RunIds = runIds.Distinct().ToArray() });

    /// <summary>
    /// The stored law a forecast or design made with a law from outside the store (a law file, a built-in law) links to:
    /// the same law saved before, else the law saved now without runs (it was not fitted to stored runs).
    /// </summary>
    /// <param name="store">The store.</param>
    /// <param name="fit">The law.</param>
    /// <param name="name">Where it came from, as its name in the store (e.g. <c>mpl-400m</c>, a file's name).</param>
    public static long LawFromOutside(RunStore store, FittedLaw fit, string name)
    {
        var body = fit.ToJson();
        return store.FindArtifact(ArtifactKind.Law, body) ?? store.SaveLaw(new NewArtifact { Name = name, BodyJson = body });
    }

    /// <summary>
    /// Saves a forecast (<see cref="PredictResult.ToJson"/>) of schedule <paramref name="spec"/> (null for per-step rates)
    /// made with stored law <paramref name="lawId"/>, whose runs it inherits; returns its id.
    /// </summary>
    public static long SaveForecast(RunStore store, PredictResult forecast, string? spec, long lawId) =>
        store.SaveForecast(new NewArtifact
        {
            Name = forecast.Label, Spec = spec, BodyJson = forecast.ToJson().ToJsonString(), LawId = lawId, RunIds = LawRuns(store, lawId),
        });

    /// <summary>Saves a design (<see cref="OptimizeResult.ToJson"/>) made with stored law <paramref name="lawId"/>, whose runs it inherits; returns its id.</summary>
    public static long SaveDesign(RunStore store, OptimizeResult design, long lawId) =>
        SaveDesign(store, $"{design.Design.Label}, {design.Problem.Total} steps", design.Design.Spec, design.ToJson(), lawId);

    /// <summary>Saves a designed schedule given as JSON (e.g. the dashboard designer's), made with stored law <paramref name="lawId"/>; returns its id.</summary>
    public static long SaveDesign(RunStore store, string name, string? spec, JsonObject body, long lawId) =>
        store.SaveDesign(new NewArtifact { Name = name, Spec = spec, BodyJson = body.ToJsonString(), LawId = lawId, RunIds = LawRuns(store, lawId) });

    private static long[] LawRuns(RunStore store, long lawId) =>
        store.GetArtifact(lawId)?.Runs.Where(r => r.Exists).Select(r => r.RunId).ToArray() ?? [];
}
