using System.Text.Json.Nodes;
using static Anneal.Tests.Cli.CliRunner;

namespace Anneal.Tests.Cli;

/// <summary>The JSON of <c>runs add|list|show --json</c>: versioned like every other output (docs/formats.md), with the run's data.</summary>
[Collection("Console")] // the serial collection of the in-process CLI tests
public class RunsJsonTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("anneal-runs-json-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonObject Json(string args, (int Code, string Out, string Err) r)
    {
        r.Code.ShouldBe(0, $"{args}: {r.Err}");
        return JsonNode.Parse(r.Out)!.AsObject();
    }

    [Fact]
    public void Add_list_and_show_print_their_format_first_and_the_runs_data()
    {
        // Independent source for the numbers: the curve file itself (its data rows, its last loss).
        var file = TestPaths.Mpl("400m", "wsdcon_3.csv");
        var rows = File.ReadAllLines(file).Skip(1).Where(l => l.Length > 0).ToArray();
        string store = Path.Combine(_dir, "s.db");

        var added = Json("runs add", Run("runs", "add", file, "--name", "three", "--tag", "t1", "--store", store, "--json"));
        added.First().Key.ShouldBe("format");
        added["format"]!.GetValue<string>().ShouldBe("anneal-runs-added/1");
        var run = added["runs"]!.AsArray().Single()!;
        run["name"]!.GetValue<string>().ShouldBe("three");
        run["points"]!.GetValue<int>().ShouldBe(rows.Length);
        long id = run["id"]!.GetValue<long>();

        var list = Json("runs list", Run("runs", "list", "--store", store, "--json"));
        list.First().Key.ShouldBe("format");
        list["format"]!.GetValue<string>().ShouldBe("anneal-run-list/1");
        list["total"]!.GetValue<long>().ShouldBe(1);
        var listed = list["runs"]!.AsArray().Single()!.AsObject();
        listed.ContainsKey("format").ShouldBeFalse();   // a list's members are not documents of their own
        listed["id"]!.GetValue<long>().ShouldBe(id);

        var shown = Json("runs show", Run("runs", "show", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--store", store, "--json"));
        shown.First().Key.ShouldBe("format");
        shown["format"]!.GetValue<string>().ShouldBe("anneal-run/1");
        shown["id"]!.GetValue<long>().ShouldBe(id);
        shown["name"]!.GetValue<string>().ShouldBe("three");
        shown["tags"]!.AsArray().Select(t => t!.GetValue<string>()).ShouldBe(["t1"]);
        double lastLoss = double.Parse(rows[^1].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture);
        shown["final_loss"]!.GetValue<double>().ShouldBe(lastLoss);
        var loss = shown["metrics"]!.AsArray().Single(m => m!["metric"]!.GetValue<string>() == "loss")!;
        loss["points"]!.GetValue<int>().ShouldBe(rows.Length);
        // The run inside the list is the one shown, but for the format field and the per-metric summary (show only).
        shown.Remove("format"); shown.Remove("metrics"); listed.Remove("metrics");
        shown.ToJsonString().ShouldBe(listed.ToJsonString());
    }
}
