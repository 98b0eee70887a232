using System.Diagnostics;
using Anneal.Laws;

namespace Anneal.Fitting;

/// <summary>
/// Fits an <see cref="AutoLaw"/>: each member law on its own (its own method, starts and band refits), then
/// the fixed stacking weights. A member whose fit fails is left out and the remaining weights renormalised,
/// with a warning naming it; the stack fails only when every member does.
/// </summary>
public static class StackFitter
{
    /// <summary>Fits every member of <paramref name="law"/> on <paramref name="runs"/>.</summary>
    public static FittedLaw Fit(AutoLaw law, IReadOnlyList<LawRun> runs, FitOptions? options = null)
    {
        options ??= new FitOptions();
        var sw = Stopwatch.StartNew();
        var fits = new List<(FittedLaw Fit, double Weight)>();
        var warnings = new List<string>();
        var errors = new List<string>();
        var preFit = new SharedPreFit();
        var memberOptions = options with { Method = null };
        // Only members fitted to the optimum carry the stack's band (FittedLaw.PredictStack); a member fitted by
        // the early-stopped reference procedure enters through its disagreement with them, so its leave-one-run-out
        // refits (each restarting the procedure: three quarters of the stack's fit) are skipped, unless no
        // optimum member is left to carry the band.
        bool CarriesBand(LossLaw m) => m.PreferredMethod != FitMethod.EarlyStoppedAdamW;
        bool anyCarrier = law.Members.Any(m => CarriesBand(m.Law));
        var outcome = new (FittedLaw? Fit, string? Error)[law.Members.Count];
        // The members are independent fits: side by side on the cores (each may still split its own work).
        LawFitter.ForEachIndependent(law.Members.Count, i =>
        {
            var member = law.Members[i].Law;
            bool refits = !anyCarrier || CarriesBand(member);
            try { outcome[i] = (LawFitter.FitShared(member, runs, refits ? memberOptions : memberOptions with { Jackknife = false }, preFit), null); }
            catch (InputException e) { outcome[i] = (null, e.Message); }
        });
        if (anyCarrier && !law.Members.Where((m, i) => CarriesBand(m.Law) && outcome[i].Fit is not null).Any())
            for (int i = 0; i < law.Members.Count; i++)
                if (outcome[i].Fit is not null && memberOptions.Jackknife)   // no band carrier survived: the others get their refits after all
                    outcome[i] = (LawFitter.FitShared(law.Members[i].Law, runs, memberOptions, preFit), null);
        for (int i = 0; i < law.Members.Count; i++)
        {
            var (member, weight) = law.Members[i];
            if (outcome[i].Fit is { } f) fits.Add((f, weight));
            else
            {
                errors.Add($"{member.Spec}: {outcome[i].Error}");
                warnings.Add($"auto: member {member.Spec} left out (its fit failed: {outcome[i].Error})");
            }
        }
        if (fits.Count == 0) throw new InputException("fit of auto failed: every member law failed (" + string.Join("; ", errors) + ")");
        if (fits.Count > 1 && law.HoldOutWeights)
        {
            // Leave-the-future-out: each member refitted on the first part of every run forecasts the rest.
            var err = fits.Select(f => HoldOutError(f.Fit.Law, runs, options)).ToArray();
            if (err.All(double.IsFinite))
            {
                var reweighted = fits.Select((f, i) => f.Weight / Math.Pow(Math.Max(err[i], ErrorFloor), 2)).ToArray();
                double total = reweighted.Sum();
                fits = fits.Select((f, i) => (f.Fit, reweighted[i] / total)).ToList();
                warnings.Add("auto: weights " + string.Join(", ", fits.Select((f, i) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{f.Fit.Law.Spec} {f.Weight:0.###} (hold-out log error {err[i]:0.####})"))));
            }
            else warnings.Add("auto: the hold-out refits failed; the prior weights are kept");
        }
        var stack = new AutoLaw(fits.Select(f => (f.Fit.Law, f.Weight)).ToArray(), law.HoldOutWeights);
        foreach (var f in fits) warnings.AddRange(f.Fit.Report.Warnings.Select(w => $"{f.Fit.Law.Spec}: {w}"));
        // The band grows beyond the last fitted step (AutoLaw.ExtrapolationScale): record where that is.
        return Assemble(stack, fits.Select(f => f.Fit).ToArray(), warnings, sw.Elapsed.TotalSeconds) with { FittedHorizon = runs.Max(r => r.Steps[^1]) };
    }

    /// <summary>Hold-out errors below this (0.1 % in log loss) count as this: no member earns unbounded weight from a lucky tail.</summary>
    public const double ErrorFloor = 1e-3;

    /// <summary>Fraction of each run's logged steps the hold-out refit sees; the rest is forecast.</summary>
    public const double HoldOutFraction = 0.7;

    /// <summary>
    /// The member's forecasting error on the fitted runs themselves: refitted (no band refits) on each run's
    /// points up to <see cref="HoldOutFraction"/> of its logged steps, it forecasts the rest; the root mean
    /// square log error over the held-out points, each run weighted equally. NaN when the refit fails or
    /// no run has held-out points.
    /// </summary>
    public static double HoldOutError(LossLaw law, IReadOnlyList<LawRun> runs, FitOptions options)
    {
        var heads = new List<LawRun>();
        var tails = new List<LawRun>();
        foreach (var r in runs)
        {
            long first = r.Steps[0], cut = first + (long)(HoldOutFraction * (r.Steps[^1] - first));
            int k = Array.FindIndex(r.Steps, s => s > cut);
            if (k < 2 || k >= r.Count) { heads.Add(r); continue; }
            heads.Add(r with { Steps = r.Steps[..k], Observed = r.Observed![..k], Eta = r.Eta[..(int)(r.Steps[k - 1] + 1)], GradNorm = r.GradNorm is { } g ? g[..(int)(r.Steps[k - 1] + 1)] : null });
            tails.Add(r with { Steps = r.Steps[k..], Observed = r.Observed![k..] });
        }
        if (tails.Count == 0) return double.NaN;
        FittedLaw fit;
        try { fit = LawFitter.Fit(law, heads, options with { Jackknife = false, Progress = null }); }
        catch (InputException) { return double.NaN; }
        double sum = 0;
        foreach (var t in tails)
        {
            var pred = law.Predict(t, fit.Values);
            double ss = 0;
            for (int i = 0; i < t.Count; i++) { double e = Math.Log(pred[i] / t.Observed![i]); ss += e * e; }
            sum += ss / t.Count;
        }
        double rms = Math.Sqrt(sum / tails.Count);
        return double.IsFinite(rms) ? rms : double.NaN;
    }

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
