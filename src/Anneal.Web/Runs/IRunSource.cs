using Anneal.Curves;

namespace Anneal.Web.Runs;

/// <summary>A logged run as the dashboard lists it: identity, provenance and summary numbers.</summary>
/// <param name="Id">The store's id.</param>
/// <param name="Name">Display name (the file name without extension by default).</param>
/// <param name="Tags">Free-form labels, e.g. the example corpus a seeded run came from.</param>
/// <param name="Schedule">The exact schedule spec, when known.</param>
/// <param name="Steps">Steps trained: the last logged step + 1.</param>
/// <param name="Points">Logged rows.</param>
/// <param name="FinalLoss">Training loss at the last logged row (NaN when the run logs none).</param>
/// <param name="MinLoss">Lowest logged training loss (NaN when none).</param>
/// <param name="Created">When the run entered the store.</param>
/// <param name="Running">True while a trainer is still writing it.</param>
public sealed record RunSummary(long Id, string Name, IReadOnlyList<string> Tags, string? Schedule, long Steps, int Points, double FinalLoss, double MinLoss, DateTimeOffset Created, bool Running);

/// <summary>Columns the runs table sorts by.</summary>
public enum RunSort { Created, Name, Steps, Points, FinalLoss, MinLoss }

/// <summary>One page of the runs table: a case-insensitive text filter over name, tags and schedule; a sort; a window.</summary>
public sealed record RunQuery(string? Text = null, string? Tag = null, RunSort Sort = RunSort.Created, bool Descending = false, int Offset = 0, int Limit = 50);

/// <summary>A page of runs and how many runs match the filter in all.</summary>
public sealed record RunPage(int Total, IReadOnlyList<RunSummary> Runs);

/// <summary>
/// Where the dashboard's runs live. The server only reads and appends through this, so the same pages
/// work over any store that can list, page and return curves.
/// </summary>
public interface IRunSource
{
    /// <summary>How many runs there are.</summary>
    int Count { get; }

    /// <summary>A filtered, sorted page of runs.</summary>
    RunPage List(RunQuery query);

    /// <summary>One run's summary, or null when there is no such id.</summary>
    RunSummary? Get(long id);

    /// <summary>One run's logged curve (every point), or null when there is no such id.</summary>
    LossCurve? Curve(long id);

    /// <summary>Adds a finished run; returns its id.</summary>
    long Add(LossCurve curve, IReadOnlyList<string> tags);
}
