using Anneal.Curves;
using Anneal.Curves.Logs;
using BenchmarkDotNet.Attributes;

namespace Anneal.Bench;

/// <summary>
/// Reading a 1M-step TensorBoard event file from disk (target of issue 13: under 1 s): written by
/// <see cref="TensorBoardWriter"/> with train/loss and train/learning_rate in each step's event (1M records,
/// 56 MB), and as torch.utils.tensorboard writes it, one scalar per event (2M records, 98 MB).
/// Every record's two CRC-32C checks are part of the read.
/// Run: dotnet run -c Release --project bench/Anneal.Bench -- --filter '*TrainerLogBenchmarks*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class TrainerLogBenchmarks
{
    private const int Steps = 1_000_000;
    private string _dir = "";
    private string _paired = "";
    private string _single = "";

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "anneal-bench-tb-" + Environment.ProcessId);
        Directory.CreateDirectory(_dir);
        var steps = new long[Steps];
        var loss = new double[Steps];
        var lr = new double[Steps];
        for (int i = 0; i < Steps; i++)
        {
            steps[i] = i;
            lr[i] = 3e-4 * 0.5 * (1 + Math.Cos(Math.PI * i / Steps));
            loss[i] = 2.5 + 8.0 / Math.Sqrt(1 + i);
        }
        var curve = new LossCurve { Name = "bench", Steps = steps, Loss = loss, Lr = lr };
        _paired = Path.Combine(_dir, "events.out.tfevents.1700000000.bench.1.0");
        File.WriteAllBytes(_paired, TensorBoardWriter.Encode(curve));
        // one Value per Event, as torch.utils.tensorboard's add_scalar writes
        _single = Path.Combine(_dir, "single", "events.out.tfevents.1700000000.bench.2.0");
        Directory.CreateDirectory(Path.GetDirectoryName(_single)!);
        using var f = File.Create(_single);
        var ev = new ProtoWriter();
        var sum = new ProtoWriter();
        var val = new ProtoWriter();
        for (int i = 0; i < Steps; i++)
        {
            for (int k = 0; k < 2; k++)
            {
                val.Clear();
                val.Bytes(1, k == 0 ? "train/loss"u8 : "train/learning_rate"u8);
                val.Float(2, (float)(k == 0 ? loss[i] : lr[i]));
                sum.Clear();
                sum.Bytes(1, val.Span);
                ev.Clear();
                ev.Double(1, 1.7e9 + i);
                ev.Int(2, i);
                ev.Bytes(5, sum.Span);
                TensorBoardWriter.Record(f, ev.Span);
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    [Benchmark(Description = "TensorBoard 1M steps, 2 scalars per event, from disk")]
    public int TensorBoard1MPaired() => CurveReader.Read(_paired).Count;

    [Benchmark(Description = "TensorBoard 1M steps, 1 scalar per event (2M records), from disk")]
    public int TensorBoard1MSingle() => CurveReader.Read(_single).Count;
}
