namespace Anneal.Laws;

/// <summary>The names of <see cref="WarmupConvention"/> values, as law specs, law files and design outputs write them.</summary>
public static class WarmupConventions
{
    /// <summary><c>paper</c> or <c>reference</c>.</summary>
    public static string Name(WarmupConvention c) => c == WarmupConvention.Reference ? "reference" : "paper";

    /// <summary>The convention named <paramref name="name"/> (<c>paper</c> or <c>reference</c>), or null for any other name.</summary>
    public static WarmupConvention? TryParse(string? name) => name switch
    {
        "paper" => WarmupConvention.Paper,
        "reference" => WarmupConvention.Reference,
        _ => null,
    };
}
