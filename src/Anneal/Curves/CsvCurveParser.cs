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
internal static partial class CsvCurveParser
{
    /// <summary>Inputs at least this large are split at line ends and parsed on several cores.</summary>
    internal const int ParallelBytes = 1 << 20;

    private sealed record Layout(string File, List<string> Names, int[] Map, int[] RoleOf, byte Delim, int HeaderLine, string StepName);

    public static LossCurve Parse(ReadOnlyMemory<byte> memory, string file, string name, CurveReadOptions options)
    {
        var data = memory.Span;
        int bom = data.StartsWith("\uFEFF"u8) ? 3 : 0;
        data = data[bom..];
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
            throw new CurveFormatException(file, headerLine, null, $"the first line '{CurveText.Echo(line)}' is data, not a header",
                "Add a header line naming the columns, e.g. 'step,lr,loss'.");
        if (IsLong(names)) return ParseLong(memory, file, name, options);
        var notes = new List<FormattableString>();
        var map = CurveColumns.Resolve(names, options, file, headerLine, "columns", notes, stepRequired: true);
        var roleOf = new int[names.Count];
        Array.Fill(roleOf, -1);
        for (int r = 0; r < CurveColumns.RoleCount; r++) if (map[r] >= 0) roleOf[map[r]] = r;
        var layout = new Layout(file, names, map, roleOf, delim, headerLine, names[map[0]]);

        var rest = memory[(bom + pos)..];
        var warnings = new List<string>();
        if (CutLastLine(rest.Span, delim, names.Count, headerLine, file) is { } cut)
        {
            rest = rest[..cut.Keep];
            warnings.Add(cut.Warning);
        }
        int chunks = Math.Min(Math.Min(Environment.ProcessorCount, 8), rest.Length / (ParallelBytes / 2));
        CurveRows rows;
        if (chunks < 2) rows = ParseRows(rest.Span, headerLine, layout);
        else
        {
            // Cut at line ends; each chunk knows its first line number, so messages stay exact.
            var starts = new int[chunks + 1];
            starts[chunks] = rest.Length;
            for (int i = 1; i < chunks; i++)
            {
                int guess = Math.Max(starts[i - 1], (int)((long)rest.Length * i / chunks));
                int nl = rest.Span[guess..].IndexOf((byte)'\n');
                starts[i] = nl < 0 ? rest.Length : guess + nl + 1;
            }
            var lineBefore = new int[chunks];
            lineBefore[0] = headerLine;
            for (int i = 1; i < chunks; i++) lineBefore[i] = lineBefore[i - 1] + rest.Span[starts[i - 1]..starts[i]].Count((byte)'\n');
            var parts = new CurveRows?[chunks];
            var errors = new CurveFormatException?[chunks];
            Parallel.For(0, chunks, i =>
            {
                try { parts[i] = ParseRows(rest.Span[starts[i]..starts[i + 1]], lineBefore[i], layout); }
                catch (CurveFormatException e) { errors[i] = e; }
            });
            // Report the first problem in file order, including steps that go backwards across a cut.
            CurveRows? prev = null;
            for (int i = 0; i < chunks; i++)
            {
                if (prev is not null && prev.Count > 0 && parts[i] is { Count: > 0 } p && (errors[i] is null || errors[i]!.Line > p.LineOf(0)))
                    p.CheckFollows(prev);
                if (errors[i] is { } e) throw e;
                if (parts[i]!.Count > 0) prev = parts[i];
            }
            rows = CurveRows.Concat(parts!, file, map);
        }
        if (rows.Count == 0)
            throw new CurveFormatException(file, headerLine, null, "the file has a header but no data rows",
                "Add one row per logged step below the header (or check that the run actually logged anything).");
        return rows.Build(name, file, warnings) with { NoteTexts = notes, Format = "CSV" };
    }

    /// <summary>
    /// A last line without a line end that looks cut off by a writer still running (or killed): fewer cells
    /// than the header, an empty last cell, or a number ending in '.', 'e', '+' or '-' (<c>500,3e-4,3.</c>).
    /// Such a line is left out with a warning rather than read as 3; a complete last line without a line end
    /// (a file saved by hand) is read as usual. Returns the bytes to keep and the warning, or null.
    /// </summary>
    private static (int Keep, string Warning)? CutLastLine(ReadOnlySpan<byte> rest, byte delim, int columns, int headerLine, string file)
    {
        if (rest.IsEmpty || rest[^1] == (byte)'\n') return null;
        int nl = rest.LastIndexOf((byte)'\n');
        var last = rest[(nl + 1)..];
        if (!last.IsEmpty && last[^1] == (byte)'\r') last = last[..^1];
        if (IsSkippable(last)) return null;
        int fields = 0, fp = 0;
        bool cut = false;
        while (NextField(last, ref fp, delim, out var f))
        {
            fields++;
            var c = Trim(f);
            if (c.IsEmpty ? fields == columns : c[^1] is (byte)'.' or (byte)'e' or (byte)'E' or (byte)'+' or (byte)'-') cut = true;
        }
        if (!cut && fields >= columns) return null;
        int lineNo = headerLine + rest[..(nl + 1)].Count((byte)'\n') + 1;
        return (nl + 1, $"{file}:{lineNo}: the last line '{CurveText.Echo(last)}' has no line end and looks cut off (the log may still be being written): left out");
    }

    private static CurveRows ParseRows(ReadOnlySpan<byte> data, int lineBefore, Layout h)
    {
        // Exact when there are no blank or comment lines, so Build need not copy the arrays.
        int capacity = data.Count((byte)'\n') + (data.IsEmpty || data[^1] == (byte)'\n' ? 0 : 1);
        var rows = new CurveRows(h.File, h.Map, capacity);
        var names = h.Names;
        var roleOf = h.RoleOf;
        var map = h.Map;
        string file = h.File;
        Span<double> values = stackalloc double[CurveColumns.RoleCount];
        int pos = 0, lineNo = lineBefore;
        while (NextLine(data, ref pos, ref lineNo, out var line))
        {
            if (IsSkippable(line)) continue;
            int col = 0, fp = 0;
            long step = 0;
            while (NextField(line, ref fp, h.Delim, out var f))
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
                        // Only a blank loss or a non-finite/negative value needs the rule check (which builds strings).
                        if ((blank && role == (int)CurveRole.Loss) || (!blank && (!double.IsFinite(v) || v < 0)))
                            v = CurveRows.Check((CurveRole)role, v, blank, file, lineNo, names[col], CurveText.Echo(cell), map[0] < col ? step : null);
                        values[role] = v;
                    }
                }
                col++;
            }
            if (col != names.Count)
                throw new CurveFormatException(file, lineNo, null,
                    $"this row has {col} field{(col == 1 ? "" : "s")} but the header on line {h.HeaderLine} has {names.Count} ({string.Join(", ", names.Take(40).Select(CurveText.Echo))})",
                    "Every row needs one cell per header column (leave a cell empty for a missing value: 'a,,c').");
            rows.Begin(step, lineNo, h.StepName);
            for (int r = 1; r < CurveColumns.RoleCount; r++)
                if (map[r] >= 0) rows.Set((CurveRole)r, values[r]);
        }
        return rows;
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
        throw new CurveFormatException(file, line, column,
            $"expected a whole step number, found '{CurveText.Echo(cell)}'. Fix the cell, or name the right step column with {CurveColumns.ColumnOption(CurveRole.Step)}.");
    }

    private static double ParseNumber(ReadOnlySpan<byte> cell, string file, int line, string column)
    {
        if (NumberText.TryParseShort(cell, out var fast)) return fast;
        if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return v;
        if (NumberText.TryParseSpecial(Encoding.UTF8.GetString(cell), out v)) return v;
        throw new CurveFormatException(file, line, column, $"expected a number, found '{CurveText.Echo(cell)}'",
            "Fix the cell (numbers use '.' as the decimal point) or leave it empty if the value was not logged.");
    }
}

/// <summary>Number spellings: a fast path for short decimals, and NaN/infinity as loggers write them.</summary>
internal static class NumberText
{
    private static readonly double[] Pow10 =
        [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

    /// <summary>
    /// Clinger's fast path (Clinger 1990, "How to read floating point numbers accurately"): a
    /// decimal with at most 15 significant digits w and a power of ten |e| &lt;= 22 is exactly
    /// <c>w * 10^e</c> (or <c>w / 10^-e</c>) in one correctly rounded IEEE operation, because w
    /// and 10^|e| are both exact doubles. Logged losses and LRs (<c>3.5563</c>, <c>3e-4</c>) are
    /// mostly of this kind; anything else returns false and goes to <see cref="double.TryParse(ReadOnlySpan{byte}, System.Globalization.NumberStyles, IFormatProvider?, out double)"/>.
    /// </summary>
    public static bool TryParseShort(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        int i = 0, n = s.Length;
        if (n == 0 || n > 32) return false;
        bool neg = s[0] == (byte)'-';
        if (neg || s[0] == (byte)'+') i++;
        ulong w = 0;
        int digits = 0, exp = 0;
        bool any = false;
        for (; i < n && (uint)(s[i] - '0') <= 9; i++)
        {
            any = true;
            if (w == 0 && s[i] == (byte)'0') continue;
            if (++digits > 15) return false;
            w = w * 10 + (uint)(s[i] - '0');
        }
        if (i < n && s[i] == (byte)'.')
        {
            for (i++; i < n && (uint)(s[i] - '0') <= 9; i++)
            {
                any = true;
                exp--;
                if (w == 0 && s[i] == (byte)'0') continue;
                if (++digits > 15) return false;
                w = w * 10 + (uint)(s[i] - '0');
            }
        }
        if (!any) return false;
        if (i < n && (s[i] | 0x20) == (byte)'e')
        {
            i++;
            bool eneg = i < n && s[i] == (byte)'-';
            if (i < n && (s[i] == (byte)'-' || s[i] == (byte)'+')) i++;
            int e = 0, ed = 0;
            for (; i < n && (uint)(s[i] - '0') <= 9; i++, ed++) if (e < 100_000) e = e * 10 + (s[i] - '0');
            if (ed == 0) return false;
            exp += eneg ? -e : e;
        }
        if (i != n) return false;
        if (w == 0) { value = neg ? -0.0 : 0.0; return true; }
        if (exp < -22 || exp > 22) return false;
        double d = exp < 0 ? w / Pow10[-exp] : w * Pow10[exp];
        value = neg ? -d : d;
        return true;
    }

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
