using System.Globalization;
using System.Text.Json;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// The evidence behind <c>auto</c>'s per-fit choice of members and its band
/// (docs/journal/session-06-auto-weights-per-fit.md, "Calibrated bands (session 6)"). Run: <c>dotnet run -c Release
/// --project bench/Anneal.Bench -- stack-selection [repo] [out.json] [laws]</c>.
/// Every split of <c>anneal accuracy</c>'s protocol is fitted once by each candidate law (with its leave-one-run-out
/// refits, except for laws fitted by the early-stopped reference procedure, which a stack fits without them). Per
/// held-out run: each candidate's forecast of the final window, its own relative standard error (read back from its
/// band) and its loss at the fitted horizon on that schedule (the loss change it extrapolates). Each candidate also
/// forecasts the fitted runs' own future from their past, for several cuts (<see cref="StackFitter.FutureCut"/>, the one
/// <c>auto</c> uses, and the cuts of <see cref="Cuts"/>), so selection and band rules can be scored without refitting.
/// </summary>
internal static class StackSelection
{
    /// <summary>The cuts tried besides <see cref="StackFitter.FutureCut"/>: name and step (or null when the split has none).</summary>
    private static IEnumerable<(string Name, long? Cut)> Cuts(IReadOnlyList<LawRun> fit)
    {
        long h = fit.Max(r => r.Steps[^1]);
        yield return ("half", h / 2);
        yield return ("two-thirds", 2 * h / 3);
        // The end of the earliest fitted run that ends before the horizon: for the WSD question, the first cooldown's
        // end, so that the past holds the constant run only up to there and the future asks for both its continuation
        // and the later cooldown.
        var early = fit.Select(r => r.Steps[^1]).Where(e => e < h && e >= StackFitter.CutLow * h).ToArray();
        yield return ("first-end", early.Length > 0 ? early.Min() : null);
    }

    /// <summary>The run's constant counterpart: its rate's running maximum (the warmup, then the peak held), nothing observed.</summary>
    internal static LawRun Counterpart(LawRun r)
    {
        var eta = (double[])r.Eta.Clone();
        for (int i = 1; i < eta.Length; i++) eta[i] = Math.Max(eta[i], eta[i - 1]);
        return r with { Eta = eta, Observed = null };
    }

    /// <summary>The LR area S1 through <paramref name="step"/> (the rate held at its last value past the array's end).</summary>
    private static double Area(double[] eta, long step)
    {
        double s = 0;
        for (long i = 0; i <= step; i++) s += eta[Math.Min(i, eta.Length - 1)];
        return s;
    }

    /// <summary>Ratios of the fitted horizon at which the fitted constant part is read (<see cref="ConstantFuture"/>).</summary>
    private static readonly double[] GridRatios = [0.5, 0.75, 1, 1.1, 1.25, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6];

    /// <summary>
    /// The first fitted run (the constant run or its constant-at-peak prefix) held at its last rate out to the longest held-out
    /// run's end, read at <see cref="GridRatios"/> of the fitted horizon: what each law says of the constant run's own future.
    /// </summary>
    private static LawRun ConstantFuture(ForecastSplit split)
    {
        var c = split.Fit[0];
        long h = split.FitHorizon, end = Math.Max(h, split.Tests.Max(t => t.Run.Eta.Length));
        var eta = new double[end];
        for (int i = 0; i < end; i++) eta[i] = c.Eta[Math.Min(i, c.Eta.Length - 1)];
        var steps = GridRatios.Select(r => (long)Math.Round(r * h) - 1).Where(s => s >= c.Steps[0] && s < end).Distinct().ToArray();
        return c with { Name = c.Name + "[future]", Eta = eta, Steps = steps, Observed = null, GradNorm = null };
    }

    /// <summary>Points kept per held-out tail when every future point is scored (evenly spaced, the last always kept).</summary>
    private const int TailPoints = 24;

    private static int[] ThinIndex(int n) => Enumerable.Range(0, Math.Min(n, TailPoints)).Select(i => n <= TailPoints ? i : (int)Math.Round((double)(i + 1) * n / TailPoints) - 1).ToArray();

    private static long[] Thin(long[] steps) => ThinIndex(steps.Length).Select(i => steps[i]).ToArray();

    private static double[] Thin(long[] steps, double[] values) => ThinIndex(steps.Length).Select(i => values[i]).ToArray();

    public static void Run(string repo, string output, string laws)
    {
        var candidates = LawRegistry.ParseList(laws);
        double z = FittedLaw.NormalQuantile(0.975);
        var splits = new List<object>();
        foreach (var corpus in BandCalibration.Corpora(repo))
            foreach (var split in ForecastProtocol.Splits(corpus))
            {
                long h = split.Fit.Max(r => r.Steps[^1]);
                var cuts = new List<(string Name, long Cut, List<LawRun> Heads, List<LawRun> Tails)>();
                var (dh, dt, dc) = StackFitter.FutureCut(split.Fit);
                if (dt.Count > 0)
                {
                    cuts.Add(("default", dc, dh, dt));
                    // The same cut with the past thinned (bin means), as a cheaper cross-validation would fit it.
                    cuts.Add(("default-thin60", dc, dh.Select(r => r.Binned(60)).ToList(), dt));
                }
                foreach (var (name, c) in Cuts(split.Fit))
                    if (c is long cc)
                    {
                        var (hh, tt) = StackFitter.SplitAt(split.Fit, cc);
                        if (tt.Count > 0 && hh.Count > 0) cuts.Add((name, cc, hh, tt));
                    }
                var perLaw = new Dictionary<string, object>();
                var constRun = ConstantFuture(split);
                foreach (var law in candidates)
                {
                    double[]? finals = null, own = null, atH = null, constFinals = null, constGrid = null;
                    Dictionary<string, double>? parameters = null;
                    double cvRmse = double.NaN, objective = double.NaN;
                    string[] warnings = [];
                    var cv = new Dictionary<string, object?>();
                    string? error = null;
                    try
                    {
                        var options = new FitOptions { Jackknife = law.PreferredMethod != FitMethod.EarlyStoppedAdamW, KeepBestEvaluated = true, ReducedForm = false };   // as auto fits its members (StackFitter: no reduced form)
                        var fit = LawFitter.Fit(law, split.Fit, options);
                        cvRmse = fit.CrossValidationLogError;
                        objective = fit.Report.Objective;
                        var preds = split.Tests.Select(t => fit.Predict(t.Run)).ToArray();
                        // Read as the stack mixes its members (NonRisingForecast: held after a fall of the rate), so that a replay of
                        // the weights reproduces auto's finals.
                        finals = preds.Select((p, k) => NonRisingForecast.Of(split.Tests[k].Run, p.Loss).Average()).ToArray();
                        warnings = fit.Report.Warnings;
                        // The same law's forecast of the schedule's constant counterpart (its running maximum) over the same final window.
                        constFinals = split.Tests.Select(t => fit.Law.Predict(Counterpart(t.Run), fit.Values).Average()).ToArray();
                        own = preds.Select(p => p.BandUnavailable is null ? p.High.Select((hi, i) => Math.Log(hi / p.Loss[i]) / z).Average() : double.NaN).ToArray();
                        // Runs that end within the fitted horizon extrapolate nothing (D = 0 in the band): null.
                        atH = split.Tests.Select(t => t.Run.Steps[^1] > h ? fit.Law.Predict(t.Run with { Steps = [h], Observed = null }, fit.Values)[0] : double.NaN).ToArray();
                        // The fitted constant part: the constant run's own future at the grid's steps (docs/journal/session-16-far-horizons.md).
                        constGrid = fit.Law.Predict(constRun, fit.Values);
                        parameters = fit.Law.Parameters.Select((q, k) => (q.Name, V: fit.Values[k])).ToDictionary(x => x.Name, x => x.V);
                        foreach (var (name, _, heads, tails) in cuts)
                        {
                            try
                            {
                                var cvFit = LawFitter.Fit(law, heads, options with { Jackknife = false });
                                cv[name + "/warnings"] = cvFit.Report.Warnings;
                                cv[name] = tails.Select(t => cvFit.Law.Predict(t with { Steps = [t.Steps[^1]], Observed = null }, cvFit.Values)[0]).ToArray();
                                cv[name + "/constant"] = tails.Select(t => cvFit.Law.Predict(Counterpart(t) with { Steps = [t.Steps[^1]] }, cvFit.Values)[0]).ToArray();
                                // Every future point (thinned to TailPoints per tail), for rules that score a member on the whole held-out segment.
                                cv[name + "/points"] = tails.Select(t => cvFit.Law.Predict(t with { Steps = Thin(t.Steps), Observed = null }, cvFit.Values)).ToArray();
                            }
                            catch (InputException e) { cv[name] = e.Message; }
                        }
                    }
                    catch (InputException e) { error = e.Message; }
                    perLaw[law.Spec] = new { finals, const_finals = constFinals, const_grid = constGrid, parameters, own, at_horizon = atH, cv_log_rmse = double.IsFinite(cvRmse) ? cvRmse : (double?)null, objective = double.IsFinite(objective) ? objective : (double?)null, warnings, cv, error };
                }
                splits.Add(new
                {
                    corpus = split.Corpus,
                    question = split.Question,
                    fit_horizon = h,
                    const_grid_steps = constRun.Steps,
                    const_grid_area = constRun.Steps.Select(t => Area(constRun.Eta, t)).ToArray(),
                    fit_runs = split.Fit.Select(r => new { run = r.Name, first = r.Steps[0], last = r.Steps[^1], points = r.Count }).ToArray(),
                    tests = split.Tests.Select(t => new { run = t.Run.Name, horizon = t.Horizon, last = t.Run.Steps[^1], observed = t.ObservedFinal, area = Area(t.Run.Eta, t.Run.Steps[^1]) }).ToArray(),
                    // The LR area (S1) of the fitted constant part at the fitted horizon, in the runs' own rate unit.
                    fit_area = Area(split.Fit[0].Eta, h),
                    cuts = cuts.Select(c => new { name = c.Name, cut = c.Cut, tails = c.Tails.Select(t => new { run = t.Name, step = t.Steps[^1], observed = t.Observed![^1], steps = Thin(t.Steps), observed_points = Thin(t.Steps, t.Observed!) }).ToArray() }).ToArray(),
                    laws = perLaw,
                });
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fitted {split.Corpus} / {split.Question}"));
            }
        File.WriteAllText(output, JsonSerializer.Serialize(splits, new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        Console.WriteLine($"wrote {output}");
    }
}
