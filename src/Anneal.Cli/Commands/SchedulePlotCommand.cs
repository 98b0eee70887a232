using System.CommandLine;
using System.Globalization;
using Anneal.IO;
using Anneal.Plotting;
using Anneal.Schedules;

namespace Anneal.Cli.Commands;

/// <summary><c>anneal schedule plot SPEC... --steps N --svg OUT [--csv OUT]</c>: overlay schedules.</summary>
public static class SchedulePlotCommand
{
    /// <summary>Default for --points: beyond this many steps the plot and CSV use evenly spaced steps.</summary>
    public const int MaxPoints = 1_000_000;

    public static Command Build()
    {
        var specs = new Argument<string[]>("specs") { Description = "One or more schedule specs.", Arity = ArgumentArity.OneOrMore };
        var steps = new Option<long>("--steps", "-n") { Description = "Plot steps 0..N-1.", Required = true };
        var svg = new Option<string?>("--svg") { Description = "SVG file to write (atomically)." };
        var csv = new Option<string?>("--csv") { Description = "Also write step and one LR column per spec as CSV." };
        var logY = new Option<bool>("--log-y") { Description = "Logarithmic LR axis (zero LR is left out)." };
        var title = new Option<string?>("--title") { Description = "Plot title." };
        var maxPoints = new Option<int>("--points") { Description = $"At most this many (evenly spaced) steps in the plot and CSV; default {MaxPoints}.", DefaultValueFactory = _ => MaxPoints };
        var cmd = new Command("plot", """
            Overlay several learning-rate schedules in one SVG plot (and optionally a CSV).
            Example: anneal schedule plot "cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)" "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2)" --steps 24000 --svg schedules.svg
            """) { specs, steps, svg, csv, logY, title, maxPoints };
        cmd.SetAction(r =>
        {
            long n = r.GetValue(steps);
            if (n <= 0 || n > 10_000_000_000) throw new InputException($"--steps must be between 1 and 10000000000, got {n}");
            var svgPath = r.GetValue(svg);
            var csvPath = r.GetValue(csv);
            if (svgPath is null && csvPath is null) throw new InputException("nothing to write: pass --svg OUT.svg and/or --csv OUT.csv");
            CliOutputs.Check(("--svg", svgPath), ("--csv", csvPath));
            var schedules = r.GetValue(specs)!.Select(Schedule.Parse).ToList();

            // Every step when affordable; otherwise evenly spaced steps including the last one.
            int limit = r.GetValue(maxPoints);
            if (limit < 2) throw new InputException($"--points must be at least 2, got {limit}");
            int points = (int)Math.Min(n, limit);
            var x = new long[points];
            for (int i = 0; i < points; i++) x[i] = points == n ? i : (long)Math.Round((double)i * (n - 1) / (points - 1));
            if (points < n) r.InvocationConfiguration.Error.WriteLine($"note: {n} steps is more than --points {limit}; using {points} evenly spaced steps including the last");
            var ys = schedules.Select(s =>
            {
                if (points == n) return s.Sample(points);
                var y = new double[points];
                for (int i = 0; i < points; i++) y[i] = s.At(x[i]);
                return y;
            }).ToList();

            var outputs = new List<(string Path, string Text)>();
            if (svgPath is not null)
            {
                var plot = new SvgPlot
                {
                    Title = r.GetValue(title) ?? (schedules.Count == 1 ? "Learning-rate schedule" : "Learning-rate schedules"),
                    XLabel = "step",
                    YLabel = "learning rate",
                    LogY = r.GetValue(logY),
                };
                var xd = x.Select(v => (double)v).ToArray();
                for (int k = 0; k < schedules.Count; k++) plot.AddLine(schedules[k].Spec, xd, ys[k]);
                outputs.Add((svgPath, plot.Render()));
            }
            if (csvPath is not null)
            {
                var w = new StringWriter();
                {
                    w.Write("step");
                    foreach (var s in schedules) { w.Write(",\""); w.Write(s.Spec.Replace("\"", "\"\"")); w.Write('"'); }
                    w.Write('\n');
                    for (int i = 0; i < points; i++)
                    {
                        w.Write(x[i].ToString(CultureInfo.InvariantCulture));
                        foreach (var y in ys) { w.Write(','); w.Write(y[i].ToString("R", CultureInfo.InvariantCulture)); }
                        w.Write('\n');
                    }
                }
                outputs.Add((csvPath, w.ToString()));
            }
            // both files or neither: a failed write leaves every existing output as it was
            AtomicFile.WriteAll(outputs);
            foreach (var (p, _) in outputs) r.InvocationConfiguration.Output.WriteLine($"wrote {p}");
            return CliExit.Ok;
        });
        return cmd;
    }
}
