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
    public double GptTinyTrainStep() => TrainStep(_model, _opt, _x, _y, 16, 64);

    /// <summary>One training step as the trainer takes it: forward, backward, clip at 1, optimizer step at lr 1e-4; returns the loss.</summary>
    internal static double TrainStep(Gpt<float> model, Optimizer<float> opt, int[] x, int[] y, int batch, int seq)
    {
        opt.ZeroGrad();
        using var _ = Arena.Begin();
        var loss = model.Loss(x, y, batch, seq);
        double v = loss.Item();
        loss.Backward();
        GradClip.ClipGlobalNorm(model.Parameters, 1.0);
        opt.Step(1e-4);
        return v;
    }
}

/// <summary>
/// What an optimizer costs per update on one thread: the optimizer step alone (the gradients of one real batch) and the
/// whole training step (forward, backward, clip, optimizer) at batch 16 x the model's context, for AdamW and Muon on the
/// same model. Muon's extra cost is its Newton–Schulz iteration: 5 x 3 matrix products per hidden matrix, whatever the batch.
/// Run: dotnet run -c Release --project bench/Anneal.Bench -- --filter '*OptimizerBenchmarks*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class OptimizerBenchmarks
{
    private Gpt<float> _model = null!;
    private Optimizer<float> _opt = null!;
    private int[] _x = [], _y = [];
    private int _seq;

    [Params("gpt-tiny", "gpt-small")]
    public string Model { get; set; } = "gpt-tiny";

    [Params("adamw", "muon")]
    public string Optimizer { get; set; } = "adamw";

    [GlobalSetup]
    public void Setup()
    {
        Engine.Threads = 1;
        var config = GptConfig.Parse(Model);
        _seq = config.MaxSeq;
        _model = new Gpt<float>(config, 1);
        _opt = Optimizer<float>.Create(Optimizer, _model.Parameters);
        var rng = new Rng(1);
        _x = Enumerable.Range(0, 16 * _seq).Select(_ => rng.NextInt(256)).ToArray();
        _y = Enumerable.Range(0, 16 * _seq).Select(_ => rng.NextInt(256)).ToArray();
        // leaves one real batch's gradients for OptimizerStep (a step reads them and leaves them as they are)
        TrainStep();
    }

    [Benchmark]
    public void OptimizerStep() => _opt.Step(1e-4);

    [Benchmark]
    public double TrainStep() => TrainingBenchmarks.TrainStep(_model, _opt, _x, _y, 16, _seq);
}
