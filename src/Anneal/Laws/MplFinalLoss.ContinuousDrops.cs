namespace Anneal.Laws;

/// <summary>
/// The final loss of a law fitted as <c>mpl(drops=continuous)</c> (<see cref="MultiPowerLaw.ContinuousDrops"/>), with its exact
/// gradients: a decrease from <c>p</c> to <c>e</c> larger than <see cref="MultiPowerLaw.State.MaxPieceRatio"/> enters LD as the
/// laws layer evaluates it, the midpoint rule on m geometric pieces with edges <c>e_j = e^(1-j/m) p^(j/m)</c> and midpoints
/// <c>mid_j = (e_j + e_(j+1)) / 2</c>:
/// <code>
/// T(p, e, S) = sum_j (e_(j+1) - e_j) G(mid_j^-gamma S)
/// dT/dS = sum_j (e_(j+1) - e_j) G'(x_j) mid_j^-gamma
/// dT/dp = sum_j [(de_(j+1)/dp - de_j/dp) G(x_j) - gamma (e_(j+1) - e_j) G'(x_j) x_j / mid_j * dmid_j/dp],  de_j/dp = (j/m) e_j / p
/// </code>
/// and dT/de alike with <c>de_j/de = (1 - j/m) e_j / e</c> (m is fixed between the points where the ratio p/e crosses a power
/// of the piece ratio, where the value moves by the midpoint rule's error, ~2e-5 of the drop's term). Every other change
/// (a smooth decay, a rise, a drop to 0) is the paper's term, as in the laws layer.
/// </summary>
public sealed partial class MplFinalLoss
{
    /// <summary>
    /// True for a law fitted with <c>drops=continuous</c>: the schedule's larger decreases are realised over the rates they
    /// cross (see the class remarks), so that the designed schedule's loss is the one the fitted law predicts.
    /// </summary>
    public bool ContinuousDrops { get; init; }

    /// <summary>True when the decrease from <paramref name="from"/> to <paramref name="to"/> is cut into pieces.</summary>
    private bool Cut(double from, double to) => ContinuousDrops && to > 0 && MultiPowerLaw.State.Pieces(from, to) > 1;

    /// <summary>The term T of a cut decrease and its derivatives in the rate before, the rate after and the LR area since it.</summary>
    private double CutDrop(double from, double to, double s, out double dFrom, out double dTo, out double dS)
    {
        int m = MultiPowerLaw.State.Pieces(from, to);
        double lnR = Math.Log(from / to) / m, gamma = Law.Gamma, beta = Law.Beta, c = Law.C;
        double v = 0, lo = to, loF = 0, loT = 1;
        dFrom = 0; dTo = 0; dS = 0;
        for (int q = 0; q < m; q++)
        {
            double hi = MultiPowerLaw.State.PieceEdge(from, to, lnR, m, q + 1);
            double a = (double)(q + 1) / m, hiF = a * hi / from, hiT = (1 - a) * hi / to;
            double mid = 0.5 * (lo + hi), len = hi - lo;
            double w = Math.Pow(mid, -gamma), x = w * s, u = 1 + c * x, pw = Math.Pow(u, -beta), g = 1 - pw, gp = beta * c * pw / u;
            double viaMid = -gamma * len * gp * x / mid;   // d(len G(x))/dmid
            v += len * g;
            dS += len * gp * w;
            dFrom += (hiF - loF) * g + viaMid * 0.5 * (loF + hiF);
            dTo += (hiT - loT) * g + viaMid * 0.5 * (loT + hiT);
            lo = hi; loF = hiF; loT = hiT;
        }
        return v;
    }

    /// <summary>dT/dp of a cut decrease: how the term of the step after a rate depends on that rate.</summary>
    private double DropFrom(double from, double to, double s)
    {
        CutDrop(from, to, s, out double dFrom, out _, out _);
        return dFrom;
    }
}
