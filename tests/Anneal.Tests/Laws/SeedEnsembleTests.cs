using System.Globalization;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Tests.Cli;

namespace Anneal.Tests.Laws;

public class SeedEnsembleTests
{
    private static readonly string Gcide = Path.Combine(TestPaths.RepoRoot, "data", "corpora", "gpt-gcide");

    /// <summary>gpt-gcide's schedules question's pair for each seed (constant run to 2,000, cosine at 2,000) and a WSD target.</summary>
    private static (LawRun[] Seed1, LawRun[] Seed2, LawRun Target) Gpt_gcide()
    {
        var corpus = ForecastCorpus.Load(Gcide);
        CorpusRun Named(string name) => corpus.Runs.Single(r => r.Name == name);
        LawRun Constant(string name) => corpus.LawRunOf(Named(name), endStep: 2000) with { Name = $"{name}[:2000]" };
        return ([Constant("constant_s1"), corpus.LawRunOf(Named("cosine_T2000_s1"))],
                [Constant("constant_s2"), corpus.LawRunOf(Named("cosine_T2000_s2"))],
                ForecastProtocol.Target(corpus, Named("wsd_lin20_T4000_s1")).Run);
    }

    private static readonly LossLaw Momentum = LossLaw.Parse("momentum");

    [Fact]
    public void The_ensemble_forecasts_the_geometric_mean_of_each_seed_s_own_fit_and_its_band_holds_both()
    {
        // Independent source: each seed's pair fitted here on its own (LawFitter.Fit of two runs without twins), and the
        // type's closed form: L = sqrt(L1 L2), half-width sqrt((w1^2 + w2^2) / 2) + |ln(L1 / L2)| / 2 in log loss.
        var (s1, s2, target) = Gpt_gcide();
        var fit = LawFitter.Fit(Momentum, [.. s1, .. s2]);
        var seeds = fit.Seeds.ShouldNotBeNull();
        seeds.Groups.Select(g => g.Report.Runs).ShouldBe([s1.Select(r => r.Name).ToArray(), s2.Select(r => r.Name).ToArray()]);
        fit.Report.Warnings[0].ShouldStartWith("seed ensemble: ");
        fit.Report.Warnings[0].ShouldContain("cosine_T2000_s2 ends +");
        var p = fit.Predict(target);
        var (p1, p2) = (LawFitter.Fit(Momentum, s1).Predict(target), LawFitter.Fit(Momentum, s2).Predict(target));
        p.HasBand.ShouldBeTrue(p.BandUnavailable);
        double apart = 0;
        for (int i = 0; i < p.Loss.Length; i++)
        {
            p.Loss[i].ShouldBe(Math.Sqrt(p1.Loss[i] * p2.Loss[i]), 1e-12 * p.Loss[i]);
            double w1 = Math.Log(p1.High[i] / p1.Low[i]) / 2, w2 = Math.Log(p2.High[i] / p2.Low[i]) / 2, d = Math.Abs(Math.Log(p1.Loss[i] / p2.Loss[i]));
            Math.Log(p.High[i] / p.Loss[i]).ShouldBe(Math.Sqrt((w1 * w1 + w2 * w2) / 2) + d / 2, 1e-9);
            Math.Log(p.Loss[i] / p.Low[i]).ShouldBe(Math.Sqrt((w1 * w1 + w2 * w2) / 2) + d / 2, 1e-9);
            p.Low[i].ShouldBeLessThan(Math.Min(p1.Loss[i], p2.Loss[i]));
            p.High[i].ShouldBeGreaterThan(Math.Max(p1.Loss[i], p2.Loss[i]));
            apart = Math.Max(apart, d);
        }
        apart.ShouldBeGreaterThan(0.005); // the two seeds' fits disagree by more than 0.5 % somewhere: the band's spread term is tested, not 0
    }

    [Fact]
    public void An_ensemble_law_file_round_trips_and_forecasts_the_same()
    {
        var (s1, s2, target) = Gpt_gcide();
        var fit = LawFitter.Fit(Momentum, [.. s1, .. s2]);
        string json = fit.ToJson();
        json.ShouldContain("\"seed_ensemble\"");
        var back = FittedLaw.FromJson(json);
        back.Seeds.ShouldNotBeNull().Groups.Count.ShouldBe(2);
        back.ToJson().ShouldBe(json);
        var (p, q) = (fit.Predict(target), back.Predict(target));
        q.Loss.ShouldBe(p.Loss);
        q.Low.ShouldBe(p.Low);
        q.High.ShouldBe(p.High);
        // A group that is not a law file is named
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        node["seed_ensemble"]!["groups"] = new System.Text.Json.Nodes.JsonArray(1, 2);
        var bad = node.ToJsonString();
        Should.Throw<InputException>(() => FittedLaw.FromJson(bad, "ens.json")).Message.ShouldContain("ens.json: seed_ensemble.groups[0] must be a law file");
    }

    [Fact]
    public void A_fit_of_one_seed_is_the_same_with_the_ensemble_on_or_off()
    {
        // Runs without twins take the path every fit took before session 21: the same numbers bit for bit, no ensemble.
        var (s1, _, target) = Gpt_gcide();
        var on = LawFitter.Fit(Momentum, s1);
        var off = LawFitter.Fit(Momentum, s1, new FitOptions { SeedEnsemble = false });
        on.Seeds.ShouldBeNull();
        on.Values.ShouldBe(off.Values);
        on.StdErrors.ShouldBe(off.StdErrors);
        on.Replicates.ShouldBe(off.Replicates);
        on.Report.Warnings.ShouldBe(off.Report.Warnings);
        var (p, q) = (on.Predict(target), off.Predict(target));
        p.Loss.ShouldBe(q.Loss);
        p.High.ShouldBe(q.High);
        // and the joint fit of both seeds (the option off) is one fit with the twins' warning
        var (_, s2, _) = Gpt_gcide();
        var joint = LawFitter.Fit(Momentum, [.. s1, .. s2], new FitOptions { SeedEnsemble = false });
        joint.Seeds.ShouldBeNull();
        joint.Report.Warnings.ShouldContain(w => w.Contains("fit each seed's runs apart"));
    }

    private static LawRun Run(string name, double[] eta, double scale)
    {
        long[] steps = [10, 20, 30, 40, 50, 60, 70, 80, 90];
        return new LawRun { Name = name, Eta = eta, Steps = steps, Observed = steps.Select(s => scale * (2 + 5.0 / s)).ToArray() };
    }

    /// <summary>Hand-built runs of three schedules (constant, linear decay, a half-rate constant): an independent source.</summary>
    private static readonly double[] Constant = Enumerable.Repeat(1e-3, 100).ToArray(), Linear = Enumerable.Range(0, 100).Select(i => 1e-3 * (1 - i / 100.0)).ToArray(), Half = Enumerable.Repeat(5e-4, 100).ToArray();

    private static string[][] Names(SeedGroups g) => g.Groups.Select(x => x.Select(r => r.Name).ToArray()).ToArray();

    [Fact]
    public void Seed_groups_without_stated_seeds_take_the_i_th_run_of_each_schedule_share_runs_without_twins_and_refuse_uneven_counts()
    {
        // No name states a seed: runs are paired in the order given.
        LawRun a1 = Run("a_first", Constant, 1), b1 = Run("b_first", Linear, 1), a2 = Run("a_second", Constant, 1.02), b2 = Run("b_second", Linear, 0.99), c = Run("c", Half, 1);
        var g = SeedGroups.Of([a1, b1, c, a2, b2]);
        g.Why.ShouldBeNull();
        g.Shared.ShouldBe(["c"]);
        Names(g).ShouldBe([["a_first", "b_first", "c"], ["c", "a_second", "b_second"]]);
        // Three runs of a, two of b: which b goes with which a cannot be told; no groups, and why
        var uneven = SeedGroups.Of([a1, b1, a2, b2, Run("a_third", Constant, 1.01)]);
        uneven.Groups.ShouldBeEmpty();
        uneven.Why.ShouldNotBeNull().ShouldContain("uneven (a_first, a_second, a_third are 3 runs of one schedule, b_first, b_second 2)");
        // No twins: no groups, nothing to say
        SeedGroups.Of([a1, b1, c]).ShouldBe(new SeedGroups([], [], [], null), new SeedGroupsComparer());
    }

    [Fact]
    public void Seed_groups_pair_runs_by_their_stated_seed_whatever_the_order_given()
    {
        // Seeds named in the runs' names, given out of order: the order would pair a_s2 with b_s1; the seeds pair them right.
        LawRun a1 = Run("a_s1", Constant, 1), b1 = Run("b_s1", Linear, 1), a2 = Run("a_s2", Constant, 1.02), b2 = Run("b_s2", Linear, 0.99), c = Run("c_s1", Half, 1);
        var g = SeedGroups.Of([a2, b1, c, a1, b2]);
        g.Why.ShouldBeNull();
        g.Shared.ShouldBe(["c_s1"]); // no twin: fitted in every group, whatever its seed
        Names(g).ShouldBe([["b_s1", "c_s1", "a_s1"], ["a_s2", "c_s1", "b_s2"]]); // smallest seed first, each in the order given
        // A stated seed (a corpus's field, LawRun.Seed) outranks the name: these names say nothing or the opposite.
        var byField = SeedGroups.Of([a1 with { Name = "a_x", Seed = 7 }, b1 with { Name = "b_s7", Seed = 3 }, a2 with { Name = "a_y", Seed = 3 }, b2 with { Name = "b_s3", Seed = 7 }]);
        Names(byField).ShouldBe([["b_s7", "a_y"], ["a_x", "b_s3"]]);
        // Three seeds of every schedule: three groups
        var three = SeedGroups.Of([a1, b1, a2, b2, Run("a_s3", Constant, 1.01), Run("b_s3", Linear, 1.01)]);
        Names(three).ShouldBe([["a_s1", "b_s1"], ["a_s2", "b_s2"], ["a_s3", "b_s3"]]);
    }

    [Theory]
    [InlineData("cosine_T600_s2", 2)]
    [InlineData("constant_s1[:2000]", 1)]
    [InlineData("constant_s1#17", 1)]
    [InlineData("mlp-s12", 12)]
    [InlineData("s3", 3)]
    [InlineData("wsd_s1_T600_s2", 2)]
    [InlineData("steps", null)]
    [InlineData("run_s1x", null)]
    [InlineData("cosines2", null)]
    [InlineData("constant_24000", null)]
    public void A_seed_is_read_from_a_name_only_as_a_separate_sN(string name, int? seed) =>
        SeedGroups.SeedOf(Run(name, Constant, 1)).ShouldBe(seed);

    [Fact]
    public void Seeds_that_cannot_form_groups_are_refused_naming_the_runs_and_the_fix()
    {
        LawRun a1 = Run("a_s1", Constant, 1), b1 = Run("b_s1", Linear, 1), a2 = Run("a_s2", Constant, 1.02), b2 = Run("b_s2", Linear, 0.99);
        // some twins state a seed, others do not
        Should.Throw<InputException>(() => SeedGroups.Of([a1, Run("b_first", Linear, 1), a2, Run("b_second", Linear, 0.99)])).Message
            .ShouldBe("seed groups: b_first, b_second state no seed while other runs with twins do (a_s1 seed 1, a_s2 seed 2), so which seed they belong to cannot be told; state every such run's seed (a corpus's seed field, or the seed in the run's name such as constant_s2) or none (then runs are paired in the order given)");
        // two trajectories of one schedule stating one seed
        Should.Throw<InputException>(() => SeedGroups.Of([a1, b1, Run("a_s1-rerun", Constant, 1.02), b2])).Message
            .ShouldStartWith("seed groups: a_s1 and a_s1-rerun are one schedule with different losses (two trajectories) but state the same seed 1; one of them is another seed's run");
        // seeds 1, 2, 3 of a but 1, 2 of b
        Should.Throw<InputException>(() => SeedGroups.Of([a1, b1, a2, b2, Run("a_s3", Constant, 1.01)])).Message
            .ShouldBe("seed groups: b_s1 (seed 1) has no twin of seed 3 (a run of its schedule with that seed's losses), while the fitted runs hold seeds 1, 2, 3; to fit each seed's runs apart every run with a twin needs one of every seed: leave out the runs of seed 3, or add that seed's run of b_s1's schedule");
        // the fit says it (the CLI's exit 2, the dashboard's 400); a joint fit, which needs no groups, still fits
        Should.Throw<InputException>(() => LawFitter.Fit(Momentum, [a1, b1, a2, b2, Run("a_s3", Constant, 1.01)]));
    }

    [Fact]
    public void Anneal_fit_of_two_trajectories_stating_one_seed_is_exit_two_naming_them()
    {
        // gpt-gcide's two seeds of one cosine, saved under names that both state seed 1
        var dir = Directory.CreateTempSubdirectory("anneal-seeds-").FullName;
        try
        {
            File.Copy(Path.Combine(Gcide, "cosine_T2000_s1.csv"), Path.Combine(dir, "cosine_s1.csv"));
            File.Copy(Path.Combine(Gcide, "cosine_T2000_s2.csv"), Path.Combine(dir, "cosine_s1-rerun.csv"));
            var (code, _, err) = CliRunner.Run("fit", Path.Combine(dir, "cosine_s1.csv"), Path.Combine(dir, "cosine_s1-rerun.csv"), "--law", "momentum", "--target", "val");
            code.ShouldBe(2, err);
            err.ShouldContain("seed groups: cosine_s1 and cosine_s1-rerun are one schedule with different losses (two trajectories) but state the same seed 1");
            err.ShouldNotContain("   at ");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void An_ensemble_is_the_same_whatever_the_order_its_runs_are_given_in()
    {
        // gpt-gcide's pairs given interleaved and reversed (seed 2's cosine first): paired by the corpus's seed field, the
        // groups and forecasts are those of the runs given seed by seed, bit for bit.
        var (s1, s2, target) = Gpt_gcide();
        s1.Select(r => r.Seed).ShouldBe([1, 1]);
        s2.Select(r => r.Seed).ShouldBe([2, 2]);
        var ordered = LawFitter.Fit(Momentum, [.. s1, .. s2]);
        var shuffled = LawFitter.Fit(Momentum, [s2[1], s1[0], s2[0], s1[1]]);
        shuffled.Seeds.ShouldNotBeNull().Groups.Select(g => g.Report.Runs.Order().ToArray()).ShouldBe(ordered.Seeds!.Groups.Select(g => g.Report.Runs.Order().ToArray()));
        shuffled.Predict(target).Loss.ShouldBe(ordered.Predict(target).Loss);
    }

    [Fact]
    public void Every_corpus_s_runs_form_seed_groups_by_their_seed_field()
    {
        // Real data: every run of every bundled corpus given at once (both seeds where there are two); the corpus's seed
        // field and the runs' names agree, and the groups are its seeds.
        foreach (var dir in Directory.GetDirectories(Path.Combine(TestPaths.RepoRoot, "data", "corpora")).Where(d => File.Exists(Path.Combine(d, "corpus.json"))))
        {
            var corpus = ForecastCorpus.Load(dir);
            var runs = corpus.Runs.Select(r => corpus.LawRunOf(r)).ToArray();
            foreach (var (r, lr) in corpus.Runs.Zip(runs)) SeedGroups.SeedOf(lr with { Seed = null }).ShouldBe(r.Seed, $"{corpus.Name}/{r.Name}");
            var g = SeedGroups.Of(runs);
            for (int i = 0; i < g.Groups.Count; i++)
                g.Groups[i].Where(r => !g.Shared.Contains(r.Name)).Select(r => r.Seed).Distinct().Count().ShouldBe(1, corpus.Name);
            if (g.Groups.Count > 0) g.Groups.Count.ShouldBe(corpus.Runs.Select(r => r.Seed).Distinct().Count(), corpus.Name);
        }
    }

    private sealed class SeedGroupsComparer : IEqualityComparer<SeedGroups>
    {
        public bool Equals(SeedGroups? x, SeedGroups? y) => x!.Groups.Count == y!.Groups.Count && x.Twins.Count == y.Twins.Count && x.Shared.Count == y.Shared.Count && x.Why == y.Why;
        public int GetHashCode(SeedGroups obj) => 0;
    }

    [Fact]
    public void Anneal_fit_of_both_seeds_csvs_prints_each_group_and_predict_reads_the_ensemble_law()
    {
        string law = Path.Combine(Path.GetTempPath(), $"seeds-{Guid.NewGuid():N}.json");
        try
        {
            string F(string f) => Path.Combine(Gcide, f);
            var (code, output, err) = CliRunner.Run("fit", F("cosine_T2000_s1.csv"), F("cosine_T2000_s2.csv"), F("cosine_T4000_s1.csv"), "--law", "momentum", "--target", "val", "--out", law);
            code.ShouldBe(0, err);
            output.ShouldContain("seed ensemble of 2 groups");
            output.ShouldContain("seed group 1: cosine_T2000_s1, cosine_T4000_s1");
            output.ShouldContain("seed group 2: cosine_T2000_s2, cosine_T4000_s1");
            output.ShouldContain("cosine_T4000_s1 has no twin and is fitted in every group");
            var (pcode, pout, perr) = CliRunner.Run("predict", law, "--schedule", "cosine(peak=3e-3, total=3000, warmup=100)", "--json");
            pcode.ShouldBe(0, perr);
            // predict's final loss is the ensemble's: the geometric mean of the two groups' forecasts at the last step
            var fit = FittedLaw.FromJson(File.ReadAllText(law));
            var run = LawRun.ForSchedule("p", Anneal.Schedules.Schedule.Parse("cosine(peak=3e-3, total=3000, warmup=100)").Sample(3000), [2999], "spec");
            double expected = Math.Sqrt(fit.Seeds!.Groups[0].Predict(run).FinalLoss * fit.Seeds.Groups[1].Predict(run).FinalLoss);
            var printed = System.Text.Json.Nodes.JsonNode.Parse(pout)!["final_loss"]!.GetValue<double>();
            printed.ShouldBe(expected, 1e-9 * expected);
        }
        finally { File.Delete(law); }
    }
}
