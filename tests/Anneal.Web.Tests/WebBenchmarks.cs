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

    [BenchFact]
    public async Task Runs_page_of_10k_runs_and_a_1M_point_curve()
    {
        var path = TempStore.NewPath();
        using (var store = RunStore.Open(path))
        {
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
        }
        using var st = RunStore.Open(path);
        var options = new ServerOptions { Port = 0, Examples = () => [] };
        var (app, address) = await AnnealServer.Start(options, st);
        try
        {
            using var http = new HttpClient { BaseAddress = address };
            output.WriteLine($"runs page, 10k runs, newest first: {Stats(await Time(http, "/api/runs?sort=-created&limit=50", 30))}");
            output.WriteLine($"runs page, 10k runs, by final loss, page 100: {Stats(await Time(http, "/api/runs?sort=final_loss&limit=50&offset=5000", 30))}");
            output.WriteLine($"runs page, 10k runs, filter 'run-07' + tag odd: {Stats(await Time(http, "/api/runs?q=run-07&tag=odd&limit=50", 30))}");
            var id = JsonNode.Parse(await http.GetStringAsync("/api/runs?q=million"))!["runs"]![0]!["id"]!.GetValue<long>();
            output.WriteLine($"1M-point curve, 2000 points: {Stats(await Time(http, $"/api/runs/{id}/curve?metric=loss&max_points=2000", 30))}");
        }
        finally { await app.StopAsync(); await app.DisposeAsync(); TempStore.Remove(path); }
    }

    [BenchFact]
    public async Task Designer_update_latency_from_key_press_to_redraw()
    {
        var s = new LiveServer();
        await s.InitializeAsync();
        try
        {
        var d = s.Driver!;
        d.Navigate().GoToUrl(new Uri(s.Address, "/#/designer"));
        await Task.Delay(5000);
        var slider = d.FindElement(By.Id("designer-cooldown"));
        for (int i = 0; i < 40; i++) { slider.SendKeys(i % 20 < 10 ? Keys.ArrowRight : Keys.ArrowLeft); await Task.Delay(250); }
        var raw = (IReadOnlyCollection<object>)d.ExecuteScript("return window.annealDesignerLatencies.map(x => [x.total, x.request]);")!;
        var pairs = raw.Select(o => ((IReadOnlyCollection<object>)o).Select(Convert.ToDouble).ToArray()).Skip(3).ToList();
        output.WriteLine($"designer, slider move to redrawn frame: {Stats(pairs.Select(p => p[0]).ToList())}");
        output.WriteLine($"designer, of which the API request: {Stats(pairs.Select(p => p[1]).ToList())}");
        }
        finally { await s.DisposeAsync(); }
    }
}
