using System.Text.Json;
using System.Text.Json.Nodes;
using Anneal.Curves;
using Anneal.Laws;

namespace Anneal.Accuracy;

/// <summary>
/// One logged run of a forecasting corpus: its curve, the exact schedule (null: rebuilt from the
/// logged lr column), its seed, and, for a cooldown branched from another run's checkpoint, the
/// parent run and the step it branched at.
/// </summary>
public sealed record CorpusRun(string Name, LossCurve Curve, string? Schedule, int Seed, string? BranchOf = null, long BranchStep = 0)
{
    /// <summary>Whether the corpus file states <see cref="Seed"/> (else it is 1 by default and says nothing of the run).</summary>
    public bool SeedGiven { get; init; }

    /// <summary>Steps the run trained: its last logged step + 1.</summary>
    public long Horizon => Curve.Steps[^1] + 1;
}

/// <summary>
/// A set of real runs of one workload (same model, data and peak rate; different schedules,
/// horizons and seeds) over which <see cref="ForecastProtocol"/> defines what is fitted and what
/// is predicted. Read from a folder's <c>corpus.json</c> (format <c>anneal-corpus/1</c>):
/// <code>
/// {"format": "anneal-corpus/1", "name": "engine-gpt-tiny", "source": "...",
///  "min_step": 0, "data_dir": ".",
///  "runs": [{"file": "constant_s1.csv", "schedule": "constant(peak=3e-3, warmup=100)", "seed": 1},
///           {"file": "wsd_T3000.csv", "schedule": "wsd(...)", "seed": 1, "branch_of": "constant_s1.csv", "branch_step": 2700}]}
/// </code>
/// <c>data_dir</c> (optional) is relative to the file; <c>min_step</c> (optional) drops an initial
/// transient the laws do not describe; <c>loss_column</c> (optional, <c>loss</c> or <c>val_loss</c>)
/// names the loss fitted and scored; <c>schedule</c> is optional (the lr column is used);
/// <c>cooldowns_fit</c> (optional, two run files) names the two cooldown branches the cooldowns question
/// fits (<see cref="CooldownsFit"/>); <c>held_out</c> (optional, default false) marks a corpus that no calibration may
/// read (<see cref="HeldOut"/>); <c>steps_per_epoch</c> (optional) is where the runs' training data starts to repeat
/// (<see cref="StepsPerEpoch"/>).
/// </summary>
public sealed record ForecastCorpus(string Name, string Source, IReadOnlyList<CorpusRun> Runs)
{
    /// <summary>Logged points before this step are left out of fits and scores (an initial transient).</summary>
    public long MinStep { get; init; }

    /// <summary>
    /// Which loss the laws fit and the protocol scores: <c>loss</c> (the training loss column) or
    /// <c>val</c> (the validation loss, evaluated on fixed batches: far less noisy when the training
    /// loss is a small-batch estimate, as in the engine's corpora).
    /// </summary>
    public string Target { get; init; } = "loss";

    /// <summary>
    /// The two cooldown branches the cooldowns question fits (run names), when the corpus names them: a WSD series
    /// that starts earlier than the point it is asked from (gpt-tiny-long keeps a 750-step cooldown and fits at 3,000).
    /// Empty: the first two branches of the series.
    /// </summary>
    public IReadOnlyList<string> CooldownsFit { get; init; } = [];

    /// <summary>
    /// A held-out corpus (<c>"held_out": true</c>): made after every law's and band's constants were chosen, and never read
    /// when choosing them (<see cref="LoadFolders"/> leaves it out unless asked), so that its forecasts measure the laws
    /// out of sample. <c>anneal accuracy</c> reports it apart from the pooled in-sample numbers.
    /// </summary>
    public bool HeldOut { get; init; }

    /// <summary>
    /// Optimizer steps in one pass over the runs' training data (<c>"steps_per_epoch"</c>: training tokens / tokens a step);
    /// null: not recorded. Every fit of the protocol is given it (<see cref="Anneal.Fitting.FitOptions.Epoch"/>), so a
    /// forecast past it, when the fitted runs end before it, says so, and gets no band past
    /// <see cref="Anneal.Fitting.EpochBoundary.EpochsWithBand"/> epochs (<see cref="Anneal.Fitting.EpochBoundary"/>).
    /// </summary>
    public long? StepsPerEpoch { get; init; }

    /// <summary>The format tag every <c>corpus.json</c> carries.</summary>
    public const string Format = "anneal-corpus/1";

    /// <summary>Reads a corpus from a folder holding <c>corpus.json</c> or from the JSON file itself.</summary>
    public static ForecastCorpus Load(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, "corpus.json") : path;
        if (!File.Exists(file))
            throw new InputException(Directory.Exists(path)
                ? $"{path}: no corpus.json in this folder (a corpus folder lists its runs in corpus.json, see docs/accuracy.md)"
                : $"{path}: file not found (give a corpus folder or its corpus.json)");
        var dir = Path.GetDirectoryName(Path.GetFullPath(file))!;
        return Parse(File.ReadAllBytes(file), file, name =>
        {
            var p = Path.Combine(dir, name);
            return File.Exists(p) ? File.ReadAllBytes(p) : null;
        });
    }

    /// <summary>
    /// The corpora of <paramref name="root"/>'s subfolders that hold a <c>corpus.json</c> (e.g. data/corpora), in name
    /// order. Without <paramref name="includeHeldOut"/>, the ones a calibration may read: every corpus not marked
    /// <see cref="HeldOut"/>.
    /// </summary>
    public static IReadOnlyList<ForecastCorpus> LoadFolders(string root, bool includeHeldOut) =>
        Directory.GetDirectories(root).Order(StringComparer.Ordinal)
            .Where(d => File.Exists(Path.Combine(d, "corpus.json")))
            .Select(Load)
            .Where(c => includeHeldOut || !c.HeldOut)
            .ToArray();

    /// <summary>
    /// Parses <c>corpus.json</c> text; <paramref name="open"/> returns the bytes of a file named relative
    /// to the JSON (null when missing), so embedded copies and folders read the same way.
    /// </summary>
    public static ForecastCorpus Parse(byte[] json, string origin, Func<string, byte[]?> open)
    {
        JsonObject? root;
        try { root = JsonNode.Parse(json) as JsonObject; }
        catch (JsonException) { root = null; }
        // Anything else given as a corpus (a run's log, a JSON Lines file, a fitted law) is named as not a manifest, with
        // the format expected, rather than by the JSON reader's position or the first key it lacks.
        if (root is null || root["format"] is null) throw new InputException($"{origin}: not a corpus manifest ({NotManifest(json, root)}); {ManifestHelp}");
        string Str(JsonNode? n, string what) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new InputException($"{origin}: \"{what}\" must be a string");
        var format = Str(root["format"], "format");
        if (format != Format) throw new InputException($"{origin}: format '{format}' is not supported (expected \"{Format}\"); {ManifestHelp}");
        var name = Str(root["name"], "name");
        var source = root["source"] is null ? "" : Str(root["source"], "source");
        var dataDir = root["data_dir"] is null ? "" : Str(root["data_dir"], "data_dir");
        long minStep = root["min_step"] is JsonValue ms && ms.TryGetValue<long>(out var m) ? m : 0;
        bool heldOut = root["held_out"] switch
        {
            null => false,
            JsonValue hv when hv.TryGetValue<bool>(out var h) => h,
            _ => throw new InputException($"{origin}: \"held_out\" must be true or false (true: a corpus no calibration reads, reported apart)"),
        };
        long? stepsPerEpoch = root["steps_per_epoch"] switch
        {
            null => null,
            JsonValue pv when pv.TryGetValue<long>(out var p) && p >= 1 => p,
            var bad => throw new InputException($"{origin}: \"steps_per_epoch\" must be a whole number of steps >= 1 (training tokens / tokens a step), got {bad.ToJsonString()}"),
        };
        var lossColumn = root["loss_column"] is null ? "loss" : Str(root["loss_column"], "loss_column");
        var target = lossColumn switch
        {
            "loss" => "loss",
            "val_loss" => "val",
            _ => throw new InputException($"{origin}: \"loss_column\" must be \"loss\" or \"val_loss\", got '{lossColumn}'"),
        };
        if (root["runs"] is not JsonArray arr || arr.Count == 0) throw new InputException($"{origin}: \"runs\" must be a non-empty array");
        var runs = new List<CorpusRun>();
        foreach (var node in arr)
        {
            if (node is not JsonObject r) throw new InputException($"{origin}: every entry of \"runs\" must be an object");
            var fileName = Str(r["file"], "runs[].file");
            var rel = dataDir.Length == 0 ? fileName : dataDir + "/" + fileName;
            var bytes = open(rel) ?? throw new InputException($"{origin}: run file '{rel}' not found");
            string? spec = r["schedule"] is null ? null : Str(r["schedule"], "runs[].schedule");
            int? given = r["seed"] is JsonValue sv && sv.TryGetValue<int>(out var g) ? g : null;
            int seed = given ?? 1;
            string? parent = r["branch_of"] is null ? null : Str(r["branch_of"], "runs[].branch_of");
            long at = r["branch_step"] is JsonValue bv && bv.TryGetValue<long>(out var b) ? b : 0;
            var curve = CurveReader.Parse(bytes, Path.Combine(Path.GetDirectoryName(origin) ?? "", rel));
            var runName = Path.GetFileNameWithoutExtension(fileName);
            curve = curve with { Name = runName, ScheduleSpec = spec is null ? null : Schedules.Schedule.Parse(spec).Spec };
            runs.Add(new CorpusRun(runName, curve, spec, seed, parent is null ? null : Path.GetFileNameWithoutExtension(parent), at) { SeedGiven = given is not null });
        }
        foreach (var r in runs.Where(r => r.BranchOf is not null))
            if (!runs.Any(p => p.Name == r.BranchOf)) throw new InputException($"{origin}: run '{r.Name}' branches from '{r.BranchOf}', which is not in \"runs\"");
        var cooldownsFit = new List<string>();
        if (root["cooldowns_fit"] is { } cf)
        {
            if (cf is not JsonArray fits || fits.Count != 2)
                throw new InputException($"{origin}: \"cooldowns_fit\" must be an array of two run files (the two cooldown branches the cooldowns question fits), e.g. [\"wsd_T1500.csv\", \"wsd_T3000.csv\"]");
            foreach (var f in fits)
            {
                var n = Path.GetFileNameWithoutExtension(Str(f, "cooldowns_fit[]"));
                if (!runs.Any(r => r.Name == n && r.BranchOf is not null))
                    throw new InputException($"{origin}: \"cooldowns_fit\" names '{n}', which is not a branched run of \"runs\" (give runs with branch_of and branch_step)");
                cooldownsFit.Add(n);
            }
        }
        return new ForecastCorpus(name, source, runs) { MinStep = minStep, Target = target, CooldownsFit = cooldownsFit, HeldOut = heldOut, StepsPerEpoch = stepsPerEpoch };
    }

    /// <summary>What a corpus argument must be, for the messages that refuse another file.</summary>
    internal const string ManifestHelp = "give a corpus folder or its corpus.json, a JSON object {\"format\": \"" + Format + "\", \"name\": ..., \"runs\": [{\"file\": \"constant_s1.csv\", \"schedule\": \"constant(peak=3e-3, warmup=100)\"}, ...]} listing the runs' log files (data/corpora/README.md; bench/corpora/gpt100m-rope.json is one)";

    /// <summary>Why <paramref name="json"/> (parsed as <paramref name="root"/>, null when it is not one JSON object) is no manifest, in the user's words.</summary>
    private static string NotManifest(byte[] json, JsonObject? root)
    {
        if (root is not null)
            return root.ContainsKey("parameters") && root.ContainsKey("law") ? "a fitted law file, as anneal fit writes one"
                : $"a JSON object without \"format\"; its keys: {string.Join(", ", root.Select(k => k.Key).Take(6))}";
        var text = System.Text.Encoding.UTF8.GetString(json, 0, Math.Min(json.Length, 4096)).TrimStart('\uFEFF');
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length > 1 && lines[0].TrimStart().StartsWith('{')) return "JSON Lines, one object a line: a run's log, not the list of a corpus's runs";
        if (lines.Length > 0 && lines[0].Contains(',') && !lines[0].TrimStart().StartsWith('{')) return "a table (CSV): a run's log, not the list of a corpus's runs";
        return text.Trim().Length == 0 ? "the file is empty" : "not one JSON object";
    }

    /// <summary>
    /// The run as the laws see it: exact per-step rates, points from the end of the warmup (and
    /// from <see cref="MinStep"/>) on, at most <see cref="LawRun.DefaultMaxPoints"/> bin means.
    /// </summary>
    public LawRun LawRunOf(CorpusRun run, long firstStep = 0, long endStep = long.MaxValue)
    {
        var r = LawRun.FromCurve(run.Curve, Target) with { Seed = run.SeedGiven ? run.Seed : null };
        long from = Math.Max(Math.Max(r.PeakStep, MinStep), firstStep);
        var keep = Enumerable.Range(0, r.Count).Where(i => r.Steps[i] >= from && r.Steps[i] < endStep).ToArray();
        if (keep.Length == 0) throw new InputException($"{Name}/{run.Name}: no logged point in steps [{from}, {endStep})");
        long n = r.Steps[keep[^1]] + 1;
        r = r with
        {
            Eta = n < r.Eta.Length ? r.Eta[..(int)n] : r.Eta,
            GradNorm = r.GradNorm is { } g && n < g.Length ? g[..(int)n] : r.GradNorm,
            Steps = keep.Select(i => r.Steps[i]).ToArray(),
            Observed = keep.Select(i => r.Observed![i]).ToArray(),
        };
        return r.Binned(LawRun.DefaultMaxPoints);
    }
}
