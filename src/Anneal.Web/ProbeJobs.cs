using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Anneal.Design;

namespace Anneal.Web;

/// <summary>
/// The calibration designs being computed for <c>/api/probe</c>: <see cref="ProbePlanner.Plan"/> takes seconds to minutes,
/// longer than a request should wait, so each runs in the background (one heavy computation at a time, behind
/// <see cref="Dashboard.Heavy"/>) and is polled by its id, with the planner's latest progress message, until its
/// <c>anneal-probe/1</c> document (<see cref="ProbeJson"/>) is ready.
/// <para>
/// Bounds, so that no job outlives its reader: at most <see cref="MaxPending"/> jobs wait or run at once; a job cancelled
/// (<see cref="Cancel"/>) or not polled for <see cref="Unpolled"/> stops: its token reaches the planner's loop, which starts
/// no simulated fit after it and frees <see cref="Dashboard.Heavy"/> once the fits in flight end. A finished job is dropped
/// <see cref="Unpolled"/> after it finished or was last polled, whichever is later, and beyond the <see cref="Kept"/> newest.
/// </para>
/// </summary>
/// <param name="unpolled">How long a job lives without a poll (<see cref="DefaultUnpolled"/> by default).</param>
public sealed class ProbeJobs(TimeSpan? unpolled = null)
{
    /// <summary>Finished jobs kept (dropped oldest first beyond this).</summary>
    public const int Kept = 32;

    /// <summary>Jobs that may wait or run at once: more are refused (429), so a burst cannot queue hours of work.</summary>
    public const int MaxPending = 4;

    /// <summary>
    /// How long a job lives without a poll: two minutes. The dashboard polls every 0.7 s; a closed tab or a client that gave
    /// up stops polling, and its job then stops instead of holding the server's one heavy slot to the end.
    /// </summary>
    public static readonly TimeSpan DefaultUnpolled = TimeSpan.FromMinutes(2);

    /// <summary>How long a job of this server lives without a poll.</summary>
    public TimeSpan Unpolled { get; } = unpolled ?? DefaultUnpolled;

    private sealed class Job
    {
        public Task<JsonObject> Work = Task.FromResult(new JsonObject());
        public readonly CancellationTokenSource Stop = new();
        public readonly Stopwatch Clock = Stopwatch.StartNew();
        public required long Order { get; init; }
        public volatile string Progress = "waiting for the server's other heavy work (one runs at a time)";
        /// <summary>When the job was last polled or finished (<see cref="Stopwatch.GetTimestamp"/>).</summary>
        public long Touched = Stopwatch.GetTimestamp();
    }

    private readonly ConcurrentDictionary<string, Job> _jobs = new();
    private long _order;

    /// <summary>What a poll sees: the document when done, else the latest progress; the failure when it failed.</summary>
    public sealed record Status(JsonObject? Result, string Progress, double Seconds, Exception? Error);

    /// <summary>What <see cref="Cancel"/> did: whether the job was still working, and how long its planner took to stop.</summary>
    public sealed record Cancelled(bool WasRunning, bool Stopped, double Seconds);

    /// <summary>Starts planning <paramref name="request"/> after <paramref name="heavy"/> is free; returns the job's id.</summary>
    public string Start(ProbeRequest request, SemaphoreSlim heavy)
    {
        lock (_jobs)
        {
            Sweep();
            int pending = _jobs.Values.Count(j => !j.Work.IsCompleted);
            if (pending >= MaxPending) throw new ApiException(429, $"{pending} calibration designs are already being computed on this server; wait for one to finish or cancel one (DELETE /api/probe/JOB)");
            string id = Guid.NewGuid().ToString("N")[..16];
            var job = new Job { Order = ++_order };
            var cancel = job.Stop.Token;
            // Cancelled unless polled again in time: every poll pushes this back (Touch).
            job.Stop.CancelAfter(Unpolled);
            job.Work = Task.Run(async () =>
            {
                await heavy.WaitAsync(cancel);
                try
                {
                    var sw = Stopwatch.StartNew();
                    var result = ProbePlanner.Plan(request, new Progress(m => job.Progress = m), cancel);
                    return ProbeJson.Write(result, sw.Elapsed.TotalSeconds);
                }
                finally
                {
                    heavy.Release();
                    Interlocked.Exchange(ref job.Touched, Stopwatch.GetTimestamp());
                }
            }, cancel);
            _jobs[id] = job;
            return id;
        }
    }

    /// <summary>The job's state, or null for an unknown, dropped or stopped id. A poll keeps the job alive for <see cref="Unpolled"/> more.</summary>
    public Status? Get(string id)
    {
        lock (_jobs) Sweep();
        if (!_jobs.TryGetValue(id, out var job) || job.Work.IsCanceled) return null;
        Touch(job);
        double seconds = job.Work.IsCompleted ? 0 : job.Clock.Elapsed.TotalSeconds;
        if (!job.Work.IsCompleted) return new Status(null, job.Progress, seconds, null);
        return job.Work.IsFaulted ? new Status(null, "", seconds, job.Work.Exception!.InnerException) : new Status(job.Work.Result, "", seconds, null);
    }

    /// <summary>
    /// Forgets the job, stopping it first when it waits or runs: its token is cancelled, and this waits up to
    /// <paramref name="wait"/> for the planner to stop (the simulated fits in flight end, no other starts). Null for an unknown id.
    /// </summary>
    public async Task<Cancelled?> Cancel(string id, TimeSpan wait)
    {
        Job? job;
        lock (_jobs) { Sweep(); _jobs.TryRemove(id, out job); }
        if (job is null || job.Work.IsCanceled) return null;
        bool running = !job.Work.IsCompleted;
        var sw = Stopwatch.StartNew();
        job.Stop.Cancel();
        if (running) await Task.WhenAny(job.Work, Task.Delay(wait));
        return new Cancelled(running, job.Work.IsCompleted, sw.Elapsed.TotalSeconds);
    }

    /// <summary>Jobs waiting or running now (cancelled ones still stopping included).</summary>
    internal int Pending => _jobs.Values.Count(j => !j.Work.IsCompleted);

    /// <summary>Jobs held now, finished ones included.</summary>
    internal int Count => _jobs.Count;

    private void Touch(Job job)
    {
        Interlocked.Exchange(ref job.Touched, Stopwatch.GetTimestamp());
        if (!job.Work.IsCompleted) job.Stop.CancelAfter(Unpolled);
    }

    /// <summary>Drops stopped jobs, finished ones not polled for <see cref="Unpolled"/>, and finished ones beyond the <see cref="Kept"/> newest. Under the lock.</summary>
    private void Sweep()
    {
        long now = Stopwatch.GetTimestamp();
        foreach (var (id, job) in _jobs)
            if (job.Work.IsCanceled || job.Work.IsCompleted && Stopwatch.GetElapsedTime(Interlocked.Read(ref job.Touched), now) > Unpolled)
                _jobs.TryRemove(id, out _);
        foreach (var old in _jobs.Where(kv => kv.Value.Work.IsCompleted).OrderByDescending(kv => kv.Value.Order).Skip(Kept).ToArray())
            _jobs.TryRemove(old.Key, out _);
    }

    /// <summary>Progress reported synchronously on the planner's thread (the message is only stored).</summary>
    private sealed class Progress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
