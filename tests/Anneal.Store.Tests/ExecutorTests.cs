using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Anneal.Tuning;
using StoreTrialState = Anneal.Store.TrialState;
using static Anneal.Store.Tests.ExecutorTests;

namespace Anneal.Store.Tests;

/// <summary>
/// The sweep executors end to end: real <c>anneal</c> worker processes (and Slurm array tasks) sharing one store, one of
/// them killed mid-trial. The objective is a shell loop writing a CSV log whose values are a closed form of the trial's
/// parameter, so every recorded value is checked against that formula; proposals are checked against the Sobol'
/// sampler's points for each trial's number, which shows that no process proposed from a stale view of the study.
/// </summary>
public sealed partial class ExecutorTests
{
    internal const int Rows = 6;

    /// <summary>The toy objective: loss = (x - 0.5)² + 10 / (step + 1) at steps 9, 19, ..., one row every 0.5 s.</summary>
    internal static double Loss(double x, long step) => (x - 0.5) * (x - 0.5) + 10.0 / (step + 1);

    internal sealed class Study : IDisposable
    {
        public Study(string name)
        {
            Dir = Directory.CreateTempSubdirectory("anneal-exec-").FullName;
            File.WriteAllText(Path.Combine(Dir, "toy.sh"), $$"""
                echo "step,loss" > "$ANNEAL_LOG"
                for s in $(seq 9 10 {{10 * Rows - 1}}); do
                  echo "$s,$(awk -v x="$ANNEAL_PARAM_X" -v s="$s" 'BEGIN{printf "%.9f", (x-0.5)^2 + 10/(s+1)}')" >> "$ANNEAL_LOG"
                  sleep 0.5
                done
                """);
            Name = name;
            Yaml = Path.Combine(Dir, "toy.yaml");
            File.WriteAllText(Yaml, $$$"""
                name: {{{name}}}
                objective: {command: [bash, toy.sh], log: "runs/{trial}.csv", steps: {{{10 * Rows}}}, metric: loss}
                space: {x: {uniform: [-2, 2]}}
                sampler: sobol
                """);
            Spec = StudyFile.Load(Yaml);
        }

        public string Dir { get; }
        public string Name { get; }
        public string Yaml { get; }
        public StudySpec Spec { get; }

        public void Dispose()
        {
            try { Directory.Delete(Dir, recursive: true); }
            catch (IOException) { } // an orphaned objective of a killed worker may still be writing its log
        }
    }

    internal static Process StartAnneal(string? store, IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath is { } h && Path.GetFileNameWithoutExtension(h) == "dotnet" ? h : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add(typeof(Anneal.Cli.AnnealCli).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (store is not null) psi.Environment["ANNEAL_STORE"] = store;
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    internal static (int Code, string Out, string Err) Finish(Process p, TimeSpan timeout)
    {
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"anneal did not finish in {timeout}; its output: {o.Result}{e.Result}");
        }
        p.WaitForExit();
        return (p.ExitCode, o.Result, e.Result);
    }

    [GeneratedRegex(@"-(\d+)(?:-slurm(\d+_\d+))?-w0$")]
    internal static partial Regex WorkerName();

    /// <summary>Waits until <paramref name="count"/> trials are running under distinct workers, each past its first report and with most of its rows to go.</summary>
    internal static async Task<List<TrialInfo>> RunningTrials(RunStore store, long studyId, int count, params Task<(int Code, string Out, string Err)>[] anneal)
    {
        var until = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (DateTime.UtcNow < until)
        {
            var running = store.ListTrials(studyId).Where(t => t.State == StoreTrialState.Running && t.Intermediate.Count is > 0 and <= 2)
                .DistinctBy(t => t.Worker).Take(count).ToList();
            if (running.Count == count) return running;
            if (anneal.All(a => a.IsCompleted)) break;
            await Task.Delay(100);
        }
        var said = string.Join("\n", (await Task.WhenAll(anneal.Where(a => a.IsCompleted))).Select(r => $"exit code {r.Code}: {r.Out}{r.Err}"));
        throw new TimeoutException($"fewer than {count} trials were running mid-way; {said}");
    }

    /// <summary>
    /// The study holds exactly <paramref name="trials"/> complete trials and the expected failed ones, each failed trial
    /// has exactly one complete copy (same parameters, later number) and no configuration completed twice; every fresh
    /// trial's parameters are the sampler's proposal for its number; every value is the closed form's.
    /// </summary>
    internal static void AccountedFor(RunStore store, Study study, int trials, IReadOnlyList<(int Number, string Message)> failed)
    {
        var info = store.GetStudy(study.Name)!;
        var all = store.ListTrials(info.Id);
        var fails = all.Where(t => t.State == StoreTrialState.Failed).ToList();
        fails.Select(t => t.Number).Order().ShouldBe(failed.Select(f => f.Number).Order(), string.Join("\n", all.Select(t => $"{t.Number} {t.State} {t.Worker} {t.Message}")));
        foreach (var (number, message) in failed) fails.Single(t => t.Number == number).Message!.ShouldContain(message);
        var complete = all.Where(t => t.State == StoreTrialState.Complete).ToList();
        complete.Count.ShouldBe(trials);
        all.Count.ShouldBe(trials + failed.Count);
        complete.GroupBy(t => t.ParamsJson).ShouldAllBe(g => g.Count() == 1);
        foreach (var f in fails) complete.Count(t => t.ParamsJson == f.ParamsJson && t.Number > f.Number).ShouldBe(1);
        var sobol = StudyComponents.Sampler(study.Spec);
        foreach (var t in all.Where(t => !fails.Any(f => f.ParamsJson == t.ParamsJson && f.Number < t.Number)))
            t.ParamsJson.ShouldBe(StudyRunner.ParamsJson(sobol.Propose(study.Spec.Space, [], t.Number)!), $"trial {t.Number}");
        foreach (var t in complete)
        {
            double x = double.Parse(System.Text.Json.Nodes.JsonNode.Parse(t.ParamsJson)!["x"]!.ToJsonString(), CultureInfo.InvariantCulture);
            t.Intermediate.Select(i => i.Step).ShouldBe(Enumerable.Range(0, Rows).Select(i => 10L * i + 9));
            foreach (var (step, value) in t.Intermediate) value.ShouldBe(Loss(x, step), 1e-8);
            t.Value!.Value.ShouldBe(Loss(x, 10 * Rows - 1), 1e-8);
        }
    }

    /// <summary>
    /// <c>anneal sweep run --workers 4</c>: four worker processes share the store (on PostgreSQL: the issue's 4-worker
    /// run); one is killed (SIGKILL) mid-trial. The supervising process sees it exit and requeues its trial at once; the
    /// study completes with every trial accounted for.
    /// </summary>
    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Four_worker_processes_finish_the_study_when_one_is_killed_mid_trial(string kind)
    {
        using var t = Backends.Create(kind);
        using var study = new Study("four");
        const int trials = 8;
        var run = StartAnneal(t.Location, ["sweep", "run", study.Yaml, "--trials", $"{trials}", "--workers", "4", "--heartbeat-timeout", "60"]);
        var output = Task.Run(() => Finish(run, TimeSpan.FromMinutes(5)));
        var victim = (await RunningTrials(t.Store, Id(t.Store, study), 1, output))[0];
        int pid = int.Parse(WorkerName().Match(victim.Worker!).Groups[1].Value, CultureInfo.InvariantCulture);
        Process.GetProcessById(pid).Kill();
        var (code, stdout, err) = await output;
        code.ShouldBe(0, err);
        err.ShouldContain($"(process {pid}) exited with code 137; trial {victim.Number} failed and requeued");
        stdout.ShouldContain($"study four: {trials + 1} trials ({trials} complete, 0 pruned, 1 failed");
        AccountedFor(t.Store, study, trials, [(victim.Number, $"(process {pid}) exited with code 137 during the trial")]);
        // trials ran in several processes (how many of the four got one depends on how fast each started)
        t.Store.ListTrials(Id(t.Store, study)).Select(x => x.Worker).Distinct().Count().ShouldBeGreaterThanOrEqualTo(2);
    }

    /// <summary>
    /// Bad input is refused with one message and exit 2 before anything runs: an unknown executor, no workers, and the
    /// Slurm executor where sbatch is not on PATH.
    /// </summary>
    [Fact]
    public void Bad_executor_input_is_refused_before_any_work()
    {
        using var t = Backends.Create("sqlite");
        using var study = new Study("bad");
        foreach (var (args, message) in new (string[], string)[]
        {
            (["--executor", "ssh"], "--executor must be local or slurm, got 'ssh'"),
            (["--workers", "0"], "--workers must be between 1 and 256, got 0"),
            (["--heartbeat-timeout", "0.5"], "--heartbeat-timeout must be between 1 and 86400 seconds, got 0.5"),
            (["--wait"], "--wait applies to --executor slurm only"),
            (["--executor", "slurm", "--threads", "2"], "--threads applies to --executor local; a Slurm task trains with the CPUs Slurm gives it (--sbatch=--cpus-per-task=N)"),
        })
        {
            var (code, _, err) = Finish(StartAnneal(t.Location, ["sweep", "run", study.Yaml, .. args]), TimeSpan.FromMinutes(2));
            code.ShouldBe(2, err);
            err.Trim().ShouldBe($"error: {message}");
        }
        var (c, _, e) = Finish(StartAnneal(t.Location, ["sweep", "run", study.Yaml, "--executor", "slurm"], new Dictionary<string, string> { ["PATH"] = "/nonexistent" }), TimeSpan.FromMinutes(2));
        c.ShouldBe(2, e);
        e.Trim().ShouldBe("error: --executor slurm needs sbatch on PATH (Slurm's client commands): run this on a Slurm login node, or use --executor local");
        t.Store.GetStudy("bad").ShouldBeNull(); // refused before the study was created
    }

    /// <summary>
    /// The store's side of the protocol: a proposal made from a stale view (another worker added a trial since) is
    /// refused and adds nothing; a released worker's trial is failed with the reason, requeued once under the next
    /// number, and its worker's later reports are refused.
    /// </summary>
    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void A_stale_proposal_is_refused_and_a_released_workers_trial_is_requeued(string kind)
    {
        using var t = Backends.Create(kind);
        var s = t.Store.GetOrCreateStudy("p", "p");
        var a = t.Store.TryCreateTrial(s.Id, """{"x": 1}""", "w1", expectedNumber: 0)!;
        a.Number.ShouldBe(0);
        a.State.ShouldBe(StoreTrialState.Running);
        t.Store.TryCreateTrial(s.Id, """{"x": 2}""", "w2", expectedNumber: 0).ShouldBeNull();
        t.Store.ListTrials(s.Id).Count.ShouldBe(1);
        var b = t.Store.TryCreateTrial(s.Id, """{"x": 2}""", "w2", expectedNumber: 1)!;
        b.Number.ShouldBe(1);
        Should.Throw<KeyNotFoundException>(() => t.Store.TryCreateTrial(s.Id + 99, "{}", "w", 0));
        var released = t.Store.ReleaseWorkerTrials(s.Id, "w1", "was stopped", requeue: true);
        released.Select(x => x.Number).ShouldBe([0]);
        released[0].Message.ShouldBe("worker w1 was stopped");
        t.Store.ReleaseWorkerTrials(s.Id, "w1", "was stopped", requeue: true).ShouldBeEmpty(); // once
        t.Store.ReportIntermediate(a.Id, 10, 1.0).ShouldBeFalse();
        t.Store.Heartbeat(a.Id, "w1").ShouldBeFalse();
        t.Store.FinishTrial(a.Id, StoreTrialState.Complete, 1.0).ShouldBeFalse();
        var all = t.Store.ListTrials(s.Id);
        all.Select(x => (x.Number, x.State, x.ParamsJson)).ShouldBe([(0, StoreTrialState.Failed, """{"x":1}"""), (1, StoreTrialState.Running, """{"x":2}"""), (2, StoreTrialState.Waiting, """{"x":1}""")]);
        t.Store.ClaimWaitingTrial(s.Id, "w3")!.Number.ShouldBe(2);
    }

    /// <summary>
    /// Four workers, each with a store instance of its own, propose at once: each reads the count n, "proposes" f(n) and
    /// adds it only as trial n. Every trial ends up with f(its number), numbers 0..39 with none missing or doubled,
    /// which is what a sampler's proposal for trial n needs.
    /// </summary>
    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Concurrent_proposals_each_get_the_number_they_were_made_for(string kind)
    {
        using var t = Backends.Create(kind);
        var s = t.Store.GetOrCreateStudy("c", "c");
        const int trials = 40;
        var stores = Enumerable.Range(0, 4).Select(_ => t.OpenAnother()).ToArray();
        try
        {
            Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, w =>
            {
                while (stores[w].ListTrials(s.Id, withIntermediate: false).Count is var n && n < trials)
                {
                    // refused (null) when another worker took number n first: read again and retry
                    if (stores[w].TryCreateTrial(s.Id, $$"""{"x": {{n * n}}}""", $"w{w}", n) is { } trial) stores[w].FinishTrial(trial.Id, StoreTrialState.Complete, n);
                }
            });
        }
        finally { foreach (var x in stores) x.Dispose(); }
        var all = t.Store.ListTrials(s.Id, withIntermediate: false);
        all.Select(x => x.Number).ShouldBe(Enumerable.Range(0, trials));
        foreach (var x in all) x.ParamsJson.ShouldBe($$"""{"x":{{x.Number * x.Number}}}""");
    }

    internal static long Id(RunStore store, Study study)
    {
        var until = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (store.GetStudy(study.Name) is not { } s)
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"study {study.Name} was never created");
            Thread.Sleep(100);
        }
        return store.GetStudy(study.Name)!.Id;
    }
}

/// <summary>
/// A fact that needs a running Slurm cluster (sbatch on PATH and a slurm.conf: $SLURM_CONF, as .ci/start-slurm starts
/// one, or /etc/slurm/slurm.conf): skipped with the reason when there is none, except under CI=true, where it runs and fails.
/// </summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute()
    {
        if (Backends.UnderCi) return;
        bool sbatch = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, "sbatch")));
        bool conf = Environment.GetEnvironmentVariable("SLURM_CONF") is { Length: > 0 } c ? File.Exists(c) : File.Exists("/etc/slurm/slurm.conf");
        if (!sbatch || !conf)
            Skip = "needs a Slurm cluster: sbatch on PATH and SLURM_CONF naming its slurm.conf (sudo .ci/start-slurm starts a single-node one and prints the path)";
    }
}

/// <summary>Unsupervised worker processes: a killed worker's trial is reaped through its heartbeat (a class of its own, so it runs beside the other executor tests).</summary>
public sealed class ExecutorHeartbeatTests
{
    /// <summary>
    /// Three <c>anneal sweep worker</c> processes started by hand with no supervisor (as Slurm tasks are); one is killed
    /// mid-trial. Its trial's heartbeat ages past the 10 s timeout (long enough that no live worker on a loaded machine
    /// misses it), a survivor marks it failed and queues a copy, which runs once; the study completes with every trial
    /// accounted for.
    /// </summary>
    [Fact]
    public async Task Unsupervised_workers_reap_a_killed_workers_trial_after_the_heartbeat_timeout()
    {
        using var t = Backends.Create("sqlite");
        using var study = new Study("bare");
        const int trials = 6;
        var workers = Enumerable.Range(0, 3).Select(_ => StartAnneal(t.Location, ["sweep", "worker", study.Yaml, "--trials", $"{trials}", "--heartbeat-timeout", "10"])).ToList();
        var outputs = workers.Select(w => Task.Run(() => Finish(w, TimeSpan.FromMinutes(5)))).ToList();
        var victim = (await RunningTrials(t.Store, Id(t.Store, study), 1, [.. outputs]))[0];
        int pid = int.Parse(WorkerName().Match(victim.Worker!).Groups[1].Value, CultureInfo.InvariantCulture);
        var killed = workers.Single(w => w.Id == pid);
        killed.Kill();
        var results = await Task.WhenAll(outputs);
        var survivors = workers.Select((w, i) => (w, results[i])).Where(x => x.w.Id != pid).Select(x => x.Item2).ToList();
        survivors.ShouldAllBe(r => r.Code == 0);
        string.Join("\n", survivors.Select(r => r.Err)).ShouldContain($"trial {victim.Number} failed: its worker sent no heartbeat for 10 s; a copy is queued");
        AccountedFor(t.Store, study, trials, [(victim.Number, "stopped sending heartbeats")]);
    }

}

/// <summary>The Slurm executor on a real cluster (a class of its own, so it runs beside the other executor tests).</summary>
public sealed class ExecutorSlurmTests
{
    /// <summary>
    /// <c>anneal sweep run --executor slurm --workers 4 --wait</c> on the real single-node Slurm that .ci/start-slurm
    /// starts: a job array of four <c>anneal sweep worker</c> tasks. Mid-trial one task gets SIGKILL
    /// (<c>scancel --batch --signal=KILL</c>: no chance to clean up, so a survivor reaps its trial after the 10 s heartbeat
    /// timeout) and another is cancelled (<c>scancel</c>: SIGTERM, the worker requeues its trial itself). The study
    /// completes with every trial accounted for.
    /// </summary>
    [SlurmFact]
    public async Task A_slurm_job_array_finishes_the_study_when_tasks_are_killed()
    {
        using var t = Backends.Create("sqlite");
        using var study = new Study("slurm");
        const int trials = 8;
        var run = StartAnneal(t.Location, ["sweep", "run", study.Yaml, "--trials", $"{trials}", "--workers", "4", "--executor", "slurm", "--wait", "--heartbeat-timeout", "10"]);
        var output = Task.Run(() => Finish(run, TimeSpan.FromMinutes(5)));
        var two = await RunningTrials(t.Store, Id(t.Store, study), 2, output);
        var tasks = two.Select(x => WorkerName().Match(x.Worker!).Groups[2].Value).ToList();
        tasks.ShouldAllBe(x => x.Length > 0, "workers under Slurm name their array task");
        Scancel("--batch", "--signal=KILL", tasks[0]);
        Scancel(tasks[1]);
        var (code, stdout, err) = await output;
        code.ShouldBe(0, err);
        err.ShouldContain("submitted job array");
        AccountedFor(t.Store, study, trials, [(two[0].Number, "stopped sending heartbeats"), (two[1].Number, "was stopped before its trial ended")]);
        stdout.ShouldContain($"study slurm: {trials + 2} trials ({trials} complete, 0 pruned, 2 failed; job array", customMessage: err);
    }

    internal static void Scancel(params string[] args)
    {
        var psi = new ProcessStartInfo("scancel") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        p.ExitCode.ShouldBe(0, err);
    }

}
