using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Anneal.Curves;

/// <summary>
/// Span-based reader for delimited curve files (comma, tab or semicolon, detected from the
/// header). Works on the raw UTF-8 bytes: only the header and error messages become strings, so
/// a 100k-row file costs the numeric parsing and nothing else. Blank lines and lines starting
/// with '#' are skipped; simple double-quoted fields are accepted.
/// </summary>
internal static class CsvCurveParser
{
    public static LossCurve Parse(ReadOnlySpan<byte> data, string file, string name, CurveReadOptions options)
    {
        if (data.StartsWith("\uFEFF"u8)) data = data[3..];
        int pos = 0, lineNo = 0;
        ReadOnlySpan<byte> line = default;
        bool found = false;
        while (NextLine(data, ref pos, ref lineNo, out line))
            if (!IsSkippable(line)) { found = true; break; }
        if (!found)
            throw new CurveFormatException(file, 0, null, "the file is empty",
                "A curve file needs a header line such as 'step,lr,loss' followed by one row per logged step.");

        int headerLine = lineNo;
        byte delim = line.Contains((byte)',') ? (byte)',' : line.Contains((byte)'\t') ? (byte)'\t' : line.Contains((byte)';') ? (byte)';' : (byte)',';
        var names = new List<string>();
        int fp = 0;
        while (NextField(line, ref fp, delim, out var f))
            names.Add(Unquote(Encoding.UTF8.GetString(Trim(f))));
        if (names.All(n => double.TryParse(n, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            throw new CurveFormatException(file, headerLine, null, $"the first line '{Encoding.UTF8.GetString(line)}' is data, not a header",
                "Add a header line naming the columns, e.g. 'step,lr,loss'.");
        var map = CurveColumns.Resolve(names, options, file, headerLine);
        var roleOf = new int[names.Count];
        Array.Fill(roleOf, -1);
        for (int r = 0; r < CurveColumns.RoleCount; r++) if (map[r] >= 0) roleOf[map[r]] = r;

        var rest = data[pos..];
        var rows = new CurveRows(file, map, rest.Count((byte)'\n') + 1);
        string stepName = names[map[0]];
        Span<double> values = stackalloc double[CurveColumns.RoleCount];

        while (NextLine(data, ref pos, ref lineNo, out line))
        {
            if (IsSkippable(line)) continue;
            int col = 0;
            fp = 0;
            long step = 0;
            while (NextField(line, ref fp, delim, out var f))
            {
                if (col < roleOf.Length && roleOf[col] is var role and >= 0)
                {
                    var cell = Trim(f);
                    if (cell.Length > 0 && cell[0] == (byte)'"') cell = Trim(cell.Trim((byte)'"'));
                    if (role == 0) step = ParseStep(cell, file, lineNo, names[col]);
                    else
                    {
                        bool blank = cell.IsEmpty || IsMissingWord(cell);
                        double v = blank ? double.NaN : ParseNumber(cell, file, lineNo, names[col]);
                        // Only non-finite or blank values need the (string-building) rule check on the fast path.
                        if (blank || !double.IsFinite(v) || v < 0)
                            v = CurveRows.Check((CurveRole)role, v, blank, file, lineNo, names[col], Encoding.UTF8.GetString(cell));
                        values[role] = v;
                    }
                }
                col++;
            }
            if (col != names.Count)
                throw new CurveFormatException(file, lineNo, null,
                    $"this row has {col} field{(col == 1 ? "" : "s")} but the header on line {headerLine} has {names.Count} ({string.Join(", ", names)})",
                    "Every row needs one cell per header column (leave a cell empty for a missing value: 'a,,c').");
            rows.Begin(step, lineNo, stepName);
            for (int r = 1; r < CurveColumns.RoleCount; r++)
                if (map[r] >= 0) rows.Set((CurveRole)r, values[r]);
        }
        if (rows.Count == 0)
            throw new CurveFormatException(file, headerLine, null, "the file has a header but no data rows",
                "Add one row per logged step below the header (or check that the run actually logged anything).");
        return rows.Build(name, file);
    }

    /// <summary>Words loggers write for "not logged on this row" (pandas NA, Python None, JSON null).</summary>
    private static bool IsMissingWord(ReadOnlySpan<byte> cell) =>
        cell.Length is >= 2 and <= 4 && (cell[0] | 0x20) is (byte)'n' &&
        (Ascii.EqualsIgnoreCase(cell, "na"u8) || Ascii.EqualsIgnoreCase(cell, "none"u8) || Ascii.EqualsIgnoreCase(cell, "null"u8));

    private static bool IsSkippable(ReadOnlySpan<byte> line)
    {
        var t = Trim(line);
        return t.IsEmpty || t[0] == (byte)'#';
    }

    private static bool NextLine(ReadOnlySpan<byte> data, scoped ref int pos, scoped ref int lineNo, out ReadOnlySpan<byte> line)
    {
        if (pos >= data.Length) { line = default; return false; }
        var rest = data[pos..];
        int nl = rest.IndexOf((byte)'\n');
        line = nl < 0 ? rest : rest[..nl];
        pos += nl < 0 ? rest.Length : nl + 1;
        if (!line.IsEmpty && line[^1] == (byte)'\r') line = line[..^1];
        lineNo++;
        return true;
    }

    /// <summary>Next field of a line; quoted fields may contain the delimiter.</summary>
    private static bool NextField(ReadOnlySpan<byte> line, scoped ref int pos, byte delim, out ReadOnlySpan<byte> field)
    {
        if (pos > line.Length) { field = default; return false; }
        var rest = line[pos..];
        int start = 0;
        while (start < rest.Length && rest[start] == (byte)' ') start++;
        int end;
        if (start < rest.Length && rest[start] == (byte)'"')
        {
            int q = start + 1;
            while (q < rest.Length)
            {
                if (rest[q] == (byte)'"') { if (q + 1 < rest.Length && rest[q + 1] == (byte)'"') { q += 2; continue; } break; }
                q++;
            }
            int d = q < rest.Length ? rest[q..].IndexOf(delim) : -1;
            end = d < 0 ? rest.Length : q + d;
        }
        else
        {
            int d = rest.IndexOf(delim);
            end = d < 0 ? rest.Length : d;
        }
        field = rest[..end];
        pos += end + 1;
        return true;
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> s) => s.Trim((byte)' ').Trim((byte)'\t');

    private static string Unquote(string s) =>
        s.Length >= 2 && s[0] == '"' && s[^1] == '"' ? s[1..^1].Replace("\"\"", "\"").Trim() : s.Trim();

    private static long ParseStep(ReadOnlySpan<byte> cell, string file, int line, string column)
    {
        if (cell.IsEmpty)
            throw new CurveFormatException(file, line, column, "the step is blank", "Every row needs its optimizer step; fill the cell or remove the row.");
        if (Utf8Parser.TryParse(cell, out long v, out int used) && used == cell.Length) return v;
        // Some loggers write steps as floats ("128.0", "1.28e3"); accept those when integral.
        if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) && d == Math.Floor(d) && Math.Abs(d) < 9e15)
            return (long)d;
        throw new CurveFormatException(file, line, column, $"expected a whole step number, found '{Encoding.UTF8.GetString(cell)}'",
            "Fix the cell, or name the right step column with --step-col.");
    }

    private static double ParseNumber(ReadOnlySpan<byte> cell, string file, int line, string column)
    {
        if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return v;
        if (NumberText.TryParseSpecial(Encoding.UTF8.GetString(cell), out v)) return v;
        throw new CurveFormatException(file, line, column, $"expected a number, found '{Encoding.UTF8.GetString(cell)}'",
            "Fix the cell (numbers use '.' as the decimal point) or leave it empty if the value was not logged.");
    }
}

/// <summary>Spellings of NaN and infinity written by Python, NumPy, pandas and others.</summary>
internal static class NumberText
{
    public static bool TryParseSpecial(string text, out double value)
    {
        var t = text.Trim().ToLowerInvariant();
        value = t switch
        {
            "nan" or "-nan" or "+nan" => double.NaN,
            "inf" or "+inf" or "infinity" or "+infinity" => double.PositiveInfinity,
            "-inf" or "-infinity" => double.NegativeInfinity,
            _ => 0,
        };
        return t is "nan" or "-nan" or "+nan" or "inf" or "+inf" or "infinity" or "+infinity" or "-inf" or "-infinity";
    }
}
