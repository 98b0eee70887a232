namespace Anneal.Laws;

/// <summary>
/// A member's forecast as the auto stack mixes it into its forecast (<see cref="AutoLaw"/>;
/// docs/journal/session-14-auto-step-drop.md) and its band reads it (docs/journal/session-14-band.md, "Band at a step
/// drop"): where the
/// learning rate falls, the forecast is held at its value before the fall for as long as it stays above it, until it
/// comes back below or the rate rises. Why: lowering the rate does not raise the loss, not in the logged runs (they fall
/// at every drop) and not in the multi-power, momentum or share laws (their forecasts fall with the rate); the convex
/// bound (Schaipp et al. 2025) does jump at a step drop, by construction of the last-iterate bound: its term for k = T-1
/// carries <c>eta_(T-1) / eta_T</c>, the drop's ratio r, so right after a drop by r = 10 the bound rises (MPL 400M's
/// <c>wsdcon_3</c>: +5.5 % at the drop's step, +1.7 % one step later) and comes back over about r steps. Read as a
/// disagreement, that excursion drew the band 2.0 % half-wide at the drop's step against 0.42 % on either side. Only a
/// rise that follows a fall is held: where the rate stays constant a law's rising forecast (the convex bound's
/// <c>eta ln T</c> term on a long constant run) is its claim about the future and still counts. On a continuous decay
/// (the rate falls at every step) this is the running minimum. The hold is taken over the points the run asks for (no
/// extra evaluation): with points one step apart it is exact, with sparser ones the value held is the forecast at the
/// last point before the fall. A forecast that does not rise after a fall is returned unchanged.
/// </summary>
public static class NonRisingForecast
{
    /// <summary>
    /// <paramref name="loss"/> (at <paramref name="run"/>'s steps, ascending) as the stack reads it: after a fall of the rate
    /// <c>run.Eta</c> between two points, each point's value is at most the value read at the point before the fall, until
    /// a point's forecast is below that value or the rate rises. Non-finite values are left as they are.
    /// </summary>
    public static double[] Of(LawRun run, double[] loss)
    {
        var from = Sources(run, loss);
        return from.Select(j => loss[j]).ToArray();
    }

    /// <summary>
    /// The rule of <see cref="Of"/> as indices: for each point i of <paramref name="run"/>, the point j &lt;= i whose forecast
    /// it takes (<c>Of(run, loss)[i] = loss[j]</c>; j = i where nothing is held). A caller that also has the forecast's
    /// derivatives takes point j's for point i: the held forecast is point j's, so its derivative is too (exact wherever the
    /// hold's choice does not change under a small step of the parameters, i.e. except where two forecasts tie).
    /// </summary>
    public static int[] Sources(LawRun run, ReadOnlySpan<double> loss)
    {
        var from = new int[run.Count];
        for (int i = 0; i < from.Length; i++) from[i] = i;
        int held = -1;
        for (int i = 1; i < run.Count; i++)
        {
            var (falls, rises) = Changes(run.Eta, run.Steps[i - 1], run.Steps[i]);
            if (rises) held = -1;
            else if (falls && held < 0 && double.IsFinite(loss[from[i - 1]])) held = from[i - 1];
            if (held < 0 || !double.IsFinite(loss[i])) continue;
            if (loss[i] >= loss[held]) from[i] = held;
            else held = -1;
        }
        return from;
    }

    /// <summary>Whether the rate falls, and whether it rises, at any step of (<paramref name="from"/>, <paramref name="to"/>].</summary>
    private static (bool Falls, bool Rises) Changes(double[] eta, long from, long to)
    {
        bool falls = false, rises = false;
        for (long t = Math.Max(from + 1, 1); t <= to && t < eta.Length; t++)
        {
            if (eta[t] < eta[t - 1]) falls = true;
            else if (eta[t] > eta[t - 1]) rises = true;
        }
        return (falls, rises);
    }
}
