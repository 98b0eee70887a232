using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Anneal.IO;
using Anneal.Schedules;

namespace Anneal.Cli.Commands;

/// <summary><c>anneal schedule ...</c>: sample, list and plot learning-rate schedules.</summary>
public static class ScheduleCommands
{
    public static Command Build()
    {
        var cmd = new Command("schedule", "Learning-rate schedules: sample, list, plot.");
        cmd.Subcommands.Add(Sample());
        cmd.Subcommands.Add(ScheduleListCommand.Build());
        cmd.Subcommands.Add(SchedulePlotCommand.Build());
        return cmd;
    }

    private static Command Sample()
    {
        var spec = new Argument<string>("spec") { Description = "Schedule spec, e.g. 'cosine(peak=3e-4, total=10000, warmup=500)'." };
        var steps = new Option<int>("--steps", "-n") { Description = "Number of steps to print (steps 0..N-1).", Required = true };
        var format = new Option<string>("--format") { Description = "csv (default) or json.", DefaultValueFactory = _ => "csv" };
        format.AcceptOnlyFromAmong("csv", "json");
        var output = new Option<string?>("--out", "-o") { Description = "Write to this file (atomically) instead of standard output." };
        var cmd = new Command("sample", """
            Print step,lr for steps 0..N-1 of a schedule.
            Example: anneal schedule sample "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)" --steps 24000
            """) { spec, steps, format, output };
        cmd.SetAction(r =>
        {
            int n = r.GetValue(steps);
            if (n <= 0 || n > 100_000_000) throw new InputException($"--steps must be between 1 and 100000000, got {n}");
            CliOutputs.Check(("--out", r.GetValue(output)));
            var s = Schedule.Parse(r.GetValue(spec)!);
            var lr = s.Sample(n);
            void Emit(TextWriter w)
            {
                if (r.GetValue(format) == "json")
                {
                    var o = new JsonObject { ["format"] = "anneal-schedule-sample/1", ["schedule"] = s.ToSpecCall().ToJson(), ["spec"] = s.Spec, ["steps"] = n, ["lr"] = new JsonArray(lr.Select(x => (JsonNode?)JsonValue.Create(x)).ToArray()) };
                    w.WriteLine(o.ToJsonString());
                    return;
                }
                w.WriteLine("step,lr");
                for (int i = 0; i < n; i++) { w.Write(i); w.Write(','); w.WriteLine(lr[i].ToString("R", CultureInfo.InvariantCulture)); }
            }
            if (r.GetValue(output) is { } path) AtomicFile.WriteText(path, Emit);
            else Emit(r.InvocationConfiguration.Output);
            return CliExit.Ok;
        });
        return cmd;
    }
}
