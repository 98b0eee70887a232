using System.Text.Json.Nodes;
using Anneal.Curves;

namespace Anneal.Web.Api;

/// <summary>
/// The constant-rate log a request names in <c>constant_log</c>: a stored run's id, read from the store as a whole curve (the
/// regime check's input on <c>/api/forecast</c>, <c>/api/calibration</c> and <c>/api/probe</c>). A 400 names the field when the
/// id is not a positive whole number, a 404 when no stored run has it.
/// </summary>
internal static class ConstantLog
{
    /// <summary>The request field.</summary>
    public const string Field = "constant_log";

    /// <summary>The run <c>constant_log</c> names, with its id (the field is required).</summary>
    public static (long Id, LossCurve Curve) Load(Dashboard d, JsonObject o)
    {
        long id = Body.Int(o, Field, null, 1, long.MaxValue);
        return (id, d.Runs.LoadCurve(id) ?? throw new ApiException(404, $"{Field}: no run with id {id}"));
    }

    /// <summary>The run <c>constant_log</c> names, with its id; null when the request has no such field.</summary>
    public static (long Id, LossCurve Curve)? LoadIfGiven(Dashboard d, JsonObject o) => o[Field] is null ? null : Load(d, o);
}
