using Anneal.Optimization;
using Anneal.Planning;

namespace Anneal.Tests.Planning;

public class ScalingFitTests
{
    private static readonly double[] Sizes = SyntheticRuns.Geometric(1e7, 1e10, Math.Sqrt(10));
    private static readonly double[] Tpp = [2, 5, 10, 20, 50, 100, 200];

    // Closed form: with FLOPs logged as 8 N D (say, attention counted), the frontier must spend each
    // budget as C = 8 N D, i.e. N_opt = G (C/8)^a, D_opt = (C/8)^b / G (Hoffmann et al. 2022, eq. 4, with k = 8).
    [Fact]
    public void Frontier_uses_the_runs_own_flops_per_parameter_token()
    {
        var truth = ChinchillaLaw.EpochRefit;
        var runs = SyntheticRuns.Chinchilla(truth, Sizes, Tpp, sigma: 0, seed: 1).Select(r => r with { Flops = 8 * r.Params * r.Tokens }).ToArray();
        ChinchillaFit.FlopsPerParamToken(runs).ShouldBe(8, 1e-12);
        var fit = ChinchillaFit.Fit(runs, new ChinchillaFitOptions(Bootstrap: 0, Seed: 1, Frontier: [1e22]));
        fit.FlopsPerParamToken.ShouldBe(8, 1e-12);
        var fr = fit.Frontier[0];
        (8 * fr.Params * fr.Tokens).ShouldBe(1e22, 1e-9 * 1e22);
        double g = fit.Law.G;
        fr.Params.ShouldBe(g * Math.Pow(1e22 / 8, fit.Law.ParamsExponent), 1e-9 * fr.Params);
        ChinchillaFit.FlopsPerParamToken(SyntheticRuns.Chinchilla(truth, Sizes, Tpp, sigma: 0, seed: 1)).ShouldBe(6);
    }

    // Closed form: the iso-loss contour D(N) must give back the loss it was drawn for, and not exist
    // where even infinite data cannot reach that loss (l <= E + A N^-alpha).
    [Fact]
    public void Iso_loss_contour_inverts_the_law()
    {
        var law = new ChinchillaLaw(1.69, 406.4, 410.7, 0.34, 0.28);
        foreach (var n in new[] { 1e7, 1e8, 1e9, 1e10 })
            foreach (var l in new[] { 2.2, 2.5, 3.0 })
            {
                double d = IsoLossPlot.TokensFor(law, n, l);
                if (l <= law.E + law.A / Math.Pow(n, law.Alpha)) { double.IsNaN(d).ShouldBeTrue(); continue; }
                law.Loss(n, d).ShouldBe(l, 1e-12 * l);
            }
    }

    // Source of truth: the Epoch refit constants used to generate the runs (recovered-parameter test).
    [Fact]
    public void Chinchilla_fit_recovers_known_constants_from_noisy_runs()
    {
        var truth = ChinchillaLaw.EpochRefit;
        var runs = SyntheticRuns.Chinchilla(truth, Sizes, Tpp, sigma: 0.003, seed: 11);
        var fit = ChinchillaFit.Fit(runs, new ChinchillaFitOptions(Bootstrap: 200, Seed: 5));

        fit.Converged.ShouldBeTrue();
        fit.Held.ShouldBeEmpty();
        fit.Law.E.ShouldBe(truth.E, 0.05);
        fit.Law.Alpha.ShouldBe(truth.Alpha, 0.03);
        fit.Law.Beta.ShouldBe(truth.Beta, 0.03);
        fit.R2.ShouldBeGreaterThan(0.99);

        // Frontier at 5.76e23 (just beyond the largest run): close to the truth's closed-form N_opt,
        // and the interval is ordered around the point estimate.
        var fr = ChinchillaFit.Fit(runs, new ChinchillaFitOptions(Bootstrap: 100, Seed: 5, Frontier: [5.76e23])).Frontier[0];
        double nTrue = truth.ComputeOptimal(5.76e23).Params;
        fr.Params.ShouldBe(nTrue, 0.25 * nTrue);
        fr.Params.ShouldBeInRange(fr.ParamsLow, fr.ParamsHigh);
        (6 * fr.Params * fr.Tokens).ShouldBe(5.76e23, 1e-6 * 5.76e23);
    }

    // Coverage of the 95% percentile bootstrap intervals over independent noise draws: every
    // parameter's interval must contain the generating value in most draws (nominal 95%; we allow
    // down to 75% because percentile intervals under-cover with ~50 runs).
    [Fact]
    public void Chinchilla_bootstrap_intervals_cover_the_truth()
    {
        var truth = ChinchillaLaw.EpochRefit;
        double[] t = [truth.E, truth.A, truth.B, truth.Alpha, truth.Beta];
        var covered = new int[5];
        const int draws = 12;
        for (int seed = 100; seed < 100 + draws; seed++)
        {
            var runs = SyntheticRuns.Chinchilla(truth, Sizes, Tpp, sigma: 0.003, seed: seed);
            var fit = ChinchillaFit.Fit(runs, new ChinchillaFitOptions(Bootstrap: 100, Seed: seed, Starts: 16));
            for (int i = 0; i < 5; i++)
                if (t[i] >= fit.Parameters[i].Low && t[i] <= fit.Parameters[i].High) covered[i]++;
        }
        covered.ShouldAllBe(c => c >= 9, $"covered out of {draws}: {string.Join(", ", covered)}");
    }

    // Noise-free data generated from known constants must be fitted (almost) exactly.
    [Fact]
    public void Chinchilla_fit_is_exact_on_noise_free_runs()
    {
        var truth = ChinchillaLaw.Published;
        var runs = SyntheticRuns.Chinchilla(truth, Sizes, Tpp, sigma: 0, seed: 1);
        var fit = ChinchillaFit.Fit(runs, new ChinchillaFitOptions(Bootstrap: 0));
        fit.Law.Alpha.ShouldBe(truth.Alpha, 2e-3);
        fit.Law.Beta.ShouldBe(truth.Beta, 2e-3);
        fit.Law.E.ShouldBe(truth.E, 5e-3);
        fit.RmseLog.ShouldBeLessThan(1e-4);
    }

    // Determinism: same seed -> identical intervals regardless of thread scheduling.
    [Fact]
    public void Bootstrap_is_deterministic_for_a_seed()
    {
        var runs = SyntheticRuns.Chinchilla(ChinchillaLaw.EpochRefit, Sizes, [5, 20, 80], 0.005, 3);
        var a = ChinchillaFit.Fit(runs, new ChinchillaFitOptions(Bootstrap: 40, Seed: 9, Starts: 8));
        var b = ChinchillaFit.Fit(runs, new ChinchillaFitOptions(Bootstrap: 40, Seed: 9, Starts: 8));
        a.Parameters.Select(p => (p.Low, p.High)).ShouldBe(b.Parameters.Select(p => (p.Low, p.High)));
    }

    // Analytic gradient of the Huber objective vs central finite differences.
    [Fact]
    public void Chinchilla_objective_gradient_matches_finite_differences()
    {
        var runs = SyntheticRuns.Chinchilla(ChinchillaLaw.EpochRefit, Sizes, Tpp, 0.01, 2);
        var x = runs.Select(r => Math.Log(r.Params)).ToArray();
        var y = runs.Select(r => Math.Log(r.Tokens)).ToArray();
        var l = runs.Select(r => Math.Log(r.Loss)).ToArray();
        var w = Enumerable.Repeat(1.0, runs.Count).ToArray();
        // delta large enough that most residuals are in the quadratic zone, small enough that some are not.
        var obj = new ChinchillaObjective(x, y, l, w, [true, true, true, true, true], new double[5], 0.01);
        double[] t = [6.1, 7.5, 0.6, 0.33, 0.37];
        var g = new double[5];
        obj.Evaluate(t, g);
        for (int i = 0; i < 5; i++)
        {
            double h = 1e-6;
            var tp = (double[])t.Clone(); tp[i] += h;
            var tm = (double[])t.Clone(); tm[i] -= h;
            double fd = (obj.Evaluate(tp, new double[5]) - obj.Evaluate(tm, new double[5])) / (2 * h);
            g[i].ShouldBe(fd, 1e-6 * Math.Max(1, Math.Abs(fd)));
        }
    }

    // The optimiser on the Rosenbrock function, whose minimum (1, 1) with value 0 is known in closed form.
    [Fact]
    public void Lbfgs_finds_the_rosenbrock_minimum()
    {
        var opt = new LbfgsWorkspace(2, ChinchillaFit.Solver.Memory);
        double[] x = [-1.2, 1.0];
        var r = opt.Minimize((p, g) =>
        {
            double a = 1 - p[0], b = p[1] - p[0] * p[0];
            g[0] = -2 * a - 400 * p[0] * b;
            g[1] = 200 * b;
            return a * a + 100 * b * b;
        }, x, null, ChinchillaFit.Solver);
        r.Converged.ShouldBeTrue();
        x[0].ShouldBe(1, 1e-5);
        x[1].ShouldBe(1, 1e-5);
    }

    // One model size: A and alpha are not identifiable and must be reported as held fixed;
    // B and beta (the D-dependence) are still recovered.
    [Fact]
    public void Single_model_size_holds_size_parameters_fixed_and_says_so()
    {
        var truth = ChinchillaLaw.Published;
        var runs = SyntheticRuns.Chinchilla(truth, [1e8], [2, 5, 10, 20, 50, 100, 200, 500], 0.0, 4);
        var fit = ChinchillaFit.Fit(runs, new ChinchillaFitOptions(Bootstrap: 20, Seed: 1, Starts: 8));
        fit.Held.Select(h => h.Name).ShouldBe(["A", "alpha"]);
        fit.Held[0].Reason.ShouldContain("1 distinct model size");
        fit.Parameters.Single(p => p.Name == "alpha").Fixed.ShouldBeTrue();
        fit.Law.Alpha.ShouldBe(truth.Alpha);
        // Held at the truth, so the rest is recovered exactly (noise-free).
        fit.Law.Beta.ShouldBe(truth.Beta, 2e-3);
    }

    [Fact]
    public void Too_few_runs_is_an_input_error()
    {
        var runs = SyntheticRuns.Chinchilla(ChinchillaLaw.Published, [1e8, 1e9, 1e10], [20], 0, 1);
        Should.Throw<InputException>(() => ChinchillaFit.Fit(runs, new ChinchillaFitOptions(Bootstrap: 0))).Message.ShouldContain("runs");
    }

    // Step Law synthetic sweep: optimum at eta* = 1.79 N^-0.713 D^0.307 and B* = 0.58 D^0.571 (the
    // published law as ground truth); the sweep grids are absolute, not centred on the optimum.
    [Fact]
    public void StepLaw_fit_recovers_known_exponents_from_a_sweep()
    {
        var truth = new StepLaw(1.79, -0.713, 0.307, 0.58, 0.571);
        var runs = StepSweep(truth, [1e8, 3e8, 1e9], [1e10, 3e10, 1e11], 0.0003, 21);
        var fit = StepLawFit.Fit(runs, new StepLawFitOptions(Bootstrap: 200, Seed: 3));
        fit.Held.ShouldBeEmpty();
        fit.Law.LrParamsExponent.ShouldBe(truth.LrParamsExponent, 0.08);
        fit.Law.LrTokensExponent.ShouldBe(truth.LrTokensExponent, 0.08);
        fit.Law.BatchTokensExponent.ShouldBe(truth.BatchTokensExponent, 0.08);
        // Prediction at an interior point within 10% of truth.
        fit.Law.LearningRate(3e8, 3e10).ShouldBe(truth.LearningRate(3e8, 3e10), 0.1 * truth.LearningRate(3e8, 3e10));
        fit.Law.BatchTokens(3e10).ShouldBe(truth.BatchTokens(3e10), 0.1 * truth.BatchTokens(3e10));
        foreach (var (p, t) in fit.Parameters.Zip(new[] { truth.LrCoefficient, truth.LrParamsExponent, truth.LrTokensExponent, truth.BatchCoefficient, truth.BatchTokensExponent }))
        {
            if (p.Name.Contains("coefficient")) continue; // prefactors are extrapolations to N = D = 1: intervals are wide and skewed
            t.ShouldBeInRange(p.Low, p.High, p.Name);
        }
    }

    // Independent check of the centred-sums least squares: select the band by hand and regress with
    // MathNet's QR-based MultipleRegression.
    [Fact]
    public void StepLaw_regression_matches_mathnet_qr_on_the_kept_runs()
    {
        var runs = StepSweep(new StepLaw(1.5, -0.6, 0.35, 0.7, 0.5), [1e8, 3e8, 1e9], [1e10, 3e10, 1e11], 0.001, 8);
        var kept = runs.GroupBy(r => (r.Params, r.Tokens)).SelectMany(g => { double best = g.Min(r => r.Loss); return g.Where(r => r.Loss <= best * 1.0025); }).ToArray();
        var x = kept.Select(r => new[] { Math.Log(r.Params), Math.Log(r.Tokens) }).ToArray();
        var c = MathNet.Numerics.LinearRegression.MultipleRegression.QR(x, kept.Select(r => Math.Log(r.Lr)).ToArray(), intercept: true);
        var cb = MathNet.Numerics.Fit.Line(kept.Select(r => Math.Log(r.Tokens)).ToArray(), kept.Select(r => Math.Log(r.Batch)).ToArray());
        var fit = StepLawFit.Fit(runs, new StepLawFitOptions(Bootstrap: 0));
        fit.Kept.ShouldBe(kept.Length);
        fit.Law.LrCoefficient.ShouldBe(Math.Exp(c[0]), 1e-9 * Math.Exp(c[0]));
        fit.Law.LrParamsExponent.ShouldBe(c[1], 1e-10);
        fit.Law.LrTokensExponent.ShouldBe(c[2], 1e-10);
        fit.Law.BatchCoefficient.ShouldBe(Math.Exp(cb.A), 1e-9 * Math.Exp(cb.A));
        fit.Law.BatchTokensExponent.ShouldBe(cb.B, 1e-10);
    }

    [Fact]
    public void StepLaw_fit_with_one_size_holds_the_size_exponent()
    {
        var truth = StepLaw.Published;
        var runs = StepSweep(truth, [3e8], [1e10, 3e10, 1e11], 0, 2);
        var fit = StepLawFit.Fit(runs, new StepLawFitOptions(Bootstrap: 0));
        fit.Held.Select(h => h.Name).ShouldBe(["lr exponent on N"]);
        fit.Law.LrParamsExponent.ShouldBe(-0.713);
    }

    private static IReadOnlyList<ScalingRun> StepSweep(StepLaw truth, double[] sizes, double[] tokens, double sigma, int seed) =>
        SyntheticRuns.Sweep(ChinchillaLaw.Published, truth, sizes, tokens,
            SyntheticRuns.Geometric(1e-4, 1e-1, Math.Pow(2, 0.25)), SyntheticRuns.Geometric(1 << 16, 1 << 24, Math.Pow(2, 0.25)),
            kLr: 0.02, kB: 0.01, sigma: sigma, seed: seed);

    [Theory]
    [InlineData("params,tokens,loss\n1e8,2e9,3.1\n", "missing column(s) 'lr', 'batch'")]
    [InlineData("params,tokens,lr,batch,loss\n1e8,2e9,1e-3,1e6,-3\n", "t.csv:2: column 'loss' must be a finite number > 0")]
    [InlineData("params,tokens,lr,batch,loss\n1e8,2e9,1e-3,1e6,NaN\n", "t.csv:2: column 'loss' must be a finite number > 0")]
    [InlineData("# comment\nparams,tokens,lr,batch,loss\n1e8,2e9,x,1e6,3\n", "t.csv:3: column 'lr' value 'x' is not a number")]
    [InlineData("params,tokens,lr,batch,loss\n1e8,2e9,1e-3,3\n", "t.csv:2: 4 fields but the header has 5")]
    [InlineData("params,tokens,lr,batch,loss\n", "header but no runs")]
    public void Bad_runs_csv_gives_file_and_line(string text, string expected)
    {
        var e = Should.Throw<InputException>(() => ScalingRunsCsv.Parse(text.Split('\n'), "t.csv", needLrBatch: true));
        e.Message.ShouldContain(expected);
    }

    [Fact]
    public void Chinchilla_csv_needs_only_params_tokens_loss_and_round_trips()
    {
        var runs = ScalingRunsCsv.Parse(["params,tokens,loss", "1e8,2e9,3.1", "2e8,4e9,3.0"], "t.csv", needLrBatch: false);
        runs.Count.ShouldBe(2);
        runs[1].Line.ShouldBe(3);
        var all = SyntheticRuns.Chinchilla(ChinchillaLaw.Published, [1e8], [20], 0.01, 1);
        var back = ScalingRunsCsv.Parse(ScalingRunsCsv.Format(all, ["c"]).Split('\n'), "x", true);
        back[0].Loss.ShouldBe(all[0].Loss); // "R" formatting round-trips exactly
    }
}
