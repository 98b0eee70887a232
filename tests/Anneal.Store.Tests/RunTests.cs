namespace Anneal.Store.Tests;

/// <summary>Runs: add, get, list (filter, sort, page), tags, status, delete; on every backend.</summary>
public sealed class RunTests
{
    private sealed record Spec(string Name, string[] Tags, RunStatus Status, string? Schedule, double[] Loss, double[]? Val);

    /// <summary>60 runs with known names, tags, statuses and curves (some without a loss or validation loss).</summary>
    private static List<Spec> Specs()
    {
        var rng = new Random(7);
        string[] words = ["alpha", "beta", "gamma", "Delta", "eps_1", "zeta%"];
        var specs = new List<Spec>();
        for (int i = 0; i < 60; i++)
        {
            var tags = new[] { "a", "b", "c" }.Where(_ => rng.NextDouble() < 0.5).ToArray();
            var status = (RunStatus)(i % 4);
            double[] loss = i % 11 == 5 ? [] : Enumerable.Range(0, 5 + i % 7).Select(_ => 2 + rng.NextDouble()).ToArray();
            double[]? val = i % 3 == 0 ? null : Enumerable.Range(0, 3).Select(_ => 2 + rng.NextDouble()).ToArray();
            specs.Add(new Spec($"{words[i % words.Length]}-{i:D2}", tags, status, i % 5 == 0 ? $"cosine(peak={i}e-4, total=100)" : null, loss, val));
        }
        return specs;
    }

    private static Dictionary<long, Spec> Fill(RunStore store, List<Spec> specs)
    {
        var ids = new Dictionary<long, Spec>();
        foreach (var s in specs)
        {
            long id = store.AddRun(new NewRun { Name = s.Name, Tags = s.Tags, Status = s.Status, Schedule = s.Schedule, MetadataJson = $$"""{"i": {{ids.Count}}}""" });
            var pts = s.Loss.Select((v, k) => new MetricPoint(Metrics.Loss, 10 * k, v)).ToList();
            if (s.Val is { } val) pts.AddRange(val.Select((v, k) => new MetricPoint(Metrics.ValLoss, 20 * k + 5, v)));
            store.AppendPoints(id, pts);
            ids[id] = s;
        }
        return ids;
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Listing_filters_sorts_and_pages_as_linq_does_over_the_inputs(string kind)
    {
        using var t = Backends.Create(kind);
        var runs = Fill(t.Store, Specs());
        double? Final(Spec s) => s.Loss.Length == 0 ? null : s.Loss[^1];
        long? Last(Spec s) => s.Loss.Length == 0 ? null : 10L * (s.Loss.Length - 1);
        double? Best(Spec s) => s.Val?.Min();

        // the expected order: by key, runs without the key last, ties by id in the same direction
        List<long> Expect(Func<KeyValuePair<long, Spec>, bool> keep, Func<Spec, IComparable?> key, bool desc)
        {
            var kept = runs.Where(keep).ToList();
            var with = kept.Where(kv => key(kv.Value) is not null);
            var ordered = desc ? with.OrderByDescending(kv => key(kv.Value)).ThenByDescending(kv => kv.Key) : with.OrderBy(kv => key(kv.Value)).ThenBy(kv => kv.Key);
            var without = kept.Where(kv => key(kv.Value) is null);
            return ordered.Select(kv => kv.Key).Concat((desc ? without.OrderByDescending(kv => kv.Key) : without.OrderBy(kv => kv.Key)).Select(kv => kv.Key)).ToList();
        }

        var cases = new (RunQuery Q, Func<KeyValuePair<long, Spec>, bool> Keep, Func<Spec, IComparable?> Key)[]
        {
            (new RunQuery { Limit = 1000 }, _ => true, _ => 0),
            (new RunQuery { Sort = RunSort.Name, Descending = false, Limit = 1000 }, _ => true, s => s.Name.ToLowerInvariant()),
            (new RunQuery { Sort = RunSort.FinalLoss, Descending = false, Limit = 1000 }, _ => true, s => Final(s)),
            (new RunQuery { Sort = RunSort.FinalLoss, Limit = 1000 }, _ => true, s => Final(s)),
            (new RunQuery { Sort = RunSort.Steps, Limit = 1000 }, _ => true, s => Last(s)),
            (new RunQuery { Sort = RunSort.BestValLoss, Descending = false, Limit = 1000 }, _ => true, s => Best(s)),
            (new RunQuery { Tags = ["a", "b"], Sort = RunSort.FinalLoss, Descending = false, Limit = 1000 }, kv => kv.Value.Tags.Contains("a") && kv.Value.Tags.Contains("b"), s => Final(s)),
            (new RunQuery { Status = RunStatus.Failed, Limit = 1000 }, kv => kv.Value.Status == RunStatus.Failed, _ => 0),
            (new RunQuery { Search = "DELTA", Limit = 1000 }, kv => kv.Value.Name.Contains("delta", StringComparison.OrdinalIgnoreCase), _ => 0),
            // LIKE wildcards in the text are literal
            (new RunQuery { Search = "a%", Limit = 1000 }, kv => kv.Value.Name.Contains("a%", StringComparison.OrdinalIgnoreCase), _ => 0),
            (new RunQuery { Search = "s_1", Limit = 1000 }, kv => kv.Value.Name.Contains("s_1", StringComparison.OrdinalIgnoreCase), _ => 0),
            (new RunQuery { Search = "peak=1", Limit = 1000 }, kv => kv.Value.Schedule?.Contains("peak=1") == true, _ => 0),
        };
        foreach (var (q, keep, key) in cases)
        {
            var expected = q.Sort == RunSort.Created ? Expect(keep, s => 0, q.Descending) : Expect(keep, key, q.Descending);
            var page = t.Store.ListRuns(q);
            page.Total.ShouldBe(expected.Count, q.ToString());
            page.Runs.Select(r => r.Id).ShouldBe(expected, q.ToString());
        }
        // pages of 7 concatenate to the whole listing
        var all = t.Store.ListRuns(new RunQuery { Sort = RunSort.FinalLoss, Limit = 1000 }).Runs.Select(r => r.Id).ToList();
        var paged = new List<long>();
        for (int off = 0; off < all.Count; off += 7) paged.AddRange(t.Store.ListRuns(new RunQuery { Sort = RunSort.FinalLoss, Offset = off, Limit = 7 }).Runs.Select(r => r.Id));
        paged.ShouldBe(all);
        // list rows carry the summary columns and tags
        foreach (var r in t.Store.ListRuns(new RunQuery { Limit = 1000 }).Runs)
        {
            var s = runs[r.Id];
            r.Name.ShouldBe(s.Name);
            r.Tags.ShouldBe(s.Tags.Order().ToArray());
            r.FinalLoss.ShouldBe(Final(s));
            r.LastStep.ShouldBe(Last(s));
            r.BestValLoss.ShouldBe(Best(s));
            r.Status.ShouldBe(s.Status);
        }
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void A_run_reads_back_with_its_fields_and_metric_summaries(string kind)
    {
        using var t = Backends.Create(kind);
        long id = t.Store.AddRun(new NewRun { Name = "r", Tags = ["x", "x", " y "], Schedule = "wsd(peak=3e-4, total=100, decay=0.2)", SourceFile = "/a/b.csv", SourceFormat = "csv", MetadataJson = """{ "model": "gpt-tiny" }""" });
        double[] loss = [3.0, 2.5, 2.7, 2.2, 2.4];
        t.Store.AppendPoints(id, loss.Select((v, i) => new MetricPoint(Metrics.Loss, 100 + i, v)).Append(new MetricPoint(Metrics.ValLoss, 103, double.NaN)));
        var r = t.Store.GetRun(id)!;
        r.Tags.ShouldBe(["x", "y"]);
        r.Schedule.ShouldBe("wsd(peak=3e-4, total=100, decay=0.2)");
        r.MetadataJson.ShouldBe("""{"model":"gpt-tiny"}""");
        r.Status.ShouldBe(RunStatus.Running);
        var m = r.Metrics.ShouldHaveSingleItem(); // the NaN validation point is "not measured": no series
        m.ShouldBe(new MetricSummary(Metrics.Loss, 5, 100, 104, 2.4, 2.2, 103));
        t.Store.SetRunStatus(id, RunStatus.Finished).ShouldBeTrue();
        t.Store.GetRun(id)!.Status.ShouldBe(RunStatus.Finished);
        t.Store.AddTags(id, ["z"]).ShouldBeTrue();
        t.Store.GetRun(id)!.Tags.ShouldBe(["x", "y", "z"]);
        t.Store.GetRun(id + 1000).ShouldBeNull();
        t.Store.SetRunStatus(id + 1000, RunStatus.Finished).ShouldBeFalse();
        Should.Throw<ArgumentException>(() => t.Store.AddRun(new NewRun { Name = "m", MetadataJson = "[1, 2]" }));
        Should.Throw<ArgumentException>(() => t.Store.AddRun(new NewRun { Name = " " }));
        Should.Throw<KeyNotFoundException>(() => t.Store.AppendPoints(id + 1000, [new MetricPoint(Metrics.Loss, 1, 1)]));
        Should.Throw<ArgumentOutOfRangeException>(() => t.Store.AppendPoints(id, [new MetricPoint(Metrics.Loss, -1, 1)]));
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Deleting_a_run_removes_its_points_views_and_tags_and_nothing_else(string kind)
    {
        using var t = Backends.Create(kind);
        long a = t.Store.AddRun(new NewRun { Name = "a", Tags = ["t"] }), b = t.Store.AddRun(new NewRun { Name = "b", Tags = ["t"] });
        foreach (var id in new[] { a, b })
            t.Store.AppendPoints(id, Enumerable.Range(0, 5000).SelectMany(i => new[] { new MetricPoint(Metrics.Loss, i, 1.0 / (i + 1)), new MetricPoint(Metrics.Lr, i, 1e-3) }));
        long points = t.Store.CountRows("points"), views = t.Store.CountRows("point_buckets");
        points.ShouldBe(20000);
        t.Store.DeleteRun(a).ShouldBeTrue();
        t.Store.DeleteRun(a).ShouldBeFalse();
        t.Store.GetRun(a).ShouldBeNull();
        t.Store.GetCurve(a, Metrics.Loss).ShouldBeNull();
        t.Store.CountRows("points").ShouldBe(10000);
        t.Store.CountRows("point_buckets").ShouldBe(views / 2);
        t.Store.CountRows("run_tags").ShouldBe(1);
        t.Store.CountRows("series").ShouldBe(2);
        t.Store.GetPoints(b, Metrics.Loss)!.Value.Steps.Length.ShouldBe(5000);
    }
}
