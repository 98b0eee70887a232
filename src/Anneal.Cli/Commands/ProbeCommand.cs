using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anneal.Accuracy;
using Anneal.Curves;
using Anneal.Design;
using Anneal.Fitting;
using Anneal.IO;
using Anneal.Laws;

namespace Anneal.Cli.Commands;

/// <summary><c>anneal probe</c>: the cheapest calibration runs that pin down the law for the user's target schedules (parsing and rendering only; the work is <see cref="ProbePlanner"/>).</summary>
internal static class ProbeCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Build()
    {
        var budget = new Option<long?>("--budget", "-b") { Description = "Steps the calibration runs may cost together; a cooldown branched from a checkpoint of the constant run counts only its own steps." };
        var targets = new Option<string[]>("--target", "-t") { Description = "A schedule you intend to train (spec with total=, or SPEC@STEPS for an open-ended one); repeatable.", AllowMultipleArgumentsPerToken = false };
        var law = new Option<string>("--law", "-l") { Description = "The law you will fit on the calibration runs.", DefaultValueFactory = _ => "auto" };
        var reference = new Option<string[]>("--reference") { Description = "Corpus folder (corpus.json) or bundled corpus (mpl-25m, mpl-100m, mpl-400m) whose runs the prior laws are fitted on, mapped to your peak and horizon (default: mpl-400m); repeatable: each adds its priors, and another design must beat constant + cosine under all of them.", AllowMultipleArgumentsPerToken = false };
        var priors = new Option<string[]>("--prior") { Description = "A law file (anneal fit --out) fitted in your own units and steps, or a published law (mpl-25m, mpl-100m, mpl-400m, mapped from its own world), that plays the real runs; repeatable. Replaces the default reference unless --reference is given too." };
        var noise = new Option<double?>("--noise") { Description = $"Relative noise of one logged loss at one point per H/{ProbeSimulation.PointsPerHorizon} steps (default {ProbePlanner.DefaultNoise.Sigma.ToString(Inv)}, measured on the 400M runs; see docs/probe.md)." };
        var noiseFrom = new Option<string?>("--noise-from") { Description = "Measure the noise (level, correlation, share between runs) from a corpus folder of your own runs instead." };
        var margin = new Option<double>("--margin") { Description = "Recommend a design other than constant + cosine only when its runs bracket every target's schedule shape, at least two of them decay, and its simulated error is at most 1/MARGIN of constant + cosine's under every prior (docs/probe.md).", DefaultValueFactory = _ => ProbePlanner.DefaultMargin };
        var seeds = new Option<int>("--seeds") { Description = "Noise seeds per prior for the finalists.", DefaultValueFactory = _ => 3 };
        var check = new Option<string?>("--check") { Description = "Corpus folder or bundled corpus (mpl-400m, ...): compare only the designs its existing runs realise, fit each on the real runs and score it on the targets' observed finals (the targets must be runs of the corpus)." };
        var constantLog = new Option<string?>("--constant-log") { Description = "A log of a constant-rate run at the targets' peak (FILE or FILE@SCHEDULE: a pilot, or an earlier run of the same model and data): where it enters the laws' regime is the shortest calibration horizon compared; designs whose runs end before it are left out (docs/probe.md)." };
        var constantLogTarget = new Option<string>("--constant-log-target") { Description = "Which loss of --constant-log to judge: val (default, where logged: the regime check is 8-12x less noisy on it) or loss (training).", DefaultValueFactory = _ => "val" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON (format anneal-probe/1) instead of tables." };
        var outFile = new Option<string?>("--out", "-o") { Description = "Also write the JSON result to this file." };
        var cmd = new Command("probe", """
            Design the calibration runs: the cheapest set of runs that best pins down the loss-curve law for the schedules you intend to train (the targets), within a budget of steps. Candidates: a constant-rate run, a cosine run, both, a constant run with short linear cooldowns branched from its checkpoints (each costs only its own steps), or a shorter run of a target's own decay, at several horizons. Each is scored by simulation: prior laws fitted on real runs generate its curves with measured noise, your law is fitted on them and forecasts the targets' finals; the error is compared with the priors' true finals. Reports each run's cost, the total, and the simulated error of every design (docs/probe.md).
            Example: anneal probe --budget 2000 --target "cosine(peak=3e-3, total=2000, warmup=100)" --target "wsd(peak=3e-3, total=2000, warmup=100, decay=0.2)"
            """) { budget, targets, law, reference, priors, noise, noiseFrom, seeds, margin, check, constantLog, constantLogTarget, json, outFile };
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            var outPath = r.GetValue(outFile);
            if (outPath is not null) AtomicFile.CheckWritable(outPath, "--out");
            if (r.GetValue(noise) is not null && r.GetValue(noiseFrom) is not null) throw new InputException("give either --noise or --noise-from, not both");
            var priorFiles = r.GetValue(priors) ?? [];
            var userPriors = priorFiles.Select(f =>
            {
                if (!File.Exists(f) && ProbePriors.Published(f) is { } published) return published;
                if (!File.Exists(f)) throw new InputException($"--prior {f}: file not found (write one with anneal fit ... --out {f}, or name a published law: mpl-25m, mpl-100m, mpl-400m)");
                return new ProbePrior(Path.GetFileNameWithoutExtension(f), LawFile.Read(File.ReadAllText(f), f), $"law file {f}");
            }).ToArray();
            var refPaths = r.GetValue(reference) ?? [];
            IReadOnlyList<ProbeReference> refRuns = refPaths.Length > 0 ? refPaths.Select(path => Reference(LoadCorpus(path))).ToArray()
                : userPriors.Length == 0 ? [BundledReference()] : [];
            ForecastCorpus? noiseCorpus = r.GetValue(noiseFrom) is { } noisePath ? LoadCorpus(noisePath) : null;
            var request = new ProbeRequest(r.GetValue(budget) ?? throw new InputException("--budget is required: the steps the calibration runs may cost, e.g. --budget 2000"),
                r.GetValue(targets) ?? [])
            {
                Law = r.GetValue(law)!,
                Seeds = r.GetValue(seeds),
                Margin = r.GetValue(margin),
                Noise = r.GetValue(noise) is { } sigma ? ProbePlanner.DefaultNoise with { Sigma = sigma } : ProbePlanner.DefaultNoise,
                Priors = userPriors,
                References = refRuns,
                ConstantLog = r.GetValue(constantLog) is { } logArg ? ConstantLog(logArg, r.GetValue(constantLogTarget)!) : null,
            };
            // Every input is checked before any work: targets, budget, law, noise, files.
            var (parsed, _, _, _, _, _, _) = ProbePlanner.Designs(request);
            ForecastCorpus? corpus = null;
            IReadOnlyList<CorpusRun> targetRuns = [];
            IReadOnlyList<CorpusDesign> menu = [];
            if (r.GetValue(check) is { } checkPath)
            {
                corpus = LoadCorpus(checkPath);
                targetRuns = ProbeCheck.MatchTargets(corpus, parsed);
                (menu, var menuBaseline) = ProbeCheck.Menu(corpus, targetRuns, request.Budget);
                if (menu.Count == 0) throw new InputException($"--budget {request.Budget} pays for none of the designs corpus {corpus.Name} can realise without the targets");
                request = request with { Candidates = menu.Select(m => m.Design).ToArray(), Baseline = menuBaseline?.Design };
                // The priors must not have seen the runs they are checked against.
                var held = targetRuns.Select(t => t.Name).ToHashSet();
                request = request with
                {
                    References = refRuns.Select(x => x.Name != corpus.Name ? x
                        : x with { Runs = x.Runs.Where(run => !held.Contains(run.Name)).ToArray(), Name = $"{x.Name} without the targets" }).ToArray(),
                };
            }

            var progress = new SyncProgress<string>(m => io.Err.WriteLine("== " + m));
            var sw = Stopwatch.StartNew();
            if (noiseCorpus is not null)
            {
                progress.Report($"measuring the noise of {noiseCorpus.Name}");
                request = request with { Noise = ProbeNoise.Measure(CorpusRuns(noiseCorpus), LossLaw.Parse(request.Law)) };
            }
            var result = ProbePlanner.Plan(request, progress);
            IReadOnlyList<RealScore> real = [];
            if (corpus is not null)
            {
                var fitLaw = LossLaw.Parse(request.Law);
                var scores = new RealScore[menu.Count];
                for (int i = 0; i < menu.Count; i++)
                {
                    progress.Report($"check: fitting {menu[i].Design.Name} on the real runs ({i + 1}/{menu.Count})");
                    scores[i] = ProbeCheck.Score(corpus, menu[i], targetRuns, fitLaw);
                }
                real = scores;
            }
            double seconds = sw.Elapsed.TotalSeconds;
            var node = ProbeJson.Write(result, seconds, corpus is null ? null : (corpus.Name, real));
            if (outPath is not null) AtomicFile.WriteAllText(outPath, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            if (r.GetValue(json)) io.Out.WriteLine(node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            else io.Out.Write(Markdown(result, corpus, real, seconds));
            if (outPath is not null) io.Err.WriteLine($"wrote {outPath}");
            return CliExit.Ok;
        });
        return cmd;
    }

    /// <summary>The constant-rate log of --constant-log as a fit sees it (<see cref="RegimeService.Read"/>, the reader of <c>anneal fit --constant-log</c>): its <paramref name="target"/> loss.</summary>
    private static LawRun ConstantLog(string arg, string target)
    {
        if (target is not ("val" or "loss")) throw new InputException($"--constant-log-target must be val or loss, got '{target}'");
        try
        {
            return RegimeService.Read(CurveArgument.Parse(arg), target);
        }
        catch (InputException e) { throw e.Prefixed($"--constant-log: "); }
    }

    /// <summary>The bundled multi-power-law 400M runs (every schedule of the benchmark), the default reference.</summary>
    private static ProbeReference BundledReference() => Reference(LoadCorpus("mpl-400m"));

    /// <summary>A corpus folder (or its corpus.json), or a bundled multi-power-law corpus by name (mpl-25m, mpl-100m, mpl-400m).</summary>
    private static ForecastCorpus LoadCorpus(string path)
    {
        if (!Directory.Exists(path) && !File.Exists(path) && path.StartsWith("mpl-", StringComparison.OrdinalIgnoreCase))
        {
            var bench = BundledBenchmark.Open(null);
            var size = path[4..].ToLowerInvariant();
            if (!bench.Sizes.Contains(size)) throw new InputException($"{path}: no such folder, and not a bundled corpus (mpl-{string.Join(", mpl-", bench.Sizes)})");
            return bench.Corpus(size);
        }
        return ForecastCorpus.Load(path);
    }

    private static ProbeReference Reference(ForecastCorpus corpus) => ProbeReference.Of(corpus);

    private static LawRun[] CorpusRuns(ForecastCorpus corpus) => ProbeReference.CorpusRuns(corpus);

    private static string Pct(double x, int digits = 2) => double.IsFinite(x) ? (x * 100).ToString("F" + digits, Inv) + " %" : "-";

    private static string Markdown(ProbeResult p, ForecastCorpus? corpus, IReadOnlyList<RealScore> real, double seconds)
    {
        var sb = new StringBuilder();
        var rec = p.Recommended.Design;
        sb.AppendLine($"anneal probe: budget {p.Budget:N0} steps, {p.Targets.Count} target(s) up to {p.Targets.Max(t => t.Horizon):N0} steps, law {p.Law}{(corpus is null ? "" : $", designs realisable in corpus {corpus.Name}")}");
        sb.AppendLine();
        sb.AppendLine($"Recommended: **{rec.Name}**, {rec.Cost:N0} steps");
        sb.AppendLine();
        sb.AppendLine("| run | schedule | starts from | cost (steps) |");
        sb.AppendLine("|---|---|---|---|");
        foreach (var run in rec.Runs)
            sb.AppendLine($"| {run.Name} | `{run.Schedule}` | {(run.IsBranch ? $"checkpoint of the constant run at step {run.BranchStep:N0}" : "scratch")} | {run.Cost:N0} |");
        sb.AppendLine($"| **total** | | | **{rec.Cost:N0}** |");
        sb.AppendLine();
        foreach (var reason in p.Reasons) sb.AppendLine("- " + reason);
        foreach (var note in p.Notes) sb.AppendLine("- note: " + note);
        sb.AppendLine();
        var realByKey = real.ToDictionary(x => x.Design.Key);
        bool withReal = real.Count > 0;
        sb.AppendLine($"Designs by simulated error (finalists with {p.Settings.Seeds} noise seeds first, then the rest screened with one):");
        sb.AppendLine();
        sb.AppendLine("| design | cost | brackets the targets | simulated error | per prior | worst target | pick regret | fits |" + (withReal ? " real mean error | real RMS | real worst | real regret |" : ""));
        sb.AppendLine("|---|---|---|---|---|---|---|---|" + (withReal ? "---|---|---|---|" : ""));
        foreach (var d in p.Designs)
        {
            string mark = d == p.Recommended ? " **(recommended)**" : d == p.Baseline ? " (baseline)" : "";
            string covers = d.Covers ? "yes" : d.Uncovered.Count <= 2 ? "not " + string.Join(", ", d.Uncovered) : $"not {d.Uncovered.Count} of {p.Targets.Count}";
            sb.Append($"| {d.Design.Name}{mark} | {d.Design.Cost:N0} | {covers} | {Pct(d.RmsError)} | {string.Join(" / ", d.PriorErrors.Select(e => Pct(e)))} | {Pct(d.WorstTarget)} | {Pct(d.Regret, 3)} | {d.Simulations}{(d.Failures > 0 ? $" ({d.Failures} failed)" : "")} |");
            if (withReal)
            {
                var s = realByKey.GetValueOrDefault(d.Design.Key);
                sb.Append(s is null ? " | | | |" : s.Failure is not null ? $" failed: {s.Failure.Replace("|", "/")} | | | |" : $" {Pct(s.MeanError)} | {Pct(s.RmsError)} | {Pct(s.WorstError)} | {Pct(s.Regret, 3)} |");
            }
            sb.AppendLine();
        }
        sb.AppendLine();
        if (p.Baseline is { } b && b != p.Recommended)
        {
            sb.AppendLine($"Simulated error per target: recommended vs {b.Design.Name}");
            sb.AppendLine();
            sb.AppendLine("| target | recommended RMS | mean | baseline RMS | mean |");
            sb.AppendLine("|---|---|---|---|---|");
            foreach (var (x, y) in p.Recommended.Targets.Zip(b.Targets))
                sb.AppendLine($"| `{x.Target}` | {Pct(x.RmsError)} | {Pct(x.MeanError)} | {Pct(y.RmsError)} | {Pct(y.MeanError)} |");
            sb.AppendLine();
        }
        if (withReal) sb.Append(CheckSummary(p, real));
        var s2 = p.Settings;
        sb.AppendLine($"Simulation: {s2.Simulations} fits in {s2.Seconds:F1} s ({seconds:F1} s in all); priors: {string.Join("; ", s2.Priors)}; noise {Pct(s2.Noise.Sigma)} per logged point, lag-one correlation {s2.Noise.Correlation.ToString("0.00", Inv)}, {Pct(s2.Noise.CommonShare, 0)} shared between runs; logged every {s2.LogEvery:N0} steps{(s2.Block > 1 ? $", simulated in blocks of {s2.Block} steps" : "")}.");
        return sb.ToString();
    }

    /// <summary>What the real runs say about the recommendation, against constant + cosine and the best design in hindsight.</summary>
    private static string CheckSummary(ProbeResult p, IReadOnlyList<RealScore> real)
    {
        var sb = new StringBuilder();
        var ok = real.Where(x => x.Failure is null).ToArray();
        var rec = real.FirstOrDefault(x => x.Design.Key == p.Recommended.Design.Key);
        var bas = p.Baseline is null ? null : real.FirstOrDefault(x => x.Design.Key == p.Baseline.Design.Key);
        // Ranked by RMS error, the criterion the simulation minimises.
        var best = ok.OrderBy(x => x.RmsError).FirstOrDefault();
        sb.AppendLine("On the real runs:");
        sb.AppendLine();
        sb.AppendLine("| design | cost | mean error | RMS | worst | pick regret | rank by RMS |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        void Row(string what, RealScore? s)
        {
            if (s is null) return;
            int rank = ok.Count(x => x.RmsError < s.RmsError) + 1;
            sb.AppendLine(s.Failure is not null ? $"| {what}: {s.Design.Name} | {s.Design.Cost:N0} | failed | | | | |"
                : $"| {what}: {s.Design.Name} | {s.Design.Cost:N0} | {Pct(s.MeanError)} | {Pct(s.RmsError)} | {Pct(s.WorstError)} | {Pct(s.Regret, 3)} | {rank} of {ok.Length} |");
        }
        Row("probe's pick", rec);
        Row("constant + cosine", bas);
        Row("best in hindsight", best);
        sb.AppendLine();
        sb.AppendLine($"Rank correlation (Spearman) of the simulated and the real RMS error over the {ok.Length} designs fitted: {ProbeCheck.SimulatedVsReal(p, real).ToString("0.00", Inv)}.");
        sb.AppendLine();
        return sb.ToString();
    }
}
