using System.CommandLine;
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
        var steps = new Option<long>("--steps", "-n") { Description = "Number of steps to print (steps 0..N-1).", Required = true };
        var format = new Option<string>("--format") { Description = "csv (default) or json.", DefaultValueFactory = _ => "csv" };
        format.AcceptOnlyFromAmong("csv", "json");
        var output = new Option<string?>("--out", "-o") { Description = "Write to this file (atomically) instead of standard output." };
        var cmd = new Command("sample", """
            Print step,lr for steps 0..N-1 of a schedule.
            Example: anneal schedule sample "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)" --steps 24000
            """) { spec, steps, format, output };
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            long n = r.GetValue(steps);
            if (n <= 0 || n > ScheduleTable.MaxSteps) throw new InputException($"--steps must be between 1 and {ScheduleTable.MaxSteps}, got {n}");
            CliOutputs.Check(("--out", r.GetValue(output)));
            var s = Schedule.Parse(r.GetValue(spec)!);
            bool json = r.GetValue(format) == "json";
            // Rates are computed and written a block at a time (memory stays small at the largest --steps); a long
            // table written to a file reports its progress, about every tenth of the way.
            long next = n / 10;
            Action<long>? progress = n >= 10_000_000 && r.GetValue(output) is not null
                ? done => { if (done >= next || done == n) { io.Err.WriteLine($"schedule sample: {done} of {n} steps written"); next = done + n / 10; } }
                : null;
            void Emit(TextWriter w)
            {
                if (json) ScheduleTable.WriteJson(s, n, w, progress);
                else ScheduleTable.WriteCsv(s, n, w, progress);
            }
            if (r.GetValue(output) is { } path) AtomicFile.WriteText(path, Emit);
            else Emit(r.InvocationConfiguration.Output);
            return CliExit.Ok;
        });
        return cmd;
    }
}
