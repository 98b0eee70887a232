using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Anneal.Curves;

/// <summary>
/// JSON Lines reader working on the UTF-8 bytes with <see cref="Utf8JsonReader"/>: a first pass
/// collects the (flattened, '/'-joined) keys so the columns can be resolved like a CSV header, a
/// second pass reads only the mapped values. Adjacent rows with the same step and disjoint keys
/// merge (loggers write evaluation rows separately); rows left without a training loss are
/// skipped with a warning. Lines with Python's bare NaN/Infinity take a slower sanitising path.
/// </summary>
internal static class JsonLinesParser
{
    private static readonly JsonReaderOptions ReaderOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    public static LossCurve Parse(ReadOnlySpan<byte> data, string file, string name, CurveReadOptions options)
    {
        if (data.StartsWith("\uFEFF"u8)) data = data[3..];
        var warnings = new List<string>();
        if (CutLastLine(data, file) is { } cut)
        {
            data = data[..cut.Keep];
            warnings.Add(cut.Warning);
        }

        // Pass 1: the union of keys, in order of first appearance.
        var keys = new List<string>();
        var keyBytes = new List<byte[]?>();
        int firstLine = 0, lineNo = 0, rowsSeen = 0;
        foreach (var (line, no) in Lines(data))
        {
            lineNo = no;
            if (firstLine == 0) firstLine = no;
            rowsSeen++;
            var text = Sanitized(line);
            try
            {
                var r = new Utf8JsonReader(text, ReaderOptions);
                if (!r.Read() || r.TokenType != JsonTokenType.StartObject)
                    throw new CurveFormatException(file, no, null, $"expected a JSON object, found {(r.TokenType == JsonTokenType.None ? "nothing" : r.TokenType.ToString())}",
                        "Each line must be an object such as {\"step\": 100, \"loss\": 3.2}.");
                CollectKeys(ref r, "", keys, keyBytes);
                if (r.Read())
                    throw new CurveFormatException(file, no, null, "more than one JSON value on this line",
                        "Put exactly one object on each line.");
            }
            catch (JsonException e)
            {
                throw new CurveFormatException(file, no, null, $"not valid JSON ({Short(e.Message)})",
                    "Each line of a JSON Lines file must be one complete object, e.g. {\"step\": 100, \"loss\": 3.2}.");
            }
        }
        if (rowsSeen == 0)
            throw new CurveFormatException(file, 0, null, "the file is empty",
                "A JSON Lines curve has one object per logged step, e.g. {\"step\": 100, \"lr\": 3e-4, \"loss\": 3.2}.");

        var notes = new List<FormattableString>();
        var map = CurveColumns.Resolve(keys, options, file, firstLine, "keys", notes, stepRequired: true);
        var roleOfKey = new int[keys.Count];
        Array.Fill(roleOfKey, -1);
        for (int r = 0; r < CurveColumns.RoleCount; r++) if (map[r] >= 0) roleOfKey[map[r]] = r;
        string stepKey = keys[map[0]];

        // Pass 2: values. One pending row is held so a following row at the same step can merge into it.
        var rows = new CurveRows(file, map, rowsSeen);
        var pend = new double[CurveColumns.RoleCount];
        var cur = new double[CurveColumns.RoleCount];
        long pendStep = -1;
        int pendLine = 0, dropped = 0, droppedLine = 0;
        long droppedStep = 0;
        bool pending = false;
        var prefixes = new List<string>();

        void Flush()
        {
            if (!pending) return;
            if (double.IsNaN(pend[(int)CurveRole.Loss]))
            {
                if (dropped++ == 0) { droppedLine = pendLine; droppedStep = pendStep; }
            }
            else
            {
                rows.Begin(pendStep, pendLine, stepKey);
                for (int r = 1; r < CurveColumns.RoleCount; r++) if (map[r] >= 0) rows.Set((CurveRole)r, pend[r]);
            }
            pending = false;
        }

        foreach (var (line, no) in Lines(data))
        {
            cur.AsSpan().Fill(double.NaN);
            long step = -1;
            bool hasStep = false;
            var r = new Utf8JsonReader(Sanitized(line), ReaderOptions);
            r.Read();
            prefixes.Clear();
            string prefix = "";
            while (r.Read())
            {
                if (r.TokenType == JsonTokenType.EndObject)
                {
                    if (prefixes.Count == 0) break;
                    prefix = prefixes[^1];
                    prefixes.RemoveAt(prefixes.Count - 1);
                    continue;
                }
                if (r.TokenType != JsonTokenType.PropertyName) continue;
                int k = -1;
                string? nested = null;
                var nameSpan = r.ValueSpan;
                string? escaped = r.ValueIsEscaped ? r.GetString() : null;
                if (prefix.Length == 0)
                {
                    for (int i = 0; i < keyBytes.Count && k < 0; i++) if (keyBytes[i] is { } kb && r.ValueTextEquals(kb)) k = i;
                }
                else
                {
                    nested = prefix + "/" + (escaped ?? Encoding.UTF8.GetString(nameSpan));
                    k = keys.IndexOf(nested);
                }
                r.Read();
                if (r.TokenType == JsonTokenType.StartObject)
                {
                    // Nested objects flatten to "outer/inner" keys; the name is decoded only here.
                    prefixes.Add(prefix);
                    prefix = nested ?? escaped ?? Encoding.UTF8.GetString(nameSpan);
                    continue;
                }
                if (r.TokenType == JsonTokenType.StartArray) { r.Skip(); continue; }
                if (k < 0 || roleOfKey[k] < 0 || r.TokenType == JsonTokenType.Null) continue;
                int role = roleOfKey[k];
                if (role == 0) { step = Step(ref r, file, no, stepKey); hasStep = true; continue; }
                var (v, text) = Number(ref r, file, no, keys[k]);
                cur[role] = CurveRows.Check((CurveRole)role, v, false, file, no, keys[k], text, hasStep ? step : null);
            }
            // A row without a step (e.g. a final summary object) carries no curve point.
            if (!hasStep) continue;
            if (pending && step == pendStep)
            {
                for (int i = 1; i < CurveColumns.RoleCount; i++)
                {
                    if (double.IsNaN(cur[i])) continue;
                    if (!double.IsNaN(pend[i]))
                        throw new CurveFormatException(file, no, stepKey,
                            $"step {step} repeats the step on line {pendLine} with another {CurveColumns.RoleName((CurveRole)i)} value",
                            "Keep one value per step: remove the duplicate rows (e.g. from a resumed run).");
                    pend[i] = cur[i];
                }
                continue;
            }
            if (pending && step < pendStep)
                throw new CurveFormatException(file, no, stepKey, $"step {step} comes after step {pendStep} on line {pendLine}; steps must be strictly increasing",
                    "Keep one row per step in increasing order: remove the duplicate (e.g. from a resumed run) or sort the file by step.");
            Flush();
            if (step < 0)
                throw new CurveFormatException(file, no, stepKey, $"step {step} is negative", "Steps count optimizer updates from 0; fix or remove the row.");
            (pend, cur) = (cur, pend);
            pendStep = step;
            pendLine = no;
            pending = true;
        }
        Flush();
        if (rows.Count == 0)
            throw new CurveFormatException(file, 0, null,
                $"no row has both a step and a training loss. Check the key names ({CurveColumns.AcceptedNames(CurveRole.Loss)} for the loss) or name the keys with {CurveColumns.ColumnOption(CurveRole.Step)} and {CurveColumns.ColumnOption(CurveRole.Loss)}.");
        if (dropped > 0)
            warnings.Add($"{file}: {dropped} row(s) without a training loss were skipped (first: line {droppedLine}, step {droppedStep}); their other values (e.g. validation loss) are not in the curve");
        return rows.Build(name, file, warnings) with { NoteTexts = notes, Format = "JSON Lines" };
    }

    /// <summary>
    /// A last line without a line end that is not a complete JSON object: a writer still running (or killed)
    /// cut it. It is left out with a warning; the bytes to keep and the warning, or null.
    /// </summary>
    private static (int Keep, string Warning)? CutLastLine(ReadOnlySpan<byte> data, string file)
    {
        if (data.IsEmpty || data[^1] == (byte)'\n') return null;
        int nl = data.LastIndexOf((byte)'\n');
        var last = data[(nl + 1)..].Trim(" \t\r"u8);
        if (last.IsEmpty || last[0] == (byte)'#') return null;
        try
        {
            var r = new Utf8JsonReader(Sanitized(last), ReaderOptions);
            if (r.Read() && r.TokenType == JsonTokenType.StartObject && r.TrySkip() && !r.Read()) return null;
        }
        catch (JsonException) { }
        int lineNo = data[..(nl + 1)].Count((byte)'\n') + 1;
        return (nl + 1, $"{file}:{lineNo}: the last line '{CurveText.Echo(last)}' has no line end and is not a complete JSON object (the log may still be being written): left out");
    }

    private static void CollectKeys(ref Utf8JsonReader r, string prefix, List<string> keys, List<byte[]?> keyBytes)
    {
        while (r.Read())
        {
            if (r.TokenType == JsonTokenType.EndObject) return;
            if (r.TokenType != JsonTokenType.PropertyName) continue;
            string? name = null;
            int known = -1;
            if (prefix.Length == 0)
                for (int i = 0; i < keyBytes.Count && known < 0; i++) if (keyBytes[i] is { } kb && r.ValueTextEquals(kb)) known = i;
            if (known < 0) name = (prefix.Length == 0 ? "" : prefix + "/") + r.GetString();
            r.Read();
            if (r.TokenType == JsonTokenType.StartObject) { CollectKeys(ref r, name ?? keys[known], keys, keyBytes); continue; }
            if (r.TokenType == JsonTokenType.StartArray) { r.Skip(); continue; }
            if (known >= 0 || keys.Contains(name!)) continue;
            keys.Add(name!);
            keyBytes.Add(prefix.Length == 0 ? Encoding.UTF8.GetBytes(name!) : null);
        }
    }

    private static LineEnumerable Lines(ReadOnlySpan<byte> data) => new(data);

    private ref struct LineEnumerable(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _pos;
        private int _no;
        public LineItem Current { get; private set; }
        public readonly LineEnumerable GetEnumerator() => this;

        public bool MoveNext()
        {
            while (_pos < _data.Length)
            {
                var rest = _data[_pos..];
                int nl = rest.IndexOf((byte)'\n');
                var line = nl < 0 ? rest : rest[..nl];
                _pos += nl < 0 ? rest.Length : nl + 1;
                _no++;
                line = line.Trim(" \t\r"u8);
                if (line.IsEmpty || line[0] == (byte)'#') continue;
                Current = new LineItem(line, _no);
                return true;
            }
            return false;
        }
    }

    private readonly ref struct LineItem(ReadOnlySpan<byte> line, int no)
    {
        private readonly ReadOnlySpan<byte> _line = line;
        private readonly int _no = no;

        public void Deconstruct(out ReadOnlySpan<byte> line, out int no) { line = _line; no = _no; }
    }

    private static ReadOnlySpan<byte> Sanitized(ReadOnlySpan<byte> line) =>
        line.IndexOf("NaN"u8) >= 0 || line.IndexOf("Infinity"u8) >= 0
            ? Encoding.UTF8.GetBytes(PythonJson.Sanitize(Encoding.UTF8.GetString(line)))
            : line;

    private static long Step(ref Utf8JsonReader r, string file, int line, string key)
    {
        if (r.TokenType == JsonTokenType.Number)
        {
            if (r.TryGetInt64(out var l)) return l;
            var d = r.GetDouble();
            if (d == Math.Floor(d) && Math.Abs(d) < 9e15) return (long)d;
        }
        else if (r.TokenType == JsonTokenType.String && Utf8Parser.TryParse(r.ValueSpan, out long s, out int used) && used == r.ValueSpan.Length) return s;
        throw new CurveFormatException(file, line, key, $"expected a whole step number, found {Raw(ref r)}. Fix the value or name the step key with {CurveColumns.ColumnOption(CurveRole.Step)}.");
    }

    private static (double, string) Number(ref Utf8JsonReader r, string file, int line, string key)
    {
        if (r.TokenType == JsonTokenType.Number && r.TryGetDouble(out var d)) return (d, "");
        if (r.TokenType == JsonTokenType.String)
        {
            var s = r.GetString() ?? "";
            if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out d) || NumberText.TryParseSpecial(s, out d)) return (d, s);
        }
        throw new CurveFormatException(file, line, key, $"expected a number, found {Raw(ref r)}", "Fix the value (use null where it was not logged).");
    }

    private static string Raw(ref Utf8JsonReader r) =>
        r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray ? r.TokenType.ToString() : CurveText.Echo(r.ValueSpan);

    private static string Short(string m) { int i = m.IndexOf(" LineNumber:", StringComparison.Ordinal); return (i > 0 ? m[..i] : m).TrimEnd('.', ' '); }
}
