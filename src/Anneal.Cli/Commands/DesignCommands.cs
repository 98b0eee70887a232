using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anneal.Design;
using Anneal.IO;
using Anneal.Plotting;
using Anneal.Schedules;
using Anneal.Specs;

namespace Anneal.Cli.Commands;

/// <summary>
/// Schedule design under a fitted Multi-Power Law: <c>anneal optimize</c>, <c>anneal whatif</c>,
/// <c>anneal export</c>.
/// </summary>
public static class DesignCommands
{
    private const string LawHelp = "Law: a law.json written by 'anneal fit' (an MPL law), or a built-in name mpl-25m, mpl-100m, mpl-400m (the published MPL parameters, paper convention).";

    /// <summary>The three top-level commands.</summary>
    public static IEnumerable<Command> Build() => [Optimize(), WhatIfCommand(), Export()];

    private static string G(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    private static string L(double v) => v.ToString("F5", CultureInfo.InvariantCulture);

    private static string BandText((double Low, double High)? b) => b is { } x ? $"[{L(x.Low)}, {L(x.High)}]" : "";

    private static JsonNode? BandJson((double Low, double High)? b) => b is { } x ? new JsonObject { ["low"] = x.Low, ["high"] = x.High, ["level"] = 0.95 } : null;

    private static string BandNote(DesignLaw law) => law.BandUnavailable is { } why ? "uncertainty: no band: " + why
        : !law.HasBand
        ? "uncertainty: no band (the law has no covariance or refits: published parameters or a fit without them)"
        : "uncertainty: 95% band as 'anneal predict' draws it: " + (law.EarlyStopped && law.Replicates.Length > 0 ? "" : "parameter covariance (delta method), ")
          + (law.Replicates.Length >= 2 ? "leave-one-run-out refits, " : "") + (law.CrossValidationLogError > 0 ? "cross-validated law error" : "").TrimEnd(',', ' ');

    // ------------------------------------------------------------------ optimize
    private static Command Optimize()
    {
        var law = new Argument<string>("law") { Description = LawHelp };
        var steps = new Option<long>("--steps", "-n") { Description = "Total optimizer steps T (warmup included).", Required = true };
        var peak = new Option<double>("--peak") { Description = "Peak learning rate.", Required = true };
        var warmup = new Option<long>("--warmup") { Description = "Linear warmup steps W (fixed; the design is free after it).", DefaultValueFactory = _ => 0 };
        var family = new Option<string>("--family") { Description = "free (per-step optimum; default) or a named family: wsd, cosine, linear, rex, cosine_power.", DefaultValueFactory = _ => "free" };
        family.AcceptOnlyFromAmong(["free", .. ScheduleDesigner.Families]);
        var minLr = new Option<double>("--min-lr") { Description = "Lowest learning rate allowed after the warmup.", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--out", "-o") { Description = "Write the designed schedule as step,lr for steps 0..T-1 (CSV)." };
        var svg = new Option<string?>("--svg") { Description = "Plot the designed schedule beside the references (SVG)." };
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON instead of the table." };
        var cmd = new Command("optimize", """
            Design the learning-rate schedule that minimises the law's predicted final loss, and compare it
            with cosine to 10%, cosine to 0, linear to zero and WSD (20%, 1-sqrt) at the same T and peak.
            Predictions, not measurements: validate the winner on a real run.
            Example: anneal optimize mpl-400m --steps 24000 --peak 3e-4 --warmup 2160 --out opt.csv --svg opt.svg
            """) { law, steps, peak, warmup, family, minLr, output, svg, json };
        cmd.SetAction(r =>
        {
            CliOutputs.Check(("--out", r.GetValue(output)), ("--svg", r.GetValue(svg)));
            var dl = MplParameters.ResolveLaw(r.GetValue(law)!);
            var problem = new DesignProblem(dl.Parameters, r.GetValue(steps), r.GetValue(warmup), r.GetValue(peak), r.GetValue(minLr), dl.Convention == "reference")
                .Validate();
            var d = new ScheduleDesigner(problem);
            string fam = r.GetValue(family)!;
            var refs = d.References();
            double baseline = refs[0].Loss;
            var rows = new List<(string Label, string Spec, double Loss, (double, double)? Band)>();
            var rates = new List<double[]>();
            var baseRates = Post(refs[0].Schedule, problem);
            double[] designed;
            JsonObject? freeJson = null;
            ClosestNamed? closest = null;
            if (fam == "free")
            {
                Console.Error.WriteLine($"optimize: free per-step optimum over {problem.PostWarmupSteps} post-warmup steps...");
                // The family searches need nothing from the free optimum: they run meanwhile on the other core, with a
                // designer of their own (a designer's scratch buffers are not shared), and give the same candidates.
                var families = Task.Run(() => new ScheduleDesigner(problem).BestOfFamilies());
                var opt = d.Optimize();
                designed = opt.PostWarmup;
                rows.Add(("free optimum", $"(per-step; {designed.Length} rates, write with --out)", opt.Loss, dl.Band(problem, designed)));
                rates.Add(designed);
                Console.Error.WriteLine("optimize: best member of each family...");
                foreach (var c in families.GetAwaiter().GetResult()) { rows.Add((c.Label, c.Schedule.Spec, c.Loss, dl.Band(problem, Post(c.Schedule, problem)))); rates.Add(Post(c.Schedule, problem)); }
                closest = d.Closest(designed);
                freeJson = new JsonObject
                {
                    ["loss"] = opt.Loss, ["band"] = BandJson(dl.Band(problem, designed)), ["iterations"] = opt.Solver.Iterations, ["evaluations"] = opt.Solver.Evaluations,
                    ["stop"] = opt.Solver.Reason, ["levels"] = opt.Levels, ["final_lr"] = designed[^1],
                    ["decay_start"] = problem.Warmup + Array.FindIndex(designed, x => x < problem.Peak),
                    ["drops"] = Drops(designed),
                };
            }
            else
            {
                Console.Error.WriteLine($"optimize: searching the {fam} family...");
                var c = d.BestOf(fam);
                designed = Post(c.Schedule, problem);
                rows.Add((c.Label, c.Schedule.Spec, c.Loss, dl.Band(problem, designed)));
                rates.Add(designed);
            }
            foreach (var c in refs) { rows.Add((c.Label, c.Schedule.Spec, c.Loss, dl.Band(problem, Post(c.Schedule, problem)))); rates.Add(Post(c.Schedule, problem)); }
            if (closest is { } cl) { rows.Add(("closest named", cl.Candidate.Schedule.Spec, cl.Candidate.Loss, dl.Band(problem, Post(cl.Candidate.Schedule, problem)))); rates.Add(Post(cl.Candidate.Schedule, problem)); }
            var gainHw = rates.Select(x => dl.GainHalfWidth(problem, x, baseRates)).ToArray();

            var full = problem.FullSchedule(designed);
            var outputs = new List<(string Path, string Text)>();
            if (r.GetValue(output) is { } outPath) outputs.Add((outPath, Csv(full)));
            if (r.GetValue(svg) is { } svgPath)
            {
                var plot = new SvgPlot { Title = $"Designed schedule under {dl.Source.Split(' ')[0]} (T={problem.Total}, peak={G(problem.Peak)})", XLabel = "step", YLabel = "learning rate" };
                var x = Enumerable.Range(0, (int)problem.Total).Select(i => (double)i).ToArray();
                plot.AddLine($"{rows[0].Label} ({L(rows[0].Loss)})", x, full);
                foreach (var c in refs) plot.AddLine($"{c.Label} ({L(c.Loss)})", x, c.Schedule.Sample((int)problem.Total));
                outputs.Add((svgPath, plot.Render()));
            }
            // the schedule and its plot together or neither: a failure leaves both existing files as they were
            AtomicFile.WriteAll(outputs);
            if (r.GetValue(json))
            {
                var o = new JsonObject
                {
                    ["law"] = dl.Source, ["parameters"] = dl.Parameters.ToJson()["params"]!.DeepClone(), ["convention"] = "paper",
                    ["total"] = problem.Total, ["warmup"] = problem.Warmup, ["peak"] = problem.Peak, ["min_lr"] = problem.MinLr,
                    ["family"] = fam, ["band_available"] = dl.HasBand,
                    ["free"] = freeJson,
                    ["candidates"] = new JsonArray(rows.Select(x => (JsonNode)new JsonObject
                    {
                        ["label"] = x.Label, ["spec"] = x.Spec.StartsWith('(') ? null : x.Spec, ["loss"] = x.Loss, ["band"] = BandJson(x.Band), ["gain_vs_cosine_10"] = baseline - x.Loss,
                    }).ToArray()),
                    ["gain_half_width_95"] = new JsonArray(gainHw.Select(h => (JsonNode?)(h is { } v ? JsonValue.Create(v) : null)).ToArray()),
                    ["closest_rms_distance"] = closest?.RmsDistance,
                };
                Console.Out.WriteLine(o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                return CliExit.Ok;
            }
            Console.Out.WriteLine($"law: {dl.Source}; T={problem.Total}, warmup={problem.Warmup}, peak={G(problem.Peak)}, min-lr={G(problem.MinLr)}");
            Console.Out.WriteLine(BandNote(dl));
            Console.Out.WriteLine($"{"schedule",-17} {"final loss",10} {"gain vs cos10%".PadLeft(!dl.HasBand ? 14 : 23)} {(!dl.HasBand ? "" : "95% band              ")}spec");
            for (int i = 0; i < rows.Count; i++)
            {
                var x = rows[i];
                string gain = (baseline - x.Loss).ToString("+0.00000;-0.00000;0", CultureInfo.InvariantCulture);
                if (gainHw[i] is { } hw && hw > 0) gain += $" ±{hw.ToString("F5", CultureInfo.InvariantCulture)}";
                Console.Out.WriteLine($"{x.Label,-17} {L(x.Loss),10} {gain.PadLeft(!dl.HasBand ? 14 : 23)} {(!dl.HasBand ? "" : BandText(x.Band).PadRight(22))}{x.Spec}");
            }
            if (gainHw.Any(h => h is not null)) Console.Out.WriteLine("gain ± : 95% half-width of the gain over cosine to 10% (delta method on the difference, where shared parameter errors cancel, plus the refits' spread of the difference)");
            if (freeJson is not null)
            {
                Console.Out.WriteLine($"free optimum: decay starts at step {freeJson["decay_start"]}, final LR {G(designed[^1])}, {Drops(designed)} distinct drops; solver {freeJson["iterations"]} iterations, {freeJson["evaluations"]} evaluations ({freeJson["stop"]})");
                Console.Out.WriteLine($"closest named schedule to the optimum (RMS distance {closest!.RmsDistance * 100:F2}% of peak) loses {L(closest.Candidate.Loss - rows[0].Loss)} against it");
            }
            Console.Out.WriteLine("These are predictions of the law, not measurements: validate the chosen schedule on a real run.");
            return CliExit.Ok;
        });
        return cmd;
    }

    /// <summary>Number of steps where the rate drops by more than 1e-6 of the previous rate (a smooth decay counts every step).</summary>
    private static int Drops(double[] eta)
    {
        int n = 0;
        for (int i = 1; i < eta.Length; i++) if (eta[i] < eta[i - 1] * (1 - 1e-6)) n++;
        return n;
    }

    private static double[] Post(Schedule s, DesignProblem p) => MplFinalLoss.PostWarmup(s, p.Total, p.Warmup);

    private static void WriteCsv(string path, double[] lr) => AtomicFile.WriteText(path, w => WriteCsv(w, lr));

    private static void WriteCsv(TextWriter w, double[] lr)
    {
        w.WriteLine("step,lr");
        for (int i = 0; i < lr.Length; i++) { w.Write(i); w.Write(','); w.WriteLine(G(lr[i])); }
    }

    private static string Csv(double[] lr) { var w = new StringWriter(); WriteCsv(w, lr); return w.ToString(); }

    // ------------------------------------------------------------------ whatif
    private static Command WhatIfCommand()
    {
        var law = new Argument<string>("law") { Description = LawHelp };
        var baseSpec = new Option<string>("--base") { Description = "The schedule spec to vary, e.g. 'wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)'.", Required = true };
        var vary = new Option<string[]>("--vary") { Description = "key=start:stop:step or key=v1,v2 (any numeric spec parameter; repeat for a grid). With --from-step: extend=... or cooldown=... (steps).", AllowMultipleArgumentsPerToken = false };
        var from = new Option<long?>("--from-step") { Description = "The run has reached this step: compare continuations (cool down now, extend the stable phase by N then cool down, as planned)." };
        var shape = new Option<string?>("--shape") { Description = "Cooldown shape of continuations (default: the base WSD's, else sqrt)." };
        var peak = new Option<double?>("--peak") { Description = "Peak LR for the law when the spec has no peak=." };
        var warmup = new Option<long?>("--warmup") { Description = "Warmup steps for the law when the spec has no warmup=." };
        var svg = new Option<string?>("--svg") { Description = "Plot predicted final loss over the grid (SVG)." };
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON." };
        var cmd = new Command("whatif", """
            Predicted final loss over a grid of schedule parameters, or over continuations of a run in progress.
            Examples:
              anneal whatif mpl-400m --base "wsd(peak=3e-4, total=24000, warmup=2160, shape=sqrt)" --vary decay=0.05:0.9:0.05 --svg decay.svg
              anneal whatif mpl-400m --base "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)" --from-step 12000 --vary extend=0:12000:4000
            """) { law, baseSpec, vary, from, shape, peak, warmup, svg, json };
        cmd.SetAction(r =>
        {
            CliOutputs.Check(("--svg", r.GetValue(svg)));
            var dl = MplParameters.ResolveLaw(r.GetValue(law)!);
            var call = SpecCall.Parse(r.GetValue(baseSpec)!);
            var b = ScheduleRegistry.Create(call);
            var axes = (r.GetValue(vary) ?? []).Select(VaryAxis.Parse).ToList();
            if (r.GetValue(from) is { } s) return Continuations(r, dl, b, s, axes, r.GetValue(shape), r.GetValue(peak), r.GetValue(warmup), r.GetValue(svg), r.GetValue(json));
            if (axes.Count == 0) throw new InputException("--vary is required without --from-step, e.g. --vary decay=0.05:0.9:0.05");
            if (axes.Count > 2) throw new InputException("at most two --vary axes (a line per value of the second)");
            var pts = WhatIf.Grid(dl, call, axes, r.GetValue(peak), r.GetValue(warmup), (k, n) => { if (k % 50 == 0 || k == n) Console.Error.Write($"\rwhatif: {k}/{n}"); });
            Console.Error.WriteLine();
            var best = pts.MinBy(p => p.Loss)!;
            // With a second axis (e.g. total) the overall minimum is trivially at the largest budget: mark the best per line too.
            var bestPer = pts.GroupBy(p => axes.Count > 1 ? p.Values[1] : 0).Select(g => g.MinBy(p => p.Loss)!).ToHashSet();
            if (r.GetValue(svg) is { } path)
            {
                var plot = new SvgPlot { Title = $"Predicted final loss vs {axes[0].Key} ({dl.Source.Split(' ')[0]})", XLabel = axes[0].Key, YLabel = "predicted final loss" };
                foreach (var grp in pts.GroupBy(p => axes.Count > 1 ? p.Values[1] : double.NaN))
                {
                    var g = grp.ToArray();
                    string name = axes.Count > 1 ? $"{axes[1].Key}={SpecNumber.Format(grp.Key)}" : "final loss";
                    var x = g.Select(p => p.Values[0]).ToArray();
                    plot.AddLine(name, x, g.Select(p => p.Loss).ToArray());
                    if (g[0].Band is not null) plot.AddBand(name + " 95%", x, g.Select(p => p.Band!.Value.Low).ToArray(), g.Select(p => p.Band!.Value.High).ToArray());
                }
                foreach (var bp in bestPer)
                    plot.AddMarkers($"best {string.Join(", ", axes.Select((a, i) => $"{a.Key}={SpecNumber.Format(bp.Values[i])}"))}", [bp.Values[0]], [bp.Loss]);
                plot.Save(path);
            }
            if (r.GetValue(json))
            {
                var o = new JsonObject
                {
                    ["law"] = dl.Source, ["base"] = b.Spec, ["axes"] = new JsonArray(axes.Select(a => (JsonNode)a.Key).ToArray()),
                    ["points"] = new JsonArray(pts.Select(p => (JsonNode)new JsonObject
                    {
                        ["values"] = new JsonArray(p.Values.Select(v => (JsonNode)v).ToArray()), ["spec"] = p.Spec, ["total"] = p.Total, ["loss"] = p.Loss, ["band"] = BandJson(p.Band),
                    }).ToArray()),
                    ["best"] = best.Spec, ["best_loss"] = best.Loss,
                    ["best_per_line"] = new JsonArray(bestPer.Select(bp => (JsonNode)new JsonObject { ["spec"] = bp.Spec, ["loss"] = bp.Loss }).ToArray()),
                };
                Console.Out.WriteLine(o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                return CliExit.Ok;
            }
            Console.Out.WriteLine($"law: {dl.Source}; base: {b.Spec}");
            Console.Out.WriteLine(BandNote(dl));
            Console.Out.WriteLine(string.Join(" ", axes.Select(a => $"{a.Key,10}")) + $" {"final loss",11}  {(!dl.HasBand ? "" : "95% band              ")}spec");
            foreach (var p in pts)
                Console.Out.WriteLine(string.Join(" ", p.Values.Select(v => $"{SpecNumber.Format(v),10}")) + $" {L(p.Loss),11}{(bestPer.Contains(p) ? "*" : " ")} {(!dl.HasBand ? "" : BandText(p.Band).PadRight(22))}{p.Spec}");
            foreach (var bp in bestPer) Console.Out.WriteLine($"* best{(axes.Count > 1 ? $" at {axes[1].Key}={SpecNumber.Format(bp.Values[1])}" : "")}: {bp.Spec} (predicted {L(bp.Loss)})");
            Console.Out.WriteLine("Predictions of the law, not measurements.");
            return CliExit.Ok;
        });
        return cmd;
    }

    private static int Continuations(ParseResult r, DesignLaw dl, Schedule b, long from, List<VaryAxis> axes, string? shapeName, double? peak, long? warmup, string? svg, bool json)
    {
        long[] extends = [0];
        long? cooldown = null;
        foreach (var a in axes)
        {
            if (a.Values.Any(v => v != Math.Floor(v))) throw new InputException($"--vary {a.Key}: with --from-step the values are whole steps");
            if (a.Key == "extend") extends = a.Values.Select(v => (long)v).ToArray();
            else if (a.Key == "cooldown")
            {
                if (a.Values.Length != 1) throw new InputException("--vary cooldown takes one value with --from-step (vary extend for a table)");
                cooldown = (long)a.Values[0];
            }
            else throw new InputException($"--vary {a.Key}: with --from-step only extend=... and cooldown=... (steps) can be varied");
        }
        DecayShape? shape = null;
        if (shapeName is not null) shape = DecayShapes.TryParse(shapeName, out var sh) ? sh : throw new InputException($"--shape '{shapeName}': use linear, cosine, sqrt, square, exponential or inverse");
        var list = WhatIf.Continue(dl, b, from, extends, cooldown, shape, peak, warmup);
        var now = list.FirstOrDefault(c => c.Extend == 0 && c.Label != "as planned") ?? list[0];
        if (svg is not null)
        {
            var plot = new SvgPlot { Title = $"Continuations from step {from}", XLabel = "total steps", YLabel = "predicted final loss" };
            var ext = list.Where(c => c.Label != "as planned").ToArray();
            plot.AddLine("hold then cool down", ext.Select(c => (double)c.Total).ToArray(), ext.Select(c => c.Loss).ToArray());
            var planned = list.Where(c => c.Label == "as planned").ToArray();
            if (planned.Length > 0) plot.AddMarkers("as planned", [planned[0].Total], [planned[0].Loss]);
            plot.Save(svg);
        }
        if (json)
        {
            var o = new JsonObject
            {
                ["law"] = dl.Source, ["base"] = b.Spec, ["from_step"] = from,
                ["continuations"] = new JsonArray(list.Select(c => (JsonNode)new JsonObject
                {
                    ["label"] = c.Label, ["extend"] = c.Extend, ["cooldown"] = c.Cooldown, ["total"] = c.Total, ["loss"] = c.Loss, ["band"] = BandJson(c.Band), ["spec"] = c.Spec,
                }).ToArray()),
            };
            Console.Out.WriteLine(o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return CliExit.Ok;
        }
        Console.Out.WriteLine($"law: {dl.Source}; run: {b.Spec}; now at step {from} (LR {G(b.At(from))})");
        Console.Out.WriteLine(BandNote(dl));
        Console.Out.WriteLine($"{"continuation",-28} {"total",7} {"final loss",11} {"vs cool-now",12} spec");
        foreach (var c in list)
            Console.Out.WriteLine($"{c.Label,-28} {c.Total,7} {L(c.Loss),11} {(c.Loss - now.Loss).ToString("+0.00000;-0.00000;0", CultureInfo.InvariantCulture),12} {c.Spec}");
        Console.Out.WriteLine("Predictions, not measurements: each extra step costs compute; weigh the predicted gain against it.");
        return CliExit.Ok;
    }

    // ------------------------------------------------------------------ export
    private static Command Export()
    {
        var input = new Argument<string>("schedule") { Description = "A schedule spec, or a CSV file with step,lr for steps 0..N-1 (e.g. written by 'anneal optimize --out')." };
        var format = new Option<string>("--format") { Description = "csv (step,lr), json (multipliers lr/peak), pytorch (JSON + LambdaLR snippet), hf (transformers lr_scheduler_type + kwargs).", DefaultValueFactory = _ => "csv" };
        format.AcceptOnlyFromAmong("csv", "json", "pytorch", "hf");
        var steps = new Option<long>("--steps", "-n") { Description = "Number of optimizer steps T.", Required = true };
        var output = new Option<string?>("--out", "-o") { Description = "Write to this file (atomically); pytorch writes the JSON here and prints the snippet." };
        var cmd = new Command("export", """
            Export a schedule for a training framework.
            Examples:
              anneal export "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)" --format hf --steps 24000
              anneal export opt.csv --format pytorch --steps 24000 --out schedule.json
            """) { input, format, steps, output };
        cmd.SetAction(r =>
        {
            string arg = r.GetValue(input)!, fmt = r.GetValue(format)!;
            long t = r.GetValue(steps);
            if (t <= 0 || t > 100_000_000) throw new InputException($"--steps must be between 1 and 100000000, got {t}");
            CliOutputs.Check(("--out", r.GetValue(output)));
            if (fmt == "pytorch" && r.GetValue(output) is null) throw new InputException("--format pytorch needs --out FILE for the multipliers JSON (the printed snippet reads it)");
            Schedule? schedule = null;
            double[] lr;
            if (File.Exists(arg) && !arg.Contains('('))
            {
                lr = ReadCsv(arg, t);
            }
            else
            {
                schedule = Schedule.Parse(arg);
                lr = schedule.Sample((int)t);
            }
            string? outPath = r.GetValue(output);
            string source = schedule?.Spec ?? Path.GetFileName(arg);
            switch (fmt)
            {
                case "csv":
                    if (outPath is not null) WriteCsv(outPath, lr);
                    else { Console.Out.WriteLine("step,lr"); for (int i = 0; i < lr.Length; i++) Console.Out.WriteLine($"{i},{G(lr[i])}"); }
                    return CliExit.Ok;
                case "json":
                case "pytorch":
                {
                    double peakLr = lr.Max();
                    if (!(peakLr > 0)) throw new InputException($"{source}: every learning rate is <= 0; nothing to normalise");
                    var o = new JsonObject
                    {
                        ["format"] = "anneal-multipliers/1", ["source"] = source, ["peak_lr"] = peakLr, ["steps"] = t,
                        ["note"] = "lr(step) = peak_lr * multipliers[min(step, steps - 1)]",
                        ["multipliers"] = new JsonArray(lr.Select(x => (JsonNode)(x / peakLr)).ToArray()),
                    };
                    string text = o.ToJsonString();
                    if (fmt == "json")
                    {
                        if (outPath is not null) AtomicFile.WriteAllText(outPath, text + "\n"); else Console.Out.WriteLine(text);
                        return CliExit.Ok;
                    }
                    if (outPath is null) throw new InputException("--format pytorch needs --out FILE for the multipliers JSON (the printed snippet reads it)");
                    AtomicFile.WriteAllText(outPath, text + "\n");
                    Console.Out.WriteLine(PytorchSnippet(Path.GetFileName(outPath), peakLr));
                    return CliExit.Ok;
                }
                default:
                {
                    if (schedule is null) throw new InputException($"{arg}: --format hf needs a schedule spec (a per-step table has no HF equivalent; use --format pytorch)");
                    var hf = HfExport.Exact(schedule, t);
                    string text = hf.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true });
                    if (outPath is not null) AtomicFile.WriteAllText(outPath, text + "\n"); else Console.Out.WriteLine(text);
                    return CliExit.Ok;
                }
            }
        });
        return cmd;
    }

    /// <summary>A self-contained PyTorch snippet: LambdaLR over the exported multipliers (optimizer lr = peak).</summary>
    public static string PytorchSnippet(string file, double peak) => $$"""
        # PyTorch: set the optimizer's lr to the peak, then scale it per step with the exported multipliers.
        import json
        import torch

        with open("{{file}}") as f:
            _sched = json.load(f)
        _mult = _sched["multipliers"]

        def lr_lambda(step: int) -> float:
            return _mult[min(step, len(_mult) - 1)]

        # optimizer = torch.optim.AdamW(model.parameters(), lr={{G(peak)}})
        # scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
        # call scheduler.step() after every optimizer.step()
        """;

    private static double[] ReadCsv(string path, long steps)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || !lines[0].Replace(" ", "").StartsWith("step,lr", StringComparison.OrdinalIgnoreCase))
            throw new InputException($"{path}:1: expected the header 'step,lr'");
        var lr = new double[steps];
        long next = 0;
        for (int i = 1; i < lines.Length && next < steps; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            var parts = lines[i].Split(',');
            if (parts.Length < 2 || !long.TryParse(parts[0].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var st)
                || !double.TryParse(parts[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
                throw new InputException($"{path}:{i + 1}: expected 'step,lr' with a whole step and a finite rate, got '{lines[i]}'");
            if (st != next) throw new InputException($"{path}:{i + 1}: step {st} where {next} was expected; the table must list every step from 0 (prepend the warmup rates if it starts later)");
            lr[next++] = v;
        }
        if (next < steps) throw new InputException($"{path}: has {next} steps, fewer than --steps {steps}; pass --steps {next} or extend the table");
        return lr;
    }
}
