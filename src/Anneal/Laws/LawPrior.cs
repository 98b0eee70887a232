using Anneal.Specs;

namespace Anneal.Laws;

/// <summary>
/// A prior on one positive parameter of a law, added to the fit as a pseudo-observation (a maximum a posteriori fit):
/// one more residual row <c>r = -Scale * (ln p[Index] - ln Mode) / Sigma</c> after the runs' log residuals, treated by the
/// fitter's Huber objective like the others. Where the runs say nothing about the parameter the fit returns
/// <see cref="Mode"/>; where they do, the row pulls with a force of at most <c>HuberDelta * Scale / Sigma</c> per unit of
/// <c>ln p</c> (beyond the Huber threshold the row is linear: a Laplace prior's tails), so strong data move it little.
/// Used by <see cref="AgeMomentumLaw"/> for nu, which a WSD calibration (two early cooldowns) does not pin
/// (docs/journal/session-10-cooldown-gains.md, "Pinning nu"), and by <see cref="Exponent"/> for the exponent of the
/// LR-area power law, which calibration
/// runs that end in or near the early transient do not pin (docs/journal/session-11-horizons.md).
/// </summary>
/// <param name="Index">The parameter the prior is on.</param>
/// <param name="Mode">Its most probable value (in the fitter's canonical LR unit; a unit-free parameter needs no conversion).</param>
/// <param name="Sigma">Standard deviation of <c>ln p</c> in the prior's Gaussian core.</param>
/// <param name="Scale">The log-loss residual that one Sigma of the prior is worth, i.e. how many logged points it weighs.</param>
internal sealed record LawPrior(int Index, double Mode, double Sigma, double Scale)
{
    /// <summary>
    /// Standard deviation of <c>ln alpha</c> in <see cref="Exponent"/>: a little wider than the spread (0.12) of the exponents
    /// of the whole constant runs of the seven corpora that have one (0.435-0.625 around their geometric mean 0.50;
    /// docs/journal/session-11-horizons.md).
    /// </summary>
    public const double ExponentSigma = 0.15;

    /// <summary>
    /// The log-loss residual one sigma of <see cref="Exponent"/> is worth: weak, so that it moves alpha only where the
    /// fitted runs leave it loose along the L0-alpha ridge (a short calibration inside the early transient fits alpha
    /// 0.09-0.13 with L0 at 0); measured in docs/journal/session-11-horizons.md.
    /// </summary>
    public const double ExponentScale = 0.003;

    /// <summary>A prior on the exponent of the LR-area power law (parameter <paramref name="index"/>) with mode <paramref name="mode"/>.</summary>
    public static LawPrior Exponent(int index, double mode) => new(index, mode, ExponentSigma, ExponentScale);

    /// <summary>
    /// The <c>alpha_prior=</c> option of <c>age</c> and <c>momentum</c>: the mode of a weak prior on the LR-area exponent
    /// (<see cref="Exponent"/>), or null without it.
    /// </summary>
    public static double? ExponentMode(SpecArgs a) => a.Raw("alpha_prior") switch
    {
        null or SpecText { Value: "none" } => null,
        SpecNumber { Value: > 0 and <= 5 } n => n.Value,
        var other => throw a.Fail($"alpha_prior must be a number in (0, 5] (the mode of the LR-area exponent alpha) or the word none, got {other}"),
    };

    /// <summary>The pseudo-residual at <paramref name="p"/> and its row of the fitter's Jacobian (d log pred / dp, so -dr/dp).</summary>
    public double Residual(ReadOnlySpan<double> p, Span<double> jacRow)
    {
        double v = p[Index];
        if (!jacRow.IsEmpty)
        {
            jacRow.Clear();
            jacRow[Index] = Scale / (Sigma * v);
        }
        return -Scale * Math.Log(v / Mode) / Sigma;
    }
}
