using System.Text.Json.Nodes;

namespace Anneal;

/// <summary>Numbers in the JSON outputs: JSON has no NaN or infinity, so an unknown value is written as null.</summary>
public static class JsonNumbers
{
    /// <summary>The number, or null where it is not finite (unknown: e.g. an unavailable band).</summary>
    public static JsonNode? OrNull(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    /// <summary>An array of numbers, each null where it is not finite.</summary>
    public static JsonArray Array(IEnumerable<double> v) => new(v.Select(OrNull).ToArray());
}
