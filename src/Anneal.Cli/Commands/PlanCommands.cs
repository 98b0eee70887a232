using System.CommandLine;
using System.Globalization;
using Anneal.Planning;
using Spectre.Console;
using static Anneal.Cli.Commands.PlanText;

namespace Anneal.Cli.Commands;

/// <summary>
/// <c>anneal plan ...</c>: learning rate, batch size, model size and tokens from published scaling laws, plus
/// rescaling rules (<c>anneal plan rescale</c>). Fitting those laws to your own runs is <see cref="ScalingCommands"/>.
/// </summary>
public static class PlanCommands
{
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
            var io = CliContext.Of(r);
            double n = r.GetValue(pParams) ?? throw new InputException("--params is required, e.g. --params 1e9 (non-embedding parameters)");
            double d = r.GetValue(pTokens) ?? throw new InputException("--tokens is required, e.g. --tokens 1e11");
            var plan = Planner.Plan(new PlanInputs(n, d, r.GetValue(seqLen), r.GetValue(flops), r.GetValue(batch), r.GetValue(nonEmb),
                r.GetValue(layers), r.GetValue(dModel), r.GetValue(vocab), r.GetValue(loss),
                (r.GetValue(fits) ?? []).Select(FitFile.Read).ToList()));
            if (r.GetValue(json)) { io.Out.WriteLine(ToJson(plan, "anneal-plan/1")); return CliExit.Ok; }
            RenderPlan(plan, r.GetValue(explain), OptionNames.Of(r), io);
            return CliExit.Ok;
        });
        cmd.Subcommands.Add(Rescale());
        return cmd;
    }

    private static void RenderPlan(HyperparameterPlan p, bool explain, Func<string, string> optionNames, CliContext io)
    {
        var con = ConsoleOut(io);
        con.MarkupLine($"[bold]Plan[/]: N = {Number(p.NonEmbeddingParams)} non-embedding params, D = {Number(p.Inputs.Tokens)} tokens ({Number(p.Inputs.Tokens / p.NonEmbeddingParams)} tokens/param), L = {p.Inputs.SeqLen}, C = {Number(p.BudgetFlops)} FLOPs");
        var t = new Table().Title("Peak learning rate and batch size").AddColumns("law", "peak LR", "batch (tokens)", $"batch (seqs of {p.Inputs.SeqLen})");
        foreach (var rec in new[] { p.StepLaw, p.DeepSeek })
            t.AddRow(Esc(rec.Law.Name), Number(rec.Lr), Number(rec.BatchTokens), rec.BatchSequences.ToString("F0", CultureInfo.InvariantCulture));
        foreach (var rec in p.FittedLrBatch)
            t.AddRow(Esc(rec.Law.Name), Number(rec.Lr), Number(rec.BatchTokens), rec.BatchSequences.ToString("F0", CultureInfo.InvariantCulture));
        t.AddRow("[italic]ratio Step/DeepSeek[/]", $"{p.LrRatio:F2}x", $"{p.BatchRatio:F2}x", "");
        con.Write(t);
        foreach (var rec in new[] { p.StepLaw, p.DeepSeek })
            con.MarkupLine($"  [bold]{Esc(rec.Law.Name)}[/] ({Esc(rec.Law.Citation)}): {Esc(rec.Law.Accuracy)}");
        con.MarkupLine($"  {Esc(Disagreement(p.LrRatio, p.BatchRatio))}");

        var a = new Table().Title($"Compute-optimal allocation for C = {Number(p.BudgetFlops)} FLOPs (C = 6 N D)")
            .AddColumns("constants", "N_opt", "D_opt", "tokens/param", "loss at optimum", "loss at your (N, D)");
        foreach (var x in p.Allocations)
            a.AddRow(Esc(x.Law.Name), Number(x.OptimalParams), Number(x.OptimalTokens), x.TokensPerParam.ToString("F1", CultureInfo.InvariantCulture),
                x.LossAtOptimum.ToString("F4", CultureInfo.InvariantCulture), x.LossAtPlan.ToString("F4", CultureInfo.InvariantCulture));
        con.Write(a);

        var c = p.CriticalBatch;
        var k = new Table().Title("Critical batch (Kaplan et al. 2020)").AddColumns("loss used", "B_crit (tokens)", "your batch", "steps S", "S_min", "E_min (tokens)");
        k.AddRow(c.Loss.ToString("F3", CultureInfo.InvariantCulture), Number(c.CriticalBatchTokens), Number(c.BatchTokens), Number(c.Steps), Number(c.MinSteps), Number(c.MinTokens));
        con.Write(k);
        foreach (var note in p.NotesNaming(optionNames)) con.MarkupLine($"[yellow]note:[/] {Esc(note)}");
        if (explain)
        {
            con.MarkupLine("[bold]How each number was computed[/]");
            foreach (var x in p.Explanations)
            {
                con.MarkupLine($"  [bold]{Esc(x.Quantity)}[/] = {Number(x.Value)} {Esc(x.Unit)}");
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
            var io = CliContext.Of(r);
            var kind = r.GetValue(optim) == "sgd" ? OptimizerKind.Sgd : OptimizerKind.AdamW;
            var res = Rescaling.Batch(r.GetValue(lr), r.GetValue(fromB), r.GetValue(toB), kind);
            if (r.GetValue(json1)) { io.Out.WriteLine(ToJson(new { optimizer = kind, fromBatch = r.GetValue(fromB), toBatch = r.GetValue(toB), fromLr = r.GetValue(lr), result = res }, "anneal-rescale-batch/1")); return CliExit.Ok; }
            var t = new Table().AddColumns("optimizer", "batch", "learning rate", "rule", "source");
            t.AddRow(kind.ToString(), $"{Number(r.GetValue(fromB))} -> {Number(r.GetValue(toB))}", $"{Number(r.GetValue(lr))} -> [bold]{Number(res.Lr)}[/] (x{res.Factor:G4})", Esc(res.Rule), Esc(res.Source));
            ConsoleOut(io).Write(t);
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
            var io = CliContext.Of(r);
            var res = Rescaling.Width(r.GetValue(lr2), r.GetValue(wd), r.GetValue(fromW), r.GetValue(toW));
            if (r.GetValue(json2)) { io.Out.WriteLine(ToJson(res, "anneal-rescale-width/1")); return CliExit.Ok; }
            var t = new Table().Title($"Width {Number(r.GetValue(fromW))} -> {Number(r.GetValue(toW))} (x{res.WidthRatio:G4}), AdamW").AddColumns("group", "learning rate", "weight decay", "LR rule", "WD rule", "source");
            foreach (var g in new[] { res.Matrix, res.Vector })
                t.AddRow(g.Group, Number(g.Lr), Number(g.WeightDecay), Esc(g.LrRule), Esc(g.WeightDecayRule), Esc(g.Source));
            var con = ConsoleOut(io);
            con.Write(t);
            con.MarkupLine("[grey]matrix-like: hidden and output weight matrices; vector-like: embeddings, biases, norm gains. Diagnostic (Fan et al.): top singular values of matrix parameters should match across widths.[/]");
            return CliExit.Ok;
        });
        cmd.Subcommands.Add(batch);
        cmd.Subcommands.Add(width);
        return cmd;
    }
}
