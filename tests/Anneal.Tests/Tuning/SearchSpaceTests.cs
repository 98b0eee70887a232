using Anneal.Tuning;

namespace Anneal.Tests.Tuning;

public class SearchSpaceTests
{
    private static SearchSpace Space() => new([
        ("peak", new LogUniformDomain(3e-4, 1e-2)), ("decay", new UniformDomain(0.05, 0.6)),
        ("shape", new CategoricalDomain(["linear", "sqrt"])), ("batch", new IntegerDomain(8, 64, Log: true))]);

    [Fact]
    public void Substitutes_placeholders_into_a_spec()
    {
        var s = Space();
        var p = s.FromUnit([0.5, 0, 0.9, 0]);
        p["peak"].Number.ShouldBe(Math.Sqrt(3e-4 * 1e-2), 1e-15); // log-uniform midpoint is the geometric mean
        p["shape"].Text.ShouldBe("sqrt");
        p["batch"].Number.ShouldBe(8);
        SearchSpace.Substitute("wsd(peak={peak}, total=2000, decay={decay}, shape={ shape }) {{x}}", p)
            .ShouldBe($"wsd(peak={p["peak"]}, total=2000, decay=0.05, shape=sqrt) {{x}}");
    }

    [Fact]
    public void Unknown_placeholder_names_it_and_the_parameters()
    {
        var e = Should.Throw<InputException>(() => SearchSpace.Substitute("cosine(peak={lr})", Space().FromUnit([0, 0, 0, 0]), "schedule"));
        e.Message.ShouldBe("schedule: placeholder {lr} names no parameter of the search space (it has peak, decay, shape, batch); add it under space: or fix the name");
    }

    [Fact]
    public void Encoding_round_trips_and_integers_get_equal_slices()
    {
        var s = Space();
        var rng = new Random(1);
        var x = new double[s.EncodedWidth];
        s.EncodedWidth.ShouldBe(5);
        for (int i = 0; i < 200; i++)
        {
            var p = s.FromUnit([rng.NextDouble(), rng.NextDouble(), rng.NextDouble(), rng.NextDouble()]);
            s.Encode(p, x);
            var back = s.Decode(x);
            foreach (var (name, v) in p.Items) back[name].Number.ShouldBe(v.Number, 1e-12 * Math.Abs(v.Number));
            back["shape"].ShouldBe(p["shape"]);
        }
        var ints = new IntegerDomain(1, 4);
        var counts = new int[5];
        for (int i = 0; i < 4000; i++) counts[(int)ints.FromUnit((i + 0.5) / 4000).Number]++;
        counts[1..].ShouldAllBe(c => c == 1000);
    }

    [Fact]
    public void Grid_enumerates_every_combination_once()
    {
        var s = new SearchSpace([("a", new UniformDomain(0, 1)), ("b", new CategoricalDomain(["x", "y", "z"]))]);
        var g = new GridSampler(points: 4);
        g.Size(s).ShouldBe(12);
        var history = new List<TrialRecord>();
        for (int n = 0; n < 12; n++) history.Add(new TrialRecord(n, g.Propose(s, history, n)!, TrialState.Complete, 1.0, []));
        var all = history.Select(t => t.Params.ToString()).ToList();
        all.Distinct().Count().ShouldBe(12);
        all[0].ShouldBe("a=0, b=x");
        all[1].ShouldBe("a=0, b=y");
        all[11].ShouldBe("a=1, b=z");
        g.Propose(s, history, 12).ShouldBeNull();
    }

    /// <summary>A dead worker's trial is failed and a copy (same parameters, next number) queued: the grid must not skip a combination for it.</summary>
    [Fact]
    public void Grid_does_not_skip_a_combination_for_a_requeued_copy()
    {
        var s = new SearchSpace([("b", new CategoricalDomain(["x", "y", "z"]))]);
        var g = new GridSampler();
        var x = g.Propose(s, [], 0)!;
        TrialRecord[] history = [new(0, x, TrialState.Failed, null, []), new(1, x, TrialState.Running, null, [])];
        g.Propose(s, history, 2)!.ToString().ShouldBe("b=y");
    }
}
