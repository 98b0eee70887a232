using BenchmarkDotNet.Attributes;
using Anneal.Training;
using Anneal.Training.Models;
using Anneal.Training.Optim;

namespace Anneal.Bench;

/// <summary>
/// Matrix-product throughput (OpenBLAS vs the managed SIMD kernel) and one full gpt-tiny training step
/// (forward, backward, clip, AdamW) at batch 16 x 64 tokens.
/// Run: dotnet run -c Release --project bench/Anneal.Bench -- --filter '*TrainingBenchmarks*'
/// GFLOP/s = 2·M·N·K / time.
/// </summary>
[MemoryDiagnoser]
public class TrainingBenchmarks
{
    private float[] _a = [], _b = [], _c = [];
    private Gpt<float> _model = null!;
    private Optimizer<float> _opt = null!;
    private int[] _x = [], _y = [];

    /// <summary>Square size of the matrix product (the gpt-small MLP is 2048 x 1024 x 256).</summary>
    [Params(256, 512)]
    public int N { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Engine.Threads = Threads;
        var rng = new Rng(1);
        _a = Enumerable.Range(0, N * N).Select(_ => (float)rng.NextNormal()).ToArray();
        _b = Enumerable.Range(0, N * N).Select(_ => (float)rng.NextNormal()).ToArray();
        _c = new float[N * N];
        _model = new Gpt<float>(GptConfig.Parse("gpt-tiny"), 1);
        _opt = Optimizer<float>.Create("adamw", _model.Parameters);
        _x = Enumerable.Range(0, 16 * 64).Select(_ => rng.NextInt(256)).ToArray();
        _y = Enumerable.Range(0, 16 * 64).Select(_ => rng.NextInt(256)).ToArray();
    }

    [Benchmark(Baseline = true)]
    public void MatMulOpenBlas()
    {
        Gemm.UseBlas = true;
        Gemm.Run(false, false, N, N, N, 1f, _a, N, _b, N, 0f, _c, N);
    }

    [Benchmark]
    public void MatMulManaged()
    {
        Gemm.UseBlas = false;
        try { Gemm.Run(false, false, N, N, N, 1f, _a, N, _b, N, 0f, _c, N); }
        finally { Gemm.UseBlas = true; }
    }

    [Benchmark]
    public double GptTinyTrainStep()
    {
        _opt.ZeroGrad();
        using var _ = Arena.Begin();
        var loss = _model.Loss(_x, _y, 16, 64);
        double v = loss.Item();
        loss.Backward();
        GradClip.ClipGlobalNorm(_model.Parameters, 1.0);
        _opt.Step(1e-4);
        return v;
    }
}
