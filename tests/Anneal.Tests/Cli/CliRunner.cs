using Anneal.Cli;

namespace Anneal.Tests.Cli;

/// <summary>Runs the anneal command in-process and captures its exit code and output.</summary>
/// <remarks>Each run writes only to its own writers (<see cref="CliContext"/>), so runs may overlap (ConcurrentRunTests).</remarks>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = AnnealCli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }
}
