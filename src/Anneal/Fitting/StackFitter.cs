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
        var preFit = new LawFitter.SharedPreFit();
        foreach (var (member, weight) in law.Members)
        {
            try { fits.Add((LawFitter.FitShared(member, runs, options with { Method = null }, preFit), weight)); }
            catch (InputException e)
            {
                errors.Add($"{member.Spec}: {e.Message}");
                warnings.Add($"auto: member {member.Spec} left out (its fit failed: {e.Message})");
            }
        }
        if (fits.Count == 0) throw new InputException("fit of auto failed: every member law failed (" + string.Join("; ", errors) + ")");
        var stack = new AutoLaw(fits.Select(f => (f.Fit.Law, f.Weight)).ToArray());
        foreach (var f in fits) warnings.AddRange(f.Fit.Report.Warnings.Select(w => $"{f.Fit.Law.Spec}: {w}"));
        return Assemble(stack, fits.Select(f => f.Fit).ToArray(), warnings, sw.Elapsed.TotalSeconds);
    }

    /// <summary>The stack's fitted law from its members' fits (concatenated values, block-diagonal covariance).</summary>
    public static FittedLaw Assemble(AutoLaw stack, IReadOnlyList<FittedLaw> members, IEnumerable<string> warnings, double seconds)
    {
        int p = stack.Parameters.Count;
        var off = stack.Offsets;
        var values = members.SelectMany(m => m.Values).ToArray();
        var se = members.SelectMany(m => m.StdErrors).ToArray();
        var cov = Enumerable.Range(0, p).Select(_ => new double[p]).ToArray();
        for (int m = 0; m < members.Count; m++)
            for (int i = 0; i < members[m].Values.Length; i++)
                for (int j = 0; j < members[m].Values.Length; j++) cov[off[m] + i][off[m] + j] = members[m].Covariance[i][j];
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
