namespace Anneal.Planning;

/// <summary>Options for <see cref="StepLawFit.Fit"/>.</summary>
/// <param name="Band">Near-optimal band: keep runs with loss &lt;= (1 + Band) * best loss at their (N, D). Step Law used 0.25%.</param>
/// <param name="Bootstrap">Bootstrap resamples (runs resampled within each (N, D) group, band re-applied).</param>
/// <param name="Seed">Resampling seed.</param>
/// <param name="Level">Confidence level of percentile intervals.</param>
/// <param name="HoldAt">Exponents used when the data cannot identify them (default: published Step Law).</param>
public sealed record StepLawFitOptions(double Band = 0.0025, int Bootstrap = 1000, int Seed = 0, double Level = 0.95, StepLaw? HoldAt = null);

/// <summary>Result of a Step-Law-form fit.</summary>
public sealed record StepLawFitResult(StepLaw Law, IReadOnlyList<ParameterEstimate> Parameters, IReadOnlyList<HeldParameter> Held,
                                      int Runs, int Groups, int Kept, double Band, double LrResidualSd, double BatchResidualSd,
                                      int Resamples, int FailedResamples, int Seed, double Level);

/// <summary>
/// Fits the Step Law form (Li et al., arXiv 2503.04715) to a sweep: within each (N, D) keep the runs
/// whose final loss is within the near-optimal band of the best, then ordinary least squares
/// <c>log eta = log c + p log N + q log D</c> over the kept runs, and <c>log B = log c_B + r log D</c>.
/// Exponents the data cannot identify (one N: p; one D: q and r) are held at the reference values
/// and only the prefactors are fitted. Intervals: percentile bootstrap resampling runs within each
/// (N, D) group, so the band selection is redone in every resample.
/// </summary>
public static class StepLawFit
{
    public static StepLawFitResult Fit(IReadOnlyList<ScalingRun> runs, StepLawFitOptions? options = null)
    {
        var o = options ?? new StepLawFitOptions();
        if (!(o.Band >= 0 && o.Band < 1)) throw new InputException($"--band must be in [0, 1), got {o.Band}");
        if (o.Bootstrap < 0) throw new InputException($"--bootstrap must be >= 0, got {o.Bootstrap}");
        foreach (var r in runs)
            if (!(r.Lr > 0) || !(r.Batch > 0)) throw new InputException($"line {r.Line}: the Step Law fit needs lr and batch (> 0) for every run");
        var hold = o.HoldAt ?? StepLaw.Published;
        var groups = runs.GroupBy(r => (r.Params, r.Tokens)).Select(g => g.ToArray()).ToArray();
        int distinctN = runs.Select(r => r.Params).Distinct().Count();
        int distinctD = runs.Select(r => r.Tokens).Distinct().Count();
        bool fitP = distinctN >= 2, fitQ = distinctD >= 2;
        var held = new List<HeldParameter>();
        if (!fitP) held.Add(new("lr exponent on N", hold.LrParamsExponent, "only one model size: the N-dependence of the LR is not identifiable; held at the published Step Law value"));
        if (!fitQ)
        {
            held.Add(new("lr exponent on D", hold.LrTokensExponent, "only one token count: the D-dependence is not identifiable; held at the published Step Law value"));
            held.Add(new("batch exponent on D", hold.BatchTokensExponent, "only one token count: the D-dependence is not identifiable; held at the published Step Law value"));
        }

        var point = Solve(groups, o.Band, fitP, fitQ, hold) ?? throw new InputException(
            "the Step Law fit needs more near-optimal runs than free coefficients; widen --band or add runs at more learning rates/batch sizes");
        var (law, kept, sdLr, sdB) = point;

        int bN = o.Bootstrap;
        var samples = new StepLaw?[bN];
        Parallel.For(0, bN, k =>
        {
            var rng = new Random(ChinchillaFit.MixSeed(o.Seed, k));
            var rs = new ScalingRun[groups.Length][];
            for (int g = 0; g < groups.Length; g++)
            {
                var src = groups[g];
                var dst = new ScalingRun[src.Length];
                for (int i = 0; i < src.Length; i++) dst[i] = src[rng.Next(src.Length)];
                rs[g] = dst;
            }
            samples[k] = Solve(rs, o.Band, fitP, fitQ, hold)?.Law;
        });
        var ok = samples.Where(s => s is not null).Select(s => s!).ToArray();

        var pars = new List<ParameterEstimate>();
        void Add(string name, Func<StepLaw, double> f, bool isFixed)
        {
            double v = f(law);
            if (isFixed || ok.Length == 0) { pars.Add(new(name, v, isFixed ? v : double.NaN, isFixed ? v : double.NaN, isFixed)); return; }
            var (lo, hi) = ChinchillaFit.Interval(ok.Select(f).ToArray(), o.Level);
            pars.Add(new(name, v, lo, hi, false));
        }
        Add("lr coefficient", s => s.LrCoefficient, false);
        Add("lr exponent on N", s => s.LrParamsExponent, !fitP);
        Add("lr exponent on D", s => s.LrTokensExponent, !fitQ);
        Add("batch coefficient", s => s.BatchCoefficient, false);
        Add("batch exponent on D", s => s.BatchTokensExponent, !fitQ);

        return new StepLawFitResult(law, pars, held, runs.Count, groups.Length, kept, o.Band, sdLr, sdB, bN, bN - ok.Length, o.Seed, o.Level);
    }

    private static (StepLaw Law, int Kept, double SdLr, double SdB)? Solve(ScalingRun[][] groups, double band, bool fitP, bool fitQ, StepLaw hold)
    {
        var kept = new List<ScalingRun>();
        foreach (var g in groups)
        {
            double best = g.Min(r => r.Loss);
            foreach (var r in g) if (r.Loss <= best * (1 + band)) kept.Add(r);
        }
        int nLr = 1 + (fitP ? 1 : 0) + (fitQ ? 1 : 0);
        int nB = 1 + (fitQ ? 1 : 0);
        if (kept.Count <= nLr) return null;

        // log eta - (held exponents) * logs = c + sum(free exponents * logs)
        var lrCols = new List<double[]>();
        var lrY = new double[kept.Count];
        var bY = new double[kept.Count];
        var bCols = new List<double[]>();
        for (int i = 0; i < kept.Count; i++)
        {
            var r = kept[i];
            double ln = Math.Log(r.Params), ld = Math.Log(r.Tokens);
            lrY[i] = Math.Log(r.Lr) - (fitP ? 0 : hold.LrParamsExponent * ln) - (fitQ ? 0 : hold.LrTokensExponent * ld);
            bY[i] = Math.Log(r.Batch) - (fitQ ? 0 : hold.BatchTokensExponent * ld);
            var row = new List<double> { 1 };
            if (fitP) row.Add(ln);
            if (fitQ) row.Add(ld);
            lrCols.Add(row.ToArray());
            bCols.Add(fitQ ? [1, ld] : [1]);
        }
        var lrCoef = LeastSquares(lrCols, lrY);
        var bCoef = LeastSquares(bCols, bY);
        if (lrCoef is null || bCoef is null) return null;
        int j = 1;
        double p = fitP ? lrCoef[j++] : hold.LrParamsExponent;
        double q = fitQ ? lrCoef[j++] : hold.LrTokensExponent;
        double r2 = fitQ ? bCoef[1] : hold.BatchTokensExponent;
        var law = new StepLaw(Math.Exp(lrCoef[0]), p, q, Math.Exp(bCoef[0]), r2);
        double ssLr = 0, ssB = 0;
        foreach (var r in kept)
        {
            ssLr += Math.Pow(Math.Log(r.Lr) - Math.Log(law.LearningRate(r.Params, r.Tokens)), 2);
            ssB += Math.Pow(Math.Log(r.Batch) - Math.Log(law.BatchTokens(r.Tokens)), 2);
        }
        return (law, kept.Count, Math.Sqrt(ssLr / Math.Max(1, kept.Count - nLr)), Math.Sqrt(ssB / Math.Max(1, kept.Count - nB)));
    }

    /// <summary>OLS by QR (MathNet); null when the design is rank deficient (e.g. a resample with one size).</summary>
    private static double[]? LeastSquares(List<double[]> rows, double[] yv)
    {
        int p = rows[0].Length;
        var x = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(rows.Count, p, (i, j) => rows[i][j]);
        var y = MathNet.Numerics.LinearAlgebra.Vector<double>.Build.Dense(yv);
        var qr = x.QR();
        // Rank check: a tiny diagonal of R means the columns are (nearly) collinear.
        double maxDiag = 0, minDiag = double.PositiveInfinity;
        for (int i = 0; i < p; i++) { double d = Math.Abs(qr.R[i, i]); maxDiag = Math.Max(maxDiag, d); minDiag = Math.Min(minDiag, d); }
        if (!(minDiag > 1e-10 * maxDiag)) return null;
        var c = qr.Solve(y).ToArray();
        return c.All(double.IsFinite) ? c : null;
    }
}
