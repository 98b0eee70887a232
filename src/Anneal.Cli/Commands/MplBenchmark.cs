using System.Reflection;
using System.Text.Json.Nodes;
using Anneal.Curves;
using Anneal.Laws;

namespace Anneal.Cli.Commands;

/// <summary>
/// The bundled multi-power-law benchmark (data/examples/mpl, MIT, Copyright (c) 2025 Kairong Luo):
/// curves per model size, their exact schedules and the published split and numbers, read from
/// the manifest either in a folder or from the copy embedded in the CLI.
/// </summary>
internal sealed class MplBenchmark
{
    private readonly Func<string, byte[]?> _open;
    private readonly JsonObject _manifest;

    public string Origin { get; }

    private MplBenchmark(Func<string, byte[]?> open, string origin)
    {
        _open = open;
        Origin = origin;
        var bytes = open("manifest.json") ?? throw new InputException($"{origin}: no manifest.json; point --data at a folder like data/examples/mpl");
        _manifest = JsonNode.Parse(bytes) as JsonObject ?? throw new InputException($"{origin}/manifest.json: not a JSON object");
    }

    /// <summary>From a folder (with manifest.json) or, when null, the embedded copy.</summary>
    public static MplBenchmark Open(string? folder)
    {
        if (folder is null) return new MplBenchmark(name => EmbeddedData.Read("mpl/" + name), "bundled benchmark");
        if (!Directory.Exists(folder)) throw new InputException($"--data {folder}: folder not found");
        return new MplBenchmark(name => File.Exists(Path.Combine(folder, name)) ? File.ReadAllBytes(Path.Combine(folder, name)) : null, folder);
    }

    public string Source => _manifest["source"]?.GetValue<string>() ?? "";

    public IReadOnlyList<string> Sizes => Names("sizes");

    public IReadOnlyList<string> FitSplit => Names("fit");

    public IReadOnlyList<string> TestSplit => Names("test");

    private string[] Names(string key) => (_manifest[key] as JsonArray)?.Select(x => x!.GetValue<string>()).ToArray() ?? throw new InputException($"{Origin}/manifest.json: missing \"{key}\"");

    public string Schedule(string name) => _manifest["schedules"]?[name]?.GetValue<string>() ?? throw new InputException($"{Origin}/manifest.json: no schedule for '{name}'");

    /// <summary>Published metrics [R2, MAE, RMSE, PredE, WorstE] (per-curve means) for a size, if known.</summary>
    public double[]? PublishedMetrics(string size) => (_manifest["published"]?[size]?["metrics"] as JsonArray)?.Select(x => x!.GetValue<double>()).ToArray();

    /// <summary>Published MPL parameters (reference warmup convention) for a size, if known.</summary>
    public double[]? PublishedParams(string size) => (_manifest["published"]?[size]?["params"] as JsonArray)?.Select(x => x!.GetValue<double>()).ToArray();

    /// <summary>One benchmark curve with its exact schedule attached.</summary>
    private LossCurve Curve(string size, string name)
    {
        var rel = $"{size}/{name}.csv";
        var bytes = _open(rel) ?? throw new InputException($"{Origin}: missing {rel}");
        return CurveReader.Parse(bytes, Path.Combine(Origin, rel)) with { Name = name, ScheduleSpec = Anneal.Schedules.Schedule.Parse(Schedule(name)).Spec };
    }

    public LawRun Run(string size, string name) => LawRun.FromCurve(Curve(size, name));

    public LawRun[] Runs(string size, IEnumerable<string> names) => names.Select(n => Run(size, n)).ToArray();

    /// <summary>One size's curves (fit and test split alike) as a forecasting corpus for <c>anneal accuracy</c>.</summary>
    public Anneal.Accuracy.ForecastCorpus Corpus(string size)
    {
        var runs = FitSplit.Concat(TestSplit).Distinct().Select(name =>
        {
            var curve = Curve(size, name);
            return new Anneal.Accuracy.CorpusRun(name, curve, curve.ScheduleSpec, 1);
        }).ToArray();
        return new Anneal.Accuracy.ForecastCorpus($"mpl-{size}", Source, runs);
    }
}
