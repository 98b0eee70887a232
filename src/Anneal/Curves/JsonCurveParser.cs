using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Anneal.Curves;

/// <summary>
/// Readers for JSON Lines (one object per logged row) and single JSON documents: the W&amp;B-style
/// history dump <c>{"history": {"train": {"iter": [...], "train_loss": [...]}, "val": {"iter": [...], "val_loss": [...]}}}</c>,
/// a column object <c>{"step": [...], "loss": [...]}</c> (what <see cref="CurveWriter.WriteJson(LossCurve, string)"/> writes)
/// or an array of row objects. Python's bare <c>NaN</c>/<c>Infinity</c> tokens are accepted.
/// </summary>
internal static class JsonCurveParser
{
    private static readonly JsonDocumentOptions DocOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    private static void Flatten(JsonElement o, string prefix, Dictionary<string, JsonElement> into)
    {
        foreach (var p in o.EnumerateObject())
        {
            var key = prefix.Length == 0 ? p.Name : prefix + "/" + p.Name;
            if (p.Value.ValueKind == JsonValueKind.Object) Flatten(p.Value, key, into);
            else into[key] = p.Value;
        }
    }

    /// <summary>
    /// Rows of key/value objects. Loggers often write the evaluation as its own row at the same
    /// step as the training row, so adjacent rows with the same step and disjoint fields merge;
    /// rows that end up without a training loss are dropped with a warning.
    /// </summary>
    private static LossCurve FromRowObjects(List<(int Line, Dictionary<string, JsonElement> Fields)> rows, List<string> keys,
        string file, string name, CurveReadOptions options, string what)
    {
        var map = CurveColumns.Resolve(keys, options, file, rows[0].Line, what);
        var stepKey = keys[map[0]];
        var merged = new List<(long Step, int Line, double[] V, bool[] Has)>();
        foreach (var (line, fields) in rows)
        {
            if (!fields.TryGetValue(stepKey, out var se) || se.ValueKind == JsonValueKind.Null)
            {
                // A row without a step (e.g. a final summary object) carries no curve point.
                continue;
            }
            long step = Step(se, file, line, stepKey);
            var v = new double[CurveColumns.RoleCount];
            var has = new bool[CurveColumns.RoleCount];
            for (int r = 1; r < CurveColumns.RoleCount; r++)
            {
                v[r] = double.NaN;
                if (map[r] < 0 || !fields.TryGetValue(keys[map[r]], out var e) || e.ValueKind == JsonValueKind.Null) continue;
                var (x, text) = Number(e, file, line, keys[map[r]]);
                v[r] = CurveRows.Check((CurveRole)r, x, false, file, line, keys[map[r]], text);
                has[r] = !double.IsNaN(v[r]);
            }
            if (merged.Count > 0 && merged[^1].Step == step)
            {
                var prev = merged[^1];
                for (int r = 1; r < CurveColumns.RoleCount; r++)
                {
                    if (!has[r]) continue;
                    if (prev.Has[r])
                        throw new CurveFormatException(file, line, stepKey,
                            $"step {step} repeats the step on line {prev.Line} with another {CurveColumns.RoleName((CurveRole)r)} value",
                            "Keep one value per step: remove the duplicate rows (e.g. from a resumed run).");
                    prev.V[r] = v[r];
                    prev.Has[r] = true;
                }
                continue;
            }
            merged.Add((step, line, v, has));
        }
        var warnings = new List<string>();
        int dropped = merged.Count(m => !m.Has[(int)CurveRole.Loss]);
        if (dropped > 0)
        {
            var first = merged.First(m => !m.Has[(int)CurveRole.Loss]);
            warnings.Add($"{file}: {dropped} row(s) without a training loss were skipped (first: line {first.Line}, step {first.Step}); their other values (e.g. validation loss) are not in the curve");
        }
        var acc = new CurveRows(file, map, merged.Count);
        foreach (var m in merged)
        {
            if (!m.Has[(int)CurveRole.Loss]) continue;
            acc.Begin(m.Step, m.Line, stepKey);
            for (int r = 1; r < CurveColumns.RoleCount; r++) if (map[r] >= 0) acc.Set((CurveRole)r, m.V[r]);
        }
        if (acc.Count == 0)
            throw new CurveFormatException(file, 0, null,
                $"no row has both a step and a training loss. Check the key names ({CurveColumns.AcceptedNames(CurveRole.Loss)} for the loss) or name the keys with {CurveColumns.ColumnOption(CurveRole.Step)} and {CurveColumns.ColumnOption(CurveRole.Loss)}.");
        return acc.Build(name, file, warnings);
    }

    // ---------- single JSON document ----------

    public static LossCurve ParseDocument(string text, string file, string name, CurveReadOptions options, out string? scheduleSpec)
    {
        scheduleSpec = null;
        if (string.IsNullOrWhiteSpace(text))
            throw new CurveFormatException(file, 0, null, "the file is empty", "Expected a JSON curve such as {\"step\": [...], \"loss\": [...]}.");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(PythonJson.Sanitize(text.TrimStart('\uFEFF')), DocOptions); }
        catch (JsonException e)
        {
            int line = (int)(e.LineNumber ?? -1) + 1;
            throw new CurveFormatException(file, line, null, $"not valid JSON ({Short(e.Message)})",
                "Fix the JSON syntax (a JSON Lines file should use the .jsonl extension).");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                var rows = new List<(int, Dictionary<string, JsonElement>)>();
                var keys = new List<string>();
                var seen = new HashSet<string>();
                int i = 0;
                foreach (var e in root.EnumerateArray())
                {
                    i++;
                    if (e.ValueKind != JsonValueKind.Object)
                        throw new CurveFormatException(file, 0, $"[{i - 1}]", $"expected an object per row, found {e.ValueKind}", "Use [{\"step\": 0, \"loss\": 3.2}, ...].");
                    var f = new Dictionary<string, JsonElement>();
                    Flatten(e, "", f);
                    foreach (var k in f.Keys) if (seen.Add(k)) keys.Add(k);
                    rows.Add((0, f));
                }
                if (rows.Count == 0) throw new CurveFormatException(file, 0, null, "the JSON array is empty", "Add one object per logged step.");
                return FromRowObjects(rows, keys, file, name, options, "keys");
            }
            if (Logs.HfTrainerState.Looks(root)) return Logs.HfTrainerState.Read(root, file, name, options);
            if (root.ValueKind != JsonValueKind.Object)
                throw new CurveFormatException(file, 0, null, $"expected a JSON object, found {root.ValueKind}",
                    "Use {\"history\": {\"train\": {...}, \"val\": {...}}} or {\"step\": [...], \"loss\": [...]}.");
            if (root.TryGetProperty("schedule", out var sch) && sch.ValueKind == JsonValueKind.String) scheduleSpec = sch.GetString();
            if (root.TryGetProperty("name", out var nm) && nm.ValueKind == JsonValueKind.String && options.Name is null) name = nm.GetString() ?? name;

            bool wrapped = root.TryGetProperty("history", out var h) && h.ValueKind == JsonValueKind.Object;
            var history = wrapped ? h : root;
            string prefix = wrapped ? "history." : "";
            if (history.TryGetProperty("train", out var train) && train.ValueKind == JsonValueKind.Object)
            {
                JsonElement? val = null;
                string valName = "val";
                foreach (var vn in new[] { "val", "valid", "validation", "eval", "test" })
                    if (history.TryGetProperty(vn, out var ve) && ve.ValueKind == JsonValueKind.Object) { val = ve; valName = vn; break; }
                return FromHistory(train, prefix + "train", val, prefix + valName, file, name, options);
            }
            if (!root.EnumerateObject().Any(p => p.Value.ValueKind == JsonValueKind.Array))
            {
                // A single row object (a one-line JSON Lines file saved as .json).
                var f = new Dictionary<string, JsonElement>();
                Flatten(root, "", f);
                return FromRowObjects([(1, f)], f.Keys.ToList(), file, name, options, "keys");
            }
            return FromHistory(root, "", null, "", file, name, options);
        }
    }

    private static LossCurve FromHistory(JsonElement train, string trainPath, JsonElement? val, string valPath,
        string file, string name, CurveReadOptions options)
    {
        var cols = Columns(train, trainPath, file);
        var keys = cols.Keys.ToList();
        var map = CurveColumns.Resolve(keys, options, file, 0, trainPath.Length == 0 ? "keys" : $"keys in '{trainPath}'");
        var stepKey = keys[map[0]];
        var steps = cols[stepKey];
        int n = steps.Count;
        foreach (var (k, arr) in cols)
            if (arr.Count != n && keys.IndexOf(k) is var idx && map.Contains(idx))
                throw new CurveFormatException(file, 0, Where(trainPath, k),
                    $"has {arr.Count} values but '{Where(trainPath, stepKey)}' has {n}",
                    "Every column array must have one value per logged step.");
        var rows = new CurveRows(file, map, n);
        for (int i = 0; i < n; i++)
        {
            var where = Where(trainPath, stepKey) + $"[{i}]";
            if (steps[i].ValueKind == JsonValueKind.Null)
                throw new CurveFormatException(file, 0, where, "the step is null", "Every entry needs its optimizer step.");
            rows.Begin(Step(steps[i], file, 0, where), 0, where);
            for (int r = 1; r < CurveColumns.RoleCount; r++)
            {
                if (map[r] < 0) continue;
                var e = cols[keys[map[r]]][i];
                bool blank = e.ValueKind == JsonValueKind.Null;
                var w = Where(trainPath, keys[map[r]]) + $"[{i}]";
                var (x, text) = blank ? (double.NaN, "null") : Number(e, file, 0, w);
                rows.Set((CurveRole)r, CurveRows.Check((CurveRole)r, x, blank, file, 0, w, text));
            }
        }
        if (rows.Count == 0)
            throw new CurveFormatException(file, 0, Where(trainPath, stepKey), "the curve has no entries", "The train arrays are empty; check that the run logged anything.");
        var curve = rows.Build(name, file);
        if (val is not { } v || map[(int)CurveRole.ValLoss] >= 0) return curve;

        // Validation is logged on its own steps: merge it into the training steps, NaN elsewhere.
        var vcols = Columns(v, valPath, file);
        var vkeys = vcols.Keys.ToList();
        var vopt = options with { LossColumn = options.ValLossColumn, LrColumn = null, ValLossColumn = null, GradNormColumn = null, TokensColumn = null, EpochColumn = null };
        ResolveVal(vkeys, vopt, file, valPath, out int vStep, out int vLoss);
        var vs = vcols[vkeys[vStep]];
        var vl = vcols[vkeys[vLoss]];
        if (vs.Count != vl.Count)
            throw new CurveFormatException(file, 0, Where(valPath, vkeys[vLoss]), $"has {vl.Count} values but '{Where(valPath, vkeys[vStep])}' has {vs.Count}",
                "Every column array must have one value per evaluation.");
        var valLoss = new double[curve.Count];
        Array.Fill(valLoss, double.NaN);
        int dropped = 0;
        long firstDropped = -1;
        for (int i = 0; i < vs.Count; i++)
        {
            var w = Where(valPath, vkeys[vLoss]) + $"[{i}]";
            long s = Step(vs[i], file, 0, Where(valPath, vkeys[vStep]) + $"[{i}]");
            bool blank = vl[i].ValueKind == JsonValueKind.Null;
            var (x, text) = blank ? (double.NaN, "null") : Number(vl[i], file, 0, w);
            x = CurveRows.Check(CurveRole.ValLoss, x, blank, file, 0, w, text);
            int at = Array.BinarySearch(curve.Steps, s);
            if (at < 0) { if (dropped++ == 0) firstDropped = s; continue; }
            valLoss[at] = x;
        }
        var warnings = curve.Warnings.ToList();
        if (dropped > 0)
            warnings.Add($"{file}: {dropped} validation point(s) at steps with no training entry were skipped (first: step {firstDropped})");
        return curve with { ValLoss = valLoss, Warnings = warnings };
    }

    private static void ResolveVal(List<string> keys, CurveReadOptions o, string file, string path, out int step, out int loss)
    {
        // In a "val" section the loss may be called plain "loss" as well as "val_loss".
        var norm = keys.Select(CurveColumns.Normalize).ToList();
        var probe = new CurveReadOptions { StepColumn = o.StepColumn, LossColumn = o.LossColumn };
        if (o.LossColumn is null)
        {
            foreach (var cand in new[] { "val_loss", "eval_loss", "valid_loss", "validation_loss", "val_lm_loss", "eval_lm_loss", "test_loss", "loss" })
            {
                int i = norm.IndexOf(cand);
                if (i >= 0) { probe = probe with { LossColumn = keys[i] }; break; }
            }
        }
        var map = CurveColumns.Resolve(keys, probe, file, 0, $"keys in '{path}'");
        step = map[(int)CurveRole.Step];
        loss = map[(int)CurveRole.Loss];
    }

    private static Dictionary<string, List<JsonElement>> Columns(JsonElement section, string path, string file)
    {
        var cols = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal);
        foreach (var p in section.EnumerateObject())
            if (p.Value.ValueKind == JsonValueKind.Array) cols[p.Name] = p.Value.EnumerateArray().ToList();
        if (cols.Count == 0)
            throw new CurveFormatException(file, 0, path.Length == 0 ? null : path, "no column arrays found",
                "Expected arrays per column, e.g. {\"iter\": [0, 10], \"train_loss\": [4.1, 3.9]}.");
        return cols;
    }

    private static string Where(string path, string key) => path.Length == 0 ? key : path + "." + key;

    private static long Step(JsonElement e, string file, int line, string where)
    {
        if (e.ValueKind == JsonValueKind.Number)
        {
            if (e.TryGetInt64(out var l)) return l;
            var d = e.GetDouble();
            if (d == Math.Floor(d) && Math.Abs(d) < 9e15) return (long)d;
        }
        else if (e.ValueKind == JsonValueKind.String && long.TryParse(e.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)) return s;
        throw new CurveFormatException(file, line, where, $"expected a whole step number, found {CurveText.Echo(e.GetRawText())}. Fix the value or name the step key with {CurveColumns.ColumnOption(CurveRole.Step)}.");
    }

    private static (double, string) Number(JsonElement e, string file, int line, string where)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Number: return (e.GetDouble(), e.GetRawText());
            case JsonValueKind.String:
                var s = e.GetString() ?? "";
                if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || NumberText.TryParseSpecial(s, out d)) return (d, s);
                break;
        }
        throw new CurveFormatException(file, line, where, $"expected a number, found {CurveText.Echo(e.GetRawText())}", "Fix the value (use null where it was not logged).");
    }

    private static string Short(string m) { int i = m.IndexOf(" Path:", StringComparison.Ordinal); return (i > 0 ? m[..i] : m).TrimEnd('.'); }
}

/// <summary>
/// Python's json module writes NaN, Infinity and -Infinity as bare words, which is not JSON. This
/// turns them into strings outside string literals so the standard reader accepts the file.
/// </summary>
internal static class PythonJson
{
    public static string Sanitize(string s)
    {
        if (s.IndexOf("NaN", StringComparison.Ordinal) < 0 && s.IndexOf("Infinity", StringComparison.Ordinal) < 0) return s;
        var sb = new StringBuilder(s.Length + 16);
        bool inString = false;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (inString)
            {
                sb.Append(c);
                if (c == '\\' && i + 1 < s.Length) sb.Append(s[++i]);
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') { inString = true; sb.Append(c); continue; }
            if (Match(s, i, "NaN")) { sb.Append("\"NaN\""); i += 2; continue; }
            if (Match(s, i, "-Infinity")) { sb.Append("\"-Infinity\""); i += 8; continue; }
            if (Match(s, i, "Infinity")) { sb.Append("\"Infinity\""); i += 7; continue; }
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static bool Match(string s, int i, string word) => string.CompareOrdinal(s, i, word, 0, word.Length) == 0;
}
