using System.Globalization;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// What each candidate member of <c>auto</c> says on the WSD question (docs/journal/session-19-member-choice.md). Run:
/// <c>dotnet run -c Release --project bench/Anneal.Bench -- member-choice [corpus folder ...]</c>. For each corpus's
/// <c>cooldowns</c> split and each candidate (each fitted alone as the stack reads it: its gain scaled, its constant part
/// past the horizon matched): ln(forecast / observed) at each fitted run's last point; the same at the last point of the
/// cross-validation's future, refitted on the fitted runs' past (<see cref="StackFitter.FutureCut"/>); and its mean signed
/// and absolute error on the held-out
/// branches. Tab-separated, one line per (corpus, candidate) on standard output; on standard error one line per (corpus,
/// candidate, held-out branch): its end step, its ratio to the fitted horizon, the signed relative error and whether the
/// regime check fired, so that weightings of the candidates can be scored by a script.
/// </summary>
internal static class MemberChoice
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Run(IReadOnlyList<string> folders)
    {
        var candidates = AutoLaw.DefaultMembers.Select(m => m.Law).Concat(AutoLaw.DefaultAlternates.Take(1).OfType<LossLaw>()).ToArray();
        Console.WriteLine("corpus\tcandidate\tend_const\tend_b1\tend_b2\tcv_future\tsigned\tabs\tworst");
        foreach (var folder in folders)
        {
            var corpus = ForecastCorpus.Load(folder);
            foreach (var split in ForecastProtocol.Splits(corpus).Where(s => s.Question == "cooldowns"))
            {
                var (heads, tails, _) = StackFitter.FutureCut(split.Fit);
                foreach (var law in candidates)
                {
                    string cell;
                    try
                    {
                        var fit = LawFitter.Fit(new AutoLaw([(law, 1.0)]), split.Fit);
                        double End(LawRun r) => Math.Log(fit.Predict(r with { Steps = [r.Steps[^1]], Observed = null }).Loss[0] / r.Observed![^1]);
                        string cv;
                        try
                        {
                            var past = LawFitter.Fit(new AutoLaw([(law, 1.0)]), heads);
                            cv = string.Join(",", tails.Select(t => (100 * Math.Log(past.Predict(t with { Steps = [t.Steps[^1]], Observed = null }).Loss[0] / t.Observed![^1])).ToString("+0.00;-0.00", Inv)));
                        }
                        catch (InputException) { cv = "-"; }
                        var errs = split.Tests.Select(t => fit.Predict(t.Run).Loss.Average() / t.ObservedFinal - 1).ToArray();
                        for (int k = 0; k < errs.Length; k++)
                            Console.Error.WriteLine(string.Create(Inv, $"{corpus.Name}\t{law.Spec}\t{split.Tests[k].Run.Eta.Length}\t{(double)split.Tests[k].Run.Eta.Length / split.FitHorizon:0.###}\t{errs[k]:R}\t{fit.Report.Warnings.Any(w => w.Contains("power-law regime"))}"));
                        cell = string.Create(Inv, $"{100 * End(split.Fit[0]):+0.00;-0.00}\t{100 * End(split.Fit[1]):+0.00;-0.00}\t{100 * End(split.Fit[2]):+0.00;-0.00}\t{cv}\t{100 * errs.Average():+0.00;-0.00}\t{100 * errs.Average(Math.Abs):0.00}\t{100 * errs.Max(Math.Abs):0.00}");
                    }
                    catch (InputException e) { cell = "failed: " + e.Message.Split('\n')[0]; }
                    Console.WriteLine($"{corpus.Name}\t{law.Spec}\t{cell}");
                }
            }
        }
    }
}
