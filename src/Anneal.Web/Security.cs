using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Anneal.Web;

/// <summary>Response headers, the loopback host check and the token check.</summary>
public static class Security
{
    /// <summary>Name of the cookie that carries the token after <c>?token=</c>.</summary>
    public const string Cookie = "anneal_token";

    /// <summary>
    /// Only the server's own scripts, styles, images and API: no inline script, no framing, no other origin. No
    /// CORS headers are ever sent, so other origins cannot read the API.
    /// </summary>
    public const string ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Adds the security headers to every response.</summary>
    public static Task Headers(HttpContext context, RequestDelegate next)
    {
        var h = context.Response.Headers;
        h.ContentSecurityPolicy = ContentSecurityPolicy;
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        h["Referrer-Policy"] = "no-referrer";
        h["Cross-Origin-Opener-Policy"] = "same-origin";
        h["Cross-Origin-Resource-Policy"] = "same-origin";
        return next(context);
    }

    /// <summary>
    /// Bound to loopback, the server answers only requests addressed to a loopback name: a web page whose domain
    /// was re-pointed at 127.0.0.1 (DNS rebinding) sends its own host name and is refused.
    /// </summary>
    public static Task LoopbackHostOnly(HttpContext context, RequestDelegate next)
    {
        var host = context.Request.Host.Host;
        if (host is "localhost" or "127.0.0.1" or "[::1]" or "::1") return next(context);
        context.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
        return context.Response.WriteAsJsonAsync(new { error = $"host '{host}' is not this server's name; open it as http://127.0.0.1:PORT/ or http://localhost:PORT/" }, ErrorHandling.JsonOptions);
    }

    /// <summary>
    /// Every request must carry the token: <c>Authorization: Bearer T</c> or the cookie. A page opened with
    /// <c>?token=T</c> sets the cookie (HttpOnly, SameSite=Strict) and is redirected to the same path without it,
    /// so the token does not stay in the address bar or the history.
    /// </summary>
    public static Func<HttpContext, RequestDelegate, Task> TokenCheck(string token)
    {
        var expected = Encoding.UTF8.GetBytes(token);
        bool Matches(string? given) => given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), expected);
        return (context, next) =>
        {
            var req = context.Request;
            if (req.Query.TryGetValue("token", out var q) && Matches(q.ToString()) && HttpMethods.IsGet(req.Method))
            {
                context.Response.Cookies.Append(Cookie, token, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", IsEssential = true });
                var rest = string.Join("&", req.Query.Where(kv => kv.Key != "token").Select(kv => $"{Uri.EscapeDataString(kv.Key)}={Uri.EscapeDataString(kv.Value.ToString())}"));
                context.Response.Redirect(req.PathBase + req.Path + (rest.Length > 0 ? "?" + rest : ""));
                return Task.CompletedTask;
            }
            var auth = req.Headers.Authorization.ToString();
            if ((auth.StartsWith("Bearer ", StringComparison.Ordinal) && Matches(auth["Bearer ".Length..].Trim())) || Matches(req.Cookies[Cookie]))
                return next(context);
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return context.Response.WriteAsJsonAsync(new { error = "this server needs its token: open the address printed by 'anneal serve' (it ends in ?token=...), or send 'Authorization: Bearer TOKEN'" }, ErrorHandling.JsonOptions);
        };
    }
}
