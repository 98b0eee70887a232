namespace Anneal.Laws;

/// <summary>
/// A stack member's decay gain scaled to the fitted runs' evidence: with <c>Lc(t)</c> the member's forecast of the run's
/// constant counterpart (its rate held at the peak from the peak on, <see cref="Counterpart"/>) and <c>L(t)</c> its forecast
/// of the run, the scaled forecast is <c>Lc(t) - k (Lc(t) - L(t))</c>: the member's constant-rate part as fitted, its gain
/// over it (what the decay of the rate bought) times <c>k</c>. <c>k</c> is the least-squares scale that makes the member's
/// gain meet the fitted runs' points inside decays (<see cref="Fit"/>): <c>k = sum_i G_i (Lc_i - y_i) / sum_i G_i^2</c>,
/// <c>G_i = Lc_i - L_i</c>, over the fitted points at steps where the rate is below its peak, in closed form (linear in k).
/// Why: from a WSD calibration given as end points (a constant run and one point per cooldown branch) a member's decay
/// term is pinned by one point per branch among dozens of constant-rate ones, and a member fitted by the early-stopped
/// reference procedure stops before it meets them (engine-gpt-tiny-long: the multi-power member misses its two fitted
/// cooldown ends by +3.95 and +4.21 %, and forecasts the later ones 4.6-5.9 % too high); the gain over the constant run
/// at the same step is exactly what the end points say (docs/journal/session-16-wsd-question.md). A member that
/// meets its decay points already (fitted to the optimum with a free decay term) gets k near 1 and is unchanged.
/// </summary>
public static class GainScale
{
    /// <summary>Relative tolerance below the peak rate for a step to count as inside a decay.</summary>
    private const double Below = 1e-9;

    /// <summary>Whether step <paramref name="step"/> of a run with rates <paramref name="eta"/> lies inside a decay: after the peak, at a rate below it.</summary>
    public static bool InDecay(double[] eta, long step)
    {
        int k = EtaMath.PeakIndex(eta);
        return step > k && step < eta.Length && eta[step] < eta[k] * (1 - Below);
    }

    /// <summary>Whether any of the run's asked steps lies inside a decay (else its counterpart is itself and the scale changes nothing).</summary>
    public static bool Decays(LawRun run) => run.Steps.Any(s => InDecay(run.Eta, s));

    /// <summary>
    /// The run's constant counterpart: its rates held at the peak from the peak on (the constant run a cooldown branch left),
    /// the same steps asked; its schedule <paramref name="length"/> steps long when given (past the run's end: the peak held on).
    /// </summary>
    public static LawRun Counterpart(LawRun run, long? length = null)
    {
        int k = EtaMath.PeakIndex(run.Eta);
        var eta = new double[length ?? run.Eta.Length];
        for (int i = 0; i < eta.Length; i++) eta[i] = i <= k ? run.Eta[i] : run.Eta[k];
        return run with { Eta = eta, Observed = null, Name = run.Name + "[constant]" };
    }

    /// <summary>The scaled forecast <c>Lc - k (Lc - L)</c> of a forecast <paramref name="loss"/> and its constant counterpart's <paramref name="constant"/>.</summary>
    public static double Mix(double loss, double constant, double k) => constant - k * (constant - loss);

    /// <summary>
    /// The scale k of a member with parameters <paramref name="p"/> on the fitted <paramref name="runs"/>: least squares over
    /// their logged points inside decays (<see cref="InDecay"/>). 1 when there are none, or when the member forecasts no gain
    /// there (nothing to scale); never below 0 (a decay of the rate does not raise the loss the member forecasts).
    /// </summary>
    public static double Fit(LossLaw law, IReadOnlyList<double> p, IReadOnlyList<LawRun> runs)
    {
        double num = 0, den = 0, level = 0;
        foreach (var run in runs)
        {
            var idx = Enumerable.Range(0, run.Count).Where(i => InDecay(run.Eta, run.Steps[i])).ToArray();
            if (idx.Length == 0) continue;
            var asked = run with { Steps = idx.Select(i => run.Steps[i]).ToArray(), Observed = null };
            var l = law.Predict(asked, p);
            var c = law.Predict(Counterpart(asked), p);
            for (int j = 0; j < idx.Length; j++)
            {
                double g = c[j] - l[j], r = c[j] - run.Observed![idx[j]];
                num += g * r; den += g * g; level += c[j] * c[j];
            }
        }
        // No measurable gain (relative to the loss, below 1e-6 on every point): the scale is not identified.
        if (!(den > 1e-12 * level)) return 1;
        double k = num / den;
        return double.IsFinite(k) ? Math.Max(0, k) : 1;
    }
}
