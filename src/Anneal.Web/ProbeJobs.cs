using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Anneal.Design;

namespace Anneal.Web;

/// <summary>
/// The calibration designs being computed for <c>/api/probe</c>: <see cref="ProbePlanner.Plan"/> takes seconds to minutes,
/// longer than a request should wait, so each runs in the background (one heavy computation at a time, behind
/// <see cref="Dashboard.Heavy"/>) and is polled by its id, with the planner's latest progress message, until its
/// <c>anneal-probe/1</c> document (<see cref="ProbeJson"/>) is ready. The last <see cref="Kept"/> jobs are kept.
/// </summary>
public sealed class ProbeJobs
{
    /// <summary>Jobs kept (finished ones are dropped oldest first beyond this).</summary>
    public const int Kept = 32;

    /// <summary>Jobs that may wait or run at once: more are refused (429), so a burst cannot queue hours of work.</summary>
    public const int MaxPending = 4;

    private sealed class Job
    {
        public Task<JsonObject> Work = Task.FromResult(new JsonObject());
        public readonly Stopwatch Clock = Stopwatch.StartNew();
        public required long Order { get; init; }
        public volatile string Progress = "waiting for the server's other heavy work (one runs at a time)";
    }

    private readonly ConcurrentDictionary<string, Job> _jobs = new();
    private long _order;

    /// <summary>What a poll sees: the document when done, else the latest progress; the failure when it failed.</summary>
    public sealed record Status(JsonObject? Result, string Progress, double Seconds, Exception? Error);

    /// <summary>Starts planning <paramref name="request"/> after <paramref name="heavy"/> is free; returns the job's id.</summary>
    public string Start(ProbeRequest request, SemaphoreSlim heavy)
    {
        lock (_jobs)
        {
            int pending = _jobs.Values.Count(j => !j.Work.IsCompleted);
            if (pending >= MaxPending) throw new ApiException(429, $"{pending} calibration designs are already being computed on this server; wait for one to finish");
            string id = Guid.NewGuid().ToString("N")[..16];
            var job = new Job { Order = ++_order };
            job.Work = Task.Run(async () =>
            {
                await heavy.WaitAsync();
                try
                {
                    var sw = Stopwatch.StartNew();
                    var result = ProbePlanner.Plan(request, new Progress(m => job.Progress = m));
                    return ProbeJson.Write(result, sw.Elapsed.TotalSeconds);
                }
                finally { heavy.Release(); }
            });
            _jobs[id] = job;
            foreach (var old in _jobs.Where(kv => kv.Value.Work.IsCompleted).OrderBy(kv => kv.Value.Order).Take(Math.Max(0, _jobs.Count - Kept)).ToArray())
                _jobs.TryRemove(old.Key, out _);
            return id;
        }
    }

    /// <summary>The job's state, or null for an unknown (or dropped) id.</summary>
    public Status? Get(string id)
    {
        if (!_jobs.TryGetValue(id, out var job)) return null;
        double seconds = job.Work.IsCompleted ? 0 : job.Clock.Elapsed.TotalSeconds;
        if (!job.Work.IsCompleted) return new Status(null, job.Progress, seconds, null);
        return job.Work.IsFaulted ? new Status(null, "", seconds, job.Work.Exception!.InnerException) : new Status(job.Work.Result, "", seconds, null);
    }

    /// <summary>Progress reported synchronously on the planner's thread (the message is only stored).</summary>
    private sealed class Progress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
