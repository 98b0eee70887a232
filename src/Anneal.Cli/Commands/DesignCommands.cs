using System.CommandLine;
using System.Globalization;
using Anneal.Curves;
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
    private const string LawHelp = "Law: a law.json written by 'anneal fit' (an MPL law), or a built-in name mpl-25m, mpl-100m, mpl-400m (the published MPL parameters, in the reference warmup convention they were fitted in).";

    /// <summary>The three top-level commands.</summary>
    public static IEnumerable<Command> Build() => [Optimize(), WhatIfCommand(), Export()];

    /// <summary>A number as it round-trips (R), for the problem line.</summary>
    private static string Exact(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// A designed learning rate to 6 significant digits with a lower-case exponent, as the specs print rates: the solver's
    /// 17th digit is noise to a reader (the JSON keeps the full value).
    /// </summary>
    private static string Rate6(double v) => SpecNumber.Format(double.Parse(v.ToString("G6", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));

    /// <summary>A predicted loss to 5 decimals, as every table prints it.</summary>
    private static string Loss5(double v) => v.ToString("F5", CultureInfo.InvariantCulture);

    private static string BandText((double Low, double High)? b) => b is { } x ? $"[{Loss5(x.Low)}, {Loss5(x.High)}]" : "";

    private static string BandNote(DesignLaw law) => law.Forecaster is not null
        ? "uncertainty: 95% band as 'anneal predict' draws it for the auto stack (its calibrated band, docs/accuracy.md)"
        : law.BandUnavailable is { } why ? "uncertainty: no band: " + why
        : !law.HasBand
        ? "uncertainty: no band (the law has no covariance or refits: published parameters or a fit without them)"
        : "uncertainty: 95% band as 'anneal predict' draws it: "
          // the whole list trimmed, so that it never ends in a dangling comma
          + ((law.EarlyStopped && law.Replicates.Length > 0 ? "" : "parameter covariance (delta method), ")
             + (law.Replicates.Length >= 2 ? "leave-one-run-out refits, " : "") + (law.CrossValidationLogError > 0 ? "cross-validated law error" : "")).TrimEnd(',', ' ');

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
        var store = StoreInputs.SaveOption("design (linked to its law)");
        var cmd = new Command("optimize", """
            Design the learning-rate schedule that minimises the law's predicted final loss, and compare it
            with cosine to 10%, cosine to 0, linear to zero and WSD (20%, 1-sqrt) at the same T and peak.
            Predictions, not measurements: validate the winner on a real run.
            Example: anneal optimize mpl-400m --steps 24000 --peak 3e-4 --warmup 2160 --out opt.csv --svg opt.svg
            With a stored law (anneal fit --store), the design saved beside it: anneal optimize law:5 --steps 24000 --peak 3e-4 --store
            """) { law, steps, peak, warmup, family, minLr, output, svg, json, store };
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            CliOutputs.Check(("--out", r.GetValue(output)), ("--svg", r.GetValue(svg)));
            var lawArg = r.GetValue(law)!;
            using var runStore = StoreInputs.Open(r, store, Anneal.Store.Provenance.IsLaw(lawArg));
            var (fitted, storedLaw) = StoreInputs.ReadLaw(lawArg, runStore);
            var dl = DesignLaw.FromFitted(fitted, storedLaw?.Describe() ?? DesignLaw.SourceOf(lawArg));   // read once, above
            var request = new OptimizeRequest(dl, r.GetValue(steps), r.GetValue(peak)) { Warmup = r.GetValue(warmup), MinLr = r.GetValue(minLr), Family = r.GetValue(family)! };
            var res = OptimizeService.Optimize(request, new SyncProgress<string>(m => io.Err.WriteLine("optimize: " + m)));
            var problem = res.Problem;
            var rows = res.Candidates;
            double baseline = res.Baseline;
            var full = res.FullSchedule();
            var outputs = new List<(string Path, string Text)>();
            if (r.GetValue(output) is { } outPath) outputs.Add((outPath, ScheduleExport.Csv(full)));
            if (r.GetValue(svg) is { } svgPath)
            {
                var plot = new SvgPlot { Title = $"Designed schedule under {dl.Source.Split(' ')[0]} (T={problem.Total}, peak={Exact(problem.Peak)})", XLabel = "step", YLabel = "learning rate" };
                var x = Enumerable.Range(0, (int)problem.Total).Select(i => (double)i).ToArray();
                plot.AddLine($"{rows[0].Label} ({Loss5(rows[0].Loss)})", x, full);
                // the legend's losses are the table's (an auto law's: the stack's forecast)
                foreach (var c in res.References) plot.AddLine($"{c.Label} ({Loss5(rows.First(k => k.Label == c.Label && k.Spec == c.Schedule.Spec).Loss)})", x, c.Schedule.Sample((int)problem.Total));
                outputs.Add((svgPath, plot.Render()));
            }
            // the schedule and its plot together or neither: a failure leaves both existing files as they were (none asked
            // for: not called, its LINQ over tuples is compiled at run time)
            if (outputs.Count > 0) AtomicFile.WriteAll(outputs);
            if (r.GetResult(store) is not null)
            {
                long lawId = StoreInputs.LawId(runStore!, lawArg, fitted, storedLaw, io.Err);
                long id = Anneal.Store.Provenance.SaveDesign(runStore!, res, lawId);
                // on stderr: stdout stays the table (the JSON with --json)
                io.Err.WriteLine($"saved design {id} to {runStore!.Location} (law {lawId}; Anneal {Anneal.Store.RunStore.AnnealVersion})");
            }
            if (r.GetValue(json))
            {
                io.Out.WriteLine(res.ToJsonText());
                return CliExit.Ok;
            }
            io.Out.WriteLine($"law: {dl.Source}; T={problem.Total}, warmup={problem.Warmup}, peak={Exact(problem.Peak)}, min-lr={Exact(problem.MinLr)}");
            io.Out.WriteLine(BandNote(dl));
            if (dl.BandWithheld(problem) is { } withheld) io.Out.WriteLine($"no band and no gain ± for these schedules: {withheld}");
            io.Out.WriteLine($"{"schedule",-17} {"final loss",10} {"gain vs cos10%".PadLeft(!dl.HasBand ? 14 : 23)} {(!dl.HasBand ? "" : "95% band              ")}spec");
            foreach (var x in rows)
            {
                string gain = (baseline - x.Loss).ToString("+0.00000;-0.00000;0", CultureInfo.InvariantCulture);
                // A gain its half-width does not exceed is not resolved by the fit: no ± that holds both signs (issue 10).
                if (x.GainHalfWidth is { } hw && hw > 0)
                    gain += DesignLaw.GainResolved(baseline - x.Loss, hw) ? $" ±{hw.ToString("F5", CultureInfo.InvariantCulture)}" : x == rows.First(c => c.Label == res.References[0].Label) ? "" : " (unresolved)";
                var spec = x.Spec ?? $"(per-step; {x.PostWarmup.Length} rates, write with --out)";
                io.Out.WriteLine($"{x.Label,-17} {Loss5(x.Loss),10} {gain.PadLeft(!dl.HasBand ? 14 : 23)} {(!dl.HasBand ? "" : BandText(x.Band).PadRight(22))}{spec}");
            }
            if (rows.Any(h => h.GainHalfWidth is not null))
                io.Out.WriteLine(dl.Forecaster is not null
                    ? $"losses and bands: the auto stack's forecast of each schedule (as anneal predict), the design chosen by the same forecast; gain ± : 95% half-width of the gain over cosine to 10%, {DesignLaw.GainScale * 100:F1}% of its loss (calibrated on observed gains); (unresolved): a gain within that half-width, not resolved by the fit"
                    : "gain ± : 95% half-width of the gain over cosine to 10% (delta method on the difference, where shared parameter errors cancel, plus the refits' spread of the difference); (unresolved): a gain within it, not resolved by the fit");
            if (res.Free is { } f)
            {
                var designed = res.Design.PostWarmup;
                io.Out.WriteLine($"free optimum: decay starts at step {f.DecayStart}, final LR {Rate6(designed[^1])}, {f.Drops} distinct drops; solver {f.Iterations} iterations, {f.Evaluations} evaluations ({f.Stop})");
                io.Out.WriteLine($"closest named schedule to the optimum (RMS distance {f.Closest.RmsDistance * 100:F2}% of peak) loses {Loss5(f.Closest.Candidate.Loss - rows[0].DesignedLoss)} against it{(dl.Forecaster is null ? "" : " (under the auto stack's forecast)")}");
            }
            io.Out.WriteLine("These are predictions of the law, not measurements: validate the chosen schedule on a real run.");
            return CliExit.Ok;
        });
        return cmd;
    }

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
            var io = CliContext.Of(r);
            CliOutputs.Check(("--svg", r.GetValue(svg)));
            var dl = DesignLaw.Resolve(r.GetValue(law)!);
            var call = SpecCall.Parse(r.GetValue(baseSpec)!);
            var b = ScheduleRegistry.Create(call);
            var axes = (r.GetValue(vary) ?? []).Select(VaryAxis.Parse).ToList();
            if (r.GetValue(from) is { } s) return Continuations(dl, b, s, axes, r.GetValue(shape), r.GetValue(peak), r.GetValue(warmup), r.GetValue(svg), r.GetValue(json), io.Out);
            var res = WhatIfService.Grid(new WhatIfGridRequest(dl, call, axes) { Peak = r.GetValue(peak), Warmup = r.GetValue(warmup) },
                new SyncProgress<(int Done, int Total)>(p => { if (p.Done % 50 == 0 || p.Done == p.Total) io.Err.Write($"\rwhatif: {p.Done}/{p.Total}"); }));
            io.Err.WriteLine();
            var pts = res.Points;
            var bestPer = res.BestPerLine.ToHashSet();
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
                foreach (var bp in res.BestPerLine)
                    plot.AddMarkers($"best {string.Join(", ", axes.Select((a, i) => $"{a.Key}={SpecNumber.Format(bp.Values[i])}"))}", [bp.Values[0]], [bp.Loss]);
                plot.Save(path);
            }
            if (r.GetValue(json))
            {
                io.Out.WriteLine(res.ToJsonText());
                return CliExit.Ok;
            }
            io.Out.WriteLine($"law: {dl.Source}; base: {b.Spec}");
            io.Out.WriteLine(BandNote(dl));
            io.Out.WriteLine(string.Join(" ", axes.Select(a => $"{a.Key,10}")) + $" {"final loss",11}  {(!dl.HasBand ? "" : "95% band              ")}spec");
            foreach (var p in pts)
                io.Out.WriteLine(string.Join(" ", p.Values.Select(v => $"{SpecNumber.Format(v),10}")) + $" {Loss5(p.Loss),11}{(bestPer.Contains(p) ? "*" : " ")} {(!dl.HasBand ? "" : BandText(p.Band).PadRight(22))}{p.Spec}");
            foreach (var bp in res.BestPerLine) io.Out.WriteLine($"* best{(axes.Count > 1 ? $" at {axes[1].Key}={SpecNumber.Format(bp.Values[1])}" : "")}: {bp.Spec} (predicted {Loss5(bp.Loss)})");
            io.Out.WriteLine("Predictions of the law, not measurements.");
            return CliExit.Ok;
        });
        return cmd;
    }

    private static int Continuations(DesignLaw dl, Schedule b, long from, List<VaryAxis> axes, string? shapeName, double? peak, long? warmup, string? svg, bool json, TextWriter output)
    {
        DecayShape? shape = null;
        if (shapeName is not null) shape = DecayShapes.TryParse(shapeName, out var sh) ? sh : throw new InputException($"--shape '{shapeName}': use linear, cosine, sqrt, square, exponential or inverse");
        var res = WhatIfService.Continue(new ContinuationRequest(dl, b, from) { Axes = axes, Shape = shape, Peak = peak, Warmup = warmup });
        var list = res.Continuations;
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
            output.WriteLine(res.ToJsonText());
            return CliExit.Ok;
        }
        output.WriteLine($"law: {dl.Source}; run: {b.Spec}; now at step {from} (LR {Exact(b.At(from))})");
        output.WriteLine(BandNote(dl));
        output.WriteLine($"{"continuation",-28} {"total",7} {"final loss",11} {"vs cool-now",12} spec");
        foreach (var c in list)
            output.WriteLine($"{c.Label,-28} {c.Total,7} {Loss5(c.Loss),11} {(c.Loss - res.Now.Loss).ToString("+0.00000;-0.00000;0", CultureInfo.InvariantCulture),12} {c.Spec}");
        output.WriteLine("Predictions, not measurements: each extra step costs compute; weigh the predicted gain against it.");
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
            var io = CliContext.Of(r);
            string arg = r.GetValue(input)!, fmt = r.GetValue(format)!;
            long t = r.GetValue(steps);
            ScheduleExport.CheckSteps(t);
            CliOutputs.Check(("--out", r.GetValue(output)));
            string? outPath = r.GetValue(output);
            var exportFormat = fmt switch { "csv" => ExportFormat.Csv, "json" => ExportFormat.Json, "pytorch" => ExportFormat.Pytorch, _ => ExportFormat.Hf };
            if (exportFormat == ExportFormat.Pytorch && outPath is null) throw new InputException("--format pytorch needs --out FILE for the multipliers JSON (the printed snippet reads it)");
            var request = new ExportRequest(t, exportFormat) { MultipliersFile = outPath is null ? "schedule.json" : Path.GetFileName(outPath) };
            if (File.Exists(arg) && !arg.Contains('('))
            {
                if (exportFormat == ExportFormat.Hf) throw new InputException($"{arg}: --format hf needs a schedule spec (a per-step table has no HF equivalent; use --format pytorch)");
                var table = LrFile.Read(arg);
                // An export hands the rates to a trainer as they are: a rate the table does not give is refused, not made up.
                if (table.InterpolatedSteps > 0)
                    throw new InputException($"{table.Warning}; an exported table must list every step from 0 (prepend the warmup rates if it starts later)");
                request = request with { Rates = table.Lr, RatesSource = Path.GetFileName(arg) };
            }
            // A name with a file's extension or a folder, not a spec (no '('), that is not there: the file is missing (the Tour's
            // optimum.csv before `anneal optimize --out optimum.csv` ran), not an unknown schedule named 'optimum.csv'.
            else if (!arg.Contains('(') && (arg.Contains('/') || Path.GetExtension(arg) is ".csv" or ".tsv" or ".txt" or ".json" or ".jsonl"))
                throw new InputException($"{arg}: file not found; check the path (relative paths start at {Environment.CurrentDirectory}). export takes a schedule spec or a step,lr table such as 'anneal optimize ... --out {arg}' writes");
            else request = request with { Schedule = Schedule.Parse(arg) };
            // streamed: the table is written while it is computed (memory stays small at the largest --steps)
            string? snippet = null;
            if (outPath is not null) AtomicFile.WriteText(outPath, w => snippet = ScheduleExport.Write(request, w));
            else snippet = ScheduleExport.Write(request, io.Out);
            if (snippet is not null) io.Out.WriteLine(snippet);
            return CliExit.Ok;
        });
        return cmd;
    }
}
