using System.Globalization;
using System.Text;
using Anneal.Curves;
using Anneal.Plotting;
using BenchmarkDotNet.Attributes;

namespace Anneal.Bench;

/// <summary>
/// Reading a 100k-row curve file (step,lr,loss,val_loss with validation every 100 steps), from
/// disk and from memory, the same rows as JSON Lines, and rendering them as an SVG line.
/// Run: dotnet run -c Release --project bench/Anneal.Bench -- --filter '*CurveBenchmarks*' --job short
/// </summary>
[MemoryDiagnoser]
public class CurveBenchmarks
{
    private const int Rows = 100_000;
    private string _dir = "";
    private string _csv = "";
    private string _jsonl = "";
    private byte[] _csvBytes = [];
    private byte[] _shortBytes = [];
    private LossCurve _curve = null!;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "anneal-bench-" + Environment.ProcessId);
        Directory.CreateDirectory(_dir);
        var rng = new Random(42);
        var csv = new StringBuilder("step,lr,loss,val_loss\n");
        var jsonl = new StringBuilder();
        var shortCsv = new StringBuilder("step,lr,loss\n");
        for (int i = 0; i < Rows; i++)
        {
            double lr = 3e-4 * 0.5 * (1 + Math.Cos(Math.PI * i / Rows));
            double loss = 2.5 + 8.0 / Math.Sqrt(1 + i) + 0.05 * rng.NextDouble();
            string val = i % 100 == 0 ? (loss + 0.01).ToString("R", CultureInfo.InvariantCulture) : "";
            csv.Append(i).Append(',').Append(lr.ToString("R", CultureInfo.InvariantCulture)).Append(',')
               .Append(loss.ToString("R", CultureInfo.InvariantCulture)).Append(',').Append(val).Append('\n');
            jsonl.Append("{\"step\": ").Append(i).Append(", \"lr\": ").Append(lr.ToString("R", CultureInfo.InvariantCulture))
                 .Append(", \"loss\": ").Append(loss.ToString("R", CultureInfo.InvariantCulture))
                 .Append(val.Length > 0 ? ", \"val_loss\": " + val : "").Append("}\n");
            // What most loggers write: a few significant digits (the shared MPL curves look like this).
            shortCsv.Append(i).Append(',').Append(lr.ToString("G6", CultureInfo.InvariantCulture)).Append(',')
                    .Append(loss.ToString("F4", CultureInfo.InvariantCulture)).Append('\n');
        }
        _csv = Path.Combine(_dir, "curve.csv");
        _jsonl = Path.Combine(_dir, "curve.jsonl");
        File.WriteAllText(_csv, csv.ToString());
        File.WriteAllText(_jsonl, jsonl.ToString());
        _csvBytes = File.ReadAllBytes(_csv);
        _shortBytes = Encoding.UTF8.GetBytes(shortCsv.ToString());
        _curve = CurveReader.Read(_csv);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    [Benchmark(Baseline = true, Description = "CSV 100k rows, from disk")]
    public int ReadCsv() => CurveReader.Read(_csv).Count;

    [Benchmark(Description = "CSV 100k rows, parse only")]
    public int ParseCsv() => CurveReader.Parse(_csvBytes, _csv).Count;

    [Benchmark(Description = "CSV 100k rows, parse only, 4-6 digit numbers")]
    public int ParseShortCsv() => CurveReader.Parse(_shortBytes, "short.csv").Count;

    [Benchmark(Description = "JSON Lines 100k rows")]
    public int ReadJsonLines() => CurveReader.Read(_jsonl).Count;

    [Benchmark(Description = "SVG of 100k-point line")]
    public int RenderSvg()
    {
        var p = new SvgPlot { Title = "bench", XLabel = "step", YLabel = "loss" };
        var x = new double[_curve.Count];
        for (int i = 0; i < x.Length; i++) x[i] = _curve.Steps[i];
        p.AddLine("loss", x, _curve.Loss!);
        return p.Render().Length;
    }
}
