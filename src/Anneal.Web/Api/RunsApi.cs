using System.Globalization;
using Anneal.Curves;
using Anneal.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Anneal.Web.Api;

/// <summary><c>/api/runs</c>: the runs table (filtered, sorted and paged by the store), curves drawn downsampled (the store's min/max views), uploads.</summary>
internal static class RunsApi
{
    private static readonly Dictionary<string, RunSort> Sorts = new(StringComparer.Ordinal)
    {
        ["created"] = RunSort.Created, ["name"] = RunSort.Name, ["status"] = RunSort.Status, ["steps"] = RunSort.Steps,
        ["final_loss"] = RunSort.FinalLoss, ["best_val_loss"] = RunSort.BestValLoss,
    };

    private static readonly string[] CurveMetrics = [Metrics.Loss, Metrics.ValLoss, Metrics.Lr, Metrics.GradNorm, Metrics.Tokens];

    public static void Map(IEndpointRouteBuilder e)
    {
        e.MapGet("/api/meta", (Dashboard d) => Body.Ok(new
        {
            version = RunStore.AnnealVersion,
            charts_available = StaticAssets.ChartsAvailable,
            store = d.Runs.Kind.ToString().ToLowerInvariant(),
            laws = Anneal.Laws.LawRegistry.DefaultSpecs,
            design_laws = Anneal.Laws.BuiltinLaws.Names,
            shapes = Enum.GetNames<Anneal.Schedules.DecayShape>().Select(s => s.ToLowerInvariant()).ToArray(),
            max_upload_bytes = d.Options.MaxUploadBytes,
        }));
        e.MapGet("/api/runs", (HttpContext c, Dashboard d) =>
        {
            var q = c.Request.Query;
            var sortText = q["sort"].ToString();
            bool desc = sortText.StartsWith('-');
            if (desc) sortText = sortText[1..];
            if (sortText.Length == 0) sortText = "created";
            if (!Sorts.TryGetValue(sortText, out var sort)) throw new ApiException(400, $"sort: one of {string.Join(", ", Sorts.Keys)} (prefix - for descending), got '{Body.Trunc(sortText)}'");
            var text = q["q"].ToString();
            if (text.Length > 200) throw new ApiException(400, "q: at most 200 characters");
            var tags = q["tag"].Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => t!).ToArray();
            RunStatus? status = null;
            if (q["status"].ToString() is { Length: > 0 } st)
                status = Enum.TryParse<RunStatus>(st, ignoreCase: true, out var parsed) && !int.TryParse(st, out _) ? parsed
                    : throw new ApiException(400, $"status: one of {string.Join(", ", Enum.GetNames<RunStatus>().Select(n => n.ToLowerInvariant()))}, got '{Body.Trunc(st)}'");
            var page = d.Runs.ListRuns(new RunQuery
            {
                Search = text.Length == 0 ? null : text, Tags = tags, Status = status, Sort = sort, Descending = desc,
                Offset = Body.QueryInt(c, "offset", 0, 0, int.MaxValue), Limit = Body.QueryInt(c, "limit", 50, 1, RunStore.MaxPageSize),
            });
            return Body.Ok(new { total = page.Total, runs = page.Runs.Select(Row).ToArray() });
        });
        e.MapGet("/api/runs/{id:long}", (long id, Dashboard d) =>
        {
            var r = d.Runs.GetRun(id) ?? throw NoRun(id);
            return Body.Ok(new { run = Row(r), metrics = r.Metrics.Select(m => new { metric = m.Metric, points = m.Points, first_step = m.FirstStep, last_step = m.LastStep, last_value = Body.N(m.LastValue), min_value = Body.N(m.MinValue), min_step = m.MinStep }).ToArray() });
        });
        e.MapGet("/api/runs/{id:long}/curve", (HttpContext c, long id, Dashboard d) =>
        {
            var metric = c.Request.Query["metric"].ToString();
            if (metric.Length == 0) metric = Metrics.Loss;
            if (!CurveMetrics.Contains(metric)) throw new ApiException(400, $"metric: one of {string.Join(", ", CurveMetrics)}, got '{Body.Trunc(metric)}'");
            int max = Body.QueryInt(c, "max_points", 2000, 4, 100_000);
            var run = d.Runs.GetRun(id) ?? throw NoRun(id);
            var view = d.Runs.GetCurve(id, metric, max);
            return Body.Ok(new
            {
                id, name = run.Name, metric, raw_points = view?.RawPoints ?? 0, downsampled = view?.Downsampled ?? false,
                step = view?.Steps ?? [], value = Body.N(view?.Values ?? []),
            });
        });
        e.MapPost("/api/runs", async (HttpContext c, Dashboard d) =>
        {
            var q = c.Request.Query;
            var file = q["file"].ToString();
            if (file.Length == 0) file = "upload.csv";
            if (file.Length > 200 || file.Any(ch => char.IsControl(ch) || ch is '/' or '\\'))
                throw new ApiException(400, "file: the uploaded file's name (e.g. run.csv), at most 200 characters, no folders; it picks the format by its extension");
            var name = q["name"].ToString();
            if (name.Length > 200 || name.Any(char.IsControl)) throw new ApiException(400, "name: at most 200 printable characters");
            var tags = q["tags"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (tags.Length > 20 || tags.Any(t => t.Length > 60 || t.Any(char.IsControl))) throw new ApiException(400, "tags: at most 20 comma-separated tags of at most 60 printable characters");
            var bytes = await Body.Bytes(c, d.Options.MaxUploadBytes);
            if (bytes.Length == 0) throw new ApiException(400, "the request body is empty: send the run's file (CSV, JSON Lines or W&B history JSON) as the body");
            // The library's readers, exactly as `anneal runs add FILE` reads a file; the message names the line.
            var curve = CurveReader.Parse(bytes, file);
            if (curve.Count == 0) throw new ApiException(400, $"{file}: no logged rows");
            if (q["schedule"].ToString() is { Length: > 0 } spec) curve = CurveArgument.Attach(curve, Dashboard.ParseSchedule(spec));
            long id = d.Runs.ImportCurve(curve, new NewRun
            {
                Name = name.Length > 0 ? name : curve.Name, Tags = tags, Schedule = curve.ScheduleSpec, SourceFile = "upload " + file,
                SourceFormat = CurveReader.Detect(bytes, file).ToString().ToLowerInvariant(),
            });
            return Body.Ok(new { id, run = Row(d.Runs.GetRun(id)!), warnings = curve.Warnings }, StatusCodes.Status201Created);
        });
    }

    private static ApiException NoRun(long id) => new(404, $"no run with id {id}");

    internal static object Row(RunInfo r) => new
    {
        id = r.Id, name = r.Name, tags = r.Tags, schedule = r.Schedule, status = r.Status.ToString().ToLowerInvariant(),
        steps = r.LastStep + 1, final_loss = r.FinalLoss is { } f ? Body.N(f) : null, best_val_loss = r.BestValLoss is { } v ? Body.N(v) : null,
        created = r.CreatedAt.ToString("O", CultureInfo.InvariantCulture), updated = r.UpdatedAt.ToString("O", CultureInfo.InvariantCulture),
    };
}
