using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Anneal.IO;
using Anneal.Planning;
using Spectre.Console;

namespace Anneal.Cli.Commands;

/// <summary>
/// <c>anneal plan ...</c> (learning rate, batch size, model size and tokens from published scaling laws,
/// plus rescaling rules) and <c>anneal scaling ...</c> (fit those laws to your own finished runs).
/// </summary>
public static class PlanCommands
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>A result as the JSON of one versioned format (docs/formats.md): <c>format</c> first, then its snake_case fields.</summary>
    private static string ToJson(object value, string format)
    {
        var o = JsonSerializer.SerializeToNode(value, Json)!.AsObject();
        o.Insert(0, "format", format);
        return o.ToJsonString(Json);
    }

    // ------------------------------------------------------------------ anneal plan
    public static Command Build()
    {
        var pParams = new Option<double?>("--params", "-N") { Description = "Model parameters N (the laws use NON-embedding parameters)." };
        var pTokens = new Option<double?>("--tokens", "-D") { Description = "Training tokens D." };
        var seqLen = new Option<int>("--seq-len", "-L") { Description = "Sequence length, to express batches in sequences.", DefaultValueFactory = _ => 2048 };
        var flops = new Option<double?>("--flops", "-C") { Description = "Compute budget C in FLOPs (default: 6 N D for the allocation, M D for DeepSeek)." };
        var batch = new Option<double?>("--batch") { Description = "Your planned batch in TOKENS per step, for the critical-batch numbers (default: the Step Law batch)." };
        var nonEmb = new Option<bool>("--non-embedding-params") { Description = "--params already excludes embedding parameters." };
        var layers = new Option<int?>("--layers") { Description = "Transformer layers (with --d-model: DeepSeek's exact FLOPs per token M = 72 n d^2 + 12 n d L)." };
        var dModel = new Option<int?>("--d-model") { Description = "Model width d_model." };
        var vocab = new Option<int?>("--vocab") { Description = "Vocabulary size: with --d-model, subtracts V * d_model embedding parameters from --params." };
        var loss = new Option<double?>("--loss") { Description = "Loss (nats/token) for the critical batch (default: Chinchilla prediction at N, D)." };
        var fits = new Option<string[]>("--fit") { Description = "A law fitted to your own runs (`anneal scaling fit RUNS.csv --json > fit.json`), shown beside the published ones; repeatable." };
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON instead of tables." };
        var explain = new Option<bool>("--explain") { Description = "Print every number with its formula and source." };
        var cmd = new Command("plan", """
            Recommend peak LR, batch size and a compute-optimal allocation from published scaling laws
            (Step Law, DeepSeek, Chinchilla published and Epoch refit, Kaplan critical batch).
            Example: anneal plan --params 1e9 --tokens 1e11 --seq-len 2048 --non-embedding-params --explain
            With your own fits: anneal plan -N 1e9 -D 1e11 --fit chinchilla-fit.json --fit steplaw-fit.json
            Rescaling rules: anneal plan rescale batch|width --help
            """) { pParams, pTokens, seqLen, flops, batch, nonEmb, layers, dModel, vocab, loss, fits, json, explain };
        cmd.SetAction(r =>
        {
            double n = r.GetValue(pParams) ?? throw new InputException("--params is required, e.g. --params 1e9 (non-embedding parameters)");
            double d = r.GetValue(pTokens) ?? throw new InputException("--tokens is required, e.g. --tokens 1e11");
            var plan = Planner.Plan(new PlanInputs(n, d, r.GetValue(seqLen), r.GetValue(flops), r.GetValue(batch), r.GetValue(nonEmb),
                r.GetValue(layers), r.GetValue(dModel), r.GetValue(vocab), r.GetValue(loss),
                (r.GetValue(fits) ?? []).Select(FitFile.Read).ToList()));
            if (r.GetValue(json)) { Console.Out.WriteLine(ToJson(plan, "anneal-plan/1")); return CliExit.Ok; }
            RenderPlan(plan, r.GetValue(explain));
            return CliExit.Ok;
        });
        cmd.Subcommands.Add(Rescale());
        return cmd;
    }

    private static void RenderPlan(HyperparameterPlan p, bool explain)
    {
        var con = Out();
        con.MarkupLine($"[bold]Plan[/]: N = {G(p.NonEmbeddingParams)} non-embedding params, D = {G(p.Inputs.Tokens)} tokens ({G(p.Inputs.Tokens / p.NonEmbeddingParams)} tokens/param), L = {p.Inputs.SeqLen}, C = {G(p.BudgetFlops)} FLOPs");
        var t = new Table().Title("Peak learning rate and batch size").AddColumns("law", "peak LR", "batch (tokens)", $"batch (seqs of {p.Inputs.SeqLen})");
        foreach (var rec in new[] { p.StepLaw, p.DeepSeek })
            t.AddRow(Esc(rec.Law.Name), G(rec.Lr), G(rec.BatchTokens), rec.BatchSequences.ToString("F0", CultureInfo.InvariantCulture));
        foreach (var rec in p.FittedLrBatch)
            t.AddRow(Esc(rec.Law.Name), G(rec.Lr), G(rec.BatchTokens), rec.BatchSequences.ToString("F0", CultureInfo.InvariantCulture));
        t.AddRow("[italic]ratio Step/DeepSeek[/]", $"{p.LrRatio:F2}x", $"{p.BatchRatio:F2}x", "");
        con.Write(t);
        foreach (var rec in new[] { p.StepLaw, p.DeepSeek })
            con.MarkupLine($"  [bold]{Esc(rec.Law.Name)}[/] ({Esc(rec.Law.Citation)}): {Esc(rec.Law.Accuracy)}");
        con.MarkupLine($"  {Esc(Disagreement(p.LrRatio, p.BatchRatio))}");

        var a = new Table().Title($"Compute-optimal allocation for C = {G(p.BudgetFlops)} FLOPs (C = 6 N D)")
            .AddColumns("constants", "N_opt", "D_opt", "tokens/param", "loss at optimum", "loss at your (N, D)");
        foreach (var x in p.Allocations)
            a.AddRow(Esc(x.Law.Name), G(x.OptimalParams), G(x.OptimalTokens), x.TokensPerParam.ToString("F1", CultureInfo.InvariantCulture),
                x.LossAtOptimum.ToString("F4", CultureInfo.InvariantCulture), x.LossAtPlan.ToString("F4", CultureInfo.InvariantCulture));
        con.Write(a);

        var c = p.CriticalBatch;
        var k = new Table().Title("Critical batch (Kaplan et al. 2020)").AddColumns("loss used", "B_crit (tokens)", "your batch", "steps S", "S_min", "E_min (tokens)");
        k.AddRow(c.Loss.ToString("F3", CultureInfo.InvariantCulture), G(c.CriticalBatchTokens), G(c.BatchTokens), G(c.Steps), G(c.MinSteps), G(c.MinTokens));
        con.Write(k);
        foreach (var note in p.Notes) con.MarkupLine($"[yellow]note:[/] {Esc(note)}");
        if (explain)
        {
            con.MarkupLine("[bold]How each number was computed[/]");
            foreach (var x in p.Explanations)
            {
                con.MarkupLine($"  [bold]{Esc(x.Quantity)}[/] = {G(x.Value)} {Esc(x.Unit)}");
                con.MarkupLine($"      formula: {Esc(x.Formula)}");
                con.MarkupLine($"      source:  {Esc(x.Source)}");
            }
        }
        else con.MarkupLine("[grey]--explain prints every formula and source; --json for machine-readable output.[/]");
    }

    private static string Disagreement(double lr, double b)
    {
        double worst = Math.Max(Math.Max(lr, 1 / lr), Math.Max(b, 1 / b));
        return worst < 1.5 ? "the laws agree within 1.5x" : $"the laws disagree by up to {worst:F1}x: sweep at least that range";
    }

    private static Command Rescale()
    {
        var cmd = new Command("rescale", "Carry a tuned learning rate (and weight decay) to another batch size or width.");

        var lr = new Option<double>("--lr") { Description = "The tuned learning rate.", Required = true };
        var fromB = new Option<double>("--from-batch") { Description = "Batch size it was tuned at (any unit, same as --to-batch).", Required = true };
        var toB = new Option<double>("--to-batch") { Description = "New batch size.", Required = true };
        var optim = new Option<string>("--optimizer") { Description = "adamw (square-root rule, any Adam-type) or sgd (linear rule).", DefaultValueFactory = _ => "adamw" };
        optim.AcceptOnlyFromAmong("adamw", "adam", "sgd");
        var json1 = new Option<bool>("--json") { Description = "Print JSON." };
        var batch = new Command("batch", """
            New learning rate for a new batch size: linear for SGD (Goyal et al. 2017), square root for Adam-type (Granziol et al. 2022).
            Example: anneal plan rescale batch --lr 3e-4 --from-batch 256 --to-batch 1024 --optimizer adamw
            """) { lr, fromB, toB, optim, json1 };
        batch.SetAction(r =>
        {
            var kind = r.GetValue(optim) == "sgd" ? OptimizerKind.Sgd : OptimizerKind.AdamW;
            var res = Rescaling.Batch(r.GetValue(lr), r.GetValue(fromB), r.GetValue(toB), kind);
            if (r.GetValue(json1)) { Console.Out.WriteLine(ToJson(new { optimizer = kind, fromBatch = r.GetValue(fromB), toBatch = r.GetValue(toB), fromLr = r.GetValue(lr), result = res }, "anneal-rescale-batch/1")); return CliExit.Ok; }
            var t = new Table().AddColumns("optimizer", "batch", "learning rate", "rule", "source");
            t.AddRow(kind.ToString(), $"{G(r.GetValue(fromB))} -> {G(r.GetValue(toB))}", $"{G(r.GetValue(lr))} -> [bold]{G(res.Lr)}[/] (x{res.Factor:G4})", Esc(res.Rule), Esc(res.Source));
            Out().Write(t);
            return CliExit.Ok;
        });

        var lr2 = new Option<double>("--lr") { Description = "The tuned (base) learning rate.", Required = true };
        var wd = new Option<double>("--weight-decay") { Description = "The tuned AdamW weight decay lambda (PyTorch's weight_decay argument).", DefaultValueFactory = _ => 0.0 };
        var fromW = new Option<double>("--from-width") { Description = "Width (d_model) it was tuned at.", Required = true };
        var toW = new Option<double>("--to-width") { Description = "New width.", Required = true };
        var json2 = new Option<bool>("--json") { Description = "Print JSON." };
        var width = new Command("width", """
            New AdamW learning rate and weight decay per parameter group for a new width: muP (Yang et al. 2021)
            eta ~ 1/width for matrix-like parameters, Theta(1) for vector-like; weight decay ~ sqrt(width) for
            matrix-like and 0 for vector-like (Fan et al. 2025, arXiv 2510.15262).
            Example: anneal plan rescale width --lr 3e-3 --weight-decay 0.1 --from-width 256 --to-width 1024
            """) { lr2, wd, fromW, toW, json2 };
        width.SetAction(r =>
        {
            var res = Rescaling.Width(r.GetValue(lr2), r.GetValue(wd), r.GetValue(fromW), r.GetValue(toW));
            if (r.GetValue(json2)) { Console.Out.WriteLine(ToJson(res, "anneal-rescale-width/1")); return CliExit.Ok; }
            var t = new Table().Title($"Width {G(r.GetValue(fromW))} -> {G(r.GetValue(toW))} (x{res.WidthRatio:G4}), AdamW").AddColumns("group", "learning rate", "weight decay", "LR rule", "WD rule", "source");
            foreach (var g in new[] { res.Matrix, res.Vector })
                t.AddRow(g.Group, G(g.Lr), G(g.WeightDecay), Esc(g.LrRule), Esc(g.WeightDecayRule), Esc(g.Source));
            var con = Out();
            con.Write(t);
            con.MarkupLine("[grey]matrix-like: hidden and output weight matrices; vector-like: embeddings, biases, norm gains. Diagnostic (Fan et al.): top singular values of matrix parameters should match across widths.[/]");
            return CliExit.Ok;
        });
        cmd.Subcommands.Add(batch);
        cmd.Subcommands.Add(width);
        return cmd;
    }

    // ------------------------------------------------------------------ anneal scaling
    public static Command BuildScaling()
    {
        var cmd = new Command("scaling", "Fit scaling laws (Chinchilla loss form, Step Law LR/batch form) to your own finished runs.");
        cmd.Subcommands.Add(Fit());
        cmd.Subcommands.Add(Example());
        return cmd;
    }

    private static Command Fit()
    {
        var file = new Argument<string>("runs") { Description = "CSV with header params,tokens,lr,batch,loss[,flops]: one row per finished run, batch in tokens." };
        var law = new Option<string>("--law") { Description = "chinchilla (L = E + A/N^alpha + B/D^beta) or steplaw (optimal LR and batch).", DefaultValueFactory = _ => "chinchilla" };
        law.AcceptOnlyFromAmong("chinchilla", "steplaw");
        var boot = new Option<int>("--bootstrap") { Description = "Bootstrap resamples for confidence intervals (0 = none).", DefaultValueFactory = _ => 1000 };
        var seed = new Option<int>("--seed") { Description = "Resampling seed (results are identical for a seed).", DefaultValueFactory = _ => 0 };
        var level = new Option<double>("--level") { Description = "Confidence level.", DefaultValueFactory = _ => 0.95 };
        var band = new Option<double>("--band") { Description = "steplaw: keep runs within this fraction of the best loss at each (N, D).", DefaultValueFactory = _ => 0.0025 };
        var holdAt = new Option<string>("--hold-at") { Description = "chinchilla: constants for parameters the data cannot identify: published or epoch.", DefaultValueFactory = _ => "published" };
        holdAt.AcceptOnlyFromAmong("published", "epoch");
        var json = new Option<bool>("--json") { Description = "Print JSON instead of tables." };
        var svg = new Option<string?>("--svg") { Description = "Write an SVG: chinchilla, loss vs compute with the compute-optimal frontier; steplaw, near-optimal LRs vs tokens with the fitted law." };
        var contours = new Option<string?>("--contours") { Description = "chinchilla only: write an iso-loss map over N and D (contours, iso-compute lines, the compute-optimal path, the runs) to this SVG." };
        var cmd = new Command("fit", """
            Fit a scaling law to finished runs with bootstrap confidence intervals.
            Example: anneal scaling example --out runs.csv && anneal scaling fit runs.csv --bootstrap 1000 --seed 1 --svg frontier.svg --contours isoloss.svg
            Example: anneal scaling example --sweep --out sweep.csv && anneal scaling fit sweep.csv --law steplaw
            """) { file, law, boot, seed, level, band, holdAt, json, svg, contours };
        cmd.SetAction(r =>
        {
            string path = r.GetValue(file)!;
            bool step = r.GetValue(law) == "steplaw";
            if (step && r.GetValue(contours) is not null) throw new InputException("--contours draws the Chinchilla law's iso-loss map; use it with --law chinchilla");
            CliOutputs.Check(("--svg", r.GetValue(svg)), ("--contours", r.GetValue(contours)));
            var runs = ScalingRunsCsv.Read(path, needLrBatch: step);
            if (step)
            {
                var res = StepLawFit.Fit(runs, new StepLawFitOptions(r.GetValue(band), r.GetValue(boot), r.GetValue(seed), r.GetValue(level)));
                if (r.GetValue(svg) is { } stepSvg) StepLawPlot.Save(stepSvg, runs, res);
                if (r.GetValue(json)) Console.Out.WriteLine(ToJson(res, "anneal-scaling-fit/1"));
                else RenderStepFit(res, path);
                return CliExit.Ok;
            }
            var opts = new ChinchillaFitOptions(r.GetValue(boot), r.GetValue(seed), Level: r.GetValue(level),
                HoldAt: r.GetValue(holdAt) == "epoch" ? ChinchillaLaw.EpochRefit : ChinchillaLaw.Published);
            int total = opts.Bootstrap;
            bool tty = !Console.IsErrorRedirected;
            var progress = new SyncProgress<int>(c =>
            {
                if (tty) Console.Error.Write($"\rbootstrap {c}/{total}" + (c == total ? "\n" : ""));
                else if (c == total || c % Math.Max(1, total / 4) == 0) Console.Error.WriteLine($"bootstrap {c}/{total}");
            });
            var fit = ChinchillaFit.Fit(runs, opts, total > 0 ? progress : null);
            var outputs = new List<(string Path, string Text)>();
            if (r.GetValue(svg) is { } svgPath) outputs.Add((svgPath, FrontierPlot.Build(runs, fit).Render()));
            if (r.GetValue(contours) is { } isoPath) outputs.Add((isoPath, IsoLossPlot.Build(runs, fit).Render()));
            // both plots or neither
            AtomicFile.WriteAll(outputs);
            if (r.GetValue(json)) Console.Out.WriteLine(ToJson(fit, "anneal-scaling-fit/1"));
            else RenderChinchillaFit(fit, path);
            return CliExit.Ok;
        });
        return cmd;
    }

    private static void RenderChinchillaFit(ChinchillaFitResult f, string path)
    {
        var con = Out();
        con.MarkupLine($"[bold]Chinchilla fit[/] of {Esc(path)}: L(N, D) = E + A/N^alpha + B/D^beta, Huber(delta={f.Delta:G3}) on log loss, L-BFGS from {f.Starts} grid starts ({f.StartsAtBest} reached the best), {(f.Converged ? "converged" : "[red]NOT converged[/]")} in {f.Iterations} iterations");
        con.MarkupLine($"{f.Runs} runs, {f.DistinctParams} model sizes, {f.DistinctTokens} token counts; R^2 = {f.R2:F5}, RMSE(log loss) = {f.RmseLog:G3}, objective = {f.Objective:G6}");
        string ci = f.Resamples > 0 ? $"{Pct(f.Level)} CI ({f.Resamples - f.FailedResamples}/{f.Resamples} resamples, seed {f.Seed})" : "CI (no bootstrap)";
        var t = new Table().Title("Parameters (unrounded)").AddColumns("parameter", "value", $"{ci} low", "high", "status");
        foreach (var p in f.Parameters)
            t.AddRow(Esc(p.Name), R(p.Value), R(p.Low), R(p.High), p.Fixed ? "[yellow]held fixed[/]" : "fitted");
        con.Write(t);
        foreach (var h in f.Held) con.MarkupLine($"[yellow]held:[/] {Esc(h.Name)} = {R(h.Value)}: {Esc(h.Reason)}");
        var fr = new Table().Title($"Compute-optimal frontier (C = {f.FlopsPerParamToken.ToString("G4", CultureInfo.InvariantCulture)} N D{(f.FlopsPerParamToken == 6.0 ? "" : ", k = median flops/(N D) of your runs")}), {Pct(f.Level)} intervals").AddColumns("C (FLOPs)", "N_opt", "N CI", "D_opt", "D CI", "tokens/param", "tokens/param CI", "loss");
        foreach (var p in f.Frontier)
            fr.AddRow(G(p.Flops), G(p.Params), Ci(p.ParamsLow, p.ParamsHigh), G(p.Tokens), Ci(p.TokensLow, p.TokensHigh),
                p.TokensPerParam.ToString("F1", CultureInfo.InvariantCulture), Ci(p.TokensPerParamLow, p.TokensPerParamHigh), p.Loss.ToString("F4", CultureInfo.InvariantCulture));
        con.Write(fr);
        if (f.Held.Count > 0) con.MarkupLine("[yellow]note:[/] the frontier depends on the held-fixed parameters above.");
        con.MarkupLine("[grey]Compare: Hoffmann et al. published alpha=0.3392, beta=0.2849; Epoch refit alpha=0.3478, beta=0.3658 (arXiv 2404.10102).[/]");
    }

    private static void RenderStepFit(StepLawFitResult f, string path)
    {
        var con = Out();
        con.MarkupLine($"[bold]Step Law fit[/] of {Esc(path)}: log eta = log c + p log N + q log D, log B = log c_B + r log D (Li et al. 2025, arXiv 2503.04715)");
        con.MarkupLine($"{f.Runs} runs in {f.Groups} (N, D) groups; {f.Kept} within {Pct(f.Band)} of their group's best loss; residual SD(log eta) = {f.LrResidualSd:G3}, SD(log B) = {f.BatchResidualSd:G3}");
        var t = new Table().AddColumns("coefficient", "value", $"{Pct(f.Level)} CI low", "high", "status", "published");
        var pub = StepLaw.Published;
        double[] published = [pub.LrCoefficient, pub.LrParamsExponent, pub.LrTokensExponent, pub.BatchCoefficient, pub.BatchTokensExponent];
        for (int i = 0; i < f.Parameters.Count; i++)
        {
            var p = f.Parameters[i];
            t.AddRow(Esc(p.Name), R(p.Value), R(p.Low), R(p.High), p.Fixed ? "[yellow]held fixed[/]" : "fitted", R(published[i]));
        }
        con.Write(t);
        foreach (var h in f.Held) con.MarkupLine($"[yellow]held:[/] {Esc(h.Name)} = {R(h.Value)}: {Esc(h.Reason)}");
        con.MarkupLine($"eta_opt(N, D) = {f.Law.LrCoefficient:G4} N^{f.Law.LrParamsExponent:G4} D^{f.Law.LrTokensExponent:G4};  B_opt(D) = {f.Law.BatchCoefficient:G4} D^{f.Law.BatchTokensExponent:G4} tokens");
    }

    private static Command Example()
    {
        var output = new Option<string>("--out", "-o") { Description = "Where to write the runs CSV.", Required = true };
        var sweep = new Option<bool>("--sweep") { Description = "Write a learning-rate x batch sweep for --law steplaw instead of one run per (N, D)." };
        var seed = new Option<int>("--seed") { Description = "Noise seed.", DefaultValueFactory = _ => 1 };
        var noise = new Option<double>("--noise") { Description = "Multiplicative noise sigma on the loss (default 0.005, i.e. 0.5%; 0.0005 for --sweep).", };
        var cmd = new Command("example", """
            Write a synthetic runs file generated from stated constants (for trying out `anneal scaling fit`).
            Example: anneal scaling example --out runs.csv
            Example: anneal scaling example --sweep --out sweep.csv
            """) { output, sweep, seed, noise };
        cmd.SetAction(r =>
        {
            CliOutputs.Check(("--out", r.GetValue(output)));
            var pub = ChinchillaLaw.Published;
            int s = r.GetValue(seed);
            bool isSweep = r.GetValue(sweep);
            double sigma = r.GetResult(noise) is null ? (isSweep ? 0.0005 : 0.005) : r.GetValue(noise);
            if (!(sigma >= 0 && sigma < 1)) throw new InputException($"--noise must be in [0, 1), got {sigma}");
            string consts = $"E={R(pub.E)}, A={R(pub.A)}, B={R(pub.B)}, alpha={R(pub.Alpha)}, beta={R(pub.Beta)} (Hoffmann et al. 2022, unrounded)";
            IReadOnlyList<ScalingRun> runs;
            var header = new List<string> { "Synthetic runs made by: anneal scaling example" + (isSweep ? " --sweep" : "") + $" --seed {s} --noise {sigma.ToString("R", CultureInfo.InvariantCulture)}" };
            if (!isSweep)
            {
                runs = SyntheticRuns.Chinchilla(pub, SyntheticRuns.ExampleParams, SyntheticRuns.ExampleTokensPerParam, sigma, s);
                header.Add($"loss = (E + A/N^alpha + B/D^beta) * exp({sigma.ToString("R", CultureInfo.InvariantCulture)} z), z ~ N(0,1); {consts}");
                header.Add("N in {1e7, 3e7, 1e8, 3e8, 1e9}; D = N * {5, 10, 20, 40, 80}; lr and batch (tokens) at the published Step Law optimum");
            }
            else
            {
                var sizes = new[] { 1e8, 3e8, 1e9 };
                var tokens = new[] { 1e10, 3e10, 1e11 };
                var lrs = SyntheticRuns.Geometric(1e-4, 1e-1, Math.Sqrt(2));
                var batches = SyntheticRuns.Geometric(1 << 16, 1 << 24, Math.Sqrt(2));
                runs = SyntheticRuns.Sweep(pub, StepLaw.Published, sizes, tokens, lrs, batches, 0.02, 0.01, sigma, s);
                header.Add($"loss = L(N, D) * (1 + 0.02 ln^2(lr/lr*) + 0.01 ln^2(B/B*)) * exp(sigma z); L from {consts}");
                header.Add("lr* = 1.79 N^-0.713 D^0.307, B* = 0.58 D^0.571 tokens (published Step Law); N in {1e8, 3e8, 1e9}, D in {1e10, 3e10, 1e11}");
                header.Add("lr from 1e-4 to 1e-1 and batch from 2^16 to 2^24 tokens, both in steps of sqrt(2)");
            }
            ScalingRunsCsv.Write(r.GetValue(output)!, runs, header);
            Console.Error.WriteLine($"wrote {runs.Count} runs to {r.GetValue(output)}");
            return CliExit.Ok;
        });
        return cmd;
    }

    // ------------------------------------------------------------------ helpers
    private static IAnsiConsole Out()
    {
        var con = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Out),
            Ansi = Console.IsOutputRedirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = Console.IsOutputRedirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
        });
        // Piped output (files, CI logs) has no terminal width; 80 columns would wrap every number.
        if (Console.IsOutputRedirected) con.Profile.Width = 160;
        return con;
    }

    private static string Pct(double level) => (level * 100).ToString("G4", CultureInfo.InvariantCulture) + "%";

    private static string Esc(string s) => Markup.Escape(s);

    /// <summary>Four significant digits; scientific (1.108e6) outside [1e-2, 1e4).</summary>
    private static string G(double v)
    {
        if (double.IsNaN(v)) return "-";
        double a = Math.Abs(v);
        return a != 0 && (a >= 1e4 || a < 1e-2) ? v.ToString("0.000e0", CultureInfo.InvariantCulture) : v.ToString("G4", CultureInfo.InvariantCulture);
    }

    /// <summary>Unrounded (round-trip) for fitted parameters: Epoch's lesson.</summary>
    private static string R(double v) => double.IsNaN(v) ? "-" : v.ToString("R", CultureInfo.InvariantCulture);

    private static string Ci(double lo, double hi) => double.IsNaN(lo) ? "-" : $"[[{G(lo)}, {G(hi)}]]";
}
