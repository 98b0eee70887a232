using Anneal.Cli;
using Anneal.Tuning;

namespace Anneal.Tests.Tuning;

public class SweepTests
{
    private static StudySpec Spec(string pruner = "none", int trials = 6) => StudyFile.Parse($$$"""
        name: toy
        objective: {command: [bash, toy.sh], log: "runs/{trial}.csv", steps: 100, metric: loss}
        space: {x: {uniform: [-2, 2]}}
        sampler: random
        pruner: {{{pruner}}}
        budget: {trials: {{{trials}}}}
        """, "toy.yaml");

    /// <summary>A toy objective in memory: loss(step) = (x − 0.5)² + 100/(step + 10), reported every 10 steps.</summary>
    private sealed class Toy : ITrialObjective
    {
        public int Runs;
        public TrialResult Run(TrialContext ctx)
        {
            Interlocked.Increment(ref Runs);
            double x = ctx.Params["x"].Number, v = 0;
            for (long s = 9; s < ctx.PlannedSteps; s += 10)
            {
                v = (x - 0.5) * (x - 0.5) + 100.0 / (s + 10);
                if (ctx.Report(s, v)) return new TrialResult(TrialState.Pruned, v);
            }
            return new TrialResult(TrialState.Complete, v);
        }
    }

    [Fact]
    public void Runs_the_budget_with_parallel_workers_and_records_every_trial()
    {
        var storage = new InMemoryStudyStorage();
        var toy = new Toy();
        var spec = Spec("none", 8);
        var s = new StudyRunner(spec, new RandomSampler(1), new NopPruner(), storage, toy).Run(new SweepOptions { Trials = 8, Workers = 3 });
        s.Complete.ShouldBe(8);
        toy.Runs.ShouldBe(8);
        var trials = storage.Trials();
        trials.Select(t => t.Number).ShouldBe(Enumerable.Range(0, 8));
        foreach (var t in trials) { t.Reports.Count.ShouldBe(10); t.Value.ShouldBe(t.Reports[t.Reports.Count - 1].Value); }
    }

    [Fact]
    public void Asha_prunes_and_steps_saved_are_counted()
    {
        var storage = new InMemoryStudyStorage();
        var spec = Spec("asha", 12);
        var runner = new StudyRunner(spec, new RandomSampler(2), new SuccessiveHalvingPruner(minResource: 10, reductionFactor: 3), storage, new Toy());
        runner.Run(new SweepOptions { Trials = 12, Workers = 1 });
        var all = storage.Trials().Select(runner.Enrich).ToList();
        var sum = StudyRunner.Summarise(all);
        sum.Pruned.ShouldBeGreaterThan(0);
        sum.StepsSaved.ShouldBe(all.Where(t => t.State == TrialState.Pruned).Sum(t => 100 - t.StepsRun));
        var json = StudyRunner.ToJson("toy", all);
        json["format"]!.GetValue<string>().ShouldBe("anneal-study/1");   // docs/formats.md
        json["trials"]!.AsArray().Count.ShouldBe(12);
        json["trials"]![0]!["state"]!.GetValue<string>().ShouldBeOneOf("complete", "pruned");
    }

    /// <summary>
    /// A worker that died mid-trial (a running trial whose heartbeat stopped) is reaped: its trial is marked failed and
    /// a copy queued, which a live worker runs; the dead trial's reports are refused afterwards, so it is never run twice.
    /// </summary>
    [Fact]
    public void A_dead_workers_trial_is_failed_requeued_and_run_once_more()
    {
        var storage = new InMemoryStudyStorage();
        var space = Spec().Space;
        int dead = storage.Create(space.FromUnit([0.75]), "dead-worker");
        storage.Report(dead, 9, 5.0).ShouldBeTrue();
        var toy = new Toy();
        var runner = new StudyRunner(Spec("none", 3), new RandomSampler(3), new NopPruner(), storage, toy);
        var s = runner.Run(new SweepOptions { Trials = 3, Workers = 1, HeartbeatTimeout = TimeSpan.FromMilliseconds(200), HeartbeatInterval = TimeSpan.FromMilliseconds(50) });
        var all = storage.Trials();
        all[dead].State.ShouldBe(TrialState.Failed);
        all[dead].Message!.ShouldContain("dead-worker");
        all.Count(t => t.State == TrialState.Complete).ShouldBe(3);
        all.Count(t => t.Params.Equals(all[dead].Params) && t.State == TrialState.Complete).ShouldBe(1); // the requeued copy
        storage.Report(dead, 19, 4.0).ShouldBeFalse(); // the dead worker, were it to wake, may not go on
    }

    /// <summary>
    /// An external command as the objective (bash writing a CSV log): parameters arrive as arguments and environment
    /// variables, the log is followed while it runs, and a pruned trial's process is killed.
    /// </summary>
    [Fact]
    public void External_command_objective_follows_the_log_and_is_killed_when_pruned()
    {
        var dir = Directory.CreateTempSubdirectory("anneal-sweep-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "toy.sh"), """
                x="${1#--x=}"
                [ "$x" = "$ANNEAL_PARAM_X" ] || { echo "argument $1 disagrees with ANNEAL_PARAM_X=$ANNEAL_PARAM_X" >&2; exit 3; }
                echo "step,loss" > "$ANNEAL_LOG"
                for s in $(seq 9 10 99); do
                  echo "$s,$(awk -v x="$x" -v s="$s" 'BEGIN{printf "%.6f", (x-0.5)^2 + 100/(s+10)}')" >> "$ANNEAL_LOG"
                  sleep 0.05
                done
                """);
            var spec = Spec("none", 1);
            var objective = new CommandObjective((CommandObjectiveSpec)spec.Objective, dir.FullName) { Poll = TimeSpan.FromMilliseconds(20) };
            var storage = new InMemoryStudyStorage();
            new StudyRunner(spec, new RandomSampler(4), new NopPruner(), storage, objective).Run(new SweepOptions { Trials = 1 });
            var t = storage.Trials()[0];
            t.State.ShouldBe(TrialState.Complete, t.Message);
            t.Reports.Count.ShouldBe(10);
            double x = t.Params["x"].Number;
            t.Value!.Value.ShouldBe((x - 0.5) * (x - 0.5) + 100.0 / 109, 1e-5);

            // A pruner that stops every trial at its third report: the process is killed, the trial pruned.
            var storage2 = new InMemoryStudyStorage();
            new StudyRunner(spec, new RandomSampler(4), new StopAt(29), storage2, objective).Run(new SweepOptions { Trials = 1 });
            var p = storage2.Trials()[0];
            p.State.ShouldBe(TrialState.Pruned);
            p.StepsRun.ShouldBeLessThan(100);
        }
        finally { dir.Delete(true); }
    }

    /// <summary>
    /// A signal that reaches the whole process group (Ctrl+C, scancel of a Slurm task) may kill the objective's program
    /// before the sweep's own handler stops the worker. The trial must then be released and requeued like any trial
    /// stopped from outside, not failed as if the program had crashed (CI once saw scancel cost a trial this way, and
    /// the worker start another before its stop arrived). A program killed by SIGTERM with no stop coming is still
    /// failed, once its grace has passed, and the message names the signal.
    /// </summary>
    [Fact]
    public async Task A_program_killed_by_a_group_wide_signal_waits_for_the_sweeps_stop_and_is_requeued()
    {
        var dir = Directory.CreateTempSubdirectory("anneal-sweep-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "toy.sh"), """
                echo "step,loss" > "$ANNEAL_LOG"
                echo "9,1.5" >> "$ANNEAL_LOG"
                touch "$ANNEAL_LOG.dying"
                kill -TERM $$
                """);
            var spec = Spec("none", 1);
            var objective = new CommandObjective((CommandObjectiveSpec)spec.Objective, dir.FullName) { Poll = TimeSpan.FromMilliseconds(20), SignalGrace = TimeSpan.FromSeconds(30) };
            var storage = new InMemoryStudyStorage();
            using var stop = new CancellationTokenSource();
            // the sweep's own SIGTERM, 300 ms after the program died of it
            var late = Task.Run(async () =>
            {
                while (!File.Exists(Path.Combine(dir.FullName, "runs", "0.csv.dying"))) await Task.Delay(10);
                await Task.Delay(300);
                stop.Cancel();
            });
            new StudyRunner(spec, new RandomSampler(4), new NopPruner(), storage, objective).Run(new SweepOptions { Trials = 1 }, stop.Token);
            await late;
            var all = storage.Trials();
            all.Count.ShouldBe(2, string.Join("; ", all.Select(t => $"{t.Number} {t.State} {t.Message}")));
            all[0].State.ShouldBe(TrialState.Failed);
            all[0].Message!.ShouldContain("was stopped before its trial ended");
            all[1].State.ShouldBe(TrialState.Running); // the queued copy, which no worker has claimed (the sweep stopped)
            all[1].Params.ShouldBe(all[0].Params);

            // no stop comes: after the grace the trial fails on its own, naming the signal, and is not requeued
            var quick = new CommandObjective((CommandObjectiveSpec)spec.Objective, dir.FullName) { Poll = TimeSpan.FromMilliseconds(20), SignalGrace = TimeSpan.FromMilliseconds(200) };
            var storage2 = new InMemoryStudyStorage();
            new StudyRunner(spec, new RandomSampler(4), new NopPruner(), storage2, quick).Run(new SweepOptions { Trials = 1, MaxFailures = 1 });
            var f = storage2.Trials();
            f.Count.ShouldBe(1);
            f[0].State.ShouldBe(TrialState.Failed);
            f[0].Message!.ShouldContain("was killed by signal 15 (exit code 143)");
        }
        finally { dir.Delete(true); }
    }

    private sealed class StopAt(long step) : IPruner
    {
        public string Name => "stop";
        public PruneDecision Decide(string studyName, TrialRecord trial, IReadOnlyList<TrialRecord> trials) => new(trial.Reports[^1].Step >= step, Reason: "test");
    }

    [Fact]
    public void Cli_sweep_runs_shows_and_resumes_a_study_in_the_store()
    {
        var dir = Directory.CreateTempSubdirectory("anneal-sweep-cli-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "toy.sh"), """
                echo "step,loss" > "$ANNEAL_LOG"
                for s in 9 19 29; do echo "$s,$(awk -v x="$ANNEAL_PARAM_X" -v s="$s" 'BEGIN{printf "%.6f", (x-0.5)^2 + 10/(s+1)}')" >> "$ANNEAL_LOG"; done
                """);
            var study = Path.Combine(dir.FullName, "toy.yaml");
            File.WriteAllText(study, """
                name: toy
                objective: {command: [bash, toy.sh], log: "runs/{trial}.csv", steps: 30, metric: loss}
                space: {x: {uniform: [-2, 2]}}
                sampler: sobol
                """);
            var db = Path.Combine(dir.FullName, "s.db");
            var (code, _, err) = Run("sweep", "run", study, "--trials", "3", "--store", db);
            code.ShouldBe(0, err);
            (code, _, err) = Run("sweep", "run", study, "--trials", "5", "--store", db, "--workers", "2");
            code.ShouldBe(0, err);
            var (c2, json, e2) = Run("sweep", "show", "toy", "--store", db, "--json");
            c2.ShouldBe(0, e2);
            var o = System.Text.Json.Nodes.JsonNode.Parse(json)!;
            var trials = o["trials"]!.AsArray();
            trials.Count.ShouldBe(5); // resumed: two more, not five more
            trials.Select(t => t!["number"]!.GetValue<int>()).ShouldBe([0, 1, 2, 3, 4]);
            trials.ShouldAllBe(t => t!["state"]!.GetValue<string>() == "complete" && t["steps"]!.GetValue<long>() == 30);
            using (var store = Anneal.Store.RunStore.Open(db))
                foreach (var t in store.ListTrials(store.GetStudy("toy")!.Id))
                {
                    // each trial's log, stored as a run and linked: its loss column is what the trial reported
                    t.RunId.ShouldNotBeNull($"trial {t.Number} has no run");
                    store.GetRun(t.RunId!.Value)!.SourceFile.ShouldBe(Path.Combine(dir.FullName, "runs", $"{t.Number}.csv"));
                    var (steps, values) = store.GetPoints(t.RunId!.Value, "loss")!.Value;
                    steps.ShouldBe(t.Intermediate.Select(i => i.Step).ToArray());
                    values.ShouldBe(t.Intermediate.Select(i => i.Value).ToArray());
                }
            var (c3, best, _) = Run("sweep", "best", "toy", "--store", db);
            c3.ShouldBe(0);
            best.ShouldStartWith("best: trial ");
            var (c4, _, e4) = Run("sweep", "show", "nope", "--store", db);
            c4.ShouldBe(2);
            e4.ShouldContain("there is no study 'nope'");
        }
        finally { dir.Delete(true); }
    }

    /// <summary>
    /// A sweep of the engine's own training: every trial's run is streamed into the store and linked to its trial, so the
    /// dashboard can show its whole curve. The stored loss curve equals the trial's CSV log (written by another
    /// subscriber of the same event stream) and the intermediate values the trial reported.
    /// </summary>
    [Fact]
    public void A_train_objective_sweep_stores_each_trials_run_and_links_it()
    {
        var dir = Directory.CreateTempSubdirectory("anneal-sweep-train-");
        try
        {
            var text = Path.Combine(dir.FullName, "text.txt");
            File.WriteAllText(text, string.Concat(Enumerable.Range(0, 400).Select(i => $"the quick brown fox {i % 17} jumps over the lazy dog {i % 5}. ")));
            var study = Path.Combine(dir.FullName, "train.yaml");
            File.WriteAllText(study, $$$"""
                name: linked
                objective: {train: {model: "gpt(layers=1, heads=2, dim=16, seq=16)", data: "{{{text}}}", steps: 24, metric: loss, batch: 4, eval_every: 8, eval_batches: 1, log_every: 4, threads: 1}}
                schedule: "cosine(peak={peak}, total=24, warmup=2)"
                space: {peak: {log_uniform: [1e-3, 1e-2]}}
                sampler: sobol
                """);
            var db = Path.Combine(dir.FullName, "s.db");
            var (code, _, err) = Run("sweep", "run", study, "--trials", "2", "--store", db);
            code.ShouldBe(0, err);
            using var store = Anneal.Store.RunStore.Open(db);
            var trials = store.ListTrials(store.GetStudy("linked")!.Id);
            trials.Count.ShouldBe(2);
            foreach (var t in trials)
            {
                t.RunId.ShouldNotBeNull($"trial {t.Number} has no run");
                var run = store.GetRun(t.RunId!.Value)!;
                run.Name.ShouldBe($"linked trial {t.Number}");
                run.Tags.ShouldContain("sweep");
                run.Status.ShouldBe(Anneal.Store.RunStatus.Finished);
                var lines = File.ReadAllLines(Path.Combine(dir.FullName, "sweeps", "linked", $"trial-{t.Number}.csv"));
                int col = Array.IndexOf(lines[0].Split(','), "loss");
                var logged = lines.Skip(1).Select(l => l.Split(',')).Select(c => (long.Parse(c[0], System.Globalization.CultureInfo.InvariantCulture), double.Parse(c[col], System.Globalization.CultureInfo.InvariantCulture))).ToList();
                var (steps, values) = store.GetPoints(run.Id, "loss")!.Value;
                steps.ShouldBe(logged.Select(x => x.Item1).ToArray());
                for (int i = 0; i < values.Length; i++) values[i].ShouldBe(logged[i].Item2, 1e-6 * Math.Abs(logged[i].Item2));
                t.Intermediate.Select(x => x.Step).ShouldBe(steps);
            }
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Store_drops_attributes_that_are_not_numbers_instead_of_failing_the_trial()
    {
        // The forecast pruner marks a checkpoint with NaN band ends when the band is unavailable; JSON cannot hold NaN,
        // and writing it threw, which failed every such trial of a live sweep (store only; the in-memory storage kept it).
        var dir = Directory.CreateTempSubdirectory("anneal-sweep-attrs-");
        try
        {
            var spec = Spec("forecast");
            using var store = Anneal.Store.RunStore.Open(Path.Combine(dir.FullName, "s.db"));
            var study = store.GetOrCreateStudy(spec.Name, spec.Text);
            var storage = new Anneal.Cli.Commands.StoreStudyStorage(store, study.Id, spec.Space);
            var p = new RandomSampler(1).Propose(spec.Space, [], 0)!;
            storage.TryCreate(p, "w0", 0).ShouldBe(0);
            storage.SetAttributes(0, new Dictionary<string, double> { ["forecast_checkpoint"] = 1, ["forecast_low"] = 1.25, ["forecast"] = 1.5 });
            storage.SetAttributes(0, new Dictionary<string, double> { ["forecast_checkpoint"] = 2, ["forecast_low"] = double.NaN, ["forecast"] = 1.75, ["forecast_high"] = double.PositiveInfinity });
            var a = storage.Trials().Single().Attributes;
            a["forecast_checkpoint"].ShouldBe(2);
            a["forecast"].ShouldBe(1.75);
            a.ContainsKey("forecast_low").ShouldBeFalse(); // the older 1.25 is no longer the trial's band
            a.ContainsKey("forecast_high").ShouldBeFalse();
        }
        finally { dir.Delete(true); }
    }

    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = AnnealCli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }
}
