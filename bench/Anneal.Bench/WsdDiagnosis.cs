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
/// error: final = constant - gain, both relative to the observed final). The constant run's observation at T is its final
/// window there (one validation point on the engine corpora), so its own jitter moves the two parts in opposite directions;
/// the last two columns split the same error against the constant run's mean over the logged points within 5 % of T
/// instead (session 17, docs/journal/session-17-wsd-question.md). The forecaster <c>auto(seed-2 constant)</c> is <c>auto</c>
/// fitted on the same split with the constant run of the other seed (same schedule, up to the same step) in place of the
/// fitted one, where the corpus has it: how far the constant part moves with the calibration seed. <c>auto[match a]</c> is the
/// same fit with every member's constant part past the horizon matched at exponent a instead of
/// <see cref="HorizonMatch.Exponent"/> (bench/wsd_session22.py tabulates them). After the rows, one
/// summary line per (corpus, fit) on standard error: mean and worst |error| of <c>auto</c> over the held-out branches,
/// in total and by part. Output lines are tab-separated, one per (corpus, fit, forecaster, branch), after a header, so that
/// they can be pooled by a script.
/// </summary>
internal static class WsdDiagnosis
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;


    public static void Run(IReadOnlyList<string> folders)
    {
        Console.WriteLine("corpus\tfit\tforecaster\tweight\tbranch\tratio\tobserved\tfinal_err\tconstant_err\tgain_err\tobserved_gain\tconstant_smooth_err\tgain_smooth_err");
        foreach (var folder in folders)
        {
            var corpus = ForecastCorpus.Load(folder);
            foreach (var split in ForecastProtocol.AllSplits(corpus).Where(s => s.Question != "schedules"))
            {
                string constName = split.Fit[0].Name.Split('[')[0];
                var constant = corpus.Runs.First(r => r.Name == constName);
                var constantCurve = LawRun.FromCurve(constant.Curve, corpus.Target);
                var autoRows = new List<(double Final, double Constant, double Gain, double ConstantSmooth, double GainSmooth)>();
                // The two fitted branches' end points and the constant run's final window at the same steps.
                var fittedBranches = split.Fit.Skip(1).Select(f => corpus.Runs.First(r => r.Name == f.Name.Split('[')[0])).ToArray();
                double[] gains = fittedBranches.Select(b => 1 - ForecastProtocol.EndPoint(corpus, b).Observed![0]
                    / ForecastProtocol.Target(corpus, constant, b.Horizon).ObservedFinal).ToArray();
                var power = LawFitter.Fit(new PowerLaw(), [split.Fit[0]]);
                var auto = LawFitter.Fit(new AutoLaw(), split.Fit);
                var stack = (AutoLaw)auto.Law;
                Console.Error.WriteLine($"{corpus.Name} / {split.Question}: band noise {auto.BandNoise:G4}, end misfit {auto.EndMisfit:G4}, future error {auto.FutureError:G4}; {auto.StackChoice}");
                var age = LawFitter.Fit(new AgeMomentumLaw(Q: 0.7, NuPrior: AgeMomentumLaw.SuggestedNuPrior), split.Fit);
                var otherSeed = corpus.Runs.FirstOrDefault(r => r.Seed != constant.Seed && r.Schedule == constant.Schedule
                    && ForecastProtocol.Kind(r) == "constant" && r.Horizon >= split.FitHorizon);
                var forecasters = new List<(string Name, double Weight, Func<LawRun, double> Predict)>
                {
                    ("auto", 1, r => auto.Predict(r).Loss.Average()),
                    ("baseline", 0, r => power.Predict(r with { Eta = Constant(r.Eta) }).Loss.Average() * (IsConstant(r.Eta) ? 1 : 1 - gains.Average())),
                    ("age(alone)", 0, r => age.Predict(r).Loss.Average()),
                };
                // The same fit read with every member's constant part matched at another exponent (HorizonMatch): a reading,
                // not a refit, since no choice of the fit depends on the exponent (docs/journal/session-22-wsd.md).
                foreach (double a in ExponentReadings)
                {
                    var read = auto with { Law = CooldownBias.WithMatch(stack, a) };
                    forecasters.Add((string.Create(Inv, $"auto[match {a}]"), 0, r => read.Predict(r).Loss.Average()));
                }
                if (otherSeed is not null)
                {
                    var swapped = LawFitter.Fit(new AutoLaw(), [corpus.LawRunOf(otherSeed, endStep: split.FitHorizon), .. split.Fit.Skip(1)]);
                    forecasters.Add(("auto(seed-2 constant)", 0, r => swapped.Predict(r).Loss.Average()));
                }
                for (int m = 0; m < auto.Members.Count; m++)
                {
                    var f = auto.Members[m];
                    int member = m;
                    // The member as the stack reads it: its gain scaled, its constant part past the horizon matched.
                    forecasters.Add((f.Law.Spec, stack.Members[m].Weight, r => stack.MemberForecast(member, r, f.Values, f.Law.Predict(r, f.Values)).Average()));
                }
                foreach (var (t, heldOut) in fittedBranches.Select(b => (ForecastProtocol.Target(corpus, b), false)).Concat(split.Tests.Select(t => (t, true))))
                {
                    double obs = t.ObservedFinal;
                    var c = ForecastProtocol.Target(corpus, constant, t.Run.Eta.Length);
                    double obsC = c.ObservedFinal, obsCs = Around(constantCurve, t.Run.Eta.Length) ?? obsC;
                    double ratio = (double)t.Run.Eta.Length / split.FitHorizon;
                    foreach (var (name, weight, predict) in forecasters)
                    {
                        double pw = predict(t.Run), pc = predict(c.Run);
                        double final = pw / obs - 1, constErr = (pc - obsC) / obs, gainErr = final - constErr;
                        double constSmooth = (pc - obsCs) / obs, gainSmooth = final - constSmooth;
                        if (name == "auto" && heldOut) autoRows.Add((final, constErr, gainErr, constSmooth, gainSmooth));
                        Console.WriteLine(string.Create(Inv,
                            $"{corpus.Name}\t{Fit(split)}\t{name}\t{weight:0.###}\t{t.Run.Name.Split('/')[^1]}\t{ratio:0.00}\t{obs:F4}\t{100 * final:F2}\t{100 * constErr:F2}\t{100 * gainErr:F2}\t{100 * (obsC - obs) / obs:F2}\t{100 * constSmooth:F2}\t{100 * gainSmooth:F2}"));
                    }
                }
                Console.Error.WriteLine($"{corpus.Name} / {Fit(split)}: auto over {autoRows.Count} held-out branches, mean / worst |error| %: "
                    + $"total {MeanWorst(autoRows.Select(r => r.Final))}, constant part {MeanWorst(autoRows.Select(r => r.Constant))}, gain part {MeanWorst(autoRows.Select(r => r.Gain))}; "
                    + $"against the constant run's mean within 5 %: constant part {MeanWorst(autoRows.Select(r => r.ConstantSmooth))}, gain part {MeanWorst(autoRows.Select(r => r.GainSmooth))}");
            }
        }
    }

    /// <summary>The exponents besides <see cref="HorizonMatch.Exponent"/> at which <c>auto</c>'s fits are also read (<c>auto[match a]</c>).</summary>
    private static readonly double[] ExponentReadings = [0.3, 0.5, 0.6, 0.8];

    private static string Fit(ForecastSplit split) => split.Question == "cooldowns" ? "curves" : "ends";

    /// <summary>Mean |x| and max |x| of one part of the errors, in percent.</summary>
    private static string MeanWorst(IEnumerable<double> errors) =>
        string.Create(Inv, $"{100 * errors.Average(Math.Abs):F2} / {100 * errors.Max(Math.Abs):F2}");

    /// <summary>The mean of a run's logged points within 5 % of <paramref name="step"/>: the constant run's level at a branch's
    /// end with its point-to-point jitter averaged out; null when no point is logged that near.</summary>
    private static double? Around(LawRun run, long step)
    {
        var near = Enumerable.Range(0, run.Count).Where(i => Math.Abs(run.Steps[i] - step) <= 0.05 * step).Select(i => run.Observed![i]).ToArray();
        return near.Length > 0 ? near.Average() : null;
    }

    private static bool IsConstant(double[] eta) => eta[^1] >= eta.Max() * (1 - 1e-9);

    /// <summary>The schedule held at its peak after the peak (the constant run the branch left).</summary>
    private static double[] Constant(double[] eta)
    {
        int k = Array.IndexOf(eta, eta.Max());
        return eta.Select((e, i) => i <= k ? e : eta[k]).ToArray();
    }
}
