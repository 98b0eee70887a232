using System.Globalization;
using System.Text;
using Anneal.Curves.Logs;

namespace Anneal.Curves;

/// <summary>
/// The two CSV layouts that are not one row per step: sparse tables whose rows each log some metrics
/// (Lightning's CSVLogger writes training, validation and epoch rows apart with blank cells; W&amp;B history
/// exports likewise), merged by step, and long tables with one value per row (<c>key,value,step</c>, MLflow's
/// metric history), pivoted by key. Both become a <see cref="MetricLog"/>.
/// </summary>
internal static partial class CsvCurveParser
{
    private static readonly string[] KeyNames = ["key", "metric", "metric_name", "name", "tag"];

    /// <summary>The header of a long table: a key column and a value column, and no usual loss column.</summary>
    internal static bool IsLong(IReadOnlyList<string> names)
    {
        var n = names.Select(CurveColumns.Normalize).ToList();
        return n.Contains("value") && KeyNames.Any(n.Contains) && CurveColumns.Find(names, CurveRole.Loss) < 0;
    }

    /// <summary>Header names, the delimiter and the header's line number, or null for an empty file.</summary>
    private static (List<string> Names, byte Delim, int HeaderLine, int Pos)? Header(ReadOnlySpan<byte> data)
    {
        int pos = 0, lineNo = 0;
        while (NextLine(data, ref pos, ref lineNo, out var line))
        {
            if (IsSkippable(line)) continue;
            byte delim = line.Contains((byte)',') ? (byte)',' : line.Contains((byte)'\t') ? (byte)'\t' : line.Contains((byte)';') ? (byte)';' : (byte)',';
            var names = new List<string>();
            int fp = 0;
            while (NextField(line, ref fp, delim, out var f)) names.Add(Unquote(Encoding.UTF8.GetString(Trim(f))));
            return (names, delim, lineNo, pos);
        }
        return null;
    }

    /// <summary>Every data row's cells (trimmed, unquoted), with its line number.</summary>
    private static IEnumerable<(int Line, string[] Cells)> Rows(ReadOnlyMemory<byte> memory, int pos, int lineNo, byte delim)
    {
        while (true)
        {
            string[]? cells = null;
            int at;
            {
                var data = memory.Span;
                if (!NextLine(data, ref pos, ref lineNo, out var line)) yield break;
                at = lineNo;
                if (!IsSkippable(line))
                {
                    var list = new List<string>();
                    int fp = 0;
                    while (NextField(line, ref fp, delim, out var f)) list.Add(Unquote(Encoding.UTF8.GetString(Trim(f))));
                    cells = list.ToArray();
                }
            }
            if (cells is not null) yield return (at, cells);
        }
    }

    /// <summary>
    /// Reads a sparse table: each row's non-blank cells are values at its step; rows sharing a step merge, so
    /// a validation row and an epoch row at step 99 join the training row of step 99. A metric logged twice at
    /// one step with different values, or a step going backwards, is an error naming both lines.
    /// </summary>
    internal static LossCurve ParseSparse(ReadOnlyMemory<byte> memory, string file, string name, CurveReadOptions options, string format)
    {
        int bom = memory.Span.StartsWith("\uFEFF"u8) ? 3 : 0;
        memory = memory[bom..];
        var (names, delim, headerLine, pos) = Header(memory.Span)!.Value;
        var notes = new List<FormattableString>();
        var map = CurveColumns.Resolve(names, options, file, headerLine);
        int stepCol = map[(int)CurveRole.Step];
        if (CurveColumns.StepNote(names, stepCol, options, file) is { } note) notes.Add(note);
        var log = new MetricLog(file, format, "line");
        log.Notes.AddRange(notes);
        var series = names.Select((n, i) => i == stepCol ? null : log.Get(n)).ToArray();
        long lastStep = long.MinValue;
        int lastStepLine = 0, skipped = 0, firstSkipped = 0;
        var rowSteps = new List<(int Line, long Step)>();
        foreach (var (line, cells) in Rows(memory, pos, headerLine, delim))
        {
            if (cells.Length != names.Count)
                throw new CurveFormatException(file, line, null,
                    $"this row has {cells.Length} field{(cells.Length == 1 ? "" : "s")} but the header on line {headerLine} has {names.Count} ({string.Join(", ", names.Take(40).Select(CurveText.Echo))})",
                    "Every row needs one cell per header column (leave a cell empty for a missing value: 'a,,c').");
            var sc = cells[stepCol];
            if (sc.Length == 0 || IsMissing(sc))
            {
                // W&B rows that log only system metrics have no trainer step: they carry no curve point
                if (skipped++ == 0) firstSkipped = line;
                continue;
            }
            long step = ParseStep(Encoding.UTF8.GetBytes(sc), file, line, names[stepCol]);
            if (step < lastStep)
                throw new CurveFormatException(file, line, names[stepCol], $"step {step} comes after step {lastStep} on line {lastStepLine}; steps must be strictly increasing",
                    "Keep the rows in increasing step order (rows of one step may repeat it): remove the rows of a resumed run or sort the file by step.");
            lastStep = step;
            lastStepLine = line;
            rowSteps.Add((line, step));
            for (int c = 0; c < cells.Length; c++)
            {
                if (series[c] is not { } s || cells[c].Length == 0 || IsMissing(cells[c])) continue;
                double v;
                if (!NumberText.TryParseShort(Encoding.ASCII.GetBytes(cells[c]), out v) && !double.TryParse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture, out v) && !NumberText.TryParseSpecial(cells[c], out v))
                {
                    // text in a column that is no curve role (a run name, a phase label) is not a metric
                    if (Array.IndexOf(map, c) > 0)
                        throw new CurveFormatException(file, line, names[c], $"expected a number, found '{CurveText.Echo(cells[c])}'",
                            "Fix the cell (numbers use '.' as the decimal point) or leave it empty if the value was not logged.");
                    continue;
                }
                if (s.Count > 0 && s.Steps[^1] == step)
                {
                    // bookkeeping columns (W&B's _runtime, _timestamp) change between rows of one step: keep the first
                    if (s.Values[^1].Equals(v) || Array.IndexOf(map, c) <= 0) continue;
                    throw new CurveFormatException(file, line, names[c],
                        $"step {step} repeats the step on line {s.Where[^1]} with another value ({CurveText.Echo(cells[c])} after {s.Values[^1].ToString(CultureInfo.InvariantCulture)})",
                        "Keep one value per metric and step: remove the duplicate rows (e.g. from a resumed run).");
                }
                s.Add(step, v, line);
            }
        }
        // rows that logged values but no training loss at their step: their values have no row to go to
        int lossCol = map[(int)CurveRole.Loss];
        var lossSteps = series[lossCol]!.Steps.ToHashSet();
        var orphan = rowSteps.Where(p => !lossSteps.Contains(p.Step)).ToList();
        if (orphan.Count > 0)
            log.Warnings.Add($"{file}: {orphan.Count} row(s) at steps without a value in the loss column '{CurveText.Echo(names[lossCol])}' were skipped (first: line {orphan[0].Line}, step {orphan[0].Step}); their other values are not in the curve");
        if (skipped > 0) log.Notes.Add($"{file}: {skipped} row(s) without a step in '{names[stepCol]}' were skipped (first: line {firstSkipped})");
        if (log.Series.All(s => s.Count == 0))
            throw new CurveFormatException(file, headerLine, null, "the file has a header but no data rows",
                "Add one row per logged step below the header (or check that the run actually logged anything).");
        return log.ToCurve(options with { StepColumn = null }, name);
    }

    private static bool IsMissing(string cell) =>
        cell.Length is >= 2 and <= 4 && (cell.Equals("na", StringComparison.OrdinalIgnoreCase) || cell.Equals("none", StringComparison.OrdinalIgnoreCase) || cell.Equals("null", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Reads a long table, one value per row: a key column (key, metric, name or tag), a value column and a step
    /// column (MLflow's metric history; many trackers export this shape). A run-id column with more than one
    /// run is an error listing them.
    /// </summary>
    internal static LossCurve ParseLong(ReadOnlyMemory<byte> memory, string file, string name, CurveReadOptions options)
    {
        int bom = memory.Span.StartsWith("\uFEFF"u8) ? 3 : 0;
        memory = memory[bom..];
        var (names, delim, headerLine, pos) = Header(memory.Span)!.Value;
        var norm = names.Select(CurveColumns.Normalize).ToList();
        int keyCol = KeyNames.Select(k => norm.IndexOf(k)).First(i => i >= 0);
        int valCol = norm.IndexOf("value");
        int stepCol = options.StepColumn is { } want ? names.FindIndex(n => string.Equals(n, want, StringComparison.OrdinalIgnoreCase)) : norm.IndexOf("step");
        if (stepCol < 0)
        {
            var problem = options.StepColumn is null ? $"a long table (one '{names[keyCol]}' and '{names[valCol]}' per row) needs a 'step' column; found columns: {string.Join(", ", names.Select(n => "'" + CurveText.Echo(n) + "'"))}"
                : $"the step column was set to '{CurveText.Echo(options.StepColumn)}' but there is no such column";
            throw new CurveFormatException(file, headerLine, null, $"{problem}. Add the step of each value (option {CurveColumns.ColumnOption(CurveRole.Step)} names another column).");
        }
        int runCol = new[] { "run_id", "run", "run_uuid" }.Select(k => norm.IndexOf(k)).FirstOrDefault(i => i >= 0, -1);
        var log = new MetricLog(file, "long CSV (key,value,step)", "line");
        string? run = null;
        var runs = new List<string>();
        foreach (var (line, cells) in Rows(memory, pos, headerLine, delim))
        {
            if (cells.Length != names.Count)
                throw new CurveFormatException(file, line, null, $"this row has {cells.Length} fields but the header on line {headerLine} has {names.Count}",
                    "Every row needs one cell per header column.");
            if (runCol >= 0)
            {
                if (!runs.Contains(cells[runCol])) runs.Add(cells[runCol]);
                run ??= cells[runCol];
                // the rows of other runs are only counted: the error below lists every run
                if (cells[runCol] != run) continue;
            }
            long step = ParseStep(Encoding.UTF8.GetBytes(cells[stepCol]), file, line, names[stepCol]);
            double v = ParseNumber(Encoding.UTF8.GetBytes(cells[valCol]), file, line, names[valCol]);
            var s = log.Get(cells[keyCol]);
            if (s.Count > 0 && s.Steps[^1] >= step)
            {
                if (s.Steps[^1] == step && s.Values[^1].Equals(v)) continue;
                throw new CurveFormatException(file, line, names[stepCol],
                    $"'{CurveText.Echo(cells[keyCol])}' at step {step} comes after its value at step {s.Steps[^1]} on line {s.Where[^1]}; each metric's steps must be strictly increasing",
                    "Sort the rows by key and step, and remove repeated rows (e.g. from a resumed run).");
            }
            s.Add(step, v, line);
        }
        if (runs.Count > 1)
            throw new CurveFormatException(file, 0, names[runCol], $"holds {runs.Count} runs ({string.Join(", ", runs.Take(10).Select(CurveText.Echo))}{(runs.Count > 10 ? ", ..." : "")})",
                "Keep the rows of one run (e.g. grep its id into a file of its own) and read that.");
        if (log.Series.Count == 0)
            throw new CurveFormatException(file, headerLine, null, "the file has a header but no data rows", "Add one row per logged value below the header.");
        return log.ToCurve(options with { StepColumn = null }, name);
    }
}
