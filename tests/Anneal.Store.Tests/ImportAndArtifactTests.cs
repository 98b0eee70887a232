using Anneal.Curves;

namespace Anneal.Store.Tests;

/// <summary>Curves imported from log files, loaded back, and results saved with their provenance.</summary>
public sealed class ImportAndArtifactTests
{
    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void An_imported_log_loads_back_equal_to_what_the_reader_read(string kind)
    {
        using var t = Backends.Create(kind);
        var file = TestPaths.Mpl("400m", "cosine_24000.csv");
        var curve = CurveArgument.Parse(file + "@cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)");
        long id = t.Store.ImportCurve(curve, new NewRun { Name = "cos", Tags = ["mpl"] });
        var run = t.Store.GetRun(id)!;
        run.Status.ShouldBe(RunStatus.Finished);
        run.Schedule.ShouldBe(curve.ScheduleSpec);
        run.SourceFile.ShouldBe(curve.SourceFile);
        var back = t.Store.LoadCurve(id)!;
        back.Steps.ShouldBe(curve.Steps);
        back.Loss.ShouldBe(curve.Loss);
        back.Lr.ShouldBe(curve.Lr);
        back.ScheduleSpec.ShouldBe(curve.ScheduleSpec);
        run.Metrics.Single(m => m.Metric == Metrics.Loss).Points.ShouldBe(curve.Count);
        run.FinalLoss.ShouldBe(curve.Loss![^1]);
        t.Store.LoadCurve(id + 99).ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Importing_several_curves_is_all_or_nothing(string kind)
    {
        using var t = Backends.Create(kind);
        var good = CurveReader.Read(TestPaths.Mpl("400m", "wsdcon_3.csv"));
        var bad = good with { Steps = good.Steps.Select(s => s - 100000).ToArray() }; // negative steps are refused
        Should.Throw<ArgumentOutOfRangeException>(() => t.Store.ImportCurves([(good, null), (bad, null)]));
        t.Store.ListRuns().Total.ShouldBe(0);
        t.Store.CountRows("points").ShouldBe(0);
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Laws_forecasts_and_designs_keep_their_provenance_after_the_runs_are_gone(string kind)
    {
        using var t = Backends.Create(kind);
        long a = t.Store.AddRun(new NewRun { Name = "run-a" }), b = t.Store.AddRun(new NewRun { Name = "run-b" });
        long law = t.Store.SaveLaw(new NewArtifact { Name = "mpl", BodyJson = """{"law": "mpl", "parameters": [1, 2]}""", RunIds = [a, b, a] });
        long forecast = t.Store.SaveForecast(new NewArtifact { Name = "wsd", Spec = "wsd(peak=3e-4, total=100)", LawId = law, BodyJson = """{"steps": [1, 2], "mean": [3.1, 3.0]}""", RunIds = [a] });
        long design = t.Store.SaveDesign(new NewArtifact { Name = "optimum", LawId = law, BodyJson = "{}", Spec = "cosine(peak=1e-3, total=100)" });
        Should.Throw<ArgumentException>(() => t.Store.SaveForecast(new NewArtifact { Name = "x", LawId = forecast, BodyJson = "{}" })); // not a law
        Should.Throw<ArgumentException>(() => t.Store.SaveLaw(new NewArtifact { Name = "x", BodyJson = "{}", RunIds = [b + 99] }));
        Should.Throw<ArgumentException>(() => t.Store.SaveLaw(new NewArtifact { Name = "x", BodyJson = "{ nope" }));

        var l = t.Store.GetArtifact(law)!;
        l.Kind.ShouldBe(ArtifactKind.Law);
        l.AnnealVersion.ShouldBe(RunStore.AnnealVersion);
        l.BodyJson.ShouldBe("""{"law":"mpl","parameters":[1,2]}""");
        l.Runs.ShouldBe([new ArtifactRun(a, "run-a", true), new ArtifactRun(b, "run-b", true)]);
        t.Store.GetArtifact(forecast)!.LawId.ShouldBe(law);
        t.Store.ListArtifacts(ArtifactKind.Forecast).Select(x => x.Id).ShouldBe([forecast]);
        t.Store.ListArtifacts(runId: a).Select(x => x.Id).ShouldBe([forecast, law]);
        t.Store.ListArtifacts().Select(x => x.Id).ShouldBe([design, forecast, law]);

        t.Store.DeleteRun(a).ShouldBeTrue();
        t.Store.GetArtifact(law)!.Runs.ShouldBe([new ArtifactRun(a, "run-a", false), new ArtifactRun(b, "run-b", true)]);
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Servers_starting_together_on_an_empty_store_seed_it_once_and_a_used_store_never(string kind)
    {
        using var t = Backends.Create(kind);
        var files = new[] { "cosine_24000.csv", "wsdcon_3.csv" }.Select(f => CurveReader.Read(TestPaths.Mpl("400m", f))).ToList();
        IReadOnlyList<(LossCurve, NewRun?)> Examples() => files.Select(c => (c, (NewRun?)new NewRun { Name = c.Name, Tags = ["example"] })).ToList();
        // four servers, each with a store instance (a connection pool) of its own, released at the same moment
        var stores = Enumerable.Range(0, 4).Select(_ => t.OpenAnother()).ToArray();
        try
        {
            using var go = new Barrier(stores.Length);
            var seeded = new int[stores.Length];
            Parallel.For(0, stores.Length, new ParallelOptions { MaxDegreeOfParallelism = stores.Length }, i =>
            {
                go.SignalAndWait();
                seeded[i] = stores[i].SeedIfEmpty(Examples).Count;
            });
            seeded.Sum().ShouldBe(files.Count);
            t.Store.ListRuns().Runs.Select(r => r.Name).Order().ShouldBe(files.Select(f => f.Name).Order());
            t.Store.CountRows("points").ShouldBe(files.Sum(f => new[] { f.Loss, f.Lr, f.ValLoss, f.GradNorm, f.Tokens }.Sum(m => m?.LongCount(v => !double.IsNaN(v)) ?? 0)));
        }
        finally
        {
            foreach (var s in stores) s.Dispose();
        }
        // a store with runs (even one the user added after deleting the examples) is left alone, the examples unread
        foreach (var r in t.Store.ListRuns().Runs.Skip(1)) t.Store.DeleteRun(r.Id);
        t.Store.SeedIfEmpty(() => throw new InvalidOperationException("read the examples for a store with runs")).ShouldBeEmpty();
        t.Store.ListRuns().Total.ShouldBe(1);
    }
}
