using System.Globalization;
using System.Text.Json.Nodes;

namespace Anneal.Tuning;

/// <summary>
/// Runs a study: K workers each take a requeued trial or ask the sampler for new parameters (with the study's running
/// trials as pending points), run the objective, report intermediate values through the pruner, and record everything
/// in the storage. Dead workers' trials (no heartbeat) are failed and requeued by whichever worker notices, so a trial
/// is never lost and, since a reaped trial's reports are refused, never run twice.
/// </summary>
public sealed class StudyRunner(StudySpec spec, ISampler sampler, IPruner pruner, IStudyStorage storage, ITrialObjective objective)
{
    private readonly object _proposeGate = new();
    private int _staleProposals;

    /// <summary>Proposals refused because another process added a trial between reading the study and creating the trial (each was made again).</summary>
    public int StaleProposals => Volatile.Read(ref _staleProposals);

    /// <summary>Progress lines (trial started, pruned, finished), or null.</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>
    /// The schedule and planned steps of a trial when they are not the study file's (a replayed table whose
    /// configurations differ in length); null: the study's schedule with the trial's parameters, and its steps.
    /// </summary>
    public Func<TrialParams, (string? Schedule, long Steps)>? Plan { get; init; }

    /// <summary>Adds the study's schedule and planned steps to a stored trial.</summary>
    public TrialRecord Enrich(TrialRecord t) => Plan is { } plan ? t with { Schedule = plan(t.Params).Schedule, PlannedSteps = plan(t.Params).Steps } : t with
    {
        Schedule = spec.Schedule is null ? null : SearchSpace.Substitute(spec.Schedule.Replace("{trial}", t.Number.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), t.Params, "schedule"),
        PlannedSteps = spec.Objective.Steps,
    };

    /// <summary>Runs until the study holds <see cref="SweepOptions.Trials"/> finished trials (or the sampler is exhausted).</summary>
    public SweepSummary Run(SweepOptions options, CancellationToken cancel = default)
    {
        int started = 0, failedHere = 0;
        int maxFailures = options.MaxFailures ?? Math.Max(3, options.Trials);
        var threads = Math.Max(1, options.Cores / Math.Max(1, options.Workers));
        var workers = Enumerable.Range(0, options.Workers).Select(w => new Thread(() =>
        {
            string worker = SweepOptions.WorkerName(options.WorkerPrefix, w);
            while (!cancel.IsCancellationRequested && Volatile.Read(ref failedHere) < maxFailures)
            {
                foreach (var dead in storage.ReapStale(options.HeartbeatTimeout))
                    Progress?.Invoke($"trial {dead} failed: its worker sent no heartbeat for {options.HeartbeatTimeout.TotalSeconds:0.#} s; a copy is queued");
                TrialRecord? trial;
                lock (_proposeGate)
                {
                    trial = storage.ClaimWaiting(worker);
                    if (trial is null)
                    {
                        var all = storage.Trials();
                        if (all.Count(t => t.State != TrialState.Failed) >= options.Trials)
                        {
                            // Done only when nothing runs: a running trial of a dead worker is reaped after the timeout
                            // and requeued, and some worker must then take it.
                            if (!all.Any(t => t.State == TrialState.Running)) return;
                            trial = null;
                        }
                        else
                        {
                            var p = sampler.Propose(spec.Space, all.Select(Enrich).ToList(), all.Count);
                            if (p is null) return; // the grid is done
                            // Refused when a worker of another process added a trial since all was read: propose again
                            // from the fresh view (this process's workers are serialised by the gate).
                            if (storage.TryCreate(p, worker, all.Count) is not { } n) { Interlocked.Increment(ref _staleProposals); continue; }
                            trial = new TrialRecord(n, p, TrialState.Running, null, []);
                        }
                    }
                }
                if (trial is null) { Thread.Sleep(500); continue; }
                Interlocked.Increment(ref started);
                var result = RunTrial(Enrich(trial), worker, threads, options, cancel);
                if (result.State == TrialState.Failed) Interlocked.Increment(ref failedHere);
            }
        }) { IsBackground = true, Name = $"anneal-sweep-w{w}" }).ToList();
        foreach (var t in workers) t.Start();
        foreach (var t in workers) t.Join();
        return Summarise(storage.Trials().Select(Enrich).ToList(), started);
    }

    /// <summary>Counts of a study's trials and the steps that pruning saved (planned minus run, over pruned trials).</summary>
    public static SweepSummary Summarise(IReadOnlyList<TrialRecord> trials, int started = 0) => new(
        started,
        trials.Count(t => t.State == TrialState.Complete),
        trials.Count(t => t.State == TrialState.Pruned),
        trials.Count(t => t.State == TrialState.Failed),
        trials.Sum(t => t.StepsRun),
        trials.Where(t => t.State == TrialState.Pruned && t.PlannedSteps is not null).Sum(t => Math.Max(0, t.PlannedSteps!.Value - t.StepsRun)));

    private TrialResult RunTrial(TrialRecord trial, string worker, int threads, SweepOptions options, CancellationToken outer)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(outer);
        string? pruneReason = null;
        double? last = null;
        using var beat = new Timer(_ =>
        {
            // A callback may still run after the trial ended and disposed its token source: then there is nothing to stop.
            try { if (!storage.Heartbeat(trial.Number, worker)) stop.Cancel(); } // reaped: another worker runs its copy
            catch (ObjectDisposedException) { }
        }, null, options.HeartbeatInterval, options.HeartbeatInterval);
        Progress?.Invoke($"trial {trial.Number} started: {trial.Params}");
        var context = new TrialContext
        {
            Number = trial.Number, Params = trial.Params, Schedule = trial.Schedule, PlannedSteps = trial.PlannedSteps ?? spec.Objective.Steps, Threads = threads, Cancel = stop.Token,
            Report = (step, value) =>
            {
                last = value;
                if (!storage.Report(trial.Number, step, value)) { stop.Cancel(); return true; }
                var all = storage.Trials().Select(Enrich).ToList();
                var me = all.First(t => t.Number == trial.Number);
                var d = pruner.Decide(spec.Name, me, all);
                if (d.SetAttributes is { } set) storage.SetAttributes(trial.Number, set);
                if (d.Prune) { pruneReason = d.Reason ?? "pruned"; stop.Cancel(); return true; }
                return false;
            },
        };
        TrialResult result;
        try { result = objective.Run(context); }
        catch (OperationCanceledException) { result = new TrialResult(TrialState.Failed, last, "stopped"); }
        catch (InputException e) { result = new TrialResult(TrialState.Failed, last, e.Message); }
        catch (Exception e) when (e is not OutOfMemoryException) { result = new TrialResult(TrialState.Failed, last, $"{e.GetType().Name}: {e.Message}"); }
        if (outer.IsCancellationRequested && pruneReason is null && result.State != TrialState.Complete)
        {
            // The sweep is stopping (a signal, scancel): the trial did not end on its own, so it goes back to the queue at
            // once instead of waiting for its heartbeat to age, and another worker runs it from the start.
            foreach (var n in storage.Release(worker, "was stopped before its trial ended"))
                Progress?.Invoke($"trial {n} requeued: its worker {worker} was stopped");
            return new TrialResult(TrialState.Failed, last, "stopped");
        }
        if (pruneReason is not null) result = new TrialResult(TrialState.Pruned, last, pruneReason);
        else if (result.State == TrialState.Complete && (result.Value is not { } v || !double.IsFinite(v)))
            result = new TrialResult(TrialState.Failed, result.Value, "the objective ended without a finite value");
        if (storage.Finish(trial.Number, result.State, result.Value, result.Message))
            Progress?.Invoke($"trial {trial.Number} {result.State.ToString().ToLowerInvariant()}" + (result.Value is { } x ? $": {x.ToString("G6", CultureInfo.InvariantCulture)}" : "") + (result.Message is { } m ? $" ({m})" : ""));
        return result;
    }

    /// <summary>The versioned name of <see cref="ToJson"/>'s form (docs/formats.md).</summary>
    public const string Format = "anneal-study/1";

    /// <summary>The study as JSON (anneal sweep show --json): trials with number, params, state, value, steps run and planned.</summary>
    public static JsonObject ToJson(string name, IReadOnlyList<TrialRecord> trials)
    {
        var s = Summarise(trials);
        var best = trials.Where(t => t.State == TrialState.Complete && t.Value is not null).MinBy(t => t.Value);
        return new JsonObject
        {
            ["format"] = Format,
            ["study"] = name,
            ["trials"] = new JsonArray(trials.Select(t => (JsonNode)new JsonObject
            {
                ["number"] = t.Number,
                ["params"] = new JsonObject(t.Params.Items.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key,
                    kv.Value.Text is { } w ? JsonValue.Create(w) : kv.Value.IsInteger ? JsonValue.Create((long)kv.Value.Number) : JsonValue.Create(kv.Value.Number)))),
                ["state"] = t.State.ToString().ToLowerInvariant(),
                ["value"] = t.Value is { } v && double.IsFinite(v) ? JsonValue.Create(v) : null,
                ["steps"] = t.StepsRun,
                ["planned_steps"] = t.PlannedSteps,
                ["message"] = t.Message,
            }).ToArray()),
            ["best"] = best is null ? null : new JsonObject { ["number"] = best.Number, ["value"] = best.Value },
            ["complete"] = s.Complete,
            ["pruned"] = s.Pruned,
            ["failed"] = s.Failed,
            ["steps_run"] = s.StepsRun,
            ["steps_saved_by_pruning"] = s.StepsSaved,
        };
    }

    /// <summary>Parameters as the JSON object the store keeps (numbers as numbers, choices as strings).</summary>
    public static string ParamsJson(TrialParams p) => new JsonObject(p.Items.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key,
        kv.Value.Text is { } w ? JsonValue.Create(w) : kv.Value.IsInteger ? JsonValue.Create((long)kv.Value.Number) : JsonValue.Create(kv.Value.Number)))).ToJsonString();

    /// <summary>Inverse of <see cref="ParamsJson"/> for the study's space.</summary>
    public static TrialParams ParseParams(SearchSpace space, string json)
    {
        var o = JsonNode.Parse(json) as JsonObject ?? throw new InputException("stored trial parameters are not a JSON object");
        return space.Parse(o.ToDictionary(kv => kv.Key, kv => kv.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s
            : kv.Value!.ToJsonString()));
    }
}

/// <summary>
/// Builds samplers and pruners from a study file's components. The code that reads a component's options is their only
/// list: <see cref="KnownOptions"/> builds each component once with no options and records the keys it asks for, so
/// an option added here is known to the study file's check without a second list to keep in step.
/// </summary>
public static class StudyComponents
{
    /// <summary>The sampler named by the study.</summary>
    public static ISampler Sampler(StudySpec spec) => Sampler(spec.Sampler, spec.Seed, spec.File);

    /// <summary>The pruner named by the study.</summary>
    public static IPruner Pruner(StudySpec spec) => Pruner(spec.Pruner, spec.File);

    /// <summary>The sampler <paramref name="c"/> names, seeded; <paramref name="file"/> names the study file in messages.</summary>
    public static ISampler Sampler(ComponentSpec c, int seed, string file) => c.Name switch
    {
        "random" => new RandomSampler(seed),
        "grid" => new GridSampler((int)c.Number("points", 5, file)),
        "sobol" => new SobolSampler(seed),
        "gp" => new GpSampler(seed, c.Has("startup") ? (int)c.Number("startup", 5, file) : null,
            c.Word("acquisition", "log_ei") switch
            {
                "log_ei" => AcquisitionKind.LogEi,
                "noisy_ei" => AcquisitionKind.NoisyEi,
                var a => throw new InputException($"{file}:{c.Line}: gp acquisition must be log_ei or noisy_ei, got '{a}'"),
            })
        {
            Additive = c.Word("kernel", "matern") switch
            {
                "matern" => false,
                "additive" => true,
                var k => throw new InputException($"{file}:{c.Line}: gp kernel must be matern or additive, got '{k}'"),
            },
            DimensionScaledPrior = c.Word("prior", "weak") switch
            {
                "weak" => false,
                "dimension_scaled" => true,
                var k => throw new InputException($"{file}:{c.Line}: gp prior must be weak or dimension_scaled, got '{k}'"),
            },
        },
        var s => throw new InputException($"{file}:{c.Line}: unknown sampler '{s}'"),
    };

    /// <summary>The pruner <paramref name="p"/> names; <paramref name="file"/> names the study file in messages.</summary>
    public static IPruner Pruner(ComponentSpec p, string file)
    {
        long? L(string k) => p.Has(k) ? (long)p.Number(k, 0, file) : null;
        return p.Name switch
        {
            "none" => new NopPruner(),
            "median" => new MedianPruner((int)(L("startup_trials") ?? 5), L("warmup_steps") ?? 0, L("interval_steps") ?? 1),
            "asha" => new SuccessiveHalvingPruner(L("min_resource"), (int)(L("reduction_factor") ?? 4), (int)(L("min_early_stopping_rate") ?? 0)),
            "hyperband" => new HyperbandPruner(L("min_resource") ?? 1, L("max_resource"), (int)(L("reduction_factor") ?? 3)),
            "forecast" => Forecast(p, file),
            var s => throw new InputException($"{file}:{p.Line}: unknown pruner '{s}'"),
        };
    }

    /// <summary>The forecast pruner; its own refusal of a value (a law that does not parse, a level or risk out of range) gets the study file's line.</summary>
    private static ForecastPruner Forecast(ComponentSpec p, string file)
    {
        string law = p.Word("law", "auto");
        double level = p.Number("level", 0.95, file);
        int priorTrials = (int)p.Number("prior_trials", 3, file);
        double? risk = p.Has("risk") ? p.Number("risk", 0, file) : null;
        try { return new ForecastPruner(law, level: level, priorTrials: priorTrials, risk: risk); }
        catch (InputException e) { throw new InputException($"{file}:{p.Line}: pruner forecast: {e.Message}"); }
    }

    /// <summary>
    /// The options component <paramref name="name"/> (a <paramref name="kind"/>: <c>sampler</c> or <c>pruner</c>)
    /// reads, in the order it reads them: learnt by building it once with no options and recording every key it asks
    /// for (every option is asked for whether set or not). Cached per component.
    /// </summary>
    public static IReadOnlyList<string> KnownOptions(string kind, string name) => Known.GetOrAdd((kind, name), k =>
    {
        var probe = new ComponentSpec(k.Name, new Dictionary<string, string>(), 0) { Asked = [] };
        _ = k.Kind == "sampler" ? Sampler(probe, 0, "probe") : (object)Pruner(probe, "probe");
        return probe.Asked!.ToArray();
    });

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Kind, string Name), IReadOnlyList<string>> Known = new();
}
