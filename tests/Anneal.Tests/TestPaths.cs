namespace Anneal.Tests;

/// <summary>Locates the repository root and the shared data folder beside it.</summary>
internal static class TestPaths
{
    /// <summary>The folder holding Anneal.sln.</summary>
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>The shared/ folder beside the repository (peer docs and real curves).</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>A path under shared/data.</summary>
    public static string SharedData(params string[] parts) => Path.Combine([Shared, "data", .. parts]);

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Anneal.sln"))) return d.FullName;
        throw new InvalidOperationException("Anneal.sln not found above " + AppContext.BaseDirectory);
    }
}
