using static Anneal.ParameterName;

namespace Anneal.Curves;

/// <summary>
/// Accumulates validated rows for one curve and builds the <see cref="LossCurve"/>. Shared by
/// every reader so all formats enforce the same rules with the same messages.
/// </summary>
internal sealed class CurveRows
{
    private readonly string _file;
    private readonly int[] _map;
    private long[] _steps;
    private int[] _lines;
    private readonly double[]?[] _cols = new double[]?[CurveColumns.RoleCount];
    private int _n;
    private string? _stepColumn;

    public CurveRows(string file, int[] map, int capacity)
    {
        _file = file;
        _map = map;
        capacity = Math.Max(capacity, 1);
        _steps = new long[capacity];
        _lines = new int[capacity];
        for (int r = 1; r < CurveColumns.RoleCount; r++)
            if (map[r] >= 0) _cols[r] = new double[capacity];
    }

    public int Count => _n;

    public bool Has(CurveRole r) => _map[(int)r] >= 0;

    public long LastStep => _n == 0 ? long.MinValue : _steps[_n - 1];

    /// <summary>Starts a row; the caller then sets the values with <see cref="Set"/>.</summary>
    public void Begin(long step, int line, string stepColumn)
    {
        _stepColumn = stepColumn;
        if (step < 0)
            throw new CurveFormatException(_file, line, stepColumn, $"step {step} is negative", "Steps count optimizer updates from 0; fix or remove the row.");
        if (_n > 0 && step <= _steps[_n - 1])
        {
            var prev = _steps[_n - 1];
            var problem = step == prev
                ? $"step {step} repeats the step on line {_lines[_n - 1]}"
                : $"step {step} comes after step {prev} on line {_lines[_n - 1]}; steps must be strictly increasing";
            throw new CurveFormatException(_file, line, stepColumn, problem,
                "Keep one row per step in increasing order: remove the duplicate (e.g. from a resumed run) or sort the file by step.")
            { SparseRow = step == prev };
        }
        if (_n == _steps.Length) Grow();
        _steps[_n] = step;
        _lines[_n] = line;
        for (int r = 1; r < CurveColumns.RoleCount; r++)
            if (_cols[r] is { } c) c[_n] = double.NaN;
        _n++;
    }

    /// <summary>Sets a value of the current row (already checked by <see cref="Check"/>).</summary>
    public void Set(CurveRole role, double value) => _cols[(int)role]![_n - 1] = value;

    public bool IsSet(CurveRole role) => _cols[(int)role] is { } c && !double.IsNaN(c[_n - 1]);

    /// <summary>Line of row <paramref name="i"/>.</summary>
    public int LineOf(int i) => _lines[i];

    private void Grow()
    {
        int cap = _steps.Length * 2;
        Array.Resize(ref _steps, cap);
        Array.Resize(ref _lines, cap);
        for (int r = 1; r < CurveColumns.RoleCount; r++)
            if (_cols[r] is { } c) { Array.Resize(ref c, cap); _cols[r] = c; }
    }

    /// <summary>
    /// The rules every value obeys. <paramref name="blank"/> means the cell was empty (not logged
    /// on this row), which is fine for every column except the loss. <c>step</c> is the row's step
    /// when already parsed (it names the divergence step in messages).
    /// </summary>
    public static double Check(CurveRole role, double v, bool blank, string file, int line, string column, string text, long? step = null)
    {
        switch (role)
        {
            case CurveRole.Loss:
                if (blank)
                    throw new CurveFormatException(file, line, column, "the training loss is blank",
                        "Every row needs a loss: remove rows that only log other metrics, or fill the cell.") { SparseRow = true };
                if (!double.IsFinite(v))
                    throw new CurveFormatException(file, line, column,
                        $"the training loss is '{CurveText.Echo(text)}' (not a finite number){(step is { } s ? $" at step {s}" : "")}. The run probably diverged here: read the rows before it with {Parameter("stop_at_nonfinite")}, or cut the file before this row.")
                    { NonFiniteLoss = true, Step = step };
                return v;
            case CurveRole.Lr:
                if (blank) return double.NaN;
                if (!double.IsFinite(v))
                    throw new CurveFormatException(file, line, column, $"the learning rate is '{CurveText.Echo(text)}' (not a finite number)",
                        "Leave the cell empty where the LR was not logged, or fix the value.");
                if (v < 0)
                    throw new CurveFormatException(file, line, column,
                        $"the learning rate {CurveText.Echo(text)} is negative. Learning rates are >= 0; check that this is the LR column (or name it with {CurveColumns.ColumnOption(CurveRole.Lr)}).");
                return v;
            case CurveRole.ValLoss:
                if (blank || double.IsNaN(v)) return double.NaN;
                if (!double.IsFinite(v))
                    throw new CurveFormatException(file, line, column, $"the validation loss is '{CurveText.Echo(text)}' (not a finite number)",
                        "Leave the cell empty where no evaluation ran, or fix the value.");
                return v;
            default:
                return blank ? double.NaN : v;
        }
    }

    /// <summary>Throws the usual step-order error if this part's first step does not follow <paramref name="before"/>'s last.</summary>
    public void CheckFollows(CurveRows before)
    {
        long prev = before._steps[before._n - 1], step = _steps[0];
        if (step > prev) return;
        var problem = step == prev
            ? $"step {step} repeats the step on line {before._lines[before._n - 1]}"
            : $"step {step} comes after step {prev} on line {before._lines[before._n - 1]}; steps must be strictly increasing";
        throw new CurveFormatException(_file, _lines[0], _stepColumn ?? "step", problem,
            "Keep one row per step in increasing order: remove the duplicate (e.g. from a resumed run) or sort the file by step.");
    }

    /// <summary>Joins parts read in parallel (already checked to follow each other) into one.</summary>
    public static CurveRows Concat(IReadOnlyList<CurveRows> parts, string file, int[] map)
    {
        var all = new CurveRows(file, map, parts.Sum(p => p._n));
        foreach (var p in parts)
        {
            Array.Copy(p._steps, 0, all._steps, all._n, p._n);
            Array.Copy(p._lines, 0, all._lines, all._n, p._n);
            for (int r = 1; r < CurveColumns.RoleCount; r++)
                if (p._cols[r] is { } c) Array.Copy(c, 0, all._cols[r]!, all._n, p._n);
            all._n += p._n;
            all._stepColumn ??= p._stepColumn;
        }
        return all;
    }

    public LossCurve Build(string name, string? sourceFile, IReadOnlyList<string>? warnings = null)
    {
        double[]? Col(CurveRole r) => _cols[(int)r] is { } c ? (c.Length == _n ? c : c[.._n]) : null;
        return new LossCurve
        {
            Name = name,
            Steps = _steps.Length == _n ? _steps : _steps[.._n],
            Lr = Col(CurveRole.Lr),
            Loss = Col(CurveRole.Loss),
            ValLoss = Col(CurveRole.ValLoss),
            GradNorm = Col(CurveRole.GradNorm),
            Tokens = Col(CurveRole.Tokens),
            Epochs = Col(CurveRole.Epoch),
            SourceFile = sourceFile,
            Warnings = warnings ?? [],
        };
    }
}
