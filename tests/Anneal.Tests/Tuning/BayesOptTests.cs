using Anneal.Tuning;

namespace Anneal.Tests.Tuning;

/// <summary>
/// GP-BO against random search on the standard test functions with known minima (Dixon &amp; Szegő 1978; values as in
/// Surjanovic &amp; Bingham's Virtual Library of Simulation Experiments): Branin-Hoo on [-5, 10] x [0, 15], minimum
/// 0.397887, and Hartmann-6 on [0, 1]^6, minimum -3.32237. Deterministic seeds; the margins are asserted per seed.
/// </summary>
public class BayesOptTests
{
    internal static double Branin(double x1, double x2)
    {
        double b = 5.1 / (4 * Math.PI * Math.PI), c = 5 / Math.PI, t = 1 / (8 * Math.PI);
        return Math.Pow(x2 - b * x1 * x1 + c * x1 - 6, 2) + 10 * (1 - t) * Math.Cos(x1) + 10;
    }

    private static readonly double[] HA = [1.0, 1.2, 3.0, 3.2];
    private static readonly double[,] HAm = { { 10, 3, 17, 3.5, 1.7, 8 }, { 0.05, 10, 17, 0.1, 8, 14 }, { 3, 3.5, 1.7, 10, 17, 8 }, { 17, 8, 0.05, 10, 0.1, 14 } };
    private static readonly double[,] HP = { { 1312, 1696, 5569, 124, 8283, 5886 }, { 2329, 4135, 8307, 3736, 1004, 9991 }, { 2348, 1451, 3522, 2883, 3047, 6650 }, { 4047, 8828, 8732, 5743, 1091, 381 } };

    internal static double Hartmann6(IReadOnlyList<double> x)
    {
        double s = 0;
        for (int i = 0; i < 4; i++)
        {
            double e = 0;
            for (int j = 0; j < 6; j++) e += HAm[i, j] * Math.Pow(x[j] - 1e-4 * HP[i, j], 2);
            s += HA[i] * Math.Exp(-e);
        }
        return -s;
    }

    private static double BestAfter(ISampler sampler, SearchSpace space, Func<TrialParams, double> f, int trials)
    {
        var history = new List<TrialRecord>();
        for (int n = 0; n < trials; n++)
        {
            var p = sampler.Propose(space, history, n)!;
            history.Add(new TrialRecord(n, p, TrialState.Complete, f(p), []));
        }
        return history.Min(t => t.Value!.Value);
    }

    [Fact]
    public void Test_functions_have_their_published_minima()
    {
        Branin(Math.PI, 2.275).ShouldBe(0.397887, 1e-6);
        Hartmann6([0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]).ShouldBe(-3.32237, 1e-5);
    }

    [Fact]
    public void Gp_beats_random_on_branin_over_five_seeds()
    {
        var space = new SearchSpace([("x1", new UniformDomain(-5, 10)), ("x2", new UniformDomain(0, 15))]);
        double F(TrialParams p) => Branin(p["x1"].Number, p["x2"].Number);
        var gp = new List<double>();
        var rs = new List<double>();
        for (int seed = 1; seed <= 5; seed++)
        {
            gp.Add(BestAfter(new GpSampler(seed), space, F, 25) - 0.397887);
            rs.Add(BestAfter(new RandomSampler(seed), space, F, 25) - 0.397887);
        }
        // Regret after 25 evaluations: GP-BO below 0.05 on every seed; random's median is far above it.
        gp.ShouldAllBe(r => r < 0.05, $"GP regrets {string.Join(", ", gp)}; random {string.Join(", ", rs)}");
        Median(gp).ShouldBeLessThan(0.2 * Median(rs), $"GP regrets {string.Join(", ", gp)}; random {string.Join(", ", rs)}");
    }

    [Fact]
    public void Gp_beats_random_on_hartmann6_over_five_seeds()
    {
        var space = new SearchSpace(Enumerable.Range(1, 6).Select(i => ($"x{i}", (ParameterDomain)new UniformDomain(0, 1))).ToArray());
        double F(TrialParams p) => Hartmann6(p.Items.Select(kv => kv.Value.Number).ToArray());
        var gp = new List<double>();
        var rs = new List<double>();
        for (int seed = 1; seed <= 5; seed++)
        {
            gp.Add(BestAfter(new GpSampler(seed), space, F, 40) + 3.32237);
            rs.Add(BestAfter(new RandomSampler(seed), space, F, 40) + 3.32237);
        }
        int wins = gp.Zip(rs).Count(p => p.First < p.Second);
        wins.ShouldBeGreaterThanOrEqualTo(4, $"GP regrets {string.Join(", ", gp)}; random {string.Join(", ", rs)}");
        Median(gp).ShouldBeLessThan(0.5 * Median(rs), $"GP regrets {string.Join(", ", gp)}; random {string.Join(", ", rs)}");
    }

    [Fact]
    public void Noisy_ei_beats_random_on_noisy_branin()
    {
        var space = new SearchSpace([("x1", new UniformDomain(-5, 10)), ("x2", new UniformDomain(0, 15))]);
        var gp = new List<double>();
        var rs = new List<double>();
        for (int seed = 1; seed <= 5; seed++)
        {
            var noise = new Random(seed);
            double F(TrialParams p) => Branin(p["x1"].Number, p["x2"].Number) + 2 * (noise.NextDouble() - 0.5);
            // Judge by the true value at the chosen (lowest observed) point.
            double TrueAtBest(ISampler s)
            {
                var history = new List<TrialRecord>();
                for (int n = 0; n < 25; n++) { var p = s.Propose(space, history, n); history.Add(new TrialRecord(n, p!, TrialState.Complete, F(p!), [])); }
                var best = history.MinBy(t => t.Value)!.Params;
                return Branin(best["x1"].Number, best["x2"].Number) - 0.397887;
            }
            gp.Add(TrueAtBest(new GpSampler(seed, acquisition: AcquisitionKind.NoisyEi)));
            rs.Add(TrueAtBest(new RandomSampler(seed)));
        }
        Median(gp).ShouldBeLessThan(Median(rs), $"noisy-EI regrets {string.Join(", ", gp)}; random {string.Join(", ", rs)}");
    }

    [Fact]
    public void Batch_proposals_are_distinct_and_spread()
    {
        var space = new SearchSpace([("x1", new UniformDomain(-5, 10)), ("x2", new UniformDomain(0, 15))]);
        var sampler = new GpSampler(3);
        var history = new List<TrialRecord>();
        for (int n = 0; n < 12; n++) { var p = sampler.Propose(space, history, n)!; history.Add(new TrialRecord(n, p, TrialState.Complete, Branin(p["x1"].Number, p["x2"].Number), [])); }
        var batch = Samplers.ProposeBatch(sampler, space, history, 12, 4);
        batch.Count.ShouldBe(4);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < i; j++)
            {
                double dx = (batch[i]["x1"].Number - batch[j]["x1"].Number) / 15, dy = (batch[i]["x2"].Number - batch[j]["x2"].Number) / 15;
                Math.Sqrt(dx * dx + dy * dy).ShouldBeGreaterThan(1e-3, "the believer must push later proposals away from earlier ones");
            }
    }

    /// <summary>
    /// On a finite space (integers and categoricals) the proposal is the exact maximum of log-EI over every untried
    /// point: recomputed here from the sampler's fitted model (<see cref="GpSampler.LastModel"/>) by scoring the
    /// whole space with <see cref="Acquisition.LogExpectedImprovement"/>, independently of the sampler's own search.
    /// </summary>
    [Fact]
    public void On_a_finite_space_the_proposal_is_the_exact_maximum_of_log_ei()
    {
        string[] choices = ["a", "b", "c", "d"];
        var space = new SearchSpace([("i", new IntegerDomain(0, 9)), ("c", new CategoricalDomain(choices))]);
        double F(TrialParams p) => (p["i"].Number - 6.3) * (p["i"].Number - 6.3) / 8 + new[] { 0.4, 0.0, 0.7, 0.2 }[(int)p["c"].Number];
        var sampler = new GpSampler(4);
        var history = new List<TrialRecord>();
        for (int n = 0; n < 9; n++)
        {
            var p = sampler.Propose(space, history, n)!;
            if (n >= sampler.Startup(space))
            {
                var gp = sampler.LastModel!;
                double best = history.Min(t => t.Value!.Value);
                var seen = history.Select(t => t.Params.ToString()).ToHashSet();
                var enc = new double[space.EncodedWidth];
                double top = double.NegativeInfinity;
                TrialParams? argmax = null;
                for (int i = 0; i <= 9; i++)
                    foreach (var (c, k) in choices.Select((c, k) => (c, k)))
                    {
                        var q = new TrialParams([new("i", ParamValue.Integer(i)), new("c", ParamValue.Choice(c, k))]);
                        if (seen.Contains(q.ToString())) continue;
                        space.Encode(q, enc);
                        var (m, v) = gp.Predict(enc);
                        double s = Acquisition.LogExpectedImprovement(m, Math.Sqrt(v), best);
                        if (s > top) { top = s; argmax = q; }
                    }
                p.ShouldBe(argmax, $"trial {n}");
            }
            history.Add(new TrialRecord(n, p, TrialState.Complete, F(p), []));
        }
    }

    /// <summary>
    /// The Sobol startup design never repeats a configuration: on a space of 3 x 3 points (base-2 Sobol points do not
    /// stratify thirds), for a seed whose first six Sobol points collide (checked here with <see cref="SobolSampler"/>
    /// alone), the six startup trials are still six distinct configurations.
    /// </summary>
    [Fact]
    public void The_startup_design_skips_configurations_already_tried()
    {
        var space = new SearchSpace([("i", new IntegerDomain(0, 2)), ("c", new CategoricalDomain(["a", "b", "c"]))]);
        int seed = Enumerable.Range(1, 50).First(s =>
        {
            var sobol = new SobolSampler(s);
            return Enumerable.Range(0, 6).Select(n => sobol.Propose(space, [], n).ToString()).Distinct().Count() < 6;
        });
        var sampler = new GpSampler(seed, startup: 6);
        var history = new List<TrialRecord>();
        for (int n = 0; n < 6; n++) history.Add(new TrialRecord(n, sampler.Propose(space, history, n)!, TrialState.Complete, n, []));
        history.Select(t => t.Params.ToString()).Distinct().Count().ShouldBe(6, string.Join("; ", history.Select(t => t.Params)));
    }

    /// <summary>
    /// Pruned trials count towards the startup design: after one complete trial and Startup - 1 pruned ones (each with
    /// the forecast pruner's forecast), the next proposal is the model's, and it is the exact argmax of log EI over the
    /// finite space's untried points (recomputed here from <see cref="GpSampler.LastModel"/>), with the model holding
    /// all Startup points. Before any trial is complete the proposal is still the Sobol point of its number (checked
    /// against <see cref="SobolSampler"/> alone): the incumbent and the worst value come from complete trials. Trials
    /// pruned without a forecast (entering at the worst complete value) do not count: the proposal is still Sobol's.
    /// </summary>
    [Fact]
    public void Pruned_trials_count_towards_the_startup_design()
    {
        string[] choices = ["a", "b", "c", "d"];
        var space = new SearchSpace([("i", new IntegerDomain(0, 9)), ("c", new CategoricalDomain(choices))]);
        var sampler = new GpSampler(3);
        int startup = sampler.Startup(space);
        var sobol = new SobolSampler(3);
        TrialRecord Pruned(int n, double forecast) => new(n, sobol.Propose(space, [], n), TrialState.Pruned, null, [new Report(99, forecast + 0.3)])
        { Attributes = new Dictionary<string, double> { [ForecastPruner.ForecastKey] = forecast } };
        var onlyPruned = Enumerable.Range(0, startup).Select(n => Pruned(n, 1 + n)).ToList();
        sampler.Propose(space, onlyPruned, startup).ShouldBe(sobol.Propose(space, [], startup));
        sampler.LastModel.ShouldBeNull();

        var history = new List<TrialRecord> { new(0, sobol.Propose(space, [], 0), TrialState.Complete, 1.0, []) };
        history.AddRange(Enumerable.Range(1, startup - 1).Select(n => Pruned(n, 1 + 0.5 * n)));
        var p = sampler.Propose(space, history, startup);
        var gp = sampler.LastModel.ShouldNotBeNull();
        gp.Count.ShouldBe(startup);
        var seen = history.Select(t => t.Params.ToString()).ToHashSet();
        var enc = new double[space.EncodedWidth];
        double best = 1.0; // the complete trial's value; every pruned one entered at max(forecast, 1.0) >= 1.0
        var argmax = Enumerable.Range(0, 10).SelectMany(i => choices.Select((c, k) => new TrialParams([new("i", ParamValue.Integer(i)), new("c", ParamValue.Choice(c, k))])))
            .Where(q => !seen.Contains(q.ToString()))
            .MaxBy(q => { space.Encode(q, enc); var (m, v) = gp.Predict(enc); return Acquisition.LogExpectedImprovement(m, Math.Sqrt(v), best); });
        p.ShouldBe(argmax);

        // Pruned without a forecast (ASHA, median): the value is the worst complete one, a placeholder, and the trial does not count.
        var fresh = new GpSampler(3);
        var placeholders = history.Select(t => t.State == TrialState.Pruned ? t with { Attributes = new Dictionary<string, double>() } : t).ToList();
        fresh.Propose(space, placeholders, startup).ShouldBe(sobol.Propose(space, [], startup));
        fresh.LastModel.ShouldBeNull();
    }

    /// <summary>
    /// Trials to the optimum on a known finite function of the tables' shape (an integer on a log scale x a
    /// four-way choice, 10 x 4 = 40 points, one minimum, a smooth effect of the integer and an additive effect of the
    /// choice): over 20 seeds GP-BO needs at most 12 trials on average and at most 15 on every seed (measured: mean
    /// 9.45, 5-12). Random search needs 40 on average (a geometric draw with p = 1/40), a random order of the 40 points 20.5.
    /// </summary>
    [Fact]
    public void Gp_finds_the_minimum_of_a_finite_function_in_few_trials()
    {
        string[] choices = ["a", "b", "c", "d"];
        var space = new SearchSpace([("i", new IntegerDomain(0, 9)), ("c", new CategoricalDomain(choices))]);
        double F(TrialParams p) => (p["i"].Number - 6.3) * (p["i"].Number - 6.3) / 8 + new[] { 0.4, 0.0, 0.7, 0.2 }[(int)p["c"].Number];
        string optimum = "i=6, c=b";
        var trials = new List<int>();
        for (int seed = 1; seed <= 20; seed++)
        {
            var sampler = new GpSampler(seed);
            var history = new List<TrialRecord>();
            for (int n = 0; n < 40; n++)
            {
                var p = sampler.Propose(space, history, n)!;
                history.Add(new TrialRecord(n, p, TrialState.Complete, F(p), []));
                if (p.ToString() == optimum) break;
            }
            trials.Add(history.Count);
        }
        trials.Average().ShouldBeLessThanOrEqualTo(12, string.Join(", ", trials));
        trials.Max().ShouldBeLessThanOrEqualTo(15, string.Join(", ", trials));
    }

    private static double Median(List<double> v) { var s = v.Order().ToArray(); return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]); }
}
