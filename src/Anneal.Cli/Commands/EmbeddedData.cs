using System.Reflection;

namespace Anneal.Cli.Commands;

/// <summary>The data files embedded in the CLI (the MPL benchmark, the engine corpora), by resource name.</summary>
internal static class EmbeddedData
{
    /// <summary>The bytes of an embedded file, or null when there is none by that name.</summary>
    public static byte[]? Read(string name)
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream(name);
        if (s is null) return null;
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }

    /// <summary>Every embedded resource name.</summary>
    public static IEnumerable<string> Names => Assembly.GetExecutingAssembly().GetManifestResourceNames();
}
