using Anneal.Schedules;
using BenchmarkDotNet.Attributes;

namespace Anneal.Bench;

/// <summary>
/// Sampling a million steps: the range <c>Fill</c> overrides (vectorised cosine, block-filled WSD
/// phases, join/warmup delegating whole ranges) against the per-step <c>At</c> loop.
/// Run: dotnet run -c Release --project bench/Anneal.Bench -- --filter '*ScheduleBenchmarks*' --job short
/// </summary>
[MemoryDiagnoser]
public class ScheduleBenchmarks
{
    private const int N = 1_000_000;
    private readonly double[] _buffer = new double[N];

    private readonly Schedule _cosine = Schedule.Parse("cosine(peak=3e-4, total=1000000, warmup=10000, min=3e-5)");
    private readonly Schedule _wsd = Schedule.Parse("wsd(peak=3e-4, total=1000000, warmup=10000, decay=0.2, shape=sqrt, min=3e-5)");
    private readonly Schedule _composed = Schedule.Parse(
        "warmup(join(cosine(peak=3e-4, total=600000, min=1e-4), wsd(peak=1e-4, total=390000, decay=0.3, shape=cosine, min=1e-5), at=[600000]), steps=10000)");

    [Benchmark(Description = "cosine Sample(1M)")]
    public double[] CosineSample() => _cosine.Sample(N);

    [Benchmark(Description = "cosine Fill(1M), no allocation")]
    public double[] CosineFill()
    {
        _cosine.Fill(_buffer);
        return _buffer;
    }

    [Benchmark(Description = "cosine At() loop (1M)")]
    public double[] CosineAtLoop()
    {
        for (int t = 0; t < N; t++) _buffer[t] = _cosine.At(t);
        return _buffer;
    }

    [Benchmark(Description = "wsd sqrt Sample(1M)")]
    public double[] WsdSample() => _wsd.Sample(N);

    [Benchmark(Description = "wsd sqrt Fill(1M), no allocation")]
    public double[] WsdFill()
    {
        _wsd.Fill(_buffer);
        return _buffer;
    }

    [Benchmark(Description = "wsd sqrt At() loop (1M)")]
    public double[] WsdAtLoop()
    {
        for (int t = 0; t < N; t++) _buffer[t] = _wsd.At(t);
        return _buffer;
    }

    [Benchmark(Description = "warmup(join(cosine, wsd)) Sample(1M)")]
    public double[] ComposedSample() => _composed.Sample(N);

    [Benchmark(Description = "warmup(join(cosine, wsd)) Fill(1M), no allocation")]
    public double[] ComposedFill()
    {
        _composed.Fill(_buffer);
        return _buffer;
    }
}
