using Anneal.Training.Data;

namespace Anneal.Training.Tests;

/// <summary>End-to-end training on the bundled Brown slice with a very small GPT (seconds, not minutes).</summary>
public class TrainerTests : IDisposable
{
    private const string Model = "gpt(layers=1, heads=2, dim=16, seq=16)";
    private readonly string _dir = Directory.CreateTempSubdirectory("anneal-train-").FullName;

    private static TextDataset Brown()
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "tests", "Anneal.Training.Tests", "Data", "brown-sample.txt"));
        int cut = bytes.Length * 9 / 10;
        return new TextDataset("brown-sample", bytes[..cut], bytes[cut..]);
    }

    private TrainConfig Config(string name, int steps = 12, string schedule = "cosine(peak=3e-3, total=12, warmup=2)") => new()
    {
        Model = Model, Schedule = schedule, Steps = steps, Batch = 4, EvalEvery = 4, EvalBatches = 2, Seed = 42, Out = Path.Combine(_dir, name + ".csv"), Threads = 2,
    };

    private static string[] Curve(string csv) => File.ReadAllLines(csv).Select(l => string.Join(',', l.Split(',')[..6])).ToArray(); // the columns before wall-clock seconds

    [Fact]
    public void Loss_decreases_from_uniform_on_real_text()
    {
        var cfg = Config("learn", steps: 150, schedule: "cosine(peak=1e-2, total=150, warmup=10)") with { EvalEvery = 150, Batch = 8 };
        var s = Trainer.Run(cfg, Brown(), TextWriter.Null);
        var rows = File.ReadAllLines(cfg.Out);
        rows[0].ShouldBe("step,lr,loss,val_loss,grad_norm,tokens,seconds,epoch");
        rows.Length.ShouldBe(151);
        double first = double.Parse(rows[1].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture);
        first.ShouldBe(Math.Log(256), 0.05);  // untrained: uniform over 256 bytes
        // independent baseline: the byte-unigram entropy of the training text (≈ 2.96 nats); a model below it uses context
        var train = Brown().Train;
        double unigram = -train.GroupBy(b => b).Sum(g => { double p = (double)g.Count() / train.Length; return p * Math.Log(p); });
        s.FinalValLoss.ShouldBeLessThan(unigram);
    }

    [Fact]
    public void Muon_trains_gpt_tiny_on_real_text_at_adamws_learning_rate()
    {
        // a real run: gpt-tiny (0.44M parameters), 200 updates of 8 x 64 bytes, the same schedule for both optimizers
        // (Muon's update RMS is matched to AdamW's, so AdamW's learning rate carries over)
        TrainSummary Train(string optimizer) => Trainer.Run(Config("e2e-" + optimizer, steps: 200, schedule: "cosine(peak=3e-3, total=200, warmup=20)")
            with { Model = "gpt-tiny", Optimizer = optimizer, Batch = 8, EvalEvery = 200, EvalBatches = 4 }, Brown(), TextWriter.Null);
        var muon = Train("muon");
        var adamw = Train("adamw");
        // independent baseline: the byte-unigram entropy of the training text (about 2.96 nats); below it the model uses context
        var train = Brown().Train;
        double unigram = -train.GroupBy(b => b).Sum(g => { double p = (double)g.Count() / train.Length; return p * Math.Log(p); });
        muon.FinalValLoss.ShouldBeLessThan(unigram - 0.3);
        // the hidden matrices learn: with them frozen (only the AdamW-routed parameters training) this run ends at 2.85;
        // measured 2026-12-02: Muon 2.52, AdamW 2.57
        muon.FinalValLoss.ShouldBeLessThan(adamw.FinalValLoss + 0.1);
        double first = double.Parse(File.ReadAllLines(Path.Combine(_dir, "e2e-muon.csv"))[1].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture);
        first.ShouldBeGreaterThan(muon.FinalValLoss + 2); // from about ln 256 = 5.55
    }

    [Fact]
    public void Same_seed_gives_the_same_curve_bit_for_bit()
    {
        Trainer.Run(Config("a"), Brown(), TextWriter.Null);
        Trainer.Run(Config("b"), Brown(), TextWriter.Null);
        Curve(Path.Combine(_dir, "a.csv")).ShouldBe(Curve(Path.Combine(_dir, "b.csv")));
        Trainer.Run(Config("c") with { Seed = 43 }, Brown(), TextWriter.Null);
        Curve(Path.Combine(_dir, "c.csv"))[1].ShouldNotBe(Curve(Path.Combine(_dir, "a.csv"))[1]);
    }

    [Theory]
    [InlineData("adamw")]
    [InlineData("muon")] // its momentum buffers and AdamW's moments go through the checkpoint
    public void Killed_and_resumed_run_matches_the_uninterrupted_one_bit_for_bit(string optimizer)
    {
        Trainer.Run(Config("full") with { Optimizer = optimizer }, Brown(), TextWriter.Null);
        var cfg = Config("killed") with { Optimizer = optimizer };
        var halted = Trainer.Run(cfg, Brown(), TextWriter.Null, haltAfter: 10); // killed after 10 updates; last checkpoint after 8
        halted.Halted.ShouldBeTrue();
        // rows 0..6: row 7's training loss is measured by update 8's forward pass, which the checkpoint keeps pending
        File.ReadAllLines(cfg.Out).Length.ShouldBe(1 + 7);
        Trainer.Run(cfg with { Resume = true }, Brown(), TextWriter.Null);
        Curve(cfg.Out).ShouldBe(Curve(Path.Combine(_dir, "full.csv")));
    }

    [Fact]
    public void Log_rows_follow_the_laws_step_convention()
    {
        // Independent source for the loss/val index: with lr = 0 no update changes the model, so row s's training loss
        // must be the untouched model's loss on batch s+1 (measured after updates 0..s), and val_loss the untouched model's.
        var cfg = Config("zero", steps: 6, schedule: "constant(peak=0)") with { EvalEvery = 3 };
        Trainer.Run(cfg, Brown(), TextWriter.Null);
        var curve = Anneal.Curves.CurveReader.Read(cfg.Out);
        curve.Steps.ShouldBe([0L, 1, 2, 3, 4, 5]);
        var mcfg = Anneal.Training.Models.GptConfig.Parse(Model);
        var fresh = new Anneal.Training.Models.Gpt<float>(mcfg, cfg.Seed);
        int seq = mcfg.MaxSeq;
        for (int s = 0; s < 6; s++)
        {
            var (x, y) = Brown().TrainBatch(cfg.Batch, seq, cfg.Seed, s + 1);
            double expected;
            using (Autograd.NoGrad()) using (Arena.Begin()) expected = fresh.Loss(x, y, cfg.Batch, seq).Item();
            curve.Loss![s].ShouldBe(expected, $"row {s}");
            curve.Tokens![s].ShouldBe((s + 1) * cfg.Batch * seq);
        }
        double val = Trainer.Evaluate(fresh, Brown(), cfg.Batch, seq, cfg.EvalBatches);
        curve.ValLoss![2].ShouldBe(val); // after 3 updates = step 2
        curve.ValLoss![5].ShouldBe(val);
        double.IsNaN(curve.ValLoss![3]).ShouldBeTrue();
    }

    [Fact]
    public void Laws_read_from_the_log_see_exactly_the_trainers_learning_rates()
    {
        // Independent source: the schedule spec sampled directly, step by step (Eta[s] must be the LR of update s, no one-step shift).
        const string spec = "wsd(peak=3e-3, total=12, warmup=3, decay=0.5, shape=sqrt)";
        var cfg = Config("lr", steps: 12, schedule: spec);
        Trainer.Run(cfg, Brown(), TextWriter.Null);
        var schedule = Anneal.Schedules.Schedule.Parse(spec);
        var expected = Enumerable.Range(0, 12).Select(s => schedule.At(s)).ToArray();
        var curve = Anneal.Curves.CurveReader.Read(cfg.Out);
        var run = Anneal.Laws.LawRun.FromCurve(curve);
        run.EtaInterpolated.ShouldBeFalse();
        run.Eta.ShouldBe(expected); // bit for bit: the log writes round-trip numbers
        run.Steps[^1].ShouldBe(11);
        foreach (var law in Anneal.Laws.LawRegistry.DefaultSpecs.Select(Anneal.Laws.LossLaw.Parse))
            law.Prepare(run).Run.Eta.ShouldBe(expected, law.Name);
        // the same curve with the schedule attached (FILE@SPEC) gives the same rates, up to the rounding of the
        // vectorised Schedule.Sample the laws use there (the trainer calls Schedule.At)
        var attached = Anneal.Laws.LawRun.FromCurve(curve with { ScheduleSpec = spec }).Eta;
        for (int s = 0; s < 12; s++) attached[s].ShouldBe(expected[s], 1e-15 * expected[s] + 1e-300);
        // a cosine, whose vectorised sampling differs from At in the last bit, through the logged column: exact
        const string cos = "cosine(peak=1e-2, total=20, warmup=2)";
        var c2 = Config("cos", steps: 20, schedule: cos);
        Trainer.Run(c2, Brown(), TextWriter.Null);
        var cs = Anneal.Schedules.Schedule.Parse(cos);
        Anneal.Laws.LawRun.FromCurve(Anneal.Curves.CurveReader.Read(c2.Out)).Eta.ShouldBe(Enumerable.Range(0, 20).Select(s => cs.At(s)).ToArray());
    }

    [Fact]
    public void Branch_from_a_constant_run_equals_the_straight_wsd_run_bit_for_bit()
    {
        // Independent source: the same WSD schedule trained from initialisation in one piece. log_every=3 with
        // eval_every=4 puts the branch point (k=8) in the middle of a loss window, so the saved window is exercised too.
        const string wsd = "wsd(peak=3e-3, total=12, warmup=2, decay=0.25)"; // cooldown from step 9: lr(8) is still the peak
        var straight = Config("straight", steps: 12, schedule: wsd) with { LogEvery = 3 };
        Trainer.Run(straight, Brown(), TextWriter.Null);
        var parent = Config("const", steps: 16, schedule: "constant(peak=3e-3, warmup=2)") with { LogEvery = 3, SaveAt = [5, 8] };
        Trainer.Run(parent, Brown(), TextWriter.Null);
        File.Exists(parent.SavedCheckpointPath(5)).ShouldBeTrue();
        var branch = Config("branch", steps: 12, schedule: wsd) with { LogEvery = 3, BranchFrom = parent.SavedCheckpointPath(8) };
        Trainer.BranchPoint(branch).ShouldBe(8);
        Trainer.Run(branch, Brown(), TextWriter.Null);
        var b = Curve(branch.Out);
        b.ShouldBe(Curve(straight.Out));
        // not vacuous: the parent's own log parts from the WSD run after the branch point (the cooldown changed the curve)
        var c = Curve(parent.Out);
        b.Select(r => r.Split(',')[0]).ShouldBe(["step", "2", "3", "5", "7", "8", "11"]); // rows s with s+1 a multiple of 3 or 4, and the last
        b[..5].ShouldBe(c[..5]);
        b[6].ShouldNotBe(c.First(r => r.StartsWith("11,", StringComparison.Ordinal)));
    }

    [Fact]
    public void Branch_whose_schedule_differs_before_the_branch_point_is_refused()
    {
        var parent = Config("p", steps: 8, schedule: "constant(peak=3e-3, warmup=2)") with { SaveAt = [6] };
        Trainer.Run(parent, Brown(), TextWriter.Null);
        // cooldown from step 4: lr(5) < peak, before the branch point 6
        var branch = Config("b", steps: 8, schedule: "wsd(peak=3e-3, total=8, warmup=2, decay=0.5)") with { BranchFrom = parent.SavedCheckpointPath(6) };
        var e = Should.Throw<InputException>(() => Trainer.Run(branch, Brown(), TextWriter.Null));
        e.Message.ShouldContain("at step 5");
        e.Message.ShouldNotContain("--");
        File.Exists(branch.Out).ShouldBeFalse();
        // a different setting than the schedule (batch) is refused too, naming it
        var other = Config("o", steps: 8, schedule: "constant(peak=3e-3, warmup=2)") with { BranchFrom = parent.SavedCheckpointPath(6), Batch = 8 };
        Should.Throw<InputException>(() => Trainer.Run(other, Brown(), TextWriter.Null)).Message.ShouldContain("batch");
    }

    [Fact]
    public void Log_every_writes_the_mean_loss_of_the_window_and_resumes_bit_for_bit()
    {
        // Independent source: the per-update log of the same run; row s of the compact log must carry the mean of the
        // per-update losses since the previous written row, and row s's own lr, val_loss, grad_norm and tokens.
        var every = Config("every", steps: 13) with { EvalEvery = 5 };
        Trainer.Run(every, Brown(), TextWriter.Null);
        var compact = Config("compact", steps: 13) with { EvalEvery = 5, LogEvery = 3 };
        Trainer.Run(compact, Brown(), TextWriter.Null, haltAfter: 7); // killed after 7 updates; the checkpoint after 5 holds row 3's loss in its window
        Trainer.Run(compact with { Resume = true }, Brown(), TextWriter.Null);
        var full = File.ReadAllLines(every.Out).Skip(1).Select(l => l.Split(',')).ToArray();
        var rows = File.ReadAllLines(compact.Out).Skip(1).Select(l => l.Split(',')).ToArray();
        rows.Select(r => long.Parse(r[0])).ShouldBe([2L, 4, 5, 8, 9, 11, 12]); // s+1 a multiple of 3 or 5, and the last
        long prev = -1;
        foreach (var r in rows)
        {
            long s = long.Parse(r[0]);
            double mean = full[(int)(prev + 1)..(int)(s + 1)].Average(f => double.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture));
            double.Parse(r[2], System.Globalization.CultureInfo.InvariantCulture).ShouldBe(mean, 1e-12, $"row {s}");
            r[1].ShouldBe(full[s][1]); r[3].ShouldBe(full[s][3]); r[4].ShouldBe(full[s][4]); r[5].ShouldBe(full[s][5]);
            prev = s;
        }
    }

    [Fact]
    public void Bad_settings_are_refused_naming_the_parameter()
    {
        Should.Throw<InputException>(() => Trainer.Run(Config("bad") with { LogEvery = 0 }, Brown(), TextWriter.Null)).Message.ShouldStartWith("log_every must be >= 1");
        Should.Throw<InputException>(() => Trainer.Run(Config("bad") with { SaveAt = [13] }, Brown(), TextWriter.Null)).Message.ShouldStartWith("save_at: step 13 is outside 1..12");
        var steps = Should.Throw<InputException>(() => Trainer.Validate(Config("bad") with { Steps = 0 }));
        steps.Message.ShouldStartWith("steps must be >= 1");
        steps.Parameters.ShouldBe(["steps"]);
        steps.MessageNaming(p => "--" + p).ShouldStartWith("--steps must be >= 1");
        Should.Throw<InputException>(() => Trainer.Run(Config("bad") with { BranchFrom = Path.Combine(_dir, "none.ckpt") }, Brown(), TextWriter.Null)).Message.ShouldContain("branch_from: no checkpoint");
        File.Exists(Path.Combine(_dir, "bad.csv")).ShouldBeFalse();
    }

    [Fact]
    public void Resume_with_different_settings_is_refused_with_the_difference()
    {
        var cfg = Config("r");
        Trainer.Run(cfg, Brown(), TextWriter.Null, haltAfter: 4);
        Should.Throw<InputException>(() => Trainer.Run(cfg with { Resume = true, Batch = 8 }, Brown(), TextWriter.Null)).Message.ShouldContain("batch");
    }

    [Fact]
    public void Divergence_stops_with_a_message_and_keeps_the_log()
    {
        var cfg = Config("nan", steps: 30, schedule: "constant(peak=1e30)") with { Clip = 0, Optimizer = "sgd(momentum=0)" };
        var e = Should.Throw<TrainingDivergedException>(() => Trainer.Run(cfg, Brown(), TextWriter.Null));
        e.Message.ShouldContain("diverged");
        var rows = File.ReadAllLines(cfg.Out);
        rows.Length.ShouldBeGreaterThan(1);
        rows[^1].ShouldContain("NaN");
    }

    [Fact]
    public void Brown_cleaning_strips_tags_and_reattaches_punctuation()
    {
        // expected text read off the tagged source line by hand: "The/at Fulton/np-tl ... ``/`` no/at evidence/nn ''/'' ... place/nn ./."
        var tagged = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "Anneal.Training.Tests", "Data", "brown-ca01-tagged.txt"));
        var clean = BrownCorpus.Clean(tagged).Split('\n');
        clean[0].ShouldBe("The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced \"no evidence\" that any irregularities took place.");
        clean[1].ShouldStartWith("The jury further said in term-end presentments that the City Executive Committee, which had over-all charge");
        File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "Anneal.Training.Tests", "Data", "brown-sample.txt")).ShouldStartWith(clean[0]);
    }

    [Fact]
    public void Batches_are_a_pure_function_of_seed_and_step()
    {
        var d = Brown();
        var (x1, y1) = d.TrainBatch(3, 8, 7, 100);
        var (x2, _) = d.TrainBatch(3, 8, 7, 100);
        var (x3, _) = d.TrainBatch(3, 8, 7, 101);
        x1.ShouldBe(x2);
        x1.ShouldNotBe(x3);
        for (int i = 0; i < 7; i++) y1[i].ShouldBe(x1[i + 1]); // targets are inputs shifted by one
    }

    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }
}

public class RunSummaryTests
{
    [Fact]
    public void Final_losses_are_the_tail_mean_and_the_last_and_best_validation()
    {
        // hand-computed: last 20% of 10 rows = rows 9,10 → mean(1.2, 1.0) = 1.1; val logged at 5 (2.0) and 10 (2.5)
        var c = new Anneal.Curves.LossCurve
        {
            Name = "r", Steps = Enumerable.Range(1, 10).Select(i => (long)i).ToArray(),
            Loss = [5, 4, 3, 2.5, 2, 1.8, 1.6, 1.4, 1.2, 1.0],
            ValLoss = [double.NaN, double.NaN, double.NaN, double.NaN, 2.0, double.NaN, double.NaN, double.NaN, double.NaN, 2.5],
        };
        var s = RunSummary.From(c, tail: 0.2);
        s.FinalTrainLoss.ShouldBe(1.1, 1e-12);
        s.FinalValLoss.ShouldBe(2.5);
        s.MinValLoss.ShouldBe(2.0);
        s.MinValStep.ShouldBe(5);
    }
}
