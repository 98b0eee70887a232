using System.CommandLine;
using Anneal.Cli.Commands;

namespace Anneal.Cli;

/// <summary>
/// The <c>anneal</c> command tree. Exit codes: 0 success, 2 bad input (message names the file,
/// line or option and the fix), 1 internal failure.
/// </summary>
public static class AnnealCli
{
    /// <summary>
    /// The command tree. The root is a plain command named <c>anneal</c> rather than a
    /// <see cref="RootCommand"/>, whose name is the host executable's (<c>Anneal.Cli</c> under
    /// <c>dotnet run</c>), so that usage lines read as users type them.
    /// </summary>
    public static Command Build()
    {
        var root = new Command("anneal", "Anneal: forecast and design neural-network training runs before you pay for them.")
        {
            Options = { new System.CommandLine.Help.HelpOption(), new VersionOption() },
        };
        root.Subcommands.Add(ScheduleCommands.Build());
        foreach (var c in DesignCommands.Build()) root.Subcommands.Add(c);
        root.Subcommands.Add(CurveCommands.Build());
        root.Subcommands.Add(PlanCommands.Build());
        root.Subcommands.Add(ScalingCommands.Build());
        foreach (var c in LawCommands.Build()) root.Subcommands.Add(c);
        root.Subcommands.Add(TrainCommand.Build());
        root.Subcommands.Add(ProbeCommand.Build());
        root.Subcommands.Add(ServeCommand.Build());
        root.Subcommands.Add(WatchCommand.Build());
        root.Subcommands.Add(SweepCommands.Build());
        root.Subcommands.Add(RunsCommands.Build());
        return root;
    }

    /// <summary>
    /// Parses and runs; never lets an exception escape as a stack trace. The command writes to <paramref name="stdout"/>
    /// and <paramref name="stderr"/> (the process's console when null) through its <see cref="CliContext"/>, never to the
    /// global <see cref="Console"/>, so commands may run concurrently in one process, each with its own writers.
    /// </summary>
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var output = stdout ?? Console.Out;
        var error = stderr ?? Console.Error;
        var root = Build();
        var parse = root.Parse(args);
        // an unknown option first: taken as a command's argument it also makes the real argument "unrecognized"
        if (UnknownOption(parse) is { } unknown)
        {
            error.WriteLine($"error: unknown option '{unknown}' for '{CommandPath(parse)}'; run '{CommandPath(parse)} --help' for its options");
            return CliExit.BadInput;
        }
        // A switch followed by a file name (fit --json law.json, as accuracy --json FILE takes one): the name was read as
        // one of the command's arguments (a curve) or left over; said before any work, naming the switch and the fix.
        var afterSwitch = ValueAfterSwitch(parse, args);
        if (afterSwitch is { } sw && (sw.Unmatched || !PathExists(sw.Value)))
        {
            error.WriteLine($"error: {SwitchTakesNoValue(parse, sw.Switch, sw.Value, sw.Unmatched ? "the command takes no such argument" : "it was read as one of the command's arguments, and there is no such file")}");
            return CliExit.BadInput;
        }
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) error.WriteLine($"error: {Plain(e.Message)}");
            error.WriteLine("Run with --help for usage and examples.");
            return CliExit.BadInput;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = output, Error = error });
        }
        catch (InputException e)
        {
            var message = e.MessageNaming(OptionNames.Of(parse));
            // an existing file after a switch, refused as the argument it was read as (a law file read as a curve)
            if (afterSwitch is { } sw2 && message.Contains(sw2.Value, StringComparison.Ordinal))
                message = SwitchTakesNoValue(parse, sw2.Switch, sw2.Value, $"it was read as one of the command's arguments, and as one it fails ({message.TrimEnd('.')})");
            error.WriteLine($"error: {message}");
            return CliExit.BadInput;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error.WriteLine($"internal error: {e.GetType().Name}: {e.Message}");
            error.WriteLine("This is a bug in Anneal; please report it with the command line that caused it.");
            return CliExit.Internal;
        }
    }

    private static readonly (string Type, string Words)[] TypeWords =
    [
        ("System.Int32", "a whole number between -2147483648 and 2147483647"),
        // the 64-bit ranges are no limit a user meets (each option checks its own): naming them only hides the fix
        ("System.Int64", "a whole number"),
        ("System.UInt64", "a whole number >= 0"),
        ("System.Double", "a number such as 3e-4"),
        ("System.Boolean", "true or false"),
    ];

    /// <summary>
    /// The parser's type errors in the user's words: "Cannot parse argument '1e12' for option '--steps' as expected
    /// type 'System.Int32'" becomes "--steps: '1e12' is not a whole number between ...".
    /// </summary>
    internal static string Plain(string message)
    {
        var m = System.Text.RegularExpressions.Regex.Match(message, @"^Cannot parse argument '(.*)' for (?:option|command|argument) '([^']*)' as expected type '([^']*)'\.?$", System.Text.RegularExpressions.RegexOptions.Singleline);
        if (!m.Success) return message;
        var type = m.Groups[3].Value.TrimEnd('?');
        if (type.StartsWith("System.Nullable`1[", StringComparison.Ordinal)) type = type["System.Nullable`1[".Length..].TrimEnd(']');
        var words = TypeWords.FirstOrDefault(t => t.Type == type).Words ?? type;
        return $"{m.Groups[2].Value}: '{m.Groups[1].Value}' is not {words}" + (type.Contains("Int", StringComparison.Ordinal) ? " (write it in digits, e.g. 24000)" : "");
    }

    /// <summary>
    /// A token that looks like an option (<c>--bogus</c>, <c>-x</c>) but was taken as one of the command's own
    /// arguments (a file name, a spec) because the command knows no such option; null when there is none.
    /// Negative numbers are values, not options.
    /// </summary>
    private static string? UnknownOption(ParseResult parse)
    {
        foreach (var child in parse.CommandResult.Children)
        {
            if (child is not System.CommandLine.Parsing.ArgumentResult arg) continue;
            foreach (var t in arg.Tokens)
            {
                var v = t.Value;
                if (v.Length > 1 && v[0] == '-' && !double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _))
                    return v.Split('=')[0];
            }
        }
        foreach (var t in parse.UnmatchedTokens)
            if (t.Length > 1 && t[0] == '-') return t;
        return null;
    }

    /// <summary>
    /// A value typed right after a switch (an option that takes none, e.g. <c>--json</c>, <c>--lr</c>): the switch as typed, the
    /// value, and whether the parser left it over (else it became one of the command's arguments). Null when no switch is
    /// followed by such a token. Only tokens that look like a path (a '.' or '/', no '(' of a spec) count: a value after a
    /// switch that is meant as an argument is a file the command will read, so one that exists is passed on.
    /// </summary>
    private static (string Switch, string Value, bool Unmatched)? ValueAfterSwitch(ParseResult parse, string[] args)
    {
        var command = parse.CommandResult.Command;
        var switches = new HashSet<string>(StringComparer.Ordinal);
        for (System.CommandLine.Parsing.SymbolResult? s = parse.CommandResult; s is not null; s = s.Parent)
            if (s is System.CommandLine.Parsing.CommandResult c)
                foreach (var o in c.Command.Options)
                    if (o.ValueType == typeof(bool) && (ReferenceEquals(c.Command, command) || o.Recursive))
                    {
                        switches.Add(o.Name);
                        foreach (var a in o.Aliases) switches.Add(a);
                    }
        var arguments = parse.CommandResult.Children.OfType<System.CommandLine.Parsing.ArgumentResult>().SelectMany(a => a.Tokens).Select(t => t.Value).ToHashSet(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] == "--") break;
            if (!switches.Contains(args[i])) continue;
            var v = args[i + 1];
            if (v.Length == 0 || v[0] == '-' || v.Contains('(') || v is "true" or "false") continue;
            if (!v.Contains('.') && !v.Contains('/')) continue;
            bool unmatched = parse.UnmatchedTokens.Contains(v);
            if (unmatched || arguments.Contains(v)) return (args[i], v, unmatched);
        }
        return null;
    }

    /// <summary>Whether <paramref name="value"/> (a file or folder, its <c>@SCHEDULE</c> left out; or a stored run or law) names something that exists.</summary>
    private static bool PathExists(string value)
    {
        if (value.StartsWith("run:", StringComparison.Ordinal) || value.StartsWith("law:", StringComparison.Ordinal)) return true;
        int at = value.IndexOf('@');
        var path = at > 0 ? value[..at] : value;
        return File.Exists(path) || Directory.Exists(path);
    }

    /// <summary>The message for a value typed after a switch: what the switch does, where the value went, and the fix (the command's <c>--out</c> when it has one, else a redirect).</summary>
    private static string SwitchTakesNoValue(ParseResult parse, string name, string value, string where)
    {
        var command = parse.CommandResult.Command;
        var option = command.Options.FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name));
        var what = option?.Description is { Length: > 0 } d ? $" (\"{d}\")" : "";
        var outOption = command.Options.FirstOrDefault(o => o.Name == "--out");
        var fix = name == "--json" && outOption is not null
            ? $"to write to {value}, use --out {value} (\"{outOption.Description}\") or redirect: {name} > {value}"
            : name == "--json" ? $"to keep the JSON in a file, redirect it: {name} > {value}"
            : $"give {name} alone, or {name} true / false";
        return $"{name} is a switch that takes no value{what}, so '{value}' after it is not its value: {where}; {fix}";
    }

    /// <summary>The invoked command as typed, e.g. <c>anneal scaling fit</c>.</summary>
    internal static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (System.CommandLine.Parsing.SymbolResult? s = parse.CommandResult; s is not null; s = s.Parent)
            if (s is System.CommandLine.Parsing.CommandResult c) names.Add(c.Command.Name);
        names.Reverse();
        return string.Join(" ", names);
    }
}

/// <summary>Process exit codes.</summary>
public static class CliExit
{
    public const int Ok = 0;
    public const int Internal = 1;
    public const int BadInput = 2;
}
