using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Anneal.Design;
using Anneal.Schedules;

namespace Anneal.Web.Tests;

/// <summary>The designer's export (<c>/api/export</c>): the library's ScheduleExport, as <c>anneal export</c> writes it, offered as a download.</summary>
public sealed class ExportApiTests : IDisposable
{
    private readonly ServerFactory _factory = new() { Options = new ServerOptions() };
    private readonly HttpClient _http;

    public ExportApiTests() { _http = _factory.CreateClient(); }

    public void Dispose() => _factory.Dispose();

    private const string Wsd = "wsd(peak=1e-3, total=1000, warmup=100, decay=0.2, shape=linear)";

    private static string Download(string spec, long steps, string format) =>
        $"/api/export?schedule={Uri.EscapeDataString(spec)}&steps={steps}&format={format}";

    [Fact]
    public async Task The_pytorch_download_holds_the_multipliers_of_the_schedule()
    {
        var r = await _http.GetAsync(Download(Wsd, 1000, "pytorch"));
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        r.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        r.Content.Headers.ContentDisposition.FileName!.Trim('"').ShouldBe("schedule.json");
        var j = JsonNode.Parse(text)!;
        j["format"]!.GetValue<string>().ShouldBe(ScheduleExport.MultipliersFormat);
        j["peak_lr"]!.GetValue<double>().ShouldBe(1e-3);
        var m = j["multipliers"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        m.Length.ShouldBe(1000);
        // Closed form of WSD with a linear cooldown to 0: 1 on the stable steps 100..799, 1 - (t - 800) / 200 in the cooldown.
        for (int t = 100; t < 800; t++) m[t].ShouldBe(1.0);
        foreach (int t in new[] { 800, 850, 900, 999 }) m[t].ShouldBe(1 - (t - 800) / 200.0, 1e-12);
        for (int t = 0; t < 100; t++) m[t].ShouldBeInRange(0.0, 1.0);
        // The same text as the library's export (what `anneal export --format pytorch` writes).
        text.TrimEnd().ShouldBe(ScheduleExport.Export(new ExportRequest(1000, ExportFormat.Pytorch) { Schedule = Schedule.Parse(Wsd) }).Text.TrimEnd());
    }

    [Fact]
    public async Task Posting_an_export_answers_the_pytorch_snippet_and_the_address_of_its_file()
    {
        var r = await _http.PostAsJsonAsync("/api/export", new { schedule = Wsd, steps = 1000, format = "pytorch" });
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        var d = JsonNode.Parse(text)!;
        d["file"]!.GetValue<string>().ShouldBe("schedule.json");
        d["snippet"]!.GetValue<string>().ShouldBe(ScheduleExport.PytorchSnippet("schedule.json", 1e-3));
        var file = await _http.GetStringAsync(d["download"]!.GetValue<string>());
        JsonNode.Parse(file)!["multipliers"]!.AsArray().Count.ShouldBe(1000);
    }

    [Fact]
    public async Task The_csv_download_has_a_row_per_step()
    {
        var text = await _http.GetStringAsync(Download(Wsd, 1000, "csv"));
        var lines = text.TrimEnd().Split('\n');
        lines[0].ShouldBe("step,lr");
        lines.Length.ShouldBe(1001);
        double.Parse(lines[901].Split(',')[1], CultureInfo.InvariantCulture).ShouldBe(0.5e-3, 1e-15); // step 900: halfway down the cooldown
    }

    [Fact]
    public async Task The_hf_export_names_the_hf_scheduler_and_a_schedule_hf_cannot_express_is_refused_before_any_byte()
    {
        var d = JsonNode.Parse(await (await _http.PostAsJsonAsync("/api/export", new { schedule = Wsd, steps = 1000, format = "hf" })).Content.ReadAsStringAsync())!;
        d["hf"]!.ToJsonString().ShouldBe(HfExport.Exact(Schedule.Parse(Wsd), 1000).ToJson().ToJsonString());
        d["file"]!.GetValue<string>().ShouldBe("hf_scheduler.json");
        // HF stretches the decay over max_steps: a total of 1000 exported over 600 steps has no HF equivalent.
        var r = await _http.GetAsync(Download(Wsd, 600, "hf"));
        r.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        r.Content.Headers.ContentDisposition.ShouldBeNull();
        JsonNode.Parse(await r.Content.ReadAsStringAsync())!["error"]!.GetValue<string>().ShouldContain("not exactly expressible as an HF scheduler");
    }

    [Theory]
    [InlineData("format=onnx", "format:")]
    [InlineData("steps=0", "steps:")]
    [InlineData("steps=abc", "steps:")]
    [InlineData("steps=20000000", "steps:")] // past the dashboard's longest horizon (10M)
    public async Task Bad_export_queries_are_refused_naming_the_field(string bad, string field)
    {
        var q = $"/api/export?schedule={Uri.EscapeDataString(Wsd)}&{bad}";
        var r = await _http.GetAsync(q);
        r.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        JsonNode.Parse(await r.Content.ReadAsStringAsync())!["error"]!.GetValue<string>().ShouldStartWith(field);
    }
}
