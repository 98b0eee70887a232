using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Anneal.Store;
using Anneal.Training.Data;
using Anneal.Tuning;

namespace Anneal.Cli.Commands;

/// <summary>
/// Everything a sweep's workers need, checked before any trial runs: the parsed study file, its sampler and pruner,
/// the open store with the study in it (created, or resumed when the stored file is the same), and the objective
/// (a train objective's data loaded, which also fills the corpus cache before worker processes read it).
/// </summary>
internal sealed class SweepSetup : IDisposable
{
    public required StudySpec Spec { get; init; }
    public required string File { get; init; }
    public required int Trials { get; init; }
    public required RunStore Store { get; init; }
    public required StudyInfo Study { get; init; }
    public required string Dir { get; init; }
    public required ISampler Sampler { get; init; }
    public required IPruner Pruner { get; init; }
    public required ITrialObjective Objective { get; init; }

    /// <summary>The command's writers: the executors' summaries and messages go there.</summary>
    public required CliContext Io { get; init; }

    public static SweepSetup Prepare(string path, int? trials, string? store, string? outDir, string dataDir, CliContext io)
    {
        var spec = StudyFile.Load(path);
        int n = trials ?? spec.Trials ?? 20;
        if (n < 1) throw new InputException($"--trials must be at least 1, got {n}");
        var sampler = StudyComponents.Sampler(spec);
        var pruner = StudyComponents.Pruner(spec);
        string full = Path.GetFullPath(path), here = Path.GetDirectoryName(full)!;
        var dir = Path.GetFullPath(outDir ?? Path.Combine(here, "sweeps", spec.Name));
        var runStore = RunsCommands.Open(store);
        try
        {
            var study = runStore.GetStudy(spec.Name);
            if (study is not null && study.SpecText != spec.Text)
                throw new InputException($"{path}: study '{spec.Name}' is already in {runStore.Location} with a different study file; give this one another name, or run the stored file to resume it");
            study ??= runStore.GetOrCreateStudy(spec.Name, spec.Text);
            ITrialObjective objective = spec.Objective switch
            {
                CommandObjectiveSpec c => new StoredCommandObjective(new CommandObjective(c, here), runStore, study.Id, spec.Name),
                TrainObjectiveSpec t => new TrainObjective(t, spec, dir, TextDataset.Load(t.Data, dataDir, io.Err), runStore, study.Id),
                _ => throw new InvalidOperationException("unknown objective"),
            };
            Directory.CreateDirectory(dir);
            return new SweepSetup { Spec = spec, File = full, Trials = n, Store = runStore, Study = study, Dir = dir, Sampler = sampler, Pruner = pruner, Objective = objective, Io = io };
        }
        catch
        {
            runStore.Dispose();
            throw;
        }
    }

    public StoreStudyStorage Storage() => new(Store, Study.Id, Spec.Space);

    public StudyRunner Runner(StoreStudyStorage storage) => new(Spec, Sampler, Pruner, storage, Objective) { Progress = Io.Err.WriteLine };

    /// <summary>The study's trials now, with their schedules and planned steps.</summary>
    public IReadOnlyList<TrialRecord> CurrentTrials()
    {
        var storage = Storage();
        var runner = Runner(storage);
        return storage.Trials().Select(runner.Enrich).ToList();
    }

    public void Dispose() => Store.Dispose();
}

/// <summary>
/// Where a sweep's workers run. Every worker is the same loop (<see cref="StudyRunner"/> with one worker) pulling
/// trials from the shared store: requeued ones first, else a new proposal that the store accepts only if no trial was
/// added since the worker read the study (so proposals stay consistent across processes). The executors differ only
/// in who starts the workers: this process (one worker), K child processes of this one, or a Slurm job array.
/// </summary>
internal static class SweepExecutors
{
    /// <summary>A running trial without a heartbeat for this long belongs to a dead worker (docs/tuning.md).</summary>
    public static readonly TimeSpan DefaultHeartbeatTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Workers beat every 5 s, or four times per timeout when it is shorter.</summary>
    private static TimeSpan Interval(TimeSpan timeout) => TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(5).Ticks, timeout.Ticks / 4));

    /// <summary>
    /// One worker in this process. SIGTERM and SIGINT (Ctrl+C, scancel) stop it: its running trial is failed and a copy
    /// requeued at once (rather than after the heartbeat timeout), and it exits 1.
    /// </summary>
    public static int RunHere(SweepSetup setup, int cores, TimeSpan heartbeatTimeout)
    {
        using var stop = new CancellationTokenSource();
        int signalled = 0;
        void OnSignal(PosixSignalContext c)
        {
            c.Cancel = true; // keep running until the trial is released
            Volatile.Write(ref signalled, (int)c.Signal);
            stop.Cancel();
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        var storage = setup.Storage();
        var runner = setup.Runner(storage);
        var options = new SweepOptions
        {
            Trials = setup.Trials, Workers = 1, Cores = cores, HeartbeatTimeout = heartbeatTimeout, HeartbeatInterval = Interval(heartbeatTimeout),
            WorkerPrefix = WorkerPrefix(),
        };
        var s = runner.Run(options, stop.Token);
        var all = storage.Trials().Select(runner.Enrich).ToList();
        Summary(setup, all, $"{s.Started} run by this worker", setup.Io.Out);
        if (stop.IsCancellationRequested)
        {
            setup.Io.Err.WriteLine($"error: stopped by a signal; run the same command to resume the study");
            return CliExit.Internal;
        }
        return CliExit.Ok;
    }

    /// <summary>This worker's name prefix: host and process id, and the array task under Slurm (so a test or a user can tell which task ran a trial).</summary>
    private static string WorkerPrefix()
    {
        var prefix = SweepOptions.ProcessPrefix(Environment.ProcessId);
        return Environment.GetEnvironmentVariable("SLURM_ARRAY_JOB_ID") is { Length: > 0 } job && Environment.GetEnvironmentVariable("SLURM_ARRAY_TASK_ID") is { Length: > 0 } task
            ? $"{prefix}-slurm{job}_{task}"
            : prefix;
    }

    /// <summary>
    /// Times one worker slot is started again after its process died, before the supervisor gives up on it: a worker that
    /// dies over and over (an objective that crashes its process, memory running out) is a fault to report, not to loop on.
    /// </summary>
    public const int MaxWorkerRestarts = 3;

    /// <summary>
    /// K worker processes (<c>anneal sweep worker</c>) on this machine, each with its share of the training threads; their
    /// output is forwarded with a <c>[worker i]</c> prefix. A worker that exits while it holds a trial (killed, crashed)
    /// has that trial failed and requeued at once, without waiting for the heartbeat timeout, and a worker that exits
    /// with an error is started again (at most <see cref="MaxWorkerRestarts"/> times per worker), so the study goes on
    /// with K workers rather than fewer. SIGTERM/SIGINT are passed on to the workers, which requeue their trials and exit.
    /// </summary>
    public static int RunProcesses(SweepSetup setup, string? store, int k, int cores, TimeSpan heartbeatTimeout, string dataDir)
    {
        int before = setup.Store.ListTrials(setup.Study.Id, withIntermediate: false).Count;
        var self = SelfCommand();
        int threads = Math.Max(1, cores / k);
        var gate = new object();
        var workers = new List<(Process Process, int Index, string Name)>();
        int stopping = 0;
        void OnSignal(PosixSignalContext c)
        {
            c.Cancel = true;
            Volatile.Write(ref stopping, 1);
            lock (gate) foreach (var w in workers) if (!w.Process.HasExited) _ = kill(w.Process.Id, 15); // SIGTERM: the worker releases its trial
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        var err = setup.Io.Err;
        // Starts worker `index` (again, after a death); null when stopping.
        (Process Process, int Index, string Name)? Start(int index)
        {
            var psi = new ProcessStartInfo(self[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Environment.CurrentDirectory };
            foreach (var a in self.Skip(1)) psi.ArgumentList.Add(a);
            foreach (var a in new[]
            {
                "sweep", "worker", setup.File, "--trials", setup.Trials.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture),
                "--out-dir", setup.Dir, "--data-dir", Path.GetFullPath(dataDir), "--heartbeat-timeout", heartbeatTimeout.TotalSeconds.ToString("R", CultureInfo.InvariantCulture),
            }) psi.ArgumentList.Add(a);
            // The store goes by environment, not on the command line, where a PostgreSQL URL's password would show in ps.
            if (store is not null) psi.Environment["ANNEAL_STORE"] = store;
            var p = new Process { StartInfo = psi };
            p.OutputDataReceived += (_, e) => { if (e.Data is { } l) lock (gate) err.WriteLine($"[worker {index}] {l}"); };
            p.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (gate) err.WriteLine($"[worker {index}] {l}"); };
            (Process, int, string) w;
            lock (gate)
            {
                if (Volatile.Read(ref stopping) == 1) { p.Dispose(); return null; }
                p.Start();
                w = (p, index, SweepOptions.WorkerName(SweepOptions.ProcessPrefix(p.Id), 0));
                workers.Add(w);
            }
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            return w;
        }
        var pending = new List<(Process Process, int Index, string Name)>();
        for (int i = 0; i < k; i++)
            if (Start(i) is { } w) pending.Add(w);
            else break;
        err.WriteLine($"study {setup.Spec.Name}: {pending.Count} worker processes, {threads} training thread(s) each, store {setup.Store.Location}");
        var restarts = new int[k];
        int died = 0, gaveUp = 0;
        while (pending.Count > 0)
        {
            foreach (var w in pending.Where(w => w.Process.HasExited).ToList())
            {
                w.Process.WaitForExit(); // drains the forwarded output
                int code = w.Process.ExitCode;
                pending.Remove(w);
                // A worker that is gone holds no trial any more: whatever it still had running goes back to the queue now.
                var released = setup.Store.ReleaseWorkerTrials(setup.Study.Id, w.Name, $"(process {w.Process.Id}) exited with code {code} during the trial", requeue: true);
                if (code != 0) died++;
                if (code != 0 || released.Count > 0)
                    lock (gate) err.WriteLine($"worker {w.Index} (process {w.Process.Id}) exited with code {code}"
                        + (released.Count > 0 ? $"; trial {string.Join(", ", released.Select(t => t.Number))} failed and requeued" : ""));
                // A worker that exits 0 found nothing left to run; one that died leaves its share of the study to the
                // others unless it is started again.
                if (code == 0 || Volatile.Read(ref stopping) == 1) continue;
                if (restarts[w.Index] >= MaxWorkerRestarts)
                {
                    gaveUp++;
                    lock (gate) err.WriteLine($"worker {w.Index} died {restarts[w.Index] + 1} times (last exit code {code}); not starting it again, the study goes on with {pending.Count} worker(s). Its output above ([worker {w.Index}] lines) says why; fix that and run the same command to resume the study");
                    continue;
                }
                restarts[w.Index]++;
                if (Start(w.Index) is { } again)
                {
                    pending.Add(again);
                    lock (gate) err.WriteLine($"worker {w.Index} restarted as process {again.Process.Id} (restart {restarts[w.Index]} of at most {MaxWorkerRestarts})");
                }
            }
            if (pending.Count > 0) Thread.Sleep(100);
        }
        foreach (var w in workers) w.Process.Dispose();
        var all = setup.CurrentTrials();
        Summary(setup, all, $"{all.Count - before} new", setup.Io.Out);
        if (Volatile.Read(ref stopping) == 1)
        {
            err.WriteLine("error: stopped by a signal; run the same command to resume the study");
            return CliExit.Internal;
        }
        if (!Finished(setup, all))
        {
            err.WriteLine($"error: the study is not done: {died} worker process(es) died{(gaveUp > 0 ? $" and {gaveUp} worker(s) were given up after {MaxWorkerRestarts} restarts" : "")}; run the same command to resume it");
            return CliExit.Internal;
        }
        return CliExit.Ok;
    }

    /// <summary>
    /// A Slurm job array of K tasks (<c>sbatch --array=0-(K-1)</c>), each one <c>anneal sweep worker</c> pulling trials from
    /// the shared store (which the tasks get through <c>ANNEAL_STORE</c> in the environment sbatch exports). With
    /// <paramref name="wait"/> it waits for the array (<c>sbatch --wait</c>) and prints the study's summary.
    /// </summary>
    public static int RunSlurm(SweepSetup setup, string? store, int k, TimeSpan heartbeatTimeout, string dataDir, string sbatch, IReadOnlyList<string> sbatchArgs, bool wait)
    {
        // The tasks resolve the store on their node: a SQLite path must not depend on this shell's directory or HOME.
        string location = store is not null && !store.Contains("://", StringComparison.Ordinal) ? Path.GetFullPath(store)
            : store ?? (setup.Store.Kind == StoreKind.Sqlite ? setup.Store.Location : Environment.GetEnvironmentVariable("ANNEAL_STORE")!);
        if (setup.Store.Kind == StoreKind.Sqlite)
            setup.Io.Err.WriteLine($"warning: a SQLite store serialises writers and must sit on a local disk of the one node all tasks run on; for more than a handful of tasks, or several nodes, use PostgreSQL (docs/tuning.md)");
        var self = SelfCommand();
        var worker = self.Concat(["sweep", "worker", setup.File, "--trials", setup.Trials.ToString(CultureInfo.InvariantCulture),
            "--out-dir", setup.Dir, "--data-dir", Path.GetFullPath(dataDir), "--heartbeat-timeout", heartbeatTimeout.TotalSeconds.ToString("R", CultureInfo.InvariantCulture)]);
        string script = Path.Combine(setup.Dir, "slurm-worker.sh");
        string tmp = script + ".tmp";
        System.IO.File.WriteAllText(tmp, $"""
            #!/bin/sh
            # Written by anneal sweep run --executor slurm for study {setup.Spec.Name}: each array task is one worker pulling
            # trials from the store named by ANNEAL_STORE (exported by sbatch from the submitting shell).
            exec {string.Join(" ", worker.Select(Quote))}

            """);
        System.IO.File.Move(tmp, script, overwrite: true);
        var psi = new ProcessStartInfo(sbatch) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Environment.CurrentDirectory };
        foreach (var a in new[] { $"--array=0-{k - 1}", $"--job-name=anneal-{setup.Spec.Name}", $"--output={Path.Combine(setup.Dir, "slurm-%A_%a.out")}", $"--chdir={Environment.CurrentDirectory}", "--parsable" })
            psi.ArgumentList.Add(a);
        if (wait) psi.ArgumentList.Add("--wait");
        foreach (var a in sbatchArgs) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(script);
        psi.Environment["ANNEAL_STORE"] = location;
        using var p = Process.Start(psi) ?? throw new InputException($"could not start {sbatch}");
        var errText = p.StandardError.ReadToEndAsync();
        string? job = p.StandardOutput.ReadLine()?.Split(';')[0].Trim();
        if (!string.IsNullOrEmpty(job))
            setup.Io.Err.WriteLine($"study {setup.Spec.Name}: submitted job array {job} ({k} tasks, logs {Path.Combine(setup.Dir, $"slurm-{job}_*.out")}); follow it with: anneal sweep show {setup.Spec.Name}{(store is null ? "" : $" --store {setup.Store.Location}")}");
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        string said = string.Join("; ", errText.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (string.IsNullOrEmpty(job))
            throw new InputException($"sbatch refused the job array (exit code {p.ExitCode}): {said}; check the --sbatch options");
        if (!wait)
        {
            setup.Io.Out.WriteLine(job);
            return CliExit.Ok;
        }
        var all = setup.CurrentTrials();
        Summary(setup, all, $"job array {job}", setup.Io.Out);
        if (!Finished(setup, all))
        {
            setup.Io.Err.WriteLine($"error: job array {job} ended before the study was done (sbatch exit code {p.ExitCode}{(said.Length > 0 ? $": {said}" : "")}); run the same command to resume it");
            return CliExit.Internal;
        }
        return CliExit.Ok;
    }

    /// <summary>True when the study holds its trials (or the grid is exhausted) and none is running or waiting.</summary>
    private static bool Finished(SweepSetup setup, IReadOnlyList<TrialRecord> all) =>
        !all.Any(t => t.State == Anneal.Tuning.TrialState.Running)
        && (all.Count(t => t.State != Anneal.Tuning.TrialState.Failed) >= setup.Trials || setup.Sampler.Propose(setup.Spec.Space, all, all.Count) is null);

    private static void Summary(SweepSetup setup, IReadOnlyList<TrialRecord> all, string note, TextWriter o)
    {
        var sum = StudyRunner.Summarise(all);
        o.WriteLine($"study {setup.Spec.Name}: {all.Count} trials ({sum.Complete} complete, {sum.Pruned} pruned, {sum.Failed} failed; {note}), {sum.StepsRun} training steps, {sum.StepsSaved} saved by pruning");
        SweepCommands.PrintBest(all, o);
    }

    /// <summary>
    /// How to start this anneal again: the apphost itself (an installed tool, a published binary), else the dotnet host
    /// with this assembly (./anneal, dotnet run, a test host).
    /// </summary>
    internal static IReadOnlyList<string> SelfCommand()
    {
        string dll = typeof(SweepExecutors).Assembly.Location;
        string host = Environment.ProcessPath ?? "dotnet";
        string name = Path.GetFileNameWithoutExtension(host);
        if (name == "dotnet") return [host, dll];
        if (name == Path.GetFileNameWithoutExtension(dll)) return [host];
        return ["dotnet", dll];
    }

    /// <summary>The full path of <paramref name="program"/> on PATH, or null.</summary>
    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, program)).FirstOrDefault(System.IO.File.Exists);

    /// <summary>A word for sh: single-quoted, with embedded quotes closed and escaped.</summary>
    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
