using System.Collections.Concurrent;
using System.Diagnostics;
using Anneal.Curves;

namespace Anneal.Store.Tests;

/// <summary>
/// Concurrent writers never corrupt the store nor lose a point: four writers (each its own store instance and
/// connection pool, as four trainers are) append small batches while a reader lists and draws; then every point is
/// counted and compared. And the real thing: four <c>anneal train --store</c> processes at once.
/// </summary>
public sealed class ConcurrencyTests
{
    private const int Writers = 4, Batches = 60, Rows = 25;

    private static double Loss(int writer, long step) => 2 + 1.0 / (1 + step) + writer * 1e-3 + (step % 7) * 1e-5;

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Four_writers_and_a_reader_lose_no_point_and_never_see_half_a_batch(string kind)
    {
        using var t = Backends.Create(kind);
        var stores = Enumerable.Range(0, Writers).Select(_ => t.OpenAnother()).ToArray();
        using var readerStore = t.OpenAnother();
        try
        {
            var runs = stores.Select((s, w) => s.AddRun(new NewRun { Name = $"writer-{w}", Tags = ["concurrency"] })).ToArray();
            var done = new CountdownEvent(Writers);
            var torn = new ConcurrentBag<string>();
            int reads = 0;
            var reader = new Thread(() =>
            {
                while (!done.IsSet)
                {
                    var page = readerStore.ListRuns(new RunQuery { Tags = ["concurrency"], Sort = RunSort.Steps });
                    foreach (var r in page.Runs)
                    {
                        // a batch is one transaction: a reader sees all of its rows or none
                        var m = readerStore.GetRun(r.Id)!.Metrics;
                        foreach (var s in m.Where(x => x.Metric != Metrics.ValLoss))
                            if (s.Points % Rows != 0) torn.Add($"{r.Name} {s.Metric}: {s.Points} points");
                        var view = readerStore.GetCurve(r.Id, Metrics.Loss, 100);
                        if (view is { RawPoints: > 0 } && view.RawPoints % Rows != 0) torn.Add($"{r.Name} view: {view.RawPoints} points");
                    }
                    Interlocked.Increment(ref reads);
                }
            });
            reader.Start();
            Parallel.For(0, Writers, new ParallelOptions { MaxDegreeOfParallelism = Writers }, w =>
            {
                for (int b = 0; b < Batches; b++)
                {
                    var pts = new List<MetricPoint>();
                    for (int i = 0; i < Rows; i++)
                    {
                        long step = (long)b * Rows + i;
                        pts.Add(new MetricPoint(Metrics.Loss, step, Loss(w, step)));
                        pts.Add(new MetricPoint(Metrics.Lr, step, 1e-3 * (w + 1)));
                        if (step % 10 == 9) pts.Add(new MetricPoint(Metrics.ValLoss, step, Loss(w, step) + 0.1));
                    }
                    stores[w].AppendPoints(runs[w], pts);
                }
                stores[w].SetRunStatus(runs[w], RunStatus.Finished);
                done.Signal();
            });
            reader.Join();
            torn.ShouldBeEmpty();
            reads.ShouldBeGreaterThan(0);
            const int total = Batches * Rows;
            for (int w = 0; w < Writers; w++)
            {
                var (steps, values) = t.Store.GetPoints(runs[w], Metrics.Loss)!.Value;
                steps.ShouldBe(Enumerable.Range(0, total).Select(i => (long)i));
                values.ShouldBe(steps.Select(s => Loss(w, s)));
                t.Store.GetPoints(runs[w], Metrics.Lr)!.Value.Values.ShouldAllBe(v => v == 1e-3 * (w + 1));
                t.Store.GetPoints(runs[w], Metrics.ValLoss)!.Value.Steps.Length.ShouldBe(total / 10);
                var run = t.Store.GetRun(runs[w])!;
                run.Status.ShouldBe(RunStatus.Finished);
                run.LastStep.ShouldBe(total - 1);
                // the views merged under contention agree with the raw points
                var view = t.Store.GetCurve(runs[w], Metrics.Loss, 50)!;
                view.RawPoints.ShouldBe(total);
                view.Values.Max().ShouldBe(values.Max());
                view.Values.Min().ShouldBe(values.Min());
            }
            t.Store.CountRows("points").ShouldBe(Writers * (2 * total + total / 10));
        }
        finally
        {
            foreach (var s in stores) s.Dispose();
        }
    }

    /// <summary>The bundled Brown slice the training tests use.</summary>
    private static string Sample => Path.Combine(TestPaths.RepoRoot, "tests", "Anneal.Training.Tests", "Data", "brown-sample.txt");

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Four_training_processes_streaming_into_one_store_store_exactly_their_logs(string kind)
    {
        using var t = Backends.Create(kind);
        var dir = Directory.CreateTempSubdirectory("anneal-4train-").FullName;
        try
        {
            var cli = typeof(Anneal.Cli.AnnealCli).Assembly.Location;
            var procs = Enumerable.Range(0, Writers).Select(w =>
            {
                var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (var a in new[] { cli, "train", "--model", "logreg(context=1)", "--data", Sample, "--schedule", $"cosine(peak={0.05 * (w + 1)}, total=200, warmup=10)",
                    "--optimizer", "adamw(wd=0)", "--steps", "200", "--batch", "4", "--eval-every", "50", "--eval-batches", "1", "--threads", "1", "--seed", (w + 1).ToString(),
                    "--out", Path.Combine(dir, $"run{w}.csv"), "--store", t.Location, "--tag", "four" })
                    psi.ArgumentList.Add(a);
                return Process.Start(psi)!;
            }).ToList();
            // the server's part: read while they write
            int reads = 0;
            while (procs.Any(p => !p.HasExited))
            {
                foreach (var r in t.Store.ListRuns(new RunQuery { Tags = ["four"] }).Runs) t.Store.GetCurve(r.Id, Metrics.Loss, 100);
                reads++;
                Thread.Sleep(20);
            }
            foreach (var p in procs)
            {
                string err = p.StandardError.ReadToEnd();
                p.WaitForExit();
                p.ExitCode.ShouldBe(0, err);
            }
            reads.ShouldBeGreaterThan(0);
            var runs = t.Store.ListRuns(new RunQuery { Tags = ["four"], Sort = RunSort.Name, Descending = false }).Runs;
            runs.Select(r => r.Name).ShouldBe(["run0", "run1", "run2", "run3"]);
            foreach (var r in runs)
            {
                // the independent record of each run: the CSV log its process wrote
                var log = CurveReader.Read(Path.Combine(dir, r.Name + ".csv"));
                r.Status.ShouldBe(RunStatus.Finished);
                var stored = t.Store.LoadCurve(r.Id)!;
                stored.Steps.ShouldBe(log.Steps);
                stored.Loss.ShouldBe(log.Loss);
                stored.Lr.ShouldBe(log.Lr);
                stored.GradNorm.ShouldBe(log.GradNorm);
                stored.Tokens.ShouldBe(log.Tokens);
                stored.ValLoss!.Where(double.IsFinite).ShouldBe(log.ValLoss!.Where(double.IsFinite));
                stored.ScheduleSpec.ShouldBe(t.Store.GetRun(r.Id)!.Schedule);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
