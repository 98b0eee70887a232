using Anneal.Training.Data;
using Anneal.Training.Models;

namespace Anneal.Training.Tests;

/// <summary>The logistic-regression and MLP workloads of <c>anneal train --model logreg|mlp</c>.</summary>
public class WorkloadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("anneal-workload-").FullName;

    private static TextDataset Brown()
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "tests", "Anneal.Training.Tests", "Data", "brown-sample.txt"));
        int cut = bytes.Length * 9 / 10;
        return new TextDataset("brown-sample", bytes[..cut], bytes[cut..]);
    }

    private static double[] Losses(string csv) => Anneal.Curves.CurveReader.Read(csv).Loss!;

    [Fact]
    public void Bigram_logistic_regression_converges_to_the_conditional_entropy_of_the_text()
    {
        // Independent source: logreg(context=1) is a bigram model, a convex problem whose minimum expected training
        // loss (without weight decay) is the empirical conditional entropy H(next | current) counted from the text.
        var train = Brown().Train;
        var pairs = new long[256, 256]; var first = new long[256];
        for (int i = 0; i + 1 < train.Length; i++) { pairs[train[i], train[i + 1]]++; first[train[i]]++; }
        double h = 0; long n = train.Length - 1;
        for (int a = 0; a < 256; a++) for (int b = 0; b < 256; b++) if (pairs[a, b] > 0) h -= (double)pairs[a, b] / n * Math.Log((double)pairs[a, b] / first[a]);
        h.ShouldBe(2.42, 0.01); // sanity: far below the unigram entropy (3.12)
        var cfg = new TrainConfig
        {
            Model = "logreg", Schedule = "cosine(peak=0.1, total=300, warmup=10)", Optimizer = "adamw(wd=0)", Steps = 300, Batch = 8,
            EvalEvery = 300, EvalBatches = 2, Seed = 1, Out = Path.Combine(_dir, "logreg.csv"), Threads = 2,
        };
        Trainer.Run(cfg, Brown(), TextWriter.Null);
        double tail = Losses(cfg.Out)[^100..].Average();
        tail.ShouldBeGreaterThan(h - 0.03); // minibatch noise of a 100-batch mean is about 0.01
        tail.ShouldBeLessThan(h + 0.06);
    }

    [Fact]
    public void Mlp_learns_below_the_unigram_entropy_and_resumes_bit_for_bit()
    {
        var train = Brown().Train;
        double unigram = -train.GroupBy(b => b).Sum(g => { double p = (double)g.Count() / train.Length; return p * Math.Log(p); });
        TrainConfig Cfg(string name) => new()
        {
            Model = "mlp(context=3, hidden=64)", Schedule = "cosine(peak=1e-2, total=150, warmup=10)", Steps = 150, Batch = 8, EvalEvery = 50,
            EvalBatches = 2, Seed = 3, Out = Path.Combine(_dir, name + ".csv"), Threads = 2,
        };
        var full = Trainer.Run(Cfg("full"), Brown(), TextWriter.Null);
        full.FinalValLoss.ShouldBeLessThan(unigram);
        Trainer.Run(Cfg("killed"), Brown(), TextWriter.Null, haltAfter: 120);
        Trainer.Run(Cfg("killed") with { Resume = true }, Brown(), TextWriter.Null);
        static string[] Cols(string p) => File.ReadAllLines(p).Select(l => string.Join(',', l.Split(',')[..6])).ToArray();
        Cols(Path.Combine(_dir, "killed.csv")).ShouldBe(Cols(Path.Combine(_dir, "full.csv")));
    }

    [Fact]
    public void Features_are_the_one_hot_previous_bytes_current_first()
    {
        // by hand, context 2, one sequence [5, 7, 9]: row t has byte x[t] in slot 0 and x[t-1] in slot 1 (none at t = 0)
        var m = (NgramModel)TextModels.Create("logreg(context=2)", 1);
        var f = m.Features([5, 7, 9], 1, 3);
        f.Shape.ShouldBe([3, 512]);
        int[] Hot(int row) => Enumerable.Range(0, 512).Where(i => f.Data[row * 512 + i] == 1f).ToArray();
        Hot(0).ShouldBe([5]);
        Hot(1).ShouldBe([7, 256 + 5]);
        Hot(2).ShouldBe([9, 256 + 7]);
        f.Data.Sum().ShouldBe(5f);
    }

    [Fact]
    public void Model_specs_parse_with_defaults_and_reject_bad_values()
    {
        TextModels.Create("mlp", 1).Spec.ShouldBe("mlp(context=4, hidden=256, layers=1)");
        TextModels.Create("logreg", 1).Spec.ShouldBe("logreg(context=1)");
        TextModels.Create("logreg", 1).Parameters.Sum(p => p.Length).ShouldBe(256 * 256 + 256);
        TextModels.Create("mlp(context=2, hidden=8, layers=2)", 1).Parameters.Sum(p => p.Length).ShouldBe(512 * 8 + 8 + 8 * 8 + 8 + 8 * 256 + 256);
        TextModels.Create("gpt-tiny", 1).Spec.ShouldStartWith("gpt(");
        Should.Throw<InputException>(() => TextModels.Create("mlp(context=0)", 1)).Message.ShouldContain("context");
        Should.Throw<InputException>(() => TextModels.Create("logreg(hidden=3)", 1)).Message.ShouldContain("hidden");
    }

    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }
}
