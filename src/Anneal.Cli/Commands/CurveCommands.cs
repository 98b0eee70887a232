using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anneal.Curves;
using Anneal.Plotting;

namespace Anneal.Cli.Commands;

/// <summary><c>anneal curve ...</c>: inspect, plot and convert logged loss curves.</summary>
public static class CurveCommands
{
    public static Command Build()
    {
        var cmd = new Command("curve", "Logged loss curves (CSV, JSON Lines, JSON, HF trainer_state.json, TensorBoard, Lightning, MLflow, W&B, Keras; a file or a run folder): inspect, plot, convert.");
        cmd.Subcommands.Add(Info());
        cmd.Subcommands.Add(Plot());
        cmd.Subcommands.Add(Convert());
        return cmd;
    }

    private static Argument<string[]> Files() => new("files")
    {
        Description = "Curve files; FILE@SPEC attaches the exact schedule, e.g. run.csv@cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5).",
        Arity = ArgumentArity.OneOrMore,
    };

    /// <summary>5 significant digits, compact exponent (3.0009e-5).</summary>
    internal static string FormatG5(double v)
    {
        var t = v.ToString("G5", CultureInfo.InvariantCulture);
        int e = t.IndexOf('E');
        if (e < 0) return t;
        int exp = int.Parse(t[(e + 1)..], CultureInfo.InvariantCulture);
        return t[..e] + "e" + exp.ToString(CultureInfo.InvariantCulture);
    }

    private static Command Info()
    {
        var files = Files();
        var json = new Option<bool>("--json") { Description = "Print one JSON object (format anneal-curve-info/1, a curves list) instead of the tables." };
        var cols = new CurveColumnOptions();
        var cmd = new Command("info", """
            Summarise curve files: steps, logging interval, LR range and detected schedule shape, loss range, final loss.
            Example: anneal curve info runs/cosine_24000.csv "runs/wsd.csv@wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2)"
            """) { files, json };
        cols.AddTo(cmd);
        cmd.SetAction(r =>
        {
            var opts = cols.Get(r);
            var curves = r.GetValue(files)!.Select(f => CurveArgument.Parse(f, opts)).ToList();
            var infos = curves.Select(CurveInfo.Analyze).ToList();
            var outw = r.InvocationConfiguration.Output;
            if (r.GetValue(json))
            {
                var doc = new JsonObject { ["format"] = "anneal-curve-info/1", ["curves"] = new JsonArray(infos.Select(i => (JsonNode)ToJson(i)).ToArray()) };
                outw.WriteLine(doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                foreach (var i in infos)
                {
                    outw.WriteLine(i.SourceFile ?? i.Name);
                    void Row(string k, string v) => outw.WriteLine($"  {k,-14}{v}");
                    if (i.Format.Length > 0) Row("format", i.Format);
                    Row("rows", $"{i.Count} (steps {i.FirstStep}..{i.LastStep})");
                    Row("logged every", i.Count < 2 ? "-" : i.RegularInterval && i.Gaps == 0
                        ? $"{i.MedianInterval} step{(i.MedianInterval == 1 ? "" : "s")}"
                        : $"{i.MedianInterval} step{(i.MedianInterval == 1 ? "" : "s")} (median; {i.Gaps} gap{(i.Gaps == 1 ? "" : "s")}{(i.RegularInterval ? "" : ", irregular")})");
                    Row("lr", i.LrMax is null ? "not logged" : $"{FormatG5(i.LrMin!.Value)} .. {FormatG5(i.LrMax.Value)}" +
                        (i.ScheduleSpec is null ? $" (logged on {i.LrLogged} rows)" : " (from the attached schedule)"));
                    Row("schedule", i.ScheduleSpec is null ? i.ShapeText : $"{i.ShapeText}: {i.ScheduleSpec}");
                    Row("loss", $"{FormatG5(i.LossMin)} .. {FormatG5(i.LossMax)}");
                    Row("final loss", i.FinalWindow > 1 ? $"{FormatG5(i.FinalLoss)} (mean of last {i.FinalWindow}: {FormatG5(i.FinalLossMean)})" : FormatG5(i.FinalLoss));
                    if (i.FinalValLoss is { } v) Row("final val", FormatG5(v));
                    outw.WriteLine();
                }
            }
            foreach (var n in curves.SelectMany(c => c.NotesNaming(OptionNames.Of(r)))) r.InvocationConfiguration.Error.WriteLine("note: " + n);
            foreach (var w in infos.SelectMany(i => i.Warnings)) r.InvocationConfiguration.Error.WriteLine("warning: " + w);
            return CliExit.Ok;
        });
        return cmd;
    }

    private static JsonObject ToJson(CurveInfo i) => new()
    {
        ["name"] = i.Name,
        ["file"] = i.SourceFile,
        ["format"] = i.Format,
        ["rows"] = i.Count,
        ["first_step"] = i.FirstStep,
        ["last_step"] = i.LastStep,
        ["median_interval"] = i.MedianInterval,
        ["regular_interval"] = i.RegularInterval,
        ["gaps"] = i.Gaps,
        ["lr_min"] = i.LrMin,
        ["lr_max"] = i.LrMax,
        ["lr_logged_rows"] = i.LrLogged,
        ["lr_interpolated"] = i.LrInterpolated,
        ["shape"] = i.Shape.ToString().ToLowerInvariant(),
        ["shape_text"] = i.ShapeText,
        ["warmup"] = i.Warmup,
        ["warmup_end"] = i.WarmupEnd,
        ["decay_start"] = i.DecayStart,
        ["loss_min"] = i.LossMin,
        ["loss_max"] = i.LossMax,
        ["final_loss"] = i.FinalLoss,
        ["final_loss_mean"] = i.FinalLossMean,
        ["final_window"] = i.FinalWindow,
        ["final_val_loss"] = i.FinalValLoss,
        ["schedule"] = i.ScheduleSpec,
        ["warnings"] = new JsonArray(i.Warnings.Select(w => (JsonNode?)JsonValue.Create(w)).ToArray()),
    };

    private static Command Plot()
    {
        var files = Files();
        var svg = new Option<string>("--svg") { Description = "SVG file to write (atomically).", Required = true };
        var logX = new Option<bool>("--log-x") { Description = "Logarithmic step axis (step 0 is left out)." };
        var logY = new Option<bool>("--log-y") { Description = "Logarithmic loss axis." };
        var lr = new Option<bool>("--lr") { Description = "Also draw each curve's per-step learning rate on a second axis (dashed)." };
        var target = new Option<string>("--target") { Description = "loss (training, default) or val (validation).", DefaultValueFactory = _ => "loss" };
        target.AcceptOnlyFromAmong("loss", "val");
        var style = new Option<string>("--style") { Description = "markers, line, or auto (default: markers up to 2000 points, else a line).", DefaultValueFactory = _ => "auto" };
        style.AcceptOnlyFromAmong("auto", "markers", "line");
        var title = new Option<string?>("--title") { Description = "Plot title." };
        var cols = new CurveColumnOptions();
        var cmd = new Command("plot", """
            Plot the loss of one or more curves to an SVG file, optionally with the learning rate on a second axis.
            Example: anneal curve plot runs/cosine_24000.csv runs/constant_24000.csv --lr --svg loss.svg
            """) { files, svg, logX, logY, lr, target, style, title };
        cols.AddTo(cmd);
        cmd.SetAction(r =>
        {
            CliOutputs.Check(("--svg", r.GetValue(svg)));
            var opts = cols.Get(r);
            var curves = Disambiguate(r.GetValue(files)!.Select(f => CurveArgument.Parse(f, opts)).ToList());
            bool val = r.GetValue(target) == "val";
            var plot = new SvgPlot
            {
                Title = r.GetValue(title) ?? (val ? "Validation loss" : "Training loss"),
                XLabel = "step",
                YLabel = val ? "validation loss" : "training loss",
                Y2Label = "learning rate",
                LogX = r.GetValue(logX),
                LogY = r.GetValue(logY),
            };
            var lrs = new List<(LossCurve Curve, ExpandedLr? Lr)>();
            foreach (var c in curves)
            {
                if (val && (c.ValLoss is null || c.ValLoss.All(double.IsNaN)))
                    throw new InputException($"{c.SourceFile}: no validation loss to plot with --target val; add a val_loss column (or name it with --val-col) or plot the training loss");
                ExpandedLr? e = null;
                if (r.GetValue(lr))
                {
                    if (c.Lr is null && c.ScheduleSpec is null)
                        throw new InputException($"{c.SourceFile}: --lr needs a learning-rate column or an attached schedule (FILE@SPEC)");
                    e = LrExpansion.Expand(c);
                }
                lrs.Add((c, e));
            }
            for (int k = 0; k < curves.Count; k++)
            {
                var c = curves[k];
                var color = SvgPlot.Palette[k % SvgPlot.Palette.Count];
                var x = c.Steps.Select(s => (double)s).ToArray();
                var y = val ? c.ValLoss! : c.Loss!;
                int points = y.Count(v => !double.IsNaN(v));
                bool markers = r.GetValue(style) switch { "markers" => true, "line" => false, _ => points <= 2000 };
                if (val)
                {
                    // Validation is sparse: keep only evaluated steps so a line joins them.
                    var keep = Enumerable.Range(0, y.Length).Where(i => !double.IsNaN(y[i])).ToArray();
                    x = keep.Select(i => x[i]).ToArray();
                    y = keep.Select(i => y[i]).ToArray();
                }
                if (markers) plot.AddMarkers(c.Name, x, y, color: color);
                else plot.AddLine(c.Name, x, y, color: color);
                if (lrs[k].Lr is { } e)
                {
                    if (e.Warning is not null) r.InvocationConfiguration.Error.WriteLine("warning: " + e.Warning);
                    var lx = new double[e.Lr.Length];
                    for (int i = 0; i < lx.Length; i++) lx[i] = i;
                    plot.AddLine(c.Name + " lr", lx, e.Lr, secondAxis: true, color: color);
                }
            }
            foreach (var c in curves) CurveMessages.Print(c, r.InvocationConfiguration.Error, r);
            var path = r.GetValue(svg)!;
            plot.Save(path);
            r.InvocationConfiguration.Output.WriteLine($"wrote {path} ({curves.Count} curve{(curves.Count == 1 ? "" : "s")})");
            return CliExit.Ok;
        });
        return cmd;
    }

    /// <summary>
    /// Curves named alike (25m/cosine.csv, 400m/cosine.csv) get their folder prefixed, so legends
    /// tell them apart.
    /// </summary>
    internal static List<LossCurve> Disambiguate(List<LossCurve> curves)
    {
        var dup = curves.GroupBy(c => c.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        return curves.Select(c => dup.Contains(c.Name) && c.SourceFile is { } f && Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(f))) is { Length: > 0 } dir
            ? c with { Name = dir + "/" + c.Name } : c).ToList();
    }

    private static Command Convert()
    {
        var file = new Argument<string>("file") { Description = "Curve file (FILE@SPEC keeps the schedule in JSON output)." };
        var output = new Option<string>("--out", "-o") { Description = "Output file: .csv or .json (chosen by extension), or a TensorBoard event file (events.out.tfevents.* or *.tfevents: train/loss, train/learning_rate, eval/loss, train/grad_norm).", Required = true };
        var cols = new CurveColumnOptions();
        var cmd = new Command("convert", """
            Read a curve in any supported format and write it as clean CSV (step,lr,loss,...) or JSON.
            Example: anneal curve convert wandb_history.json --out run.csv
            """) { file, output };
        cols.AddTo(cmd);
        cmd.SetAction(r =>
        {
            var path = r.GetValue(output)!;
            var ext = Path.GetExtension(path).ToLowerInvariant();
            bool tensorBoard = Anneal.Curves.Logs.LogFolder.IsEventFile(path) || ext == ".tfevents";
            if (ext is not (".json" or ".csv") && !tensorBoard) throw new InputException($"--out {path}: use a .csv or .json file name, or a TensorBoard event file name (events.out.tfevents.NAME or NAME.tfevents)");
            CliOutputs.Check(("--out", path));
            var c = CurveArgument.Parse(r.GetValue(file)!, cols.Get(r));
            if (tensorBoard) Anneal.Curves.Logs.TensorBoardWriter.Write(c, path);
            else if (ext == ".json") CurveWriter.WriteJson(c, path);
            else CurveWriter.WriteCsv(c, path);
            CurveMessages.Print(c, r.InvocationConfiguration.Error, r);
            r.InvocationConfiguration.Output.WriteLine($"wrote {path} ({c.Count} rows)");
            return CliExit.Ok;
        });
        return cmd;
    }
}
