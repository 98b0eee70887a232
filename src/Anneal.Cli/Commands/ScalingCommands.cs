using System.CommandLine;
using System.Globalization;
using Anneal.IO;
using Anneal.Planning;
using Spectre.Console;
using static Anneal.Cli.Commands.PlanText;

namespace Anneal.Cli.Commands;

/// <summary><c>anneal scaling ...</c>: fit scaling laws (Chinchilla, Step Law) to your own finished runs, or write an example runs file.</summary>
public static class ScalingCommands
{
    public static Command Build()
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
            var io = CliContext.Of(r);
            string path = r.GetValue(file)!;
            bool step = r.GetValue(law) == "steplaw";
            if (step && r.GetValue(contours) is not null) throw new InputException("--contours draws the Chinchilla law's iso-loss map; use it with --law chinchilla");
            CliOutputs.Check(("--svg", r.GetValue(svg)), ("--contours", r.GetValue(contours)));
            var runs = ScalingRunsCsv.Read(path, needLrBatch: step);
            if (step)
            {
                var res = StepLawFit.Fit(runs, new StepLawFitOptions(r.GetValue(band), r.GetValue(boot), r.GetValue(seed), r.GetValue(level)));
                if (r.GetValue(svg) is { } stepSvg) StepLawPlot.Save(stepSvg, runs, res);
                if (r.GetValue(json)) io.Out.WriteLine(ToJson(res, "anneal-scaling-fit/1"));
                else RenderStepFit(res, path, io);
                return CliExit.Ok;
            }
            var opts = new ChinchillaFitOptions(r.GetValue(boot), r.GetValue(seed), Level: r.GetValue(level),
                HoldAt: r.GetValue(holdAt) == "epoch" ? ChinchillaLaw.EpochRefit : ChinchillaLaw.Published);
            int total = opts.Bootstrap;
            bool tty = io.ErrIsTerminal;
            var progress = new SyncProgress(c =>
            {
                if (tty) io.Err.Write($"\rbootstrap {c}/{total}" + (c == total ? "\n" : ""));
                else if (c == total || c % Math.Max(1, total / 4) == 0) io.Err.WriteLine($"bootstrap {c}/{total}");
            });
            var fit = ChinchillaFit.Fit(runs, opts, total > 0 ? progress : null);
            var outputs = new List<(string Path, string Text)>();
            if (r.GetValue(svg) is { } svgPath) outputs.Add((svgPath, FrontierPlot.Build(runs, fit).Render()));
            if (r.GetValue(contours) is { } isoPath) outputs.Add((isoPath, IsoLossPlot.Build(runs, fit).Render()));
            // both plots or neither
            AtomicFile.WriteAll(outputs);
            if (r.GetValue(json)) io.Out.WriteLine(ToJson(fit, "anneal-scaling-fit/1"));
            else RenderChinchillaFit(fit, path, io);
            return CliExit.Ok;
        });
        return cmd;
    }

    private static void RenderChinchillaFit(ChinchillaFitResult f, string path, CliContext io)
    {
        var con = ConsoleOut(io);
        con.MarkupLine($"[bold]Chinchilla fit[/] of {Esc(path)}: L(N, D) = E + A/N^alpha + B/D^beta, Huber(delta={f.Delta:G3}) on log loss, L-BFGS from {f.Starts} grid starts ({f.StartsAtBest} reached the best), {(f.Converged ? "converged" : "[red]NOT converged[/]")} in {f.Iterations} iterations");
        con.MarkupLine($"{f.Runs} runs, {f.DistinctParams} model sizes, {f.DistinctTokens} token counts; R^2 = {f.R2:F5}, RMSE(log loss) = {f.RmseLog:G3}, objective = {f.Objective:G6}");
        string ci = f.Resamples > 0 ? $"{Percent(f.Level)} CI ({f.Resamples - f.FailedResamples}/{f.Resamples} resamples, seed {f.Seed})" : "CI (no bootstrap)";
        var t = new Table().Title("Parameters (unrounded)").AddColumns("parameter", "value", $"{ci} low", "high", "status");
        foreach (var p in f.Parameters)
            t.AddRow(Esc(p.Name), RoundTrip(p.Value), RoundTrip(p.Low), RoundTrip(p.High), p.Fixed ? "[yellow]held fixed[/]" : "fitted");
        con.Write(t);
        foreach (var h in f.Held) con.MarkupLine($"[yellow]held:[/] {Esc(h.Name)} = {RoundTrip(h.Value)}: {Esc(h.Reason)}");
        var fr = new Table().Title($"Compute-optimal frontier (C = {f.FlopsPerParamToken.ToString("G4", CultureInfo.InvariantCulture)} N D{(f.FlopsPerParamToken == 6.0 ? "" : ", k = median flops/(N D) of your runs")}), {Percent(f.Level)} intervals").AddColumns("C (FLOPs)", "N_opt", "N CI", "D_opt", "D CI", "tokens/param", "tokens/param CI", "loss");
        foreach (var p in f.Frontier)
            fr.AddRow(Number(p.Flops), Number(p.Params), Interval(p.ParamsLow, p.ParamsHigh), Number(p.Tokens), Interval(p.TokensLow, p.TokensHigh),
                p.TokensPerParam.ToString("F1", CultureInfo.InvariantCulture), Interval(p.TokensPerParamLow, p.TokensPerParamHigh), p.Loss.ToString("F4", CultureInfo.InvariantCulture));
        con.Write(fr);
        if (f.Held.Count > 0) con.MarkupLine("[yellow]note:[/] the frontier depends on the held-fixed parameters above.");
        con.MarkupLine("[grey]Compare: Hoffmann et al. published alpha=0.3392, beta=0.2849; Epoch refit alpha=0.3478, beta=0.3658 (arXiv 2404.10102).[/]");
    }

    private static void RenderStepFit(StepLawFitResult f, string path, CliContext io)
    {
        var con = ConsoleOut(io);
        con.MarkupLine($"[bold]Step Law fit[/] of {Esc(path)}: log eta = log c + p log N + q log D, log B = log c_B + r log D (Li et al. 2025, arXiv 2503.04715)");
        con.MarkupLine($"{f.Runs} runs in {f.Groups} (N, D) groups; {f.Kept} within {Percent(f.Band)} of their group's best loss; residual SD(log eta) = {f.LrResidualSd:G3}, SD(log B) = {f.BatchResidualSd:G3}");
        var t = new Table().AddColumns("coefficient", "value", $"{Percent(f.Level)} CI low", "high", "status", "published");
        var pub = StepLaw.Published;
        double[] published = [pub.LrCoefficient, pub.LrParamsExponent, pub.LrTokensExponent, pub.BatchCoefficient, pub.BatchTokensExponent];
        for (int i = 0; i < f.Parameters.Count; i++)
        {
            var p = f.Parameters[i];
            t.AddRow(Esc(p.Name), RoundTrip(p.Value), RoundTrip(p.Low), RoundTrip(p.High), p.Fixed ? "[yellow]held fixed[/]" : "fitted", RoundTrip(published[i]));
        }
        con.Write(t);
        foreach (var h in f.Held) con.MarkupLine($"[yellow]held:[/] {Esc(h.Name)} = {RoundTrip(h.Value)}: {Esc(h.Reason)}");
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
            var io = CliContext.Of(r);
            CliOutputs.Check(("--out", r.GetValue(output)));
            var pub = ChinchillaLaw.Published;
            int s = r.GetValue(seed);
            bool isSweep = r.GetValue(sweep);
            double sigma = r.GetResult(noise) is null ? (isSweep ? 0.0005 : 0.005) : r.GetValue(noise);
            if (!(sigma >= 0 && sigma < 1)) throw new InputException($"--noise must be in [0, 1), got {sigma}");
            string consts = $"E={RoundTrip(pub.E)}, A={RoundTrip(pub.A)}, B={RoundTrip(pub.B)}, alpha={RoundTrip(pub.Alpha)}, beta={RoundTrip(pub.Beta)} (Hoffmann et al. 2022, unrounded)";
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
            io.Err.WriteLine($"wrote {runs.Count} runs to {r.GetValue(output)}");
            return CliExit.Ok;
        });
        return cmd;
    }

    /// <summary>Progress that reports on the calling thread (no SynchronizationContext hop).</summary>
    private sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        private readonly Lock _gate = new();
        public void Report(int value) { lock (_gate) report(value); }
    }
}
