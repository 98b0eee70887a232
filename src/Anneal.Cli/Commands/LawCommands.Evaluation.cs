using System.CommandLine;
using System.Text;
using Anneal.Evaluation;
using Anneal.Fitting;
using Anneal.IO;
using Anneal.Laws;
using Anneal.Plotting;

namespace Anneal.Cli.Commands;

/// <summary><c>anneal evaluate | demo | accuracy</c>: laws scored on held-out runs, with their tables and plots.</summary>
public static partial class LawCommands
{
    private static Command Evaluate()
    {
        var fitCurves = new Option<string[]>("--fit") { Description = "Runs to fit on (FILE or FILE@SCHEDULE).", Required = true, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true };
        var testCurves = new Option<string[]>("--test") { Description = "Held-out runs to predict (FILE or FILE@SCHEDULE).", Required = true, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true };
        var laws = new Option<string>("--law", "-l") { Description = "Comma-separated law specs (default: all laws).", DefaultValueFactory = _ => string.Join(",", LawRegistry.DefaultSpecs) };
        var target = TargetOption();
        var json = new Option<bool>("--json") { Description = "Print the results as JSON." };
        var svg = new Option<string?>("--svg") { Description = "Folder for one SVG per test run (observed markers, each law's prediction and band)." };
        var md = new Option<string?>("--markdown") { Description = "Also write the tables as Markdown to this file." };
        var equal = new Option<bool>("--equal-weights") { Description = "Weight every fitted run equally." };
        var fromStep = FromStepOption();
        var method = MethodOption();
        var testGrad = new Option<string>("--test-grad-norm")
        {
            Description = "Gradient norms of the held-out runs, for convex(grad=logged): fit-mean (a forecast: the mean logged norm of the fitted runs at the same progress) or logged (each held-out run's own grad_norm column).",
            DefaultValueFactory = _ => "fit-mean",
        };
        testGrad.AcceptOnlyFromAmong("fit-mean", "logged");
        var cmd = new Command("evaluate", """
            Fit each law on some runs, predict held-out runs, and score them (R^2, MAE, RMSE, PredE, WorstE, final-loss error).
            Example: anneal evaluate --fit a.csv@"constant(peak=3e-4, warmup=2160)" b.csv@"cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)" --test c.csv@"cosine(peak=3e-4, total=72000, warmup=2160, min=3e-5)" --law mpl,momentum --svg plots
            """) { fitCurves, testCurves, laws, target, json, svg, md, equal, fromStep, method, testGrad };
        var cols = CurveColumnOptions.For(cmd);
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            if (r.GetValue(svg) is { } svgDir) AtomicFile.CheckFolder(svgDir, "--svg");
            CliOutputs.Check(("--markdown", r.GetValue(md)));
            var ls = LawRegistry.ParseList(r.GetValue(laws)!);
            FitWindow.CheckFromStep(r.GetValue(fromStep));
            var fitMethod = ParseMethod(r.GetValue(method)!);
            var request = new EvaluateRequest(ReadCurves(r.GetValue(fitCurves)!, cols.Get(r), r), ReadCurves(r.GetValue(testCurves)!, cols.Get(r), r), ls)
            {
                Target = r.GetValue(target)!, FromStep = r.GetValue(fromStep), EqualRunWeights = r.GetValue(equal), Method = fitMethod,
                TestGradNorm = r.GetValue(testGrad) == "logged" ? TestGradNorm.Logged : TestGradNorm.FitMean,
            };
            var res = EvaluateService.Evaluate(request, FitProgress(io.Err));
            PrintNotes(res.Fitted.NotesNaming(OptionNames.Of(r)).Concat(res.HeldOut.NotesNaming(OptionNames.Of(r))), io.Err);
            var report = res.Report;
            var scores = report.Scores;
            var outputs = new List<(string Path, string Text)>();
            if (r.GetValue(svg) is { } dir) outputs.AddRange(Plots(dir, scores, ""));
            if (r.GetValue(md) is { } mdPath) outputs.Add((mdPath, "# Law evaluation\n\n" + EvaluationTables.Markdown(report)));
            // the plots and the table together or none of them
            if (r.GetValue(svg) is { } dir2) Directory.CreateDirectory(dir2);
            AtomicFile.WriteAll(outputs);
            foreach (var (f, _) in outputs) io.Err.WriteLine($"wrote {f}");
            io.Out.Write(r.GetValue(json) ? report.ToJsonText() + "\n" : EvaluationTables.Text(report));
            return CliExit.Ok;
        });
        return cmd;
    }

    private static Command Demo()
    {
        var outDir = new Option<string>("--out", "-o") { Description = "Folder for the plots, fitted laws and tables.", DefaultValueFactory = _ => "anneal-demo" };
        var size = new Option<string>("--size") { Description = "Model size of the bundled benchmark: 25m, 100m or 400m.", DefaultValueFactory = _ => "400m" };
        var laws = new Option<string>("--law", "-l") { Description = "Comma-separated law specs (default: all laws).", DefaultValueFactory = _ => string.Join(",", LawRegistry.DefaultSpecs) };
        var data = new Option<string?>("--data") { Description = "Benchmark folder with manifest.json (default: the copy bundled in anneal)." };
        var cmd = new Command("demo", """
            Fit every law on the published multi-power-law split (cosine_24000, constant_24000, wsdcon_9), predict the six held-out schedules, print the table and write plots.
            Example: anneal demo --size 400m --out anneal-demo
            """) { outDir, size, laws, data };
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            var dir = r.GetValue(outDir)!;
            AtomicFile.CheckFolder(dir, "--out");
            var bench = BundledBenchmark.Open(r.GetValue(data));
            var sz = r.GetValue(size)!;
            var ls = LawRegistry.ParseList(r.GetValue(laws)!);
            if (bench.Sizes.Contains(sz)) io.Err.WriteLine($"Multi-power-law benchmark, {sz} model ({bench.Source})");
            var report = PublishedSplit.Evaluate(new PublishedSplitRequest(bench, sz, ls), FitProgress(io.Err));
            var scores = report.Scores;
            io.Out.Write(EvaluationTables.Text(report));
            var files = Plots(dir, scores, sz + "_").ToList();
            foreach (var s in scores.Where(s => s.Fit is not null))
                files.Add((Path.Combine(dir, $"{sz}_{Slug(s.Law.Spec)}.law.json"), s.Fit!.ToJson()));
            var mdPath = Path.Combine(dir, $"{sz}_results.md");
            files.Add((mdPath, $"# anneal demo ({sz})\n\n" + EvaluationTables.Markdown(report)));
            // every plot, law and table together or none of them
            Directory.CreateDirectory(dir);
            AtomicFile.WriteAll(files);
            io.Out.WriteLine($"wrote {files.Count} files to {Path.GetFullPath(dir)} (plots: {sz}_<test>.svg, fitted laws: *.law.json, table: {Path.GetFileName(mdPath)})");
            return CliExit.Ok;
        });
        return cmd;
    }

    private static Command Accuracy()
    {
        // The default is the current folder's accuracy.md: a user's run of the benchmark must not land in (or fail on) a docs/
        // folder of wherever they stand; the project's own docs/accuracy.md is regenerated with an explicit --out.
        var outFile = new Option<string>("--out", "-o") { Description = "Markdown report to write.", DefaultValueFactory = _ => "accuracy.md" };
        var data = new Option<string?>("--data") { Description = "Multi-power-law benchmark folder with manifest.json (default: the bundled copy)." };
        var corpora = new Option<string[]>("--corpus") { Description = "A corpus folder (or its corpus.json) to add to the bundled ones; repeatable.", AllowMultipleArgumentsPerToken = true };
        var noBundled = new Option<bool>("--no-bundled") { Description = "Only the --corpus corpora (skip the bundled MPL and engine corpora and the published-split tables)." };
        // A held-out corpus is measured once, blind, with the band and rules declared before it (docs/accuracy.md): a
        // development run of the benchmark (trying a law, a rule) must not compute forecasts on it, or it is held out no more.
        var noHeldOut = new Option<bool>("--no-held-out") { Description = "Leave out the bundled corpora marked held out (\"held_out\": true): for development runs, which must not see a corpus kept for a blind measurement." };
        var laws = new Option<string>("--law", "-l") { Description = "Comma-separated law specs (default: all laws).", DefaultValueFactory = _ => string.Join(",", LawRegistry.DefaultSpecs) };
        // --json alone prints the JSON on stdout, as every other command's --json does; --json FILE writes it to FILE (the form
        // the project's own regeneration and the journals use), the pooled tables still printed.
        var json = new Option<string?>("--json") { Description = "Print every forecast and metric as JSON (format anneal-accuracy/1) instead of the pooled tables; --json FILE writes it to FILE instead.", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("accuracy", """
            The forecasting benchmark: one fixed protocol (docs/accuracy.md) over every corpus. Fit on a constant run truncated at the short horizon plus one cosine run at that horizon and predict every other run's final loss; on corpora with cooldown branches, also fit the first two branches (or the two the corpus's cooldowns_fit names) and predict the later ones, and again from those branches' end points only (cooldown-ends, reported apart). Reports mean and worst final-loss error, Spearman correlation among schedules of one horizon, pick regret, 95% band coverage and width, fit time and seed noise, per corpus and pooled.
            Example: anneal accuracy --corpus bench/corpora/gpt100m-rope.json --out accuracy.md --json accuracy.json
            """) { outFile, data, corpora, noBundled, noHeldOut, laws, json };
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            var outPath = r.GetValue(outFile)!;
            var jsonPath = r.GetValue(json);
            bool jsonToStdout = r.GetResult(json) is not null && jsonPath is null;
            AtomicFile.CheckWritable(outPath, "--out");
            if (jsonPath is not null) AtomicFile.CheckWritable(jsonPath, "--json");
            var lawList = LawRegistry.ParseList(r.GetValue(laws)!);
            var specs = lawList.Select(l => l.Spec).ToArray();
            bool bundled = !r.GetValue(noBundled);
            var list = new List<Anneal.Accuracy.ForecastCorpus>();
            MplBenchmark? bench = null;
            if (bundled)
            {
                bench = BundledBenchmark.Open(r.GetValue(data));
                list.AddRange(bench.Sizes.Select(bench.Corpus));
                list.AddRange(BundledCorpora.All().Where(c => !(r.GetValue(noHeldOut) && c.HeldOut)));
            }
            foreach (var c in r.GetValue(corpora) ?? [])
            {
                var corpus = Anneal.Accuracy.ForecastCorpus.Load(c);
                if (Anneal.Accuracy.ForecastProtocol.Splits(corpus).Count == 0) throw new InputException($"--corpus {c}: {Anneal.Accuracy.ForecastProtocol.NoQuestion}");
                list.Add(corpus);
            }
            if (list.Count == 0) throw new InputException("--no-bundled needs at least one --corpus");
            var report = Anneal.Accuracy.ForecastBenchmark.Run(new Anneal.Accuracy.AccuracyRequest(list, specs),
                new SyncProgress<string>(m => io.Err.WriteLine("== " + m)));
            var command = "anneal accuracy" + string.Concat((r.GetValue(corpora) ?? []).Select(c => $" --corpus {c}")) + (bundled ? "" : " --no-bundled") + (r.GetValue(noHeldOut) ? " --no-held-out" : "")
                + (r.GetValue(laws) == string.Join(",", LawRegistry.DefaultSpecs) ? "" : $" --law \"{r.GetValue(laws)}\"") + $" --out {outPath}";
            foreach (var sk in report.Skipped) io.Err.WriteLine("note: corpus skipped: " + sk);
            var sb = new StringBuilder(AccuracyMarkdown.Render(report, command));
            if (bench is not null)
            {
                sb.AppendLine("## The published multi-power-law split");
                sb.AppendLine();
                sb.AppendLine("The reference paper's own split (fit cosine_24000, constant_24000, wsdcon_9; predict the six others), scored on whole curves with its metrics. Its numbers are per-curve means over the six test curves, so the `mean of curves` row is the one to compare. The final loss, its error and the band's coverage are scored on the protocol's final (the mean over the last 1 % of each run's steps), as above.");
                sb.AppendLine();
                foreach (var sz in bench.Sizes)
                {
                    io.Err.WriteLine($"== {sz}: published split");
                    var split = PublishedSplit.Evaluate(new PublishedSplitRequest(bench, sz, lawList) { Title = sz });
                    sb.AppendLine($"### {sz}");
                    sb.AppendLine();
                    sb.Append(EvaluationTables.Markdown(split));
                }
            }
            var outputs = new List<(string Path, string Text)> { (outPath, sb.ToString()) };
            if (jsonPath is not null) outputs.Add((jsonPath, AccuracyMarkdown.Json(report)));
            AtomicFile.WriteAll(outputs);
            if (jsonToStdout)
            {
                io.Out.Write(AccuracyMarkdown.Json(report));
                io.Err.WriteLine($"wrote {outPath}");
                return CliExit.Ok;
            }
            io.Out.Write(AccuracyMarkdown.PooledTable(report));
            if (report.HasHeldOut)
            {
                io.Out.WriteLine("held out (" + string.Join(", ", report.HeldOut.Order(StringComparer.Ordinal)) + "):");
                io.Out.Write(AccuracyMarkdown.PooledTable(report, heldOut: true));
            }
            io.Out.WriteLine($"wrote {string.Join(", ", outputs.Select(o => o.Path))}");
            return CliExit.Ok;
        });
        return cmd;
    }

    private static string Slug(string s) => new(s.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());

    /// <summary>One colour per law (nine, none black: black is the observations'); the demo compares nine laws,
    /// so a shorter list would give two of them one colour.</summary>
    private static readonly string[] LawColors = [.. SvgPlot.Palette.Where(c => c != "#000000"), "#8C564B", "#7B3294"];

    /// <summary>
    /// Per held-out run, two figures: the whole run (observed points, the first law's line and band,
    /// the other laws as thin lines) and the end of training (the last 30 % of steps, where cooldowns
    /// act and laws differ). Only the first law draws a band (the others' would hide it); a band the
    /// law could not compute is not drawn. Legends sit outside the data; the y-range follows the
    /// observations and the lines, not the bands.
    /// </summary>
    private static IEnumerable<(string Path, string Text)> Plots(string dir, IReadOnlyList<LawScore> scores, string prefix)
    {
        var ok = scores.Where(s => s.Fit is not null).ToArray();
        var tests = ok.SelectMany(s => s.Tests.Select(t => t.Run.Name)).Distinct().ToArray();
        foreach (var name in tests)
        {
            foreach (var zoom in new[] { false, true })
            {
                var first = ok[0].Tests.First(x => x.Run.Name == name);
                long last = first.Run.Steps[^1];
                double from = zoom ? 0.7 * last : double.NegativeInfinity;
                bool In(long step) => step >= from;
                var plot = new SvgPlot
                {
                    Title = zoom ? $"{name}: the last 30 % of training" : $"{name}: observed vs predicted",
                    XLabel = "step", YLabel = "loss", LegendOutside = true,
                };
                var core = new List<double[]>();
                var others = new List<double[]>();
                var keep = Enumerable.Range(0, first.Run.Count).Where(i => In(first.Run.Steps[i])).ToArray();
                double[] Sel(double[] v) => keep.Select(i => v[i]).ToArray();
                var x = Sel(first.Run.Steps.Select(v => (double)v).ToArray());
                if (zoom) plot.XMin = from;
                for (int k = 0; k < ok.Length; k++)
                {
                    var t = ok[k].Tests.First(x => x.Run.Name == name);
                    var color = LawColors[k % LawColors.Length];
                    var p = t.Prediction;
                    if (k == 0 && p.HasBand)
                    {
                        plot.AddBand($"{ok[k].Law.Spec} {p.Level:P0} band", x, Sel(p.Low), Sel(p.High), color);
                        others.Add(Sel(p.Low)); others.Add(Sel(p.High));
                    }
                    plot.AddLine(ok[k].Law.Spec, x, Sel(p.Loss), color: color);
                    (k == 0 ? core : others).Add(Sel(p.Loss));
                }
                plot.AddMarkers("observed", x, Sel(first.Run.Observed!), color: "#000000");
                core.Add(Sel(first.Run.Observed!));
                // The range follows the observations and the chosen law; a far-off law or a wide band may widen it a little, then is clipped.
                plot.FitY(core, others, maxExtension: 0.5);
                var path = Path.Combine(dir, $"{prefix}{Slug(name)}{(zoom ? "_end" : "")}.svg");
                yield return (path, plot.Render(960, 520));
            }
        }
    }
}
