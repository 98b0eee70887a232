using System.Text.Json.Nodes;
using Anneal.Laws;
using Anneal.Store;

namespace Anneal.Web.Tests;

/// <summary>The Live page's forecast of a run trained with <c>autolrs(...)</c>, whose rates were chosen while it trained.</summary>
public sealed class LiveAutoLrsTests : IDisposable
{
    private readonly ServerFactory _factory = new() { Options = new() };

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task An_autolrs_run_is_forecast_from_its_realised_rates_holding_the_current_rate_then_decaying_it_in_the_final_stage()
    {
        // autolrs(tau=200) over 6000 steps (anneal=true, the default): stages start at 0, 200, 600, 1400 (tau doubles), then
        // the first stage ending past the midpoint (3000 + 1600 > 3000) runs to the end: 3000..5999, the final decay, which
        // takes the rate r chosen there as r (3000 - k) / 3000 at its update k. The run has logged steps 20..2980 every 20,
        // so its current stage is 1400..2999.
        long[] starts = [0, 200, 600, 1400, 3000];
        double[] rates = [3e-4, 2.5e-4, 2e-4, 1.2e-4];
        var published = FittedLaw.FromValues(new MultiPowerLaw(WarmupConvention.Paper), MplParameters.Published400M.ToArray());
        // The generating law's rates as the forecast must assume them: the realised stages (the first a warmup to its rate,
        // r s / 200, as AutoLRS trains it by default), then stage 3's rate decayed linearly to 0.
        var eta = Enumerable.Range(0, 6000).Select(s => s < 200 ? 3e-4 * s / 200 : s < 3000 ? rates[Array.FindLastIndex(starts, b => b <= s)] : 1.2e-4 * (6000 - s) / 3000).ToArray();
        var steps = Enumerable.Range(1, 149).Select(i => 20L * i).ToArray();
        var loss = published.Predict(eta, steps).Loss;
        var store = _factory.Store;
        long id = store.AddRun(new NewRun { Name = "autolrs-run", Schedule = "autolrs(min=1e-5, max=1e-3, tau=200)", MetadataJson = """{"steps": 6000}""" });
        store.AppendPoints(id, steps.SelectMany((s, i) => new[] { new MetricPoint("loss", s, loss[i]), new MetricPoint("lr", s, eta[s]) }));
        store.SetRunStatus(id, RunStatus.Stopped);

        var http = _factory.CreateClient();
        var text = await http.GetStringAsync($"/api/live?run={id}&law=mpl");
        var forecast = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(b => b.Split('\n'))
            .Where(e => e[0] == "event: forecast").Select(e => JsonNode.Parse(e[1]["data: ".Length..])!).ShouldHaveSingleItem();
        forecast["error"].ShouldBeNull(forecast.ToJsonString());
        forecast["schedule_note"]!.GetValue<string>().ShouldContain("to its end at step 2999");
        forecast["schedule_note"]!.GetValue<string>().ShouldContain("holds 0.00012 to step 2999, then decays it linearly to 0 over the final stage (steps 3000..5999)");
        forecast["step"]!.AsArray()[^1]!.GetValue<long>().ShouldBe(5999);
        // peer: the generating law's final loss under those rates (the fit recovers it from the run's points)
        double truth = published.Predict(eta, [5999]).Loss[0];
        Math.Abs(forecast["final_loss"]!.GetValue<double>() / truth - 1).ShouldBeLessThan(2e-3, $"forecast {forecast["final_loss"]}, generating law {truth}");
    }
}
