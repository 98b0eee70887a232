using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Anneal.Store;
using OpenQA.Selenium;
using Xunit.Abstractions;

namespace Anneal.Web.Tests;

/// <summary>Runs only when ANNEAL_WEB_BENCH=1: the measurements of docs/benchmarks.md, not tests (nothing is asserted on time).</summary>
public sealed class BenchFactAttribute : FactAttribute
{
    public BenchFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("ANNEAL_WEB_BENCH") != "1") Skip = "a benchmark: run with ANNEAL_WEB_BENCH=1 (see docs/benchmarks.md)";
        else if (Browser.Missing is { } why) Skip = why;
    }
}

public sealed class WebBenchmarks(ITestOutputHelper output)
{
    private static string Stats(List<double> ms)
    {
        ms.Sort();
        return $"median {ms[ms.Count / 2]:F1} ms, p90 {ms[(int)(0.9 * (ms.Count - 1))]:F1} ms, min {ms[0]:F1} ms over {ms.Count}";
    }

    private static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static async Task<List<double>> Time(HttpClient http, string path, int n)
    {
        var list = new List<double>();
        for (int i = 0; i < n + 3; i++)
        {
            var sw = Stopwatch.StartNew();
            (await http.GetAsync(path)).EnsureSuccessStatusCode();
            if (i >= 3) list.Add(sw.Elapsed.TotalMilliseconds); // three warm-up requests (JIT, connection pool)
        }
        return list;
    }

    /// <summary>
    /// The benchmark store: 10k runs of 20 points (two tags) and one run of 1M loss points. Building it takes minutes
    /// (tens on a loaded machine), so it is built once in the temp folder and kept (a marker study says it is complete).
    /// </summary>
    private string BenchStore()
    {
        var path = Path.Combine(Path.GetTempPath(), "anneal-web-bench-store.db");
        using var store = RunStore.Open(path);
        if (store.GetStudy("web-bench-built") is not null) return path;
        var sw = Stopwatch.StartNew();
        var rng = new Random(1);
        var batch = new List<(Anneal.Curves.LossCurve, NewRun?)>();
        for (int r = 0; r < 10_000; r++)
        {
            var steps = Enumerable.Range(0, 20).Select(i => (long)(i * 50)).ToArray();
            double l0 = 2.5 + rng.NextDouble();
            batch.Add((new Anneal.Curves.LossCurve { Name = $"run-{r:D5}", Steps = steps, Loss = steps.Select(s => l0 + 1 / Math.Sqrt(1 + s)).ToArray() },
                new NewRun { Name = $"run-{r:D5}", Tags = [r % 2 == 0 ? "even" : "odd"] }));
            if (batch.Count == 1000) { store.ImportCurves(batch); batch.Clear(); }
        }
        long big = store.AddRun(new NewRun { Name = "million" });
        for (int k = 0; k < 10; k++)
            store.AppendPoints(big, Enumerable.Range(k * 100_000, 100_000).Select(i => new MetricPoint("loss", i, 3 + Math.Sin(i * 1e-3) * 0.1 + 1 / Math.Sqrt(1 + i))));
        store.SetRunStatus(big, RunStatus.Finished);
        store.GetOrCreateStudy("web-bench-built", "{}");
        output.WriteLine($"built {path} in {sw.Elapsed.TotalSeconds:F0} s");
        return path;
    }

    [BenchFact]
    public async Task Runs_page_of_10k_runs_and_a_1M_point_curve()
    {
        var path = BenchStore();
        using var serve = new ServeProcess(path);
        using var http = new HttpClient { BaseAddress = serve.Address };
        output.WriteLine($"load average at start {Load()}");
        output.WriteLine($"runs page, 10k runs, newest first: {Stats(await Time(http, "/api/runs?sort=-created&limit=50", 30))}");
        output.WriteLine($"runs page, 10k runs, by final loss, page 100: {Stats(await Time(http, "/api/runs?sort=final_loss&limit=50&offset=5000", 30))}");
        output.WriteLine($"runs page, 10k runs, filter 'run-07' + tag odd: {Stats(await Time(http, "/api/runs?q=run-07&tag=odd&limit=50", 30))}");
        var id = JsonNode.Parse(await http.GetStringAsync("/api/runs?q=million"))!["runs"]![0]!["id"]!.GetValue<long>();
        output.WriteLine($"1M-point curve, 2000 points: {Stats(await Time(http, $"/api/runs/{id}/curve?metric=loss&max_points=2000", 30))}");
        output.WriteLine($"load average at end {Load()}");
    }

    [BenchFact]
    public async Task Idle_memory_of_anneal_serve()
    {
        var dir = Directory.CreateTempSubdirectory("anneal-web-idle-").FullName;
        try
        {
            // A user's first start: an empty store, seeded with the bundled examples before the server listens.
            using var serve = new ServeProcess(Path.Combine(dir, "anneal.db"));
            await Task.Delay(TimeSpan.FromSeconds(30));
            output.WriteLine($"idle 30 s after start (examples seeded): {serve.RssMb():F0} MB (load {Load()})");
            using var http = new HttpClient { BaseAddress = serve.Address };
            (await http.GetAsync("/")).EnsureSuccessStatusCode();
            var runs = JsonNode.Parse(await http.GetStringAsync("/api/runs?limit=50"))!["runs"]!.AsArray();
            foreach (var r in runs.Take(5)) (await http.GetAsync($"/api/runs/{r!["id"]}/curve?max_points=2000")).EnsureSuccessStatusCode();
            (await http.PostAsJsonAsync("/api/design", new { law = "mpl-400m", peak = 3e-4, total = 24000, warmup = 2160, cooldown = 0.2, shape = "sqrt" })).EnsureSuccessStatusCode();
            await Task.Delay(TimeSpan.FromSeconds(30));
            output.WriteLine($"idle 30 s after the runs page, 5 curves and a designer update: {serve.RssMb():F0} MB (load {Load()})");
        }
        finally { TempStore.Remove(Path.Combine(dir, "anneal.db")); }
    }

    [BenchFact]
    public async Task Designer_update_latency_from_key_press_to_redraw()
    {
        // The server as users run it (the CLI's process) over the benchmark store (no seeding), and headless chromium.
        using var serve = new ServeProcess(BenchStore());
        using var d = Browser.Start();
        try
        {
            d.Navigate().GoToUrl(new Uri(serve.Address, "/#/designer"));
            await Task.Delay(5000);
            output.WriteLine($"load average at start {Load()}");
            var slider = d.FindElement(By.Id("designer-cooldown"));
            async Task Moves(string what, int n)
            {
                d.ExecuteScript("window.annealDesignerLatencies = [];");
                for (int i = 0; i < n; i++) { slider.SendKeys(i % 20 < 10 ? Keys.ArrowRight : Keys.ArrowLeft); await Task.Delay(250); }
                var raw = (IReadOnlyCollection<object>)d.ExecuteScript("return window.annealDesignerLatencies.map(x => [x.total, x.request, x.server]);")!;
                var rows = raw.Select(o => ((IReadOnlyCollection<object>)o).Select(Convert.ToDouble).ToArray()).Skip(3).ToList();
                output.WriteLine($"designer {what}, slider move to redrawn frame: {Stats(rows.Select(p => p[0]).ToList())}");
                output.WriteLine($"designer {what}, of which the API request (browser): {Stats(rows.Select(p => p[1]).ToList())}");
                output.WriteLine($"designer {what}, of which the server's work (Server-Timing): {Stats(rows.Select(p => p[2]).ToList())}");
            }
            await Moves("at 24,000 steps", 60);
            // The longest horizon the slider offers (1e6 steps): every move evaluates a million-step schedule.
            d.FindElement(By.Id("designer-horizon")).SendKeys(Keys.End);
            await Task.Delay(5000);
            await Moves("at 1,000,000 steps", 40);
            output.WriteLine($"load average at end {Load()}");
        }
        finally { d.Quit(); }
    }
}
