using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace Anneal.Cli.Commands;

/// <summary>How <c>anneal plan</c> and <c>anneal scaling</c> print: the console, numbers, intervals and JSON.</summary>
internal static class PlanText
{
    /// <summary>JSON of plans and fits (snake_case as every output, docs/formats.md; NaN allowed, enums by snake_case name).</summary>
    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>A result as the JSON of one versioned format (docs/formats.md): <c>format</c> first, then its snake_case fields.</summary>
    internal static string ToJson(object value, string format)
    {
        var o = JsonSerializer.SerializeToNode(value, Json)!.AsObject();
        o.Insert(0, "format", format);
        return o.ToJsonString(Json);
    }

    /// <summary>A console on the command's output writer: plain text when it is not a terminal, 160 columns wide.</summary>
    internal static IAnsiConsole ConsoleOut(CliContext io)
    {
        var con = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(io.Out),
            Ansi = io.OutIsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = io.OutIsTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });
        // Piped output (files, CI logs, a caller's writer) has no terminal width; 80 columns would wrap every number.
        if (!io.OutIsTerminal) con.Profile.Width = 160;
        return con;
    }

    /// <summary>A confidence level as a percentage (0.95 as 95%).</summary>
    internal static string Percent(double level) => (level * 100).ToString("G4", CultureInfo.InvariantCulture) + "%";

    /// <summary>Text shown as is inside Spectre markup.</summary>
    internal static string Esc(string s) => Markup.Escape(s);

    /// <summary>Four significant digits; scientific (1.108e6) outside [1e-2, 1e4).</summary>
    internal static string Number(double v)
    {
        if (double.IsNaN(v)) return "-";
        double a = Math.Abs(v);
        return a != 0 && (a >= 1e4 || a < 1e-2) ? v.ToString("0.000e0", CultureInfo.InvariantCulture) : v.ToString("G4", CultureInfo.InvariantCulture);
    }

    /// <summary>Unrounded (round-trip) for fitted parameters: Epoch's lesson.</summary>
    internal static string RoundTrip(double v) => double.IsNaN(v) ? "-" : v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A confidence interval as [lo, hi] (escaped for markup).</summary>
    internal static string Interval(double lo, double hi) => double.IsNaN(lo) ? "-" : $"[[{Number(lo)}, {Number(hi)}]]";
}
