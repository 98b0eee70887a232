using System.Globalization;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// Where the WSD question's errors come from (docs/journal/session-16-wsd-question.md). Run:
/// <c>dotnet run -c Release --project bench/Anneal.Bench -- wsd-diagnosis [corpus folder ...]</c>. For each corpus with the
/// question and each of its two fits (<c>cooldowns</c>: the fitted branches' curves; <c>cooldown-ends</c>: their end points),
/// per held-out branch (its end T over the fitted horizon H): the signed error of <c>auto</c>, of each of its fitted members,
/// of the age law fitted alone and of the by-hand baseline of issue 10 (a power law fitted on the constant run, times one
/// minus the mean relative gain of the two fitted cooldowns over the constant run at their ends), each split into the part
/// from the constant run's forecast at T and the part from the cooldown's gain over it (the two add up to the final's
/// error: final = constant - gain, both relative to the observed final). Output lines are tab-separated, one per
/// (corpus, fit, forecaster, branch), after a header, so that they can be pooled by a script.
/// </summary>
internal static class WsdDiagnosis
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Run(IReadOnlyList<string> folders)
    {
        Console.WriteLine("corpus\tfit\tforecaster\tweight\tbranch\tratio\tobserved\tfinal_err\tconstant_err\tgain_err\tobserved_gain");
        foreach (var folder in folders)
        {
            var corpus = ForecastCorpus.Load(folder);
            foreach (var split in ForecastProtocol.AllSplits(corpus).Where(s => s.Question != "schedules"))
            {
                string constName = split.Fit[0].Name.Split('[')[0];
                var constant = corpus.Runs.First(r => r.Name == constName);
                // The two fitted branches' end points and the constant run's final window at the same steps.
                var fittedBranches = split.Fit.Skip(1).Select(f => corpus.Runs.First(r => r.Name == f.Name.Split('[')[0])).ToArray();
                double[] gains = fittedBranches.Select(b => 1 - ForecastProtocol.EndPoint(corpus, b).Observed![0]
                    / ForecastProtocol.Target(corpus, constant, b.Horizon).ObservedFinal).ToArray();
                var power = LawFitter.Fit(new PowerLaw(), [split.Fit[0]]);
                var auto = LawFitter.Fit(new AutoLaw(), split.Fit);
                var stack = (AutoLaw)auto.Law;
                Console.Error.WriteLine($"{corpus.Name} / {split.Question}: {auto.StackChoice}");
                var age = LawFitter.Fit(new AgeMomentumLaw(Q: 0.7, NuPrior: AgeMomentumLaw.SuggestedNuPrior), split.Fit);
                var forecasters = new List<(string Name, double Weight, Func<LawRun, double> Predict)>
                {
                    ("auto", 1, r => auto.Predict(r).Loss.Average()),
                    ("baseline", 0, r => power.Predict(r with { Eta = Constant(r.Eta) }).Loss.Average() * (IsConstant(r.Eta) ? 1 : 1 - gains.Average())),
                    ("age(alone)", 0, r => age.Predict(r).Loss.Average()),
                };
                for (int m = 0; m < auto.Members.Count; m++)
                {
                    var f = auto.Members[m];
                    double k = stack.GainScaleOf(m);
                    forecasters.Add((f.Law.Spec, stack.Members[m].Weight, r => GainScale.Predict(f.Law, f.Values, r, k).Average()));
                }
                foreach (var t in fittedBranches.Select(b => ForecastProtocol.Target(corpus, b)).Concat(split.Tests))
                {
                    double obs = t.ObservedFinal;
                    var c = ForecastProtocol.Target(corpus, constant, t.Run.Eta.Length);
                    double obsC = c.ObservedFinal;
                    double ratio = (double)t.Run.Eta.Length / split.FitHorizon;
                        foreach (var (name, weight, predict) in forecasters)
                    {
                        double pw = predict(t.Run), pc = predict(c.Run);
                        double final = pw / obs - 1, constErr = (pc - obsC) / obs, gainErr = final - constErr;
                        Console.WriteLine(string.Create(Inv,
                            $"{corpus.Name}\t{(split.Question == "cooldowns" ? "curves" : "ends")}\t{name}\t{weight:0.###}\t{t.Run.Name.Split('/')[^1]}\t{ratio:0.00}\t{obs:F4}\t{100 * final:F2}\t{100 * constErr:F2}\t{100 * gainErr:F2}\t{100 * (obsC - obs) / obs:F2}"));
                    }
                }
            }
        }
    }

    private static bool IsConstant(double[] eta) => eta[^1] >= eta.Max() * (1 - 1e-9);

    /// <summary>The schedule held at its peak after the peak (the constant run the branch left).</summary>
    private static double[] Constant(double[] eta)
    {
        int k = Array.IndexOf(eta, eta.Max());
        return eta.Select((e, i) => i <= k ? e : eta[k]).ToArray();
    }
}
