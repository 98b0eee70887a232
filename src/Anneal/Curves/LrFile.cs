using System.Globalization;

namespace Anneal.Curves;

/// <summary>
/// A learning-rate schedule given as numbers rather than a spec: a CSV file with a step column and
/// an LR column (the usual names, e.g. <c>step,lr</c> or <c>global_step,learning_rate</c>; other
/// columns are ignored), as exported from a trainer or a notebook. Steps must increase; steps that
/// are missing between two rows are filled by <see cref="LrExpansion"/> (linear interpolation, with
/// a warning). Used to predict a schedule that no spec describes.
/// </summary>
public static class LrFile
{
    /// <summary>Per-step LR for steps 0..<paramref name="lastStep"/> (default: the file's last step).</summary>
    public static ExpandedLr Read(string path, long? lastStep = null)
    {
        if (!File.Exists(path)) throw new CurveFormatException($"{path}: file not found");
        var steps = new List<long>(); var lr = new List<double>();
        int line = 0, stepCol = -1, lrCol = -1, width = 0;
        foreach (var raw in File.ReadLines(path))
        {
            line++;
            var text = raw.Trim();
            if (text.Length == 0 || text.StartsWith('#')) continue;
            var cells = text.Split(',');
            if (stepCol < 0)
            {
                stepCol = CurveColumns.Find(cells, CurveRole.Step);
                lrCol = CurveColumns.Find(cells, CurveRole.Lr);
                if (stepCol < 0 || lrCol < 0)
                    throw new CurveFormatException(path, line, null,
                        $"the header needs a step column and a learning-rate column; found: {string.Join(", ", cells.Select(c => "'" + c.Trim() + "'"))}",
                        $"Name them step and lr (accepted for the LR: {CurveColumns.AcceptedNames(CurveRole.Lr)}).");
                width = cells.Length;
                continue;
            }
            if (cells.Length != width)
                throw new CurveFormatException(path, line, null, $"{cells.Length} fields where the header has {width}", "Give every row the same number of comma-separated fields.");
            if (!double.TryParse(cells[stepCol], NumberStyles.Float, CultureInfo.InvariantCulture, out var st) || st < 0 || st != Math.Floor(st) || st > int.MaxValue - 2)
                throw new CurveFormatException(path, line, "step", $"'{cells[stepCol].Trim()}' is not a whole step number >= 0", "Write steps as whole numbers.");
            if (!double.TryParse(cells[lrCol], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v) || v < 0)
                throw new CurveFormatException(path, line, "lr", $"'{cells[lrCol].Trim()}' is not a finite learning rate >= 0", "Write the learning rate as a number such as 3e-4.");
            if (steps.Count > 0 && (long)st <= steps[^1])
                throw new CurveFormatException(path, line, "step", $"step {(long)st} does not increase (previous row: {steps[^1]})", "Sort the rows by step and remove duplicates.");
            steps.Add((long)st); lr.Add(v);
        }
        if (steps.Count == 0) throw new CurveFormatException($"{path}: no learning-rate rows; write a header 'step,lr' and one row per step");
        var curve = new LossCurve { Name = Path.GetFileNameWithoutExtension(path), Steps = steps.ToArray(), Lr = lr.ToArray(), SourceFile = path };
        return LrExpansion.Expand(curve, lastStep);
    }
}
