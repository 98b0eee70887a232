using System.CommandLine;

namespace Anneal.Cli;

/// <summary>
/// The one mapping from the library's parameter names (<c>peak</c>, <c>min_lr</c>, see <see cref="InputException.Parameters"/>)
/// to a command's option names (<c>--peak</c>, <c>--min-lr</c>), so that an error names what the user typed.
/// A parameter maps to the command's option of the same name in kebab case; the few commands whose option is
/// named otherwise say so in <see cref="Renamed"/>. A parameter the command has no option for keeps its name (it
/// came from a spec or a file, which the message names).
/// </summary>
internal static class OptionNames
{
    /// <summary>Per command path, the parameters whose option is not their kebab-case name.</summary>
    private static readonly Dictionary<string, Dictionary<string, string>> Renamed = new(StringComparer.Ordinal)
    {
        // a design problem's total length is the run's --steps
        ["anneal optimize"] = new(StringComparer.Ordinal) { ["total"] = "--steps" },
        // a prediction's per-step rates come from --lr-file
        ["anneal predict"] = new(StringComparer.Ordinal) { ["rates"] = "--lr-file" },
    };

    /// <summary>The option of <paramref name="command"/> (at <paramref name="path"/>, e.g. <c>anneal optimize</c>) that sets <paramref name="parameter"/>.</summary>
    public static string For(Command command, string path, string parameter)
    {
        if (Renamed.TryGetValue(path, out var renamed) && renamed.TryGetValue(parameter, out var option)) return option;
        var kebab = "--" + parameter.Replace('_', '-');
        return command.Options.Any(o => o.Name == kebab || o.Aliases.Contains(kebab)) ? kebab : parameter;
    }

    /// <summary>The mapping for the command <paramref name="parse"/> invoked.</summary>
    public static Func<string, string> Of(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var path = AnnealCli.CommandPath(parse);
        return p => For(command, path, p);
    }
}
