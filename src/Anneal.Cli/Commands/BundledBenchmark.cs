using Anneal.Evaluation;

namespace Anneal.Cli.Commands;

/// <summary>The multi-power-law benchmark as the commands' <c>--data</c> gives it: a folder, or the copy embedded in the CLI.</summary>
internal static class BundledBenchmark
{
    /// <summary>From <paramref name="folder"/> (with manifest.json) or, when null, the embedded copy.</summary>
    public static MplBenchmark Open(string? folder)
    {
        if (folder is null) return MplBenchmark.Open(name => EmbeddedData.Read("mpl/" + name), "bundled benchmark");
        if (!Directory.Exists(folder)) throw new InputException($"--data {folder}: folder not found");
        return MplBenchmark.FromFolder(folder);
    }
}
