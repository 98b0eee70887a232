using Anneal.Schedules;

namespace Anneal.Tests.Schedules;

/// <summary>
/// Every peer test vector listed in shared/docs/schedules.md, reproduced from a spec string. Each test
/// names its source; tolerances follow the peer (PyTorch/optax exact: 1e-12 relative; HF prints 2-3
/// decimals and its tests compare with tol=1e-2).
/// </summary>
public class PeerVectorTests
{
    internal static void AssertSeries(string spec, double[] expected, double relTol = 1e-12, double absTol = 1e-15)
    {
        var s = Schedule.Parse(spec);
        var fill = s.Sample(expected.Length);
        for (int t = 0; t < expected.Length; t++)
        {
            double tol = relTol * Math.Abs(expected[t]) + absTol;
            Math.Abs(s.At(t) - expected[t]).ShouldBeLessThanOrEqualTo(tol, $"{spec} At({t}) = {s.At(t):R}, expected {expected[t]:R}");
            Math.Abs(fill[t] - expected[t]).ShouldBeLessThanOrEqualTo(tol, $"{spec} Fill[{t}] = {fill[t]:R}, expected {expected[t]:R}");
        }
    }

    private static double[] Rep(params (double Value, int Count)[] runs) => runs.SelectMany(r => Enumerable.Repeat(r.Value, r.Count)).ToArray();

    // ---------------- PyTorch test_lr_scheduler (base lr 0.05, value before each step) ----------------

    [Fact] // PyTorch test_lr_scheduler StepLR(gamma=0.1, step_size=3)
    public void PyTorch_StepLR() =>
        AssertSeries("step(peak=0.05, every=3, gamma=0.1)", Rep((0.05, 3), (0.005, 3), (0.0005, 3), (0.00005, 3)));

    [Fact] // PyTorch test_lr_scheduler MultiStepLR(milestones=[2,5,9], gamma=0.1)
    public void PyTorch_MultiStepLR() =>
        AssertSeries("multistep(peak=0.05, milestones=[2, 5, 9], gamma=0.1)", Rep((0.05, 2), (0.005, 3), (0.0005, 4), (0.00005, 3)));

    [Fact] // timm MultiStepLRScheduler counts milestones <= t + 1: the same drops one step earlier
    public void Timm_MultiStep_DecaysOneStepEarlier() =>
        AssertSeries("multistep(peak=0.05, milestones=[2, 5, 9], convention=timm)", Rep((0.05, 1), (0.005, 3), (0.0005, 4), (0.00005, 4)));

    [Fact] // PyTorch test_lr_scheduler LinearLR(start_factor=0.5, total_iters=4)
    public void PyTorch_LinearLR() =>
        AssertSeries("linear(peak=0.05, total=4, start_factor=0.5)", [0.025, 0.03125, 0.0375, 0.04375, .. Enumerable.Repeat(0.05, 6)]);

    [Fact] // PyTorch test_lr_scheduler ConstantLR(factor=0.5, total_iters=5), as a join of two constants
    public void PyTorch_ConstantLR() =>
        AssertSeries("join(constant(peak=0.025), constant(peak=0.05), at=[5])", Rep((0.025, 5), (0.05, 5)));

    [Fact] // PyTorch test_lr_scheduler CyclicLR triangular (base 1, max 5, step_size_up 4): lr and cycled momentum
    public void PyTorch_CyclicLR_Triangular()
    {
        AssertSeries("cyclic(base=1, max=5, up=4)", [1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3]);
        var s = (CyclicSchedule)Schedule.Parse("cyclic(base=1, max=5, up=4)");
        var m = s.Momentum(baseMomentum: 1, maxMomentum: 5);
        AssertSeries(m.Spec, [5, 4, 3, 2, 1, 2, 3, 4, 5, 4, 3]);
    }

    [Fact] // PyTorch test_lr_scheduler CyclicLR triangular2
    public void PyTorch_CyclicLR_Triangular2() =>
        AssertSeries("cyclic(base=1, max=5, up=4, mode=triangular2)", [1, 2, 3, 4, 5, 4, 3, 2, 1, 1.5, 2, 2.5, 3, 2.5, 2, 1.5, 1, 1.25, 1.5, 1.75, 2, 1.75]);

    [Fact] // PyTorch test_lr_scheduler CyclicLR step_size_up=4, step_size_down=6
    public void PyTorch_CyclicLR_UpDown() =>
        AssertSeries("cyclic(base=1, max=5, up=4, down=6)", [1, 2, 3, 4, 5, 13.0 / 3, 11.0 / 3, 3, 7.0 / 3, 5.0 / 3, 1]);

    [Fact] // PyTorch test_lr_scheduler OneCycleLR linear (max_lr 25, final_div_factor 2, total 10, momentum 1..22)
    public void PyTorch_OneCycleLR_Linear()
    {
        const string spec = "onecycle(peak=25, total=10, final_div=2, anneal=linear)";
        AssertSeries(spec, [1, 13, 25, 21.5, 18, 14.5, 11, 7.5, 4, 0.5]);
        var m = ((OneCycleSchedule)Schedule.Parse(spec)).Momentum(baseMomentum: 1, maxMomentum: 22);
        AssertSeries(m.Spec, [22, 11.5, 1, 4, 7, 10, 13, 16, 19, 22]);
    }

    [Fact] // PyTorch test_lr_scheduler OneCycleLR three_phase (pct_start 0.4, final_div_factor 4, linear)
    public void PyTorch_OneCycleLR_ThreePhase() =>
        AssertSeries("onecycle(peak=25, total=10, pct=0.4, final_div=4, anneal=linear, three_phase=true)", [1, 9, 17, 25, 17, 9, 1, 0.75, 0.5, 0.25]);

    [Fact] // PyTorch test_lr_scheduler SequentialLR(ConstantLR 0.1 x3 -> ExponentialLR 0.8 -> StepLR 0.1/2; milestones [3, 6])
    public void PyTorch_SequentialLR() =>
        AssertSeries("join(constant(peak=0.005), exponential(peak=0.05, gamma=0.8), step(peak=0.05, every=2), at=[3, 6])",
            [0.005, 0.005, 0.005, 0.05, 0.04, 0.032, 0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005]);

    [Fact] // PyTorch test_lr_scheduler ReduceLROnPlateau (metrics 10 - 0.0165 i, patience 5, abs threshold 0.1, base lr 0.5)
    public void PyTorch_ReduceLROnPlateau()
    {
        var p = ReduceOnPlateau.Parse("plateau(peak=0.5, patience=5, threshold=0.1, threshold_mode=abs)");
        double[] expected = Rep((0.5, 6), (0.05, 7), (0.005, 7), (0.0005, 2));
        for (int i = 0; i < expected.Length; i++)
        {
            double lr = p.Step(10 - i * 0.0165);
            Math.Abs(lr - expected[i]).ShouldBeLessThanOrEqualTo(1e-12 * expected[i], $"evaluation {i}");
        }
    }

    [Fact] // PyTorch ReduceLROnPlateau semantics: mode max with rel threshold and a cooldown (hand-derived from the documented rules)
    public void PyTorch_ReduceLROnPlateau_MaxCooldown()
    {
        var p = ReduceOnPlateau.Parse("plateau(peak=1, mode=max, factor=0.5, patience=1, cooldown=2, min=0.2)");
        // metric flat at 1: best=1 at eval 0, bad 1, bad 2 > 1 -> 0.5 (cooldown 2), two cooled evals, then bad 1, bad 2 -> 0.25, ..., floor 0.2
        double[] lrs = Enumerable.Range(0, 12).Select(_ => p.Step(1.0)).ToArray();
        lrs.ShouldBe([1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2, 0.2]);
    }

    // ---------------- HF transformers optimization tests (lr 10, W 2, N 10; tol 1e-2) ----------------

    [Fact] // HF transformers get_linear_schedule_with_warmup
    public void Hf_Linear() => AssertSeries("linear(peak=10, total=10, warmup=2)", [0, 5, 10, 8.75, 7.5, 6.25, 5, 3.75, 2.5, 1.25], 0, 1e-2);

    [Fact] // HF transformers get_cosine_schedule_with_warmup
    public void Hf_Cosine() => AssertSeries("cosine(peak=10, total=10, warmup=2)", [0, 5, 10, 9.61, 8.53, 6.91, 5.0, 3.08, 1.46, 0.38], 0, 1e-2);

    [Fact] // HF transformers get_cosine_with_hard_restarts_schedule_with_warmup(num_cycles=2)
    public void Hf_CosineHardRestarts() =>
        AssertSeries("cosine_restarts(peak=10, total=10, warmup=2, cycles=2)", [0, 5, 10, 8.53, 5, 1.46, 10, 8.53, 5, 1.46], 0, 1e-2);

    [Fact] // HF transformers get_polynomial_decay_schedule_with_warmup(power=2, lr_end=1e-7)
    public void Hf_Polynomial() =>
        AssertSeries("polynomial(peak=10, total=10, warmup=2, power=2, end=1e-7)", [0, 5, 10, 7.656, 5.625, 3.906, 2.5, 1.406, 0.625, 0.156], 0, 1e-2);

    [Fact] // HF transformers get_inverse_sqrt_schedule
    public void Hf_InverseSqrt() =>
        AssertSeries("inverse_sqrt(peak=10, warmup=2)", [0, 5, 10, 8.165, 7.071, 6.325, 5.774, 5.345, 5.0, 4.714], 0, 1e-2);

    [Fact] // HF transformers get_constant_schedule_with_warmup(num_warmup_steps=4)
    public void Hf_ConstantWithWarmup() => AssertSeries("constant(peak=10, warmup=4)", [0, 2.5, 5, 7.5, 10, 10, 10, 10, 10, 10], 0, 1e-2);

    [Fact] // HF transformers get_wsd_schedule (W 2, stable 2, decay 3, min_lr_ratio 0.1, cosine), values computed from its code
    public void Hf_Wsd() =>
        AssertSeries("wsd(peak=10, warmup=2, stable=2, decay_steps=3, shape=cosine, min_ratio=0.1, convention=hf)", [1.0, 5.5, 10, 10, 10, 7.75, 3.25, 1, 1, 1], 1e-12);

    // ---------------- optax schedule tests (exact, 1e-12 relative) ----------------

    [Fact] // optax polynomial_schedule(init 10, end 20, power 1, transition_steps 10)
    public void Optax_Polynomial() => AssertSeries("polynomial(peak=10, total=10, end=20)", [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 20]);

    [Fact] // optax piecewise_constant_schedule(0.1, {3: 2, 6: 0.5})
    public void Optax_PiecewiseConstant() =>
        AssertSeries("piecewise_constant(init=0.1, at=[3, 6], scales=[2, 0.5])", [0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1]);

    [Fact] // optax exponential_decay(32, transition_steps 1, decay_rate 0.5)
    public void Optax_Exponential() => AssertSeries("exponential(peak=32, gamma=0.5)", [32, 16, 8, 4, 2]);

    [Fact] // optax cosine_decay_schedule(0.1, 100, exponent 2) at 0, 10, 50, 75, 100; optax's expected values are float32 results, so 1e-6 relative
    public void Optax_CosineExponent()
    {
        var s = Schedule.Parse("cosine(peak=0.1, total=100, exponent=2)");
        long[] at = [0, 10, 50, 75, 100];
        double[] expected = [0.1, 0.09516553580760956, 0.025, 0.0021446612663567066, 0.0];
        for (int i = 0; i < at.Length; i++) Math.Abs(s.At(at[i]) - expected[i]).ShouldBeLessThanOrEqualTo(1e-6 * expected[i] + 1e-15, $"step {at[i]}");
    }

    [Fact] // optax warmup_cosine_decay_schedule(init 0.2, peak 1.21, end -3, warmup 50, decay 100, exponent 2) at 0, 10, 50, 75, 100
    public void Optax_WarmupCosine()
    {
        var s = Schedule.Parse("warmup(cosine(peak=1.21, total=50, min=-3, exponent=2), steps=50, start=0.2)");
        long[] at = [0, 10, 50, 75, 100];
        double[] expected = [0.2, 0.402, 1.21, -1.9475, -3.0];
        for (int i = 0; i < at.Length; i++) Math.Abs(s.At(at[i]) - expected[i]).ShouldBeLessThanOrEqualTo(1e-12 * Math.Abs(expected[i]), $"step {at[i]}");
    }

    [Fact] // optax linear_onecycle_schedule(10, 1000, 0.3, 0.7, 10, 100), via onecycle and via piecewise
    public void Optax_LinearOnecycle()
    {
        double[] expected = [100, 400, 700, 1000, 775, 550, 325, 100, 67, 34, 1, 1];
        AssertSeries("onecycle(peak=1000, total=10, pct=0.3, div=10, final_div=100, anneal=linear, three_phase=true, convention=optax, pct_final=0.7)", expected);
        AssertSeries("piecewise(init=100, at=[3, 7, 10], scales=[10, 0.1, 0.01])", expected);
    }

    [Fact] // optax cosine_onecycle_schedule(5, 1000, 0.4, 10, 100)
    public void Optax_CosineOnecycle() =>
        AssertSeries("onecycle(peak=1000, total=5, pct=0.4, div=10, final_div=100, convention=optax)", [100, 550, 1000, 750.25, 250.75, 1, 1]);

    // ---------------- papers ----------------

    [Fact] // REX paper (Chen et al.): T 5, max 1, min 0 at t = 1..5, printed to 6 decimals
    public void Rex_Paper()
    {
        var s = Schedule.Parse("rex(peak=1, total=5)");
        double[] expected = [0.888888, 0.749999, 0.571428, 0.333333, 0.0];
        for (int t = 1; t <= 5; t++) Math.Abs(s.At(t) - expected[t - 1]).ShouldBeLessThanOrEqualTo(2e-6, $"t={t}");
    }

    [Fact] // Defazio et al. refinement: constant gradient norms G = 1 x5 give linear decay 1, 0.75, 0.5, 0.25, 0
    public void Refined_ConstantNorms() => AssertSeries("refined(peak=1, norms=[1, 1, 1, 1, 1])", [1, 0.75, 0.5, 0.25, 0]);

    [Fact] // kozistr/pytorch_optimizer WSD test (W 2, S 2, D 3, min ratio 0.1, lr 1e-3, warmup (t+1)/W, cosine cooldown)
    public void Kozistr_Wsd() =>
        AssertSeries("wsd(peak=1e-3, warmup=2, stable=2, decay_steps=3, shape=cosine, min_ratio=0.1, convention=kozistr)",
            [0.0005, 0.001, 0.001, 0.001, 0.000775, 0.000325, 0.0001, 0.0001, 0.0001]);
}
