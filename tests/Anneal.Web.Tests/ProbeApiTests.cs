using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Anneal.Cli.Commands;
using Anneal.Curves;
using Anneal.Design;
using Anneal.Fitting;
using Anneal.Web.Api;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Anneal.Web.Tests;

/// <summary>
/// <c>/api/probe</c>, the calibration design of <c>anneal probe</c> on the dashboard: its document must be the library's
/// (<see cref="ProbePlanner.Plan"/> called here on the same request, written by <see cref="ProbeJson"/>), and bad input a
/// 400 naming the field before any work. The request is small (two targets of 2,400 steps, a few seconds): gpt-perldoc's
/// seed-1 constant run as the constant-rate log, which enters the laws' regime at step 1999 (docs/journal/session-19-regime.md).
/// </summary>
public sealed class ProbeApiTests(SeededServer server) : IClassFixture<SeededServer>
{
    private readonly HttpClient _http = server.Client;

    private static readonly string Corpus = Path.Combine(ApiTests.RepoRoot(), "data/corpora/gpt-perldoc");

    internal static readonly string[] Targets = ["cosine(peak=3e-3, total=2400, warmup=60)", "wsd(peak=3e-3, total=2400, warmup=60, decay=0.2)"];

    /// <summary>Posts a probe and polls its job to the end; returns the final status and body, and how many 202 polls it took.</summary>
    internal static async Task<(HttpStatusCode Status, string Body, int Polls, List<string> Progress)> Probe(HttpClient http, object body)
    {
        var r = await http.PostAsJsonAsync("/api/probe", body);
        var text = await r.Content.ReadAsStringAsync();
        if (r.StatusCode != HttpStatusCode.Accepted) return (r.StatusCode, text, 0, []);
        var start = JsonNode.Parse(text)!;
        start["status"]!.GetValue<string>().ShouldBe("computing");
        string poll = start["poll"]!.GetValue<string>();
        poll.ShouldBe($"/api/probe/{start["job"]!.GetValue<string>()}");
        var progress = new List<string>();
        for (int polls = 0; ; polls++)
        {
            var g = await http.GetAsync(poll);
            var t = await g.Content.ReadAsStringAsync();
            if (g.StatusCode != HttpStatusCode.Accepted) return (g.StatusCode, t, polls, progress);
            progress.Add(JsonNode.Parse(t)!["progress"]!.GetValue<string>());
            polls.ShouldBeLessThan(2000, "the probe did not finish in about 10 minutes");
            await Task.Delay(300);
        }
    }

    private Task<long> Seeded(string name) => RegimeApiTests.Seeded(_http, name);

    /// <summary>The document without its wall times, which differ between any two runs.</summary>
    internal static JsonNode Timeless(string json)
    {
        var n = JsonNode.Parse(json)!;
        n["settings"]!.AsObject().Remove("seconds");
        n["settings"]!.AsObject().Remove("simulation_seconds");
        return n;
    }

    [Fact]
    public async Task Probe_answers_the_librarys_result_for_the_same_request()
    {
        long log = await Seeded("constant_s1");
        var (status, body, _, progress) = await Probe(_http, new { budget = 4800, targets = Targets, seeds = 2, constant_log = log });
        status.ShouldBe(HttpStatusCode.OK, body);

        // Independent of the server: the library on the same request, built as anneal probe builds it from its options
        // (the default reference mpl-400m, the constant log read as a fit reads it, its validation loss).
        var curve = CurveReader.Read(Path.Combine(Corpus, "constant_s1.csv")) with { ScheduleSpec = "constant(peak=3e-3, warmup=60)" };
        var request = new ProbeRequest(4800, Targets)
        {
            Seeds = 2,
            References = [ProbeReference.Of(ServeRunner.Examples().Single(c => c.Name == "mpl-400m"))],
            ConstantLog = RegimeService.Read(curve, "val"),
        };
        var lib = ProbePlanner.Plan(request);
        var expected = ProbeJson.Write(lib, 0).ToJsonString();
        JsonNode.DeepEquals(Timeless(body), Timeless(expected)).ShouldBeTrue($"API:\n{body}\nlibrary:\n{expected}");

        // What the document says, against its sources: the format of anneal probe --json; the regime stage's onset is the
        // journal's step 1999 and its message the regime service's sentence for the shortest design's horizon.
        var d = JsonNode.Parse(body)!;
        d["format"]!.GetValue<string>().ShouldBe("anneal-probe/1");
        d["regime"]!["step"]!.GetValue<long>().ShouldBe(1999);
        d["regime"]!["shortest_run"]!.GetValue<long>().ShouldBe(2000);
        var judged = RegimeService.Judge(RegimeService.Read(curve, "val"), d["regime"]!["horizon"]!.GetValue<long>());
        d["regime"]!["message"]!.GetValue<string>().ShouldBe(judged.Message);
        // designs whose runs end before the onset were left out, as the note says
        d["designs"]!.AsArray().ShouldAllBe(x => x!["runs"]!.AsArray().Max(r => r!["horizon"]!.GetValue<long>()) >= 2000);
        d["notes"]!.AsArray().Select(n => n!.GetValue<string>()).ShouldContain(judged.Message + ": designs whose runs end before step 2000 were left out");
        d["recommended"]!["cost"]!.GetValue<long>().ShouldBeLessThanOrEqualTo(4800);
        d["recommended"]!["runs"]!.AsArray().Sum(r => r!["cost"]!.GetValue<long>()).ShouldBe(d["recommended"]!["cost"]!.GetValue<long>());
        // the planner's own progress messages reached the poller
        progress.ShouldContain(p => p.Contains("simulated fits") || p.Contains("prior laws") || p.Contains("waiting"));
    }

    [Theory]
    [InlineData("""{"targets": ["cosine(peak=3e-3, total=2400, warmup=60)"]}""", "budget: required")]
    [InlineData("""{"budget": 4800, "targets": "cosine(peak=3e-3, total=2400, warmup=60)"}""", "targets: give a list")]
    [InlineData("""{"budget": 4800, "targets": []}""", "targets: give 1 to 16 items")]
    [InlineData("""{"budget": 4800, "targets": ["constant(peak=3e-3, warmup=60)"]}""", "targets 'constant(peak=3e-3, warmup=60)': the schedule has no length; append the steps")]
    [InlineData("""{"budget": 4800, "targets": ["cosin(peak=3e-3, total=2400)"]}""", "targets: ")]
    [InlineData("""{"budget": 10, "targets": ["cosine(peak=3e-3, total=2400, warmup=60)"]}""", "budget 10 pays for no calibration design")]
    [InlineData("""{"budget": 4800, "targets": ["cosine(peak=3e-3, total=2400, warmup=60)"], "seeds": 0}""", "seeds: must be between 1 and 50")]
    [InlineData("""{"budget": 4800, "targets": ["cosine(peak=3e-3, total=2400, warmup=60)"], "margin": 0.5}""", "margin: must be between 1 and 100")]
    [InlineData("""{"budget": 4800, "targets": ["cosine(peak=3e-3, total=2400, warmup=60)"], "law": "nosuchlaw"}""", "law: ")]
    [InlineData("""{"budget": 4800, "targets": ["cosine(peak=3e-3, total=2400, warmup=60)"], "reference": ["nosuch"]}""", "reference: 'nosuch' is not an example corpus")]
    [InlineData("""{"budget": 4800, "targets": ["cosine(peak=3e-3, total=2400, warmup=60)"], "prior": ["nosuch"]}""", "prior: 'nosuch' is neither")]
    [InlineData("""{"budget": 4800, "targets": ["cosine(peak=3e-3, total=2400, warmup=60)"], "constant_log": 1, "constant_log_target": "both"}""", "constant_log_target: val")]
    [InlineData("""{"budget": 4800, "targets": ["refined(peak=1e-3, file=\"/etc/passwd\", total=2400)"]}""", "targets: specs that read a file")]
    public async Task Bad_input_is_a_400_naming_the_field_before_any_work(string body, string message)
    {
        var r = await _http.PostAsync("/api/probe", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.BadRequest, text);
        JsonNode.Parse(text)!["error"]!.GetValue<string>().ShouldStartWith(message, Case.Sensitive, text);
    }

    [Fact]
    public async Task A_regime_the_budget_cannot_reach_and_unknown_jobs_and_logs_are_refused()
    {
        // gpt-perldoc's constant log asks for runs to step 1999: a budget of 1,500 pays for none (docs/probe.md's example).
        long log = await Seeded("constant_s1");
        var (status, body, _, _) = await Probe(_http, new { budget = 1500, targets = Targets, constant_log = log });
        status.ShouldBe(HttpStatusCode.BadRequest, body);
        JsonNode.Parse(body)!["error"]!.GetValue<string>().ShouldStartWith("budget 1500 pays for no calibration design whose runs reach the laws' regime");
        (status, body, _, _) = await Probe(_http, new { budget = 4800, targets = Targets, constant_log = 987654 });
        status.ShouldBe(HttpStatusCode.NotFound, body);
        JsonNode.Parse(body)!["error"]!.GetValue<string>().ShouldBe("constant_log: no run with id 987654");
        var g = await _http.GetAsync("/api/probe/0123456789abcdef");
        g.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        JsonNode.Parse(await g.Content.ReadAsStringAsync())!["error"]!.GetValue<string>().ShouldStartWith("job: no calibration design");
    }

    /// <summary>Polls <paramref name="poll"/> until its progress names simulated fits (the planner's loop is running); returns the message.</summary>
    internal static async Task<string> UntilSimulating(HttpClient http, string poll)
    {
        for (int polls = 0; ; polls++)
        {
            var g = await http.GetAsync(poll);
            var t = await g.Content.ReadAsStringAsync();
            g.StatusCode.ShouldBe(HttpStatusCode.Accepted, t);
            string progress = JsonNode.Parse(t)!["progress"]!.GetValue<string>();
            if (progress.Contains("simulated fits")) return progress;
            polls.ShouldBeLessThan(1000, "the planner did not start simulating in about 5 minutes");
            await Task.Delay(300);
        }
    }

    /// <summary>Until the server's one heavy slot is free again (the job's work has ended), at most <paramref name="seconds"/>.</summary>
    internal static async Task<double> UntilHeavyFree(Dashboard d, double seconds)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (d.Heavy.CurrentCount == 0)
        {
            sw.Elapsed.TotalSeconds.ShouldBeLessThan(seconds, "the job still holds the server's heavy slot");
            await Task.Delay(100);
        }
        return sw.Elapsed.TotalSeconds;
    }

    [Fact]
    public async Task Cancelling_a_probe_stops_its_planner_and_frees_the_server()
    {
        var d = server.Factory.Services.GetRequiredService<Dashboard>();
        // three seeds: the plan would run for tens of seconds past the moment it is cancelled
        var r = await _http.PostAsJsonAsync("/api/probe", new { budget = 4800, targets = Targets, seeds = 3 });
        var start = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
        r.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        string job = start["job"]!.GetValue<string>();
        string progress = await UntilSimulating(_http, $"/api/probe/{job}");
        progress.ShouldStartWith("screening: "); // cancelled inside the screening, long before the finalists
        d.Heavy.CurrentCount.ShouldBe(0);

        var del = await _http.DeleteAsync($"/api/probe/{job}");
        var text = await del.Content.ReadAsStringAsync();
        del.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        var x = JsonNode.Parse(text)!;
        x["job"]!.GetValue<string>().ShouldBe(job);
        // "cancelled": the DELETE answered after the job's work ended, its token having stopped the planner's loop
        x["status"]!.GetValue<string>().ShouldBe("cancelled", text);
        x["seconds"]!.GetValue<double>().ShouldBeLessThan(ProbeApi.StopWait.TotalSeconds);
        // the work ended: the heavy slot is free and no job waits or runs
        d.Heavy.CurrentCount.ShouldBe(1);
        d.Probes.Pending.ShouldBe(0);
        // the job is forgotten
        (await _http.GetAsync($"/api/probe/{job}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var again = await _http.DeleteAsync($"/api/probe/{job}");
        again.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        JsonNode.Parse(await again.Content.ReadAsStringAsync())!["error"]!.GetValue<string>().ShouldStartWith("job: no calibration design");
    }

    [Fact]
    public async Task A_job_nobody_polls_stops_and_a_finished_one_nobody_reads_is_dropped()
    {
        // A server whose jobs live 6 s without a poll (ServerOptions.UnpolledJob; two minutes by default). Not less: while
        // the planner holds both cores a poll can wait seconds for a thread (3 s was missed once on a quiet CI machine).
        using var factory = new ServerFactory { Options = new() { Examples = ServeRunner.Examples, UnpolledJob = TimeSpan.FromSeconds(6) } };
        using var http = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        http.Timeout = TimeSpan.FromMinutes(10);
        var d = factory.Services.GetRequiredService<Dashboard>();
        d.Probes.Unpolled.ShouldBe(TimeSpan.FromSeconds(6));

        // Started (fifty seeds: about 25 s of work on a quiet machine, so it outlives the 6 s; ten seeds were 25 s once, 6.5 s
        // since the planner got faster, and the job then ended within 6 s of its last poll), polled until it simulates, then
        // left: 6 s later its token stops the planner and frees the heavy slot.
        var r = await http.PostAsJsonAsync("/api/probe", new { budget = 4800, targets = Targets, seeds = 50 });
        r.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        string job = JsonNode.Parse(await r.Content.ReadAsStringAsync())!["job"]!.GetValue<string>();
        await UntilSimulating(http, $"/api/probe/{job}");
        await UntilHeavyFree(d, 6 + ProbeApi.StopWait.TotalSeconds);
        // stopped, not finished: a finished job polled within 6 s of its end would answer 200 with its document
        var g = await http.GetAsync($"/api/probe/{job}");
        g.StatusCode.ShouldBe(HttpStatusCode.NotFound, await g.Content.ReadAsStringAsync());
        JsonNode.Parse(await g.Content.ReadAsStringAsync())!["error"]!.GetValue<string>().ShouldContain("went 6 s without a poll");
        d.Probes.Count.ShouldBe(0);

        // A short plan (a published prior, one target, one seed) polled to its end stays readable while polled, then is
        // dropped 6 s after its last poll.
        var (status, body, _, _) = await Probe(http, new { budget = 2400, targets = Targets[..1], seeds = 1, prior = new[] { "mpl-400m" } });
        status.ShouldBe(HttpStatusCode.OK, body);
        d.Probes.Count.ShouldBe(1);
        await Task.Delay(TimeSpan.FromSeconds(7));
        d.Probes.Pending.ShouldBe(0);
        var late = JsonNode.Parse(body)!; // the document was read; the job behind it is gone
        late["format"]!.GetValue<string>().ShouldBe("anneal-probe/1");
        d.Probes.Count.ShouldBe(1); // dropped lazily, by the next request to the job store
        (await http.GetAsync("/api/probe/0123456789abcdef")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        d.Probes.Count.ShouldBe(0);
    }
}
