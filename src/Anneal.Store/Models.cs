namespace Anneal.Store;

/// <summary>Where a run stands: training, done, stopped by its trainer or failed (diverged, crashed).</summary>
public enum RunStatus
{
    /// <summary>Points are still arriving (or the trainer died without saying so: see <see cref="RunInfo.UpdatedAt"/>).</summary>
    Running,
    /// <summary>The run ended normally, or was imported complete from a log file.</summary>
    Finished,
    /// <summary>The run was stopped before its last step (cancelled, halted).</summary>
    Stopped,
    /// <summary>The run diverged or its trainer failed.</summary>
    Failed,
}

/// <summary>The fields of a run to add (<see cref="RunStore.AddRun"/>).</summary>
public sealed record NewRun
{
    /// <summary>Display name (need not be unique).</summary>
    public required string Name { get; init; }

    /// <summary>Free-form labels, e.g. <c>baseline</c>, <c>wsd</c>; duplicates are dropped.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The learning-rate schedule spec the run trained with, when known.</summary>
    public string? Schedule { get; init; }

    /// <summary>The log file the run was read from, when imported.</summary>
    public string? SourceFile { get; init; }

    /// <summary>The source's format (<c>csv</c>, <c>jsonl</c>, <c>json</c>, <c>anneal-train</c>, ...), when known.</summary>
    public string? SourceFormat { get; init; }

    /// <summary>A JSON object with anything else (model, optimizer, seed, ...); <c>{}</c> when null.</summary>
    public string? MetadataJson { get; init; }

    /// <summary>The run's status at creation.</summary>
    public RunStatus Status { get; init; } = RunStatus.Running;
}

/// <summary>A stored run: its fields, tags and a summary of its curve.</summary>
/// <param name="Id">The store's id for it.</param>
/// <param name="Name">Display name.</param>
/// <param name="Tags">Labels, sorted.</param>
/// <param name="Schedule">The schedule spec, when known.</param>
/// <param name="SourceFile">The file it was read from, when imported.</param>
/// <param name="SourceFormat">The source's format, when known.</param>
/// <param name="MetadataJson">A JSON object (<c>{}</c> when empty).</param>
/// <param name="Status">Where the run stands.</param>
/// <param name="CreatedAt">When it was added (UTC).</param>
/// <param name="UpdatedAt">When points or status last changed (UTC): a running run that stops updating has lost its trainer.</param>
/// <param name="LastStep">The last step with a training loss, null when it has none.</param>
/// <param name="FinalLoss">The training loss at <see cref="LastStep"/>.</param>
/// <param name="BestValLoss">The smallest validation loss, null when none was logged.</param>
/// <param name="Metrics">Per metric: how many points, first and last step, last and smallest value (filled by <see cref="RunStore.GetRun"/>; empty in lists).</param>
public sealed record RunInfo(long Id, string Name, IReadOnlyList<string> Tags, string? Schedule, string? SourceFile, string? SourceFormat,
    string MetadataJson, RunStatus Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, long? LastStep, double? FinalLoss,
    double? BestValLoss, IReadOnlyList<MetricSummary> Metrics);

/// <summary>A summary of one metric of a run.</summary>
/// <param name="Metric">Its name (<c>loss</c>, <c>lr</c>, <c>val_loss</c>, ...).</param>
/// <param name="Points">Number of stored points.</param>
/// <param name="FirstStep">Smallest step.</param>
/// <param name="LastStep">Largest step.</param>
/// <param name="LastValue">Value at <see cref="LastStep"/>.</param>
/// <param name="MinValue">Smallest value.</param>
/// <param name="MinStep">A step where <see cref="MinValue"/> occurs.</param>
public sealed record MetricSummary(string Metric, long Points, long FirstStep, long LastStep, double LastValue, double MinValue, long MinStep);

/// <summary>One value of one metric at one step.</summary>
/// <param name="Metric">The metric's name, e.g. <see cref="Metrics.Loss"/>.</param>
/// <param name="Step">The optimizer step (0-based).</param>
/// <param name="Value">The value; NaN means "not measured at this step" and is not stored.</param>
public readonly record struct MetricPoint(string Metric, long Step, double Value);

/// <summary>The usual metric names (what <see cref="RunStore.ImportCurve"/> and <see cref="RunRecorder"/> write).</summary>
public static class Metrics
{
    /// <summary>Training loss.</summary>
    public const string Loss = "loss";
    /// <summary>Learning rate.</summary>
    public const string Lr = "lr";
    /// <summary>Validation loss.</summary>
    public const string ValLoss = "val_loss";
    /// <summary>Global gradient norm.</summary>
    public const string GradNorm = "grad_norm";
    /// <summary>Training tokens consumed so far.</summary>
    public const string Tokens = "tokens";
    /// <summary>Run wall clock in seconds.</summary>
    public const string Seconds = "seconds";
}

/// <summary>How <see cref="RunStore.ListRuns"/> orders runs.</summary>
public enum RunSort
{
    /// <summary>By creation (the id).</summary>
    Created,
    /// <summary>By name, case-insensitively.</summary>
    Name,
    /// <summary>By status.</summary>
    Status,
    /// <summary>By last step with a training loss.</summary>
    Steps,
    /// <summary>By final training loss.</summary>
    FinalLoss,
    /// <summary>By best validation loss.</summary>
    BestValLoss,
}

/// <summary>A filter, an order and a page for <see cref="RunStore.ListRuns"/>.</summary>
public sealed record RunQuery
{
    /// <summary>Keep runs whose name or schedule contains this text (case-insensitive); null keeps all.</summary>
    public string? Search { get; init; }

    /// <summary>Keep runs that carry every one of these tags.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Keep runs with this status; null keeps all.</summary>
    public RunStatus? Status { get; init; }

    /// <summary>The order. Runs without the sort key (no loss logged) come last either way.</summary>
    public RunSort Sort { get; init; } = RunSort.Created;

    /// <summary>Largest first.</summary>
    public bool Descending { get; init; } = true;

    /// <summary>Runs to skip (&gt;= 0).</summary>
    public int Offset { get; init; }

    /// <summary>Runs per page, 1 to <see cref="RunStore.MaxPageSize"/>.</summary>
    public int Limit { get; init; } = 100;
}

/// <summary>One page of runs.</summary>
/// <param name="Total">Runs that match the filter, over all pages.</param>
/// <param name="Runs">This page's runs, in order (their <see cref="RunInfo.Metrics"/> are empty).</param>
public sealed record RunPage(long Total, IReadOnlyList<RunInfo> Runs);

/// <summary>
/// A metric's curve as served for drawing: every point when there are at most the requested number, otherwise the
/// minimum and the maximum of each of about <c>maxPoints / 2</c> equal step intervals, in step order (so a line
/// through them shows the full envelope of the raw curve, spikes included).
/// </summary>
/// <param name="RunId">The run.</param>
/// <param name="Metric">The metric.</param>
/// <param name="Steps">The points' steps, increasing.</param>
/// <param name="Values">Their values.</param>
/// <param name="Downsampled">False when these are all the raw points in the range.</param>
/// <param name="RawPoints">How many raw points the range holds (exact for whole-run views, from the views' counts otherwise).</param>
public sealed record CurveView(long RunId, string Metric, long[] Steps, double[] Values, bool Downsampled, long RawPoints);

/// <summary>What a stored result is.</summary>
public enum ArtifactKind
{
    /// <summary>A fitted loss-curve law (its JSON as written by the fitter).</summary>
    Law,
    /// <summary>A forecast: a law's predicted curve under a schedule, with its band.</summary>
    Forecast,
    /// <summary>A designed schedule (optimize, what-if) and what it was designed against.</summary>
    Design,
}

/// <summary>A result to save with its provenance (<see cref="RunStore.SaveLaw"/>, <see cref="RunStore.SaveForecast"/>, <see cref="RunStore.SaveDesign"/>).</summary>
public sealed record NewArtifact
{
    /// <summary>Display name, e.g. the law's name (<c>mpl</c>) or the forecast's schedule.</summary>
    public required string Name { get; init; }

    /// <summary>The result itself as JSON (a law file, a forecast's steps/mean/band, a design's spec and losses).</summary>
    public required string BodyJson { get; init; }

    /// <summary>The schedule spec it is about (forecasts and designs), when any.</summary>
    public string? Spec { get; init; }

    /// <summary>The stored law it used (forecasts and designs), when any.</summary>
    public long? LawId { get; init; }

    /// <summary>The stored runs it was computed from.</summary>
    public IReadOnlyList<long> RunIds { get; init; } = [];
}

/// <summary>A stored result with its provenance.</summary>
/// <param name="Id">The store's id.</param>
/// <param name="Kind">Law, forecast or design.</param>
/// <param name="Name">Display name.</param>
/// <param name="Spec">The schedule spec it is about, when any.</param>
/// <param name="LawId">The law it used, when any.</param>
/// <param name="BodyJson">The result as JSON.</param>
/// <param name="AnnealVersion">The Anneal version that computed it.</param>
/// <param name="CreatedAt">When it was saved (UTC).</param>
/// <param name="Runs">The runs it came from, by id and by their name when saved (a deleted run keeps its name here).</param>
public sealed record ArtifactInfo(long Id, ArtifactKind Kind, string Name, string? Spec, long? LawId, string BodyJson, string AnnealVersion,
    DateTimeOffset CreatedAt, IReadOnlyList<ArtifactRun> Runs);

/// <summary>A run an artifact came from.</summary>
/// <param name="RunId">Its id.</param>
/// <param name="RunName">Its name when the artifact was saved.</param>
/// <param name="Exists">False once the run was deleted.</param>
public sealed record ArtifactRun(long RunId, string RunName, bool Exists);

/// <summary>A trial's state (Optuna's, with <see cref="Waiting"/> for queued trials).</summary>
public enum TrialState
{
    /// <summary>Queued with its parameters, not yet claimed by a worker (<see cref="RunStore.ClaimWaitingTrial"/>).</summary>
    Waiting,
    /// <summary>A worker is running it and sends heartbeats.</summary>
    Running,
    /// <summary>Finished with a value.</summary>
    Complete,
    /// <summary>Stopped early by a pruner.</summary>
    Pruned,
    /// <summary>Crashed, diverged, or its worker stopped sending heartbeats.</summary>
    Failed,
}

/// <summary>A study: a named sweep with its spec.</summary>
/// <param name="Id">The store's id.</param>
/// <param name="Name">Unique name.</param>
/// <param name="SpecText">The study file as given (YAML or JSON).</param>
/// <param name="Direction"><c>minimize</c> or <c>maximize</c>.</param>
/// <param name="AnnealVersion">The Anneal version that created it.</param>
/// <param name="CreatedAt">When it was created (UTC).</param>
/// <param name="Trials">Trials so far (all states).</param>
public sealed record StudyInfo(long Id, string Name, string SpecText, string Direction, string AnnealVersion, DateTimeOffset CreatedAt, long Trials);

/// <summary>A trial of a study.</summary>
/// <param name="Id">The store's id (unique over studies).</param>
/// <param name="StudyId">Its study.</param>
/// <param name="Number">0, 1, 2, ... within the study, in creation order.</param>
/// <param name="ParamsJson">Its parameters as a JSON object.</param>
/// <param name="State">Where it stands.</param>
/// <param name="Value">Its objective value (complete trials; a pruned one may keep its last intermediate value).</param>
/// <param name="Worker">The worker running or that ran it.</param>
/// <param name="HeartbeatAt">The worker's last heartbeat (UTC).</param>
/// <param name="StartedAt">When a worker started it (UTC).</param>
/// <param name="FinishedAt">When it completed, was pruned or failed (UTC).</param>
/// <param name="RunId">The run holding its full curve, when recorded.</param>
/// <param name="AttributesJson">Free-form JSON object (steps run, pruner notes, ...).</param>
/// <param name="Message">Why it failed or was pruned, when said.</param>
/// <param name="Intermediate">Its intermediate values by step (filled when asked for).</param>
public sealed record TrialInfo(long Id, long StudyId, int Number, string ParamsJson, TrialState State, double? Value, string? Worker,
    DateTimeOffset? HeartbeatAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, long? RunId, string AttributesJson, string? Message,
    IReadOnlyList<(long Step, double Value)> Intermediate);
