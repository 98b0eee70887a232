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
        root.Subcommands.Add(PlanCommands.BuildScaling());
        foreach (var c in LawCommands.Build()) root.Subcommands.Add(c);
        root.Subcommands.Add(TrainCommand.Build());
        root.Subcommands.Add(ProbeCommand.Build());
        return root;
    }

    /// <summary>Parses and runs; never lets an exception escape as a stack trace.</summary>
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var output = stdout ?? Console.Out;
        var error = stderr ?? Console.Error;
        var root = Build();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) error.WriteLine($"error: {e.Message}");
            error.WriteLine("Run with --help for usage and examples.");
            return CliExit.BadInput;
        }
        var previousOut = Console.Out;
        var previousErr = Console.Error;
        try
        {
            if (stdout is not null) Console.SetOut(output);
            if (stderr is not null) Console.SetError(error);
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = output, Error = error });
        }
        catch (InputException e)
        {
            error.WriteLine($"error: {e.Message}");
            return CliExit.BadInput;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error.WriteLine($"internal error: {e.GetType().Name}: {e.Message}");
            error.WriteLine("This is a bug in Anneal; please report it with the command line that caused it.");
            return CliExit.Internal;
        }
        finally
        {
            Console.SetOut(previousOut);
            Console.SetError(previousErr);
        }
    }
}

/// <summary>Process exit codes.</summary>
public static class CliExit
{
    public const int Ok = 0;
    public const int Internal = 1;
    public const int BadInput = 2;
}
