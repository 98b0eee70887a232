namespace Anneal.Store.Tests;

public sealed class SmokeTests
{
    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Add_append_and_read_back(string kind)
    {
        using var s = Backends.Create(kind);
        long id = s.Store.AddRun(new NewRun { Name = "a", Tags = ["x", "y"], Schedule = "cosine(peak=1e-3, total=100)" });
        s.Store.AppendPoints(id, Enumerable.Range(0, 100).Select(i => new MetricPoint("loss", i, 5.0 - i * 0.01)));
        var run = s.Store.GetRun(id)!;
        run.Tags.ShouldBe(["x", "y"]);
        run.LastStep.ShouldBe(99);
        var view = s.Store.GetCurve(id, "loss", 20)!;
        view.Downsampled.ShouldBeTrue();
        s.Store.ListRuns().Total.ShouldBe(1);
    }
}
