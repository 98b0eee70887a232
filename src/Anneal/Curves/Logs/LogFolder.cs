using System.Globalization;
using System.Text.RegularExpressions;

namespace Anneal.Curves.Logs;

/// <summary>
/// Finds the log of one run inside a folder: a Hugging Face output or checkpoint folder (<c>trainer_state.json</c>;
/// of several <c>checkpoint-N</c> folders the latest), a TensorBoard log folder (the event files of one folder are
/// one run, read in the order they were started; Keras' <c>train/</c> and <c>validation/</c> folders are one run),
/// a Lightning version folder (<c>metrics.csv</c> or event files), an MLflow run folder, an experiment or
/// <c>mlruns</c> folder holding one run, or a folder holding one CSV / JSON Lines / JSON log. A folder holding
/// several runs is an error that lists them.
/// </summary>
public static partial class LogFolder
{
    /// <summary>How deep below the given folder logs are looked for (mlruns/EXP/RUN/metrics is 3).</summary>
    private const int MaxDepth = 4;

    /// <summary>Folders looked into at most, so a home folder given by mistake fails fast.</summary>
    private const int MaxFolders = 2000;

    /// <summary>What a candidate run is.</summary>
    private enum Kind { HfState, Mlflow, LightningCsv, TensorBoard, Table }

    private sealed record Candidate(Kind Kind, string Dir, IReadOnlyList<string> Files);

    /// <summary>True for a TensorBoard event file name.</summary>
    public static bool IsEventFile(string path) => Path.GetFileName(path).StartsWith("events.out.tfevents", StringComparison.Ordinal);

    /// <summary>Reads the one run in <paramref name="dir"/>; see the class summary.</summary>
    public static LossCurve Read(string dir, CurveReadOptions options)
    {
        var (files, dirOf, notes) = Locate(dir);
        LossCurve curve;
        string name = options.Name ?? NameOf(dirOf);
        if (MlflowRun.Is(dirOf) && files.Count == 0)
        {
            curve = MlflowRun.Read(dirOf, options.Name ?? MlflowRun.RunName(dirOf) ?? name, options);
        }
        else if (files.All(IsEventFile) && files.Count > 0)
        {
            var log = new MetricLog(dirOf, TensorBoardLog.FormatName + (files.Count > 1 ? "s" : ""), "record");
            // Keras writes train/ and validation/ with the same tag names: their folder tells them apart
            bool prefixed = files.Select(f => Path.GetDirectoryName(f)).Distinct().Count() > 1;
            foreach (var f in files)
            {
                var prefix = prefixed ? Path.GetRelativePath(dirOf, Path.GetDirectoryName(f)!).Replace(Path.DirectorySeparatorChar, '/') + "/" : "";
                TensorBoardLog.ReadFile(f, log, prefix);
            }
            if (files.Count > 1) log.Notes.Add($"{dirOf}: read {files.Count} event files as one run ({string.Join(", ", files.Select(f => Path.GetRelativePath(dirOf, f)))})");
            curve = log.ToCurve(options, name);
        }
        else curve = CurveReader.Parse(ReadBytes(files[0]), files[0], options with { Name = name });
        return curve with { NoteTexts = [.. notes, .. curve.NoteTexts] };
    }

    /// <summary>
    /// The files of the one run in <paramref name="dir"/> (none for an MLflow run folder, which is read as a whole),
    /// the run's folder and notes on what was chosen; throws naming every run when there are several.
    /// </summary>
    internal static (IReadOnlyList<string> Files, string RunDir, List<FormattableString> Notes) Locate(string dir)
    {
        var found = new List<Candidate>();
        int folders = 0;
        Scan(dir, 0, found, ref folders);
        var notes = new List<FormattableString>();
        if (found.Count == 0)
            throw new CurveFormatException($"{dir}: no training log found in this folder or the {MaxDepth} levels below it " +
                "(looked for trainer_state.json, events.out.tfevents.*, metrics.csv, MLflow run folders, and *.csv / *.jsonl / *.json logs); give the log file itself");

        // One run's checkpoints: the HF state of the output folder, else the latest checkpoint-N
        var hf = found.Where(c => c.Kind == Kind.HfState).ToList();
        if (hf.Count > 0 && hf.All(c => IsCheckpointOf(c.Dir, dir) || SamePath(c.Dir, dir)))
        {
            var top = hf.FirstOrDefault(c => SamePath(c.Dir, dir));
            var pick = top ?? hf.OrderBy(c => CheckpointNumber(c.Dir)).Last();
            if (top is null && hf.Count > 1)
                notes.Add($"{dir}: read {Path.GetRelativePath(dir, pick.Files[0])}, the latest of {hf.Count} checkpoints (its log_history holds the earlier ones)");
            var others = found.Where(c => c.Kind != Kind.HfState).ToList();
            if (others.Count > 0)
                notes.Add($"{dir}: also holds {Describe(others[0], dir)}{(others.Count > 1 ? $" and {others.Count - 1} more" : "")}, not read (trainer_state.json was)");
            return (pick.Files, dir, notes);
        }

        // Keras: <logdir>/train and <logdir>/validation event folders are one run
        var tb = found.Where(c => c.Kind == Kind.TensorBoard).ToList();
        if (tb.Count == 2 && tb.Select(c => Path.GetFileName(c.Dir)).Order().SequenceEqual(["train", "validation"])
            && SamePath(Path.GetDirectoryName(tb[0].Dir)!, Path.GetDirectoryName(tb[1].Dir)!))
        {
            found.RemoveAll(c => c.Kind == Kind.TensorBoard);
            found.Add(new Candidate(Kind.TensorBoard, Path.GetDirectoryName(tb[0].Dir)!, [.. tb[0].Files, .. tb[1].Files]));
        }

        var runs = found.GroupBy(c => Path.GetFullPath(c.Dir)).ToList();
        if (runs.Count > 1)
        {
            var list = runs.Take(12).Select(g => "  " + Describe(g.OrderBy(c => c.Kind).First(), dir));
            throw new CurveFormatException($"{dir}: holds {runs.Count} runs; give one of them:\n{string.Join("\n", list)}{(runs.Count > 12 ? $"\n  ... and {runs.Count - 12} more" : "")}");
        }
        var inRun = runs[0].OrderBy(c => c.Kind).ToList();
        var chosen = inRun[0];
        if (chosen.Kind == Kind.Table && chosen.Files.Count > 1)
            throw new CurveFormatException($"{chosen.Dir}: holds {chosen.Files.Count} logs ({string.Join(", ", chosen.Files.Take(8).Select(Path.GetFileName))}{(chosen.Files.Count > 8 ? ", ..." : "")}); give one of them");
        if (inRun.Count > 1)
            notes.Add($"{dir}: read {Describe(chosen, dir)}; also found {string.Join(", ", inRun.Skip(1).Select(c => Describe(c, dir)))}, not read");
        return (chosen.Kind == Kind.Mlflow ? [] : chosen.Files, chosen.Dir, notes);
    }

    private static void Scan(string dir, int depth, List<Candidate> found, ref int folders)
    {
        if (++folders > MaxFolders)
            throw new CurveFormatException($"{dir}: more than {MaxFolders} folders searched for a training log; give the run's own folder or its log file");
        if (MlflowRun.Is(dir)) { found.Add(new Candidate(Kind.Mlflow, dir, [dir])); return; }
        string[] files, subdirs;
        try
        {
            files = Directory.GetFiles(dir).Order(StringComparer.Ordinal).ToArray();
            subdirs = Directory.GetDirectories(dir).Order(StringComparer.Ordinal).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CurveFormatException($"{dir}: cannot be listed ({e.Message})");
        }
        var state = files.FirstOrDefault(f => Path.GetFileName(f) == "trainer_state.json");
        if (state is not null) found.Add(new Candidate(Kind.HfState, dir, [state]));
        var events = files.Where(IsEventFile).ToList();
        if (events.Count > 0) found.Add(new Candidate(Kind.TensorBoard, dir, OrderByStart(events)));
        var metrics = files.FirstOrDefault(f => Path.GetFileName(f) == "metrics.csv");
        if (metrics is not null) found.Add(new Candidate(Kind.LightningCsv, dir, [metrics]));
        if (state is null && metrics is null && events.Count == 0)
        {
            var tables = files.Where(f => Path.GetExtension(f).ToLowerInvariant() is ".csv" or ".tsv" or ".jsonl" or ".ndjson" or ".json"
                && !Path.GetFileName(f).StartsWith('.')).ToList();
            // configs beside a log (hparams.json, config.json) are not logs; a lone JSON file may be
            if (tables.Count > 1) tables.RemoveAll(f => Path.GetExtension(f).ToLowerInvariant() == ".json" && IsConfigName(f));
            if (tables.Count > 0) found.Add(new Candidate(Kind.Table, dir, tables));
        }
        if (depth >= MaxDepth) return;
        foreach (var sub in subdirs)
        {
            var n = Path.GetFileName(sub);
            // hidden folders, MLflow artifacts and W&B's binary run folders hold no log this reader takes
            if (n.StartsWith('.') || n is "artifacts" or "__pycache__" or "node_modules") continue;
            Scan(sub, depth + 1, found, ref folders);
        }
    }

    private static bool IsConfigName(string f) =>
        Path.GetFileNameWithoutExtension(f).ToLowerInvariant() is "config" or "hparams" or "args" or "params" or "training_args" or "tokenizer_config" or "generation_config" or "manifest";

    /// <summary>Event files in the order they were started: their names hold the start time in seconds (then a counter).</summary>
    private static List<string> OrderByStart(List<string> events) =>
        events.OrderBy(f => EventTime().Match(Path.GetFileName(f)) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : double.MaxValue)
            .ThenBy(f => f, StringComparer.Ordinal).ToList();

    [GeneratedRegex(@"^events\.out\.tfevents\.(\d+(?:\.\d+)?)")]
    private static partial Regex EventTime();

    [GeneratedRegex(@"^checkpoint-(\d+)$")]
    private static partial Regex CheckpointDir();

    private static bool IsCheckpointOf(string dir, string root) =>
        CheckpointDir().IsMatch(Path.GetFileName(dir)) && SamePath(Path.GetDirectoryName(dir)!, root);

    private static long CheckpointNumber(string dir) =>
        CheckpointDir().Match(Path.GetFileName(dir)) is { Success: true } m && long.TryParse(m.Groups[1].Value, CultureInfo.InvariantCulture, out var n) ? n : -1;

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd(Path.DirectorySeparatorChar), Path.GetFullPath(b).TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal);

    private static string Describe(Candidate c, string root)
    {
        var rel = Path.GetRelativePath(root, c.Dir);
        rel = rel == "." ? "(this folder)" : rel;
        return c.Kind switch
        {
            Kind.HfState => $"{rel} (trainer_state.json)",
            Kind.Mlflow => $"{rel} (MLflow run{(MlflowRun.RunName(c.Dir) is { } n ? " '" + n + "'" : "")})",
            Kind.LightningCsv => $"{rel} (metrics.csv)",
            Kind.TensorBoard => $"{rel} (TensorBoard, {c.Files.Count} event file{(c.Files.Count == 1 ? "" : "s")})",
            _ => $"{rel} ({string.Join(", ", c.Files.Take(3).Select(Path.GetFileName))}{(c.Files.Count > 3 ? ", ..." : "")})",
        };
    }

    /// <summary>A run's name from its folder: the folder, or for a checkpoint folder the output folder above it.</summary>
    internal static string NameOf(string dir)
    {
        var full = Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);
        var n = Path.GetFileName(full);
        if (CheckpointDir().IsMatch(n) && Path.GetFileName(Path.GetDirectoryName(full)) is { Length: > 0 } up) return up;
        return n.Length > 0 ? n : "run";
    }

    /// <summary>The name of a curve read from <paramref name="path"/>: a log with a generic file name is named after its folder.</summary>
    internal static string DefaultName(string path)
    {
        var f = Path.GetFileName(path);
        bool generic = IsEventFile(path) || f is "trainer_state.json" or "metrics.csv" or "metrics.jsonl" or "history.csv" or "history.jsonl" or "wandb-history.jsonl" or "log.csv" or "log.jsonl";
        if (generic && Path.GetDirectoryName(Path.GetFullPath(path)) is { } d && Path.GetFileName(d).Length > 0) return NameOf(d);
        return Path.GetFileNameWithoutExtension(path);
    }

    internal static byte[] ReadBytes(string path)
    {
        try { return File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CurveFormatException($"{path}: cannot be read ({e.Message})");
        }
    }
}
