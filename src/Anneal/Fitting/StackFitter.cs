using System.Diagnostics;
using Anneal.Laws;

namespace Anneal.Fitting;

/// <summary>
/// Fits an <see cref="AutoLaw"/>: each member law on its own (its own method, starts and band refits), then
/// the stacking weights: the prior ones, or (<see cref="AutoLaw.CrossValidatedWeights"/>) those that forecast the
/// fitted runs' own future best (<see cref="ChooseWeights"/>); then each member's alternate takes its place where it
/// forecasts that future better (<see cref="ChooseMembers"/>). A member whose fit fails is left out and the remaining weights renormalised,
/// with a warning naming it; the stack fails only when every member does.
/// </summary>
public static class StackFitter
{
    /// <summary>
    /// Fits every member of <paramref name="law"/> on <paramref name="runs"/>, and, when the weights are cross-validated,
    /// each member's alternate (<see cref="AutoLaw.Alternates"/>): <see cref="ChooseWeights"/> chooses the weights among
    /// the members, then <see cref="ChooseMembers"/> whether an alternate takes its member's place. <paramref name="regime"/>
    /// is the runs' regime check (<see cref="RegimeCheck.Of(IReadOnlyList{LawRun})"/>, null where it cannot be made), made once by
    /// <see cref="LawFitter.Fit"/>, which records it on the fit: where it fires, the convex member leaves past the horizon.
    /// </summary>
    public static FittedLaw Fit(AutoLaw law, IReadOnlyList<LawRun> runs, FitOptions? options, RegimeCheck? regime)
    {
        options ??= new FitOptions();
        var sw = Stopwatch.StartNew();
        var warnings = new List<string>();
        var errors = new List<string>();
        var preFit = new SharedPreFit();
        // A member fitted by the early-stopped reference procedure keeps the best point its path evaluated, not the point
        // one step after it (the reference's choice, kept for mpl(warmup=reference) fitted alone so that it reproduces the
        // published fits): on the engine corpora's small splits the path oscillates and the point after the best step fit
        // its own runs 3.4x worse, which put engine-mlp's stack 0.8 % above every schedule (docs/journal/session-10-auto.md).
        // A member whose runs have too few points for its full form is left out, not fitted in its reduced form
        // (FitOptions.ReducedForm): the reduced multi-power law made the stack's WSD forecasts worse
        // (docs/journal/session-15-wsd-end-points.md).
        var memberOptions = options with { Method = null, KeepBestEvaluated = true, ReducedForm = false };
        int n = law.Members.Count;
        // The cross-validation's refits on the fitted runs' past (ChooseMembers, ChooseWeights) are independent of the full
        // fits: all of them run side by side on the cores (each may still split its own work).
        bool cv = law.CrossValidatedWeights && n > 1;
        var (heads, tails, cut) = cv ? FutureCut(runs) : ([], [], 0);
        cv &= heads.Count > 0 && tails.Count > 0;
        // The candidates: the members, then (only with a cross-validation to choose by) their alternates; slot[c] is the
        // member whose place candidate c would take (alternate i takes member i mod n's: AutoLaw.Alternates).
        var candidates = law.Members.Select(m => m.Law).ToList();
        var slot = Enumerable.Range(0, n).ToList();
        if (cv)
            for (int i = 0; i < law.Alternates.Count; i++)
                if (law.Alternates[i] is { } alternate && AutoLaw.Weighs(alternate, runs)) { candidates.Add(alternate); slot.Add(i % n); }
        int nc = candidates.Count;
        // Only members fitted to the optimum carry the stack's band (FittedLaw.PredictStack); a member fitted by
        // the early-stopped reference procedure enters through its disagreement with them, so its leave-one-run-out
        // refits (each restarting the procedure: three quarters of the stack's fit) are skipped, unless no
        // optimum member is left to carry the band.
        bool CarriesBand(LossLaw m) => m.PreferredMethod != FitMethod.EarlyStoppedAdamW;
        bool anyCarrier = candidates.Any(CarriesBand);
        var outcome = new (FittedLaw? Fit, string? Error)[nc];
        var past = new (FittedLaw? Fit, string? Error)[nc];
        var pastPreFit = new SharedPreFit();
        // Every fit starts from its runs' pre-fit, which the first fit to need it used to compute while the others waited for
        // it, one core idle: both pre-fits (the runs' and their past's) are computed first, side by side, each in parts that
        // the core done first shares (PreFit.Fit). The same hints: each is computed once, from the runs the fits see
        // (docs/benchmarks.md, "Session 18").
        if (EvaluationParallelism.Allowed)
            Parallel.Invoke(EvaluationParallelism.Options, () => preFit.Warm(runs, memberOptions), () => { if (cv) pastPreFit.Warm(heads, memberOptions); });
        // The early-stopped reference procedure's fits (full and past) take several times longer than the others: started
        // first, they run while the short fits fill the other core, instead of starting last and leaving one core idle.
        var order = Enumerable.Range(0, cv ? 2 * nc : nc).OrderBy(j => candidates[j % nc].PreferredMethod == FitMethod.EarlyStoppedAdamW ? 0 : 1).ToArray();
        LawFitter.ForEachIndependent(order.Length, o =>
        {
            int j = order[o], i = j % nc;
            var member = candidates[i];
            if (j >= nc)
            {
                try { past[i] = (LawFitter.FitShared(member, heads, memberOptions with { Jackknife = false, Progress = null }, pastPreFit), null); }
                catch (InputException e) { past[i] = (null, e.Message); }
                return;
            }
            bool refits = !anyCarrier || CarriesBand(member);
            try { outcome[i] = (LawFitter.FitShared(member, runs, refits ? memberOptions : memberOptions with { Jackknife = false }, preFit), null); }
            catch (InputException e) { outcome[i] = (null, e.Message); }
        });
        if (anyCarrier && !Enumerable.Range(0, nc).Any(i => CarriesBand(candidates[i]) && outcome[i].Fit is not null))
            for (int i = 0; i < nc; i++)
                if (outcome[i].Fit is not null && memberOptions.Jackknife)   // no band carrier survived: the others get their refits after all
                    outcome[i] = (LawFitter.FitShared(candidates[i], runs, memberOptions, preFit), null);

        // Each fit's gain scale (GainScale): its gain over its constant counterpart scaled to meet its runs' points inside
        // decays; the past refits' on the past's own points, so that the cross-validation weighs the members as the stack
        // will use them. Only on a calibration of short cooldowns (no fitted run decays over more than half its length: the
        // WSD question, where the scale carries a cooldown's gain from the fitted branch steps to later ones of the same
        // shape); a full decay's gain scaled onto other shapes forecast them worse (engine-gpt-tiny's schedules 0.31 ->
        // 2.18 %; docs/journal/session-16-wsd-question.md). auto(weights=fixed) makes no per-fit choice, this one included.
        var scale = Enumerable.Repeat(1.0, nc).ToArray();
        // The same calibrations extrapolate the members' constant parts past the fitted horizon at a fixed exponent
        // (HorizonMatch): on the WSD question it helps under either calibration seed's constant run; on the schedules
        // question (a full decay fitted) session 16 found the other seed did not confirm it (docs/journal/session-17-wsd-question.md).
        bool matches = law.CrossValidatedWeights && !ShareLaw.SpansLongDecay(runs);
        if (matches)
            for (int i = 0; i < nc; i++)
            {
                if (outcome[i].Fit is { } f) scale[i] = GainScale.Fit(f.Law, f.Values, runs);
                if (past[i].Fit is { } pf) past[i] = (Scaled(pf, heads), null);
            }
        // A member whose gain runs against the fitted points inside decays (its scale stops at 0: it forecasts that the
        // cooldown raised the loss, or bought nothing) would forecast every cooldown at its constant run; it is left out
        // like a member whose fit failed, where at least two members whose gains meet them stay (with one member left
        // there would be nothing to weigh, and no alternate would be weighed: StackFitter's cross-validation chooses
        // among two or more). From end points the convex member's fit runs to c1 -> 0, its bound's distance term alone,
        // whose gain is of the other sign, and at scale 0 it forecast gpt-gcide's cooldowns 7-16 % too high at weight 0.3
        // (docs/journal/session-21-ends.md).
        var against = new bool[nc];
        if (matches && Enumerable.Range(0, n).Count(i => outcome[i].Fit is not null && scale[i] > 0) >= 2)
            for (int i = 0; i < nc; i++)
                if (outcome[i].Fit is not null && scale[i] == 0)
                {
                    against[i] = true;
                    outcome[i] = (null, "its gain over its constant counterpart runs against the fitted runs' points inside decays (GainScale 0: scaled to meet them it forecasts no gain)");
                }
        // The candidate in each place: the member, or its first alternate that could be fitted when the member could not;
        // the alternates fitted beside it (alternatesOf[i], in order) are weighed against it, one after the other, once
        // the weights are chosen.
        var place = Enumerable.Range(0, n).ToArray();
        var alternatesOf = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
        var placeWhy = new List<string>();
        for (int c = n; c < nc; c++)
        {
            int i = slot[c];
            if (outcome[c].Fit is null) continue;   // an alternate that cannot be fitted leaves the member in place
            if (outcome[place[i]].Fit is null) { placeWhy.Add($"{candidates[c].Spec} in place of {candidates[place[i]].Spec}, " + (against[place[i]] ? "whose gain runs against the fitted decays" : "whose fit failed")); place[i] = c; }
            else alternatesOf[i].Add(c);
        }
        // Alternates of one place with the same parameters (one law under another structural option: share's clock) are one
        // choice, made by the fitted runs themselves before the future decides between it and the member (BetterFitOfSame).
        for (int i = 0; i < n; i++) alternatesOf[i] = BetterFitOfSame(alternatesOf[i], candidates, outcome, placeWhy);
        var fits = new List<(FittedLaw Fit, double Weight)>();
        var pasts = new List<(FittedLaw? Fit, string? Error)>();
        var places = new List<int>();
        var scales = new List<double>();
        for (int i = 0; i < n; i++)
        {
            int c = place[i];
            double weight = law.Members[i].Weight;
            if (outcome[c].Fit is { } f) { fits.Add((f, weight)); pasts.Add(past[c]); places.Add(i); scales.Add(scale[c]); }
            else
            {
                errors.Add($"{candidates[c].Spec}: {outcome[c].Error}");
                warnings.Add($"auto: member {candidates[c].Spec} left out ({(against[c] ? "" : "its fit failed: ")}{outcome[c].Error})");
            }
        }
        if (fits.Count == 0) throw new InputException("fit of auto failed: every member law failed (" + string.Join("; ", errors) + ")");
        string? choice = null;
        bool ramps = false;
        if (law.CrossValidatedWeights && fits.Count > 1)
        {
            double total = fits.Sum(f => f.Weight);
            var prior = fits.Select(f => f.Weight / total).ToArray();
            int failed = pasts.FindIndex(p => p.Fit is null);
            var members = fits.Select(f => f.Fit.Law).ToArray();
            // On short-cooldown calibrations (the WSD question, whose future is the latest branch's end), the fitted runs' point
            // noise about the prior mixture of the members as fitted (StackBand.PointNoise): how far one logged point strays by
            // chance (the noise test of ChooseWeights and ChooseMembers). Not where a fitted run decays over more than half its
            // length: there PastWeighs already keeps the prior on thin pasts, and on gpt100m-rope's schedules fit (1,752 points
            // of training loss) the test kept the prior weights, 1.77 % off, over a tilt 0.31 % off (session 23).
            double noise = cv && matches ? StackBand.PointNoise(r => MixedForecast(fits, prior, r), runs) : double.NaN;
            var (weights, why) = !cv ? (prior, "the prior weights stand: no step of the fitted runs leaves points on both sides to forecast their future from their past")
                : failed >= 0 ? (prior, $"the prior weights stand: {fits[failed].Fit.Law.Spec} could not be refitted on the fitted runs' points up to step {cut} ({pasts[failed].Error})")
                : !PastWeighs(members, runs, heads) ? (prior, ThinPast(members, heads, cut))
                : ChooseWeights(members, prior, pasts.Select(p => p.Fit!).ToArray(), tails, cut, noise);
            fits = fits.Select((f, i) => (f.Fit, weights[i])).ToList();
            choice = why;
            // Then each member's alternate takes its place, at its weight (or alone), where that forecasts the fitted runs'
            // future better (only where the weights were cross-validated: the same refits decide both).
            // With several alternates for one place, each is weighed in turn against whichever law holds the place then.
            for (int k = 0; k < fits.Count && cv && failed < 0; k++)
            {
                foreach (int c in alternatesOf[places[k]])
                {
                    if (past[c].Fit is null)
                    {
                        placeWhy.Add($"{fits[k].Fit.Law.Spec} stands ({candidates[c].Spec} could not be refitted on the fitted runs' points up to step {cut}: {past[c].Error})");
                        continue;
                    }
                    var (chosen, swap, reason) = ChooseMembers(pasts.Select(p => p.Fit!).ToArray(), fits.Select(f => f.Weight).ToArray(), k, past[c].Fit!, tails, cut, noise);
                    placeWhy.Add(reason);
                    if (swap) { fits[k] = (outcome[c].Fit!, fits[k].Weight); pasts[k] = past[c]; scales[k] = scale[c]; }
                    fits = fits.Select((f, i) => (f.Fit, chosen[i])).ToList();
                }
            }
            // Where the cross-validation kept the prior weights and put the share law in the first place, the reference
            // member's weight ramps up with the extrapolation (AutoLaw.ReferenceRamp); a tilt or a member alone stands as chosen.
            ramps = cv && failed < 0 && RampsReference(fits.Select(f => (f.Fit.Law, f.Weight)).ToArray(), prior);
            // The band is carried by the weighted members fitted to the optimum; when the choice kept only members fitted
            // without band refits, they get their refits after all.
            if (memberOptions.Jackknife && !fits.Any(f => f.Weight > 0 && CarriesBand(f.Fit.Law)))
                fits = fits.Select(f => f.Weight > 0 && f.Fit.Replicates.Length == 0 ? (LawFitter.FitShared(f.Fit.Law, runs, memberOptions, preFit), f.Weight) : f).ToList();
        }
        if (placeWhy.Count > 0) choice = (choice ?? FittedLaw.AutoLawReason) + "; " + string.Join("; ", placeWhy);
        long horizon = runs.Max(r => r.Steps[^1]);
        // The convex member tapers off far beyond the last fitted step (AutoLaw.ConvexTaper): record where that is.
        // The convex member has a share, and not the whole: the taper and the regime rule below move its weight to the others.
        bool convexShares = fits.Any(f => f.Fit.Law is ConvexBoundLaw && f.Weight > 0 && f.Weight < fits.Sum(g => g.Weight));
        if (convexShares)
            choice = (choice ?? FittedLaw.AutoLawReason) + "; " + string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"on a schedule ending at step T beyond {AutoLaw.ConvexTaper} x the fitted horizon ({horizon}), the convex member's weight is scaled by {AutoLaw.ConvexTaper * horizon:0} / T, the others sharing the rest (AutoLaw.ConvexTaper)");
        // Runs that end before the laws' regime (RegimeCheck): past the fitted horizon the convex member's weight goes to the
        // others (AutoLaw.LeavesConvexPastHorizon).
        bool leaves = law.CrossValidatedWeights && regime is { Fires: true } && convexShares;
        if (leaves)
            choice = (choice ?? FittedLaw.AutoLawReason) + "; " + string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"on a schedule ending past the fitted horizon ({horizon}) the convex member's weight goes to the others in proportion: the fitted runs have not reached the laws' regime (the loss falls faster in log time at their end, {regime!.Z:0.#} standard errors: RegimeCheck), so every member's forecast past it errs high and the convex bound's the most (AutoLaw.LeavesConvexPastHorizon)");
        if (ramps)
            choice = (choice ?? FittedLaw.AutoLawReason) + "; " + string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"with the share law in the first place at the prior weights, the reference member keeps the fraction clamp((T / {horizon} - 1) / {AutoLaw.ReferenceRamp - 1}, 0, 1) of its weight on a schedule ending at step T, the others sharing the rest (AutoLaw.ReferenceRamp)");
        var stack = new AutoLaw(fits.Select(f => (f.Fit.Law, f.Weight)).ToArray(), law.CrossValidatedWeights)
        {
            FittedHorizon = horizon, RampsReference = ramps, LeavesConvexPastHorizon = leaves,
            GainScales = scales.All(k => k == 1) ? [] : scales.ToArray(),
            HorizonMatchExponent = matches ? HorizonMatch.Exponent : 0,
        };
        if (matches)
            choice = (choice ?? FittedLaw.AutoLawReason) + "; " + string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"past the fitted horizon ({horizon}) each member's constant-rate part extrapolates as a power law of exponent {HorizonMatch.Exponent} with its level and slope at the horizon (HorizonMatch, on a calibration of short cooldowns)");
        if (scales.Any(k => k != 1))
            choice = (choice ?? FittedLaw.AutoLawReason) + "; " + string.Join(", ", fits.Select((f, i) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{f.Fit.Law.Spec} gain x {scales[i]:0.###}"))) + " (each member's gain over its constant counterpart scaled to meet the fitted runs' points inside decays: GainScale)";
        foreach (var f in fits) warnings.AddRange(f.Fit.Report.Warnings.Select(w => $"{f.Fit.Law.Spec}: {w}"));
        // The band's fit-time evidence (StackBand): the misfit at the fitted runs' ends, the chosen weights' error on the
        // fitted runs' future from the refits on their past (when every member could be refitted there), and the fitted
        // runs' point noise about the stack, which scales the band.
        var assembled = Assemble(stack, fits.Select(f => f.Fit).ToArray(), warnings, sw.Elapsed.TotalSeconds);
        double future = cv && pasts.All(p => p.Fit is not null) ? StackBand.FutureErrorOf(pasts.Select(p => p.Fit!).ToArray(), fits.Select(f => f.Weight).ToArray(), tails) : double.NaN;
        return assembled with
        {
            StackChoice = choice, EndMisfit = StackBand.EndMisfitOf(stack, assembled.Values, runs), FutureError = future,
            BandNoise = StackBand.NoiseOf(stack, assembled.Values, runs),
        };
    }

    /// <summary>
    /// Whether a member's alternate takes its place (<see cref="AutoLaw.Alternates"/>): the stack's members refitted on the
    /// fitted runs' points up to the cut of <see cref="FutureCut"/> (<paramref name="past"/>), at the weights the
    /// cross-validation chose (<paramref name="weights"/>), forecast the last point of every <paramref name="tails"/> run,
    /// once as they are and once with <paramref name="alternatePast"/> in place of member <paramref name="place"/>, scored
    /// as <see cref="ChooseWeights"/> scores a weighting (mean |ln(forecast / observed)|). The alternate takes the place, at
    /// the member's weight, when its error is lower; then, as after a tilt, it takes all the weight when its error alone is
    /// below <see cref="Alone"/> x the stack's (a law that forecasts the future exactly is not kept at a share that only
    /// cancelled the member's error) and leads it by more than <see cref="NoiseLead"/> x <paramref name="noise"/>
    /// (<see cref="ChooseWeights"/>' noise test). No margin for the swap: the two are alternatives of one place, neither the better by
    /// default, and at a small weight the place changes the stack little either way. Why after the weights and not among
    /// them: the weights are chosen among the default members as before, so that a law swapped in cannot also move them on
    /// a tail or two (on the published 25M split, weights chosen with the age law in place turned a tilt to the multi-power
    /// law, the best forecaster there, into a tilt to the age law, R^2 0.9990 -> 0.9982; docs/journal/session-11-auto.md).
    /// Returns the weights (in the order of <paramref name="past"/>), whether the alternate is in, and the reason in words,
    /// with the errors.
    /// </summary>
    public static (double[] Weights, bool UseAlternate, string Reason) ChooseMembers(IReadOnlyList<FittedLaw> past, IReadOnlyList<double> weights, int place, FittedLaw alternatePast, IReadOnlyList<LawRun> tails, long cut, double noise = 0)
    {
        var ends = past.Select(p => EndForecasts(p, tails)).ToArray();
        double now = EndError(ends, weights, tails);
        var swapped = (double[][])ends.Clone();
        swapped[place] = EndForecasts(alternatePast, tails);
        double with = EndError(swapped, weights, tails);
        var alone = Enumerable.Range(0, past.Count).Select(i => i == place ? 1.0 : 0.0).ToArray();
        double aloneErr = EndError(swapped, alone, tails);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        string member = SpecOf(past[place]), alternate = SpecOf(alternatePast);
        bool use = with < now;   // false too when either is not finite: the member stands
        double best = Math.Min(now, with);
        string scores = string.Create(inv, $"refitted on the fitted runs' points up to step {cut}, the stack forecasts the last points of {string.Join(", ", tails.Select(t => t.Name))} with mean |log error| {100 * with:0.###} % with {alternate} at weight {weights[place]:0.##} and {100 * now:0.###} % with {member}");
        if (aloneErr < Alone * best && BeyondNoise(best - aloneErr, noise))
            return (alone, true, string.Create(inv, $"{alternate} alone in place of {member}, its error alone ({100 * aloneErr:0.###} %) being below {Alone} x the stack's: ") + scores);
        if (aloneErr < Alone * best)
            scores += string.Create(inv, $" ({alternate} alone, {100 * aloneErr:0.###} %, leads by less than {NoiseLead} x the fitted runs' point noise {100 * noise:0.###} %)");
        return (weights.ToArray(), use, use ? $"{alternate} in place of {member}: {scores}" : $"{member} stands, not {alternate}: {scores}");
    }

    /// <summary>
    /// Of the fitted alternates of one place (<paramref name="alternates"/>, indices into <paramref name="candidates"/>), those
    /// that are the same law with the same parameters (one law under another structural option, e.g. <c>share</c> and
    /// <c>share(clock=level)</c>) are one choice: only the one whose fit meets the fitted runs better (the lower objective of
    /// <paramref name="outcome"/>) is kept, to be weighed against the member by the fitted runs' future (<see cref="ChooseMembers"/>).
    /// Why by the fit and not by that future: with the same parameters the lower objective is the likelier form, and no
    /// margin is needed; the future (a few tail points) reads the stack's cancellation with the other members more than the
    /// form (on the published 400M split <c>share(clock=level)</c> forecasts the future alone at 0.057 % against <c>share</c>'s
    /// 0.096 %, but at weight 0.9 in the stack 0.136 % against 0.090 %), and on the forecasting benchmark the fit keeps the
    /// age clock on every split where <c>share</c> is weighed, so the benchmark's forecasts are unchanged
    /// (docs/journal/session-14-published-split-auto.md). Each choice is added to <paramref name="why"/>. Returns the kept
    /// alternates, in their order.
    /// </summary>
    public static List<int> BetterFitOfSame(IReadOnlyList<int> alternates, IReadOnlyList<LossLaw> candidates, IReadOnlyList<(FittedLaw? Fit, string? Error)> outcome, List<string> why)
    {
        static bool Same(LossLaw a, LossLaw b) => a.GetType() == b.GetType() && a.Parameters.Select(p => p.Name).SequenceEqual(b.Parameters.Select(p => p.Name));
        var kept = new List<int>();
        foreach (int c in alternates)
        {
            int r = kept.FindIndex(k => Same(candidates[k], candidates[c]));
            if (r < 0) { kept.Add(c); continue; }
            int k = kept[r];
            double oc = outcome[c].Fit!.Report.Objective, ok = outcome[k].Fit!.Report.Objective;
            var (win, lose, ow, ol) = oc < ok ? (c, k, oc, ok) : (k, c, ok, oc);   // the earlier stands when they tie
            why.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{candidates[win].Spec} weighed, not {candidates[lose].Spec}: with the same parameters it fits the fitted runs better (objective {ow:G4} against {ol:G4})"));
            kept[r] = win;
        }
        return kept;
    }

    /// <summary>
    /// Whether a cross-validated stack ramps its reference member's weight (<see cref="AutoLaw.RampsReference"/>): the
    /// members as chosen (<paramref name="chosen"/>, after <see cref="ChooseWeights"/> and <see cref="ChooseMembers"/>) are
    /// at the <paramref name="prior"/> weights (no tilt, no member alone), the share law holds a place and a multi-power
    /// member fitted by the reference procedure another: the stack on which the ramp was measured
    /// (docs/journal/session-13-auto.md).
    /// </summary>
    public static bool RampsReference(IReadOnlyList<(LossLaw Law, double Weight)> chosen, IReadOnlyList<double> prior) =>
        chosen.Select(m => m.Weight).SequenceEqual(prior) && chosen.Any(m => m.Law is ShareLaw && m.Weight > 0)
        && chosen.Any(m => AutoLaw.IsReferenceMember(m.Law) && m.Weight > 0);

    /// <summary>
    /// A past refit as the stack uses its member: its gain scaled to meet <paramref name="heads"/>' points inside decays
    /// (<see cref="GainScale"/>), as the one-member stack with that scale; the fit itself when the scale is 1.
    /// </summary>
    private static FittedLaw Scaled(FittedLaw fit, IReadOnlyList<LawRun> heads)
    {
        double k = GainScale.Fit(fit.Law, fit.Values, heads);
        return k == 1 ? fit : new FittedLaw(new AutoLaw([(fit.Law, 1.0)], crossValidatedWeights: false) { GainScales = [k] }, fit.Values, fit.StdErrors, fit.Covariance, fit.Report) { Members = [fit] };
    }

    /// <summary>The spec of the law a past refit fits: a gain-scaled refit's member's (<see cref="Scaled"/>).</summary>
    private static string SpecOf(FittedLaw past) => past.Law is AutoLaw { Members.Count: 1 } && past.Members.Count == 1 ? past.Members[0].Law.Spec : past.Law.Spec;

    /// <summary>The members as fitted (<paramref name="fits"/>) mixed with <paramref name="weights"/> (summing to 1) on every logged step of <paramref name="run"/>.</summary>
    private static double[] MixedForecast(IReadOnlyList<(FittedLaw Fit, double Weight)> fits, IReadOnlyList<double> weights, LawRun run)
    {
        var sum = new double[run.Count];
        for (int i = 0; i < fits.Count; i++)
        {
            var p = fits[i].Fit.Law.Predict(run, fits[i].Fit.Values);
            for (int j = 0; j < sum.Length; j++) sum[j] += weights[i] * p[j];
        }
        return sum;
    }

    /// <summary>
    /// Whether a choice's <paramref name="lead"/> in cross-validated error over the weighting it would replace exceeds
    /// <see cref="NoiseLead"/> x the fitted runs' point <paramref name="noise"/> (always, when the noise is 0 or unknown): both are scored on the same
    /// observed points, and where the replaced weighting forecasts a point exactly, noise e on its observation lets another
    /// lead by up to |e| by chance.
    /// </summary>
    private static bool BeyondNoise(double lead, double noise) => !(noise > 0) || lead > NoiseLead * noise;

    /// <summary>
    /// The fraction of the fitted runs' point noise by which a choice on the fitted runs' future must lead the weighting it
    /// replaces (<see cref="BeyondNoise"/>). At 1 (one standard deviation) the test also undid three choices that were right
    /// (gpt-deep's and gpt-rope-lion's age law alone, leads 0.75 and 0.47 % against point noises of 0.81 and 0.55 %: their
    /// WSD questions 0.86 -> 1.41 and 0.46 -> 2.35 %); at 0.5 it undoes only gpt-code's tilt (lead 0.98 %, noise 2.77 %) and
    /// mlp-muon's tilt and age law alone (0.32 and 0.31 %, noise 1.08 %). Leave-one-corpus-out among 0 (no test), 0.5 and 1
    /// by session 16's rule picks 0.5 in every fold (docs/journal/session-23-wsd.md).
    /// </summary>
    public const double NoiseLead = 0.5;

    /// <summary>A fit's forecast of the last point of each tail run.</summary>
    private static double[] EndForecasts(FittedLaw fit, IReadOnlyList<LawRun> tails) =>
        tails.Select(t => fit.Law.Predict(t with { Steps = [t.Steps[^1]], Observed = null }, fit.Values)[0]).ToArray();

    /// <summary>
    /// Mean |ln(forecast / observed)| over the tails' last points of the weighting <paramref name="w"/> of the members'
    /// end forecasts <paramref name="ends"/> (<see cref="EndForecasts"/>, one row per member): how <see cref="ChooseWeights"/>
    /// and <see cref="ChooseMembers"/> score a stack.
    /// </summary>
    private static double EndError(double[][] ends, IReadOnlyList<double> w, IReadOnlyList<LawRun> tails) =>
        tails.Select((t, k) => Math.Abs(Math.Log(Enumerable.Range(0, ends.Length).Sum(i => w[i] * ends[i][k]) / t.Observed![^1]))).Average();

    /// <summary>
    /// Points per parameter of the largest fitted member that the fitted runs' past must hold before the cross-validation may
    /// move a long-decay calibration's weights from the prior (<see cref="PastWeighs"/>): the rule of thumb of ten observations
    /// per fitted parameter. On the forecasting benchmark the schedules question's past holds 8-24 points on every engine corpus
    /// (validation every 50-100 steps, cut at half the horizon) and 154 (the MPL sizes) or 1,752 (gpt100m-rope) elsewhere; with
    /// the reference member's 7 parameters the line is at 70, and any value from 25 to 154 makes the same choices
    /// (docs/journal/session-22-stack.md).
    /// </summary>
    public const int PastPointsPerParameter = 10;

    /// <summary>
    /// Whether <see cref="ChooseWeights"/> may move the weights from the prior: always, unless a fitted run decays over more
    /// than half its length (<see cref="ShareLaw.SpansLongDecay"/>: the schedules question) and the fitted runs' past
    /// <paramref name="heads"/> holds fewer than <see cref="PastPointsPerParameter"/> x the largest member's parameter count
    /// of points. Why: there the past is each run cut at half the horizon, mid-decay, and on the engine corpora it holds 4-12
    /// points a run; refitted on so few, each member's forecast of the runs' second halves measures how it copes with too
    /// little data (the 7-parameter reference member the worst), not how it extrapolates from the whole runs, and the tilts it
    /// chose forecast every one of them worse than the prior: gpt-erlang's capped momentum member, tilted to 0.9 for its
    /// 0.90 % on the runs' second halves against the prior's 2.89 %, forecast its 2x decays 2.5-3.8 % too low (a decay's gain
    /// extrapolated 5 % too large), gpt-gcide's likewise, gpt-manpages' reference member. Seed 2's fits tilt on one corpus
    /// (gpt-tiny), and the prior forecasts it better there too. Where the past holds hundreds of points (the MPL sizes,
    /// gpt100m-rope) the tilts it chose stand: without them those forecasts were worse (MPL 25M 0.20 -> 0.51 %,
    /// gpt100m-rope 0.31 -> 1.77 %). On a calibration without a long decay (the WSD question) the past holds whole runs and
    /// the rule does not apply. docs/journal/session-22-stack.md.
    /// </summary>
    public static bool PastWeighs(IReadOnlyList<LossLaw> members, IReadOnlyList<LawRun> runs, IReadOnlyList<LawRun> heads) =>
        !ShareLaw.SpansLongDecay(runs) || heads.Sum(h => h.Count) >= PastPointsPerParameter * members.Max(m => m.Parameters.Count);

    /// <summary>Why the prior weights stand where <see cref="PastWeighs"/> says the past is too thin.</summary>
    private static string ThinPast(IReadOnlyList<LossLaw> members, IReadOnlyList<LawRun> heads, long cut) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"the prior weights stand: a fitted run decays over more than half its length and the fitted runs' points up to step {cut} ({heads.Sum(h => h.Count)}) are fewer than {PastPointsPerParameter} per parameter of the largest member ({members.Max(m => m.Parameters.Count)}), too few for their refits to rank the members (StackFitter.PastWeighs)");

    /// <summary>Weight a cross-validated fit may give one member (the others share the rest in their prior proportions).</summary>
    public const double Tilt = 0.9;

    /// <summary>A tilted weighting is adopted only when its cross-validated error is below this fraction of the prior weights'.</summary>
    public const double Margin = 0.8;

    /// <summary>
    /// After a tilt, the tilted member takes all the weight when its error alone is below this fraction of the tilt's: the
    /// others' 0.1 then only adds their error (engine-mlp-long's WSD question: the reference-procedure member forecasts the
    /// later cooldown 4.7 % off, the capped momentum law 0.1 %, and a 0.1 share of the former cost 0.55 % of final-loss error).
    /// On the forecasting benchmark the tilted member's error alone is 0.285 x the tilt's there and 0.71-1.64 x on every
    /// other tilted split, so any value in (0.285, 0.71) makes the same choices, with or without any one corpus. Within that
    /// interval the published multi-power-law split decides (docs/journal/session-09-auto.md): at 100M the capped member's
    /// error alone is 0.40 x its tilt's, and alone it forecasts the six test curves worse (R^2 0.9978, PredE 0.00154) than its
    /// tilt does (0.9983, 0.00139; the paper's table 0.9983, 0.00142); 0.33 lies between 0.285 and 0.40.
    /// </summary>
    public const double Alone = 0.33;

    /// <summary>
    /// The weights of a cross-validated stack. Each member, refitted (<paramref name="past"/>) on the fitted runs' points up
    /// to the cut of <see cref="FutureCut"/>, forecasts the last point of every <paramref name="tails"/> run (the constant
    /// run's continuation, a later cooldown's end, a cosine's end). Candidates: the <paramref name="prior"/> weights, and
    /// each member but the convex bound tilted to <see cref="Tilt"/>; error = the mean |ln(forecast / observed)| over those last points. The best
    /// tilt is chosen when its error is below <see cref="Margin"/> x the prior's, else the prior stands, so one lucky tail
    /// cannot move the weights far; a chosen tilt becomes its member alone when that member's error alone is below
    /// <see cref="Alone"/> x the tilt's (the others keep weight 0 in the stack, and leave the band). A tilt must also lead the
    /// prior by more than <see cref="NoiseLead"/> x <paramref name="noise"/>, the fitted runs' point noise
    /// (<see cref="StackBand.PointNoise"/>, a log standard deviation; 0: no such test), and a member alone its tilt likewise: the weightings are scored on
    /// the same observed points, and noise e on a point the prior forecasts exactly lets a tilt lead by up to |e| by chance
    /// (docs/journal/session-23-wsd.md). Returns the weights
    /// (in the order of <paramref name="laws"/>) and the reason in words, with every candidate's error.
    /// </summary>
    public static (double[] Weights, string Reason) ChooseWeights(IReadOnlyList<LossLaw> laws, IReadOnlyList<double> prior, IReadOnlyList<FittedLaw> past, IReadOnlyList<LawRun> tails, long cut, double noise = 0)
    {
        int n = laws.Count;
        // Each member's forecast of each tail run's last point.
        var ends = Enumerable.Range(0, n).Select(i => EndForecasts(past[i], tails)).ToArray();
        double Error(double[] w) => EndError(ends, w, tails);
        var candidates = new List<double[]> { prior.ToArray() };
        var tilted = new List<int> { -1 };   // the member each candidate tilts to (-1: the prior)
        for (int i = 0; i < n; i++)
        {
            // The convex bound is in the stack to cancel the annealing laws' error far past the horizon; on its own it
            // forecasts WSD cooldowns 4-5 % too high (docs/accuracy.md), and the fitted runs' future, often full anneals
            // (cosine, linear), which it forecasts well, would tilt to it: with a tuning trial's partial WSD curve the
            // stack then forecast 1.80 for a run ending at 1.74. It is tilted away from, never to.
            if (laws[i] is ConvexBoundLaw) continue;
            double rest = prior.Where((_, j) => j != i).Sum();
            candidates.Add(Enumerable.Range(0, n).Select(j => j == i ? Tilt : (1 - Tilt) * (rest > 0 ? prior[j] / rest : 1.0 / (n - 1))).ToArray());
            tilted.Add(i);
        }
        var errs = candidates.Select(Error).ToArray();
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        string Show(double[] w) => string.Join("/", w.Select(x => x.ToString("0.##", inv)));
        var listed = string.Join(", ", candidates.Select((w, c) => double.IsFinite(errs[c]) ? string.Create(inv, $"{Show(w)} {100 * errs[c]:0.###} %") : $"{Show(w)} not finite"));
        string setup = string.Create(inv, $"refitted on the fitted runs' points up to step {cut}, the weightings forecast the last points of {string.Join(", ", tails.Select(t => t.Name))} with mean |log error| {listed}");
        if (!double.IsFinite(errs[0])) return (prior.ToArray(), "the prior weights stand (their cross-validated error is not finite): " + setup);
        int best = 0;
        for (int c = 1; c < candidates.Count; c++) if (errs[c] < errs[best]) best = c;
        // The noise test (BeyondNoise): a tilt must also beat the prior by more than NoiseLead x one logged point's noise. The
        // weightings are scored on the same observed points; where the prior forecasts a point exactly and noise e moves its
        // observation, a tilt can beat the prior by up to |e| by chance. engine-mlp-muon's WSD calibration: prior 0.413 %,
        // tilt 0.095 %, against a point noise of 1.08 %; the tilt, then the age law alone, forecast every later cooldown 1-3 %
        // high, where the prior weights' members cancel (docs/journal/session-23-wsd.md).
        if (best > 0 && errs[best] < Margin * errs[0] && !BeyondNoise(errs[0] - errs[best], noise))
            return (prior.ToArray(), string.Create(inv, $"the prior weights stand ({laws[tilted[best]].Spec} tilted to {Tilt} leads them by {100 * (errs[0] - errs[best]):0.###} %, below {NoiseLead} x the fitted runs' point noise {100 * noise:0.###} %): ") + setup);
        if (best > 0 && errs[best] < Margin * errs[0])
        {
            int member = tilted[best];
            var alone = Enumerable.Range(0, n).Select(j => j == member ? 1.0 : 0.0).ToArray();
            double aloneErr = Error(alone);
            if (aloneErr < Alone * errs[best] && BeyondNoise(errs[best] - aloneErr, noise))
                return (alone, string.Create(inv, $"{laws[member].Spec} alone, its error alone ({100 * aloneErr:0.###} %) being below {Alone} x its tilt to {Tilt}, itself below {Margin} x the prior weights': ") + setup);
            return (candidates[best], string.Create(inv, $"{laws[member].Spec} tilted to {Tilt}, its error being below {Margin} x the prior weights': ") + setup);
        }
        return (prior.ToArray(), string.Create(inv, $"the prior weights stand (no tilt's error is below {Margin} x theirs): ") + setup);
    }

    /// <summary>
    /// Splits the fitted runs into a past and a future, so that the past forecasts the future: the law's own extrapolation
    /// error, measured on the fitted runs alone.
    /// <list type="bullet">
    /// <item>When the run that starts last (a cooldown branch: its points begin at its branch step) starts after
    /// <see cref="CutLow"/> x the fitted horizon H and at least two runs remain, that run is the future and every other
    /// run, whole, the past (the WSD question: the constant run and the first cooldown forecast the second cooldown, a
    /// branch later than any the past holds). The returned cut is the step before its first point.</item>
    /// <item>Otherwise every run is cut at the end of the latest run that ends between <see cref="CutLow"/> and
    /// <see cref="CutHigh"/> x H (a constant prefix shorter than the cosine: the prefix forecasts the cosine's end),
    /// else at <see cref="CutFallback"/> x H (the schedules question: the first half of the constant and cosine runs
    /// forecast their second half).</item>
    /// </list>
    /// Heads: each run's points up to the cut (runs with none are left out); tails: the points after it, with the
    /// run's rates at every step. (Thinning the heads to 100 points each, to save time, changed the choice on gpt100m-rope:
    /// the early-stopped reference procedure depends on the points it is given.)
    /// </summary>
    public static (List<LawRun> Heads, List<LawRun> Tails, long Cut) FutureCut(IReadOnlyList<LawRun> runs)
    {
        long h = runs.Max(r => r.Steps[^1]);
        var latest = runs.MaxBy(r => r.Steps[0])!;
        if (runs.Count >= 3 && latest.Steps[0] >= CutLow * h && runs.Count(r => r.Steps[0] == latest.Steps[0]) == 1)
            return (runs.Where(r => r != latest).ToList(), [latest], latest.Steps[0] - 1);
        long cut = runs.Select(r => r.Steps[^1]).Where(e => e >= CutLow * h && e <= CutHigh * h).DefaultIfEmpty((long)(CutFallback * h)).Max();
        var (heads, tails) = SplitAt(runs, cut);
        return (heads, tails, cut);
    }

    /// <summary>
    /// Every run cut after step <paramref name="cut"/>: heads, each run's points up to it (runs with none are left out);
    /// tails, the points after it, with the run's rates at every step.
    /// </summary>
    public static (List<LawRun> Heads, List<LawRun> Tails) SplitAt(IReadOnlyList<LawRun> runs, long cut)
    {
        var heads = new List<LawRun>();
        var tails = new List<LawRun>();
        foreach (var r in runs)
        {
            int k = Array.FindIndex(r.Steps, s => s > cut);
            if (k < 0) k = r.Count;
            if (k >= 1)
                heads.Add(r with { Steps = r.Steps[..k], Observed = r.Observed![..k], Eta = r.Eta[..(int)(r.Steps[k - 1] + 1)], GradNorm = r.GradNorm is { } g ? g[..(int)(r.Steps[k - 1] + 1)] : null });
            if (k < r.Count) tails.Add(r with { Steps = r.Steps[k..], Observed = r.Observed![k..] });
        }
        return (heads, tails);
    }

    /// <summary>
    /// Fractions of the fitted horizon: a fitted run starting after <c>CutLow</c> is a later branch, which <see cref="FutureCut"/>
    /// holds out; else a run ending between the two sets the cut.
    /// </summary>
    public const double CutLow = 0.3, CutHigh = 0.9;

    /// <summary>The cut of <see cref="FutureCut"/>, as a fraction of the fitted horizon, when no fitted run is a later branch or ends early.</summary>
    public const double CutFallback = 0.5;

    /// <summary>The stack's fitted law from its members' fits (concatenated values, block-diagonal covariance).</summary>
    public static FittedLaw Assemble(AutoLaw stack, IReadOnlyList<FittedLaw> members, IEnumerable<string> warnings, double seconds)
    {
        int p = stack.Parameters.Count;
        var off = stack.Offsets;
        var values = members.SelectMany(m => m.Values).ToArray();
        var se = members.SelectMany(m => m.StdErrors).ToArray();
        // Block-diagonal (members are fitted apart); unknown when any member's is.
        double[][]? cov = members.Any(m => m.Covariance is null) ? null : Enumerable.Range(0, p).Select(_ => new double[p]).ToArray();
        if (cov is not null)
            for (int m = 0; m < members.Count; m++)
                for (int i = 0; i < members[m].Values.Length; i++)
                    for (int j = 0; j < members[m].Values.Length; j++) cov[off[m] + i][off[m] + j] = members[m].Covariance![i][j];
        var first = members[0].Report;
        var report = first with
        {
            Objective = members.Sum(m => m.Report.Objective),
            Iterations = members.Sum(m => m.Report.Iterations),
            TotalIterations = members.Sum(m => m.Report.TotalIterations),
            Evaluations = members.Sum(m => m.Report.Evaluations),
            Starts = members.Sum(m => m.Report.Starts),
            ConvergedStarts = members.Sum(m => m.Report.ConvergedStarts),
            Converged = members.All(m => m.Report.Converged),
            WallSeconds = seconds,
            Fixed = members.SelectMany((m, i) => m.Report.Fixed.Select(f => $"{m.Law.Name}.{f}")).ToArray(),
            Warnings = warnings.ToArray(),
        };
        return new FittedLaw(stack, values, se, cov, report) { Members = members };
    }
}
