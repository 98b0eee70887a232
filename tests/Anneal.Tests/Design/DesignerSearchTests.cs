using Anneal.Design;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Design;

/// <summary>The named-schedule searches: their losses are the law's own values, and the closest-schedule search finds a known answer.</summary>
public class DesignerSearchTests
{
    private static readonly DesignProblem Problem = new(MplParameters.Published400M, 3000, 300, 3e-4);

    [Fact]
    public void Every_candidate_loss_is_the_law_value_of_its_schedule_also_when_asked_again()
    {
        // Independent source: a fresh objective evaluated on the candidate's schedule, sampled anew. The designer
        // remembers the loss of each spec it predicted; asking again (a warm designer) must give the same candidates.
        var d = new ScheduleDesigner(Problem);
        var first = d.BestOfFamilies().Concat(d.References()).ToArray();
        var again = d.BestOfFamilies().Concat(d.References()).ToArray();
        again.ShouldBe(first);
        foreach (var c in first)
        {
            double direct = Problem.Objective().Value(MplFinalLoss.PostWarmup(Schedule.Parse(c.Schedule.Spec), Problem.Total, Problem.Warmup));
            c.Loss.ShouldBe(direct, c.Label);
        }
    }

    [Fact]
    public void Closest_named_schedule_to_a_wsd_is_that_wsd_and_its_distance_is_the_rms_of_the_difference()
    {
        // Known answer: the "optimum" is itself a WSD of the search's grid (20% 1-sqrt cooldown, ending at the rate
        // the search ends every candidate at: the optimum's last rate), so the search must return it at distance 0.
        // Independent source for the distance: the RMS recomputed here from the returned spec.
        const double peak = 3e-4;
        var probe = MplFinalLoss.PostWarmup(Schedule.Parse("wsd(peak=0.0003, total=3000, warmup=300, decay=0.2, shape=sqrt, min=3e-06)"), 3000, 300);
        var d = new ScheduleDesigner(Problem);
        var near = d.Closest(probe);
        near.Candidate.Schedule.Spec.ShouldContain("decay=0.2,");
        near.Candidate.Schedule.Spec.ShouldContain("shape=sqrt");
        var eta = MplFinalLoss.PostWarmup(near.Candidate.Schedule, 3000, 300);
        double rms = Math.Sqrt(eta.Zip(probe, (a, b) => (a - b) / peak * ((a - b) / peak)).Sum() / eta.Length);
        near.RmsDistance.ShouldBe(rms, 1e-15);
        near.RmsDistance.ShouldBeLessThan(0.01); // only the end rate differs: the probe's last rate, not its min
    }

    [Fact]
    public void Closest_distance_to_a_free_optimum_is_the_plain_running_sum_over_every_step_to_the_last_bit()
    {
        // The search starts a WSD candidate from a prefix sum over the optimum's stable phase. Independent source: the
        // plain running sum over every post-warmup step of the returned schedule, in step order; equal, not close.
        var d = new ScheduleDesigner(Problem);
        var opt = d.Optimize().PostWarmup;
        var near = d.Closest(opt);
        near.Candidate.Schedule.ShouldBeOfType<WsdSchedule>(); // the prefix-sum path
        var eta = MplFinalLoss.PostWarmup(near.Candidate.Schedule, 3000, 300);
        double s = 0;
        for (int i = 0; i < eta.Length; i++) { double x = (eta[i] - opt[i]) / 3e-4; s += x * x; }
        BitConverter.DoubleToInt64Bits(near.RmsDistance).ShouldBe(BitConverter.DoubleToInt64Bits(Math.Sqrt(s / eta.Length)));
    }

    [Fact]
    public void A_wsd_loss_from_cached_cooldown_factors_is_the_loss_of_its_filled_rates_to_the_bit()
    {
        // The WSD grid predicts from each cooldown's cached factors. Independent source: the schedule's own Fill (through
        // Predict), evaluated on a fresh designer; every shape (exponential and inverse are filled, not cached), several
        // final rates per cooldown (the second one reuses the cache), and cooldowns as long as the whole post-warmup phase.
        var cached = new ScheduleDesigner(Problem);
        foreach (var shape in ScheduleDesigner.AllShapes)
            foreach (var decay in new[] { 0.05, 0.2, 0.355, 0.9 })
                foreach (var min in new[] { 3e-6, 0.0, 3e-5, 1.234e-5 })
                {
                    if (min == 0 && shape is DecayShape.Exponential or DecayShape.Inverse) continue;
                    var spec = $"wsd(peak=0.0003, total=3000, warmup=300, decay={decay}, shape={DecayShapes.Name(shape)}, min={min})";
                    double fromCache = cached.PredictCandidate(Schedule.Parse(spec));
                    double filled = new ScheduleDesigner(Problem).Predict(Schedule.Parse(spec));
                    BitConverter.DoubleToInt64Bits(fromCache).ShouldBe(BitConverter.DoubleToInt64Bits(filled), spec);
                }
    }
}
