namespace Anneal.Laws;

public sealed partial record ShareLaw
{
    /// <summary>
    /// The share law's per-mode gains on the level clock (<c>share(clock=level)</c>, <see cref="LevelClock"/>):
    /// <code>
    /// G_j(t) = sum_k sum_pieces d (1 - exp(-nu_j (I(t) - I(k)) / e)),   I(t) = sum_{1&lt;=s&lt;=t} eta_s ln((s+1)/s)
    /// </code>
    /// a decrease at step k crossing the level e (its geometric pieces of ratio at most
    /// <see cref="MultiPowerLaw.State.MaxPieceRatio"/>, each at its midpoint rate, as <c>mpl(drops=continuous)</c> cuts a drop:
    /// <see cref="MultiPowerLaw.State.CutPieces"/>) is realised on the log-age clock scaled by the rate relative to that level.
    /// Where the rate stays at e' after the decrease, <c>I(t) - I(k) = e' ln((t+1)/(k+1))</c>: the age clock's kernel
    /// <c>((k+1)/(t+1))^(nu e'/e)</c>, the same as <c>share</c>'s for the small decreases of a smooth decay (e' ~ e), and slower
    /// after a step drop (a drop from 3e-4 to 3e-5 is realised, at its top, 10 times more slowly). Why: on the published
    /// multi-power-law split the fitted step drop (wsdcon_9) prefers a clock in LR area and the fitted cosine the age clock
    /// (in sample, at every size), and a drop to a low rate is realised several times more slowly than the same drop in
    /// small steps (docs/journal/session-11-published-split.md, docs/journal/session-14-published-split-auto.md). Unit-free
    /// (only rate ratios enter). The same prefix I serves every level, so the decreases are grouped by level in buckets of
    /// ratio <see cref="MultiPowerLaw.State.MaxPieceRatio"/> counted from the peak rate (each realised at its bucket's geometric
    /// centre: the clock's speed within 1 % of the decrease's own; equivariant to the rate's units) and each bucket's memory is brought forward only when a decrease joins it or a
    /// logged point reads it: O(steps + points x buckets) per mode.
    /// </summary>
    private static void LevelGains(double[] eta, long[] steps, int peak, double[][] gain)
    {
        int m = Speeds.Count;
        // Buckets are counted from the run's peak rate, so that the same schedule in other units falls into the same buckets.
        double top = eta[peak], lnR = Math.Log(MultiPowerLaw.State.MaxPieceRatio), clock = 0, total = 0;
        var buckets = new Dictionary<int, LevelBucket>();
        var order = new List<LevelBucket>();
        var d = new double[16];
        var mid = new double[16];
        void Add(double level, double decrease)
        {
            int key = (int)Math.Floor(Math.Log(level / top) / lnR);
            if (!buckets.TryGetValue(key, out var b))
            {
                b = new LevelBucket(top * Math.Exp((key + 0.5) * lnR), clock, m);
                buckets[key] = b;
                order.Add(b);
            }
            else if (b.Since != clock)
            {
                for (int j = 0; j < m; j++) b.Memory[j] *= Math.Exp(-Speeds[j] * (clock - b.Since) / b.Level);
                b.Since = clock;
            }
            for (int j = 0; j < m; j++) b.Memory[j] += decrease;
        }
        int point = 0;
        long last = steps[^1];
        for (long i = 0; i <= last; i++)
        {
            if (i >= 1) clock += eta[i] * Math.Log((i + 1.0) / i);
            double change = i > peak ? eta[i - 1] - eta[i] : 0;
            if (change != 0)
            {
                total += change;
                if (change > 0 && eta[i] > 0)
                {
                    int pieces = MultiPowerLaw.State.Pieces(eta[i - 1], eta[i]);
                    if (pieces > d.Length) { d = new double[pieces]; mid = new double[pieces]; }
                    MultiPowerLaw.State.CutPieces(eta[i - 1], eta[i], d, mid);
                    for (int q = 0; q < pieces; q++) Add(mid[q], d[q]);
                }
                else Add(0.5 * (eta[i - 1] + eta[i]), change);   // a rise, or a drop to zero (not cut: no geometric pieces reach 0)
            }
            if (i != steps[point]) continue;
            for (int j = 0; j < m; j++)
            {
                double g = total;
                foreach (var b in order) g -= b.Memory[j] * Math.Exp(-Speeds[j] * (clock - b.Since) / b.Level);
                gain[j][point] = g;
            }
            point++;
        }
    }

    /// <summary>The decreases of one level bucket: per mode their unrealised part as of clock value <see cref="Since"/>.</summary>
    private sealed class LevelBucket(double level, double since, int modes)
    {
        public readonly double Level = level;
        public double Since = since;
        public readonly double[] Memory = new double[modes];
    }
}
