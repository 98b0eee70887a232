using Anneal.Schedules;

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
        // A WSD candidate holds the peak from the warmup to its cooldown: its running sum of squared distances over
        // that stable phase is the optimum's own running sum against the peak, summed once here. A candidate then
        // starts from that sum and fills and adds only its cooldown: the same additions in the same order as summing
        // every step, so the same distance to the last bit, for about half the work.
        var atPeak = new double[optimum.Length + 1];
        for (int i = 0; i < optimum.Length; i++) { double d = (P - optimum[i]) / P; atPeak[i + 1] = atPeak[i] + d * d; }
        var specs = new List<string>();
        foreach (var shape in AllShapes)
            for (double f = 0.005; f <= MaxDecay + 1e-12; f += 0.005)
                specs.Add(WsdSpec(Math.Round(f, 3), shape, endRatio));
        specs.Add($"cosine(peak={Num(P)}, total={T}, warmup={W}, min={Num(Round(endRatio * P))})");
        specs.Add($"linear(peak={Num(P)}, total={T}, warmup={W}, min={Num(Round(endRatio * P))})");

        // A candidate's running sum only grows, and so does its RMS: once the RMS of the steps summed so far exceeds a
        // distance another candidate reaches, the candidate cannot be the nearest and is dropped. Most are dropped early
        // in their cooldown, so the bound comes first, from the candidate of each shape whose cooldown starts where the
        // optimum's first drop is.
        int firstDrop = Array.FindIndex(optimum, x => x < P);
        double fractionAtDrop = firstDrop < 0 ? 0 : (double)(T - W - firstDrop) / T;
        int perShape = (specs.Count - 2) / AllShapes.Count;
        int nearest = Math.Clamp((int)Math.Round(fractionAtDrop / 0.005) - 1, 0, perShape - 1);
        var seedEta = new double[optimum.Length];
        double bound = double.PositiveInfinity;
        for (int s = 0; s < AllShapes.Count; s++)
            bound = Math.Min(bound, Distance(Schedule.Parse(specs[s * perShape + nearest]), optimum, atPeak, seedEta, double.PositiveInfinity));

        // ~1,100 independent distances: computed on every core (each range with its own buffer and bound), then the
        // first minimum taken in list order. Dropped candidates are farther than that minimum, never equal to it, so
        // the answer is the one summing every candidate to its end gives, whatever the number of threads.
        var dist = new double[specs.Count];
        Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, specs.Count, 64), () => (Eta: new double[optimum.Length], Bound: bound),
            (range, _, local) =>
            {
                for (int i = range.Item1; i < range.Item2; i++)
                {
                    dist[i] = Distance(Schedule.Parse(specs[i]), optimum, atPeak, local.Eta, local.Bound);
                    if (dist[i] < local.Bound) local.Bound = dist[i];
                }
                return local;
            }, _ => { });
        string? bestSpec = null;
        double bestDist = double.PositiveInfinity;
        for (int i = 0; i < specs.Count; i++)
            if (dist[i] < bestDist) { bestDist = dist[i]; bestSpec = specs[i]; }
        return new ClosestNamed(Make("closest named", bestSpec!), bestDist);
    }

    /// <summary>Steps summed between two checks against the bound in <see cref="Distance"/>.</summary>
    private const int DistanceChunk = 512;

    /// <summary>
    /// RMS distance (relative to peak) of <paramref name="schedule"/>'s post-warmup rates from <paramref name="optimum"/>,
    /// summed in step order; +infinity once it is known to exceed <paramref name="bound"/>.
    /// </summary>
    private double Distance(Schedule schedule, double[] optimum, double[] atPeak, double[] eta, double bound)
    {
        int n = eta.Length;
        int from = schedule is WsdSchedule { Convention: WsdConvention.Standard, WarmupShape: WarmupShape.Linear } w && w.Peak == P && w.Warmup == W
            ? (int)Math.Clamp(w.DecayStart - W, 0, n) : 0;
        double s = atPeak[from];
        for (int start = from; start < n; start += DistanceChunk)
        {
            // Fill writes each step's rate independently of where the range starts: filling by chunks gives the same bits.
            int end = Math.Min(n, start + DistanceChunk);
            schedule.Fill(eta.AsSpan(start, end - start), W + start);
            for (int i = start; i < end; i++) { double d = (eta[i] - optimum[i]) / P; s += d * d; }
            if (Math.Sqrt(s / n) > bound) return double.PositiveInfinity;
        }
        return Math.Sqrt(s / n);
    }
}
