using System.CommandLine;
using Anneal.Curves;
using Anneal.IO;
using Anneal.Laws;
using Anneal.Plotting;
using Anneal.Prediction;
using Anneal.Schedules;

namespace Anneal.Cli.Commands;

/// <summary><c>anneal predict</c>: forecasts a run's loss curve under a fitted law.</summary>
public static partial class LawCommands
{
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
        var stepsPerEpoch = StepsPerEpochOption();
        var store = StoreInputs.SaveOption("forecast (linked to its law)");
        var cmd = new Command("predict", """
            Predict the loss curve of a schedule with a fitted law, with an uncertainty band.
            Example: anneal predict law.json --schedule "wsd(peak=3e-4, total=72000, warmup=2160, decay=0.2, shape=sqrt, min=3e-5)" --svg wsd.svg
            Or from per-step rates: anneal predict law.json --lr-file my_schedule.csv
            With a stored law, the forecast saved beside it: anneal predict law:5 --schedule "cosine(peak=3e-4, total=48000, warmup=2160)" --store
            """) { lawFile, schedule, lrFile, steps, points, level, csv, svg, json, stepsPerEpoch, store };
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            CliOutputs.Check(("--csv", r.GetValue(csv)), ("--svg", r.GetValue(svg)));
            var path = r.GetValue(lawFile)!;
            using var runStore = StoreInputs.Open(r, store, Anneal.Store.Provenance.IsLaw(path));
            var (fit, storedLaw) = StoreInputs.ReadLaw(path, runStore);
            var specText = r.GetValue(schedule); var lrPath = r.GetValue(lrFile);
            var request = new PredictRequest(fit) { Steps = r.GetValue(steps), Points = r.GetValue(points), Level = r.GetValue(level), StepsPerEpoch = r.GetValue(stepsPerEpoch) };
            PredictService.CheckOneSchedule(specText is not null, lrPath is not null);
            if (lrPath is not null)
            {
                var given = r.GetValue(steps);
                if (given is { } g0) PredictService.CheckSteps(g0);
                var expanded = LrFile.Read(lrPath, given is { } g1 ? g1 - 1 : null);
                if (expanded.Warning is { } w) io.Err.WriteLine("warning: " + w);
                request = request with { Rates = expanded.Lr, RatesSource = $"per-step LR from {lrPath}" };
            }
            if (specText is not null) request = request with { Schedule = Schedule.Parse(specText) };
            // long horizons take minutes: say so before the work starts
            request = request with { Note = m => io.Err.WriteLine("note: " + m) };
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
            if (pred.Warning is { } repeated) io.Err.WriteLine("warning: " + repeated);
            if (pred.BandUnavailable is { } noBand) io.Err.WriteLine("warning: " + noBand);
            if (r.GetResult(store) is not null)
            {
                long lawId = StoreInputs.LawId(runStore!, path, fit, storedLaw, io.Err);
                long id = Anneal.Store.Provenance.SaveForecast(runStore!, res, request.Schedule?.Spec, lawId);
                // on stderr: stdout stays the prediction (its JSON with --json)
                io.Err.WriteLine($"saved forecast {id} to {runStore!.Location} (law {lawId}; Anneal {Anneal.Store.RunStore.AnnealVersion})");
            }
            if (r.GetValue(json))
            {
                io.Out.WriteLine(res.ToJson().ToJsonString());
                return CliExit.Ok;
            }
            io.Out.WriteLine($"{fit.Law.Spec} predicts for {label}, {n} steps:");
            io.Out.WriteLine(pred.HasBand
                ? string.Create(Inv, $"final loss {pred.FinalLoss:F4}  ({lv:P0} band {pred.FinalLow:F4} .. {pred.FinalHigh:F4})")
                : string.Create(Inv, $"final loss {pred.FinalLoss:F4}  ({pred.BandUnavailable})"));
            foreach (var f in new[] { 0.25, 0.5, 0.75 })
            {
                int i = Math.Clamp((int)(f * (pred.Steps.Length - 1)), 0, pred.Steps.Length - 1);
                io.Out.WriteLine(string.Create(Inv, $"  step {pred.Steps[i],9}: {pred.Loss[i]:F4}") + (pred.HasBand ? string.Create(Inv, $"  [{pred.Low[i]:F4}, {pred.High[i]:F4}]") : ""));
            }
            if (r.GetValue(csv) is { } c2) io.Out.WriteLine($"wrote {c2}");
            if (r.GetValue(svg) is { } g2) io.Out.WriteLine($"wrote {g2}");
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
}
