using Anneal.Laws;
using Anneal.Schedules;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace Anneal.Tests.Laws;

/// <summary>
/// The fit's quadrature of <c>mpl(drops=continuous)</c>'s loss drop (<c>MultiPowerLaw.State.FitNodes</c>, used through
/// <see cref="LossLaw.PrepareForFit"/>): checked against the change-by-change sum of the prediction state (itself checked
/// against Math.Pow in MplKernelTests), on the published 400M split and on every law parameter's derivative; its Jacobian
/// against central differences of its own loss; and with a point at every step (no two changes without a point between
/// them) it is the change-by-change sum bit for bit.
/// </summary>
public class MplFitNodesTests(ITestOutputHelper output)
{
    private static readonly MultiPowerLaw Law = new(WarmupConvention.Reference) { ContinuousDrops = true };

    // The quadrature whatever the run's size (a fit uses it from MultiPowerLaw.NodesFromPairs pairs).
    private static MultiPowerLaw.State Nodes(LawRun run) => new(run, WarmupConvention.Reference, 1, continuousDrops: true, nodesFromPairs: 0);

    // The reference initialisation and a point near the 400M fit's end (docs/benchmarks.md, kernel-speed's parameters).
    public static TheoryData<double[]> Parameters => new() { new[] { 2.5, 0.5, 0.5, 400, 1, 0.5, 0.5 }, new[] { 2.4, 0.55, 0.45, 500, 2.0, 0.6, 0.55 }, new[] { 3.3, 0.6, 0.5, 600, 0.3, 1.5, 0.3 } };

    [Theory]
    [MemberData(nameof(Parameters))]
    public void On_the_400M_split_it_visits_four_times_fewer_pairs_and_matches_the_change_by_change_sum(double[] p)
    {
        long exactPairs = 0, nodePairs = 0;
        double worstLd = 0, worstJ = 0, worstLoss = 0;
        foreach (var run in MplData.Runs("400m", MplData.FitSplit))
        {
            var exact = (MultiPowerLaw.State)Law.Prepare(run);
            var nodes = Nodes(run);
            exactPairs += exact.Pairs; nodePairs += nodes.Pairs;
            int n = run.Count;
            double[] le = new double[n], ln = new double[n], je = new double[7 * n], jn = new double[7 * n];
            exact.Evaluate(p, le, je);
            nodes.Evaluate(p, ln, jn);
            // Errors relative to the largest size of the same quantity over the run's points (LD and the derivatives pass
            // through zero where the warmup's rises and the decay's falls cancel).
            double ldScale = 0;
            for (int i = 0; i < n; i++) ldScale = Math.Max(ldScale, Math.Abs(p[3] * je[7 * i + 3]));
            for (int i = 0; i < n; i++) { worstLd = Math.Max(worstLd, Math.Abs(ln[i] - le[i]) / ldScale); worstLoss = Math.Max(worstLoss, Math.Abs(ln[i] - le[i])); }
            // The drop term's derivatives (B, C, beta, gamma).
            for (int j = 3; j < 7; j++)
            {
                double scale = 0;
                for (int i = 0; i < n; i++) scale = Math.Max(scale, Math.Abs(je[7 * i + j]));
                for (int i = 0; i < n; i++) if (scale > 0) worstJ = Math.Max(worstJ, Math.Abs(jn[7 * i + j] - je[7 * i + j]) / scale);
            }
            // The power-law part does not depend on the changes: the same bits.
            for (int i = 0; i < n; i++) jn[7 * i + 1].ShouldBe(je[7 * i + 1]);
        }
        output.WriteLine($"pairs {exactPairs} -> {nodePairs} ({(double)exactPairs / nodePairs:0.00}x); worst LD error {worstLd:G3} (loss {worstLoss:G3}), worst drop-term derivative {worstJ:G3}");
        ((double)exactPairs / nodePairs).ShouldBeGreaterThan(4.5);
        worstLd.ShouldBeLessThan(3e-5);
        worstJ.ShouldBeLessThan(1e-4);
    }

    [Fact]
    public void Its_jacobian_matches_central_differences()
    {
        var eta = Schedule.Parse("warmup(multistep(peak=3e-4, milestones=[900, 1900], gamma=0.3), steps=100)").Sample(3000);
        var eta2 = Schedule.Parse("cosine(peak=3e-4, total=3000, warmup=100, min=3e-5)").Sample(3000);
        long[] steps = [500, 1000, 1400, 2000, 2600, 2999];
        foreach (var e in new[] { eta, eta2 })
            LawMathTests.JacobianMatchesCentralDifferences(Law, Nodes(LawRun.ForSchedule("t", e, steps, "test")), [2.5, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63], steps);
    }

    [Fact]
    public void A_fit_uses_it_on_the_400M_cosine_run_and_not_on_a_run_below_a_million_pairs()
    {
        var runs = MplData.Runs("400m", MplData.FitSplit);
        long allExact = 0, allFit = 0;
        foreach (var run in runs)
        {
            long exact = ((MultiPowerLaw.State)Law.Prepare(run)).Pairs, fit = ((MultiPowerLaw.State)Law.PrepareForFit(run)).Pairs;
            output.WriteLine($"{run.Name}: {exact} -> {fit} pairs");
            fit.ShouldBe(exact >= MultiPowerLaw.NodesFromPairs ? Nodes(run).Pairs : exact, run.Name);
            allExact += exact; allFit += fit;
        }
        output.WriteLine($"split: {allExact} -> {allFit} pairs");
        // The cosine run (2.2M pairs) four times fewer; the constant and WSD runs (0.4M, 0.2M) as they were.
        long cosine = ((MultiPowerLaw.State)Law.Prepare(runs[0])).Pairs;
        cosine.ShouldBeGreaterThan(MultiPowerLaw.NodesFromPairs);
        ((MultiPowerLaw.State)Law.PrepareForFit(runs[0])).Pairs.ShouldBeLessThan(cosine / 4);
    }

    [Fact]
    public void With_a_point_at_every_step_it_is_the_change_by_change_sum()
    {
        var eta = Schedule.Parse("cosine(peak=3e-4, total=3000, warmup=200, min=3e-5)").Sample(3000);
        var steps = Enumerable.Range(0, 3000).Select(t => (long)t).ToArray();
        var run = LawRun.ForSchedule("t", eta, steps, "test");
        double[] p = [2.5, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63];
        double[] le = new double[steps.Length], ln = new double[steps.Length], je = new double[7 * steps.Length], jn = new double[7 * steps.Length];
        Law.Prepare(run).Evaluate(p, le, je);
        Nodes(run).Evaluate(p, ln, jn);
        ln.ShouldBe(le);
        jn.ShouldBe(je);
    }
}
