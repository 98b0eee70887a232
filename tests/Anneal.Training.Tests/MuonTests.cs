using Anneal.Training.Models;
using Anneal.Training.Optim;
using MathNet.Numerics.LinearAlgebra;

namespace Anneal.Training.Tests;

/// <summary>
/// Muon (Jordan et al. 2024; Liu et al. 2025): the Newton–Schulz orthogonalisation against an SVD from MathNet.Numerics,
/// one and two updates against the formula worked by hand, the AdamW-routed parameters against <c>adamw</c> itself, and
/// which parameters of each model it orthogonalises. Training end to end is in <see cref="TrainerTests"/>.
/// </summary>
public class MuonTests
{
    /// <summary>The quintic of Jordan et al. 2024 applied five times to one singular value: p(s) = 3.4445 s − 4.7750 s³ + 2.0315 s⁵.</summary>
    private static double Quintic5(double s)
    {
        for (int i = 0; i < 5; i++) s = 3.4445 * s - 4.7750 * s * s * s + 2.0315 * s * s * s * s * s;
        return s;
    }

    [Theory]
    [InlineData(12, 20)]
    [InlineData(20, 12)] // more rows than columns: iterated on the transpose
    [InlineData(9, 9)]
    public void Newton_Schulz_maps_each_singular_value_by_the_quintic_and_keeps_the_singular_vectors(int rows, int cols)
    {
        var rng = new Rng(7);
        var g = Enumerable.Range(0, rows * cols).Select(_ => rng.NextNormal()).ToArray();
        var o = new double[g.Length];
        new NewtonSchulz<double>(5).Orthogonalize(g, rows, cols, o);

        // independent source: MathNet's SVD G = U S Vᵀ; Newton–Schulz acts on S alone, each s/(‖G‖_F + 1e-7) mapped by p⁵
        var G = Matrix<double>.Build.DenseOfRowMajor(rows, cols, g);
        var svd = G.Svd(computeVectors: true);
        double norm = G.FrobeniusNorm() + 1e-7;
        int k = Math.Min(rows, cols);
        var f = Enumerable.Range(0, k).Select(i => Quintic5(svd.S[i] / norm)).ToArray();
        var O = Matrix<double>.Build.DenseOfRowMajor(rows, cols, o);
        // singular vectors: Uᵀ O V is diagonal with p⁵(sᵢ) on the diagonal (signs fixed by MathNet's own U and V)
        var d = svd.U.Transpose() * O * svd.VT.Transpose();
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                d[i, j].ShouldBe(i == j ? f[i] : 0.0, 1e-10, $"(UᵀOV)[{i},{j}]");

        // the band: every input singular value here is above 0.0015 ‖G‖_F, where five steps land in [0.68, 1.21]
        (svd.S[k - 1] / norm).ShouldBeGreaterThan(0.0015);
        foreach (var s in O.Svd(computeVectors: false).S) s.ShouldBeInRange(0.68, 1.21);
        // and not trivially: the inputs' normalised singular values spread over a decade or more
        (svd.S[0] / svd.S[k - 1]).ShouldBeGreaterThan(k == 9 ? 10 : 3);

        // the training precision (float) agrees with double to float's rounding
        var of = new float[g.Length];
        new NewtonSchulz<float>(5).Orthogonalize(g.Select(x => (float)x).ToArray(), rows, cols, of);
        for (int i = 0; i < o.Length; i++) ((double)of[i]).ShouldBe(o[i], 2e-5);
    }

    [Fact]
    public void Newton_Schulz_of_a_zero_matrix_is_zero()
    {
        var o = new double[6];
        new NewtonSchulz<double>(5).Orthogonalize(new double[6], 2, 3, o);
        o.ShouldAllBe(x => x == 0);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Two_Muon_updates_equal_the_formula_by_hand(bool nesterov)
    {
        // a 3x2 hidden matrix (more rows than columns) with gradient G1 = Q diag(3, 4): singular values 3 and 4, left
        // vectors (0.6, 0, 0.8) and (0, 1, 0), right vectors e1 and e2; ‖G1‖_F = 5. A multiple cG1 orthogonalises to
        // sign(c) Q diag(p⁵(3|c|/(5|c| + 1e-7)), p⁵(4|c|/(5|c| + 1e-7))) (p odd)
        double lr = 0.02, wd = 0.1, mu = 0.9, scale = 0.2 * Math.Sqrt(3); // 0.2 √max(rows, cols)
        double[] w0 = [0.5, -0.2, 0.1, 0.3, -0.4, 0.25], g1 = [1.8, 0, 0, 4, 2.4, 0];
        double[] Orth(double c)
        {
            double a = Math.Sign(c) * Quintic5(3 * Math.Abs(c) / (5 * Math.Abs(c) + 1e-7)), b = Math.Sign(c) * Quintic5(4 * Math.Abs(c) / (5 * Math.Abs(c) + 1e-7));
            return [0.6 * a, 0, 0, b, 0.8 * a, 0];
        }
        double[] Step(double[] w, double[] o) => w.Select((x, i) => x - lr * (scale * o[i] + wd * x)).ToArray();

        var p = new Tensor<double>((double[])w0.Clone(), [3, 2], requiresGrad: true) { Name = "h.w", Decay = true };
        var opt = Optimizer<double>.Create($"muon(momentum=0.9, nesterov={(nesterov ? "true" : "false")}, wd=0.1)", [p]);
        // update 1: M = G1; U = G1 + μM = 1.9 G1 (Nesterov) or M = G1
        g1.CopyTo(p.Grad, 0); opt.Step(lr);
        var want1 = Step(w0, Orth(nesterov ? 1 + mu : 1));
        for (int i = 0; i < 6; i++) p.Data[i].ShouldBe(want1[i], 1e-12);
        // update 2 with G2 = -0.5 G1: M = μG1 + G2 = 0.4 G1; U = G2 + μM = -0.14 G1 (Nesterov: the direction flips) or M = 0.4 G1
        g1.Select(x => -0.5 * x).ToArray().CopyTo(p.Grad, 0); opt.Step(lr);
        var want2 = Step(want1, Orth(nesterov ? -0.5 + mu * (mu - 0.5) : mu - 0.5));
        for (int i = 0; i < 6; i++) p.Data[i].ShouldBe(want2[i], 1e-12);
    }

    [Fact]
    public void Parameters_left_to_AdamW_move_bit_for_bit_as_adamw_moves_them()
    {
        var rng = new Rng(3);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)rng.NextNormal()).ToArray();
        Tensor<float> T(string name, float[] v, int[] shape, bool decay, bool io = false) => new((float[])v.Clone(), shape, requiresGrad: true) { Name = name, Decay = decay, InputOrOutput = io };
        float[] e = Values(24), h = Values(20), b = Values(5), s = Values(4);
        // an embedding (a matrix, but an input layer), a hidden matrix, a bias and a norm gain (not decayed)
        var mine = new[] { T("wte", e, [6, 4], true, io: true), T("h.w", h, [4, 5], true), T("h.b", b, [5], false), T("ln.w", s, [4], false) };
        var theirs = new[] { T("wte", e, [6, 4], true, io: true), T("h.b", b, [5], false), T("ln.w", s, [4], false) };
        var muon = Optimizer<float>.Create("muon(wd=0.3, adam_b1=0.8, adam_b2=0.99, adam_eps=1e-6, adam_wd=0.05)", mine);
        var adamw = Optimizer<float>.Create("adamw(b1=0.8, b2=0.99, eps=1e-6, wd=0.05)", theirs);
        for (int step = 0; step < 7; step++)
        {
            foreach (var (m, t) in new[] { (mine[0], theirs[0]), (mine[2], theirs[1]), (mine[3], theirs[2]) })
            {
                var g = Values(m.Length);
                g.CopyTo(m.Grad, 0); g.CopyTo(t.Grad, 0);
            }
            Values(mine[1].Length).CopyTo(mine[1].Grad, 0);
            double lr = 1e-2 * (step + 1) / 7;
            muon.Step(lr); adamw.Step(lr);
        }
        static int[] Bits(float[] a) => a.Select(BitConverter.SingleToInt32Bits).ToArray();
        Bits(mine[0].Data).ShouldBe(Bits(theirs[0].Data));
        Bits(mine[2].Data).ShouldBe(Bits(theirs[1].Data));
        Bits(mine[3].Data).ShouldBe(Bits(theirs[2].Data));
        // they moved, and so did the hidden matrix (by Muon: its values are checked by hand above)
        mine[0].Data.ShouldNotBe(e);
        mine[1].Data.ShouldNotBe(h);
    }

    [Fact]
    public void Muon_orthogonalises_the_hidden_matrices_only()
    {
        static string[] Hidden(ITextModel m) => m.Parameters.Where(Muon<float>.Orthogonalizes).Select(p => p.Name!).ToArray();
        // GPT: the four matrices of each block; not the (tied) token embedding, the positions, norms or biases
        Hidden(TextModels.Create("gpt-tiny", 1)).ShouldBe(["h.0.attn.qkv.w", "h.0.attn.proj.w", "h.0.mlp.fc.w", "h.0.mlp.proj.w", "h.1.attn.qkv.w", "h.1.attn.proj.w", "h.1.mlp.fc.w", "h.1.mlp.proj.w"]);
        // MLP over one-hot bytes: the first layer is an embedding, the last the output head
        Hidden(TextModels.Create("mlp(layers=3, hidden=32)", 1)).ShouldBe(["l1.w", "l2.w"]);
        Hidden(TextModels.Create("mlp(layers=1, hidden=32)", 1)).ShouldBeEmpty();
        Hidden(TextModels.Create("logreg", 1)).ShouldBeEmpty();
        Muon<float>.Scale(512, 128).ShouldBe(0.2 * Math.Sqrt(512), 1e-15);
    }

    [Fact]
    public void Muon_spec_round_trips_its_defaults()
    {
        var spec = Optimizer<float>.Create("muon", []).Spec;
        spec.ShouldBe("muon(momentum=0.95, nesterov=true, ns_steps=5, wd=0.1, adam_b1=0.9, adam_b2=0.95, adam_eps=1e-08, adam_wd=0.1)");
        Optimizer<float>.Create(spec, []).Spec.ShouldBe(spec);
    }

    [Theory]
    [InlineData("muon(momentum=1)", "momentum must be in [0, 1)")]
    [InlineData("muon(ns_steps=0)", "ns_steps must be a whole number from 1 to 20")]
    [InlineData("muon(ns_steps=21)", "ns_steps must be a whole number from 1 to 20")]
    [InlineData("muon(adam_b1=-0.1)", "adam_b1 must be in [0, 1)")]
    [InlineData("muon(adam_eps=-1)", "adam_eps must be a finite number >= 0")]
    [InlineData("muon(wd=-1)", "wd must be a finite weight decay >= 0")]
    [InlineData("muon(adam_wd=-1)", "adam_wd must be a finite weight decay >= 0")]
    public void Bad_hyperparameters_are_refused_naming_them(string spec, string message)
    {
        Should.Throw<Anneal.Specs.SpecException>(() => Optimizer<float>.Create(spec, [])).Message.ShouldContain(message);
    }
}
