namespace Anneal.Tests;

/// <summary>Locates the repository root, the data bundled in it, and the optional shared folder beside it.</summary>
internal static class TestPaths
{
    /// <summary>The folder holding Anneal.sln.</summary>
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>
    /// A path under the repository's data/examples/mpl: the MIT multi-power-law benchmark curves
    /// (byte-identical to shared/data/curves/mpl), so the tests that read them run on a bare clone.
    /// </summary>
    public static string Mpl(params string[] parts) => Path.Combine([RepoRoot, "data", "examples", "mpl", .. parts]);

    /// <summary>A path under tests/Anneal.Tests/Data (peer numbers and MIT data bundled for the tests).</summary>
    public static string TestData(params string[] parts) => Path.Combine([RepoRoot, "tests", "Anneal.Tests", "Data", .. parts]);

    /// <summary>The shared/ folder beside the repository (peer docs and real curves); absent on a bare clone.</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>A path under shared/data.</summary>
    public static string SharedData(params string[] parts) => Path.Combine([Shared, "data", .. parts]);

    /// <summary>
    /// The gpt100m-rope runs: shared/data/curves only, never bundled (their source states no licence).
    /// Tests reading them use <see cref="RopeCurvesFactAttribute"/> / <see cref="RopeCurvesTheoryAttribute"/>.
    /// </summary>
    public static string RopeCurve(string file) => SharedData("curves", "gpt100m-rope", file);

    /// <summary>Why a test needing the gpt100m-rope curves is skipped here, or null when they are present.</summary>
    public static string? RopeCurvesMissing { get; } =
        Directory.Exists(SharedData("curves", "gpt100m-rope")) ? null
        : $"needs the gpt100m-rope curves in {SharedData("curves", "gpt100m-rope")} (not bundled: no licence); absent beside this clone";

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Anneal.sln"))) return d.FullName;
        throw new InvalidOperationException("Anneal.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// A fact that reads the gpt100m-rope curves: runs where ../shared has them, and is reported as skipped,
/// with the reason, on a bare clone (xunit 2 decides skips at discovery, hence the constructor).
/// </summary>
public sealed class RopeCurvesFactAttribute : FactAttribute
{
    public RopeCurvesFactAttribute()
    {
        if (TestPaths.RopeCurvesMissing is { } why) Skip = why;
    }
}

/// <summary>The theory form of <see cref="RopeCurvesFactAttribute"/>.</summary>
public sealed class RopeCurvesTheoryAttribute : TheoryAttribute
{
    public RopeCurvesTheoryAttribute()
    {
        if (TestPaths.RopeCurvesMissing is { } why) Skip = why;
    }
}
