using System.Diagnostics;
using System.Globalization;
using Anneal.Accuracy;
using Anneal.Design;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// Calibration designs of one trajectory (a constant-rate run and cooldowns branched from its checkpoints) against the usual
/// constant + cosine at the same compute, on every corpus, on two questions: WSD-like targets (the first seed's WSD runs
/// ending after H1, the schedules question's cosine horizon: every cooldown fraction at H2 and the WSD question's later
/// 10 % cooldowns), the 10 % cooldowns among them alone (the WSD question's shape), and decay targets (its cosine, cosine-to-a-tenth and linear runs ending after H1). The budget is the
/// baseline's: the constant run to H1 plus the cosine at H1 (2 H1). The designs are those <see cref="ProbeCheck.Menu"/> realises
/// from the corpus's other runs within that budget; each is fitted once with <c>auto</c> and its band, as
/// <see cref="ForecastBenchmark.Score"/> scores <c>anneal accuracy</c>'s rows, and scored per question: mean and worst relative
/// error of the final loss, pick regret among targets of one horizon, band coverage. Rows per corpus and question:
/// <list type="bullet">
/// <item><c>baseline</c>: constant to H1 + cosine at H1 (the menu's baseline);</item>
/// <item><c>two 10 % branches</c>: the issue's example, the constant run to T plus two 10 % cooldowns branched from it (the
/// menu's design of that form with the largest T, then the latest branches), a rule with no constant;</item>
/// <item><c>probe</c>: what <see cref="ProbePlanner.Plan"/> recommends among the menu (simulated with the default reference's
/// priors, mpl-400m, the target runs never among them), as <c>anneal probe --check</c> does;</item>
/// <item><c>best branch (hindsight)</c>: the branch design of lowest real mean error: a ceiling, not a rule.</item>
/// </list>
/// Run: <c>dotnet run -c Release --project bench/Anneal.Bench -- probe-branches [repo] [corpus-substring|all] [rows.csv]</c>
/// (docs/journal/session-21-probe.md).
/// </summary>
internal static class ProbeBranchesTable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Run(string repo, string? only, string? csv = null, double after = 1)
    {
        // Every design's forecasts and simulated scores, one row per (question, design, target), for slicing afterwards.
        using var rows = csv is null ? null : new StreamWriter(csv);
        rows?.WriteLine("corpus,question,design,family,cost,horizon,branches,baseline,picked,covers,sim_rms,sim_prior_max_ratio,target,target_horizon,observed,predicted,low,high,failure");
        var law = LossLaw.Parse("auto");
        // every corpus read once: the reference's (mpl-400m) and the loop's
        var corpora = BandCalibration.Corpora(repo);
        var mpl400 = corpora.First(c => c.Name == "mpl-400m");
        var reference = ProbeReference.Of(mpl400);
        Console.WriteLine("| corpus | question | targets | design | cost | mean err | worst | regret | band covers | probe's simulated error |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var corpus in corpora)
        {
            if (only is not null && only != "all" && !corpus.Name.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
            var sw = Stopwatch.StartNew();
            int seed = corpus.Runs.Min(r => r.Seed);
            var first = corpus.Runs.Where(r => r.Seed == seed).ToArray();
            var cosines = first.Where(r => ForecastProtocol.Kind(r) == "cosine").ToArray();
            if (cosines.Length == 0 || !first.Any(r => ForecastProtocol.Kind(r) == "constant"))
            {
                Console.WriteLine($"| {corpus.Name} | - | | no constant-rate run and cosine of one seed: no probe design | | | | | | |");
                continue;
            }
            long h1 = ForecastProtocol.Nominal(cosines.Min(r => r.Horizon));
            var wsd = first.Where(r => ForecastProtocol.Kind(r) == "wsd" && ForecastProtocol.Nominal(r.Horizon) > after * h1).ToArray();
            var decays = first.Where(r => ForecastProtocol.Kind(r) is "cosine" or "linear" && ForecastProtocol.Nominal(r.Horizon) > after * h1).ToArray();
            var all = wsd.Concat(decays).ToArray();
            if (all.Length == 0) { Console.WriteLine($"| {corpus.Name} | - | | no WSD or decay run after H1 = {h1} | | | | | | |"); continue; }
            var (menu, baseline) = ProbeCheck.Menu(corpus, all, 2 * h1);
            if (baseline is null) { Console.WriteLine($"| {corpus.Name} | - | | no constant + cosine at H1 = {h1} in the menu | | | | | | |"); continue; }
            var scores = menu.ToDictionary(m => m.Design.Key, m => Fit(corpus, m, all, law));
            // The WSD question's targets alone: the 10 % cooldowns (the same shape at several horizons).
            var tens = wsd.Where(r => r.Schedule?.Contains("decay=0.1)") == true || r.Schedule?.Contains("decay=0.1,") == true).ToArray();
            foreach (var (question, targets) in new[] { ("WSD-like", wsd), ("10 % cooldowns", tens), ("decays", decays) })
            {
                if (targets.Length == 0) continue;
                var names = targets.Select(t => ForecastProtocol.Target(corpus, t).Run.Name).ToHashSet();
                LawAccuracy Of(CorpusDesign d) => scores[d.Design.Key] is var s && s.Failed ? s : s with { Forecasts = s.Forecasts.Where(f => names.Contains(f.Run)).ToArray() };
                var branches = menu.Where(m => m.Design.Family == "constant+cooldowns").ToArray();
                var two = branches.Where(m => m.Design.Runs.Count == 3 && m.Parts.Skip(1).All(p => p.Run.Schedule?.Contains("decay=0.1") == true))
                    .OrderByDescending(m => m.Design.Horizon).ThenByDescending(m => m.Design.Runs.Skip(1).Min(r => r.Horizon)).FirstOrDefault();
                var best = branches.Where(m => !Of(m).Failed).OrderBy(m => Of(m).MeanError).FirstOrDefault();
                var request = new ProbeRequest(2 * h1, targets.Select(Spec).ToArray())
                {
                    Candidates = menu.Select(m => m.Design).ToArray(), Baseline = baseline.Design, References = [reference],
                };
                var plan = ProbePlanner.Plan(request);
                var pick = menu.First(m => m.Design.Key == plan.Recommended.Design.Key);
                string Sim(CorpusDesign d) => plan.Designs.FirstOrDefault(x => x.Design.Key == d.Design.Key) is { } s ? Pct(s.RmsError) : "-";
                void Row(string what, CorpusDesign? d)
                {
                    if (d is null) { Console.WriteLine($"| {corpus.Name} | {question} | {targets.Length} | {what}: none in the menu | | | | | | |"); return; }
                    var a = Of(d);
                    string cells = a.Failed ? $"failed: {a.Error} | | | |"
                        : $"{Pct(a.MeanError)} | {Pct(a.WorstError)} | {Pct(a.Regret, 3)} | {a.Covered}/{a.Forecasts.Count} |";
                    Console.WriteLine($"| {corpus.Name} | {question} | {targets.Length} | {what}: {d.Design.Name} | {d.Design.Cost:N0} | {cells} {Sim(d)} |");
                }
                var baseSim = plan.Designs.First(x => x.Design.Key == baseline.Design.Key);
                foreach (var m in menu)
                {
                    var sim = plan.Designs.FirstOrDefault(x => x.Design.Key == m.Design.Key);
                    double ratio = sim is null ? double.NaN : sim.PriorErrors.Zip(baseSim.PriorErrors).Max(x => x.First / x.Second);
                    string head = string.Join(",", corpus.Name, question, Csv(m.Design.Name), m.Design.Family, m.Design.Cost, m.Design.Horizon, m.Design.Runs.Count(r => r.IsBranch),
                        m == baseline ? 1 : 0, m == pick ? 1 : 0, sim?.Covers == true ? 1 : 0, F(sim?.RmsError ?? double.NaN), F(ratio));
                    var a = Of(m);
                    if (a.Failed) { rows?.WriteLine($"{head},,,,,,,{Csv(a.Error!)}"); continue; }
                    foreach (var f in a.Forecasts) rows?.WriteLine($"{head},{Csv(f.Run)},{f.Horizon},{F(f.Observed)},{F(f.Predicted)},{F(f.Low)},{F(f.High)},");
                }
                Row("baseline", baseline);
                Row("two 10 % branches", two);
                Row("probe", pick);
                Row("best branch (hindsight)", best);
            }
            Console.Error.WriteLine($"{corpus.Name}: {menu.Count} designs, {sw.Elapsed.TotalSeconds:F0} s");
        }
    }

    /// <summary>The design fitted on its real runs with its band, forecasting every target (one fit for both questions).</summary>
    private static LawAccuracy Fit(ForecastCorpus corpus, CorpusDesign d, IReadOnlyList<CorpusRun> targets, LossLaw law)
    {
        var fit = d.Parts.Select(p => corpus.LawRunOf(p.Run, p.FirstStep, p.EndStep) with { Name = p.EndStep < p.Run.Horizon ? $"{p.Run.Name}[:{p.EndStep}]" : p.Run.Name }).ToArray();
        var split = new ForecastSplit(corpus.Name, "probe", d.Design.Name, fit, targets.Select(t => ForecastProtocol.Target(corpus, t)).ToArray(), d.Design.Horizon)
        {
            StepsPerEpoch = corpus.StepsPerEpoch,
        };
        return ForecastBenchmark.Score(split, law, 0.95, null);
    }

    /// <summary>A corpus run as a probe target: its schedule, with its nominal horizon when the schedule has no length.</summary>
    internal static string Spec(CorpusRun r)
    {
        var spec = r.Schedule ?? throw new InvalidOperationException($"{r.Name} has no schedule spec");
        return Schedules.Schedule.Parse(spec).Length is null ? $"{spec}@{ForecastProtocol.Nominal(r.Horizon)}" : spec;
    }

    private static string F(double x) => double.IsFinite(x) ? x.ToString("R", Inv) : "";

    private static string Csv(string x) => "\"" + x.Replace("\"", "'") + "\"";

    private static string Pct(double x, int digits = 2) => double.IsFinite(x) ? (x * 100).ToString("F" + digits, Inv) + " %" : "-";
}
