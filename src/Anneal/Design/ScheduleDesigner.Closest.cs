using Anneal.Laws;
using Anneal.Optimization;
using Anneal.Schedules;
using Anneal.Specs;

namespace Anneal.Design;

/// <summary>The named schedule nearest a free optimum.</summary>
public sealed partial class ScheduleDesigner
{
    /// <summary>
    /// The named schedule nearest the free optimum in RMS rate distance (relative to peak): WSD of
    /// every shape over cooldown fractions in 0.005 steps, cosine and linear, all ending at the
    /// optimum's final rate; with its predicted loss so the cost of rounding to a name is visible.
    /// </summary>
    public ClosestNamed Closest(double[] optimum)
    {
        double endRatio = Math.Max(optimum[^1] / P, MinRatio);
        string? bestSpec = null;
        double bestDist = double.PositiveInfinity;
        // A WSD candidate holds the peak from the warmup to its cooldown: its running sum of squared distances over
        // that stable phase is the optimum's own running sum against the peak, summed once here. A candidate then
        // starts from that sum and fills and adds only its cooldown: the same additions in the same order as summing
        // every step, so the same distance to the last bit, for about half the work.
        var atPeak = new double[optimum.Length + 1];
        for (int i = 0; i < optimum.Length; i++) { double d = (P - optimum[i]) / P; atPeak[i + 1] = atPeak[i] + d * d; }
        double Dist(string spec, double[] eta)
        {
            var schedule = Schedule.Parse(spec);
            int from = schedule is WsdSchedule { Convention: WsdConvention.Standard, WarmupShape: WarmupShape.Linear } w && w.Peak == P && w.Warmup == W
                ? (int)Math.Clamp(w.DecayStart - W, 0, eta.Length) : 0;
            schedule.Fill(eta.AsSpan(from), W + from);
            double s = atPeak[from];
            for (int i = from; i < eta.Length; i++) { double d = (eta[i] - optimum[i]) / P; s += d * d; }
            return Math.Sqrt(s / eta.Length);
        }
        var specs = new List<string>();
        foreach (var shape in AllShapes)
            for (double f = 0.005; f <= MaxDecay + 1e-12; f += 0.005)
                specs.Add(WsdSpec(Math.Round(f, 3), shape, endRatio));
        specs.Add($"cosine(peak={Num(P)}, total={T}, warmup={W}, min={Num(Round(endRatio * P))})");
        specs.Add($"linear(peak={Num(P)}, total={T}, warmup={W}, min={Num(Round(endRatio * P))})");
        // ~1,100 independent distances: computed on every core (each range with its own buffer), then the first
        // minimum taken in list order, so the answer does not depend on the number of threads.
        var dist = new double[specs.Count];
        Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, specs.Count, 64), () => new double[optimum.Length],
            (range, _, eta) => { for (int i = range.Item1; i < range.Item2; i++) dist[i] = Dist(specs[i], eta); return eta; }, _ => { });
        for (int i = 0; i < specs.Count; i++)
            if (dist[i] < bestDist) { bestDist = dist[i]; bestSpec = specs[i]; }
        return new ClosestNamed(Make("closest named", bestSpec!), bestDist);
    }
}
