using System.Text.Json.Nodes;
using Anneal.Curves;
using Anneal.Laws;

namespace Anneal.Evaluation;

/// <summary>
/// The bundled multi-power-law benchmark (data/examples/mpl, MIT, Copyright (c) 2025 Kairong Luo):
/// curves per model size, their exact schedules and the published split and numbers, read from
/// the manifest either in a folder or through any reader of its files (the CLI's embedded copy).
/// The demo, the accuracy report and the probe read it; a dashboard can hand it its own copy.
/// </summary>
public sealed class MplBenchmark
{
    private readonly Func<string, byte[]?> _open;
    private readonly JsonObject _manifest;

    /// <summary>Where the files come from, for messages (a folder, or the reader's name).</summary>
    public string Origin { get; }

    private MplBenchmark(Func<string, byte[]?> open, string origin)
    {
        _open = open;
        Origin = origin;
        var bytes = open("manifest.json") ?? throw new InputException($"{origin}: no manifest.json; use a benchmark folder like data/examples/mpl");
        _manifest = JsonNode.Parse(bytes) as JsonObject ?? throw new InputException($"{origin}/manifest.json: not a JSON object");
    }

    /// <summary>
    /// The benchmark read through <paramref name="open"/>, which returns a file's bytes by its path relative
    /// to the benchmark's root (<c>manifest.json</c>, <c>400m/cosine_24000.csv</c>), or null when it has none.
    /// <paramref name="origin"/> names the source in messages.
    /// </summary>
    public static MplBenchmark Open(Func<string, byte[]?> open, string origin) => new(open, origin);

    /// <summary>The benchmark in <paramref name="folder"/> (with manifest.json).</summary>
    public static MplBenchmark FromFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new InputException($"{folder}: benchmark folder not found");
        return new MplBenchmark(name => File.Exists(Path.Combine(folder, name)) ? File.ReadAllBytes(Path.Combine(folder, name)) : null, folder);
    }

    /// <summary>Where the data comes from (paper and licence), from the manifest.</summary>
    public string Source => _manifest["source"]?.GetValue<string>() ?? "";

    /// <summary>Model sizes with curves (e.g. 25m, 100m, 400m).</summary>
    public IReadOnlyList<string> Sizes => Names("sizes");

    /// <summary>The published split's fitted curves.</summary>
    public IReadOnlyList<string> FitSplit => Names("fit");

    /// <summary>The published split's held-out curves.</summary>
    public IReadOnlyList<string> TestSplit => Names("test");

    private string[] Names(string key) => (_manifest[key] as JsonArray)?.Select(x => x!.GetValue<string>()).ToArray() ?? throw new InputException($"{Origin}/manifest.json: missing \"{key}\"");

    /// <summary>The exact schedule spec of a curve.</summary>
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

    /// <summary>One curve as a run with its exact schedule.</summary>
    public LawRun Run(string size, string name) => LawRun.FromCurve(Curve(size, name));

    /// <summary>Curves as runs with their exact schedules.</summary>
    public LawRun[] Runs(string size, IEnumerable<string> names) => names.Select(n => Run(size, n)).ToArray();

    /// <summary>One size's curves (fit and test split alike) as a forecasting corpus for the forecasting benchmark (<see cref="Anneal.Accuracy.ForecastBenchmark"/>).</summary>
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
