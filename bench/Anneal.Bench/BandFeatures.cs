using System.Globalization;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// Exploration dump for the band model (docs/journal/session-10-bands.md): per held-out final, every fit-time quantity a
/// band could scale with. Run: <c>dotnet run -c Release --project bench/Anneal.Bench -- band-features [repo] out.csv</c>.
/// </summary>
internal static class BandFeatures
{
    public static void Run(string repo, string csv)
    {
        const double level = 0.95;
        double z = FittedLaw.NormalQuantile(0.5 + level / 2);
        var inv = CultureInfo.InvariantCulture;
        var lines = new List<string> { "corpus,question,observed,predicted,own,disagree,d,ratio,m0,m1,m2,w0,w1,w2,own0,own1,own2,rms,endlast,endwin,endsigned,cv,cvsigned,cvmax,cv0,cv1,cv2" };
        foreach (var corpus in BandCalibration.Corpora(repo))
            foreach (var split in ForecastProtocol.Splits(corpus))
            {
                var fit = LawFitter.Fit(new AutoLaw(), split.Fit);
                var stack = (AutoLaw)fit.Law;
                int nm = fit.Members.Count;
                // In-sample residuals of the stack on the fitted runs.
                double ss = 0; int np = 0;
                var endLast = new List<double>(); var endWin = new List<double>();
                foreach (var r in split.Fit)
                {
                    var p = stack.Predict(r, fit.Values);
                    var res = r.Observed!.Select((o, i) => Math.Log(o / p[i])).ToArray();
                    foreach (var e in res) { ss += e * e; np++; }
                    endLast.Add(res[^1]);
                    int w = Math.Max(1, res.Length / 10);
                    endWin.Add(res[^w..].Average());
                }
                // The stack's own future error: members refitted on the fitted runs' past forecast their future's last points.
                var (heads, tails, cut) = StackFitter.FutureCut(split.Fit);
                var cvErr = new List<double>(); var cvMember = new double[3];
                if (heads.Count > 0 && tails.Count > 0)
                {
                    try
                    {
                        var past = stack.Members.Select(m => LawFitter.Fit(m.Law, heads, new FitOptions(Jackknife: false))).ToArray();
                        foreach (var t in tails)
                        {
                            var last = t with { Steps = [t.Steps[^1]], Observed = null };
                            var ends = past.Select(f => f.Law.Predict(last, f.Values)[0]).ToArray();
                            var w = stack.WeightsFor(t);
                            double f = ends.Select((e, i) => w[i] * e).Sum();
                            cvErr.Add(Math.Log(t.Observed![^1] / f));
                            for (int i = 0; i < Math.Min(3, nm); i++) cvMember[i] += Math.Abs(Math.Log(t.Observed![^1] / ends[i])) / tails.Count;
                        }
                    }
                    catch (InputException e) { Console.WriteLine($"cv failed: {e.Message}"); }
                }
                double cv = cvErr.Count > 0 ? cvErr.Average(Math.Abs) : double.NaN;
                double cvs = cvErr.Count > 0 ? cvErr.Average() : double.NaN;
                double cvmax = cvErr.Count > 0 ? cvErr.Max(Math.Abs) : double.NaN;
                foreach (var t in split.Tests)
                {
                    var preds = fit.Members.Select(m => m.Predict(t.Run, level)).ToArray();
                    var losses = preds.Select(p => p.Loss.Average()).ToArray();
                    var w = stack.WeightsFor(t.Run);
                    double pred = losses.Select((l, i) => w[i] * l).Sum();
                    var owns = preds.Select((p, i) => Math.Pow(Math.Log(p.High.Average() / losses[i]) / z, 2)).ToArray();
                    var weighted = Enumerable.Range(0, nm).Where(m => stack.Members[m].Weight > 0).ToArray();
                    var carriers = weighted.Where(m => fit.Members[m].Report.Method != FitMethod.EarlyStoppedAdamW).ToArray();
                    if (carriers.Length == 0) carriers = weighted;
                    double own = carriers.Min(m => owns[m]);
                    double dis = nm == 1 ? own : losses.Select(l => Math.Pow((l - pred) / pred, 2)).Average();
                    double gain = 0;
                    if (t.Run.Steps[^1] > fit.FittedHorizon)
                    {
                        var at = t.Run with { Steps = [fit.FittedHorizon], Observed = null };
                        double atH = fit.Members.Select((m, i) => w[i] * m.Law.Predict(at, m.Values)[0]).Sum();
                        gain = Math.Abs(atH - pred) / pred;
                    }
                    string M(double[] a, int i) => i < a.Length ? a[i].ToString("R", inv) : "";
                    lines.Add(string.Join(",", corpus.Name, split.Question, t.ObservedFinal.ToString("R", inv), pred.ToString("R", inv), own.ToString("R", inv), dis.ToString("R", inv),
                        gain.ToString("R", inv), ((double)t.Run.Steps[^1] / fit.FittedHorizon).ToString("R", inv),
                        M(losses, 0), M(losses, 1), M(losses, 2), M(w, 0), M(w, 1), M(w, 2), M(owns, 0), M(owns, 1), M(owns, 2),
                        Math.Sqrt(ss / np).ToString("R", inv), endLast.Average(Math.Abs).ToString("R", inv), endWin.Average(Math.Abs).ToString("R", inv),
                        string.Join(";", endWin.Select(x => x.ToString("F5", inv))), cv.ToString("R", inv), cvs.ToString("R", inv), cvmax.ToString("R", inv),
                        cvMember[0].ToString("R", inv), cvMember[1].ToString("R", inv), cvMember[2].ToString("R", inv)));
                }
                Console.WriteLine($"fitted {corpus.Name} / {split.Question}");
            }
        File.WriteAllLines(csv, lines);
    }
}
