using System.Globalization;
using Anneal.Fitting;

namespace Anneal.Laws;

// The prediction of an auto stack: the weighted members' forecast and its calibrated band.
public sealed partial record FittedLaw
{
    /// <summary>
    /// The stack's forecast <c>L = sum_i w_i N(L_i)</c> over the members of positive weight (<c>N</c>: a member's forecast
    /// held after a fall of the rate, <see cref="NonRisingForecast"/>, as <see cref="AutoLaw"/> mixes them) and its calibrated band
    /// (<see cref="StackBand"/>): relative variance <c>[k^2 (1/n) sum_i ((L_i - L)/L)^2 + kw^2 (1/n_w) sum_{w_i > 0} ((L_i - L)/L)^2] e^(-2 h)
    /// + a^2 M^2 + b^2 F^2 + s^2 + c^2 h^2 + u^2 own</c> (own below; session 22), all times the noise factor <c>max(N, N0) / N0</c> (N the fitted runs' point
    /// noise, <see cref="BandNoise"/>; session 18) (the second sum 0 when one member has weight; h the point's extrapolation in intrinsic
    /// time past the fitted horizon, <see cref="StackBand.Extrapolation"/>; s the floor; c h the error that grows with the
    /// extrapolation whatever the members say, session 16), M the
    /// stack's misfit at the end of its fitted runs (<see cref="EndMisfit"/>), F its error on their own future
    /// (<see cref="FutureError"/>). The first sum is the disagreement of all n fitted members, equally weighted, with the stack's forecast, also of
    /// those the cross-validation gave weight 0: how far the laws part on this schedule is fit-time evidence of how far any
    /// one of them can be off, whichever the cross-validation chose (docs/journal/session-08-auto-band.md: on the MPL splits
    /// the chosen members agree on cooldowns they all forecast 0.7-1 % too low, and only the others' disagreement shows it),
    /// with a small scale since session 11; the second, of the n_w members of positive weight, carries most of the band.
    /// Both are read on the same held forecasts <c>N(L_i)</c> (the convex bound's jump at a step drop is no parting).
    /// A stack left with one fitted member (the others' fits failed) cannot measure its
    /// disagreement: it is taken as large as the member's own variance <c>own</c> (the smallest <c>s_i^2</c> among the members
    /// of positive weight that carry the band, <see cref="CarriesBand"/>; <c>s_i = ln(high_i / L_i) / z</c>, read back from
    /// the member's log-normal band), so that the fallback is not narrower than a stack would be.
    /// </summary>
    private LawPrediction PredictStack(AutoLaw stack, LawRun run, double level)
    {
        int nm = Members.Count, n = run.Count;
        // A member the cross-validation gave weight 0 is out of the forecast and of own, but still measures the disagreement.
        var weighted = Enumerable.Range(0, nm).Where(m => stack.Members[m].Weight > 0).ToArray();
        // The weights on this schedule (a convex bound's tapers off far past the fitted horizon, AutoLaw.ConvexTaper).
        var weights = stack.WeightsFor(run);
        var carriers = weighted.Where(m => CarriesBand(Members, m)).ToArray();
        if (carriers.Length == 0) carriers = weighted;
        var preds = new LawPrediction?[nm];
        var losses = new double[nm][];
        for (int m = 0; m < nm; m++)
        {
            if (carriers.Contains(m)) { preds[m] = Members[m].Predict(run, level); losses[m] = preds[m]!.Loss; }
            else
            {
                // Only its forecast enters (the disagreement, and the loss when weighted): no Jacobian or refits to evaluate.
                losses[m] = Members[m].Law.Predict(run, Members[m].Values);
                if (weighted.Contains(m)) Members[m].CheckLoss(run, losses[m]);
            }
            // The member's gain scaled to the fitted runs' decay points (AutoLaw.GainScales), then its constant part past the
            // fitted horizon at the fixed exponent (AutoLaw.HorizonMatchExponent), as the stack's own evaluation adjusts it
            // (AutoLaw.MemberForecast); a copy, so a band carrier's own band (own) stays relative to its forecast as predicted.
            losses[m] = stack.MemberForecast(m, run, Members[m].Values, losses[m]);
            if (weighted.Contains(m)) Members[m].CheckLoss(run, losses[m]);
        }
        // Every member with a usable forecast measures the disagreement; one of weight 0 whose forecast is not finite and
        // positive is left out of it (it is out of the forecast already).
        var voices = Enumerable.Range(0, nm).Where(m => weighted.Contains(m) || losses[m].All(x => double.IsFinite(x) && x > 0)).ToArray();
        double z = NormalQuantile(0.5 + level / 2);
        // How far each point extrapolates past the fitted horizon in intrinsic time: the disagreements count per unit of it.
        var extrapolation = StackBand.Extrapolation(run, FittedHorizon);
        var loss = new double[n]; var lo = new double[n]; var hi = new double[n];
        // The members are read on forecasts that do not rise while the rate does not (NonRisingForecast): the convex
        // bound's jump right after a step drop of the rate is neither a rise of the loss (the stack's forecast, as
        // AutoLaw's own evaluation mixes them; docs/journal/session-14-auto-step-drop.md) nor a parting of the laws
        // (the disagreement, measured about that forecast; "Session 14: band at a step drop").
        var read = new double[nm][];
        foreach (int m in voices) read[m] = NonRisingForecast.Of(run, losses[m]);
        for (int i = 0; i < n; i++)
            foreach (int m in weighted) loss[i] += weights[m] * read[m][i];
        for (int i = 0; i < n; i++)
        {
            double mean = loss[i], own = double.PositiveInfinity, disagree = 0, chosen = 0;
            foreach (int m in carriers)
            {
                double s = Math.Log(preds[m]!.High[i] / preds[m]!.Loss[i]) / z;
                own = Math.Min(own, s * s);
            }
            foreach (int m in voices)
            {
                double d = (read[m][i] - mean) / mean;
                disagree += d * d / voices.Length;
            }
            // The members the stack mixes, equally weighted: 0 with one of them (it is the forecast).
            if (weighted.Length > 1)
                foreach (int m in weighted)
                {
                    double d = (read[m][i] - mean) / mean;
                    chosen += d * d / weighted.Length;
                }
            if (voices.Length == 1) disagree = chosen = own;
            // The band model and its constants: StackBand (docs/journal/session-11-bands.md to
            // docs/journal/session-16-band-out-of-sample.md).
            double rel = Math.Sqrt(StackBand.RelativeVariance(disagree, chosen, EndMisfit, FutureError, extrapolation[i], BandNoise, own));
            (lo[i], hi[i]) = (mean * Math.Exp(-z * rel), mean * Math.Exp(z * rel));
        }
        // A member without a band leaves the stack without one: its spread is unknown, not zero.
        // Past the fitted horizon of runs that have not reached the laws' regime (RegimeCheck), or past four epochs of data the
        // fitted runs saw once (EpochBoundary), the band's calibration does not hold.
        var unavailable = BandWithheld(run, level) ?? carriers.Select(m => preds[m]!.BandUnavailable is { } why ? $"{why} (member {stack.Members[m].Law.Spec} of the auto stack)" : null).FirstOrDefault(w => w is not null)
            ?? (double.IsFinite(EndMisfit) ? null : string.Create(CultureInfo.InvariantCulture, $"no {level * 100:G4}% band: the auto law records no band_end_misfit (a law file written before it was; refit it), so how far its fit misses its own runs is unknown"))
            ?? (StackBand.NoiseFloor > 0 && double.IsNaN(BandNoise) ? string.Create(CultureInfo.InvariantCulture, $"no {level * 100:G4}% band: the auto law records no band_noise (a law file written before it was; refit it), so how noisy its fitted runs are, which sets the band's width, is unknown") : null)
            ?? (extrapolation.Any(double.IsNaN) ? string.Create(CultureInfo.InvariantCulture, $"no {level * 100:G4}% band: the auto law records no fitted_horizon (a law file written before it was; refit it), so whether and how far the forecast extrapolates past its fitted runs (which the band and the regime check read) is unknown") : null)
            ?? BandCheck.Problem(run.Steps, lo, hi, level);
        if (unavailable is not null) { Array.Fill(lo, double.NaN); Array.Fill(hi, double.NaN); }
        var warning = string.Join("; ", new[] { Epoch?.ForecastWarning(run), FarHorizonWarning(run) }.Where(w => w is not null));
        return new LawPrediction(run.Steps, loss, lo, hi, level) { BandUnavailable = unavailable, Warning = warning.Length > 0 ? warning : null };
    }

    /// <summary>
    /// The ratio of a forecast's end to the fitted horizon past which it carries <see cref="FarHorizonWarning"/>: 2, where the
    /// benchmark's coverage of <c>auto</c>'s 95 % band falls to 86-90 % and its errors reach 15-16 % (docs/accuracy.md, "By
    /// extrapolation"; session 26).
    /// </summary>
    public const double FarHorizon = 2;

    /// <summary>
    /// Null unless <paramref name="run"/> ends more than <see cref="FarHorizon"/> times the fitted horizon (the last step a
    /// fitted point reached); then what the benchmark says of such forecasts. Why: measured blind in session 26, gpt-ruby and
    /// gpt-ocaml's annealed schedules at 2-4x their fitted horizon were forecast 8-16 % too high, their decay's gain over the
    /// constant rate doubling between the fitted horizon and 2x, which nothing the fit measures shows and the band does not
    /// cover (docs/laws.md, "Known limits"; docs/journal/session-26-blind-measurement.md).
    /// </summary>
    public string? FarHorizonWarning(LawRun run)
    {
        if (FittedHorizon <= 0 || run.Steps.Length == 0) return null;
        double ratio = (run.Steps[^1] + 1.0) / (FittedHorizon + 1.0);
        return ratio > FarHorizon
            ? string.Create(CultureInfo.InvariantCulture,
                $"the forecast runs to {ratio:0.#}x the fitted runs' last step ({FittedHorizon}): that far out the band covers fewer than 95 % of the benchmark's finals, and where a decay's gain grows faster with training than the laws' it is forecast several percent too high (docs/laws.md, Known limits); fit runs that reach closer to this horizon, e.g. a constant run with a short cooldown branch near it")
            : null;
    }

    /// <summary>
    /// Whether member <paramref name="m"/> of a stack carries its band: members fitted to the optimum do; a member
    /// fitted by the early-stopped reference procedure (no refits in a stack, a delta method around a point that
    /// is no optimum) does only when no member is fitted to the optimum.
    /// </summary>
    internal static bool CarriesBand(IReadOnlyList<FittedLaw> members, int m) =>
        members[m].Report.Method != FitMethod.EarlyStoppedAdamW || members.All(x => x.Report.Method == FitMethod.EarlyStoppedAdamW);
}
