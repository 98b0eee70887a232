using System.Globalization;
using Anneal.Curves;
using Anneal.Web.Runs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Anneal.Web.Api;

/// <summary><c>/api/runs</c>: the runs table (server-side filter, sort and paging), curves drawn downsampled, uploads.</summary>
internal static class RunsApi
{
    private static readonly Dictionary<string, RunSort> Sorts = new(StringComparer.Ordinal)
    {
        ["created"] = RunSort.Created, ["name"] = RunSort.Name, ["steps"] = RunSort.Steps, ["points"] = RunSort.Points,
        ["final_loss"] = RunSort.FinalLoss, ["min_loss"] = RunSort.MinLoss,
    };

    private static readonly string[] Metrics = ["loss", "val_loss", "lr", "grad_norm", "tokens"];

    public static void Map(IEndpointRouteBuilder e)
    {
        e.MapGet("/api/meta", (Dashboard d) => Body.Ok(new
        {
            version = typeof(Dashboard).Assembly.GetName().Version?.ToString(),
            charts_available = StaticAssets.ChartsAvailable,
            runs = d.Runs.Count,
            laws = Anneal.Laws.LawRegistry.DefaultSpecs,
            design_laws = Anneal.Design.MplParameters.Builtins.Keys.Order(StringComparer.Ordinal).ToArray(),
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
            var page = d.Runs.List(new RunQuery(text, q["tag"].ToString(), sort, desc, Body.QueryInt(c, "offset", 0, 0, int.MaxValue), Body.QueryInt(c, "limit", 50, 1, 1000)));
            return Body.Ok(new { total = page.Total, runs = page.Runs.Select(Row).ToArray() });
        });
        e.MapGet("/api/runs/{id:long}", (long id, Dashboard d) => Body.Ok(Row(d.Runs.Get(id) ?? throw NoRun(id))));
        e.MapGet("/api/runs/{id:long}/curve", (HttpContext c, long id, Dashboard d) =>
        {
            var metric = c.Request.Query["metric"].ToString();
            if (metric.Length == 0) metric = "loss";
            if (!Metrics.Contains(metric)) throw new ApiException(400, $"metric: one of {string.Join(", ", Metrics)}, got '{Body.Trunc(metric)}'");
            int max = Body.QueryInt(c, "max_points", 2000, 4, 100_000);
            var curve = d.Runs.Curve(id) ?? throw NoRun(id);
            var y = metric switch
            {
                "loss" => curve.Loss, "val_loss" => curve.ValLoss, "lr" => curve.Lr, "grad_norm" => curve.GradNorm, _ => curve.Tokens,
            };
            if (y is null) return Body.Ok(new { id, name = curve.Name, metric, points = 0, step = Array.Empty<long>(), value = Array.Empty<double?>(), tokens = (double?[]?)null });
            var (xs, ys) = Downsample.MinMax(curve.Steps, y, max);
            // Tokens at the kept steps, so the UI can put tokens on the x axis.
            double?[]? tokens = null;
            if (curve.Tokens is { } tk)
            {
                var at = new Dictionary<long, int>(curve.Count);
                for (int i = 0; i < curve.Count; i++) at[curve.Steps[i]] = i;
                tokens = xs.Select(s => Body.N(tk[at[s]])).ToArray();
            }
            return Body.Ok(new { id, name = curve.Name, metric, points = curve.Count, step = xs, value = Body.N(ys), tokens });
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
            // The library's readers, exactly as `anneal curve info FILE` reads a file; the message names the line.
            var curve = CurveReader.Parse(bytes, file);
            if (curve.Count == 0) throw new ApiException(400, $"{file}: no logged rows");
            if (q["schedule"].ToString() is { Length: > 0 } spec) curve = CurveArgument.Attach(curve, Dashboard.ParseSchedule(spec));
            if (name.Length > 0) curve = curve with { Name = name };
            curve = curve with { SourceFile = null };
            long id = d.Runs.Add(curve, tags);
            return Body.Ok(new { id, run = Row(d.Runs.Get(id)!), warnings = curve.Warnings }, StatusCodes.Status201Created);
        });
    }

    private static ApiException NoRun(long id) => new(404, $"no run with id {id}");

    internal static object Row(RunSummary r) => new
    {
        id = r.Id, name = r.Name, tags = r.Tags, schedule = r.Schedule, steps = r.Steps, points = r.Points,
        final_loss = Body.N(r.FinalLoss), min_loss = Body.N(r.MinLoss), created = r.Created.ToString("O", CultureInfo.InvariantCulture), running = r.Running,
    };
}
