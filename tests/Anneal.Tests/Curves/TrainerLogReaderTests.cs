using Anneal.Curves;
using Anneal.Curves.Logs;
using static Anneal.Tests.Curves.TrainerLogFixtures;

namespace Anneal.Tests.Curves;

/// <summary>
/// Each trainer's log, written as the trainer lays it out (<see cref="TrainerLogFixtures"/>), is read with no options:
/// the steps, rows, LR and validation loss must equal the closed forms the fixture was written from.
/// </summary>
public sealed class TrainerLogReaderTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private string Dir(string rel)
    {
        var d = _tmp.Combine(rel);
        Directory.CreateDirectory(d);
        return d;
    }

    private static void ShouldBeTheFixture(LossCurve c, bool valAtEvalSteps = true, bool gradNorm = true)
    {
        c.Steps.ShouldBe(TrainSteps);
        for (int i = 0; i < c.Count; i++)
        {
            long s = c.Steps[i];
            c.Loss![i].ShouldBe(Loss(s), 1e-12);
            c.Lr![i].ShouldBe(Lr(s), 1e-15);
            if (valAtEvalSteps)
            {
                if (EvalSteps.Contains(s)) c.ValLoss![i].ShouldBe(Eval(s), 1e-12);
                else double.IsNaN(c.ValLoss![i]).ShouldBeTrue();
            }
            if (gradNorm) c.GradNorm![i].ShouldBe(1.0 / s, 1e-12);
        }
    }

    [Fact]
    public void Hf_trainer_state_json_reads_log_history_merges_eval_rows_and_skips_the_summary_row()
    {
        var path = Path.Combine(Dir("out/checkpoint-200"), "trainer_state.json");
        File.WriteAllText(path, HfTrainerState());
        var c = CurveReader.Read(path);
        ShouldBeTheFixture(c);
        c.Format.ShouldBe("Hugging Face trainer_state.json");
        c.Name.ShouldBe("out"); // a checkpoint folder is named after the output folder
        // the summary row's train_loss (2.61, a run mean) must not become a point, and is said to be skipped
        c.Loss!.ShouldNotContain(2.61);
        c.Notes.ShouldContain(n => n.Contains("summary row", StringComparison.Ordinal));
        c.Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void Hf_output_folder_reads_the_latest_checkpoint_and_says_so()
    {
        File.WriteAllText(Path.Combine(Dir("run/checkpoint-100"), "trainer_state.json"), HfTrainerState(100));
        File.WriteAllText(Path.Combine(Dir("run/checkpoint-200"), "trainer_state.json"), HfTrainerState(200));
        File.WriteAllBytes(Path.Combine(Dir("run/runs/Nov30_10-00-00_host"), "events.out.tfevents.1700000000.host.1.0"), TensorBoardWriter.Encode(Curve()));
        var c = CurveReader.Read(_tmp.Combine("run"));
        ShouldBeTheFixture(c);
        c.Notes.ShouldContain(n => n.Contains("checkpoint-200", StringComparison.Ordinal) && n.Contains("latest of 2", StringComparison.Ordinal));
        c.Notes.ShouldContain(n => n.Contains("not read", StringComparison.Ordinal));
    }

    [Fact]
    public void Hf_state_without_log_history_or_with_an_empty_one_is_refused_with_the_fix()
    {
        var e = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("trainer_state.json", """{"global_step": 0, "max_steps": 200, "logging_steps": 10}""")));
        e.Message.ShouldContain("no 'log_history'");
        e = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("t2.json", """{"global_step": 0, "max_steps": 200, "log_history": []}""")));
        e.Message.ShouldContain("logging_steps");
    }

    [Fact]
    public void Lightning_metrics_csv_merges_train_val_and_epoch_rows_by_step_and_finds_lr_AdamW()
    {
        var path = Path.Combine(Dir("lightning_logs/version_0"), "metrics.csv");
        File.WriteAllText(path, LightningMetricsCsv());
        File.WriteAllText(Path.Combine(_tmp.Combine("lightning_logs/version_0"), "hparams.yaml"), "lr: 0.0003\n");
        var c = CurveReader.Read(_tmp.Combine("lightning_logs/version_0"));
        c.Steps.ShouldBe(TrainSteps.Select(s => s - 1).ToArray());
        for (int i = 0; i < c.Count; i++)
        {
            long s = c.Steps[i];
            c.Loss![i].ShouldBe(Loss(s), 1e-12); // train_loss_step, not train_loss_epoch
            c.Lr![i].ShouldBe(Lr(s), 1e-15);
            if (EvalSteps.Contains(s + 1)) c.ValLoss![i].ShouldBe(Eval(s), 1e-12); else double.IsNaN(c.ValLoss![i]).ShouldBeTrue();
        }
        c.Name.ShouldBe("version_0");
        c.Format.ShouldContain("Lightning");
        c.Notes.ShouldContain(n => n.Contains("train_loss_epoch", StringComparison.Ordinal)); // the other loss-like column is named
    }

    [Fact]
    public void Loss_col_picks_another_metric_on_a_sparse_table()
    {
        var path = _tmp.File("metrics.csv", LightningMetricsCsv());
        var c = CurveReader.Read(path, new CurveReadOptions { LossColumn = "train_loss_epoch" });
        c.Steps.ShouldBe([99L, 199L]);
        c.Loss![0].ShouldBe(Loss(99) + 0.1, 1e-12);
    }

    [Fact]
    public void Wandb_csv_export_takes_train_global_step_over_step_and_says_so()
    {
        var c = CurveReader.Read(_tmp.File("wandb_export.csv", WandbHistoryCsv()));
        ShouldBeTheFixture(c, gradNorm: false);
        c.Notes.ShouldContain(n => n.Contains("'train/global_step'", StringComparison.Ordinal) && n.Contains("'_step'", StringComparison.Ordinal));
    }

    [Fact]
    public void Wandb_history_jsonl_takes_train_global_step_over_step_and_says_so()
    {
        var c = CurveReader.Read(_tmp.File("wandb-history.jsonl", WandbHistoryJsonl()));
        ShouldBeTheFixture(c, gradNorm: false);
        c.Notes.ShouldContain(n => n.Contains("'train/global_step'", StringComparison.Ordinal));
    }

    [Fact]
    public void Wandb_export_without_a_trainer_step_uses_step_and_warns_that_it_counts_log_calls()
    {
        var c = CurveReader.Read(_tmp.File("w.csv", "_step,loss\n0,3.0\n1,2.9\n"));
        c.Steps.ShouldBe([0L, 1L]);
        c.Notes.ShouldContain(n => n.Contains("counts in log calls", StringComparison.Ordinal) && n.Contains("give it with step_col NAME", StringComparison.Ordinal));
        c.NotesNaming(p => "<" + p + ">").ShouldContain(n => n.Contains("give it with <step_col> NAME", StringComparison.Ordinal));
    }

    [Fact]
    public void Keras_csv_logger_reads_one_row_per_epoch_and_says_the_steps_are_epochs()
    {
        var c = CurveReader.Read(_tmp.File("training.log.csv", KerasCsvLogger()));
        c.Steps.ShouldBe(Enumerable.Range(0, 12).Select(e => (long)e).ToArray());
        for (int e = 0; e < 12; e++)
        {
            c.Loss![e].ShouldBe(Loss(10 * e), 1e-12);
            c.ValLoss![e].ShouldBe(Eval(10 * e), 1e-12);
            c.Lr![e].ShouldBe(Lr(10 * e + 10), 1e-15);
        }
        c.Notes.ShouldContain(n => n.Contains("epochs", StringComparison.Ordinal));
    }

    [Fact]
    public void Long_key_value_step_csv_is_pivoted_by_key()
    {
        var c = CurveReader.Read(_tmp.File("metrics_long.csv", LongCsv()));
        ShouldBeTheFixture(c, gradNorm: false);
        c.Format.ShouldContain("long");
    }

    [Fact]
    public void Long_csv_with_two_runs_is_refused_listing_them()
    {
        var e = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.File("two.csv", "run_id,key,value,step\na1,loss,3,1\nb2,loss,3,1\n")));
        e.Message.ShouldContain("2 runs");
        e.Message.ShouldContain("a1");
        e.Message.ShouldContain("b2");
    }

    [Fact]
    public void Mlflow_run_experiment_and_mlruns_folders_read_the_run_with_keys_from_subfolders()
    {
        var mlruns = _tmp.Combine("mlruns");
        var run = MlflowRun(mlruns, "0a1b2c3d4e5f", "sunny-fox-12");
        foreach (var given in new[] { run, Path.Combine(mlruns, "0"), mlruns })
        {
            var c = CurveReader.Read(given);
            ShouldBeTheFixture(c, gradNorm: false);
            c.Name.ShouldBe("sunny-fox-12");
            c.Format.ShouldBe("MLflow run folder");
        }
    }

    [Fact]
    public void A_folder_with_several_runs_is_refused_listing_each()
    {
        var mlruns = _tmp.Combine("mlruns2");
        MlflowRun(mlruns, "aaaa1111", "first-run");
        MlflowRun(mlruns, "bbbb2222", "second-run");
        var e = Should.Throw<CurveFormatException>(() => CurveReader.Read(mlruns));
        e.Message.ShouldContain("holds 2 runs");
        e.Message.ShouldContain("aaaa1111 (MLflow run 'first-run')");
        e.Message.ShouldContain("second-run");

        foreach (var v in new[] { "version_0", "version_1" })
            File.WriteAllBytes(Path.Combine(Dir("tb/lightning_logs/" + v), "events.out.tfevents.1700000000.host.1.0"), TensorBoardWriter.Encode(Curve()));
        e = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.Combine("tb")));
        e.Message.ShouldContain("version_0");
        e.Message.ShouldContain("version_1");
    }

    [Fact]
    public void A_folder_without_a_log_is_refused_naming_what_was_looked_for()
    {
        Dir("empty/sub");
        var e = Should.Throw<CurveFormatException>(() => CurveReader.Read(_tmp.Combine("empty")));
        e.Message.ShouldContain("no training log found");
        e.Message.ShouldContain("trainer_state.json");
    }

    [Fact]
    public void A_folder_holding_one_csv_log_reads_it()
    {
        var d = Dir("plain");
        File.WriteAllText(Path.Combine(d, "run.csv"), "step,lr,loss\n0,1e-4,3\n10,1e-4,2.9\n");
        File.WriteAllText(Path.Combine(d, "config.json"), "{\"lr\": 1e-4}");
        CurveReader.Read(d).Steps.ShouldBe([0L, 10L]);
    }
}
