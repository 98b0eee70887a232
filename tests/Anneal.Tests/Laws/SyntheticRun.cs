using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>Noise-free runs made by a law at known parameters: what parameter-recovery tests fit the law back to.</summary>
internal static class SyntheticRun
{
    /// <summary>
    /// A run of <paramref name="spec"/> for <paramref name="total"/> steps, logged every 10 steps from step
    /// 10 <paramref name="firstLog"/> + 9, its losses exactly <paramref name="law"/> at <paramref name="truth"/>.
    /// </summary>
    public static LawRun Of(LossLaw law, double[] truth, string spec, int total, int firstLog)
    {
        var eta = Schedule.Parse(spec).Sample(total);
        var steps = Enumerable.Range(firstLog, total / 10 - firstLog).Select(i => (long)(10 * i + 9)).ToArray();
        return LawRun.ForSchedule(spec, eta, steps, spec) with { Observed = law.Predict(eta, steps, truth) };
    }
}
