using Anneal.Fitting;

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
    private static readonly ParameterName Band = ParameterName.Parameter("band");

    public static StepLawFitResult Fit(IReadOnlyList<ScalingRun> runs, StepLawFitOptions? options = null)
    {
        var o = options ?? new StepLawFitOptions();
        if (!(o.Band >= 0 && o.Band < 1)) throw InputException.Naming($"{Band} must be in [0, 1), got {o.Band}");
        Require.NotNegative(o.Bootstrap, "bootstrap");
        Require.Level(o.Level, "level");
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

        var data = new SweepData(groups);
        var identity = Enumerable.Range(0, data.Count).ToArray();
        var point = data.Solve(identity, o.Band, fitP, fitQ, hold, residuals: true) ?? throw InputException.Naming(
            $"the Step Law fit needs more near-optimal runs than free coefficients; widen {Band} or add runs at more learning rates/batch sizes");
        var (law, kept, sdLr, sdB) = point;

        // Stratified bootstrap: each resample redraws runs within every (N, D) group (so the band
        // selection is redone) into a per-thread index buffer; no per-resample allocation.
        int bN = o.Bootstrap;
        var samples = new StepLaw?[bN];
        Parallel.For(0, bN, () => new int[data.Count], (k, _, idx) =>
        {
            var rng = new Random(ChinchillaFit.MixSeed(o.Seed, k));
            for (int g = 0; g < data.Groups; g++)
            {
                int s0 = data.Start[g], len = data.Start[g + 1] - s0;
                for (int i = 0; i < len; i++) idx[s0 + i] = s0 + rng.Next(len);
            }
            samples[k] = data.Solve(idx, o.Band, fitP, fitQ, hold, residuals: false)?.Law;
            return idx;
        }, _ => { });
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

    /// <summary>Logs of the sweep, runs stored group by group (group g is [Start[g], Start[g+1])).</summary>
    private sealed class SweepData
    {
        public readonly int Count, Groups;
        public readonly int[] Start;
        private readonly double[] _ln, _ld, _llr, _lb, _loss;

        public SweepData(ScalingRun[][] groups)
        {
            Groups = groups.Length;
            Count = groups.Sum(g => g.Length);
            Start = new int[Groups + 1];
            _ln = new double[Count]; _ld = new double[Count]; _llr = new double[Count]; _lb = new double[Count]; _loss = new double[Count];
            int i = 0;
            for (int g = 0; g < Groups; g++)
            {
                Start[g] = i;
                foreach (var r in groups[g])
                {
                    _ln[i] = Math.Log(r.Params); _ld[i] = Math.Log(r.Tokens); _llr[i] = Math.Log(r.Lr); _lb[i] = Math.Log(r.Batch); _loss[i] = r.Loss;
                    i++;
                }
            }
            Start[Groups] = i;
        }

        /// <summary>
        /// Band selection then least squares on centred sums (exact for these small designs and
        /// allocation-free): slopes from the centred normal equations, intercept = mean(y) - slopes . mean(x).
        /// Held exponents are moved to the left-hand side. Null when the design is (nearly) singular.
        /// </summary>
        public (StepLaw Law, int Kept, double SdLr, double SdB)? Solve(int[] idx, double band, bool fitP, bool fitQ, StepLaw hold, bool residuals)
        {
            int nLr = 1 + (fitP ? 1 : 0) + (fitQ ? 1 : 0);
            double hp = fitP ? 0 : hold.LrParamsExponent, hq = fitQ ? 0 : hold.LrTokensExponent, hr = fitQ ? 0 : hold.BatchTokensExponent;
            // Pass 1: keep flags via group best; means.
            int kept = 0;
            double m1 = 0, m2 = 0, my = 0, mb = 0;
            // Each group's near-optimal cut, found once and used by both passes (Solve runs concurrently
            // in the bootstrap, so the buffer is on the stack, not a shared field).
            Span<double> cuts = Groups <= 256 ? stackalloc double[Groups] : new double[Groups];
            for (int g = 0; g < Groups; g++)
            {
                double best = double.PositiveInfinity;
                for (int i = Start[g]; i < Start[g + 1]; i++) best = Math.Min(best, _loss[idx[i]]);
                double cut = cuts[g] = best * (1 + band);
                for (int i = Start[g]; i < Start[g + 1]; i++)
                {
                    int j = idx[i];
                    if (_loss[j] > cut) continue;
                    kept++;
                    m1 += _ln[j]; m2 += _ld[j]; my += _llr[j] - hp * _ln[j] - hq * _ld[j]; mb += _lb[j] - hr * _ld[j];
                }
            }
            if (kept <= nLr) return null;
            m1 /= kept; m2 /= kept; my /= kept; mb /= kept;
            // Pass 2: centred cross-products.
            double s11 = 0, s12 = 0, s22 = 0, s1y = 0, s2y = 0, s2b = 0;
            for (int g = 0; g < Groups; g++)
            {
                double cut = cuts[g];
                for (int i = Start[g]; i < Start[g + 1]; i++)
                {
                    int j = idx[i];
                    if (_loss[j] > cut) continue;
                    double x1 = _ln[j] - m1, x2 = _ld[j] - m2;
                    double y = _llr[j] - hp * _ln[j] - hq * _ld[j] - my, yb = _lb[j] - hr * _ld[j] - mb;
                    s11 += x1 * x1; s12 += x1 * x2; s22 += x2 * x2; s1y += x1 * y; s2y += x2 * y; s2b += x2 * yb;
                }
            }
            const double tiny = 1e-12;
            double p = hold.LrParamsExponent, q = hold.LrTokensExponent, r = hold.BatchTokensExponent;
            if (fitP && fitQ)
            {
                double det = s11 * s22 - s12 * s12;
                if (!(det > tiny * s11 * s22)) return null;
                p = (s22 * s1y - s12 * s2y) / det;
                q = (s11 * s2y - s12 * s1y) / det;
            }
            else if (fitP)
            {
                if (!(s11 > tiny)) return null;
                p = s1y / s11;
            }
            else if (fitQ)
            {
                if (!(s22 > tiny)) return null;
                q = s2y / s22;
            }
            if (fitQ) r = s2b / s22;
            double c = my - (fitP ? p * m1 : 0) - (fitQ ? q * m2 : 0);
            double cb = mb - (fitQ ? r * m2 : 0);
            var law = new StepLaw(Math.Exp(c), p, q, Math.Exp(cb), r);
            if (!residuals) return (law, kept, double.NaN, double.NaN);
            double ssLr = 0, ssB = 0;
            for (int g = 0; g < Groups; g++)
            {
                double best = double.PositiveInfinity;
                for (int i = Start[g]; i < Start[g + 1]; i++) best = Math.Min(best, _loss[idx[i]]);
                for (int i = Start[g]; i < Start[g + 1]; i++)
                {
                    int j = idx[i];
                    if (_loss[j] > best * (1 + band)) continue;
                    double e1 = _llr[j] - (c + p * _ln[j] + q * _ld[j]), e2 = _lb[j] - (cb + r * _ld[j]);
                    ssLr += e1 * e1; ssB += e2 * e2;
                }
            }
            int nB = 1 + (fitQ ? 1 : 0);
            return (law, kept, Math.Sqrt(ssLr / Math.Max(1, kept - nLr)), Math.Sqrt(ssB / Math.Max(1, kept - nB)));
        }
    }
}
