using Anneal.Tuning;

namespace Anneal.Tests.Tuning;

/// <summary>The large MLP tuning table's recorded validation curves (data/tuning/mlp-large), as pruner tests replay them.</summary>
internal static class MlpLargeTable
{
    /// <summary>A configuration's validation curve: the steps with a <c>val_loss</c> (the CSV's fourth column).</summary>
    public static Report[] Curve(string key) =>
        ForecastPrunerTests.CurveIn(Path.Combine(TestPaths.RepoRoot, "data", "tuning", "mlp-large", key + ".csv"));

    /// <summary>A complete 1000-step trial number <paramref name="n"/> whose reports are the configuration's curve.</summary>
    public static TrialRecord Trial(int n, string key, string schedule)
    {
        var c = Curve(key);
        return new TrialRecord(n, new TrialParams([]), TrialState.Complete, c[^1].Value, c) { Schedule = schedule, PlannedSteps = 1000 };
    }
}
