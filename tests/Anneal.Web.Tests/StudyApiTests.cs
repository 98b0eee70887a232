using System.Net;
using System.Text.Json.Nodes;
using Anneal.Store;

namespace Anneal.Web.Tests;

/// <summary>
/// A study written into the store as <c>anneal sweep run</c>'s workers write it (the store's trial API): trials
/// complete, pruned, failed, running (with intermediate values) and waiting. The expected numbers are written out by
/// hand below, not computed by the code under test.
/// </summary>
public static class StudySeed
{
    public const string Name = "web-wsd";

    /// <summary>The study file, in the shape docs/tuning.md shows: a log-uniform, a uniform, a categorical and a log-integer parameter.</summary>
    public const string File = """
        name: web-wsd
        objective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}
        schedule: "wsd(peak={peak}, total=2000, warmup=100, decay={decay}, shape={shape})"
        space: {peak: {log_uniform: [3e-4, 1e-2]}, decay: {uniform: [0.05, 0.6]}, shape: {choice: [linear, sqrt]}, batch: {log_int: [8, 64]}}
        sampler: gp
        pruner: forecast
        """;

    /// <summary>Trial number, state, final value (complete trials; a pruned one keeps its last intermediate value), parameters.</summary>
    public static readonly (int Number, TrialState State, double? Value, string Params)[] Trials =
    [
        (0, TrialState.Complete, 3.40, """{"peak":0.001,"decay":0.2,"shape":"sqrt","batch":16}"""),
        (1, TrialState.Complete, 3.55, """{"peak":0.0004,"decay":0.1,"shape":"linear","batch":8}"""),
        (2, TrialState.Pruned, 3.90, """{"peak":0.009,"decay":0.5,"shape":"linear","batch":64}"""),
        (3, TrialState.Complete, 3.21, """{"peak":0.003,"decay":0.3,"shape":"sqrt","batch":32}"""),
        (4, TrialState.Failed, null, """{"peak":0.0095,"decay":0.55,"shape":"sqrt","batch":12}"""),
        (5, TrialState.Running, null, """{"peak":0.002,"decay":0.25,"shape":"sqrt","batch":24}"""),
        (6, TrialState.Complete, 3.30, """{"peak":0.0025,"decay":0.35,"shape":"linear","batch":40}"""),
        (7, TrialState.Waiting, null, """{"peak":0.005,"decay":0.4,"shape":"sqrt","batch":20}"""),
    ];

    /// <summary>Complete trials in number order, their values, and the best (lowest) value so far: by hand from the table above.</summary>
    public static readonly int[] HistoryNumbers = [0, 1, 3, 6];
    public static readonly double[] HistoryValues = [3.40, 3.55, 3.21, 3.30];
    public static readonly double[] HistoryBest = [3.40, 3.40, 3.21, 3.21];

    /// <summary>Intermediate values: every trial that ran reports at steps 200, 400, ...; the running one has reached step 600.</summary>
    public static (long Step, double Value)[] Reports(int number, TrialState state) => state switch
    {
        TrialState.Waiting => [],
        TrialState.Running => [(200, 4.5), (400, 4.1), (600, 3.9)],
        TrialState.Pruned => [(200, 4.8), (400, 3.90)],
        TrialState.Failed => [(200, 5.2)],
        _ => Enumerable.Range(1, 10).Select(k => (200L * k, 3.0 + 1.0 / k + number * 0.01)).ToArray(),
    };

    /// <summary>Writes the study; returns its id and the store id of the running trial.</summary>
    public static (long StudyId, long RunningTrial) Write(RunStore store)
    {
        var study = store.GetOrCreateStudy(Name, File);
        long running = 0;
        foreach (var (number, state, value, p) in Trials)
        {
            var t = store.CreateTrial(study.Id, p, state == TrialState.Waiting ? TrialState.Waiting : TrialState.Running, state == TrialState.Waiting ? null : $"worker-{number % 2}");
            t.Number.ShouldBe(number);
            foreach (var (step, v) in Reports(number, state)) store.ReportIntermediate(t.Id, step, v).ShouldBeTrue();
            if (state is TrialState.Complete or TrialState.Pruned or TrialState.Failed)
                store.FinishTrial(t.Id, state, value, state == TrialState.Failed ? "RuntimeError: loss diverged" : null).ShouldBeTrue();
            if (state == TrialState.Running) running = t.Id;
        }
        return (study.Id, running);
    }
}

/// <summary><c>/api/studies</c> on the test server (WebApplicationFactory) over a store holding <see cref="StudySeed"/>.</summary>
public sealed class StudyApiTests : IDisposable
{
    private readonly ServerFactory _factory = new() { Options = new ServerOptions() }; // no examples: only the study
    private readonly HttpClient _http;
    private readonly long _studyId, _running;

    public StudyApiTests()
    {
        (_studyId, _running) = StudySeed.Write(_factory.Store);
        _http = _factory.CreateClient();
    }

    public void Dispose() => _factory.Dispose();

    private async Task<JsonObject> Get(string path, HttpStatusCode expect = HttpStatusCode.OK)
    {
        var r = await _http.GetAsync(path);
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(expect, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    private static double[] Doubles(JsonNode? a) => a!.AsArray().Select(v => v!.GetValue<double>()).ToArray();

    [Fact]
    public async Task The_list_counts_each_studys_trials_by_state_and_names_the_best()
    {
        var list = (await Get("/api/studies"))["studies"]!.AsArray();
        list.Count.ShouldBe(1);
        var s = list[0]!;
        s["name"]!.GetValue<string>().ShouldBe(StudySeed.Name);
        s["trials"]!.GetValue<int>().ShouldBe(8);
        var c = s["counts"]!;
        (c["complete"]!.GetValue<int>(), c["pruned"]!.GetValue<int>(), c["failed"]!.GetValue<int>(), c["running"]!.GetValue<int>(), c["waiting"]!.GetValue<int>())
            .ShouldBe((4, 1, 1, 1, 1));
        s["best"]!["number"]!.GetValue<int>().ShouldBe(3);
        s["best"]!["value"]!.GetValue<double>().ShouldBe(3.21);
        (s["sampler"]!.GetValue<string>(), s["pruner"]!.GetValue<string>(), s["metric"]!.GetValue<string>()).ShouldBe(("gp", "forecast", "val_loss"));
    }

    [Fact]
    public async Task The_history_is_the_complete_trials_with_the_best_value_so_far()
    {
        var h = (await Get($"/api/studies/{_studyId}"))["history"]!;
        h["number"]!.AsArray().Select(n => n!.GetValue<int>()).ShouldBe(StudySeed.HistoryNumbers);
        Doubles(h["value"]).ShouldBe(StudySeed.HistoryValues);
        Doubles(h["best"]).ShouldBe(StudySeed.HistoryBest);
    }

    [Fact]
    public async Task The_axes_come_from_the_study_files_domains_with_log_for_log_parameters()
    {
        var space = (await Get($"/api/studies/{_studyId}"))["space"]!.AsArray();
        space.Select(p => (p!["name"]!.GetValue<string>(), p["kind"]!.GetValue<string>(), p["log"]!.GetValue<bool>()))
            .ShouldBe([("peak", "log_uniform", true), ("decay", "uniform", false), ("shape", "choice", false), ("batch", "log_int", true)]);
        (space[0]!["low"]!.GetValue<double>(), space[0]!["high"]!.GetValue<double>()).ShouldBe((3e-4, 1e-2));
        space[2]!["choices"]!.AsArray().Select(x => x!.GetValue<string>()).ShouldBe(["linear", "sqrt"]);
    }

    [Fact]
    public async Task Every_trial_has_its_intermediate_values_and_a_running_trials_new_reports_appear_on_the_next_request()
    {
        var s = await Get($"/api/studies/{_studyId}");
        var trials = s["trials"]!.AsArray();
        trials.Count.ShouldBe(8);
        foreach (var (number, state, value, _) in StudySeed.Trials)
        {
            var t = trials[number]!;
            t["state"]!.GetValue<string>().ShouldBe(state.ToString().ToLowerInvariant());
            var expected = StudySeed.Reports(number, state);
            t["intermediate"]!["step"]!.AsArray().Select(x => x!.GetValue<long>()).ShouldBe(expected.Select(r => r.Step));
            Doubles(t["intermediate"]!["value"]).ShouldBe(expected.Select(r => r.Value));
            t["steps"]!.GetValue<long>().ShouldBe(expected.Length == 0 ? 0 : expected[^1].Step + 1);
            if (value is { } v) t["value"]!.GetValue<double>().ShouldBe(v); else t["value"].ShouldBeNull();
        }
        trials[4]!["message"]!.GetValue<string>().ShouldBe("RuntimeError: loss diverged");

        // The worker reports again: the next request (the page's poll) shows the new point.
        _factory.Store.ReportIntermediate(_running, 800, 3.7).ShouldBeTrue();
        var again = (await Get($"/api/studies/{_studyId}"))["trials"]!.AsArray()[5]!;
        again["intermediate"]!["step"]!.AsArray().Select(x => x!.GetValue<long>()).ShouldBe([200L, 400, 600, 800]);
        again["steps"]!.GetValue<long>().ShouldBe(801);
        _factory.Store.FinishTrial(_running, TrialState.Complete, 3.05).ShouldBeTrue();
        var done = await Get($"/api/studies/{_studyId}");
        done["trials"]!.AsArray()[5]!["state"]!.GetValue<string>().ShouldBe("complete");
        Doubles(done["history"]!["best"]).ShouldBe([3.40, 3.40, 3.21, 3.05, 3.05]); // trial 5 (3.05) is the new best
    }

    [Fact]
    public async Task A_maximized_study_keeps_the_highest_value_as_its_best()
    {
        var st = _factory.Store.GetOrCreateStudy("accuracy-max", StudySeed.File.Replace("name: web-wsd", "name: accuracy-max"), "maximize");
        foreach (var v in new[] { 0.61, 0.58, 0.70, 0.69 })
        {
            var t = _factory.Store.CreateTrial(st.Id, """{"peak":0.001,"decay":0.2,"shape":"sqrt","batch":16}""", TrialState.Running, "w");
            _factory.Store.FinishTrial(t.Id, TrialState.Complete, v);
        }
        var s = await Get($"/api/studies/{st.Id}");
        Doubles(s["history"]!["best"]).ShouldBe([0.61, 0.61, 0.70, 0.70]);
        s["best"]!["number"]!.GetValue<int>().ShouldBe(2);
    }

    [Fact]
    public async Task A_stored_study_file_this_version_cannot_read_still_shows_with_axes_inferred_from_the_trials()
    {
        var st = _factory.Store.GetOrCreateStudy("from-the-future", "name: from-the-future\nspace: {lr: {beta_dist: [1, 2]}}\n");
        var t = _factory.Store.CreateTrial(st.Id, """{"lr":0.01,"opt":"adamw"}""", TrialState.Running, "w");
        _factory.Store.FinishTrial(t.Id, TrialState.Complete, 2.5);
        var s = await Get($"/api/studies/{st.Id}");
        s["spec_error"]!.GetValue<string>().ShouldContain("from-the-future");
        s["space"]!.AsArray().Select(p => (p!["name"]!.GetValue<string>(), p["kind"]!.GetValue<string>())).ShouldBe([("lr", "uniform"), ("opt", "choice")]);
        s["history"]!["value"]!.AsArray().Count.ShouldBe(1);
    }

    [Fact]
    public async Task An_unknown_study_is_a_json_404()
    {
        (await Get("/api/studies/987654", HttpStatusCode.NotFound))["error"]!.GetValue<string>().ShouldContain("no study with id 987654");
        (await Get("/api/studies/not-a-number", HttpStatusCode.NotFound))["error"].ShouldNotBeNull();
    }
}
