using System.Data.Common;
using Dapper;

namespace Anneal.Store;

public sealed partial class RunStore
{
    private sealed class StudyRow
    {
        public long Id { get; set; }
        public string Name { get; set; } = "";
        public string Spec { get; set; } = "";
        public string Direction { get; set; } = "";
        public string AnnealVersion { get; set; } = "";
        public long CreatedAt { get; set; }
        public long Trials { get; set; }

        public StudyInfo ToInfo() => new(Id, Name, Spec, Direction, AnnealVersion, Time(CreatedAt), Trials);
    }

    private sealed class TrialRow
    {
        public long Id { get; set; }
        public long StudyId { get; set; }
        public int Number { get; set; }
        public string Params { get; set; } = "{}";
        public string State { get; set; } = "";
        public double? Value { get; set; }
        public string? Worker { get; set; }
        public long? HeartbeatAt { get; set; }
        public long? StartedAt { get; set; }
        public long? FinishedAt { get; set; }
        public long? RunId { get; set; }
        public string Attrs { get; set; } = "{}";
        public string? Message { get; set; }

        public TrialInfo ToInfo(IReadOnlyList<(long, double)> intermediate) =>
            new(Id, StudyId, Number, Params, Enum.Parse<TrialState>(State, ignoreCase: true), Value, Worker, Time(HeartbeatAt), Time(StartedAt), Time(FinishedAt), RunId, Attrs, Message, intermediate);
    }

    private const string StudyColumns = "s.id AS Id, s.name AS Name, s.spec AS Spec, s.direction AS Direction, s.anneal_version AS AnnealVersion, s.created_at AS CreatedAt, (SELECT COUNT(*) FROM trials x WHERE x.study_id = s.id) AS Trials";

    private const string TrialColumns = """
        id AS Id, study_id AS StudyId, number AS Number, params AS Params, state AS State, value AS Value, worker AS Worker,
        heartbeat_at AS HeartbeatAt, started_at AS StartedAt, finished_at AS FinishedAt, run_id AS RunId, attrs AS Attrs, message AS Message
        """;

    private static string State(TrialState s) => s.ToString().ToLowerInvariant();

    /// <summary>
    /// The study named <paramref name="name"/>, created with <paramref name="specText"/> and <paramref name="direction"/>
    /// when there is none yet (a resumed study keeps the spec it was created with: compare it with
    /// <see cref="StudyInfo.SpecText"/>). Safe when several workers call it at once: one creates, all get the same study.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty or the direction is not <c>minimize</c> or <c>maximize</c>.</exception>
    public StudyInfo GetOrCreateStudy(string name, string specText, string direction = "minimize")
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("a study needs a name", nameof(name));
        if (direction is not ("minimize" or "maximize")) throw new ArgumentException($"direction must be minimize or maximize, got '{direction}'", nameof(direction));
        return Write((c, t) =>
        {
            c.Execute("""
                INSERT INTO studies (name, spec, direction, anneal_version, created_at) VALUES (@name, @specText, @direction, @version, @now)
                ON CONFLICT (name) DO NOTHING
                """, new { name, specText, direction, version = AnnealVersion, now = Now }, t);
            return c.QuerySingle<StudyRow>($"SELECT {StudyColumns} FROM studies s WHERE s.name = @name", new { name }, t).ToInfo();
        });
    }

    /// <summary>The study named <paramref name="name"/>, or null.</summary>
    public StudyInfo? GetStudy(string name) => Read(c => c.QuerySingleOrDefault<StudyRow>($"SELECT {StudyColumns} FROM studies s WHERE s.name = @name", new { name })?.ToInfo());

    /// <summary>Every study, newest first.</summary>
    public IReadOnlyList<StudyInfo> ListStudies() => Read(c => (IReadOnlyList<StudyInfo>)c.Query<StudyRow>($"SELECT {StudyColumns} FROM studies s ORDER BY s.id DESC").Select(r => r.ToInfo()).ToList());

    /// <summary>Deletes a study with its trials and their intermediate values (the trials' runs stay); false when there is none.</summary>
    public bool DeleteStudy(string name) => Write((c, t) =>
    {
        var id = c.ExecuteScalar<long?>("SELECT id FROM studies WHERE name = @name", new { name }, t);
        if (id is null) return false;
        c.Execute("DELETE FROM trial_values WHERE trial_id IN (SELECT id FROM trials WHERE study_id = @id)", new { id }, t);
        c.Execute("DELETE FROM trials WHERE study_id = @id", new { id }, t);
        c.Execute("DELETE FROM studies WHERE id = @id", new { id }, t);
        return true;
    });

    /// <summary>
    /// Adds a trial with the study's next number (0, 1, 2, ...; unique even with many workers adding at once):
    /// <see cref="TrialState.Running"/> under <paramref name="worker"/> (its first heartbeat is now), or
    /// <see cref="TrialState.Waiting"/> for a worker to claim with <see cref="ClaimWaitingTrial"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The params are not a JSON object, the state is neither running nor waiting, or a running trial has no worker.</exception>
    /// <exception cref="KeyNotFoundException">There is no study <paramref name="studyId"/>.</exception>
    public TrialInfo CreateTrial(long studyId, string paramsJson, TrialState state = TrialState.Running, string? worker = null, long? runId = null)
    {
        if (state is not (TrialState.Running or TrialState.Waiting)) throw new ArgumentException($"a new trial is running or waiting, not {state}", nameof(state));
        if (state == TrialState.Running && string.IsNullOrWhiteSpace(worker)) throw new ArgumentException("a running trial needs its worker's name", nameof(worker));
        string p = JsonObject(paramsJson, "params");
        return Write((c, t) => InsertTrial(c, t, studyId, p, state, worker, runId, expectedNumber: null))!;
    }

    /// <summary>
    /// Adds a running trial under <paramref name="worker"/> only if it gets number <paramref name="expectedNumber"/>,
    /// i.e. only if no trial was added to the study since the caller read its trials (there were exactly
    /// <paramref name="expectedNumber"/>); null otherwise, adding nothing. This is how workers in different processes keep
    /// the sampler's proposals consistent with the trials: a proposal made from a stale view of the study is refused
    /// and proposed again from the fresh one, without holding a lock while the sampler thinks.
    /// </summary>
    /// <exception cref="ArgumentException">The params are not a JSON object, or the worker is empty.</exception>
    /// <exception cref="KeyNotFoundException">There is no study <paramref name="studyId"/>.</exception>
    public TrialInfo? TryCreateTrial(long studyId, string paramsJson, string worker, int expectedNumber)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(worker);
        string p = JsonObject(paramsJson, "params");
        return Write((c, t) => InsertTrial(c, t, studyId, p, TrialState.Running, worker, null, expectedNumber));
    }

    private TrialInfo? InsertTrial(DbConnection c, DbTransaction t, long studyId, string paramsJson, TrialState state, string? worker, long? runId, int? expectedNumber)
    {
        // The study row's counter hands out numbers: its UPDATE locks the row, so two workers never get the same one.
        // With an expected number it is a compare-and-set (PostgreSQL re-tests the WHERE on the row's latest version
        // after waiting for its lock; SQLite has one writer at a time).
        var next = expectedNumber is { } e
            ? c.ExecuteScalar<int?>("UPDATE studies SET next_number = next_number + 1 WHERE id = @studyId AND next_number = @e RETURNING next_number", new { studyId, e }, t)
            : c.ExecuteScalar<int?>("UPDATE studies SET next_number = next_number + 1 WHERE id = @studyId RETURNING next_number", new { studyId }, t);
        if (next is null)
        {
            bool exists = c.ExecuteScalar<long>("SELECT COUNT(*) FROM studies WHERE id = @studyId", new { studyId }, t) == 1;
            if (!exists) throw new KeyNotFoundException($"there is no study {studyId} in store {Location}");
            return null;
        }
        long? now = Now, running = state == TrialState.Running ? now : null;
        long id = c.ExecuteScalar<long>("""
            INSERT INTO trials (study_id, number, params, state, worker, heartbeat_at, started_at, run_id)
            VALUES (@studyId, @number, @paramsJson, @state, @worker, @running, @running, @runId) RETURNING id
            """, new { studyId, number = next - 1, paramsJson, state = State(state), worker, running, runId }, t);
        return c.QuerySingle<TrialRow>($"SELECT {TrialColumns} FROM trials WHERE id = @id", new { id }, t).ToInfo([]);
    }

    /// <summary>
    /// Claims the waiting trial with the smallest number for <paramref name="worker"/> (it becomes running, with a
    /// heartbeat now); null when none is waiting. Two workers never claim the same trial.
    /// </summary>
    public TrialInfo? ClaimWaitingTrial(long studyId, string worker)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(worker);
        for (int attempt = 0; attempt < 100; attempt++)
        {
            var claimed = Write((c, t) =>
            {
                long now = Now;
                // the outer state test makes a concurrent claim of the same row update nothing (PostgreSQL re-reads it after the lock)
                var id = c.ExecuteScalar<long?>("""
                    UPDATE trials SET state = 'running', worker = @worker, heartbeat_at = @now, started_at = @now
                    WHERE id = (SELECT id FROM trials WHERE study_id = @studyId AND state = 'waiting' ORDER BY number LIMIT 1) AND state = 'waiting'
                    RETURNING id
                    """, new { studyId, worker, now }, t);
                if (id is not null) return (Done: true, Trial: c.QuerySingle<TrialRow>($"SELECT {TrialColumns} FROM trials WHERE id = @id", new { id }, t).ToInfo([]));
                bool more = c.ExecuteScalar<long>("SELECT COUNT(*) FROM trials WHERE study_id = @studyId AND state = 'waiting'", new { studyId }, t) > 0;
                return (Done: !more, Trial: (TrialInfo?)null);
            });
            if (claimed.Done) return claimed.Trial;
        }
        return null;
    }

    /// <summary>
    /// Records that <paramref name="worker"/> still runs the trial. False when the trial is no longer running under this
    /// worker (it was reaped as stale, or finished): the worker must then stop, so that a trial is never run twice.
    /// </summary>
    public bool Heartbeat(long trialId, string worker) =>
        Write((c, t) => c.Execute("UPDATE trials SET heartbeat_at = @now WHERE id = @trialId AND state = 'running' AND worker = @worker", new { trialId, worker, now = Now }, t) == 1);

    /// <summary>
    /// Stores the trial's intermediate value at <paramref name="step"/> (replacing one reported before at that step)
    /// and counts as a heartbeat. False, storing nothing, when the trial is not running.
    /// </summary>
    public bool ReportIntermediate(long trialId, long step, double value) => Write((c, t) =>
    {
        if (c.Execute("UPDATE trials SET heartbeat_at = @now WHERE id = @trialId AND state = 'running'", new { trialId, now = Now }, t) != 1) return false;
        c.Execute("""
            INSERT INTO trial_values (trial_id, step, value) VALUES (@trialId, @step, @value)
            ON CONFLICT (trial_id, step) DO UPDATE SET value = excluded.value
            """, new { trialId, step, value }, t);
        return true;
    });

    /// <summary>
    /// Ends a running trial as complete (with its value), pruned or failed. False when it was not running (already
    /// finished, or reaped as stale): the first ending wins.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="state"/> is not an ending, or a complete trial has no finite value.</exception>
    public bool FinishTrial(long trialId, TrialState state, double? value, string? message = null)
    {
        if (state is not (TrialState.Complete or TrialState.Pruned or TrialState.Failed)) throw new ArgumentException($"a trial ends complete, pruned or failed, not {state}", nameof(state));
        if (state == TrialState.Complete && (value is null || !double.IsFinite(value.Value))) throw new ArgumentException("a complete trial needs a finite value", nameof(value));
        if (value is { } v && double.IsNaN(v)) value = null;
        return Write((c, t) => c.Execute("""
            UPDATE trials SET state = @state, value = @value, message = @message, finished_at = @now
            WHERE id = @trialId AND state = 'running'
            """, new { trialId, state = State(state), value, message, now = Now }, t) == 1);
    }

    /// <summary>Links a trial to the run that holds its curve; false when there is no such trial.</summary>
    public bool SetTrialRun(long trialId, long runId) =>
        Write((c, t) => c.Execute("UPDATE trials SET run_id = @runId WHERE id = @trialId", new { trialId, runId }, t) == 1);

    /// <summary>Replaces a trial's attributes (a JSON object: steps run, pruner notes, ...); false when there is no such trial.</summary>
    public bool SetTrialAttributes(long trialId, string attributesJson)
    {
        string attrs = JsonObject(attributesJson, "attributes");
        return Write((c, t) => c.Execute("UPDATE trials SET attrs = @attrs WHERE id = @trialId", new { trialId, attrs }, t) == 1);
    }

    /// <summary>
    /// Marks failed every running trial of the study whose last heartbeat is older than <paramref name="timeout"/>
    /// (its worker died), and with <paramref name="requeue"/> adds a waiting copy of each (same params, next number),
    /// in one transaction. Returns the trials marked failed. Safe to call from every worker: each stale trial is
    /// failed (and requeued) once.
    /// </summary>
    public IReadOnlyList<TrialInfo> ReapStaleTrials(long studyId, TimeSpan timeout, bool requeue)
    {
        long cutoff = Now - (long)timeout.TotalMilliseconds;
        return Reap(studyId, "heartbeat_at < @cutoff", new { cutoff }, "' stopped sending heartbeats'", requeue);
    }

    /// <summary>
    /// Ends every running trial of the study held by <paramref name="worker"/> as failed (message: the worker and
    /// <paramref name="reason"/>) and, with <paramref name="requeue"/>, queues a waiting copy of each (same params, next
    /// number), in one transaction; returns the trials ended. For a worker known to be gone without waiting for its
    /// heartbeat to age: it stopped on a signal, or its process was seen to exit. The worker's later reports are refused.
    /// </summary>
    /// <exception cref="ArgumentException">The worker or the reason is empty.</exception>
    public IReadOnlyList<TrialInfo> ReleaseWorkerTrials(long studyId, string worker, string reason, bool requeue)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(worker);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return Reap(studyId, "worker = @worker", new { worker }, "' ' || @reason", requeue, new { reason });
    }

    private IReadOnlyList<TrialInfo> Reap(long studyId, string condition, object conditionArgs, string messageSql, bool requeue, object? messageArgs = null) => Write((c, t) =>
    {
        long now = Now;
        var args = new DynamicParameters(conditionArgs);
        if (messageArgs is not null) args.AddDynamicParams(messageArgs);
        args.AddDynamicParams(new { studyId, now });
        var found = c.Query<long>($"SELECT id FROM trials WHERE study_id = @studyId AND state = 'running' AND {condition} ORDER BY number", args, t).ToList();
        var reaped = new List<TrialInfo>();
        foreach (var id in found)
        {
            args.Add("id", id);
            // re-tested under the row's lock: another reaper or the worker itself may have ended it meanwhile
            if (c.Execute($"""
                UPDATE trials SET state = 'failed', finished_at = @now, message = 'worker ' || COALESCE(worker, '?') || {messageSql}
                WHERE id = @id AND state = 'running' AND {condition}
                """, args, t) != 1) continue;
            var trial = c.QuerySingle<TrialRow>($"SELECT {TrialColumns} FROM trials WHERE id = @id", new { id }, t);
            reaped.Add(trial.ToInfo([]));
            if (requeue) InsertTrial(c, t, studyId, trial.Params, TrialState.Waiting, null, null, expectedNumber: null);
        }
        return (IReadOnlyList<TrialInfo>)reaped;
    });

    /// <summary>A trial with its intermediate values, or null.</summary>
    public TrialInfo? GetTrial(long trialId) => Read(c =>
    {
        var row = c.QuerySingleOrDefault<TrialRow>($"SELECT {TrialColumns} FROM trials WHERE id = @trialId", new { trialId });
        return row?.ToInfo(c.Query<(long, double)>("SELECT step, value FROM trial_values WHERE trial_id = @trialId ORDER BY step", new { trialId }).ToList());
    });

    /// <summary>The study's trials by number, with their intermediate values when <paramref name="withIntermediate"/>.</summary>
    public IReadOnlyList<TrialInfo> ListTrials(long studyId, bool withIntermediate = true) => Read(c =>
    {
        var rows = c.Query<TrialRow>($"SELECT {TrialColumns} FROM trials WHERE study_id = @studyId ORDER BY number", new { studyId }).ToList();
        var values = withIntermediate
            ? c.Query<(long TrialId, long Step, double Value)>("SELECT v.trial_id, v.step, v.value FROM trial_values v JOIN trials x ON x.id = v.trial_id WHERE x.study_id = @studyId ORDER BY v.trial_id, v.step", new { studyId })
                .GroupBy(v => v.TrialId).ToDictionary(g => g.Key, g => (IReadOnlyList<(long, double)>)g.Select(v => (v.Step, v.Value)).ToList())
            : [];
        return (IReadOnlyList<TrialInfo>)rows.Select(r => r.ToInfo(values.GetValueOrDefault(r.Id, []))).ToList();
    });
}
