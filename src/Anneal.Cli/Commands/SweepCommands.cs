using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Anneal.Store;
using Anneal.Training;
using Anneal.Training.Data;
using Anneal.Tuning;
using StoreTrialState = Anneal.Store.TrialState;
using TrialState = Anneal.Tuning.TrialState;

namespace Anneal.Cli.Commands;

/// <summary><c>anneal sweep run|show|best</c>: hyperparameter studies kept in the run store.</summary>
public static class SweepCommands
{
    public static Command Build()
    {
        var cmd = new Command("sweep", """
            Hyperparameter sweeps (studies) with samplers (random, grid, sobol, gp) and pruners (median, asha, hyperband, forecast),
            kept in the run store so that a study survives a crash and can be resumed or extended. See docs/tuning.md.
            Examples:
              anneal sweep run study.yaml --trials 20 --workers 2
              anneal sweep run study.yaml --trials 100 --workers 16 --executor slurm --store postgres://me:pw@db:5432/sweeps
              anneal sweep show wsd-gpt-tiny --json
              anneal sweep best wsd-gpt-tiny
            """);
        cmd.Subcommands.Add(RunCommand());
        cmd.Subcommands.Add(WorkerCommand());
        cmd.Subcommands.Add(ShowCommand());
        cmd.Subcommands.Add(BestCommand());
        return cmd;
    }

    private static Command RunCommand()
    {
        var file = new Argument<string>("study") { Description = "The study file (YAML): name, objective, schedule, space, sampler, pruner, budget." };
        var trials = TrialsOption();
        var workers = new Option<int>("--workers") { Description = "Workers running trials at once: K processes (local; the training threads are split between them) or K Slurm array tasks (slurm).", DefaultValueFactory = _ => 1 };
        var executor = new Option<string>("--executor") { Description = "Where the workers run: local (processes on this machine) or slurm (a job array submitted with sbatch).", DefaultValueFactory = _ => "local" };
        var threads = new Option<int?>("--threads") { Description = "Training threads in all, split between the local workers (default: every core)." };
        var sbatch = new Option<string[]>("--sbatch") { Description = "An option passed to sbatch as is (repeatable), e.g. --sbatch=--partition=cpu --sbatch=--time=02:00:00 --sbatch=--cpus-per-task=4." };
        var wait = new Option<bool>("--wait") { Description = "With --executor slurm: wait until the job array ends, then print the study's summary." };
        var heartbeat = HeartbeatOption();
        var outDir = OutDirOption();
        var dataDir = DataDirOption();
        var store = RunsCommands.StoreOption();
        var cmd = new Command("run", """
            Run (or resume) a study until it holds the requested number of trials.
            Examples:
              anneal sweep run wsd.yaml --trials 20 --workers 2 --store sweeps.db
              anneal sweep run wsd.yaml --trials 200 --workers 32 --executor slurm --store postgres://me:pw@db:5432/sweeps --sbatch=--partition=cpu
            """) { file, trials, workers, executor, threads, sbatch, wait, heartbeat, outDir, dataDir, store };
        cmd.SetAction(r =>
        {
            string exec = r.GetValue(executor)!;
            if (exec is not ("local" or "slurm")) throw new InputException($"--executor must be local or slurm, got '{exec}'");
            int k = r.GetValue(workers);
            int maxWorkers = exec == "local" ? 256 : 10000;
            if (k < 1 || k > maxWorkers) throw new InputException($"--workers must be between 1 and {maxWorkers}, got {k}");
            var hb = HeartbeatTimeout(r.GetValue(heartbeat));
            var sbatchArgs = r.GetValue(sbatch) ?? [];
            string? sbatchPath = null;
            if (exec == "slurm")
            {
                if (r.GetValue(threads) is not null)
                    throw new InputException("--threads applies to --executor local; a Slurm task trains with the CPUs Slurm gives it (--sbatch=--cpus-per-task=N)");
                sbatchPath = SweepExecutors.FindOnPath("sbatch")
                    ?? throw new InputException("--executor slurm needs sbatch on PATH (Slurm's client commands): run this on a Slurm login node, or use --executor local");
            }
            else if (sbatchArgs.Length > 0 || r.GetValue(wait))
                throw new InputException($"{(sbatchArgs.Length > 0 ? "--sbatch" : "--wait")} applies to --executor slurm only");
            int cores = r.GetValue(threads) ?? Environment.ProcessorCount;
            if (cores < 1) throw new InputException($"--threads must be at least 1, got {cores}");
            using var setup = SweepSetup.Prepare(r.GetValue(file)!, r.GetValue(trials), r.GetValue(store), r.GetValue(outDir), r.GetValue(dataDir)!, CliContext.Of(r));
            if (exec == "slurm") return SweepExecutors.RunSlurm(setup, r.GetValue(store), k, hb, r.GetValue(dataDir)!, sbatchPath!, sbatchArgs, r.GetValue(wait));
            return k == 1
                ? SweepExecutors.RunHere(setup, cores, hb)
                : SweepExecutors.RunProcesses(setup, r.GetValue(store), k, cores, hb, r.GetValue(dataDir)!);
        });
        return cmd;
    }

    private static Command WorkerCommand()
    {
        var file = new Argument<string>("study") { Description = "The study file (YAML), the same as the run's." };
        var trials = TrialsOption();
        var threads = new Option<int?>("--threads") { Description = "Training threads of this worker (default: $SLURM_CPUS_PER_TASK under Slurm, else every core)." };
        var heartbeat = HeartbeatOption();
        var outDir = OutDirOption();
        var dataDir = DataDirOption();
        var store = RunsCommands.StoreOption();
        var cmd = new Command("worker", """
            One worker process of a study: takes requeued trials or proposes new ones from the shared store, one at a time, until
            the study holds its trials. anneal sweep run starts these (local processes, or Slurm array tasks); start more by hand to
            add machines to a study on a shared PostgreSQL store. SIGTERM/SIGINT requeue its running trial at once.
            Example: ANNEAL_STORE=postgres://me:pw@db:5432/sweeps anneal sweep worker wsd.yaml --trials 200
            """) { file, trials, threads, heartbeat, outDir, dataDir, store };
        cmd.SetAction(r =>
        {
            var hb = HeartbeatTimeout(r.GetValue(heartbeat));
            int cores = r.GetValue(threads)
                ?? (int.TryParse(Environment.GetEnvironmentVariable("SLURM_CPUS_PER_TASK"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var c) && c > 0 ? c : Environment.ProcessorCount);
            if (cores < 1) throw new InputException($"--threads must be at least 1, got {cores}");
            using var setup = SweepSetup.Prepare(r.GetValue(file)!, r.GetValue(trials), r.GetValue(store), r.GetValue(outDir), r.GetValue(dataDir)!, CliContext.Of(r));
            return SweepExecutors.RunHere(setup, cores, hb);
        });
        return cmd;
    }

    private static Option<int?> TrialsOption() => new("--trials") { Description = "Trials the study should hold when done (default: the file's budget, else 20). A resumed study runs only the missing ones." };

    private static Option<string?> OutDirOption() => new("--out-dir") { Description = "Folder for the trials' logs (default: sweeps/NAME beside the study file)." };

    private static Option<string> DataDirOption() => new("--data-dir") { Description = "Cache folder for fetched corpora (train objective).", DefaultValueFactory = _ => BrownCorpus.DefaultDataDir };

    private static Option<double> HeartbeatOption() => new("--heartbeat-timeout")
    {
        Description = "Seconds without a heartbeat after which a running trial's worker counts as dead: the trial is marked failed and a copy requeued (workers beat every 5 s, or a quarter of this when shorter).",
        DefaultValueFactory = _ => SweepExecutors.DefaultHeartbeatTimeout.TotalSeconds,
    };

    private static TimeSpan HeartbeatTimeout(double seconds) => seconds is >= 1 and <= 86400
        ? TimeSpan.FromSeconds(seconds)
        : throw new InputException($"--heartbeat-timeout must be between 1 and 86400 seconds, got {seconds.ToString(CultureInfo.InvariantCulture)}");

    private static Command ShowCommand()
    {
        var name = new Argument<string>("name") { Description = "The study's name." };
        var json = new Option<bool>("--json") { Description = "Print the study as JSON: trials with number, params, state, value and steps." };
        var store = RunsCommands.StoreOption();
        var cmd = new Command("show", "Show a study's trials.\nExample: anneal sweep show wsd-gpt-tiny --json") { name, json, store };
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            var (spec, trials) = Load(r.GetValue(name)!, r.GetValue(store));
            if (r.GetValue(json)) { io.Out.WriteLine(StudyRunner.ToJson(spec.Name, trials).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true })); return CliExit.Ok; }
            var inv = CultureInfo.InvariantCulture;
            io.Out.WriteLine($"{"#",4}  {"state",-8}  {"value",10}  {"steps",7}  params");
            foreach (var t in trials)
                io.Out.WriteLine(string.Create(inv, $"{t.Number,4}  {t.State.ToString().ToLowerInvariant(),-8}  {(t.Value is { } v ? v.ToString("F4", inv) : "-"),10}  {t.StepsRun,7}  {t.Params}"));
            var sum = StudyRunner.Summarise(trials);
            io.Out.WriteLine($"{trials.Count} trials: {sum.Complete} complete, {sum.Pruned} pruned, {sum.Failed} failed; {sum.StepsRun} steps run, {sum.StepsSaved} saved by pruning");
            return CliExit.Ok;
        });
        return cmd;
    }

    private static Command BestCommand()
    {
        var name = new Argument<string>("name") { Description = "The study's name." };
        var store = RunsCommands.StoreOption();
        var cmd = new Command("best", "Print a study's best complete trial and its substituted schedule.\nExample: anneal sweep best wsd-gpt-tiny") { name, store };
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            var (_, trials) = Load(r.GetValue(name)!, r.GetValue(store));
            if (!PrintBest(trials, io.Out)) throw new InputException($"study '{r.GetValue(name)}' has no complete trial yet; run anneal sweep run on its study file");
            return CliExit.Ok;
        });
        return cmd;
    }

    internal static bool PrintBest(IReadOnlyList<TrialRecord> trials, TextWriter o)
    {
        var best = trials.Where(t => t.State == TrialState.Complete && t.Value is not null).MinBy(t => t.Value);
        if (best is null) return false;
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"best: trial {best.Number}, value {best.Value:G6}, {best.Params}"));
        if (best.Schedule is not null) o.WriteLine($"schedule: {best.Schedule}");
        return true;
    }

    private static (StudySpec Spec, IReadOnlyList<TrialRecord> Trials) Load(string name, string? storeLocation)
    {
        using var runStore = RunsCommands.Open(storeLocation);
        var study = runStore.GetStudy(name)
            ?? throw new InputException($"there is no study '{name}' in {runStore.Location}; studies there: {string.Join(", ", runStore.ListStudies().Select(s => s.Name).DefaultIfEmpty("none"))}");
        var spec = StudyFile.Parse(study.SpecText, $"study {name} (as stored)");
        var storage = new StoreStudyStorage(runStore, study.Id, spec.Space);
        var runner = new StudyRunner(spec, new RandomSampler(), new NopPruner(), storage, null!);
        return (spec, storage.Trials().Select(runner.Enrich).ToList());
    }
}

/// <summary>A study's trials in the run store (<see cref="RunStore"/>), for <see cref="StudyRunner"/>.</summary>
internal sealed class StoreStudyStorage(RunStore store, long studyId, SearchSpace space) : IStudyStorage
{
    private readonly Dictionary<int, long> _ids = [];
    private readonly object _gate = new();

    private long Id(int number)
    {
        lock (_gate) if (_ids.TryGetValue(number, out var id)) return id;
        Trials();
        lock (_gate) return _ids[number];
    }

    public IReadOnlyList<TrialRecord> Trials()
    {
        var list = store.ListTrials(studyId);
        lock (_gate) foreach (var t in list) _ids[t.Number] = t.Id;
        return list.Select(ToRecord).ToList();
    }

    private TrialRecord ToRecord(TrialInfo t)
    {
        var state = t.State switch
        {
            StoreTrialState.Complete => TrialState.Complete,
            StoreTrialState.Pruned => TrialState.Pruned,
            StoreTrialState.Failed => TrialState.Failed,
            _ => TrialState.Running, // waiting trials are pending points too
        };
        var attrs = new Dictionary<string, double>();
        if (JsonNode.Parse(t.AttributesJson) is JsonObject o)
            foreach (var (k, v) in o) if (v is JsonValue jv && jv.TryGetValue<double>(out var d)) attrs[k] = d;
        return new TrialRecord(t.Number, StudyRunner.ParseParams(space, t.ParamsJson), state, t.Value, t.Intermediate.Select(i => new Report(i.Step, i.Value)).ToList())
        { Attributes = attrs, Message = t.Message };
    }

    public int? TryCreate(TrialParams p, string worker, int expectedNumber)
    {
        if (store.TryCreateTrial(studyId, StudyRunner.ParamsJson(p), worker, expectedNumber) is not { } t) return null;
        lock (_gate) _ids[t.Number] = t.Id;
        return t.Number;
    }

    public IReadOnlyList<int> Release(string worker, string reason) =>
        store.ReleaseWorkerTrials(studyId, worker, reason, requeue: true).Select(t => t.Number).ToList();

    public TrialRecord? ClaimWaiting(string worker)
    {
        var t = store.ClaimWaitingTrial(studyId, worker);
        if (t is null) return null;
        lock (_gate) _ids[t.Number] = t.Id;
        return ToRecord(t);
    }

    public bool Report(int number, long step, double value) => store.ReportIntermediate(Id(number), step, value);

    public void SetAttributes(int number, IReadOnlyDictionary<string, double> attributes)
    {
        var t = store.GetTrial(Id(number))!;
        var o = JsonNode.Parse(t.AttributesJson) as JsonObject ?? [];
        // JSON has no NaN or infinity (the serializer throws on them, which failed every forecast-pruned trial whose
        // band was unavailable): a value that is not a number is unknown now, so an older one of that key is dropped too.
        foreach (var (k, v) in attributes)
            if (double.IsFinite(v)) o[k] = v;
            else o.Remove(k);
        store.SetTrialAttributes(t.Id, o.ToJsonString());
    }

    public bool Finish(int number, TrialState state, double? value, string? message) => store.FinishTrial(Id(number), state switch
    {
        TrialState.Complete => StoreTrialState.Complete,
        TrialState.Pruned => StoreTrialState.Pruned,
        _ => StoreTrialState.Failed,
    }, state == TrialState.Complete ? value : value is { } v && double.IsFinite(v) ? v : null, message);

    public bool Heartbeat(int number, string worker) => store.Heartbeat(Id(number), worker);

    public IReadOnlyList<int> ReapStale(TimeSpan timeout) => store.ReapStaleTrials(studyId, timeout, requeue: true).Select(t => t.Number).ToList();

    /// <summary>Links trial <paramref name="number"/> of the study to the stored run that holds its curve.</summary>
    public static void LinkRun(RunStore store, long studyId, int number, long runId)
    {
        if (store.ListTrials(studyId, withIntermediate: false).FirstOrDefault(t => t.Number == number) is { } trial) store.SetTrialRun(trial.Id, runId);
    }
}

/// <summary>
/// Anneal's trainer as a trial: the study's model and optimizer specs and schedule with the trial's parameters, the
/// metric reported from the run's event stream (<c>loss</c> at every logged row, <c>val_loss</c> at every evaluation),
/// and the run stopped through its cancellation token when the pruner says so. Each trial's log is
/// <c>trial-N.csv</c> in the sweep's folder. With a <paramref name="store"/>, each trial's run is also streamed into it
/// as it trains (<see cref="RunRecorder"/>, named "STUDY trial N", tagged <c>sweep</c> and the study's name) and linked to
/// its trial, so the dashboard shows every trial's whole curve, live while it runs.
/// </summary>
internal sealed class TrainObjective(TrainObjectiveSpec spec, StudySpec study, string dir, TextDataset data, RunStore? store = null, long studyId = 0) : ITrialObjective
{
    public TrialResult Run(TrialContext ctx)
    {
        string S(string s) => SearchSpace.Substitute(s.Replace("{trial}", ctx.Number.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), ctx.Params, "objective");
        int I(string key, int fallback) => spec.Settings.TryGetValue(key, out var v)
            ? int.TryParse(S(v), NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x : throw new InputException($"{study.File}: objective {key} must be a whole number, got '{S(v)}'")
            : fallback;
        var cfg = new TrainConfig
        {
            Model = S(spec.Model),
            Schedule = ctx.Schedule ?? throw new InputException($"{study.File}: the train objective needs a schedule: line (e.g. schedule: \"cosine(peak={{peak}}, total={spec.Steps}, warmup=100)\")"),
            Steps = checked((int)spec.Steps),
            Batch = I("batch", 16),
            Seq = spec.Settings.ContainsKey("seq") ? I("seq", 64) : null,
            Optimizer = study.Optimizer is null ? "adamw" : S(study.Optimizer),
            EvalEvery = I("eval_every", 100),
            EvalBatches = I("eval_batches", 8),
            LogEvery = I("log_every", 10),
            Seed = (ulong)I("seed", 1),
            Threads = spec.Settings.ContainsKey("threads") ? I("threads", 1) : ctx.Threads,
            Out = Path.Combine(dir, $"trial-{ctx.Number}.csv"),
        };
        Trainer.Validate(cfg);
        var events = new TrainEventStream();
        events.Subscribe(new TrainLogWriter(cfg.Out).OnEvent);
        if (store is not null)
        {
            var recorder = new RunRecorder(store, new NewRun { Name = $"{study.Name} trial {ctx.Number}", Tags = ["sweep", study.Name] });
            bool linked = false;
            events.Subscribe(e =>
            {
                recorder.OnEvent(e);
                if (linked || recorder.RunId is not { } runId) return;
                linked = true; // at the run's start, so a running trial links to its live curve
                StoreStudyStorage.LinkRun(store, studyId, ctx.Number, runId);
            });
        }
        double? last = null;
        bool stop = false;
        events.Subscribe(e =>
        {
            if (stop) return;
            (long Step, double Value)? point = null;
            if (spec.Metric == "loss" && e is StepCompleted { LogRow: { } row } && double.IsFinite(row.Loss)) point = (row.Step, row.Loss);
            else if (spec.Metric == "val_loss" && e is Evaluated ev && double.IsFinite(ev.ValLoss)) point = (ev.Step, ev.ValLoss);
            if (point is { } p) { last = p.Value; stop = ctx.Report(p.Step, p.Value); }
        });
        try
        {
            var s = Trainer.Run(cfg, data, events, cancel: ctx.Cancel);
            double final = spec.Metric == "val_loss" ? s.FinalValLoss : last ?? s.FinalLoss;
            return new TrialResult(TrialState.Complete, final);
        }
        catch (OperationCanceledException) { return new TrialResult(TrialState.Pruned, last, "stopped"); }
        catch (TrainingDivergedException e) { return new TrialResult(TrialState.Failed, last, $"diverged: {e.Reason}"); }
    }
}
