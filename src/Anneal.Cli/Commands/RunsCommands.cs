using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anneal.Curves;
using Anneal.Store;

namespace Anneal.Cli.Commands;

/// <summary><c>anneal runs add|list|show|rm</c>: the run store from the command line.</summary>
public static class RunsCommands
{
    /// <summary>File extensions of curve files taken from a folder that no log reader recognises as one run.</summary>
    private static readonly string[] CurveExtensions = [".csv", ".tsv", ".jsonl", ".ndjson", ".json"];

    /// <summary>The <c>--store</c> option (every store command and <c>anneal train</c>).</summary>
    public static Option<string?> StoreOption() => new("--store")
    {
        Description = "The run store: a SQLite file, or postgres://user:password@host:port/database (default: $ANNEAL_STORE, else ~/.local/share/anneal/anneal.db).",
    };

    /// <summary>Opens the store named by <c>--store</c> (null: the default); a store that cannot be used is bad input naming the option.</summary>
    public static RunStore Open(string? location)
    {
        try { return RunStore.Open(location); }
        catch (StoreException e) { throw new InputException($"--store: {e.Message}"); }
    }

    public static Command Build()
    {
        var cmd = new Command("runs", """
            Keep runs in a store (SQLite file or PostgreSQL) for the dashboard, fits and sweeps.
            Examples:
              anneal runs add logs/*.csv --tag baseline
              anneal runs list --sort loss --asc
              anneal runs show 3
              anneal runs rm 3
              anneal runs artifacts --kind law
              anneal runs artifact 5 --body > law.json
            """);
        cmd.Subcommands.Add(Add());
        cmd.Subcommands.Add(List());
        cmd.Subcommands.Add(Show());
        cmd.Subcommands.Add(Remove());
        cmd.Subcommands.Add(ArtifactList());
        cmd.Subcommands.Add(ArtifactShow());
        return cmd;
    }

    private static Command Add()
    {
        var inputs = new Argument<string[]>("inputs") { Description = "Curve files (FILE or FILE@SPEC, any format the curve readers accept) or folders (a trainer's log folder, else every curve file in it).", Arity = ArgumentArity.OneOrMore };
        var name = new Option<string?>("--name") { Description = "The run's name (one input only; default: the file's name)." };
        var tags = new Option<string[]>("--tag") { Description = "A tag for every added run (repeatable).", AllowMultipleArgumentsPerToken = false };
        var store = StoreOption();
        var json = new Option<bool>("--json") { Description = "Print the added runs' ids and names as JSON." };
        var cols = new CurveColumnOptions();
        var cmd = new Command("add", """
            Add runs from log files to the store: all of them or, when one cannot be read, none.
            Example: anneal runs add runs/cosine.csv "runs/wsd.csv@wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2)" --tag sweep1
            """) { inputs, name, tags, store, json };
        cols.AddTo(cmd);
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            var files = Expand(r.GetValue(inputs)!);
            if (r.GetValue(name) is { } n && files.Count != 1)
                throw new InputException($"--name names one run, but the inputs hold {files.Count} curve files; drop --name (runs are named after their files) or add them one at a time");
            if (r.GetValue(name) is { } blank && string.IsNullOrWhiteSpace(blank)) throw new InputException("--name is empty; give the run a name");
            var opts = cols.Get(r);
            // every file is read before the store is opened: a bad file leaves the store untouched (not even created)
            var curves = files.Select(f => f.Curve ?? CurveArgument.Parse(f.Arg, opts)).ToList();
            foreach (var c in curves) foreach (var w in c.Warnings) io.Err.WriteLine($"warning: {c.Name}: {w}");
            using var s = Open(r.GetValue(store));
            var runTags = r.GetValue(tags) ?? [];
            var ids = s.ImportCurves(curves.Select((c, i) => (c, (NewRun?)new NewRun
            {
                Name = r.GetValue(name) ?? c.Name,
                Tags = runTags,
                SourceFile = Path.GetFullPath(CurveArgument.Split(files[i].Arg).File),
                SourceFormat = Format(files[i].Arg),
            })).ToList());
            if (r.GetValue(json))
                io.Out.WriteLine(new JsonObject
                {
                    ["format"] = AddedFormat,
                    ["runs"] = new JsonArray(ids.Select((id, i) => (JsonNode)new JsonObject { ["id"] = id, ["name"] = r.GetValue(name) ?? curves[i].Name, ["points"] = curves[i].Count }).ToArray()),
                }.ToJsonString());
            else
            {
                for (int i = 0; i < ids.Count; i++)
                    io.Out.WriteLine($"added run {ids[i]} '{r.GetValue(name) ?? curves[i].Name}' ({curves[i].Count} steps) from {files[i].Arg}");
                io.Out.WriteLine($"{ids.Count} run{(ids.Count == 1 ? "" : "s")} added to {s.Location}");
            }
            return CliExit.Ok;
        });
        return cmd;
    }

    /// <summary>
    /// The curve files the arguments name: a file as given; a folder that a log reader reads as one run (a trainer's
    /// output folder) as that run; any other folder as each curve file directly inside it, by name.
    /// </summary>
    private static List<(string Arg, LossCurve? Curve)> Expand(string[] args)
    {
        var files = new List<(string, LossCurve?)>();
        foreach (var a in args)
        {
            if (!Directory.Exists(a)) { files.Add((a, null)); continue; }
            LossCurve? whole = null;
            CurveFormatException? why = null;
            try { whole = CurveReader.Read(a); }
            catch (CurveFormatException e) { why = e; }
            if (whole is not null) { files.Add((a, whole)); continue; }
            var inside = Directory.EnumerateFiles(a).Where(f => CurveExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal).ToList();
            if (inside.Count == 0)
                throw new InputException($"{a}: a folder with no curve files ({string.Join(", ", CurveExtensions)}) that no log reader recognises ({why?.Message}); name the log files themselves");
            files.AddRange(inside.Select(f => (f, (LossCurve?)null)));
        }
        return files;
    }

    private static string Format(string arg)
    {
        var file = CurveArgument.Split(arg).File;
        if (Directory.Exists(file)) return "folder";
        var ext = Path.GetExtension(file).TrimStart('.').ToLowerInvariant();
        return ext.Length > 0 ? ext : "unknown";
    }

    private static readonly (string Word, RunSort Sort)[] Sorts =
        [("created", RunSort.Created), ("name", RunSort.Name), ("status", RunSort.Status), ("steps", RunSort.Steps), ("loss", RunSort.FinalLoss), ("val_loss", RunSort.BestValLoss)];

    private static Command List()
    {
        var store = StoreOption();
        var search = new Option<string?>("--search") { Description = "Only runs whose name or schedule contains this text (case-insensitive)." };
        var tags = new Option<string[]>("--tag") { Description = "Only runs with this tag (repeatable: all must be present)." };
        var status = new Option<string?>("--status") { Description = "Only runs with this status: running, finished, stopped or failed." };
        var sort = new Option<string>("--sort") { Description = "Order by created, name, status, steps, loss (final training loss) or val_loss (best validation loss).", DefaultValueFactory = _ => "created" };
        var asc = new Option<bool>("--asc") { Description = "Smallest first (default: largest first, i.e. newest first)." };
        var limit = new Option<int>("--limit") { Description = $"Runs to show (1 to {RunStore.MaxPageSize}).", DefaultValueFactory = _ => 50 };
        var offset = new Option<int>("--offset") { Description = "Runs to skip (for the next page).", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print JSON: {total, runs: [...]}." };
        var cmd = new Command("list", "List the store's runs: filter, sort and page.\nExample: anneal runs list --tag baseline --sort loss --asc --limit 20")
            { store, search, tags, status, sort, asc, limit, offset, json };
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            var sortWord = r.GetValue(sort)!;
            var order = Sorts.FirstOrDefault(s => s.Word == sortWord);
            if (order.Word is null) throw new InputException($"--sort: '{sortWord}' is not one of {string.Join(", ", Sorts.Select(s => s.Word))}");
            RunStatus? st = null;
            if (r.GetValue(status) is { } sw)
                st = Enum.TryParse<RunStatus>(sw, ignoreCase: true, out var parsed) && !int.TryParse(sw, out _) ? parsed
                    : throw new InputException($"--status: '{sw}' is not one of running, finished, stopped, failed");
            int lim = r.GetValue(limit), off = r.GetValue(offset);
            if (lim < 1 || lim > RunStore.MaxPageSize) throw new InputException($"--limit must be between 1 and {RunStore.MaxPageSize}, got {lim}");
            if (off < 0) throw new InputException($"--offset must be >= 0, got {off}");
            using var s = Open(r.GetValue(store));
            var page = s.ListRuns(new RunQuery { Search = r.GetValue(search), Tags = r.GetValue(tags) ?? [], Status = st, Sort = order.Sort, Descending = !r.GetValue(asc), Limit = lim, Offset = off });
            if (r.GetValue(json))
            {
                io.Out.WriteLine(new JsonObject
                {
                    ["format"] = ListFormat, ["total"] = page.Total, ["offset"] = off,
                    ["runs"] = new JsonArray(page.Runs.Select(run => (JsonNode)RunJson(run)).ToArray()),
                }.ToJsonString());
                return CliExit.Ok;
            }
            if (page.Runs.Count == 0)
            {
                io.Out.WriteLine(page.Total > 0 ? $"no runs past --offset {off}: {page.Total} match in {s.Location}"
                    : $"no runs match in {s.Location}; add some with 'anneal runs add FILE'");
                return CliExit.Ok;
            }
            int w = Math.Clamp(page.Runs.Count == 0 ? 4 : page.Runs.Max(x => x.Name.Length), 4, 40);
            io.Out.WriteLine($"{"id",6}  {"name".PadRight(w)}  {"status",-8}  {"steps",9}  {"loss",9}  {"val_loss",9}  {"created (UTC)",-16}  tags");
            foreach (var run in page.Runs)
                io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{run.Id,6}  {Clip(run.Name, w).PadRight(w)}  {Status(run.Status),-8}  {(run.LastStep?.ToString(CultureInfo.InvariantCulture) ?? "-"),9}  {FormatFixed4(run.FinalLoss),9}  {FormatFixed4(run.BestValLoss),9}  {run.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm}  {string.Join(",", run.Tags)}"));
            io.Out.WriteLine($"runs {off + 1}-{off + page.Runs.Count} of {page.Total} in {s.Location}");
            return CliExit.Ok;
        });
        return cmd;
    }

    private static Command Show()
    {
        var id = new Argument<long>("id") { Description = "The run's id (anneal runs list shows them)." };
        var store = StoreOption();
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var cmd = new Command("show", "Show a run: its fields, tags, metadata and per-metric summary.\nExample: anneal runs show 3") { id, store, json };
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            using var s = Open(r.GetValue(store));
            var run = s.GetRun(r.GetValue(id)) ?? throw NotFound(s, r.GetValue(id));
            if (r.GetValue(json)) { io.Out.WriteLine(RunJson(run, RunFormat).ToJsonString()); return CliExit.Ok; }
            var o = io.Out;
            o.WriteLine($"run {run.Id}: {run.Name}");
            o.WriteLine($"  status    {Status(run.Status)} (created {run.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC, updated {run.UpdatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC)");
            if (run.Tags.Count > 0) o.WriteLine($"  tags      {string.Join(", ", run.Tags)}");
            if (run.Schedule is not null) o.WriteLine($"  schedule  {run.Schedule}");
            if (run.SourceFile is not null) o.WriteLine($"  source    {run.SourceFile} ({run.SourceFormat})");
            if (run.MetadataJson != "{}") o.WriteLine($"  metadata  {run.MetadataJson}");
            o.WriteLine($"  {"metric",-10}  {"points",8}  {"steps",-17}  {"last",11}  {"min",11}  {"at step",8}");
            foreach (var m in run.Metrics)
                o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {m.Metric,-10}  {m.Points,8}  {$"{m.FirstStep}..{m.LastStep}",-17}  {FormatGeneral6(m.LastValue),11}  {FormatGeneral6(m.MinValue),11}  {m.MinStep,8}"));
            var results = s.ListArtifacts(runId: run.Id);
            if (results.Count > 0)
            {
                o.WriteLine($"  results computed from this run ({results.Count}, newest first; 'anneal runs artifact ID' shows one):");
                ArtifactTable(o, results, "    ");
            }
            return CliExit.Ok;
        });
        return cmd;
    }

    private static Command Remove()
    {
        var ids = new Argument<long[]>("ids") { Description = "Ids of the runs to delete.", Arity = ArgumentArity.OneOrMore };
        var store = StoreOption();
        var cmd = new Command("rm", "Delete runs with their points (results computed from them keep the runs' names).\nExample: anneal runs rm 3 4") { ids, store };
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            using var s = Open(r.GetValue(store));
            var list = r.GetValue(ids)!.Distinct().ToList();
            // all ids are checked before any run is deleted
            foreach (var id in list) if (s.GetRun(id) is null) throw NotFound(s, id);
            foreach (var id in list)
                if (s.DeleteRun(id)) io.Out.WriteLine($"deleted run {id}");
            return CliExit.Ok;
        });
        return cmd;
    }

    private static Command ArtifactList()
    {
        var store = StoreOption();
        var kind = new Option<string?>("--kind") { Description = "Only laws, forecasts or designs (law, forecast, design)." };
        kind.AcceptOnlyFromAmong("law", "forecast", "design");
        var run = new Option<long?>("--run") { Description = "Only results computed from this run (by id)." };
        var limit = new Option<int>("--limit") { Description = $"Results to show (1 to {RunStore.MaxPageSize}).", DefaultValueFactory = _ => 50 };
        var json = new Option<bool>("--json") { Description = "Print JSON (without the bodies: 'anneal runs artifact ID --json' has them)." };
        var cmd = new Command("artifacts", """
            List the fitted laws, forecasts and designs saved in the store (anneal fit|predict|optimize --store, the dashboard's
            save buttons), newest first, each with its provenance: the runs, the law it used, the Anneal version.
            Example: anneal runs artifacts --kind law --run 12
            """) { store, kind, run, limit, json };
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            int lim = r.GetValue(limit);
            if (lim < 1 || lim > RunStore.MaxPageSize) throw new InputException($"--limit must be between 1 and {RunStore.MaxPageSize}, got {lim}");
            ArtifactKind? k = r.GetValue(kind) is { } kw ? Enum.Parse<ArtifactKind>(kw, ignoreCase: true) : null;
            using var s = Open(r.GetValue(store));
            if (r.GetValue(run) is { } rid && s.GetRun(rid) is null && s.ListArtifacts(k, rid, 1).Count == 0) throw NotFound(s, rid);
            var list = s.ListArtifacts(k, r.GetValue(run), lim);
            if (r.GetValue(json)) { io.Out.WriteLine(JsonSerializer.Serialize(new { format = ArtifactListFormat, artifacts = list.Select(a => ArtifactJson(a, body: false)) })); return CliExit.Ok; }
            if (list.Count == 0)
            {
                io.Out.WriteLine($"no saved results match in {s.Location}; save some with 'anneal fit ... --store', 'anneal predict law:ID ... --store' or 'anneal optimize ... --store'");
                return CliExit.Ok;
            }
            ArtifactTable(io.Out, list, "");
            io.Out.WriteLine($"{list.Count} result{(list.Count == 1 ? "" : "s")} in {s.Location}");
            return CliExit.Ok;
        });
        return cmd;
    }

    private static Command ArtifactShow()
    {
        var id = new Argument<long>("id") { Description = "The result's id ('anneal runs artifacts' lists them)." };
        var store = StoreOption();
        var json = new Option<bool>("--json") { Description = "Print its provenance and body as JSON." };
        var body = new Option<bool>("--body") { Description = "Print only its body: for a law, the law file ('anneal predict' and 'anneal optimize' read it)." };
        var cmd = new Command("artifact", "Show one saved law, forecast or design with its provenance.\nExample: anneal runs artifact 5 --body > law.json") { id, store, json, body };
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            using var s = Open(r.GetValue(store));
            var a = s.GetArtifact(r.GetValue(id)) ?? throw new InputException($"there is no saved result {r.GetValue(id)} in {s.Location}; 'anneal runs artifacts' lists them");
            if (r.GetValue(body))
            {
                using var doc = JsonDocument.Parse(a.BodyJson);
                io.Out.WriteLine(JsonSerializer.Serialize(doc.RootElement, new JsonSerializerOptions { WriteIndented = true }));
                return CliExit.Ok;
            }
            if (r.GetValue(json)) { io.Out.WriteLine(JsonSerializer.Serialize(ArtifactJson(a, body: true, ArtifactFormat))); return CliExit.Ok; }
            var o = io.Out;
            o.WriteLine($"{Kind(a.Kind)} {a.Id}: {a.Name}");
            o.WriteLine($"  saved     {a.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC by Anneal {a.AnnealVersion}");
            if (a.Spec is not null) o.WriteLine($"  schedule  {a.Spec}");
            if (a.LawId is { } lawId) o.WriteLine($"  law       {lawId}" + (s.GetArtifact(lawId) is { } law ? $" ({law.Name}, saved {law.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC)" : ""));
            o.WriteLine(a.Runs.Count == 0 ? "  runs      none recorded (a law from a file or a built-in law, or one fitted to files)"
                : "  runs      " + string.Join(", ", a.Runs.Select(x => $"{x.RunId} '{x.RunName}'" + (x.Exists ? "" : " (deleted)"))));
            foreach (var line in Summary(a)) o.WriteLine("  " + line);
            o.WriteLine($"  body      {a.BodyJson.Length} characters of JSON: 'anneal runs artifact {a.Id} --body'" + (a.Kind == ArtifactKind.Law ? $"; use the law as law:{a.Id}" : ""));
            return CliExit.Ok;
        });
        return cmd;
    }

    /// <summary>A line or two of what the body says: a law's fit, a forecast's final loss, a design's best schedule.</summary>
    private static IEnumerable<string> Summary(ArtifactInfo a)
    {
        using var doc = JsonDocument.Parse(a.BodyJson);
        var b = doc.RootElement;
        double? Num(JsonElement e, string key) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        var lines = new List<string>();
        if (a.Kind == ArtifactKind.Law && b.TryGetProperty("fit", out var fit))
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"fit       {Num(fit, "points")} points, rms log residual {FormatGeneral6(Num(fit, "rms_log_residual") ?? double.NaN)}"));
        if (a.Kind == ArtifactKind.Forecast && Num(b, "final_loss") is { } f)
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"final     {f:F4}") + (Num(b, "final_loss_low") is { } lo && Num(b, "final_loss_high") is { } hi
                ? string.Create(CultureInfo.InvariantCulture, $" ({Num(b, "level") ?? 0.95:P0} band {lo:F4} .. {hi:F4})") : "") + string.Create(CultureInfo.InvariantCulture, $" at step {Num(b, "steps")}"));
        if (a.Kind == ArtifactKind.Design && b.TryGetProperty("candidates", out var cands) && cands.ValueKind == JsonValueKind.Array && cands.GetArrayLength() > 0)
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"design    {cands[0].GetProperty("label").GetString()}: predicted final loss {Num(cands[0], "loss"):F5}"));
        else if (a.Kind == ArtifactKind.Design && Num(b, "final_loss") is { } df)
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"design    predicted final loss {df:F5}"));
        return lines;
    }

    private static void ArtifactTable(TextWriter o, IReadOnlyList<ArtifactInfo> list, string indent)
    {
        int w = Math.Clamp(list.Max(x => x.Name.Length), 4, 40);
        o.WriteLine($"{indent}{"id",6}  {"kind",-8}  {"name".PadRight(w)}  {"law",5}  {"saved (UTC)",-16}  {"anneal",-10}  runs");
        foreach (var a in list)
            o.WriteLine($"{indent}{a.Id,6}  {Kind(a.Kind),-8}  {Clip(a.Name, w).PadRight(w)}  {(a.LawId?.ToString(CultureInfo.InvariantCulture) ?? "-"),5}  {a.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm}  {Clip(a.AnnealVersion, 10),-10}  "
                + (a.Runs.Count == 0 ? "-" : string.Join(",", a.Runs.Select(x => x.RunId.ToString(CultureInfo.InvariantCulture) + (x.Exists ? "" : "(deleted)")))));
    }

    private static string Kind(ArtifactKind k) => k.ToString().ToLowerInvariant();

    /// <summary>The versioned names of the JSON that <c>runs artifacts</c> and <c>runs artifact</c> print (docs/formats.md).</summary>
    internal const string ArtifactListFormat = "anneal-artifact-list/1", ArtifactFormat = "anneal-artifact/1";

    /// <summary>A saved result as JSON; with <paramref name="format"/> when it is a whole document (<c>runs artifact</c>), null inside a list.</summary>
    private static object ArtifactJson(ArtifactInfo a, bool body, string? format = null) => new
    {
        format,
        id = a.Id, kind = Kind(a.Kind), name = a.Name, spec = a.Spec, law_id = a.LawId, anneal_version = a.AnnealVersion, created_at = a.CreatedAt,
        runs = a.Runs.Select(x => new { id = x.RunId, name = x.RunName, exists = x.Exists }),
        body = body ? JsonDocument.Parse(a.BodyJson).RootElement : (JsonElement?)null,
    };

    private static InputException NotFound(RunStore s, long id) => new($"there is no run {id} in {s.Location}; 'anneal runs list' shows the runs and their ids");

    /// <summary>The versioned names of the JSON that <c>runs add</c>, <c>runs list</c> and <c>runs show</c> print (docs/formats.md).</summary>
    internal const string AddedFormat = "anneal-runs-added/1", ListFormat = "anneal-run-list/1", RunFormat = "anneal-run/1";

    /// <summary>A run as JSON; with <paramref name="format"/> first when it is a whole document (<c>runs show</c>), without inside a list.</summary>
    private static JsonObject RunJson(RunInfo r, string? format = null)
    {
        var o = new JsonObject();
        if (format is not null) o["format"] = format;
        o["id"] = r.Id; o["name"] = r.Name; o["tags"] = new JsonArray(r.Tags.Select(t => (JsonNode?)t).ToArray());
        o["status"] = Status(r.Status); o["schedule"] = r.Schedule; o["source_file"] = r.SourceFile; o["source_format"] = r.SourceFormat;
        o["metadata"] = JsonNode.Parse(r.MetadataJson); o["created_at"] = r.CreatedAt; o["updated_at"] = r.UpdatedAt;
        o["last_step"] = r.LastStep; o["final_loss"] = FiniteOrNull(r.FinalLoss); o["best_val_loss"] = FiniteOrNull(r.BestValLoss);
        o["metrics"] = new JsonArray(r.Metrics.Select(m => (JsonNode)new JsonObject
        {
            ["metric"] = m.Metric, ["points"] = m.Points, ["first_step"] = m.FirstStep, ["last_step"] = m.LastStep,
            ["last_value"] = FiniteOrNull(m.LastValue), ["min_value"] = FiniteOrNull(m.MinValue), ["min_step"] = m.MinStep,
        }).ToArray());
        return o;
    }

    private static double? FiniteOrNull(double? v) => v is { } x && double.IsFinite(x) ? x : null;

    private static string Status(RunStatus s) => s.ToString().ToLowerInvariant();

    private static string FormatFixed4(double? v) => v is { } x && double.IsFinite(x) ? x.ToString("F4", CultureInfo.InvariantCulture) : "-";

    private static string FormatGeneral6(double v) => double.IsFinite(v) ? v.ToString("G6", CultureInfo.InvariantCulture) : "-";

    private static string Clip(string s, int w) => s.Length <= w ? s : s[..(w - 1)] + "…";
}
