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
        const int trials = 8;
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
    /// A worker that keeps dying (its objective SIGKILLs the worker process that runs it) is started again at most three
    /// times; then the supervisor says so, naming the worker and where its output is, and exits 1 with the study
    /// resumable: each death's trial is failed with the reason and requeued, none is lost.
    /// </summary>
    [Fact]
    public void A_worker_that_keeps_dying_is_given_up_after_three_restarts_with_a_clear_message()
    {
        using var t = Backends.Create("sqlite");
        using var study = new Study("dying");
        File.WriteAllText(Path.Combine(study.Dir, "toy.sh"), "kill -9 $PPID\n");
        var (code, _, err) = Finish(StartAnneal(t.Location, ["sweep", "run", study.Yaml, "--trials", "1", "--workers", "1", "--heartbeat-timeout", "60"]), TimeSpan.FromMinutes(5));
        code.ShouldBe(1, err);
        Regex.Matches(err, @"worker 0 restarted as process \d+ \(restart (\d) of at most 3\)").Select(m => m.Groups[1].Value).ShouldBe(["1", "2", "3"]);
        err.ShouldContain("worker 0 died 4 times (last exit code 137); not starting it again, the study goes on with 0 worker(s). Its output above ([worker 0] lines) says why");
        err.ShouldContain("error: the study is not done: 4 worker process(es) died and 1 worker(s) were given up after 3 restarts; run the same command to resume it");
        var all = t.Store.ListTrials(t.Store.GetStudy("dying")!.Id);
        all.Count(x => x.State == StoreTrialState.Failed).ShouldBe(4);
        all.Where(x => x.State == StoreTrialState.Failed).ShouldAllBe(x => x.Message!.Contains("exited with code 137 during the trial"));
        all.Single(x => x.State != StoreTrialState.Failed).State.ShouldBe(StoreTrialState.Waiting); // the copy waits for a resume
        all.Select(x => x.ParamsJson).Distinct().Count().ShouldBe(1); // one configuration, never lost, never doubled
    }
}
