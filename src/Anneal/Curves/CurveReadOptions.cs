namespace Anneal.Curves;

/// <summary>File formats <see cref="CurveReader"/> understands.</summary>
public enum CurveFileFormat
{
    /// <summary>Decide from the extension and the first bytes.</summary>
    Auto,
    /// <summary>Delimited text with a header row (comma, tab or semicolon).</summary>
    Csv,
    /// <summary>One JSON object per line.</summary>
    JsonLines,
    /// <summary>One JSON document: W&amp;B-style <c>{"history": {"train": {...}, "val": {...}}}</c> or columns <c>{"step": [...], "loss": [...]}</c>.</summary>
    Json,
}

/// <summary>
/// How to read a curve file. Column names given here override header auto-detection and must
/// exist (matched case-insensitively); null means "detect from the usual names".
/// </summary>
public sealed record CurveReadOptions
{
    /// <summary>Column holding the optimizer step.</summary>
    public string? StepColumn { get; init; }

    /// <summary>Column holding the learning rate.</summary>
    public string? LrColumn { get; init; }

    /// <summary>Column holding the training loss.</summary>
    public string? LossColumn { get; init; }

    /// <summary>Column holding the validation loss.</summary>
    public string? ValLossColumn { get; init; }

    /// <summary>Column holding the gradient norm.</summary>
    public string? GradNormColumn { get; init; }

    /// <summary>Column holding tokens seen.</summary>
    public string? TokensColumn { get; init; }

    /// <summary>Column holding the epoch (epochs completed, or the 0-based epoch index: <see cref="Anneal.Fitting.EpochBoundary"/>).</summary>
    public string? EpochColumn { get; init; }

    /// <summary>Curve name; default the file name without extension.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Read a diverged run: stop at the first row whose training loss is NaN or infinite, keep the rows
    /// before it, and record the divergence in <see cref="LossCurve.DivergedAtLine"/> /
    /// <see cref="LossCurve.DivergedAtStep"/> plus a warning. Without it such a row is an error naming
    /// file, line and this option. Applies to the line-based formats (CSV, JSON Lines).
    /// </summary>
    public bool StopAtNonFinite { get; init; }

    /// <summary>Force a format instead of detecting it.</summary>
    public CurveFileFormat Format { get; init; } = CurveFileFormat.Auto;

    /// <summary>Default options: detect everything.</summary>
    public static CurveReadOptions Default { get; } = new();
}
