using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Anneal.Design;
using Anneal.Laws;
using Anneal.Schedules;
using Anneal.Store;

namespace Anneal.Web.Tests;

/// <summary>
/// Saving from the dashboard (the Forecast page's law, the Designer's schedule) and reading saved results back, on the
/// test server over an unseeded store: what is saved is what <c>anneal fit|optimize --store</c> saves (the library's
/// <see cref="Provenance"/>), with the runs it came from and the Anneal version.
/// </summary>
public sealed class ProvenanceApiTests : IDisposable
{
    // no examples: the store holds only what a test puts there
    private readonly ServerFactory _factory = new() { Options = new() };
    private readonly HttpClient _http;

    public ProvenanceApiTests() => _http = _factory.CreateClient();

    public void Dispose() => _factory.Dispose();

    private async Task<JsonObject> Send(HttpMethod method, string path, object? body, HttpStatusCode expect)
    {
        using var req = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        var r = await _http.SendAsync(req);
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(expect, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    private static readonly FittedLaw Published400M = FittedLaw.FromValues(new MultiPowerLaw(WarmupConvention.Paper), MplParameters.Published400M.ToArray());

    /// <summary>Two runs made by the published 400M law, stored as an upload stores them; their ids.</summary>
    private long[] StoreLawRuns()
    {
        var cos = Schedule.Parse("cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)");
        var con = Schedule.Parse("constant(peak=3e-4, warmup=2160)");
        return [.. new[] { (cos, "law-cosine"), (con, "law-constant") }.Select(x => _factory.Store.ImportCurve(
            Anneal.Curves.CurveArgument.Attach(Anneal.Curves.CurveReader.Parse(System.Text.Encoding.UTF8.GetBytes(ApiTests.LawCsv(Published400M, x.Item1, 24000)), "run.csv"), x.Item1),
            new NewRun { Name = x.Item2 }))];
    }

    [Fact]
    public async Task The_Designer_of_a_two_seed_fit_predicts_the_seed_ensembles_final_loss_and_draws_its_curve()
    {
        // Two seeds' cosine and constant runs (seed 2's law 3 % higher in L0): the Forecast page fits a seed ensemble. Its
        // designer's final loss is the geometric mean of the two groups' MplFinalLoss (from the groups' parameters the
        // forecast reports: the objective's definition, computed here), and its curve ends there.
        var second = FittedLaw.FromValues(new MultiPowerLaw(WarmupConvention.Paper), MplParameters.Published400M.ToArray().Select((x, i) => i == 0 ? 1.03 * x : x).ToArray());
        var cos = Schedule.Parse("cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)");
        var con = Schedule.Parse("constant(peak=3e-4, warmup=2160)");
        long[] ids = [.. new[] { (Published400M, cos, "cosine_s1"), (Published400M, con, "constant_s1"), (second, cos, "cosine_s2"), (second, con, "constant_s2") }.Select(x => _factory.Store.ImportCurve(
            Anneal.Curves.CurveArgument.Attach(Anneal.Curves.CurveReader.Parse(System.Text.Encoding.UTF8.GetBytes(ApiTests.LawCsv(x.Item1, x.Item2, 24000)), "run.csv"), x.Item2),
            new NewRun { Name = x.Item3 }))];
        var fit = await Send(HttpMethod.Post, "/api/forecast", new { runs = ids, law = "mpl", schedule = "wsd(peak=3e-4, total=36000, warmup=2160, decay=0.2, shape=sqrt)" }, HttpStatusCode.OK);
        var groups = fit["seed_groups"]!.AsArray().Select(g => MplParameters.FromVector(g!["parameters"]!.AsArray().Select(p => p!["value"]!.GetValue<double>()).ToArray())).ToArray();
        groups.Length.ShouldBe(2);
        var design = await Send(HttpMethod.Post, "/api/design", new { law = fit["fit_id"]!.GetValue<string>(), peak = 3e-4, total = 30000, warmup = 2160, cooldown = 0.2, shape = "sqrt" }, HttpStatusCode.OK);
        var post = MplFinalLoss.PostWarmup(Schedule.Parse(design["spec"]!.GetValue<string>()), 30000, 2160);
        double expected = Math.Sqrt(groups.Select(g => new DesignProblem(g, 30000, 2160, 3e-4).Objective().Value(post)).Aggregate(1.0, (a, b) => a * b));
        double final = design["final_loss"]!.GetValue<double>();
        final.ShouldBe(expected, 1e-12 * expected);
        Math.Abs(final / groups.Select(g => new DesignProblem(g, 30000, 2160, 3e-4).Objective().Value(post)).First() - 1).ShouldBeGreaterThan(0.003);   // not the first group's
        Math.Abs(design["loss"]!.AsArray()[^1]!.GetValue<double>() / final - 1).ShouldBeLessThan(1e-5);
        design["law"]!.GetValue<string>().ShouldContain("seed ensemble of 2 groups");
        // the free optimum minimises the same geometric mean: no family or reference beats it, and its curve ends at its loss
        var optimum = await Send(HttpMethod.Post, "/api/design/optimum", new { law = fit["fit_id"]!.GetValue<string>(), peak = 3e-4, total = 30000, warmup = 2160 }, HttpStatusCode.OK);
        double free = optimum["free"]!["final_loss"]!.GetValue<double>();
        foreach (var c in optimum["candidates"]!.AsArray()) c!["final_loss"]!.GetValue<double>().ShouldBeGreaterThanOrEqualTo(free * (1 - 1e-9), c["label"]!.GetValue<string>());
        Math.Abs(optimum["free"]!["loss"]!.AsArray()[^1]!.GetValue<double>() / free - 1).ShouldBeLessThan(1e-5);
    }

    [Fact]
    public async Task The_forecast_pages_fit_and_prediction_are_those_of_anneal_fit_and_anneal_predict_on_the_same_stored_runs()
    {
        // Peer: the CLI itself, in this process, on the same store: `anneal fit run:A run:B --law auto --store` (which saves
        // the law) then `anneal predict law:ID --schedule S --points 400`. The page must show the same law, the same
        // fitted values (auto's members included), the same curve and the same band, bit for bit.
        var ids = StoreLawRuns();
        var target = "wsd(peak=3e-4, total=36000, warmup=2160, decay=0.2, shape=sqrt)";
        var web = await Send(HttpMethod.Post, "/api/forecast", new { runs = ids, schedule = target }, HttpStatusCode.OK);
        string where = _factory.Store.Location;
        static (int Code, string Out, string Err) Cli(params string[] args)
        {
            var o = new StringWriter(); var e = new StringWriter();
            return (Anneal.Cli.AnnealCli.Run(args, o, e), o.ToString(), e.ToString());
        }
        var (fitCode, fitOut, fitErr) = Cli("fit", $"run:{ids[0]}", $"run:{ids[1]}", "--law", "auto", "--json", "--store", where);
        fitCode.ShouldBe(0, fitErr);
        var cliLaw = LawFile.Read(fitOut, "anneal fit --json");
        web["law"]!.GetValue<string>().ShouldBe(cliLaw.Law.Spec);
        cliLaw.Law.ShouldBeOfType<AutoLaw>();
        web["parameters"]!.AsArray().Select(p => p!["value"]!.GetValue<double>()).ToArray().ShouldBe(cliLaw.Values);
        web["parameters"]!.AsArray().Select(p => p!["std_error"]!.GetValue<double>()).ToArray().ShouldBe(cliLaw.StdErrors);
        web["members"]!.AsArray().Select(m => m!["weight"]!.GetValue<double>()).ToArray()
            .ShouldBe(((AutoLaw)cliLaw.Law).Members.Select(m => m.Weight).ToArray());
        long lawId = long.Parse(System.Text.RegularExpressions.Regex.Match(fitErr, @"law:(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        var (code, predOut, predErr) = Cli("predict", $"law:{lawId}", "--schedule", target, "--points", "400", "--json", "--store", where);
        code.ShouldBe(0, predErr);
        var cli = JsonNode.Parse(predOut)!;
        var p = web["prediction"]!;
        p["band_unavailable"].ShouldBeNull(); // a band to compare
        p["final_loss"]!.GetValue<double>().ShouldBe(cli["final_loss"]!.GetValue<double>());
        p["final_low"]!.GetValue<double>().ShouldBe(cli["final_loss_low"]!.GetValue<double>());
        p["final_high"]!.GetValue<double>().ShouldBe(cli["final_loss_high"]!.GetValue<double>());
        foreach (var (mine, theirs) in new[] { ("step", "step"), ("loss", "loss"), ("low", "low"), ("high", "high") })
            p[mine]!.AsArray().Select(v => v!.GetValue<double>()).ToArray().ShouldBe(cli["curve"]![theirs]!.AsArray().Select(v => v!.GetValue<double>()).ToArray(), mine);
    }

    [Fact]
    public async Task A_forecast_pages_fit_is_saved_with_its_runs_and_version_and_opens_again_without_a_refit()
    {
        var ids = StoreLawRuns();
        var target = "wsd(peak=3e-4, total=36000, warmup=2160, decay=0.2, shape=sqrt)";
        var fit = await Send(HttpMethod.Post, "/api/forecast", new { runs = ids, law = "mpl", schedule = target }, HttpStatusCode.OK);
        string fitId = fit["fit_id"]!.GetValue<string>();

        var saved = await Send(HttpMethod.Post, "/api/laws", new { fit_id = fitId }, HttpStatusCode.Created);
        long lawId = saved["id"]!.GetValue<long>();
        saved["saved"]!.GetValue<bool>().ShouldBeTrue();
        // saving the same fit again finds it
        (await Send(HttpMethod.Post, "/api/laws", new { fit_id = fitId }, HttpStatusCode.OK))["id"]!.GetValue<long>().ShouldBe(lawId);

        // the store holds it as the CLI's --store does: its law file, its runs by id and name, this build's version
        var info = _factory.Store.GetArtifact(lawId)!;
        info.Kind.ShouldBe(ArtifactKind.Law);
        info.Runs.Select(r => (r.RunId, r.RunName)).ShouldBe([(ids[0], "law-cosine"), (ids[1], "law-constant")]);
        info.AnnealVersion.ShouldBe(RunStore.AnnealVersion);
        var stored = LawFile.Read(info.BodyJson, "stored");
        stored.Values.ShouldBe(fit["parameters"]!.AsArray().Select(p => p!["value"]!.GetValue<double>()).ToArray());

        var list = await Send(HttpMethod.Get, "/api/artifacts?kind=law", null, HttpStatusCode.OK);
        var row = list["artifacts"]!.AsArray().Single()!;
        row["id"]!.GetValue<long>().ShouldBe(lawId);
        row["designable"]!.GetValue<bool>().ShouldBeTrue();
        row["runs"]!.AsArray().Select(r => r!["id"]!.GetValue<long>()).ShouldBe(ids);

        // opened again: the same predicted final loss, no refit (its report is the stored fit's), its runs' residuals
        var opened = await Send(HttpMethod.Post, "/api/forecast", new { law_id = lawId, schedule = target }, HttpStatusCode.OK);
        opened["fit_id"]!.GetValue<string>().ShouldBe($"law:{lawId}");
        opened["saved_law"]!["id"]!.GetValue<long>().ShouldBe(lawId);
        opened["prediction"]!["final_loss"]!.GetValue<double>().ShouldBe(fit["prediction"]!["final_loss"]!.GetValue<double>());
        opened["runs"]!.AsArray().Select(r => r!["id"]!.GetValue<long>()).ShouldBe(ids);
        // peer: the generating law's final loss of the target (the fit recovered it, so the stored law does)
        double truth = Published400M.Predict(Schedule.Parse(target).Sample(36000), [35999]).Loss[0];
        Math.Abs(opened["prediction"]!["final_loss"]!.GetValue<double>() / truth - 1).ShouldBeLessThan(2e-3);
    }

    [Fact]
    public async Task The_designer_of_an_auto_fit_shows_the_stacks_forecast_and_band_as_the_forecast_page_does()
    {
        // Peer: the Forecast page's prediction of the same schedule (the laws layer's FittedLaw.Predict of the auto stack, equal
        // to `anneal predict`'s in the test above): the designer's final loss and band are the stack's, not the member's it
        // designs through (docs/design.md, "With an auto law"), and its curve ends at that final loss.
        var ids = StoreLawRuns();
        var target = "wsd(peak=3e-4, total=36000, warmup=2160, decay=0.2, shape=sqrt)";
        var web = await Send(HttpMethod.Post, "/api/forecast", new { runs = ids, schedule = target }, HttpStatusCode.OK);
        var p = web["prediction"]!;
        p["band_unavailable"].ShouldBeNull();
        var design = await Send(HttpMethod.Post, "/api/design", new { law = web["fit_id"]!.GetValue<string>(), peak = 3e-4, total = 36000, warmup = 2160, cooldown = 0.2, shape = "sqrt" }, HttpStatusCode.OK);
        design["spec"]!.GetValue<string>().ShouldBe(Schedule.Parse(target).Spec);
        double final = design["final_loss"]!.GetValue<double>();
        final.ShouldBe(p["final_loss"]!.GetValue<double>(), 1e-9 * final);
        design["band"]!["low"]!.GetValue<double>().ShouldBe(p["final_low"]!.GetValue<double>(), 1e-9 * final);
        design["band"]!["high"]!.GetValue<double>().ShouldBe(p["final_high"]!.GetValue<double>(), 1e-9 * final);
        design["loss"]!.AsArray()[^1]!.GetValue<double>().ShouldBe(final, 1e-9 * final);
        // the optimum panel's losses are the same forecast: its cosine to 10 % is the stack's forecast of that spec
        var optimum = await Send(HttpMethod.Post, "/api/design/optimum", new { law = web["fit_id"]!.GetValue<string>(), peak = 3e-4, total = 36000, warmup = 2160 }, HttpStatusCode.OK);
        var cos = optimum["candidates"]!.AsArray().Single(c => c!["label"]!.GetValue<string>() == "cosine to 10%")!;
        var cosForecast = await Send(HttpMethod.Post, "/api/forecast", new { runs = ids, schedule = cos["spec"]!.GetValue<string>() }, HttpStatusCode.OK);
        cos["final_loss"]!.GetValue<double>().ShouldBe(cosForecast["prediction"]!["final_loss"]!.GetValue<double>(), 1e-9 * final);
    }

    [Fact]
    public async Task The_designer_of_an_auto_fit_forecasts_each_slider_position_once()
    {
        // Session 24 (docs/journal/session-24-newuser.md): an auto stack's designer update forecasts the whole schedule (final
        // loss and band, then the curve); before, a slider dragged back over positions already shown forecast each again
        // (no memo on this path). Now each position (its WSD spec) is forecast once, and the kept answer is the same forecast.
        var ids = StoreLawRuns();
        var web = await Send(HttpMethod.Post, "/api/forecast", new { runs = ids, schedule = "cosine(peak=3e-4, total=36000, warmup=2160)" }, HttpStatusCode.OK);
        string fit = web["fit_id"]!.GetValue<string>();
        var dashboard = _factory.Services.GetService(typeof(Dashboard)).ShouldBeOfType<Dashboard>();
        int before = dashboard.DesignForecasts;
        var first = await Send(HttpMethod.Post, "/api/design", new { law = fit, peak = 3e-4, total = 36000, warmup = 2160, cooldown = 0.2, shape = "sqrt" }, HttpStatusCode.OK);
        (dashboard.DesignForecasts - before).ShouldBe(1);
        foreach (var c in new[] { 0.21, 0.22, 0.21, 0.2 })
            await Send(HttpMethod.Post, "/api/design", new { law = fit, peak = 3e-4, total = 36000, warmup = 2160, cooldown = c, shape = "sqrt" }, HttpStatusCode.OK);
        (dashboard.DesignForecasts - before).ShouldBe(3);   // 0.2, 0.21, 0.22; the drag back is answered from the kept ones
        var again = await Send(HttpMethod.Post, "/api/design", new { law = fit, peak = 3e-4, total = 36000, warmup = 2160, cooldown = 0.2, shape = "sqrt" }, HttpStatusCode.OK);
        again.ToJsonString().ShouldBe(first.ToJsonString());
        // Peer: the Forecast page's prediction of the same spec (the laws layer's FittedLaw.Predict), as the test above.
        var p = (await Send(HttpMethod.Post, "/api/forecast", new { runs = ids, schedule = again["spec"]!.GetValue<string>() }, HttpStatusCode.OK))["prediction"]!;
        double final = again["final_loss"]!.GetValue<double>();
        final.ShouldBe(p["final_loss"]!.GetValue<double>(), 1e-9 * final);
        // A published law's update stays on its exact memo (CurveMemo), not kept whole.
        int published = dashboard.DesignForecasts;
        await Send(HttpMethod.Post, "/api/design", new { law = "mpl-400m", peak = 3e-4, total = 24000, warmup = 2160, cooldown = 0.2, shape = "sqrt" }, HttpStatusCode.OK);
        dashboard.DesignForecasts.ShouldBe(published);
    }

    [Fact]
    public async Task The_designers_save_keeps_its_schedule_and_final_loss_linked_to_its_law()
    {
        // a published law: saved once without runs, and every design links to that one
        var move = new { law = "mpl-400m", peak = 3e-4, total = 24000, warmup = 2160, cooldown = 0.3, shape = "sqrt" };
        var shown = await Send(HttpMethod.Post, "/api/design", move, HttpStatusCode.OK);
        var saved = await Send(HttpMethod.Post, "/api/designs", move, HttpStatusCode.Created);
        var again = await Send(HttpMethod.Post, "/api/designs", move with { cooldown = 0.4 }, HttpStatusCode.Created);
        again["law_id"]!.GetValue<long>().ShouldBe(saved["law_id"]!.GetValue<long>());
        var design = _factory.Store.GetArtifact(saved["id"]!.GetValue<long>())!;
        design.Kind.ShouldBe(ArtifactKind.Design);
        design.Spec.ShouldBe(shown["spec"]!.GetValue<string>());
        design.LawId.ShouldBe(saved["law_id"]!.GetValue<long>());
        design.Runs.ShouldBeEmpty();
        var body = JsonNode.Parse(design.BodyJson)!;
        body["final_loss"]!.GetValue<double>().ShouldBe(shown["final_loss"]!.GetValue<double>());
        // peer: the design layer's final loss of the saved spec, computed directly
        var dl = Anneal.Design.DesignLaw.Resolve("mpl-400m");
        Anneal.Design.WhatIf.Evaluate(dl, Schedule.Parse(design.Spec!), null, null).Loss.ShouldBe(body["final_loss"]!.GetValue<double>(), 1e-9);
        var law = _factory.Store.GetArtifact(design.LawId!.Value)!;
        law.Name.ShouldBe("mpl-400m");
        LawFile.Read(law.BodyJson, "stored").Values.ShouldBe(BuiltinLaws.Resolve("mpl-400m")!.Values);

        // a fit of the Forecast page: the design saves the law with its runs first, and inherits them
        var ids = StoreLawRuns();
        var fit = await Send(HttpMethod.Post, "/api/forecast", new { runs = ids, law = "mpl" }, HttpStatusCode.OK);
        var fitted = await Send(HttpMethod.Post, "/api/designs", move with { law = fit["fit_id"]!.GetValue<string>() }, HttpStatusCode.Created);
        var fd = _factory.Store.GetArtifact(fitted["id"]!.GetValue<long>())!;
        fd.Runs.Select(r => r.RunId).ShouldBe(ids);
        _factory.Store.GetArtifact(fd.LawId!.Value)!.Runs.Select(r => r.RunId).ShouldBe(ids);
        // and the saved law designs by its name law:ID as the fit did
        var byName = await Send(HttpMethod.Post, "/api/design", move with { law = $"law:{fd.LawId}" }, HttpStatusCode.OK);
        byName["final_loss"]!.GetValue<double>().ShouldBe((await Send(HttpMethod.Post, "/api/design", move with { law = fit["fit_id"]!.GetValue<string>() }, HttpStatusCode.OK))["final_loss"]!.GetValue<double>());
        (await Send(HttpMethod.Get, $"/api/artifacts?run={ids[0]}", null, HttpStatusCode.OK))["artifacts"]!.AsArray().Count.ShouldBe(2); // the law and the design
    }

    [Fact]
    public async Task Bad_saves_and_lookups_are_refused_naming_the_field()
    {
        (await Send(HttpMethod.Post, "/api/laws", new { fit_id = "mpl|loss|1,2" }, HttpStatusCode.BadRequest))["error"]!.GetValue<string>().ShouldContain("Forecast page");
        (await Send(HttpMethod.Post, "/api/forecast", new { law_id = 4242 }, HttpStatusCode.BadRequest))["error"]!.GetValue<string>().ShouldContain("no stored result 4242");
        (await Send(HttpMethod.Get, "/api/artifacts/4242", null, HttpStatusCode.NotFound))["error"]!.GetValue<string>().ShouldContain("4242");
        (await Send(HttpMethod.Get, "/api/artifacts?kind=sweep", null, HttpStatusCode.BadRequest))["error"]!.GetValue<string>().ShouldContain("kind");
        (await Send(HttpMethod.Post, "/api/designs", new { law = "law:999", peak = 3e-4, total = 24000 }, HttpStatusCode.BadRequest))["error"]!.GetValue<string>().ShouldContain("law:999");
        _factory.Store.ListArtifacts().ShouldBeEmpty(); // nothing half-saved
    }
}
