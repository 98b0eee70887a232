using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using StoreTrialState = Anneal.Store.TrialState;
using static Anneal.Store.Tests.ExecutorTests;

namespace Anneal.Store.Tests;

/// <summary>
/// The local executor's supervisor starts a dead worker process again, so a study keeps its K workers (a class of its
/// own, so it runs beside the other executor tests). Same toy objective as <see cref="ExecutorTests"/>: every value is
/// checked against its closed form and every proposal against the Sobol' sampler.
/// </summary>
public sealed partial class ExecutorRestartTests
{
    [GeneratedRegex(@"worker (\d+) \(process (\d+)\) exited with code 137; trial (\d+) failed and requeued")]
    private static partial Regex Died();

    /// <summary>
    /// <c>anneal sweep run --workers 2</c>, one worker killed (SIGKILL) mid-trial: the supervisor requeues its trial and
    /// starts the worker again as a new process, which then runs trials beside the survivor. Without the restart the
    /// study still completes, but on one worker: no trial ever runs in a process started after the kill, and no two
    /// trials started after it overlap in time. Every trial is accounted for.
    /// </summary>
    [Fact]
    public async Task A_killed_worker_process_is_started_again_and_the_study_runs_on_k_workers()
    {
        using var t = Backends.Create("sqlite");
        using var study = new Study("restart");
        // enough trials (3 s each) that the survivor cannot finish them alone while the new process starts on a loaded machine
        const int trials = 12;
        var run = StartAnneal(t.Location, ["sweep", "run", study.Yaml, "--trials", $"{trials}", "--workers", "2", "--heartbeat-timeout", "60"]);
        var output = Task.Run(() => Finish(run, TimeSpan.FromMinutes(5)));
        long id = Id(t.Store, study);
        var victim = (await RunningTrials(t.Store, id, 1, output))[0];
        int pid = int.Parse(WorkerName().Match(victim.Worker!).Groups[1].Value, CultureInfo.InvariantCulture);
        var killedAt = DateTimeOffset.UtcNow;
        Process.GetProcessById(pid).Kill();
        var (code, stdout, err) = await output;
        code.ShouldBe(0, err);
        var died = Died().Match(err);
        died.Success.ShouldBeTrue(err);
        died.Groups[2].Value.ShouldBe(pid.ToString(CultureInfo.InvariantCulture));
        died.Groups[3].Value.ShouldBe(victim.Number.ToString(CultureInfo.InvariantCulture));
        var restarted = Regex.Match(err, $@"worker {died.Groups[1].Value} restarted as process (\d+) \(restart 1 of at most 3\)");
        restarted.Success.ShouldBeTrue(err);
        int newPid = int.Parse(restarted.Groups[1].Value, CultureInfo.InvariantCulture);
        stdout.ShouldContain($"study restart: {trials + 1} trials ({trials} complete, 0 pruned, 1 failed");
        AccountedFor(t.Store, study, trials, [(victim.Number, $"(process {pid}) exited with code 137 during the trial")]);

        // K workers' throughput after the kill: the new process completed trials, the survivor did too, and two trials
        // started after the kill ran at the same time (a single worker runs them one after another)
        var all = t.Store.ListTrials(id);
        int Pid(TrialInfo x) => int.Parse(WorkerName().Match(x.Worker!).Groups[1].Value, CultureInfo.InvariantCulture);
        var after = all.Where(x => x.State == StoreTrialState.Complete && x.StartedAt > killedAt).ToList();
        after.Count(x => Pid(x) == newPid).ShouldBeGreaterThanOrEqualTo(1, string.Join("\n", all.Select(x => $"{x.Number} {x.State} {x.Worker} {x.StartedAt:O} {x.FinishedAt:O}")));
        after.Select(Pid).Distinct().Count().ShouldBe(2);
        after.Any(a => after.Any(b => b.Number != a.Number && a.StartedAt < b.FinishedAt && b.StartedAt < a.FinishedAt)).ShouldBeTrue("no two trials after the kill overlapped");
    }

    /// <summary>
    /// Workers that keep dying (the objective SIGKILLs the worker process that runs it) are started again at most three
    /// times each; then the supervisor says so, naming the worker and where its output is, and exits 1 with the study
    /// resumable: each death's trial is failed with the reason and a copy requeued, none is lost or run twice.
    /// </summary>
    [Fact]
    public void A_worker_that_keeps_dying_is_given_up_after_three_restarts_with_a_clear_message()
    {
        using var t = Backends.Create("sqlite");
        using var study = new Study("dying");
        File.WriteAllText(Path.Combine(study.Dir, "toy.sh"), "kill -9 $PPID\n");
        var (code, _, err) = Finish(StartAnneal(t.Location, ["sweep", "run", study.Yaml, "--trials", "2", "--workers", "2", "--heartbeat-timeout", "60"]), TimeSpan.FromMinutes(5));
        code.ShouldBe(1, err);
        int deaths = Regex.Matches(err, @"worker \d \(process \d+\) exited with code 137; trial \d+ failed and requeued").Count;
        deaths.ShouldBeGreaterThanOrEqualTo(4, err);
        var gaveUp = Regex.Matches(err, @"worker (\d) died 4 times \(last exit code 137\); not starting it again, the study goes on with \d worker\(s\)\. Its output above \(\[worker \1\] lines\) says why; fix that and run the same command to resume the study");
        gaveUp.Count.ShouldBeGreaterThanOrEqualTo(1, err);
        foreach (var w in new[] { "0", "1" })
        {
            // each worker's restarts count up from 1 and stop at 3
            var n = Regex.Matches(err, $@"worker {w} restarted as process \d+ \(restart (\d) of at most 3\)").Select(m => m.Groups[1].Value).ToList();
            n.ShouldBe(Enumerable.Range(1, n.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList());
            n.Count.ShouldBeLessThanOrEqualTo(3);
        }
        err.ShouldContain($"error: the study is not done: {deaths} worker process(es) died and {gaveUp.Count} worker(s) were given up after 3 restarts; run the same command to resume it");
        var all = t.Store.ListTrials(t.Store.GetStudy("dying")!.Id);
        var failed = all.Where(x => x.State == StoreTrialState.Failed).ToList();
        failed.Count.ShouldBe(deaths);
        failed.ShouldAllBe(x => x.Message!.Contains("exited with code 137 during the trial"));
        // every failed trial has a later copy, and what is left waits for a resume
        foreach (var f in failed) all.Count(x => x.ParamsJson == f.ParamsJson && x.Number > f.Number && x.Number <= f.Number + deaths + 1).ShouldBeGreaterThanOrEqualTo(1);
        all.Where(x => x.State != StoreTrialState.Failed).ShouldAllBe(x => x.State == StoreTrialState.Waiting);
        all.Select(x => x.ParamsJson).Distinct().Count().ShouldBeLessThanOrEqualTo(2);
    }
}
