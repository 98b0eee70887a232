using System.Net.Http.Headers;
using System.Text;
using Anneal.Cli.Commands;
using Anneal.Store;
using Anneal.Web.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Anneal.Web.Tests;

/// <summary>
/// Why the browser tests cannot run here, or null. They need Debian's chromium and chromium-driver and a build with
/// the vendored chart library (npm at build time); without them they skip, except under CI=true, where they run
/// (and fail) so that CI never passes without a real browser.
/// </summary>
public static class Browser
{
    public const string Chromium = "/usr/bin/chromium";
    public const string Driver = "/usr/bin/chromedriver";

    public static string? Missing =>
        Environment.GetEnvironmentVariable("CI") == "true" ? null
        : !File.Exists(Chromium) || !File.Exists(Driver) ? $"browser tests need {Chromium} and {Driver} (apt-get install chromium chromium-driver)"
        : !StaticAssets.ChartsAvailable ? "browser tests need the chart library, vendored at build time by npm (install nodejs and npm, then rebuild)"
        : null;

    /// <summary>A headless chromium; downloads (the designer's export) land in <paramref name="downloads"/> without a prompt.</summary>
    public static ChromeDriver Start(string? downloads = null)
    {
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(Driver)!, Path.GetFileName(Driver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var o = new ChromeOptions { BinaryLocation = Chromium };
        o.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000", "--force-device-scale-factor=1", "--disable-gpu");
        if (downloads is not null)
        {
            o.AddUserProfilePreference("download.default_directory", downloads);
            o.AddUserProfilePreference("download.prompt_for_download", false);
        }
        var driver = new ChromeDriver(service, o, TimeSpan.FromSeconds(60));
        // Headless chromium ignores the profile's download folder unless told through the DevTools protocol.
        if (downloads is not null) driver.ExecuteCdpCommand("Browser.setDownloadBehavior", new Dictionary<string, object?> { ["behavior"] = "allow", ["downloadPath"] = downloads });
        return driver;
    }
}

/// <summary>Runs a browser test only where <see cref="Browser.Missing"/> is null; otherwise skips with the reason.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute() { if (Browser.Missing is { } why) Skip = why; }
}

/// <summary>A real server (Kestrel on a free loopback port) with the bundled examples, and a headless chromium.</summary>
public sealed class LiveServer : IAsyncLifetime
{
    public WebApplication App { get; private set; } = null!;
    public Uri Address { get; private set; } = null!;
    public string? Token { get; init; }
    public ChromeDriver? Driver { get; private set; }
    public RunStore? Store { get; private set; }
    public string Downloads { get; } = Directory.CreateTempSubdirectory("anneal-web-downloads-").FullName;

    public async Task InitializeAsync()
    {
        if (Browser.Missing is not null) return;
        var options = new ServerOptions { Port = 0, Token = Token, Examples = ServeRunner.Examples, AccuracyLaws = ["powerlaw"],
            // One corpus keeps the table's computation short; the full one (`anneal accuracy`) takes minutes.
            AccuracyCorpora = () => [.. ServeRunner.Examples().Where(c => c.Name == "mpl-25m")] };
        Store = RunStore.Open(TempStore.NewPath());
        (App, Address) = await AnnealServer.Start(options.Validate(), Store);
        Driver = Browser.Start(Downloads);
        // The accuracy table takes the longest to compute: start it now, while the other pages are tested.
        using var http = new HttpClient { BaseAddress = Address };
        if (Token is not null) http.DefaultRequestHeaders.Authorization = new("Bearer", Token);
        (await http.GetAsync("/api/accuracy")).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        Driver?.Quit();
        if (App is not null) { await App.StopAsync(); await App.DisposeAsync(); }
        if (Store is not null) { var where = Store.Location; Store.Dispose(); TempStore.Remove(where); }
        try { Directory.Delete(Downloads, recursive: true); } catch (IOException) { }
    }
}

public sealed class BrowserTests(LiveServer server) : IClassFixture<LiveServer>
{
    private ChromeDriver D => server.Driver!;

    private void Open(string hash) { D.Navigate().GoToUrl(new Uri(server.Address, "/" + hash)); }

    /// <summary>
    /// A wait that survives redraws: the element is found again on every poll, and one replaced between being found and
    /// being read (a page that re-renders while polling its server, e.g. the sweeps page) counts as not ready yet.
    /// </summary>
    private WebDriverWait Waiter(int seconds)
    {
        var w = new WebDriverWait(D, TimeSpan.FromSeconds(seconds));
        w.IgnoreExceptionTypes(typeof(StaleElementReferenceException));
        return w;
    }

    private IWebElement Wait(string css, Func<IWebElement, bool>? ok = null, int seconds = 30)
    {
        try
        {
            return Waiter(seconds).Until(d =>
            {
                var e = d.FindElements(By.CssSelector(css)).FirstOrDefault();
                return e is not null && (ok is null || ok(e)) ? e : null;
            })!;
        }
        catch (WebDriverTimeoutException)
        {
            // What the page showed instead, so a failure says why (an error message, a missing element).
            throw new ShouldAssertException($"waited {seconds} s for '{css}'; the page shows:\n{D.FindElement(By.TagName("body")).Text}");
        }
    }

    /// <summary>Clicks what <paramref name="by"/> finds, finding it again if a redraw replaced it before the click landed.</summary>
    private void Click(By by, int seconds = 30) => Waiter(seconds).Until(d => { d.FindElement(by).Click(); return true; });

    /// <summary>Canvas pixels that are not transparent: a drawn chart has thousands, an empty one none.</summary>
    private long Inked(string holder) => (long)D.ExecuteScript($$"""
        const c = document.querySelector('{{holder}} canvas');
        if (!c) return -1;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
        """)!;

    /// <summary>The chart's legend labels, read in one script (no element handles that a redraw could make stale).</summary>
    private string[] Legend(string holder) =>
        ((IReadOnlyCollection<object>)D.ExecuteScript($"return [...document.querySelectorAll('{holder} .u-legend .u-series .u-label')].map(e => e.textContent);")!)
        .Select(o => (string)o).ToArray();

    /// <summary>Waits until the chart in <paramref name="holder"/> has ink and every label of <paramref name="legend"/>: a page may still be redrawing it with newer data.</summary>
    private void Drew(string holder, params string[] legend)
    {
        Wait($"{holder} canvas");
        string[] labels = [];
        long ink = 0;
        try { Waiter(30).Until(_ => (ink = Inked(holder)) > 2000 && legend.All((labels = Legend(holder)).Contains)); }
        catch (WebDriverTimeoutException)
        {
            throw new ShouldAssertException($"'{holder}': {ink} inked pixels (want > 2000), legend [{string.Join(", ", labels)}], want [{string.Join(", ", legend)}]");
        }
    }

    /// <summary>
    /// With ANNEAL_UPDATE_FIGURES=1, saves the page as docs/figures/<paramref name="name"/>: the window <paramref name="height"/>
    /// pixels tall, scrolled by <paramref name="scroll"/> (a script), then back to its size.
    /// </summary>
    private void Figure(string name, int height, string scroll)
    {
        if (Environment.GetEnvironmentVariable("ANNEAL_UPDATE_FIGURES") != "1") return;
        var size = D.Manage().Window.Size;
        D.Manage().Window.Size = new System.Drawing.Size(1400, height);
        D.ExecuteScript(scroll);
        Thread.Sleep(500);
        D.GetScreenshot().SaveAsFile(Path.Combine(ApiTests.RepoRoot(), "docs", "figures", name));
        D.Manage().Window.Size = size;
    }

    private long[] Ids(string query)
    {
        using var http = new HttpClient { BaseAddress = server.Address };
        var j = System.Text.Json.Nodes.JsonNode.Parse(http.GetStringAsync("/api/runs?" + query).Result)!;
        return j["runs"]!.AsArray().Select(r => r!["id"]!.GetValue<long>()).ToArray();
    }

    [BrowserFact]
    public void The_runs_page_lists_the_seeded_runs_and_filters_them_on_the_server()
    {
        Open("#/runs");
        Wait("#runs-table tbody tr");
        Wait("#runs-count", e => e.Text.EndsWith(" runs") && e.Text != "0 runs");
        D.FindElement(By.Id("runs-filter")).SendKeys("wsdcon"); // the three MPL sizes' wsdcon_3, _9 and _18
        Wait("#runs-count", e => e.Text == "9 runs");
        D.FindElements(By.CssSelector("#runs-table tbody tr")).Count.ShouldBe(9);
    }

    [BrowserFact]
    public void Compare_overlays_runs_with_their_learning_rates()
    {
        var ids = Ids("tag=mpl-400m&sort=name&limit=2");
        Open($"#/compare?ids={ids[0]},{ids[1]}");
        Drew("#compare-chart", "constant_24000", "constant_72000", "constant_24000 lr");
    }

    [BrowserFact]
    public void Forecast_fits_the_runs_and_draws_the_prediction_with_its_band_and_residuals()
    {
        var ids = Ids("tag=mpl-400m&sort=name&limit=3");
        Open($"#/forecast?ids={ids[0]},{ids[2]}&schedule=" + Uri.EscapeDataString("wsd(peak=3e-4, total=48000, warmup=2160, decay=0.2, shape=sqrt)"));
        Wait("#forecast-final", e => e.Text.StartsWith("predicted final loss"), 120);
        Drew("#forecast-prediction-chart", "predicted", "learning rate");
        Drew("#forecast-residual-chart");
        Drew("#forecast-fit-chart");
    }

    [BrowserFact]
    public void The_forecast_pages_law_is_saved_with_its_runs_listed_and_opened_and_the_designer_saves_its_schedule()
    {
        var ids = Ids("tag=mpl-25m&sort=name&limit=3");
        Open($"#/forecast?ids={ids[0]},{ids[2]}&law=mpl&schedule=" + Uri.EscapeDataString("wsd(peak=3e-4, total=48000, warmup=2160, decay=0.2, shape=sqrt)"));
        var final = Wait("#forecast-final", e => e.Text.StartsWith("predicted final loss"), 120).Text;
        D.FindElement(By.Id("forecast-save")).Click();
        var saved = Wait("#forecast-saved", e => e.Text.Contains("saved as law:")).Text;
        long lawId = long.Parse(System.Text.RegularExpressions.Regex.Match(saved, @"law:(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        // the store holds it with the two runs, as anneal fit --store would
        server.Store!.GetArtifact(lawId)!.Runs.Select(r => r.RunId).ShouldBe(new[] { ids[0], ids[2] }.Order());
        Wait("#forecast-saved-laws", e => e.Text.Contains($"law:{lawId}") && e.Text.Contains($"{ids[0]} "));
        // opened from the list: the same forecast, from the stored law
        D.FindElement(By.CssSelector($"#forecast-saved-laws button[data-law='{lawId}']")).Click();
        Wait("#forecast-status", e => e.Text.StartsWith($"law:{lawId} (saved"), 60);
        Wait("#forecast-final", e => e.Text == final, 60);
        D.FindElement(By.Id("forecast-designer")).Click();
        Wait("#designer-final", e => double.TryParse(e.Text.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture, out _), 60);
        ((string)D.ExecuteScript("return document.getElementById('designer-law').value;")!).ShouldBe($"law:{lawId}");
        D.FindElement(By.Id("designer-save")).Click();
        var design = Wait("#designer-saved", e => e.Text.StartsWith("saved as design")).Text;
        long designId = long.Parse(System.Text.RegularExpressions.Regex.Match(design, @"design (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var stored = server.Store!.GetArtifact(designId)!;
        stored.LawId.ShouldBe(lawId);
        stored.Spec.ShouldBe(D.FindElement(By.Id("designer-spec")).Text);
    }

    [BrowserFact]
    public void The_designer_slider_moves_the_predicted_final_loss()
    {
        Open("#/designer");
        var final = Wait("#designer-final", e => double.TryParse(e.Text.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture, out _));
        Drew("#designer-chart", "your schedule: loss", "your schedule: lr");
        string before = final.Text;
        var slider = D.FindElement(By.Id("designer-cooldown"));
        for (int i = 0; i < 20; i++) slider.SendKeys(Keys.ArrowRight); // a user's keyboard moves: cooldown 0.20 -> 0.40
        Wait("#designer-final", e => e.Text != before && e.Text != "…");
        Wait("#designer-spec", e => e.Text.Contains("decay=0.4"));
        Wait("#designer-optimum", e => e.Text.Contains("best wsd") && e.Text.Contains("cosine to 10%"), 120);
        Drew("#designer-chart", "free optimum: lr");
        if (Environment.GetEnvironmentVariable("ANNEAL_UPDATE_FIGURES") == "1")
        {
            // The moves above raced the free optimum's computation for the CPU; the figure shows a move made after it.
            var shown = D.FindElement(By.Id("designer-latency")).Text;
            slider.SendKeys(Keys.ArrowRight);
            Wait("#designer-spec", e => e.Text.Contains("decay=0.41"));
            slider.SendKeys(Keys.ArrowLeft);
            Wait("#designer-spec", e => e.Text.Contains("decay=0.4,"));
            Wait("#designer-latency", e => e.Text != shown);
            Thread.Sleep(500);
            D.GetScreenshot().SaveAsFile(Path.Combine(ApiTests.RepoRoot(), "docs", "figures", "serve-designer.png"));
        }
    }

    [BrowserFact]
    public void Forecast_before_the_regime_says_how_long_calibration_runs_must_be_and_draws_no_band_past_the_horizon()
    {
        // gpt-perldoc's schedules fit: its seed-1 constant run cut at 600 steps (uploaded) and the 600-step cosine, on the
        // validation loss; its whole constant run (seeded) is the longer log, which enters the regime at step 1999
        // (RegimeOnset; RegimeApiTests checks the number against the library).
        var corpus = Path.Combine(ApiTests.RepoRoot(), "data/corpora/gpt-perldoc");
        var lines = File.ReadAllLines(Path.Combine(corpus, "constant_s1.csv"));
        var cut = string.Join("\n", lines.Where((l, i) => i == 0 || long.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture) < 600)) + "\n";
        long cutId;
        using (var http = new HttpClient { BaseAddress = server.Address })
        {
            var r = http.PostAsync("/api/runs?file=constant_s1_to600.csv&name=perldoc-constant-to-600&tags=browser&schedule=" + Uri.EscapeDataString("constant(peak=3e-3, warmup=60)"),
                new StringContent(cut, Encoding.UTF8, "text/csv")).Result;
            r.EnsureSuccessStatusCode();
            cutId = System.Text.Json.Nodes.JsonNode.Parse(r.Content.ReadAsStringAsync().Result)!["id"]!.GetValue<long>();
        }
        long cosine = Ids("tag=engine-gpt-perldoc&q=cosine_T600_s1")[0];
        long log = Ids("tag=engine-gpt-perldoc&q=constant_s1")[0];
        Open($"#/forecast?ids={cutId},{cosine}&law=auto&target=val&constant_log={log}&schedule=" + Uri.EscapeDataString("cosine(peak=3e-3, total=2400, warmup=60)"));
        Wait("#forecast-final", e => e.Text.StartsWith("predicted final loss"), 120);
        var regime = Wait("#forecast-regime", e => e.Displayed && e.Text.Contains("Calibration runs should reach step 1999."));
        regime.Text.ShouldContain("the fit's horizon (step 599) is before the regime");
        Wait("#forecast-band-note", e => e.Displayed).Text.ShouldStartWith("No band drawn: no 95% band: the forecast reaches past the fitted horizon (step 599)");
        // no band series on the chart: the prediction is drawn alone
        Drew("#forecast-prediction-chart", "predicted (no band)", "learning rate");
        Legend("#forecast-prediction-chart").ShouldNotContain("predicted (no band) (low)");
        // the calibration planner, filled from the fit: the same step
        Wait("#calibration-horizon", e => e.GetAttribute("value") == "599");
        Click(By.Id("calibration-run"));
        Wait("#calibration-result", e => e.Text.StartsWith("Calibration runs should reach step 1999."));
        // the whole page, from the fit's form to the calibration planner
        Figure("serve-regime.png", 2100, "window.scrollTo(0, 0);");
    }

    [BrowserFact]
    public void The_calibration_planner_shows_the_probes_recommended_runs_with_its_reasons_and_the_regime_stage()
    {
        // gpt-perldoc's seed-1 constant run (seeded) as the constant-rate log: it enters the regime at step 1999, so designs
        // ending before step 2000 are left out (ProbeApiTests checks the whole document against the library).
        long log = Ids("tag=engine-gpt-perldoc&q=constant_s1")[0];
        Open($"#/forecast?constant_log={log}&run=0");
        var budget = Wait("#probe-budget");
        budget.SendKeys("4800");
        D.FindElement(By.Id("probe-seeds")).Clear();
        D.FindElement(By.Id("probe-seeds")).SendKeys("2");
        D.FindElement(By.Id("probe-targets")).SendKeys(string.Join("\n", ProbeApiTests.Targets));
        Wait("#calibration-log", e => e.GetAttribute("value") == log.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Click(By.Id("probe-run"));
        // While it computes: the bar and the planner's own progress message with the seconds elapsed.
        Wait("#probe-status", e => System.Text.RegularExpressions.Regex.IsMatch(e.Text, @"(simulated fits|prior laws|heavy work|queued).* — \d+ s$"), 60);
        D.FindElement(By.Id("probe-progress")).Displayed.ShouldBeTrue();
        var table = Wait("#probe-table", null, 300);

        // The library on the same request, independently of the server.
        var curve = Anneal.Curves.CurveReader.Read(Path.Combine(ApiTests.RepoRoot(), "data/corpora/gpt-perldoc/constant_s1.csv")) with { ScheduleSpec = "constant(peak=3e-3, warmup=60)" };
        var lib = Anneal.Design.ProbePlanner.Plan(new Anneal.Design.ProbeRequest(4800, ProbeApiTests.Targets)
        {
            Seeds = 2,
            References = [Anneal.Design.ProbeReference.Of(ServeRunner.Examples().Single(c => c.Name == "mpl-400m"))],
            ConstantLog = Anneal.Fitting.RegimeService.Read(curve, "val"),
        });
        var rows = table.FindElements(By.CssSelector("tr")).Select(r => r.FindElements(By.CssSelector("td, th")).Select(c => c.Text).ToArray()).ToArray();
        rows[0].ShouldBe(["run", "schedule", "steps", "compute (steps trained)", "why"]);
        var runs = lib.Recommended.Design.Runs;
        rows.Length.ShouldBe(runs.Count + 2); // header, one row per run, the total
        for (int i = 0; i < runs.Count; i++)
        {
            rows[i + 1][0].ShouldBe(runs[i].Name);
            rows[i + 1][1].ShouldBe(runs[i].Schedule);
            rows[i + 1][2].ShouldBe(runs[i].Horizon.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
            rows[i + 1][3].ShouldBe(runs[i].Cost.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        }
        rows[^1][3].ShouldBe(lib.Recommended.Design.Cost.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        D.FindElement(By.Id("probe-recommended")).Text.ShouldStartWith($"Recommended: {lib.Recommended.Design.Name}, ");
        D.FindElements(By.CssSelector("#probe-reasons li")).Select(e => e.Text).ShouldBe(lib.Reasons);
        // the regime stage: its ask in bold and the library's note (its sentence and what it left out), not repeated below
        D.FindElement(By.Id("probe-regime")).Text.ShouldBe($"Calibration runs should reach step 1999. {lib.Regime!.Describe()}: designs whose runs end before step 2000 were left out");
        D.FindElements(By.CssSelector("#probe-notes li")).Count.ShouldBe(lib.Notes.Count - 1);
        D.FindElement(By.Id("probe-progress")).Displayed.ShouldBeFalse();
        Figure("serve-probe.png", 1250, "document.getElementById('probe-panel').scrollIntoView(); window.scrollBy(0, -12);");
    }

    [BrowserFact]
    public void The_calibration_planners_cancel_button_stops_the_job_on_the_server()
    {
        var d = server.App.Services.GetRequiredService<Dashboard>();
        Open("#/forecast");
        Wait("#probe-budget").SendKeys("4800");
        D.FindElement(By.Id("probe-targets")).SendKeys(string.Join("\n", ProbeApiTests.Targets));
        D.FindElement(By.Id("probe-cancel")).Displayed.ShouldBeFalse(); // nothing to cancel yet
        int held = d.Probes.Count; // another test's finished design may be kept
        Click(By.Id("probe-run"));
        // Once the planner's loop runs (three seeds: tens of seconds more to go), the button cancels it.
        Wait("#probe-status", e => e.Text.StartsWith("screening: ", StringComparison.Ordinal), 180);
        d.Probes.Pending.ShouldBe(1);
        d.Heavy.CurrentCount.ShouldBe(0);
        Click(By.Id("probe-cancel"));
        // The page says so once the server answered that the planner stopped (DELETE /api/probe/JOB)...
        Wait("#probe-status", e => e.Text.StartsWith("cancelled: the planner stopped after ", StringComparison.Ordinal), (int)ProbeApi.StopWait.TotalSeconds + 30);
        // ...and on the server the job is gone and its work ended: the heavy slot is free.
        d.Probes.Pending.ShouldBe(0);
        d.Probes.Count.ShouldBeLessThanOrEqualTo(held);
        d.Heavy.CurrentCount.ShouldBe(1);
        D.FindElement(By.Id("probe-cancel")).Displayed.ShouldBeFalse();
        D.FindElement(By.Id("probe-progress")).Displayed.ShouldBeFalse();
        D.FindElements(By.CssSelector("#probe-table")).ShouldBeEmpty();
        D.FindElement(By.Id("probe-run")).Enabled.ShouldBeTrue();
    }

    [BrowserFact]
    public void Accuracy_shows_the_benchmark_table()
    {
        Open("#/accuracy");
        Wait("#accuracy-pooled tr td", null, 600);
        D.FindElement(By.Id("accuracy-pooled")).Text.ShouldContain("powerlaw");
    }

    [BrowserFact]
    public void Live_follows_a_run_and_draws_its_points()
    {
        var id = Ids("q=wsd_20000_24000&tag=mpl-100m")[0];
        Open($"#/live?run={id}");
        Wait("#live-status", e => e.Text.Contains("finished"), 60);
        Drew("#live-chart", "observed");
    }

    [BrowserFact]
    public void A_run_added_through_the_api_appears_in_the_runs_table()
    {
        using var http = new HttpClient { BaseAddress = server.Address };
        var csv = "step,lr,loss\n" + string.Concat(Enumerable.Range(1, 50).Select(i => $"{i * 10},0.001,{4.0 - i * 0.01}\n"));
        var r = http.PostAsync("/api/runs?file=x.csv&name=browser-added-run", new StringContent(csv, Encoding.UTF8, "text/csv")).Result;
        ((int)r.StatusCode).ShouldBe(201);
        Open("#/runs?q=browser-added");
        Wait("#runs-table tbody tr", e => e.Text.Contains("browser-added-run"));
        Wait("#runs-count", e => e.Text == "1 runs");
    }

    [BrowserFact]
    public void The_designer_exports_its_schedule_for_pytorch_in_one_click()
    {
        Open("#/designer");
        var spec = Wait("#designer-spec", e => e.Text.StartsWith("wsd(")).Text;
        var file = Path.Combine(server.Downloads, "schedule.json");
        File.Delete(file);
        D.FindElement(By.Id("designer-export-pytorch")).Click();
        Wait("#designer-export", e => e.Text.Contains("LambdaLR"));
        new WebDriverWait(D, TimeSpan.FromSeconds(60)).Until(_ => File.Exists(file) && !Directory.EnumerateFiles(server.Downloads, "*.crdownload").Any()).ShouldBeTrue();
        var j = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file))!;
        var m = j["multipliers"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        // Peer: the schedule the page showed, evaluated by the library directly (not through the export's table writer).
        var schedule = Anneal.Schedules.Schedule.Parse(spec);
        var eta = schedule.Sample(checked((int)schedule.Length!.Value));
        m.Length.ShouldBe(eta.Length);
        double peak = eta.Max();
        j["peak_lr"]!.GetValue<double>().ShouldBe(peak);
        for (int t = 0; t < eta.Length; t += 97) m[t].ShouldBe(eta[t] / peak, 1e-15);
    }

    [BrowserFact]
    public void The_sweeps_page_draws_a_studys_history_parallel_coordinates_and_intermediate_values_and_follows_running_trials()
    {
        var (_, running) = StudySeed.Write(server.Store!);
        Open("#/sweeps");
        Wait("#sweeps-table tbody tr", e => e.Text.Contains(StudySeed.Name));
        Click(By.LinkText(StudySeed.Name));
        Wait("#sweep-summary", e => e.Text.StartsWith("8 trials: 1 running, 1 waiting, 4 complete, 1 pruned, 1 failed; best 3.2100 (trial #3"));
        Drew("#sweep-history", "complete trials", "best so far");
        Drew("#sweep-intermediate", "trial 0 (complete)", "trial 2 (pruned)", "trial 4 (failed)", "trial 5 (running)");
        // Parallel coordinates (ECharts draws its legend into the canvas: its option says what it drew).
        Wait("#sweep-parallel canvas");
        Waiter(30).Until(_ => Inked("#sweep-parallel") > 2000).ShouldBeTrue();
        var drawn = (IReadOnlyCollection<object>)D.ExecuteScript("""
            const o = echarts.getInstanceByDom(document.querySelector('#sweep-parallel')).getOption();
            return [o.parallelAxis.map(a => a.name + ':' + a.type).join(' '), o.legend[0].data.join(','), o.series[0].data.length];
            """)!;
        drawn.ShouldBe(new object[] { "peak:log decay:value shape:category batch:log val_loss:value", "complete trials", 4L });

        // The worker goes on: the page, polling while trials run, shows the new point and the trial's end.
        server.Store!.ReportIntermediate(running, 800, 3.7).ShouldBeTrue();
        server.Store.FinishTrial(running, Anneal.Store.TrialState.Complete, 3.05).ShouldBeTrue();
        Wait("#sweep-trials tr[data-number='5']", e => e.GetAttribute("data-state") == "complete", 30);
        Wait("#sweep-summary", e => e.Text.Contains("best 3.0500 (trial #5"));
        Drew("#sweep-intermediate", "trial 5 (complete)");
        if (Environment.GetEnvironmentVariable("ANNEAL_UPDATE_FIGURES") == "1")
        {
            D.ExecuteScript("window.scrollTo(0, document.querySelector('#sweep-history').getBoundingClientRect().top + window.scrollY - 60);");
            D.GetScreenshot().SaveAsFile(Path.Combine(ApiTests.RepoRoot(), "docs", "figures", "serve-sweeps.png"));
        }
    }
}

/// <summary>A server with a token: the browser is refused until it opens the address with ?token=.</summary>
public sealed class TokenServer : IAsyncLifetime
{
    public LiveServer Server { get; } = new() { Token = "browser-test-token-0123456789" };
    public Task InitializeAsync() => Server.InitializeAsync();
    public Task DisposeAsync() => Server.DisposeAsync();
}

public sealed class BrowserTokenTests(TokenServer t) : IClassFixture<TokenServer>
{
    [BrowserFact]
    public void Without_the_token_the_browser_is_refused_and_with_it_the_dashboard_opens()
    {
        var d = t.Server.Driver!;
        d.Navigate().GoToUrl(new Uri(t.Server.Address, "/#/runs"));
        d.FindElement(By.TagName("body")).Text.ShouldContain("needs its token");
        d.FindElements(By.Id("runs-table")).ShouldBeEmpty();
        d.Navigate().GoToUrl(new Uri(t.Server.Address, "/?token=browser-test-token-0123456789#/runs"));
        new WebDriverWait(d, TimeSpan.FromSeconds(30)).Until(x => x.FindElements(By.CssSelector("#runs-table tbody tr")).Count > 0).ShouldBeTrue();
        d.Url.ShouldNotContain("token=");
        using var http = new HttpClient { BaseAddress = t.Server.Address };
        http.GetAsync("/api/runs").Result.StatusCode.ShouldBe(System.Net.HttpStatusCode.Unauthorized);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "browser-test-token-0123456789");
        http.GetAsync("/api/runs").Result.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
    }
}
