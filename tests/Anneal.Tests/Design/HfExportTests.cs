using Anneal.Design;
using Anneal.Schedules;

namespace Anneal.Tests.Design;

/// <summary>
/// The HF mapping checked against HF transformers' own test vectors (schedules.md: lr 10, W 2, N 10,
/// value before each step; HF prints 2-3 decimals): the exported type + kwargs, evaluated with HF's
/// formulas, must reproduce the vector, and must equal Anneal's schedule at every step.
/// </summary>
public class HfExportTests
{
    [Theory]
    [InlineData("linear(peak=10, total=10, warmup=2)", "linear", new[] { 0, 5, 10, 8.75, 7.5, 6.25, 5, 3.75, 2.5, 1.25 })]
    [InlineData("cosine(peak=10, total=10, warmup=2)", "cosine", new[] { 0, 5, 10, 9.61, 8.53, 6.91, 5.0, 3.08, 1.46, 0.38 })]
    [InlineData("cosine_restarts(peak=10, total=10, warmup=2, cycles=2)", "cosine_with_restarts", new[] { 0, 5, 10, 8.53, 5, 1.46, 10, 8.53, 5, 1.46 })]
    [InlineData("polynomial(peak=10, total=10, warmup=2, power=2, end=1e-7)", "polynomial", new[] { 0, 5, 10, 7.656, 5.625, 3.906, 2.5, 1.406, 0.625, 0.156 })]
    [InlineData("inverse_sqrt(peak=10, warmup=2)", "inverse_sqrt", new[] { 0, 5, 10, 8.165, 7.071, 6.325, 5.774, 5.345, 5.0, 4.714 })]
    [InlineData("constant(peak=10, warmup=4)", "constant_with_warmup", new[] { 0, 2.5, 5, 7.5, 10, 10, 10, 10, 10, 10 })]
    [InlineData("wsd(peak=10, warmup=2, stable=2, decay_steps=3, shape=cosine, min_ratio=0.1, convention=hf)", "warmup_stable_decay", new[] { 1.0, 5.5, 10, 10, 10, 7.75, 3.25, 1, 1, 1 })]
    public void Hf_mapping_reproduces_hf_test_vectors(string spec, string type, double[] expected)
    {
        var s = Schedule.Parse(spec);
        long steps = s.Length ?? 10;
        var hf = HfExport.TryMap(s, steps, out var why);
        hf.ShouldNotBeNull(why);
        hf.Type.ShouldBe(type);
        for (int t = 0; t < expected.Length; t++)
        {
            hf.LrAt(t).ShouldBe(expected[t], 1e-2, $"step {t}");
            hf.LrAt(t).ShouldBe(s.At(t), 1e-9, $"step {t} vs Anneal");
        }
    }

    [Fact]
    public void Linear_with_min_maps_to_polynomial_power_1_exactly()
    {
        // Closed form: polynomial(power 1, lr_end m) = m + (P - m)(1 - p) = linear decay to m.
        var s = Schedule.Parse("linear(peak=3e-4, total=1000, warmup=100, min=3e-5)");
        var hf = HfExport.TryMap(s, 1000, out _)!;
        hf.Type.ShouldBe("polynomial");
        for (int t = 0; t < 1100; t += 7) hf.LrAt(t).ShouldBe(s.At(t), 1e-15);
    }

    [Theory]
    [InlineData("wsd(peak=3e-4, total=1000, warmup=100, decay=0.2, shape=square)", "shape=square")]
    [InlineData("wsd(peak=3e-4, total=1000, warmup=100, decay=0.2, shape=sqrt, min=3e-5)", "warmup starts at min")]
    [InlineData("rex(peak=3e-4, total=1000, warmup=100)", "no built-in scheduler for 'rex'")]
    [InlineData("cosine(peak=3e-4, total=1000, warmup=100, exponent=2)", "exponent 2")]
    public void Inexpressible_schedules_say_why(string spec, string reason)
    {
        HfExport.TryMap(Schedule.Parse(spec), 1000, out var why).ShouldBeNull();
        why.ShouldContain(reason);
    }

    [Fact]
    public void Total_must_match_steps()
    {
        HfExport.TryMap(Schedule.Parse("cosine(peak=1, total=100)"), 200, out var why).ShouldBeNull();
        why.ShouldContain("steps 100");
        // the parameter is marked, so a command line names its option
        var e = Should.Throw<InputException>(() => HfExport.Exact(Schedule.Parse("cosine(peak=1, total=100)"), 200));
        e.Parameters.ShouldBe(["steps"]);
        e.MessageNaming(p => "--" + p).ShouldContain("--steps 100");
    }
}
