using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anneal.Schedules;
using Spectre.Console;

namespace Anneal.Cli.Commands;

/// <summary><c>anneal schedule list</c>: every schedule kind with its parameters, defaults and an example spec.</summary>
public static class ScheduleListCommand
{
    public static Command Build()
    {
        var json = new Option<bool>("--json") { Description = "Print the kinds as JSON (name, summary, parameters, example) instead of a table." };
        var cmd = new Command("list", """
            List every schedule kind with its parameters, defaults and a working example spec.
            Example: anneal schedule list
                     anneal schedule list --json
            """) { json };
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            var stdout = io.Out;
            var kinds = ScheduleRegistry.Kinds.Append(ScheduleRegistry.Plateau).Append(ScheduleRegistry.AutoLrs).ToArray();
            if (r.GetValue(json))
            {
                var arr = new JsonArray(kinds.Select(k => (JsonNode?)new JsonObject
                {
                    ["name"] = k.Name,
                    ["summary"] = k.Summary,
                    ["stateful"] = k == ScheduleRegistry.Plateau || k == ScheduleRegistry.AutoLrs,
                    ["parameters"] = new JsonArray(k.Parameters.Select(p => (JsonNode?)new JsonObject
                    {
                        ["name"] = p.Name, ["default"] = p.Default, ["description"] = p.Description,
                    }).ToArray()),
                    ["example"] = k.Example,
                }).ToArray());
                var root = new JsonObject { ["format"] = "anneal-schedule-kinds/1", ["kinds"] = arr };
                stdout.WriteLine(root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                return CliExit.Ok;
            }
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(stdout),
                Ansi = io.OutIsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
                ColorSystem = io.OutIsTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            });
            if (!io.OutIsTerminal) console.Profile.Width = 160;
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumn(new TableColumn("kind").Width(30)).AddColumn(new TableColumn("parameters (name=default  meaning)").Width(75)).AddColumn(new TableColumn("example").Width(45));
            foreach (var k in kinds)
            {
                var ps = string.Join("\n", k.Parameters.Select(p => $"{p.Name}={p.Default}  {p.Description}"));
                table.AddRow(new Markup($"[bold]{Markup.Escape(k.Name)}[/]\n{Markup.Escape(k.Summary)}"), new Text(ps), new Text(k.Example));
            }
            console.Write(table);
            console.WriteLine("plateau is stateful (fed one metric per evaluation): ReduceOnPlateau in the library. autolrs chooses its rates while training: anneal train --schedule \"autolrs(...)\". Sample any other kind with: anneal schedule sample SPEC --steps N");
            return CliExit.Ok;
        });
        return cmd;
    }
}
