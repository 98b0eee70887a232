namespace Anneal.Tuning;

/// <summary>
/// A forecast of a trial's final value from its partial curve and complete trials at <em>other</em> peak rates, for
/// the forecast pruner on continuous peak spaces, where no two trials share a peak (docs/tuning.md, "Pruners").
/// <para>
/// Model: the noise-floor form of the momentum law (<see cref="Anneal.Laws.NoiseFloorLaw"/>) in <em>absolute</em> rate
/// units, with a level of its own for every run:
/// <code>
/// y_r(t) = c_r + A * S_r(t)^(-alpha) + sigma * ebar_r(t)^p,   S_r(t) = sum_{k &lt;= t} eta_r(k),   ebar_r = exponential average of eta_r (time constant tau steps)
/// </code>
/// A, sigma, alpha, p and tau are shared by every run of the fit; c_r is each run's own. The level c_r is what the peak
/// does that the laws do not model (a too-high rate trains worse, a too-low one is slow), and is read from the run's own
/// points; the shared terms are what the rest of a schedule does to a run from where it is: the progress its remaining
/// rate area buys (A, alpha) and the noise floor it sheds as its rate falls (sigma ebar^p: SGD's stationary excess
/// loss grows with the rate, Mandt et al. 2017, and a cooldown removes it). Because sigma multiplies the absolute rate,
/// a cooldown from a high peak gains more than one from a low peak, and p (fitted across the peaks of the fit) says by
/// how much. So the complete trials at other peaks teach how a cooldown pays off, and the trial's own points place it.
/// </para>
/// <para>
/// Fit: for each (alpha, p, tau) of a grid, the per-run levels are eliminated by centring each run's points, and A,
/// sigma &gt;= 0 solve a 2x2 least-squares problem. The band is a profile-likelihood band: every grid point whose sum
/// of squares is within chi^2_1(level) residual variances of the best one is plausible, and the band spans their
/// forecasts widened by the linear parameters' standard errors (z quantile). Where the runs cannot tell p or alpha
/// apart (one peak only, say), the band spans what they allow, so it is wide rather than confidently wrong.
/// </para>
/// </summary>
public static class CrossPeakForecast
{
    /// <summary>One run of the fit: its per-step rates (at least through its last report) and its reports from its peak on.</summary>
    /// <param name="Eta">per-step learning rates from step 0</param>
    /// <param name="Steps">report steps (the loss after that step), all at or after the run's peak step</param>
    /// <param name="Values">reported values</param>
    public sealed record Curve(double[] Eta, long[] Steps, double[] Values);

    /// <summary>A forecast: band ends, point forecast, the fit's residual rms (loss units) and the number of plausible grid points.</summary>
    /// <param name="Low">the band's optimistic end</param>
    /// <param name="Mid">the point forecast (the best grid point's)</param>
    /// <param name="High">the band's pessimistic end</param>
    /// <param name="Rms">the fit's residual rms, loss units</param>
    /// <param name="Plausible">grid points inside the profile band</param>
    /// <param name="Noise">the measurement noise of one reported point, from the complete runs' later halves (<see cref="PointNoise"/>)</param>
    public readonly record struct Result(double Low, double Mid, double High, double Rms, int Plausible, double Noise);

    /// <summary>
    /// The standard deviation of one reported value's noise, law-free: the median absolute second difference of the
    /// later half of each complete run's reports (where the curve is nearly straight, so a second difference is noise,
    /// with variance 6 sigma^2 for independent noise), over 0.6745 sqrt(6). Null with too few points.
    /// </summary>
    public static double? PointNoise(IReadOnlyList<Curve> complete)
    {
        var d = new List<double>();
        foreach (var c in complete)
            for (int i = Math.Max(1, c.Values.Length / 2); i + 1 < c.Values.Length; i++)
                d.Add(Math.Abs(c.Values[i + 1] - 2 * c.Values[i] + c.Values[i - 1]));
        if (d.Count < 3) return null;
        return SampleStatistics.Median(d) / (0.6745 * Math.Sqrt(6));
    }

    /// <summary>
    /// <see cref="Forecast"/> with its band widened by the model's own errors on the complete runs: each complete run,
    /// cut at the same fraction of its planned steps as the trial's last report, is forecast from the other complete
    /// runs, and the band's ends are moved out to at least z times the rms of those errors around the point forecast
    /// (cross-validation: the error a forecast of this kind really makes on this study's curves, which the profile band
    /// cannot see when the model is wrong across peaks). From <see cref="OneSidedCases"/> cases on, each end is widened by the errors on its own side: the low end by
    /// the errors where a complete run ended below its forecast, the high end by those where it ended above (each side's
    /// root mean square times sqrt 2, which is the rms of all errors when they are symmetric). The model's large misses
    /// are one-sided: a run at the highest peak forecast from lower ones, or a short cooldown from longer ones, ends
    /// above its forecast by up to 10 times the other errors, and says nothing about how far below its forecast a trial
    /// may end, which is all the low end (the one the pruner reads) is for. Null as <see cref="Forecast"/>, or with fewer
    /// than 3 complete runs.
    /// </summary>
    public static Result? ForecastValidated(IReadOnlyList<Curve> complete, Curve trial, double[] plan, double level)
    {
        if (complete.Count < 3) return null;
        if (Forecast(complete, trial, plan, level) is not { } r) return null;
        double frac = (double)(trial.Steps[^1] + 1) / plan.Length;
        double below = 0, above = 0;
        int k = 0;
        for (int j = 0; j < complete.Count; j++)
        {
            var c = complete[j];
            long cut = (long)Math.Ceiling(frac * c.Eta.Length) - 1;
            int m = c.Steps.Count(s => s <= cut);
            if (m < 1 || m >= c.Steps.Length) continue;
            var others = complete.Where((_, i) => i != j).ToList();
            var part = new Curve(c.Eta, c.Steps[..m], c.Values[..m]);
            if (Forecast(others, part, c.Eta, level) is not { } cv) continue;
            double e = c.Values[^1] - cv.Mid;
            if (e < 0) below += e * e; else above += e * e;
            k++;
        }
        if (k < 2) return null;
        var (qLow, qHigh) = ValidatedWidths(below, above, k, level);
        return r with { Low = Math.Min(r.Low, r.Mid - qLow), High = Math.Max(r.High, r.Mid + qHigh) };
    }

    /// <summary>
    /// The distances below and above a point forecast that a band must reach, from <paramref name="k"/> cross-validation
    /// errors (final minus forecast) whose squares sum to <paramref name="below"/> where the final ended below its forecast
    /// and <paramref name="above"/> where it ended above: z times each side's rms times sqrt 2 from
    /// <see cref="OneSidedCases"/> cases on (for symmetric errors both equal the rms of all), z times the rms of all
    /// errors on both sides with fewer. Shared by the cross-peak forecast and the forecast pruner's law path. With
    /// <paramref name="studentT"/> the quantile is Student's t with k degrees of freedom instead of the normal's: a new
    /// error over the rms of k zero-mean errors is t-distributed, so from 5 cases z = 1.96 covers about 89% two-sided,
    /// t = 2.57 the nominal 95% (the law path's simulation test: z missed the low end in 9% of 120 studies).
    /// </summary>
    public static (double Low, double High) ValidatedWidths(double below, double above, int k, double level, bool studentT = false)
    {
        double zq = studentT ? MathNet.Numerics.Distributions.StudentT.InvCDF(0, 1, k, 0.5 + level / 2) : Anneal.Laws.FittedLaw.NormalQuantile(0.5 + level / 2);
        // One side's rms from fewer than 4 cases is mostly chance (with 3, one error decides it): then both ends take
        // the rms of all errors, as before (on the live sweeps, one-sided ends from 2-3 cases missed the final 11 times
        // in 205 forecasts, against 5 in 232).
        double all = Math.Sqrt((below + above) / k);
        return (zq * (k >= OneSidedCases ? Math.Sqrt(2 * below / k) : all), zq * (k >= OneSidedCases ? Math.Sqrt(2 * above / k) : all));
    }


    /// <summary>Cross-validation cases from which each end of the band is widened by the errors on its own side.</summary>
    public const int OneSidedCases = 4;

    /// <summary>Exponents alpha of the area term.</summary>
    public static readonly double[] AlphaGrid = [0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.3];

    /// <summary>Exponents p of the noise floor in the averaged rate (1: proportional to the rate).</summary>
    public static readonly double[] PGrid = [0.5, 0.75, 1.0, 1.5];

    /// <summary>Time constants of the rate average, as fractions of the trial's planned steps.</summary>
    public static readonly double[] TauGrid = [0.01, 0.03, 0.08, 0.2];

    /// <summary>
    /// Forecasts <paramref name="trial"/>'s value at the last step of <paramref name="plan"/> (its per-step rates over
    /// its planned steps) with <paramref name="complete"/> as the other runs of the fit. Null when the points cannot
    /// determine the model (fewer points than parameters plus 2).
    /// </summary>
    public static Result? Forecast(IReadOnlyList<Curve> complete, Curve trial, double[] plan, double level)
    {
        var runs = complete.Append(trial with { Eta = plan }).ToList();
        int n = runs.Sum(r => r.Steps.Length);
        int dof = n - runs.Count - 2 - 3;
        if (dof < 2 || trial.Steps.Length < 1) return null;
        double refRate = runs.Max(r => r.Eta.Max());
        if (!(refRate > 0)) return null;
        int last = plan.Length - 1;
        int ti = runs.Count - 1;
        double zq = Anneal.Laws.FittedLaw.NormalQuantile(0.5 + level / 2);
        double chi = zq * zq; // chi^2 with one degree of freedom at the level: the profile band of one forecast

        // Per run, the rate area (in steps at the reference rate) at each report, and at the trial's last planned step.
        // The features of every grid point are powers of these: computed once per exponent, not once per grid point.
        var area = runs.Select(r => Area(r.Eta, r.Steps, refRate)).ToList();
        double areaEnd = Area(plan, [last], refRate)[0];
        var xs = AlphaGrid.Select(alpha => area.Select(a => a.Select(v => Math.Pow(v, -alpha)).ToArray()).ToArray()).ToArray();
        var fits = new List<(double Sse, double F, double Var)>();
        foreach (var tauFrac in TauGrid)
        {
            double tau = Math.Max(1, tauFrac * plan.Length);
            var avg = runs.Select(r => Average(r.Eta, r.Steps, tau, refRate)).ToList();
            double avgEnd = Average(plan, [last], tau, refRate)[0];
            var zs = PGrid.Select(p => avg.Select(a => a.Select(v => Math.Pow(v, p)).ToArray()).ToArray()).ToArray();
            for (int ai = 0; ai < AlphaGrid.Length; ai++)
                for (int pi = 0; pi < PGrid.Length; pi++)
                {
                    double alpha = AlphaGrid[ai], p = PGrid[pi];
                    // Centred sums over every run (the per-run level eliminated), and the trial's own means.
                    double sxx = 0, sxz = 0, szz = 0, sxy = 0, szy = 0, syy = 0, xt = 0, zt = 0, yt = 0;
                    for (int r = 0; r < runs.Count; r++)
                    {
                        var run = runs[r];
                        var x = xs[ai][r];
                        var z = zs[pi][r];
                        int m = run.Steps.Length;
                        double mx = 0, mz = 0, my = 0;
                        for (int i = 0; i < m; i++) { mx += x[i]; mz += z[i]; my += run.Values[i]; }
                        mx /= m; mz /= m; my /= m;
                        for (int i = 0; i < m; i++)
                        {
                            double dx = x[i] - mx, dz = z[i] - mz, dy = run.Values[i] - my;
                            sxx += dx * dx; sxz += dx * dz; szz += dz * dz; sxy += dx * dy; szy += dz * dy; syy += dy * dy;
                        }
                        // The trial's level is its latest point: the forecast is where it is now plus what the rest of its
                        // schedule changes, so the early points, which the model fits worst, do not set it.
                        if (r == ti) { xt = x[m - 1]; zt = z[m - 1]; yt = run.Values[m - 1]; }
                    }
                    var (a, s, inv) = NonNegative(sxx, sxz, szz, sxy, szy);
                    double sse = Math.Max(0, syy - 2 * (a * sxy + s * szy) + a * a * sxx + 2 * a * s * sxz + s * s * szz);
                    double dX = Math.Pow(areaEnd, -alpha) - xt, dZ = Math.Pow(avgEnd, p) - zt;
                    double f = yt + a * dX + s * dZ;
                    // Var(f) / residual variance: the trial's level (one point) and the shared coefficients' covariance.
                    double v = 1.0 + dX * dX * inv[0] + 2 * dX * dZ * inv[1] + dZ * dZ * inv[2];
                    fits.Add((sse, f, v));
                }
        }
        var best = fits.MinBy(f => f.Sse);
        double s2 = Math.Max(best.Sse / dof, 1e-12);
        double low = double.PositiveInfinity, high = double.NegativeInfinity;
        int plausible = 0;
        foreach (var f in fits)
        {
            if (f.Sse > best.Sse + chi * s2) continue;
            plausible++;
            double se = Math.Sqrt(f.Var * s2);
            low = Math.Min(low, f.F - zq * se);
            high = Math.Max(high, f.F + zq * se);
        }
        return new Result(low, best.F, high, Math.Sqrt(s2), plausible, PointNoise(complete) ?? Math.Sqrt(s2));
    }

    /// <summary>
    /// Least squares of the centred values on the centred features with A, sigma &gt;= 0 (the better of the free
    /// solution when feasible and the two one-feature fits otherwise), and the inverse normal matrix (xx, xz, zz) of the
    /// active features for the forecast's variance.
    /// </summary>
    private static (double A, double S, double[] Inv) NonNegative(double sxx, double sxz, double szz, double sxy, double szy)
    {
        double det = sxx * szz - sxz * sxz;
        if (det > 1e-12 * Math.Max(1e-300, sxx * szz))
        {
            double a = (szz * sxy - sxz * szy) / det, s = (sxx * szy - sxz * sxy) / det;
            if (a >= 0 && s >= 0) return (a, s, [szz / det, -sxz / det, sxx / det]);
        }
        // One feature at a bound: take the one-feature fit that reduces the sum of squares most.
        double aOnly = sxx > 0 ? Math.Max(0, sxy / sxx) : 0, sOnly = szz > 0 ? Math.Max(0, szy / szz) : 0;
        double gainA = aOnly * sxy, gainS = sOnly * szy;
        return gainA >= gainS
            ? (aOnly, 0, [sxx > 0 ? 1 / sxx : 0, 0, 0])
            : (0, sOnly, [0, 0, szz > 0 ? 1 / szz : 0]);
    }

    /// <summary>The rate area up to and including each step, in steps at <paramref name="refRate"/>.</summary>
    private static double[] Area(double[] eta, long[] steps, double refRate)
    {
        var res = new double[steps.Length];
        double s = 0;
        int k = 0;
        for (int i = 0; i < steps.Length; i++)
        {
            for (; k <= steps[i] && k < eta.Length; k++) s += eta[k] / refRate;
            res[i] = Math.Max(s, 1e-9);
        }
        return res;
    }

    /// <summary>
    /// The exponential average of the rate (relative to <paramref name="refRate"/>) at each step: the run's peak rate
    /// at its peak step (as <see cref="Anneal.Laws.NoiseFloorLaw"/>), then ebar += (eta - ebar) / tau per step.
    /// </summary>
    private static double[] Average(double[] eta, long[] steps, double tau, double refRate)
    {
        var res = new double[steps.Length];
        int top = Anneal.Laws.EtaMath.PeakIndex(eta);
        double w = 1 / tau, e = eta[0] / refRate;
        int j = 0;
        for (int k = 0; k < eta.Length && j < steps.Length; k++)
        {
            e = k <= top ? eta[k] / refRate : e + w * (eta[k] / refRate - e);
            while (j < steps.Length && steps[j] == k) res[j++] = Math.Max(e, 0);
        }
        while (j < steps.Length) res[j++] = Math.Max(e, 0);
        return res;
    }
}
