namespace Anneal.Training.Tests;

/// <summary>Every op's backward against central finite differences in float64 (GradCheck).</summary>
public class OpsGradientTests
{
    private Rng _rng = new(7);
    private Tensor<double> R(params int[] shape) => GradCheck.Rand(ref _rng, 1.0, shape);

    [Fact] public void Linear_with_bias() { var x = R(2, 3, 5); var w = R(4, 5); var b = R(4); GradCheck.Check(() => Ops.Linear(x, w, b), [x, w, b]); }
    [Fact] public void Linear_large_enough_to_split_over_threads() { var x = R(64, 40); var w = R(48, 40); GradCheck.Check(() => Ops.Linear(x, w), [w], tol: 1e-6); }
    [Fact] public void MatMul() { var a = R(2, 3, 4); var b = R(4, 5); GradCheck.Check(() => Ops.MatMul(a, b), [a, b]); }
    [Fact] public void BatchedMatMul() { var a = R(3, 2, 4); var b = R(3, 4, 5); GradCheck.Check(() => Ops.BatchedMatMul(a, b), [a, b]); }
    [Fact] public void Add_broadcast_over_leading_dims() { var a = R(3, 4); var b = R(4); GradCheck.Check(() => Ops.Add(a, b), [a, b]); }
    [Fact] public void Mul_broadcast_over_leading_dims() { var a = R(3, 4); var b = R(4); GradCheck.Check(() => Ops.Mul(a, b), [a, b]); }
    [Fact] public void Scale_and_Mean() { var a = R(3, 4); GradCheck.Check(() => Ops.Reshape(Ops.Mean(Ops.Scale(a, -2.5)), 1), [a]); }
    [Fact] public void Tanh() { var a = R(10); GradCheck.Check(() => Ops.Tanh(a), [a]); }
    [Fact] public void Gelu() { var a = R(5000); GradCheck.Check(() => Ops.Gelu(a), [a]); }
    [Fact] public void Softmax() { var a = R(3, 6); GradCheck.Check(() => Ops.Softmax(a), [a]); }
    [Fact] public void LayerNorm() { var x = R(4, 6); var w = R(6); var b = R(6); GradCheck.Check(() => Ops.LayerNorm(x, w, b), [x, w, b]); }
    [Fact] public void RmsNorm() { var x = R(4, 6); var w = R(6); GradCheck.Check(() => Ops.RmsNorm(x, w), [x, w]); }
    [Fact] public void Transpose() { var a = R(2, 3, 4); GradCheck.Check(() => Ops.Transpose(a), [a]); }
    [Fact] public void Reshape_view_shares_gradient() { var a = R(2, 6); var w = R(3, 3); GradCheck.Check(() => Ops.MatMul(Ops.Reshape(a, 4, -1), w), [a, w]); }

    [Fact]
    public void Relu_away_from_the_kink()
    {
        var a = R(20);
        for (int i = 0; i < a.Length; i++) if (Math.Abs(a.Data[i]) < 0.01) a.Data[i] = 0.5; // the derivative is undefined at 0
        GradCheck.Check(() => Ops.Relu(a), [a]);
    }

    [Fact]
    public void Embedding_with_repeated_ids()
    {
        var table = R(5, 3);
        int[] ids = [1, 4, 1, 0, 1, 2];
        GradCheck.Check(() => Ops.Embedding(table, ids, 2, 3), [table]);
    }

    [Fact]
    public void CrossEntropy_with_an_ignored_target()
    {
        var z = R(5, 7);
        int[] t = [3, 0, -1, 6, 2];
        GradCheck.Check(() => Ops.CrossEntropy(z, t), [z]);
    }

    [Fact]
    public void CrossEntropy_value_matches_log_softmax_by_hand()
    {
        // closed form: L = log(Σ exp z) - z_t, averaged over rows
        var z = Tensor<double>.From([1, 2, 3, 0.5, -1, 2], 2, 3);
        double l0 = Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3)) - 3, l1 = Math.Log(Math.Exp(0.5) + Math.Exp(-1) + Math.Exp(2)) - 0.5;
        Ops.CrossEntropy(z, [2, 0]).Item().ShouldBe((l0 + l1) / 2, 1e-12);
    }

    [Fact]
    public void Dropout_with_a_fixed_mask()
    {
        var a = R(50);
        GradCheck.Check(() => { var rng = new Rng(3); return Ops.Dropout(a, 0.3, ref rng); }, [a]);
        var r2 = new Rng(3);
        var y = Ops.Dropout(a, 0.3, ref r2);
        int zeros = y.Data.Count(v => v == 0);
        zeros.ShouldBeInRange(5, 25); // Binomial(50, 0.3): mean 15, sd 3.2
        for (int i = 0; i < a.Length; i++) if (y.Data[i] != 0) y.Data[i].ShouldBe(a.Data[i] / 0.7, 1e-12);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CausalSelfAttention(bool rotary)
    {
        var qkv = GradCheck.Rand(ref _rng, 0.7, 2, 5, 3 * 8);
        var rope = rotary ? new Rope(4, 5) : null;
        GradCheck.Check(() => Attention.CausalSelfAttention(qkv, heads: 2, rope), [qkv]);
    }

    [Fact]
    public void CausalSelfAttention_matches_unfused_reference()
    {
        // reference from the separate ops: per head softmax(QKᵀ/√d + mask) V
        var qkv = GradCheck.Rand(ref _rng, 1.0, 1, 4, 6);
        var y = Attention.CausalSelfAttention(qkv, heads: 1);
        int tl = 4, d = 2;
        for (int i = 0; i < tl; i++)
        {
            var s = new double[i + 1];
            for (int j = 0; j <= i; j++) { double dot = 0; for (int c = 0; c < d; c++) dot += qkv.Data[i * 6 + c] * qkv.Data[j * 6 + d + c]; s[j] = dot / Math.Sqrt(d); }
            double mx = s.Max(), z = s.Sum(v => Math.Exp(v - mx));
            for (int c = 0; c < d; c++)
            {
                double o = 0;
                for (int j = 0; j <= i; j++) o += Math.Exp(s[j] - mx) / z * qkv.Data[j * 6 + 2 * d + c];
                y.Data[i * d + c].ShouldBe(o, 1e-12);
            }
        }
    }

    [Fact]
    public void Rope_rotation_preserves_norm_and_makes_scores_shift_invariant()
    {
        // RoFormer property: q_m·k_n depends only on m - n. Same q, k placed at (3,1) and (4,2) give equal scores.
        var rope = new Rope(4, 8);
        double Rot(int pos, double[] v, int c)
        {
            int i = c / 2; double a = pos * Math.Pow(10000, -2.0 * i / 4);
            return c % 2 == 0 ? v[c] * Math.Cos(a) - v[c + 1] * Math.Sin(a) : v[c - 1] * Math.Sin(a) + v[c] * Math.Cos(a);
        }
        double[] qq = [0.3, -1.2, 0.8, 0.5], kk = [1.1, 0.4, -0.7, 0.9];
        double D(int m, int n) { double s = 0; for (int c = 0; c < 4; c++) s += Rot(m, qq, c) * Rot(n, kk, c); return s; }
        D(3, 1).ShouldBe(D(6, 4), 1e-12);
        for (int t = 0; t < 8; t++) rope.Cos[t * 2 + 1].ShouldBe(Math.Cos(t * 0.01), 1e-12); // pair 1: angle t * 10000^(-2/4)
    }
}
