using System.Text.Json;
using System.Text.Json.Nodes;
using Anneal.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Anneal.Web.Api;

/// <summary>
/// Saved results with their provenance, as <c>anneal fit|predict|optimize --store</c> saves them (the library's
/// <see cref="Provenance"/>): <c>GET /api/artifacts</c> lists laws, forecasts and designs (filtered by kind and run),
/// <c>GET /api/artifacts/{id}</c> shows one with its body, <c>POST /api/laws</c> saves a fit of the Forecast page with the
/// runs it was fitted to, <c>POST /api/designs</c> saves the designer's schedule linked to its law.
/// </summary>
internal static class ArtifactsApi
{
    public static void Map(IEndpointRouteBuilder e)
    {
        e.MapGet("/api/artifacts", (HttpContext c, Dashboard d) =>
        {
            var q = c.Request.Query;
            ArtifactKind? kind = q["kind"].ToString() switch
            {
                "" => null,
                "law" => ArtifactKind.Law,
                "forecast" => ArtifactKind.Forecast,
                "design" => ArtifactKind.Design,
                var k => throw new ApiException(400, $"kind: law, forecast or design, got '{Body.Trunc(k)}'"),
            };
            long? run = q["run"].ToString() is { Length: > 0 } r ? Body.QueryInt(c, "run", 0, 1, int.MaxValue) : null;
            var list = d.Runs.ListArtifacts(kind, run, Body.QueryInt(c, "limit", 100, 1, RunStore.MaxPageSize));
            return Body.Ok(new { artifacts = list.Select(a => Row(a, body: false)).ToArray() });
        });
        e.MapGet("/api/artifacts/{id:long}", (long id, Dashboard d) =>
        {
            var a = d.Runs.GetArtifact(id) ?? throw new ApiException(404, $"no saved result with id {id}");
            return Body.Ok(Row(a, body: true));
        });
        e.MapPost("/api/laws", async (HttpContext c, Dashboard d) =>
        {
            var o = await Body.Json(c);
            var fitId = Body.Str(o, "fit_id") ?? throw new ApiException(400, "fit_id: the fit to save (the fit_id /api/forecast answered)");
            var (id, saved) = d.LawInStore(fitId);
            return Body.Ok(new { id, saved, artifact = Row(d.Runs.GetArtifact(id)!, body: false) }, saved ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        });
        e.MapPost("/api/designs", async (HttpContext c, Dashboard d) =>
        {
            var o = await Body.Json(c);
            // The same computation as a slider move (checks included), then saved with the law it was designed under.
            var design = JsonSerializer.SerializeToNode(DesignApi.Design(d, o), ErrorHandling.JsonOptions)!.AsObject();
            var (lawId, _) = d.LawInStore(Body.Str(o, "law") ?? DesignApi.DefaultLaw);
            var body = new JsonObject
            {
                ["format"] = "anneal-designer/1",
                ["total"] = Body.Int(o, "total", null, 3, Dashboard.MaxSteps), ["warmup"] = Body.Int(o, "warmup", 0, 0, Dashboard.MaxSteps),
                ["peak"] = Body.Num(o, "peak", null, 1e-12, 1), ["cooldown"] = Body.Num(o, "cooldown", 0.2, 0, 1), ["shape"] = Body.Str(o, "shape") ?? "sqrt",
            };
            foreach (var (k, v) in design) body[k] = v?.DeepClone();
            string spec = design["spec"]!.GetValue<string>();
            long id = Provenance.SaveDesign(d.Runs, $"designer: {spec}", spec, body, lawId);
            return Body.Ok(new { id, law_id = lawId, artifact = Row(d.Runs.GetArtifact(id)!, body: false) }, StatusCodes.Status201Created);
        });
    }

    private static object Row(ArtifactInfo a, bool body)
    {
        JsonNode? parsed = JsonNode.Parse(a.BodyJson);
        // what the pages need without the body: which law a law is, and whether the designer can use it
        string? lawSpec = a.Kind == ArtifactKind.Law ? parsed?["law"]?.GetValue<string>() : null;
        return new
        {
            id = a.Id, kind = a.Kind.ToString().ToLowerInvariant(), name = a.Name, spec = a.Spec, law_id = a.LawId, law = lawSpec,
            designable = lawSpec is not null && (lawSpec.StartsWith("mpl", StringComparison.Ordinal) || lawSpec.StartsWith("auto", StringComparison.Ordinal)),
            anneal_version = a.AnnealVersion, created = a.CreatedAt,
            runs = a.Runs.Select(r => new { id = r.RunId, name = r.RunName, exists = r.Exists }).ToArray(),
            final_loss = a.Kind == ArtifactKind.Law ? null : parsed?["final_loss"]?.AsValue().TryGetValue<double>(out var f) == true ? f : (double?)null,
            body = body ? parsed : null,
        };
    }
}
