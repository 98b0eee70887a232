using System.CommandLine;
using System.Globalization;
using System.Text;
using Anneal.Curves;
using Anneal.Evaluation;
using Anneal.Fitting;
using Anneal.IO;
using Anneal.Laws;
using Anneal.Plotting;
using Anneal.Prediction;
using Anneal.Schedules;

namespace Anneal.Cli.Commands;

/// <summary><c>anneal fit | predict | evaluate | demo | accuracy</c>: loss-curve laws.</summary>
public static class LawCommands
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>All law commands, to add at the root.</summary>
    public static IEnumerable<Command> Build() => [Fit(), Predict(), Evaluate(), Demo(), Accuracy()];

    private static Option<string> TargetOption() => new("--target") { Description = "Which loss to fit: loss (training, default) or val.", DefaultValueFactory = _ => "loss" };

    private static Option<long?> FromStepOption() => new("--from-step")
    {
        Description = "Fit and score only logged points at steps >= S (default: from the end of each run's warmup, where its LR first peaks; 0 keeps every point).",
    };

    /// <summary>Reads the curve arguments (FILE or FILE@SCHEDULE), printing what the readers had to guess.</summary>
    private static LossCurve[] ReadCurves(IEnumerable<string> args, CurveReadOptions read, ParseResult parse) => args.Select(a =>
    {
        var curve = CurveArgument.Parse(a, read);
        CurveMessages.Print(curve, Console.Error, parse);
        return curve;
    }).ToArray();

    private static void PrintNotes(IEnumerable<string> notes)
    {
        foreach (var n in notes) Console.Error.WriteLine("note: " + n);
    }

    private static readonly IProgress<string> FitProgress = new SyncProgress<string>(m => Console.Error.WriteLine(m));

    private static Option<string> MethodOption() => new("--method")
    {
        Description = "auto (the law's own: reference for mpl(warmup=reference), optimum otherwise), optimum (Levenberg-Marquardt to the exact Huber optimum) or reference (the multi-power-law reference procedure: early-stopped AdamW from the reference initialisation; validated for mpl(warmup=reference) only: on other laws its 20-step patience often stops it after ~20 steps).",
        DefaultValueFactory = _ => "auto",
    };

    private static FitMethod? ParseMethod(string m) => m switch
    {
        "auto" => null,
        "optimum" => FitMethod.Optimum,
        "reference" => FitMethod.EarlyStoppedAdamW,
        _ => throw new InputException($"--method must be auto, optimum or reference, got '{m}'"),
    };

    private static Command Fit()
    {
        var curvesArg = new Argument<string[]>("curves") { Description = "Logged runs: FILE or FILE@SCHEDULE (the exact schedule; otherwise the lr column is interpolated), or a stored run: run:ID or run:NAME (optionally @SCHEDULE; read from --store's store).", Arity = ArgumentArity.OneOrMore };
        var law = new Option<string>("--law", "-l") { Description = "Law spec: auto (default: a stack of momentum(cap=fit) and mpl(warmup=reference), see docs/laws.md), powerlaw, momentum, momentum(lambda=fit), momentum(cap=fit), mpl, mpl(warmup=reference), fm, fm(n=1e8), convex.", DefaultValueFactory = _ => "auto" };
        var outFile = new Option<string?>("--out", "-o") { Description = "Write the fitted law (values, standard errors, covariance, report) to this JSON file." };
        var target = TargetOption();
        var json = new Option<bool>("--json") { Description = "Print the fitted law as JSON instead of a table." };
        var equal = new Option<bool>("--equal-weights") { Description = "Weight every run equally, whatever its number of logged points." };
        var seed = new Option<int>("--seed") { Description = "Seed of the random starts (the fit is deterministic per seed).", DefaultValueFactory = _ => 0 };
        var fromStep = FromStepOption();
        var methodOpt = MethodOption();
        var store = StoreInputs.SaveOption("fitted law");
        var cmd = new Command("fit", """
            Fit a loss-curve law to one or more logged runs (Huber on log loss, multi-start, analytic gradients).
            Example: anneal fit runs/cosine_24000.csv@"cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)" runs/constant_24000.csv@"constant(peak=3e-4, warmup=2160)" --law mpl --out law.json
            Stored runs, the law saved with them: anneal fit run:12 run:13 --store   (then: anneal predict law:ID ..., anneal runs artifacts)
            """) { curvesArg, law, outFile, target, json, equal, seed, fromStep, methodOpt, store };
        var cols = CurveColumnOptions.For(cmd);
        cmd.SetAction(r =>
        {
            CliOutputs.Check(("--out", r.GetValue(outFile)));
            var l = LossLaw.Parse(r.GetValue(law)!);
            FitWindow.CheckFromStep(r.GetValue(fromStep));
            var method = ParseMethod(r.GetValue(methodOpt)!);
            var args = r.GetValue(curvesArg)!;
            using var runStore = StoreInputs.Open(r, store, args.Any(Anneal.Store.Provenance.IsRun));
            var read = cols.Get(r);
            var (curves, runIds) = StoreInputs.ReadCurves(args, runStore, a => ReadCurves([a], read, r)[0]);
            var res = FitService.Fit(new FitRequest(curves, l)
            {
                Target = r.GetValue(target)!, FromStep = r.GetValue(fromStep), EqualRunWeights = r.GetValue(equal), Seed = r.GetValue(seed), Method = method,
            }, FitProgress);
            PrintNotes(res.Prepared.NotesNaming(OptionNames.Of(r)));
            var fit = res.Fit;
            var runs = res.Runs;
            if (r.GetValue(outFile) is { } path) AtomicFile.WriteAllText(path, fit.ToJson());
            string? saved = null;
            if (r.GetResult(store) is not null)
            {
                long lawId = Anneal.Store.Provenance.SaveLaw(runStore!, fit, runIds);
                saved = $"saved law {lawId} to {runStore!.Location} (" + (runIds.Length == 0 ? "fitted to files only: no stored runs recorded"
                    : $"fitted to run{(runIds.Length == 1 ? "" : "s")} {string.Join(", ", runIds)}" + (args.Length > runIds.Length ? $" and {args.Length - runIds.Length} file(s)" : ""))
                    + $"; Anneal {Anneal.Store.RunStore.AnnealVersion}); use it as law:{lawId}";
            }
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(fit.ToJson());
                if (saved is not null) Console.Error.WriteLine(saved);
                return CliExit.Ok;
            }
            Console.Out.WriteLine($"law {fit.Law.Spec} fitted to {runs.Count} run(s), {fit.Report.Points} points");
            if (fit.Law is AutoLaw stack)
                Console.Out.WriteLine("auto = " + string.Join(" + ", stack.Members.Select(m => string.Create(Inv, $"{m.Weight:0.##} x {m.Law.Spec}"))) + $" ({fit.StackChoice ?? FittedLaw.AutoLawReason})");
            Console.Out.Write(fit.Table());
            var rep = fit.Report;
            Console.Out.WriteLine(string.Create(Inv, $"objective {rep.Objective:G6} (Huber delta {rep.HuberDelta:G3} on log loss), rms log residual {rep.RmsLogResidual:G3}"));
            if (rep.Method == FitMethod.EarlyStoppedAdamW)
                Console.Out.WriteLine(string.Create(Inv, $"reference procedure: {rep.Iterations} AdamW steps from the reference initialisation (early-stopped by design), {rep.Evaluations} evaluations, {rep.WallSeconds:F2} s"));
            else
                Console.Out.WriteLine(string.Create(Inv, $"{rep.Starts} starts ({rep.ConvergedStarts} converged), best after {rep.Iterations} iterations, {rep.Evaluations} evaluations, {rep.WallSeconds:F2} s"));
            Console.Out.WriteLine(string.Create(Inv, $"standard errors: Gauss-Newton at the fitted point, x{rep.Inflation:F1} variance for autocorrelated residuals"));
            foreach (var w in rep.Warnings) Console.Out.WriteLine("warning: " + w);
            foreach (var (name, m) in res.PerRun)
                Console.Out.WriteLine(string.Create(Inv, $"  {name}: R^2 {m.R2:F4}, RMSE {m.Rmse:G3}, PredE {m.PredE:P3}"));
            if (r.GetValue(outFile) is { } p2) Console.Out.WriteLine($"wrote {p2}");
            if (saved is not null) Console.Out.WriteLine(saved);
            return CliExit.Ok;
        });
        return cmd;
    }

    private static Command Predict()
    {
        var lawFile = new Argument<string>("law") { Description = "A fitted law written by 'anneal fit --out law.json', a stored law law:ID (saved by 'anneal fit --store'), or a built-in name: mpl-25m, mpl-100m, mpl-400m (the published multi-power laws)." };
        var schedule = new Option<string?>("--schedule", "-s") { Description = "Schedule spec to predict, e.g. 'wsd(peak=3e-4, total=72000, warmup=2160, decay=0.2, shape=sqrt)'." };
        var lrFile = new Option<string?>("--lr-file") { Description = "Predict a schedule given as numbers instead: a CSV with step and lr columns (missing steps are interpolated)." };
        var steps = new Option<long?>("--steps", "-n") { Description = "Horizon: predict steps 0..N-1 (default: the schedule's total)." };
        var points = new Option<int>("--points") { Description = "Number of output points (evenly spaced after the warmup).", DefaultValueFactory = _ => 500 };
        var level = new Option<double>("--level") { Description = "Coverage of the uncertainty band.", DefaultValueFactory = _ => 0.95 };
        var csv = new Option<string?>("--csv") { Description = "Write step,loss,low,high to this CSV file." };
        var svg = new Option<string?>("--svg") { Description = "Plot the predicted curve and band to this SVG file." };
        var json = new Option<bool>("--json") { Description = "Print JSON (final_loss, final_loss_low, final_loss_high, curve)." };
        var store = StoreInputs.SaveOption("forecast (linked to its law)");
        var cmd = new Command("predict", """
            Predict the loss curve of a schedule with a fitted law, with an uncertainty band.
            Example: anneal predict law.json --schedule "wsd(peak=3e-4, total=72000, warmup=2160, decay=0.2, shape=sqrt, min=3e-5)" --svg wsd.svg
            Or from per-step rates: anneal predict law.json --lr-file my_schedule.csv
            With a stored law, the forecast saved beside it: anneal predict law:5 --schedule "cosine(peak=3e-4, total=48000, warmup=2160)" --store
            """) { lawFile, schedule, lrFile, steps, points, level, csv, svg, json, store };
        cmd.SetAction(r =>
        {
            CliOutputs.Check(("--csv", r.GetValue(csv)), ("--svg", r.GetValue(svg)));
            var path = r.GetValue(lawFile)!;
            using var runStore = StoreInputs.Open(r, store, Anneal.Store.Provenance.IsLaw(path));
            var (fit, storedLaw) = StoreInputs.ReadLaw(path, runStore);
            var specText = r.GetValue(schedule); var lrPath = r.GetValue(lrFile);
            var request = new PredictRequest(fit) { Steps = r.GetValue(steps), Points = r.GetValue(points), Level = r.GetValue(level) };
            PredictService.CheckOneSchedule(specText is not null, lrPath is not null);
            if (lrPath is not null)
            {
                var given = r.GetValue(steps);
                if (given is { } g0) PredictService.CheckSteps(g0);
                var expanded = LrFile.Read(lrPath, given is { } g1 ? g1 - 1 : null);
                if (expanded.Warning is { } w) Console.Error.WriteLine("warning: " + w);
                request = request with { Rates = expanded.Lr, RatesSource = $"per-step LR from {lrPath}" };
            }
            if (specText is not null) request = request with { Schedule = Schedule.Parse(specText) };
            // long horizons take minutes: say so before the work starts
            request = request with { Note = m => Console.Error.WriteLine("note: " + m) };
            var res = PredictService.Predict(request);
            var pred = res.Prediction;
            var eta = res.Rates;
            var label = res.Label;
            long n = res.Steps;
            double lv = request.Level;
            var outputs = new List<(string Path, string Text)>();
            if (r.GetValue(csv) is { } c) { var w = new StringWriter(); WriteCsv(w, pred, eta); outputs.Add((c, w.ToString())); }
            if (r.GetValue(svg) is { } g)
            {
                var plot = new SvgPlot { Title = $"{fit.Law.Spec}: {label}", XLabel = "step", YLabel = "loss", Y2Label = "learning rate" };
                var x = pred.Steps.Select(v => (double)v).ToArray();
                if (pred.HasBand) plot.AddBand($"{lv:P0} band", x, pred.Low, pred.High);
                plot.AddLine("predicted loss", x, pred.Loss);
                plot.AddLine("learning rate", x, pred.Steps.Select(t => eta[t]).ToArray(), secondAxis: true);
                plot.FitY([pred.Loss], pred.HasBand ? [pred.Low, pred.High] : []);
                outputs.Add((g, plot.Render()));
            }
            // the CSV and the SVG together or neither: a failure leaves both existing files as they were
            AtomicFile.WriteAll(outputs);
            if (pred.BandUnavailable is { } noBand) Console.Error.WriteLine("warning: " + noBand);
            if (r.GetResult(store) is not null)
            {
                long lawId = StoreInputs.LawId(runStore!, path, fit, storedLaw);
                long id = Anneal.Store.Provenance.SaveForecast(runStore!, res, request.Schedule?.Spec, lawId);
                // on stderr: stdout stays the prediction (its JSON with --json)
                Console.Error.WriteLine($"saved forecast {id} to {runStore!.Location} (law {lawId}; Anneal {Anneal.Store.RunStore.AnnealVersion})");
            }
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(res.ToJson().ToJsonString());
                return CliExit.Ok;
            }
            Console.Out.WriteLine($"{fit.Law.Spec} predicts for {label}, {n} steps:");
            Console.Out.WriteLine(pred.HasBand
                ? string.Create(Inv, $"final loss {pred.FinalLoss:F4}  ({lv:P0} band {pred.FinalLow:F4} .. {pred.FinalHigh:F4})")
                : string.Create(Inv, $"final loss {pred.FinalLoss:F4}  ({pred.BandUnavailable})"));
            foreach (var f in new[] { 0.25, 0.5, 0.75 })
            {
                int i = Math.Clamp((int)(f * (pred.Steps.Length - 1)), 0, pred.Steps.Length - 1);
                Console.Out.WriteLine(string.Create(Inv, $"  step {pred.Steps[i],9}: {pred.Loss[i]:F4}") + (pred.HasBand ? string.Create(Inv, $"  [{pred.Low[i]:F4}, {pred.High[i]:F4}]") : ""));
            }
            if (r.GetValue(csv) is { } c2) Console.Out.WriteLine($"wrote {c2}");
            if (r.GetValue(svg) is { } g2) Console.Out.WriteLine($"wrote {g2}");
            return CliExit.Ok;
        });
        return cmd;
    }

    private static void WriteCsv(TextWriter w, LawPrediction p, double[] eta)
    {
        w.WriteLine("step,lr,loss,low,high");
        // Without a band the low and high cells stay empty.
        for (int i = 0; i < p.Steps.Length; i++)
            w.WriteLine(string.Create(Inv, $"{p.Steps[i]},{eta[p.Steps[i]]:R},{p.Loss[i]:R},") + (p.HasBand ? string.Create(Inv, $"{p.Low[i]:R},{p.High[i]:R}") : ","));
    }

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
            var res = EvaluateService.Evaluate(request, FitProgress);
            PrintNotes(res.Fitted.NotesNaming(OptionNames.Of(r)).Concat(res.HeldOut.NotesNaming(OptionNames.Of(r))));
            var report = res.Report;
            var scores = report.Scores;
            var outputs = new List<(string Path, string Text)>();
            if (r.GetValue(svg) is { } dir) outputs.AddRange(Plots(dir, scores, ""));
            if (r.GetValue(md) is { } mdPath) outputs.Add((mdPath, "# Law evaluation\n\n" + EvaluationTables.Markdown(report)));
            // the plots and the table together or none of them
            if (r.GetValue(svg) is { } dir2) Directory.CreateDirectory(dir2);
            AtomicFile.WriteAll(outputs);
            foreach (var (f, _) in outputs) Console.Error.WriteLine($"wrote {f}");
            Console.Out.Write(r.GetValue(json) ? report.ToJsonText() + "\n" : EvaluationTables.Text(report));
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
            var dir = r.GetValue(outDir)!;
            AtomicFile.CheckFolder(dir, "--out");
            var bench = BundledBenchmark.Open(r.GetValue(data));
            var sz = r.GetValue(size)!;
            var ls = LawRegistry.ParseList(r.GetValue(laws)!);
            if (bench.Sizes.Contains(sz)) Console.Error.WriteLine($"Multi-power-law benchmark, {sz} model ({bench.Source})");
            var report = PublishedSplit.Evaluate(new PublishedSplitRequest(bench, sz, ls), FitProgress);
            var scores = report.Scores;
            Console.Out.Write(EvaluationTables.Text(report));
            var files = Plots(dir, scores, sz + "_").ToList();
            foreach (var s in scores.Where(s => s.Fit is not null))
                files.Add((Path.Combine(dir, $"{sz}_{Slug(s.Law.Spec)}.law.json"), s.Fit!.ToJson()));
            var mdPath = Path.Combine(dir, $"{sz}_results.md");
            files.Add((mdPath, $"# anneal demo ({sz})\n\n" + EvaluationTables.Markdown(report)));
            // every plot, law and table together or none of them
            Directory.CreateDirectory(dir);
            AtomicFile.WriteAll(files);
            Console.Out.WriteLine($"wrote {files.Count} files to {Path.GetFullPath(dir)} (plots: {sz}_<test>.svg, fitted laws: *.law.json, table: {Path.GetFileName(mdPath)})");
            return CliExit.Ok;
        });
        return cmd;
    }

    private static Command Accuracy()
    {
        var outFile = new Option<string>("--out", "-o") { Description = "Markdown report to write.", DefaultValueFactory = _ => "docs/accuracy.md" };
        var data = new Option<string?>("--data") { Description = "Multi-power-law benchmark folder with manifest.json (default: the bundled copy)." };
        var corpora = new Option<string[]>("--corpus") { Description = "A corpus folder (or its corpus.json) to add to the bundled ones; repeatable.", AllowMultipleArgumentsPerToken = true };
        var noBundled = new Option<bool>("--no-bundled") { Description = "Only the --corpus corpora (skip the bundled MPL and engine corpora and the published-split tables)." };
        var laws = new Option<string>("--law", "-l") { Description = "Comma-separated law specs (default: all laws).", DefaultValueFactory = _ => string.Join(",", LawRegistry.DefaultSpecs) };
        var json = new Option<string?>("--json") { Description = "Also write every forecast and metric as JSON to this file." };
        var cmd = new Command("accuracy", """
            The forecasting benchmark: one fixed protocol (docs/accuracy.md) over every corpus. Fit on a constant run truncated at the short horizon plus one cosine run at that horizon and predict every other run's final loss; on corpora with cooldown branches, also fit the first two branches (or the two the corpus's cooldowns_fit names) and predict the later ones. Reports mean and worst final-loss error, Spearman correlation among schedules of one horizon, pick regret, 95% band coverage and width, fit time and seed noise, per corpus and pooled.
            Example: anneal accuracy --corpus bench/corpora/gpt100m-rope.json --out docs/accuracy.md
            """) { outFile, data, corpora, noBundled, laws, json };
        cmd.SetAction(r =>
        {
            var outPath = r.GetValue(outFile)!;
            var jsonPath = r.GetValue(json);
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
                list.AddRange(BundledCorpora.All());
            }
            foreach (var c in r.GetValue(corpora) ?? [])
            {
                var corpus = Anneal.Accuracy.ForecastCorpus.Load(c);
                if (Anneal.Accuracy.ForecastProtocol.Splits(corpus).Count == 0) throw new InputException($"--corpus {c}: {Anneal.Accuracy.ForecastProtocol.NoQuestion}");
                list.Add(corpus);
            }
            if (list.Count == 0) throw new InputException("--no-bundled needs at least one --corpus");
            var report = Anneal.Accuracy.ForecastBenchmark.Run(new Anneal.Accuracy.AccuracyRequest(list, specs),
                new SyncProgress<string>(m => Console.Error.WriteLine("== " + m)));
            var command = "anneal accuracy" + string.Concat((r.GetValue(corpora) ?? []).Select(c => $" --corpus {c}")) + (bundled ? "" : " --no-bundled")
                + (r.GetValue(laws) == string.Join(",", LawRegistry.DefaultSpecs) ? "" : $" --law \"{r.GetValue(laws)}\"") + $" --out {outPath}";
            foreach (var sk in report.Skipped) Console.Error.WriteLine("note: corpus skipped: " + sk);
            var sb = new StringBuilder(AccuracyMarkdown.Render(report, command));
            if (bench is not null)
            {
                sb.AppendLine("## The published multi-power-law split");
                sb.AppendLine();
                sb.AppendLine("The reference paper's own split (fit cosine_24000, constant_24000, wsdcon_9; predict the six others), scored on whole curves with its metrics. Its numbers are per-curve means over the six test curves, so the `mean of curves` row is the one to compare.");
                sb.AppendLine();
                foreach (var sz in bench.Sizes)
                {
                    Console.Error.WriteLine($"== {sz}: published split");
                    var split = PublishedSplit.Evaluate(new PublishedSplitRequest(bench, sz, lawList) { Title = sz });
                    sb.AppendLine($"### {sz}");
                    sb.AppendLine();
                    sb.Append(EvaluationTables.Markdown(split));
                }
            }
            var outputs = new List<(string Path, string Text)> { (outPath, sb.ToString()) };
            if (jsonPath is not null) outputs.Add((jsonPath, AccuracyMarkdown.Json(report)));
            AtomicFile.WriteAll(outputs);
            Console.Out.Write(AccuracyMarkdown.PooledTable(report));
            Console.Out.WriteLine($"wrote {string.Join(", ", outputs.Select(o => o.Path))}");
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
