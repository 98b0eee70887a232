using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Anneal.Web;

/// <summary>
/// The UI's files, embedded in this assembly at build time (wwwroot/ and the vendored chart library). A request
/// names a key of this fixed table or gets a 404: no request path ever reaches the file system.
/// </summary>
public static class StaticAssets
{
    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);

    private static readonly FrozenDictionary<string, Asset> Files = Load();

    /// <summary>True when the chart libraries (uPlot, and ECharts for parallel coordinates) were vendored into this build (npm was available).</summary>
    public static bool ChartsAvailable => Files.ContainsKey("vendor/uPlot.iife.min.js") && Files.ContainsKey("vendor/echarts.min.js");

    /// <summary>Keys of every embedded file (paths below <c>/static/</c>).</summary>
    public static IEnumerable<string> Names => Files.Keys;

    private static FrozenDictionary<string, Asset> Load()
    {
        var asm = Assembly.GetExecutingAssembly();
        var d = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in asm.GetManifestResourceNames().Where(n => n.StartsWith("static/", StringComparison.Ordinal)))
        {
            using var s = asm.GetManifestResourceStream(name)!;
            using var m = new MemoryStream();
            s.CopyTo(m);
            var bytes = m.ToArray();
            d[name["static/".Length..]] = new Asset(bytes, TypeOf(name), "\"" + Convert.ToHexString(SHA256.HashData(bytes))[..16] + "\"");
        }
        return d.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string TypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".json" => "application/json",
        _ => "text/plain; charset=utf-8",
    };

    /// <summary>Maps <c>/</c> (the UI) and <c>/static/{name}</c>.</summary>
    public static void Map(IEndpointRouteBuilder e)
    {
        e.MapGet("/", (HttpContext c) => Serve(c, "index.html"));
        e.MapGet("/static/{**name}", (HttpContext c, string name) => Serve(c, name));
    }

    private static IResult Serve(HttpContext c, string name)
    {
        if (!Files.TryGetValue(name, out var a)) return ErrorHandling.Json(StatusCodes.Status404NotFound, $"no static file '{name}'");
        c.Response.Headers.ETag = a.ETag;
        c.Response.Headers.CacheControl = "no-cache";
        if (c.Request.Headers.IfNoneMatch == a.ETag) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(a.Bytes, a.ContentType);
    }
}
