using Anneal.Cli.Commands;
using Anneal.Laws;

namespace Anneal.Tests.Cli;

/// <summary>The evaluation tables' notes on missing bands: one line per reason, not one per held-out run.</summary>
public sealed class EvaluationTablesTests
{
    private static TestResult Test(string name, string? why)
    {
        var run = new LawRun { Name = name, Eta = [1e-3, 1e-3, 1e-3], Steps = [1, 2], Observed = [3.0, 2.9] };
        var pred = new LawPrediction([1, 2], [3.0, 2.9], [2.9, 2.8], [3.1, 3.0], 0.95) { BandUnavailable = why };
        return new TestResult(run, pred, new LawMetrics(2, 1, 0, 0, 0, 0, 0));
    }

    private static LawScore Score(params TestResult[] tests) => new(LossLaw.Parse("powerlaw"), null, tests, null, null);

    [Fact]
    public void A_reason_shared_by_every_held_out_run_is_one_note()
    {
        var notes = EvaluationTables.BandNotes(Score(Test("a", "too wide"), Test("b", "too wide"), Test("c", "too wide"))).ToList();
        notes.ShouldBe(["every held-out run: too wide"]);
    }

    [Fact]
    public void Runs_are_grouped_by_reason_and_runs_with_a_band_are_not_named()
    {
        var notes = EvaluationTables.BandNotes(Score(Test("a", "too wide"), Test("b", null), Test("c", "no covariance"), Test("d", "too wide"))).ToList();
        notes.ShouldBe(["a, d: too wide", "c: no covariance"]);
    }

    [Fact]
    public void A_single_held_out_run_is_named()
    {
        EvaluationTables.BandNotes(Score(Test("a", "too wide"))).ShouldBe(["a: too wide"]);
    }
}
