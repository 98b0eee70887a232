using Anneal.Training.Models;

namespace Anneal.Training.Tests;

public class ModelTests
{
    [Theory]
    [InlineData("gpt(vocab=7, layers=2, heads=2, dim=4, seq=3)")]
    [InlineData("gpt(vocab=7, layers=1, heads=2, dim=4, seq=3, rotary=true, norm=rms)")]
    public void Whole_gpt_gradient_matches_finite_differences(string spec)
    {
        var model = new Gpt<double>(GptConfig.Parse(spec), seed: 1);
        // enlarge the 0.02-scale init so that every path carries a finite-difference-visible signal
        var rng = new Rng(9);
        foreach (var p in model.Parameters) for (int i = 0; i < p.Length; i++) p.Data[i] += 0.3 * rng.NextNormal();
        int[] x = [1, 5, 2, 0, 6, 3], y = [5, 2, 4, 6, 3, 1];
        GradCheck.Check(() => Ops.Reshape(model.Loss(x, y, 2, 3), 1), model.Parameters.ToArray());
    }

    [Fact]
    public void Mlp_gradient_matches_finite_differences()
    {
        var mlp = new Mlp<double>([3, 5, 2], seed: 3);
        var rng = new Rng(4);
        var x = GradCheck.Rand(ref rng, 1, 4, 3);
        GradCheck.Check(() => mlp.Forward(x), [.. mlp.Parameters, x]);
    }

    [Fact]
    public void Parameter_count_formula_matches_the_tensors()
    {
        foreach (var spec in new[] { "gpt-tiny", "gpt-small", "gpt-tiny(rotary=true)" })
        {
            var c = GptConfig.Parse(spec);
            new Gpt<float>(c, 0).Parameters.Sum(p => (long)p.Length).ShouldBe(c.ParameterCount, spec);
        }
        GptConfig.Parse("gpt-small").ParameterCount.ShouldBeInRange(3_000_000, 5_000_000); // "a few million"
    }

    [Fact]
    public void Untrained_gpt_predicts_nearly_uniform_bytes()
    {
        // init std 0.02 → logits ≈ 0 → loss ≈ ln 256 = 5.545 (independent closed form)
        var m = new Gpt<float>(GptConfig.Parse("gpt-tiny"), 1);
        var rng = new Rng(2);
        var x = Enumerable.Range(0, 2 * 64).Select(_ => rng.NextInt(256)).ToArray();
        var y = Enumerable.Range(0, 2 * 64).Select(_ => rng.NextInt(256)).ToArray();
        m.Loss(x, y, 2, 64).Item().ShouldBe(Math.Log(256), 0.05);
    }

    [Fact]
    public void Bad_model_specs_are_rejected_with_the_reason()
    {
        Should.Throw<Anneal.Specs.SpecException>(() => GptConfig.Parse("gpt(dim=10, heads=3)")).Message.ShouldContain("divisible");
        Should.Throw<Anneal.Specs.SpecException>(() => GptConfig.Parse("bert")).Message.ShouldContain("gpt-tiny");
        GptConfig.Parse("gpt-tiny(rotary=true)").Rotary.ShouldBeTrue();
    }

    [Fact]
    public void Recycled_arena_buffers_give_bit_identical_losses_and_gradients()
    {
        // reference: plain allocation (fresh zeroed arrays); then three steps reusing dirty recycled buffers
        var m = new Gpt<float>(GptConfig.Parse("gpt(layers=2, heads=2, dim=16, seq=8, dropout=0.1)"), 3);
        int[] x = Enumerable.Range(0, 16).Select(i => (i * 37) % 256).ToArray(), y = x.Select(v => (v + 1) % 256).ToArray();
        foreach (var p in m.Parameters) p.ZeroGrad();
        double want = m.Loss(x, y, 2, 8, dropoutSeed: 5).Item();
        m.Loss(x, y, 2, 8, dropoutSeed: 5).Backward();
        var wantGrads = m.Parameters.Select(p => (float[])p.Grad.Clone()).ToArray();
        for (int rep = 0; rep < 3; rep++)
        {
            foreach (var p in m.Parameters) p.ZeroGrad();
            using (Arena.Begin())
            {
                var loss = m.Loss(x, y, 2, 8, dropoutSeed: 5);
                loss.Item().ShouldBe(want);
                loss.Backward();
            }
            for (int i = 0; i < wantGrads.Length; i++) m.Parameters[i].Grad.ShouldBe(wantGrads[i]);
        }
    }

    [Fact]
    public void Two_thread_steps_are_bit_identical_run_to_run()
    {
        // sizes chosen so every parallel path runs (row-split GEMMs, per-row norms/softmax/CE, per-head attention)
        Engine.Threads = 2;
        var cfg = GptConfig.Parse("gpt(layers=1, heads=2, dim=64, seq=32)");
        var rng = new Rng(8);
        int[] x = Enumerable.Range(0, 8 * 32).Select(_ => rng.NextInt(256)).ToArray(), y = x.Select(v => (v * 7 + 3) % 256).ToArray();
        float[][]? first = null; double firstLoss = 0;
        for (int rep = 0; rep < 6; rep++)
        {
            var m = new Gpt<float>(cfg, 1);
            double l;
            using (Arena.Begin()) { var loss = m.Loss(x, y, 8, 32); l = loss.Item(); loss.Backward(); }
            var grads = m.Parameters.Select(p => (float[])p.Grad.Clone()).ToArray();
            if (first is null) { first = grads; firstLoss = l; continue; }
            l.ShouldBe(firstLoss);
            for (int i = 0; i < grads.Length; i++) grads[i].ShouldBe(first[i], m.Parameters[i].Name);
        }
    }
}
