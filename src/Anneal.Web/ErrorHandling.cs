using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Anneal.Web;

/// <summary>An API error with its HTTP status; the message is shown to the user as it is.</summary>
public sealed class ApiException(int status, string message) : Exception(message)
{
    /// <summary>HTTP status code.</summary>
    public int Status { get; } = status;
}

/// <summary>Every failure becomes <c>{"error": "..."}</c> with a status: bad input 400, too large 413, our bug 500 (no stack trace).</summary>
public static class ErrorHandling
{
    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>A JSON error result.</summary>
    public static IResult Json(int status, string message) => Results.Json(new { error = message }, JsonOptions, statusCode: status);

    /// <summary>Catches what an endpoint throws and answers with a JSON error instead.</summary>
    public static async Task Middleware(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
            // Statuses the framework sets without a body (405 for a wrong method, 404 past the routes) get one too.
            if (context.Response.StatusCode >= 400 && !context.Response.HasStarted && context.Response.ContentType is null)
                await context.Response.WriteAsJsonAsync(new { error = context.Response.StatusCode == 405 ? "this route does not take that method (GET reads, POST sends, DELETE cancels a job)" : $"HTTP {context.Response.StatusCode}" }, JsonOptions);
        }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            var (status, message) = e switch
            {
                ApiException a => (a.Status, a.Message),
                InputException i => (StatusCodes.Status400BadRequest, i.Message),
                BadHttpRequestException b => (b.StatusCode, b.StatusCode == StatusCodes.Status413PayloadTooLarge ? "the request body is larger than the server accepts" : "bad request: " + b.Message),
                JsonException => (StatusCodes.Status400BadRequest, "the request body is not valid JSON"),
                _ => (StatusCodes.Status500InternalServerError, $"internal error ({e.GetType().Name}); this is a bug in Anneal, please report the request that caused it"),
            };
            context.Response.Clear();
            context.Response.StatusCode = status;
            await context.Response.WriteAsJsonAsync(new { error = message }, JsonOptions);
        }
    }
}
