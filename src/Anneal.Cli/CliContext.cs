using System.CommandLine;

namespace Anneal.Cli;

/// <summary>
/// Where a command writes: the writers of its invocation (<see cref="AnnealCli.Run"/>'s <c>stdout</c> and <c>stderr</c>,
/// the process's console when none are given). Commands write only here, never to the global
/// <see cref="Console"/>, so several commands can run at once in one process (tests, a host calling the CLI), each
/// with its own output.
/// </summary>
/// <param name="Out">The command's results.</param>
/// <param name="Err">Progress, notes, warnings and errors.</param>
internal sealed record CliContext(TextWriter Out, TextWriter Err)
{
    /// <summary>The writers of the invocation that <paramref name="parse"/> runs in.</summary>
    public static CliContext Of(ParseResult parse) => new(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);

    /// <summary>True when <see cref="Out"/> is the process's console on a terminal (not redirected): colours, in-place redraws.</summary>
    public bool OutIsTerminal => ReferenceEquals(Out, Console.Out) && !Console.IsOutputRedirected;

    /// <summary>True when <see cref="Err"/> is the process's console on a terminal (not redirected): live progress lines.</summary>
    public bool ErrIsTerminal => ReferenceEquals(Err, Console.Error) && !Console.IsErrorRedirected;
}
