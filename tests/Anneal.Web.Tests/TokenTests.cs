using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Anneal.Web.Tests;

/// <summary>With a token, every request needs it: Bearer header, or the cookie set by opening a page with ?token=.</summary>
public sealed class TokenTests
{
    private const string Token = "0123456789abcdef-test-token";

    [Fact]
    public async Task Requests_without_the_token_are_refused_and_requests_with_it_pass()
    {
        using var f = new ServerFactory { Options = new ServerOptions { Token = Token } };
        var http = f.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        foreach (var path in new[] { "/api/runs", "/", "/static/app.js", "/api/live?run=1" })
            (await http.GetAsync(path)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized, path);
        (await http.GetAsync("/api/runs?token=wrong-token-wrong-token")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);

        var bearer = new HttpRequestMessage(HttpMethod.Get, "/api/runs?limit=1");
        bearer.Headers.Authorization = new("Bearer", Token);
        (await http.SendAsync(bearer)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var open = await http.GetAsync($"/?token={Token}&x=1");
        open.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        open.Headers.Location!.ToString().ShouldBe("/?x=1"); // the token leaves the address bar
        var cookie = open.Headers.GetValues("Set-Cookie").Single();
        cookie.ShouldContain("httponly", Case.Insensitive);
        cookie.ShouldContain("samesite=strict", Case.Insensitive);
        var withCookie = new HttpRequestMessage(HttpMethod.Get, "/api/runs?limit=1");
        withCookie.Headers.Add("Cookie", cookie.Split(';')[0]);
        (await http.SendAsync(withCookie)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("0.0.0.0", null, "--host 0.0.0.0 lets other machines connect, so it needs --token")]
    [InlineData("127.0.0.1", "short", "--token must be at least 16")]
    [InlineData("example.com", null, "--host 'example.com' is not an IP address")]
    public void Unsafe_options_are_refused_before_the_server_starts(string host, string? token, string message)
    {
        var e = Should.Throw<InputException>(() => new ServerOptions { Host = host, Token = token }.Validate());
        e.MessageNaming(p => "--" + p).ShouldStartWith(message);
        e.Parameters.ShouldContain(message.Split(' ')[0][2..]);
    }

    [Fact]
    public void The_cli_refuses_a_public_host_without_a_token_with_exit_code_2()
    {
        var err = new StringWriter();
        int code = Anneal.Cli.AnnealCli.Run(["serve", "--host", "0.0.0.0"], new StringWriter(), err);
        code.ShouldBe(2);
        err.ToString().ShouldContain("--host 0.0.0.0 lets other machines connect, so it needs --token");
    }
}
