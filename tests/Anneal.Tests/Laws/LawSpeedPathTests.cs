using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Laws;

/// <summary>
/// The fast paths of the laws (chunked parallel multi-power-law sums, the fitter's Jacobian cache,
/// parallel starts / refits / pre-fit, one shared state per prediction) against the slow ones they
/// replace: a direct O(T)-per-point transcription of the formula, the same computation forced onto
/// one thread, and the parameters the previous sequential implementation produced.
/// </summary>
public class LawSpeedPathTests
{
    /// <summary>
    /// L(t) summed directly over every step: S_k(t) accumulated backwards from t, no prefix sums,
    /// no list of changes, no SIMD (Luo et al. 2025, eq. for LD; paper convention).
    /// </summary>
    private static double Direct(double[] eta, long t, double[] p)
    {
        int peak = 0;
        for (int i = 1; i < eta.Length; i++) if (eta[i] > eta[peak]) peak = i;
        double s1 = 0, sk = 0, ld = 0;
        for (long k = t; k >= 0; k--)
        {
            s1 += eta[k];
            sk += eta[k];
            if (k <= peak) continue;
            double d = eta[k - 1] - eta[k];
            if (d == 0) continue;
            double g = eta[k] > 0 ? 1 - Math.Pow(p[4] * Math.Pow(eta[k], -p[6]) * sk + 1, -p[5]) : 1;
            ld += d * g;
        }
        return p[0] + p[1] * Math.Pow(s1, -p[2]) - p[3] * ld;
    }

    [Fact]
    public void ChunkedParallelSumsEqualDirectFormulaTo1e9AndSequentialBitForBit()
    {
        // 60k-step cosine: 57k changes (7 chunks of 8192) and ~1M pairs, so the evaluation is split
        // over (point, chunk) items and over the cores.
        var eta = Schedule.Parse("cosine(peak=3e-4, total=60000, warmup=3000, min=3e-5)").Sample(60000);
        long[] steps = [3500, 9000, 16000, 16383, 30000, 45001, 52000, 59999];
        var law = new MultiPowerLaw();
        double[] p = [2.52, 0.659, 0.416, 770.2, 0.528, 0.273, 0.650];
        var state = (MultiPowerLaw.State)law.Prepare(LawRun.ForSchedule("t", eta, steps, "test"));
        state.Pairs.ShouldBeGreaterThan(MultiPowerLaw.State.ParallelPairs);
        var par = new double[steps.Length]; var parJ = new double[7 * steps.Length];
        state.Evaluate(p, par, parJ);
        var seq = new double[steps.Length]; var seqJ = new double[7 * steps.Length];
        using (EvaluationParallelism.Sequential()) state.Evaluate(p, seq, seqJ);
        var valueOnly = new double[steps.Length];
        state.Evaluate(p, valueOnly, default);
        for (int i = 0; i < steps.Length; i++)
        {
            double direct = Direct(eta, steps[i], p);
            Math.Abs(par[i] - direct).ShouldBeLessThan(1e-9 * direct, $"step {steps[i]}");
            par[i].ShouldBe(seq[i]);                 // bit for bit: the summation order does not depend on threads
            valueOnly[i].ShouldBe(par[i]);           // bit for bit: the fitter's Jacobian cache relies on it
        }
        parJ.ShouldBe(seqJ);
    }

    [Fact]
    public void PooledStateGivesItsArraysBackAndRefusesLaterUse()
    {
        var eta = Schedule.Parse("cosine(peak=3e-4, total=5000, warmup=200)").Sample(5000);
        var law = new MultiPowerLaw();
        var state = law.Prepare(LawRun.ForSchedule("t", eta, [4999], "test"));
        double[] p = [2.5, 0.65, 0.43, 520, 2.0, 0.59, 0.63];
        var loss = new double[1];
        state.Evaluate(p, loss, default);
        loss[0].ShouldBe(Direct(eta, 4999, p), 1e-9 * loss[0]);
        state.Release();
        Should.Throw<ObjectDisposedException>(() => state.Evaluate(p, loss, default));
    }

    [Fact]
    public void ResidualCacheReturnsExactlyAFreshJacobianEvaluation()
    {
        var runs = MplData.Runs("25m", MplData.FitSplit);
        var law = new MultiPowerLaw();
        var states = runs.Select(law.Prepare).ToArray();
        double[] x = [3.0, 0.52, 0.5, 360, 2.0, 0.58, 0.64];
        int n = runs.Sum(r => r.Count);
        var cached = new HuberObjective(law, states, new FitOptions());
        var r0 = new double[n];
        cached.Residuals(x, r0, null).ShouldBeTrue();
        var r1 = new double[n]; var j1 = new double[7 * n];
        cached.Residuals(x, r1, j1).ShouldBeTrue();
        var fresh = new HuberObjective(law, states, new FitOptions());
        var r2 = new double[n]; var j2 = new double[7 * n];
        fresh.Residuals(x, r2, j2).ShouldBeTrue();
        r1.ShouldBe(r2); r0.ShouldBe(r2); j1.ShouldBe(j2);
        // A different x must not be served from the cache.
        x[4] = 2.1;
        var r3 = new double[n]; var j3 = new double[7 * n];
        cached.Residuals(x, r3, j3).ShouldBeTrue();
        r3.ShouldNotBe(r2);
    }

    [Fact]
    public void ParallelFitEqualsSequentialFitAndThePreviousImplementation()
    {
        // Reference: the 400M fit as the sequential implementation before this change computed it
        // (main at 6f0b804: starts, refits and pre-fit one after the other, no Jacobian cache,
        // Kahan prefix sums). The fitted parameters may move by at most 1e-6 relative.
        double[] before = [2.519603995509408, 0.6592194796736256, 0.4156729141671822, 770.2104382156741, 0.5282022698528005, 0.27313639031983883, 0.650001880406071];
        double[][] beforeReps =
        [
            [2.5163473481715015, 0.663899837498649, 0.41421976895804014, 729.7681244257965, 0.4917490613255701, 0.31611906681458635, 0.6423422613660967],
            [2.517994417910481, 0.6601624773630717, 0.4143414434183668, 779.6230909509071, 0.451036095886351, 0.2640484296342238, 0.6691279117245014],
            [2.525452842600847, 0.6524369392279712, 0.4200509558795165, 1530.46047177741, 4.0775539595983584E-07, 0.022854547222599806, 3.941874592388717],
        ];
        var runs = MplData.Runs("400m", MplData.FitSplit);
        var par = LawFitter.Fit(new MultiPowerLaw(), runs);
        FittedLaw seq;
        using (EvaluationParallelism.Sequential()) seq = LawFitter.Fit(new MultiPowerLaw(), runs);
        par.Values.ShouldBe(seq.Values);
        par.Report.Objective.ShouldBe(seq.Report.Objective);
        par.Replicates.Length.ShouldBe(3);
        for (int k = 0; k < 3; k++) par.Replicates[k].ShouldBe(seq.Replicates[k]);
        for (int j = 0; j < 7; j++)
        {
            Math.Abs(par.Values[j] - before[j]).ShouldBeLessThan(1e-6 * Math.Abs(before[j]), $"parameter {j}");
            for (int k = 0; k < 3; k++)
                Math.Abs(par.Replicates[k][j] - beforeReps[k][j]).ShouldBeLessThan(1e-6 * Math.Abs(beforeReps[k][j]), $"replicate {k} parameter {j}");
        }
    }

    [Fact]
    public void PredictionBandEqualsDeltaMethodPlusJackknifeComputedIndependently()
    {
        // Band = z sqrt(g' Cov g + (R-1)/R sum (L_r - mean)^2): g by central differences, L_r from
        // LossLaw.Predict of each replicate (a state of its own), not from the shared-state path.
        var law = new MultiPowerLaw();
        double[] v = [2.52, 0.659, 0.416, 770.2, 0.528, 0.273, 0.650];
        var cov = new double[7][];
        for (int a = 0; a < 7; a++) { cov[a] = new double[7]; cov[a][a] = Math.Pow(0.01 * v[a], 2); }
        cov[0][1] = cov[1][0] = 0.3 * 0.01 * v[0] * 0.01 * v[1];
        double[][] reps = [[2.516, 0.664, 0.414, 729.8, 0.492, 0.316, 0.642], [2.518, 0.660, 0.414, 779.6, 0.451, 0.264, 0.669], [2.521, 0.657, 0.417, 790.0, 0.540, 0.280, 0.655]];
        var fit = new FittedLaw(law, v, v.Select((_, a) => Math.Sqrt(cov[a][a])).ToArray(), cov, new FitReport()) { Replicates = reps };
        foreach (var spec in new[] { "cosine(peak=3e-4, total=30000, warmup=1000, min=3e-5)", "wsd(peak=3e-4, total=30000, warmup=1000, decay=0.2, shape=sqrt)" })
        {
            var eta = Schedule.Parse(spec).Sample(30000);
            long[] steps = [1500, 12000, 24500, 29999];
            var pred = fit.Predict(eta, steps);
            LawPrediction seqPred;
            using (EvaluationParallelism.Sequential()) seqPred = fit.Predict(eta, steps);
            pred.Low.ShouldBe(seqPred.Low); pred.High.ShouldBe(seqPred.High);
            var repLoss = reps.Select(r => law.Predict(eta, steps, r)).ToArray();
            var center = law.Predict(eta, steps, v);
            for (int i = 0; i < steps.Length; i++)
            {
                var g = new double[7];
                for (int a = 0; a < 7; a++)
                {
                    double h = 1e-5 * v[a];
                    var up = (double[])v.Clone(); up[a] += h;
                    var dn = (double[])v.Clone(); dn[a] -= h;
                    g[a] = (law.Predict(eta, [steps[i]], up)[0] - law.Predict(eta, [steps[i]], dn)[0]) / (2 * h);
                }
                double var = 0;
                for (int a = 0; a < 7; a++) for (int b = 0; b < 7; b++) var += g[a] * cov[a][b] * g[b];
                double mean = repLoss.Average(l => l[i]);
                var += (reps.Length - 1.0) / reps.Length * repLoss.Sum(l => (l[i] - mean) * (l[i] - mean));
                double half = FittedLaw.NormalQuantile(0.975) * Math.Sqrt(var);
                pred.Loss[i].ShouldBe(center[i], 1e-13 * center[i]);
                // Log-normal band: High = L exp(z sd / L), Low = L exp(-z sd / L).
                pred.High[i].ShouldBe(center[i] * Math.Exp(half / center[i]), 1e-5 * half, $"{spec} step {steps[i]}");
                pred.Low[i].ShouldBe(center[i] * Math.Exp(-half / center[i]), 1e-5 * half, $"{spec} step {steps[i]}");
            }
        }
    }
}
