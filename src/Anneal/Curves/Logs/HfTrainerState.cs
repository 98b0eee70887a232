using System.Text.Json;

namespace Anneal.Curves.Logs;

/// <summary>
/// Hugging Face Trainer's <c>trainer_state.json</c> (written at every checkpoint): <c>log_history</c> is a list of
/// dicts, training rows <c>{"step", "loss", "learning_rate", "grad_norm", "epoch"}</c> every <c>logging_steps</c>,
/// evaluation rows <c>{"step", "eval_loss", "eval_runtime", ...}</c> apart, and at the end of training one summary
/// row whose <c>train_loss</c> is the mean over the whole run (skipped: it is not a point of the curve).
/// </summary>
internal static class HfTrainerState
{
    public const string FormatName = "Hugging Face trainer_state.json";

    /// <summary>Keys only a trainer_state.json has at its top level, to recognise one that lacks log_history.</summary>
    private static readonly string[] StateKeys = ["global_step", "max_steps", "logging_steps", "best_model_checkpoint", "is_world_process_zero", "trial_name"];

    /// <summary>True when the JSON object is a trainer state (has <c>log_history</c> or two of its other top-level keys).</summary>
    public static bool Looks(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object &&
        (root.TryGetProperty("log_history", out _) || StateKeys.Count(k => root.TryGetProperty(k, out _)) >= 2);

    public static LossCurve Read(JsonElement root, string file, string name, CurveReadOptions options)
    {
        if (!root.TryGetProperty("log_history", out var history) || history.ValueKind != JsonValueKind.Array)
            throw new CurveFormatException(file, 0, "log_history",
                "looks like a Hugging Face trainer_state.json but has no 'log_history' list of logged rows",
                "Give the trainer_state.json of a checkpoint written by Trainer (its log_history holds the curve), or the run's TensorBoard folder.");
        var log = new MetricLog(file, FormatName, "entry");
        int entry = -1, rows = 0;
        bool summary = false;
        foreach (var row in history.EnumerateArray())
        {
            entry++;
            if (row.ValueKind != JsonValueKind.Object) continue;
            if (row.TryGetProperty("train_runtime", out _)) { summary = true; continue; }
            if (!row.TryGetProperty("step", out var se) || se.ValueKind != JsonValueKind.Number) continue;
            if (!se.TryGetInt64(out long step))
            {
                var d = se.GetDouble();
                if (d != Math.Floor(d) || d < 0 || d > 9e15)
                    throw new CurveFormatException(file, 0, $"log_history[{entry}].step", $"expected a whole step number, found {CurveText.Echo(se.GetRawText())}", "Fix the value.");
                step = (long)d;
            }
            rows++;
            foreach (var p in row.EnumerateObject())
            {
                if (p.Name is "step" || p.Value.ValueKind is not (JsonValueKind.Number or JsonValueKind.String)) continue;
                double v;
                if (p.Value.ValueKind == JsonValueKind.Number) v = p.Value.GetDouble();
                else if (!NumberText.TryParseSpecial(p.Value.GetString() ?? "", out v)) continue;
                var s = log.Get(p.Name);
                if (s.Count > 0 && s.Steps[^1] >= step)
                {
                    if (s.Steps[^1] == step && s.Values[^1].Equals(v)) continue;
                    throw new CurveFormatException(file, 0, $"log_history[{entry}].{p.Name}",
                        $"step {step} comes after '{CurveText.Echo(p.Name)}' was logged at step {s.Steps[^1]} (log_history[{s.Where[^1]}])",
                        "The log_history of one run has increasing steps: was the file assembled from several runs?");
                }
                s.Add(step, v, entry);
            }
        }
        if (rows == 0)
            throw new CurveFormatException(file, 0, "log_history",
                $"log_history has no logged rows{(summary ? " (only the end-of-training summary)" : "")}: the trainer had not logged yet",
                "Read a later checkpoint, or lower logging_steps in TrainingArguments so the trainer logs the loss.");
        if (summary) log.Notes.Add($"{file}: the end-of-training summary row of log_history (train_loss = the mean over the run) is not a point of the curve and was skipped");
        return log.ToCurve(options, name);
    }
}

/// <summary>
/// MLflow's file store: a run folder <c>mlruns/EXP/RUN/</c> holds <c>meta.yaml</c> and <c>metrics/KEY</c> files
/// (a key with '/' is a subfolder), each line <c>timestamp value step</c>.
/// </summary>
internal static class MlflowRun
{
    public const string FormatName = "MLflow run folder";

    /// <summary>True for an MLflow run folder: a metrics folder beside meta.yaml.</summary>
    public static bool Is(string dir) => Directory.Exists(Path.Combine(dir, "metrics")) && File.Exists(Path.Combine(dir, "meta.yaml"));

    /// <summary>The run's name from meta.yaml (<c>run_name:</c>), if any.</summary>
    public static string? RunName(string dir)
    {
        try
        {
            foreach (var line in File.ReadLines(Path.Combine(dir, "meta.yaml")))
                if (line.StartsWith("run_name:", StringComparison.Ordinal) && line[9..].Trim().Trim('\'', '"') is { Length: > 0 } n) return n;
        }
        catch (IOException) { }
        return null;
    }

    public static LossCurve Read(string dir, string name, CurveReadOptions options)
    {
        var metrics = Path.Combine(dir, "metrics");
        var log = new MetricLog(dir, FormatName, "line");
        var files = Directory.EnumerateFiles(metrics, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new CurveFormatException($"{dir}: the MLflow run has no metrics (metrics/ is empty); log the loss with mlflow.log_metric(\"loss\", value, step=step)");
        foreach (var f in files)
        {
            var key = Path.GetRelativePath(metrics, f).Replace(Path.DirectorySeparatorChar, '/');
            var s = log.Get(key);
            int lineNo = 0;
            foreach (var raw in File.ReadLines(f))
            {
                lineNo++;
                var line = raw.Trim();
                if (line.Length == 0) continue;
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length is < 2 or > 3
                    || !(double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) || NumberText.TryParseSpecial(parts[1], out v))
                    || !long.TryParse(parts.Length == 3 ? parts[2] : "0", System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var step))
                    throw new CurveFormatException(f, lineNo, null, $"expected 'timestamp value step', found '{CurveText.Echo(line)}'",
                        "MLflow writes one 'timestamp value step' line per logged value; fix or remove the line.");
                s.AddReplacing(step, v, lineNo);
            }
        }
        return log.ToCurve(options, name);
    }
}
