using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Anneal.Curves;
using Anneal.Fitting;
using Anneal.Web.Api;

namespace Anneal.Web.Tests;

/// <summary>
/// How long calibration runs must be, on the dashboard's API: the forecast's regime verdict with a constant-rate log, the
/// designer's withheld band, and <c>/api/calibration</c>. The numbers are the library's (<see cref="RegimeCheck"/>,
/// <see cref="RegimeOnset"/>) on the bundled gpt-perldoc corpus, whose 600-step fits are before the regime (its seed-1
/// constant run enters it at step 1999: docs/journal/session-19-regime.md).
/// </summary>
public sealed class RegimeApiTests(SeededServer server) : IClassFixture<SeededServer>
{
    private readonly HttpClient _http = server.Client;

    private static readonly string Corpus = Path.Combine(ApiTests.RepoRoot(), "data/corpora/gpt-perldoc");

    private async Task<JsonObject> Post(string path, object body, HttpStatusCode expect = HttpStatusCode.OK)
    {
        var r = await _http.PostAsJsonAsync(path, body);
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(expect, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>The seeded run of gpt-perldoc named <paramref name="name"/>.</summary>
    private Task<long> Seeded(string name) => Seeded(_http, name);

    /// <summary>The id of the seeded run of gpt-perldoc named <paramref name="name"/> on the server <paramref name="http"/> talks to.</summary>
    internal static async Task<long> Seeded(HttpClient http, string name)
    {
        var j = JsonNode.Parse(await http.GetStringAsync($"/api/runs?tag=engine-gpt-perldoc&q={name}"))!;
        return j["runs"]!.AsArray().Single(r => r!["name"]!.GetValue<string>() == name)!["id"]!.GetValue<long>();
    }

    /// <summary>The protocol's schedules fit: the seed-1 constant run cut at 600 steps (uploaded) and the seeded 600-step cosine.</summary>
    private async Task<(long Cut, long Cosine)> FitRuns()
    {
        var lines = File.ReadAllLines(Path.Combine(Corpus, "constant_s1.csv"));
        var cut = string.Join("\n", lines.Where((l, i) => i == 0 || long.Parse(l.Split(',')[0], CultureInfo.InvariantCulture) < 600)) + "\n";
        var q = "/api/runs?file=constant_s1_to600.csv&name=perldoc-constant-to-600&tags=test&schedule=" + Uri.EscapeDataString("constant(peak=3e-3, warmup=60)");
        var r = await _http.PostAsync(q, new StringContent(cut, Encoding.UTF8, "text/csv"));
        r.StatusCode.ShouldBe(HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        long id = JsonNode.Parse(await r.Content.ReadAsStringAsync())!["id"]!.GetValue<long>();
        return (id, await Seeded("cosine_T600_s1"));
    }

    /// <summary>A curve of the corpus with its schedule attached, as the store holds it.</summary>
    private static LossCurve Curve(string file, string schedule, long before = long.MaxValue)
    {
        var c = CurveReader.Read(Path.Combine(Corpus, file));
        int n = c.Steps.Count(s => s < before);
        return c with { ScheduleSpec = schedule, Steps = c.Steps[..n], Lr = c.Lr?[..n], Loss = c.Loss?[..n], ValLoss = c.ValLoss?[..n] };
    }

    [Fact]
    public async Task A_forecast_with_a_constant_log_gives_the_librarys_regime_verdict_and_onset_and_no_band_past_the_horizon()
    {
        var (cut, cosine) = await FitRuns();
        long log = await Seeded("constant_s1");
        var d = await Post("/api/forecast", new { runs = new[] { cut, cosine }, law = "powerlaw", target = "val", constant_log = log,
            schedule = "cosine(peak=3e-3, total=2400, warmup=60)" });

        // Independent of the server: the library's check on the fitted runs as a fit prepares them, and the onset on the log.
        var runs = FitWindow.Prepare([Curve("constant_s1.csv", "constant(peak=3e-3, warmup=60)", 600), Curve("cosine_T600_s1.csv", "cosine(peak=3e-3, total=600, warmup=60)")], "val").Runs;
        var check = RegimeCheck.Of(runs)!;
        check.Fires.ShouldBeTrue();
        var onset = RegimeOnset.Of(RegimeService.Read(Curve("constant_s1.csv", "constant(peak=3e-3, warmup=60)"), "val"), check.ToStep)!;
        onset.Step.ShouldBe(1999); // the journal's onset (session 19, bench regime-onset)

        var g = d["regime"]!;
        g["checked"]!.GetValue<bool>().ShouldBeTrue();
        g["fires"]!.GetValue<bool>().ShouldBeTrue();
        g["horizon"]!.GetValue<long>().ShouldBe(check.Horizon);
        g["band_withheld_past"]!.GetValue<long>().ShouldBe(check.Horizon);
        g["z"]!.GetValue<double>().ShouldBe(check.Z, 1e-9);
        g["message"]!.GetValue<string>().ShouldBe(check.Warning);
        g["onset"]!["step"]!.GetValue<long>().ShouldBe(onset.Step);
        g["onset"]!["alarms"]!.GetValue<int>().ShouldBe(onset.Alarms);
        g["onset"]!["message"]!.GetValue<string>().ShouldBe(onset.FitWarning(check));
        g["onset"]!["message"]!.GetValue<string>().ShouldContain("calibration runs should reach step 1999");
        // the warning anneal fit --constant-log prints is in the fit's report too
        d["report"]!["warnings"]!.AsArray().Select(w => w!.GetValue<string>()).ShouldContain(onset.FitWarning(check));
        // a forecast past the fitted horizon: no band, and the reason is the regime check's sentence
        var p = d["prediction"]!;
        p["final_low"].ShouldBeNull();
        p["band_withheld_by_regime"]!.GetValue<bool>().ShouldBeTrue();
        p["band_unavailable"]!.GetValue<string>().ShouldBe(check.BandWithheld(2399, 0.95));

        // Without the log the same fit gives the verdict but no onset; within the horizon the forecast keeps its band.
        var within = await Post("/api/forecast", new { runs = new[] { cut, cosine }, law = "powerlaw", target = "val",
            schedule = "cosine(peak=3e-3, total=600, warmup=60)" });
        within["regime"]!["fires"]!.GetValue<bool>().ShouldBeTrue();
        within["regime"]!["onset"].ShouldBeNull();
        within["prediction"]!["band_withheld_by_regime"]!.GetValue<bool>().ShouldBeFalse();
        within["prediction"]!["final_low"].ShouldNotBeNull();
    }

    [Fact]
    public async Task Calibration_gives_the_onset_of_regime_onset_from_the_planned_horizon()
    {
        long log = await Seeded("constant_s1");
        var lib = RegimeService.Judge(new RegimeRequest(Curve("constant_s1.csv", "constant(peak=3e-3, warmup=60)"), 599) { Target = "val" });
        var c = await Post("/api/calibration", new { constant_log = log, horizon = 599 });
        c["target"]!.GetValue<string>().ShouldBe("val");
        c["asks_longer"]!.GetValue<bool>().ShouldBeTrue();
        c["onset"]!["step"]!.GetValue<long>().ShouldBe(lib.Onset!.Step);
        c["onset"]!["step"]!.GetValue<long>().ShouldBe(1999);
        c["onset"]!["shortest_run"]!.GetValue<long>().ShouldBe(2000);
        c["message"]!.GetValue<string>().ShouldBe(lib.Message);
        c["message"]!.GetValue<string>().ShouldContain("calibration runs should reach step 1999");
        // From past the onset nothing longer is asked; a log whose regime check cannot be made says why.
        var late = await Post("/api/calibration", new { constant_log = log, horizon = 2499 });
        late["asks_longer"]!.GetValue<bool>().ShouldBeFalse();
        late["onset"]!["step"]!.GetValue<long>().ShouldBe(2499);
        var early = await Post("/api/calibration", new { constant_log = log, horizon = 99 });
        early["judged"]!.GetValue<bool>().ShouldBeFalse();
        early["message"]!.GetValue<string>().ShouldContain("cannot judge");
        // bad input: one message naming the field
        (await Post("/api/calibration", new { constant_log = 99999999, horizon = 599 }, HttpStatusCode.NotFound))["error"]!.GetValue<string>().ShouldContain("constant_log");
        (await Post("/api/calibration", new { constant_log = log }, HttpStatusCode.BadRequest))["error"]!.GetValue<string>().ShouldContain("horizon");
    }

    [Theory]
    [InlineData("/api/forecast")]
    [InlineData("/api/calibration")]
    [InlineData("/api/probe")]
    public async Task Every_route_reads_constant_log_alike(string route)
    {
        // One reader of the field (ConstantLog) on the three routes that take it: the same 400s and 404, before any work.
        long run = await Seeded("constant_s1");
        JsonObject With(JsonNode? log)
        {
            var body = route switch
            {
                "/api/forecast" => new JsonObject { ["runs"] = new JsonArray(run), ["law"] = "powerlaw" },
                "/api/calibration" => new JsonObject { ["horizon"] = 599 },
                _ => new JsonObject { ["budget"] = 4800, ["targets"] = new JsonArray(ProbeApiTests.Targets[0]) },
            };
            body["constant_log"] = log;
            return body;
        }
        (await Post(route, With(99999999), HttpStatusCode.NotFound))["error"]!.GetValue<string>().ShouldBe("constant_log: no run with id 99999999");
        (await Post(route, With(0), HttpStatusCode.BadRequest))["error"]!.GetValue<string>().ShouldBe($"constant_log: must be between 1 and {Body.G6(long.MaxValue)}, got 0");
        (await Post(route, With(1.5), HttpStatusCode.BadRequest))["error"]!.GetValue<string>().ShouldBe("constant_log: must be a whole number, got 1.5");
        (await Post(route, With(new JsonArray(run)), HttpStatusCode.BadRequest))["error"]!.GetValue<string>().ShouldBe("constant_log: expected a number, e.g. 3e-4");
    }

    [Fact]
    public async Task The_designer_withholds_the_band_of_a_fit_before_the_regime_past_its_horizon()
    {
        var (cut, cosine) = await FitRuns();
        var f = await Post("/api/forecast", new { runs = new[] { cut, cosine }, law = "mpl", target = "val" });
        long horizon = f["regime"]!["horizon"]!.GetValue<long>();
        var past = await Post("/api/design", new { law = f["fit_id"]!.GetValue<string>(), peak = 3e-3, total = 2400, warmup = 60, cooldown = 0.2 });
        past["band"].ShouldBeNull();
        past["band_withheld"]!.GetValue<string>().ShouldContain($"past the fitted horizon (step {horizon})");
        past["regime"]!["fires"]!.GetValue<bool>().ShouldBeTrue();
        var inside = await Post("/api/design", new { law = f["fit_id"]!.GetValue<string>(), peak = 3e-3, total = horizon + 1, warmup = 60, cooldown = 0.2 });
        inside["band_withheld"].ShouldBeNull();
    }
}
