using System.Globalization;
using System.Text;
using Anneal.Curves;

namespace Anneal.Tests.Curves;

/// <summary>
/// Small realistic logs of common trainers, written as each trainer lays them out (file names, folders, keys,
/// sparse rows, summary rows), with values from closed forms the tests recompute:
/// loss(s) = 2 + 3 (s + 10)^-0.3, lr(s) = 3e-4 min(1, s / 50), eval(s) = loss(s) + 0.05, grad_norm(s) = 1 / s.
/// Training rows every 10 steps from 10 to 200, evaluation every 50.
/// </summary>
public static class TrainerLogFixtures
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static double Loss(long s) => 2 + 3 * Math.Pow(s + 10, -0.3);
    public static double Lr(long s) => 3e-4 * Math.Min(1.0, s / 50.0);
    public static double Eval(long s) => Loss(s) + 0.05;
    public static long[] TrainSteps { get; } = Enumerable.Range(1, 20).Select(i => 10L * i).ToArray();
    public static long[] EvalSteps { get; } = [50, 100, 150, 200];

    private static string R(double v) => v.ToString("R", Inv);

    /// <summary>HF Trainer's trainer_state.json at <paramref name="lastStep"/>, with its end-of-training summary row when complete.</summary>
    public static string HfTrainerState(long lastStep = 200)
    {
        var rows = new List<string>();
        foreach (var s in TrainSteps.Where(s => s <= lastStep))
        {
            rows.Add($$"""    {"epoch": {{R(s / 100.0)}}, "grad_norm": {{R(1.0 / s)}}, "learning_rate": {{R(Lr(s))}}, "loss": {{R(Loss(s))}}, "step": {{s}}}""");
            if (EvalSteps.Contains(s))
                rows.Add($$"""    {"epoch": {{R(s / 100.0)}}, "eval_loss": {{R(Eval(s))}}, "eval_runtime": 1.52, "eval_samples_per_second": 657.9, "eval_steps_per_second": 20.6, "step": {{s}}}""");
        }
        if (lastStep >= 200)
            rows.Add("""    {"epoch": 2.0, "step": 200, "total_flos": 1.2e15, "train_loss": 2.61, "train_runtime": 321.5, "train_samples_per_second": 99.5, "train_steps_per_second": 0.62}""");
        return $$"""
            {
              "best_metric": null,
              "best_model_checkpoint": null,
              "epoch": {{R(lastStep / 100.0)}},
              "eval_steps": 50,
              "global_step": {{lastStep}},
              "is_hyper_param_search": false,
              "is_local_process_zero": true,
              "is_world_process_zero": true,
              "log_history": [
            {{string.Join(",\n", rows)}}
              ],
              "logging_steps": 10,
              "max_steps": 200,
              "num_train_epochs": 2,
              "save_steps": 100,
              "train_batch_size": 16,
              "trial_name": null,
              "trial_params": null
            }
            """;
    }

    /// <summary>Lightning's CSVLogger metrics.csv: training rows, validation rows and epoch rows apart, lr-AdamW from LearningRateMonitor.</summary>
    public static string LightningMetricsCsv()
    {
        var sb = new StringBuilder("epoch,lr-AdamW,step,train_loss_epoch,train_loss_step,val_loss\n");
        foreach (var s in TrainSteps)
        {
            long step = s - 1; // Lightning logs the 0-based step of the batch
            sb.Append(Inv, $"{(s - 1) / 100},{R(Lr(step))},{step},,{R(Loss(step))},\n");
            if (EvalSteps.Contains(s)) sb.Append(Inv, $"{(s - 1) / 100},,{step},,,{R(Eval(step))}\n");
            if (s % 100 == 0) sb.Append(Inv, $"{(s - 1) / 100},,{step},{R(Loss(step) + 0.1)},,\n");
        }
        return sb.ToString();
    }

    /// <summary>A W&amp;B history export (run.history() to CSV) of an HF run: _step counts log calls, train/global_step is the optimizer step.</summary>
    public static string WandbHistoryCsv()
    {
        var sb = new StringBuilder("_step,_runtime,_timestamp,train/global_step,train/loss,train/learning_rate,train/epoch,eval/loss\n");
        int call = 0;
        foreach (var s in TrainSteps)
        {
            sb.Append(Inv, $"{call},{call * 1.5},{1.7e9 + call},{s},{R(Loss(s))},{R(Lr(s))},{R(s / 100.0)},\n");
            call++;
            if (EvalSteps.Contains(s)) { sb.Append(Inv, $"{call},{call * 1.5},{1.7e9 + call},{s},,,{R(s / 100.0)},{R(Eval(s))}\n"); call++; }
        }
        return sb.ToString();
    }

    /// <summary>The same export as JSON Lines (wandb-history.jsonl).</summary>
    public static string WandbHistoryJsonl()
    {
        var sb = new StringBuilder();
        int call = 0;
        foreach (var s in TrainSteps)
        {
            sb.Append(Inv, $$"""{"_step": {{call++}}, "_runtime": 3.2, "train/global_step": {{s}}, "train/loss": {{R(Loss(s))}}, "train/learning_rate": {{R(Lr(s))}}}""").Append('\n');
            if (EvalSteps.Contains(s)) sb.Append(Inv, $$"""{"_step": {{call++}}, "_runtime": 3.9, "train/global_step": {{s}}, "eval/loss": {{R(Eval(s))}}}""").Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Keras' CSVLogger: one row per epoch (0-based), with learning_rate from the LR callback.</summary>
    public static string KerasCsvLogger() =>
        "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss\n" +
        string.Concat(Enumerable.Range(0, 12).Select(e => string.Create(Inv, $"{e},{0.5 + e * 0.03:R},{R(Lr(10 * e + 10))},{R(Loss(10 * e))},{0.48 + e * 0.03:R},{R(Eval(10 * e))}\n")));

    /// <summary>The long table of MLflow's metric history: key,value,step,timestamp.</summary>
    public static string LongCsv()
    {
        var sb = new StringBuilder("key,value,step,timestamp\n");
        foreach (var s in TrainSteps) sb.Append(Inv, $"train_loss,{R(Loss(s))},{s},{1700000000000 + s}\n");
        foreach (var s in TrainSteps) sb.Append(Inv, $"learning_rate,{R(Lr(s))},{s},{1700000000000 + s}\n");
        foreach (var s in EvalSteps) sb.Append(Inv, $"val_loss,{R(Eval(s))},{s},{1700000000000 + s}\n");
        return sb.ToString();
    }

    /// <summary>An MLflow file-store run folder under <paramref name="mlruns"/>/0/<paramref name="runId"/>.</summary>
    public static string MlflowRun(string mlruns, string runId, string runName)
    {
        var run = Path.Combine(mlruns, "0", runId);
        Directory.CreateDirectory(Path.Combine(run, "metrics", "train"));
        Directory.CreateDirectory(Path.Combine(run, "params"));
        Directory.CreateDirectory(Path.Combine(run, "artifacts"));
        File.WriteAllText(Path.Combine(mlruns, "0", "meta.yaml"), "artifact_location: file:///tmp/mlruns/0\nexperiment_id: '0'\nlifecycle_stage: active\nname: Default\n");
        File.WriteAllText(Path.Combine(run, "meta.yaml"), $"artifact_uri: file:///tmp/mlruns/0/{runId}/artifacts\nexperiment_id: '0'\nlifecycle_stage: active\nrun_id: {runId}\nrun_name: {runName}\nstatus: 3\n");
        File.WriteAllText(Path.Combine(run, "params", "lr"), "0.0003");
        File.WriteAllText(Path.Combine(run, "metrics", "train", "loss"), string.Concat(TrainSteps.Select(s => string.Create(Inv, $"{1700000000000 + s} {R(Loss(s))} {s}\n"))));
        File.WriteAllText(Path.Combine(run, "metrics", "train", "learning_rate"), string.Concat(TrainSteps.Select(s => string.Create(Inv, $"{1700000000000 + s} {R(Lr(s))} {s}\n"))));
        File.WriteAllText(Path.Combine(run, "metrics", "eval_loss"), string.Concat(EvalSteps.Select(s => string.Create(Inv, $"{1700000000000 + s} {R(Eval(s))} {s}\n"))));
        return run;
    }

    /// <summary>A curve with the fixture's values, for <see cref="Anneal.Curves.Logs.TensorBoardWriter"/>.</summary>
    public static LossCurve Curve(long lastStep = 200)
    {
        var steps = TrainSteps.Where(s => s <= lastStep).ToArray();
        return new LossCurve
        {
            Name = "fixture",
            Steps = steps,
            Loss = steps.Select(s => Loss(s)).ToArray(),
            Lr = steps.Select(s => Lr(s)).ToArray(),
            ValLoss = steps.Select(s => EvalSteps.Contains(s) ? Eval(s) : double.NaN).ToArray(),
            GradNorm = steps.Select(s => 1.0 / s).ToArray(),
        };
    }
}
