using Anneal.Training.Models;
using Anneal.Training.Optim;

namespace Anneal.Training.Tests;

/// <summary>Each optimizer's first steps against its closed form, and descent on a convex problem.</summary>
public class OptimizerTests
{
    private static Tensor<double> P(double value, bool decay = true) => new([value], [1], requiresGrad: true) { Name = "p", Decay = decay };

    private static double[] Run(string spec, double p0, double[] grads, double lr)
    {
        var p = P(p0);
        var opt = Optimizer<double>.Create(spec, [p]);
        var trace = new List<double>();
        foreach (var g in grads) { p.Grad[0] = g; opt.Step(lr); trace.Add(p.Data[0]); }
        return trace.ToArray();
    }

    [Fact]
    public void Adam_first_step_is_minus_lr_times_sign_of_gradient()
    {
        // bias-corrected m̂ = g, v̂ = g² at t=1 → Δ = -lr·g/(|g|+eps)
        Run("adam(eps=0)", 1.0, [0.37], 0.01)[0].ShouldBe(1.0 - 0.01, 1e-15);
        Run("adam(eps=0)", 1.0, [-250.0], 0.01)[0].ShouldBe(1.0 + 0.01, 1e-15);
    }

    [Fact]
    public void Adam_second_step_matches_the_bias_corrected_closed_form()
    {
        double b1 = 0.9, b2 = 0.999, lr = 0.1, g1 = 2.0, g2 = -0.5;
        double m2 = b1 * (1 - b1) * g1 + (1 - b1) * g2, v2 = b2 * (1 - b2) * g1 * g1 + (1 - b2) * g2 * g2;
        double want = 1.0 - lr - lr * (m2 / (1 - b1 * b1)) / (Math.Sqrt(v2 / (1 - b2 * b2)) + 1e-8);
        Run("adam", 1.0, [g1, g2], lr)[1].ShouldBe(want, 1e-9);
    }

    [Fact]
    public void Adam_L2_decay_is_added_to_the_gradient_but_AdamW_decay_is_decoupled()
    {
        // Adam: g' = g + λθ = 0 + 0.5·2 = 1 → first step still -lr·sign(g') = -lr
        Run("adam(wd=0.5, eps=0)", 2.0, [0.0], 0.1)[0].ShouldBe(1.9, 1e-15);
        // AdamW: θ ← θ - lr·λ·θ - lr·sign(g) = 2 - 0.1·0.5·2 - 0.1 = 1.8
        Run("adamw(wd=0.5, eps=0)", 2.0, [3.0], 0.1)[0].ShouldBe(1.8, 1e-15);
    }

    [Fact]
    public void Sgd_momentum_and_nesterov_closed_forms()
    {
        // constant g = c: v1 = c, v2 = (1+μ)c; heavy ball θ2 = θ0 - lr(c + (1+μ)c); Nesterov u_t = c + μ v_t
        double c = 2, mu = 0.9, lr = 0.1;
        var hb = Run("sgd(momentum=0.9)", 0, [c, c], lr);
        hb[0].ShouldBe(-lr * c, 1e-15);
        hb[1].ShouldBe(-lr * c - lr * (1 + mu) * c, 1e-14);
        var nv = Run("sgd(momentum=0.9, nesterov=true)", 0, [c, c], lr);
        nv[0].ShouldBe(-lr * (c + mu * c), 1e-15);
        nv[1].ShouldBe(-lr * (c + mu * c) - lr * (c + mu * (1 + mu) * c), 1e-14);
        Run("sgd(momentum=0, wd=0.5)", 2, [1], lr)[0].ShouldBe(2 - lr * (1 + 0.5 * 2), 1e-15);
    }

    [Fact]
    public void NAdamW_first_step_is_one_plus_beta1_times_sign()
    {
        // m̃ = (β1(1-β1)g + (1-β1)g)/(1-β1) = (1+β1)g; v̂ = g² → Δ = -lr((1+β1)sign(g) + λθ)
        Run("nadamw(eps=0, wd=0)", 1.0, [0.3], 0.01)[0].ShouldBe(1.0 - 0.01 * 1.9, 1e-15);
        Run("nadamw(eps=0, wd=0.1)", 1.0, [-4], 0.01)[0].ShouldBe(1.0 + 0.019 - 0.01 * 0.1, 1e-15);
    }

    [Fact]
    public void Lion_moves_each_coordinate_by_exactly_lr()
    {
        // c1 = (1-β1)g1 → sign(g1); m1 = (1-β2)g1; c2 = β1 m1 + (1-β1) g2 = 0.9·0.01·5 - 0.1·0.2 = 0.025 > 0 → -lr again
        var t = Run("lion(wd=0)", 0, [5, -0.2, -0.2], 0.1);
        t[0].ShouldBe(-0.1, 1e-15);
        t[1].ShouldBe(-0.2, 1e-15);
        // m2 = 0.99·0.05 - 0.01·0.2 = 0.0475; c3 = 0.9·0.0475 - 0.02 = 0.02275 > 0 → -lr
        t[2].ShouldBe(-0.3, 1e-14);
        Run("lion(wd=1)", 2, [1], 0.1)[0].ShouldBe(2 - 0.1 * (1 + 2), 1e-15);
    }

    [Fact]
    public void Decay_is_skipped_for_parameters_marked_no_decay()
    {
        var p = P(2.0, decay: false);
        var opt = Optimizer<double>.Create("adamw(wd=0.5, eps=0)", [p]);
        p.Grad[0] = 1; opt.Step(0.1);
        p.Data[0].ShouldBe(1.9, 1e-15);
    }

    [Fact]
    public void Clipping_scales_to_the_max_global_norm()
    {
        var a = P(0); var b = P(0);
        a.Grad[0] = 3; b.Grad[0] = 4; // ‖g‖ = 5
        GradClip.ClipGlobalNorm([a, b], 1.0).ShouldBe(5.0, 1e-15);
        a.Grad[0].ShouldBe(0.6, 1e-15); b.Grad[0].ShouldBe(0.8, 1e-15);
    }

    [Theory]
    [InlineData("sgd(momentum=0.9, nesterov=true)", 0.1)]
    [InlineData("adam", 0.05)]
    [InlineData("adamw(wd=0.01)", 0.05)]
    [InlineData("nadamw(wd=0.01)", 0.05)]
    [InlineData("lion(wd=0.01)", 0.005)]
    public void Loss_goes_down_on_logistic_regression(string spec, double lr)
    {
        // convex: softmax regression on 3 Gaussian blobs; the loss at init is exactly ln 3 (zero weights)
        var rng = new Rng(5);
        int n = 90; var x = new double[n * 2]; var y = new int[n];
        for (int i = 0; i < n; i++) { y[i] = i % 3; x[2 * i] = 2 * Math.Cos(2 * Math.PI * y[i] / 3) + 0.5 * rng.NextNormal(); x[2 * i + 1] = 2 * Math.Sin(2 * Math.PI * y[i] / 3) + 0.5 * rng.NextNormal(); }
        var input = new Tensor<double>(x, [n, 2]);
        var model = new LogisticRegression<double>(2, 3);
        var opt = Optimizer<double>.Create(spec, model.Parameters);
        double first = double.NaN, last = double.NaN;
        for (int s = 0; s < 100; s++)
        {
            opt.ZeroGrad();
            var loss = Ops.CrossEntropy(model.Forward(input), y);
            if (s == 0) first = loss.Item();
            last = loss.Item();
            loss.Backward();
            opt.Step(lr);
        }
        first.ShouldBe(Math.Log(3), 1e-12);
        last.ShouldBeLessThan(0.3 * first);
    }

    [Fact]
    public void Unknown_optimizer_names_the_choices()
    {
        Should.Throw<Anneal.Specs.SpecException>(() => Optimizer<double>.Create("adagrad", [])).Message.ShouldContain("adamw");
        Should.Throw<Anneal.Specs.SpecException>(() => Optimizer<double>.Create("adamw(beta=3)", [])).Message.ShouldContain("beta");
    }
}
