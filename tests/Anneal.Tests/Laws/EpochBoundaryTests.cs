using Anneal.Accuracy;
using Anneal.Curves;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;
using Anneal.Tests.Curves;

namespace Anneal.Tests.Laws;

/// <summary>
/// Where the training data starts to repeat (<see cref="EpochBoundary"/>): read from the logs' epoch column (Hugging Face's
/// epochs completed, Lightning's 0-based epoch index) or given as <c>steps_per_epoch</c>, recorded in the law file, and
/// turned into a warning on forecasts past the first epoch and no band past four.
/// </summary>
public sealed class EpochBoundaryTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void A_hf_trainer_state_gives_its_epochs_completed_and_100_steps_per_epoch()
    {
        // The fixture logs epoch = step / 100 (TrainerLogFixtures: 100 steps per epoch, rows every 10 steps to 200). By hand:
        // the row at step 200, epoch 2.0, allows 200 / 2.005 = 99.75 to 201 / 1.995 = 100.75 steps per epoch (one step either
        // way for 0- or 1-based steps): 100 exactly.
        var dir = _tmp.Combine("out/checkpoint-200");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "trainer_state.json"), TrainerLogFixtures.HfTrainerState());
        var c = CurveReader.Read(Path.Combine(dir, "trainer_state.json"));
        c.Epochs.ShouldNotBeNull();
        for (int i = 0; i < c.Count; i++) c.Epochs![i].ShouldBe(c.Steps[i] / 100.0, 1e-12);
        var iv = EpochBoundary.Interval(c)!.Value;
        (iv.Low, iv.High).ShouldBe((100L, 100L));
        iv.Reading.ShouldContain("epochs completed, 2 at step 200");
        var (steps, source) = EpochBoundary.FromLogs([c], null)!.Value;
        steps.ShouldBe(100);
        source.ShouldContain("trainer_state.json");
        // the given number agrees with it: kept, named as given
        EpochBoundary.FromLogs([c], 100)!.Value.ShouldBe((100L, "steps_per_epoch"));
        // and one that does not is refused, naming both
        var e = Should.Throw<InputException>(() => EpochBoundary.FromLogs([c], 120));
        e.Message.ShouldContain("steps_per_epoch 120 contradicts the epoch column of");
        e.Message.ShouldContain("at most 100 steps per epoch");
    }

    [Fact]
    public void A_lightning_metrics_csv_gives_its_0_based_epoch_index_and_the_first_whole_step_it_allows()
    {
        // The fixture logs the 0-based step s - 1 with epoch (s - 1) / 100 (integer division): epoch 0 to step 99, epoch 1
        // from step 109. By hand: epoch 0 at step 99 means more than 99 steps per epoch (99 < 1 x P); epoch 1 at step 199,
        // more than 199 / 2 = 99.5; epoch 1 at step 109, at most (109 + 1) / 1 = 110 (one step of slack for 0- or 1-based
        // steps). The smallest whole number allowed, the earliest the data may repeat: 100.
        var c = CurveReader.Read(_tmp.File("metrics.csv", TrainerLogFixtures.LightningMetricsCsv()));
        c.Epochs.ShouldNotBeNull();
        for (int i = 0; i < c.Count; i++) c.Epochs![i].ShouldBe(c.Steps[i] / 100);
        var iv = EpochBoundary.Interval(c)!.Value;
        (iv.Low, iv.High).ShouldBe((100L, 110L));
        iv.Reading.ShouldContain("0-based epoch index");
        EpochBoundary.FromLogs([c], null)!.Value.StepsPerEpoch.ShouldBe(100);
        // a Lightning log still in its first epoch says only that the data has not repeated yet: no boundary
        var first = c with { Steps = c.Steps[..5], Epochs = c.Epochs![..5], Loss = c.Loss![..5], Lr = c.Lr![..5], ValLoss = c.ValLoss?[..5] };
        EpochBoundary.Interval(first)!.Value.High.ShouldBe(long.MaxValue);
        EpochBoundary.FromLogs([first], null).ShouldBeNull();
    }

    [Fact]
    public void A_wandb_export_reads_train_epoch_and_keras_epoch_steps_have_no_epoch_column()
    {
        var w = CurveReader.Read(_tmp.File("history.csv", TrainerLogFixtures.WandbHistoryCsv()));
        EpochBoundary.FromLogs([w], null)!.Value.StepsPerEpoch.ShouldBe(100);
        // Keras' CSVLogger: "epoch" is the only step-like column, so it is the step, and no epoch column is read
        var k = CurveReader.Read(_tmp.File("keras.csv", "epoch,loss,val_loss\n0,2.5,2.6\n1,2.3,2.4\n2,2.2,2.35\n"));
        k.Epochs.ShouldBeNull();
        EpochBoundary.FromLogs([k], null).ShouldBeNull();
    }

    [Fact]
    public void Logs_whose_epochs_disagree_are_refused_and_a_non_positive_number_too()
    {
        var a = CurveReader.Read(_tmp.File("a.csv", "step,lr,loss,epoch\n100,3e-4,3.5,1\n200,3e-4,3.4,2\n"));
        var b = CurveReader.Read(_tmp.File("b.csv", "step,lr,loss,epoch\n100,3e-4,3.5,2\n200,3e-4,3.4,4\n"));
        var e = Should.Throw<InputException>(() => EpochBoundary.FromLogs([a, b], null));
        e.Message.ShouldContain("epoch columns disagree");
        e.Message.ShouldContain("a.csv");
        e.Message.ShouldContain("b.csv");
        Should.Throw<InputException>(() => EpochBoundary.FromLogs([a], 0)).Parameters.ShouldBe(["steps_per_epoch"]);
    }

    /// <summary>A constant-rate run of <paramref name="n"/> steps whose loss is a power law of S1 (closed form), logged every 50 steps after the warmup.</summary>
    private static LawRun Constant(int n)
    {
        var eta = Schedule.Parse("constant(peak=3e-3, warmup=50)").Sample(n);
        var pre = new double[n + 1];
        for (int i = 0; i < n; i++) pre[i + 1] = pre[i] + eta[i];
        var steps = Enumerable.Range(0, n).Where(i => i >= 100 && i % 50 == 49).Select(i => (long)i).ToArray();
        return new LawRun { Name = "constant", Eta = eta, Steps = steps, Observed = steps.Select(t => 2 + 1.5 * Math.Pow(pre[t + 1], -0.4)).ToArray() };
    }

    private static LawRun Target(int n) => new() { Name = $"cosine to {n}", Eta = Schedule.Parse($"cosine(peak=3e-3, total={n}, warmup=50)").Sample(n), Steps = [n - 1] };

    [Fact]
    public void Forecasts_past_the_first_epoch_warn_and_past_four_epochs_get_no_band_also_from_the_law_file()
    {
        // Fitted to step 999 with 1,000 steps per epoch: a run of 1,000 steps (last step 999) stays in the first epoch; one of
        // 1,001 passes it and warns, keeping its band up to the end of epoch 4 (step 3,999 is the last with one), none at 4,001.
        var fit = LawFitter.Fit(new PowerLaw(), [Constant(1000)], new FitOptions { Epoch = (1000, "steps_per_epoch") });
        fit.Epoch.ShouldBe(new EpochBoundary(1000, 999, "steps_per_epoch"));
        fit.Epoch!.Summary.ShouldContain("ends at step 1000");
        var within = fit.Predict(Target(1000));
        within.Warning.ShouldBeNull();
        within.HasBand.ShouldBeTrue();
        var past = fit.Predict(Target(1001));
        past.Warning!.ShouldContain("past step 1000, where the first epoch of its training data ends");
        past.Warning!.ShouldContain("assume fresh data");
        past.HasBand.ShouldBeTrue();
        fit.Predict(Target(4000)).HasBand.ShouldBeTrue();
        var far = fit.Predict(Target(4001));
        far.Warning.ShouldNotBeNull();
        far.HasBand.ShouldBeFalse();
        far.BandUnavailable!.ShouldContain("past step 4000, 4 epochs");
        // the law file keeps it, and so says and withholds the same
        var read = FittedLaw.FromJson(fit.ToJson());
        read.Epoch.ShouldBe(fit.Epoch);
        read.Predict(Target(4001)).BandUnavailable.ShouldBe(far.BandUnavailable);
        read.Predict(Target(1001)).Warning.ShouldBe(past.Warning);
        // fitted past the first epoch, the laws saw repeated data: nothing is said or withheld
        var onRepeats = LawFitter.Fit(new PowerLaw(), [Constant(1500)], new FitOptions { Epoch = (1000, "steps_per_epoch") });
        onRepeats.Epoch!.FittedPast.ShouldBeTrue();
        onRepeats.Predict(Target(6000)).Warning.ShouldBeNull();
        onRepeats.Predict(Target(6000)).HasBand.ShouldBeTrue();
    }

    [Fact]
    public void An_auto_law_takes_steps_per_epoch_at_prediction_and_a_contradicting_one_is_refused()
    {
        var fit = LawFitter.Fit(new AutoLaw(), [Constant(1000)]);
        fit.Epoch.ShouldBeNull();
        var given = EpochBoundary.Given(fit, 1000);
        given.Epoch.ShouldBe(new EpochBoundary(1000, fit.FittedHorizon, "steps_per_epoch"));
        given.Predict(Target(2000)).Warning.ShouldNotBeNull();
        given.Predict(Target(5000)).HasBand.ShouldBeFalse();
        EpochBoundary.Given(given, 1000).ShouldBeSameAs(given);
        Should.Throw<InputException>(() => EpochBoundary.Given(given, 900)).Message.ShouldContain("contradicts the law file's 1000 steps per epoch");
    }

    [Fact]
    public void Gpt_codes_corpus_records_its_epoch_and_the_protocol_marks_the_cooldowns_past_it()
    {
        // Independent source: the text's size (data/corpora/README.md: 4,146,866 bytes, the last 10 % validation) over the
        // bytes a step (batch 6 x 256): 3,732,179 / 1,536 = 2,429.8, so the first epoch ends at step 2,430; the cooldowns
        // question fits to step 900, and of its held-out branches those of 2,700, 3,150 and 3,600 steps train past it.
        var corpus = ForecastCorpus.Load(Path.Combine(TestPaths.RepoRoot, "data", "corpora", "gpt-code"));
        corpus.StepsPerEpoch.ShouldBe(2430);
        var split = ForecastProtocol.Splits(corpus).Single(s => s.Question == "cooldowns");
        var row = ForecastBenchmark.Score(split, new PowerLaw(), 0.95, null);
        row.Forecasts.Where(f => f.RepeatsData).Select(f => f.Run).ShouldBe(["wsd_lin10_T2700_s1", "wsd_lin10_T3150_s1", "wsd_lin10_T3600_s1"]);
        // none reaches four epochs (9,720 steps): every one keeps its band
        var epoch = new EpochBoundary(2430, split.Fit.Max(r => r.Steps[^1]), "steps_per_epoch");
        epoch.Horizon.ShouldBe(899);
        split.Tests.ShouldAllBe(t => epoch.BandWithheld(t.Run, 0.95) == null);
    }
}
