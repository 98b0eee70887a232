namespace Anneal.Laws;

/// <summary>
/// A member's forecast as the auto stack's band reads it (docs/laws.md, "Session 14: band at a step drop"): the running
/// minimum of the forecast over each stretch of the run's points where the learning rate does not rise,
/// <c>L~(t_i) = min(L(t_j) : t_j &lt;= t_i, the rate not rising anywhere in (t_j, t_i])</c>.
/// Why: lowering the rate does not raise the loss, not in the logged runs (they fall at every drop) and not in the
/// multi-power, momentum or share laws (their forecasts fall with the rate); the convex bound (Schaipp et al. 2025) does
/// rise at a step drop, by construction of the last-iterate bound: its term for k = T-1 carries
/// <c>eta_(T-1) / eta_T</c>, the drop's ratio r, so right after a drop by r = 10 the bound jumps (MPL 400M's
/// <c>wsdcon_3</c>: +5.5 % at the drop's step, +1.7 % one step later) and decays back over about r steps. Read as a
/// disagreement, that excursion drew the band 2.0 % half-wide at the drop's step against 0.42 % on either side. The
/// minimum is taken over the points the run asks for (no extra evaluation): with points one step apart it is exact,
/// with sparser ones it holds the forecast at the last point before the drop, whose value the member had already given.
/// A forecast that never rises while the rate does not is returned unchanged.
/// </summary>
public static class NonRisingForecast
{
    /// <summary>
    /// <paramref name="loss"/> (at <paramref name="run"/>'s steps, ascending) with each point lowered to the smallest
    /// earlier forecast of its stretch, a stretch ending wherever the rate <c>run.Eta</c> rises between two points.
    /// Non-finite values are left as they are and do not enter the minimum.
    /// </summary>
    public static double[] Of(LawRun run, double[] loss)
    {
        var result = (double[])loss.Clone();
        double min = double.PositiveInfinity;
        for (int i = 0; i < run.Count; i++)
        {
            if (i > 0 && RateRises(run.Eta, run.Steps[i - 1], run.Steps[i])) min = double.PositiveInfinity;
            if (!double.IsFinite(loss[i])) continue;
            if (loss[i] < min) min = loss[i];
            else result[i] = min;
        }
        return result;
    }

    /// <summary>Whether the rate rises at any step of (<paramref name="from"/>, <paramref name="to"/>].</summary>
    private static bool RateRises(double[] eta, long from, long to)
    {
        for (long t = Math.Max(from + 1, 1); t <= to && t < eta.Length; t++)
            if (eta[t] > eta[t - 1]) return true;
        return false;
    }
}
