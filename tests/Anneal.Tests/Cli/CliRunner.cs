using Anneal.Cli;

namespace Anneal.Tests.Cli;

/// <summary>Runs the anneal command in-process and captures its exit code and output.</summary>
/// <remarks>Test classes that use it join the non-parallel "Console" collection: AnnealCli.Run swaps Console.Out.</remarks>
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
