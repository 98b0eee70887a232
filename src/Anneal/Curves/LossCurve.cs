namespace Anneal.Curves;

/// <summary>
/// One logged training run: strictly increasing optimizer steps with the learning rate, training
/// loss, validation loss and optional gradient norm and tokens seen at each logged step.
/// Columns that were not logged are null; a value missing at one row (e.g. validation loss logged
/// every k steps) is NaN. <see cref="ScheduleSpec"/> is the exact schedule when the user attached
/// one (<c>FILE@SPEC</c>); laws then use it instead of the logged, possibly sparse, LR column.
/// </summary>
public sealed record LossCurve
{
    /// <summary>Short name, by default the file name without extension.</summary>
    public required string Name { get; init; }

    /// <summary>Optimizer steps, strictly increasing.</summary>
    public required long[] Steps { get; init; }

    /// <summary>Learning rate at each logged step, or null.</summary>
    public double[]? Lr { get; init; }

    /// <summary>Training loss at each logged step, or null.</summary>
    public double[]? Loss { get; init; }

    /// <summary>Validation loss at each logged step (NaN where not evaluated), or null.</summary>
    public double[]? ValLoss { get; init; }

    /// <summary>Gradient norm at each logged step, or null.</summary>
    public double[]? GradNorm { get; init; }

    /// <summary>Tokens seen at each logged step, or null.</summary>
    public double[]? Tokens { get; init; }

    /// <summary>
    /// The epoch at each logged step (NaN where not logged), or null: epochs completed, a fraction (Hugging Face's
    /// trainer_state.json), or the 0-based index of the current epoch (Lightning); where the training data starts to
    /// repeat is read from it (<see cref="Anneal.Fitting.EpochBoundary.Interval"/>).
    /// </summary>
    public double[]? Epochs { get; init; }

    /// <summary>The file this curve was read from, if any.</summary>
    public string? SourceFile { get; init; }

    /// <summary>Spec of the exact schedule that produced the run, if known.</summary>
    public string? ScheduleSpec { get; init; }

    /// <summary>
    /// Things the reader noticed but accepted (e.g. validation points dropped because no training
    /// row had their step, or an attached schedule that disagrees with the logged LR). The CLI prints them.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>
    /// Choices the reader made that the user may want to change (which of several loss-like metrics it took,
    /// which column gave the steps, which of several logs in a folder it read). Their <see cref="ParameterName"/>
    /// holes name the read options that change them (<c>loss_col</c>, <c>step_col</c>: <see cref="CurveReadOptions"/>),
    /// which a front end names in its own words (<see cref="NotesNaming"/>).
    /// </summary>
    public IReadOnlyList<FormattableString> NoteTexts { get; init; } = [];

    /// <summary>The notes, read options by their parameter names (<c>step_col</c>).</summary>
    public IReadOnlyList<string> Notes => NotesNaming(p => p);

    /// <summary>The notes with every read option named as <paramref name="name"/> maps it (a command line's <c>--step-col</c>).</summary>
    public IReadOnlyList<string> NotesNaming(Func<string, string> name) => NoteTexts.Select(n => ParameterName.Render(n, name)).ToArray();

    /// <summary>The log format that was read, e.g. "CSV" or "TensorBoard event file".</summary>
    public string Format { get; init; } = "";

    /// <summary>
    /// Set when the file was read with <see cref="CurveReadOptions.StopAtNonFinite"/> and a row with a
    /// non-finite training loss ended it: that row's 1-based line. The curve holds the rows before it.
    /// </summary>
    public int? DivergedAtLine { get; init; }

    /// <summary>The step of the non-finite row, when known (see <see cref="DivergedAtLine"/>).</summary>
    public long? DivergedAtStep { get; init; }

    /// <summary>True when the run diverged and was truncated (<see cref="DivergedAtLine"/> is set).</summary>
    public bool Diverged => DivergedAtLine is not null;

    /// <summary>Number of logged rows.</summary>
    public int Count => Steps.Length;
}
