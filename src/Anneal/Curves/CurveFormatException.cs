namespace Anneal.Curves;

/// <summary>
/// A loss-curve file that cannot be read. The message starts with <c>file:line:</c> (when a line is
/// known), names the column and what was expected, and says how to fix it.
/// </summary>
public class CurveFormatException : InputException
{
    /// <summary>A message that already names the place and the fix.</summary>
    public CurveFormatException(string message) : base(message) { }

    /// <summary>Builds <c>file:line: column 'c': problem. fix</c>.</summary>
    public CurveFormatException(string file, int line, string? column, string problem, string fix)
        : base(Compose(file, line, column, problem, fix))
    {
        File = file;
        Line = line > 0 ? line : null;
        Column = column;
    }

    /// <summary>
    /// Builds <c>file:line: column 'c': </c> and <paramref name="problemAndFix"/>, whose <see cref="ParameterName"/> holes
    /// name the read options that fix it (<c>step_col</c>, <c>stop_at_nonfinite</c>: <see cref="CurveReadOptions"/>), as
    /// <see cref="InputException.Naming"/> does: a front end renames them (<see cref="InputException.MessageNaming"/>).
    /// </summary>
    public CurveFormatException(string file, int line, string? column, FormattableString problemAndFix)
        : base(Joined(Where(file, line, column), problemAndFix))
    {
        File = file;
        Line = line > 0 ? line : null;
        Column = column;
    }

    /// <summary>The file, when known.</summary>
    public string? File { get; }

    /// <summary>1-based line number, when known.</summary>
    public int? Line { get; }

    /// <summary>The column (or JSON key) involved, when known.</summary>
    public string? Column { get; }

    /// <summary>True when the problem is a NaN or infinite training loss (a diverged run), which
    /// <see cref="CurveReadOptions.StopAtNonFinite"/> turns into a truncation.</summary>
    public bool NonFiniteLoss { get; init; }

    /// <summary>
    /// True when a row has no training loss or repeats the previous row's step: a table that logs metrics on
    /// rows of their own (Lightning's CSVLogger, W&amp;B exports), which the reader then merges by step.
    /// </summary>
    internal bool SparseRow { get; init; }

    /// <summary>The step of the offending row, when it was parsed before the problem was found.</summary>
    public long? Step { get; init; }

    private static string Compose(string file, int line, string? column, string problem, string fix) =>
        $"{Where(file, line, column)}{problem}. {fix}".TrimEnd();

    private static string Where(string file, int line, string? column) =>
        (line > 0 ? $"{file}:{line}: " : $"{file}: ") + (column is null ? "" : $"column '{column}': ");
}
