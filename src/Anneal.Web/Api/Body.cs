using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Anneal.Web.Api;

/// <summary>Reading and checking request bodies and query values; every problem is a 400 naming the field and the fix.</summary>
internal static class Body
{
    /// <summary>Largest JSON request body (uploads have their own, larger limit).</summary>
    public const int MaxJsonBytes = 1 << 20;

    public static async Task<JsonObject> Json(HttpContext c)
    {
        var bytes = await Bytes(c, MaxJsonBytes);
        try { return JsonNode.Parse(bytes) as JsonObject ?? throw new ApiException(400, "the request body must be a JSON object"); }
        catch (JsonException) { throw new ApiException(400, "the request body is not valid JSON"); }
    }

    /// <summary>The body, refused with 413 past <paramref name="max"/> bytes (before reading it all when the length is declared).</summary>
    public static async Task<byte[]> Bytes(HttpContext c, long max)
    {
        if (c.Request.ContentLength > max) throw new ApiException(413, $"the request body has {c.Request.ContentLength} bytes; at most {max} are accepted");
        using var m = new MemoryStream();
        var buf = new byte[81920];
        int n;
        while ((n = await c.Request.Body.ReadAsync(buf, c.RequestAborted)) > 0)
        {
            if (m.Length + n > max) throw new ApiException(413, $"the request body is larger than the {max} bytes accepted");
            m.Write(buf, 0, n);
        }
        return m.ToArray();
    }

    public static string? Str(JsonObject o, string key)
    {
        var n = o[key];
        if (n is null) return null;
        if (n is JsonValue v && v.TryGetValue<string>(out var s)) return s;
        throw new ApiException(400, $"{key}: expected a string");
    }

    public static double Num(JsonObject o, string key, double? fallback, double min, double max)
    {
        var n = o[key];
        double v;
        if (n is null) v = fallback ?? throw new ApiException(400, $"{key}: required (a number between {G6(min)} and {G6(max)})");
        else if (n is JsonValue jv && jv.TryGetValue<double>(out var d)) v = d;
        else if (n is JsonValue js && js.TryGetValue<string>(out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var p)) v = p;
        else throw new ApiException(400, $"{key}: expected a number, e.g. 3e-4");
        if (!(v >= min && v <= max)) throw new ApiException(400, $"{key}: must be between {G6(min)} and {G6(max)}, got {G6(v)}");
        return v;
    }

    public static long Int(JsonObject o, string key, long? fallback, long min, long max)
    {
        double v = Num(o, key, fallback, min, max);
        if (v != Math.Floor(v)) throw new ApiException(400, $"{key}: must be a whole number, got {G6(v)}");
        return (long)v;
    }

    /// <summary>Which loss a request reads (the field <paramref name="key"/>, <c>target</c> unless named): <c>val</c> (validation) or <c>loss</c> (training); <paramref name="fallback"/> when absent.</summary>
    public static string Target(JsonObject o, string fallback, string key = "target")
    {
        var target = Str(o, key) ?? fallback;
        return target is "loss" or "val" ? target : throw new ApiException(400, $"{key}: val (validation loss) or loss (training loss), got '{Trunc(target)}'");
    }

    public static long[] Ids(JsonObject o, string key, int min, int max)
    {
        if (o[key] is not JsonArray a) throw new ApiException(400, $"{key}: give a list of run ids, e.g. [1, 2]");
        if (a.Count < min || a.Count > max) throw new ApiException(400, $"{key}: give {min} to {max} run ids, got {a.Count}");
        return a.Select(x => x is JsonValue v && v.TryGetValue<long>(out var id) ? id : throw new ApiException(400, $"{key}: run ids are whole numbers")).Distinct().ToArray();
    }

    public static int QueryInt(HttpContext c, string key, int fallback, int min, int max)
    {
        var s = c.Request.Query[key].ToString();
        if (s.Length == 0) return fallback;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
            throw new ApiException(400, $"{key}: must be a whole number between {min} and {max}, got '{Trunc(s)}'");
        return v;
    }

    public static string Trunc(string s) => s.Length <= 60 ? s : s[..60] + "...";

    public static string G6(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>A number for JSON: null where it is not finite (JSON has no NaN).</summary>
    public static double? N(double v) => double.IsFinite(v) ? v : null;

    public static double?[] N(IEnumerable<double> v) => v.Select(N).ToArray();

    public static IResult Ok(object value, int status = 200) => Results.Json(value, ErrorHandling.JsonOptions, statusCode: status);
}
