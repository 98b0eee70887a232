namespace Anneal.Laws;

/// <summary>
/// A stack member's constant-rate part extrapolated past the fitted horizon by a power law of fixed exponent <c>a</c> that
/// keeps the member's level and log-area slope at the horizon (session 16's "horizon-matched" candidate,
/// docs/journal/session-16-far-horizons.md; adopted for WSD calibrations in docs/journal/session-17-wsd-question.md).
/// With <c>x</c> a step's LR area over the area at the fitted horizon H (areas summed over the rates up to and including
/// the step; the reference is the run's constant counterpart, <see cref="GainScale.Counterpart"/>, at H) and <c>C(x)</c> the
/// member's forecast of that counterpart at the step where its area reaches <c>x</c>:
/// <c>C'(x) = C(1) - (sigma / a) (1 - x^-a)</c>, <c>sigma = -(C(1.1) - C(1)) / ln 1.1</c> (the slope in ln x at the horizon),
/// and a step whose area ends at <c>x &gt; 1</c> is forecast <c>L + C'(x) - C(x)</c>; the steps with <c>x &lt;= 1</c> are
/// unchanged. Linear in the member's forecasts, so its Jacobian is the same combination of theirs:
/// <c>L + (1 - q) C(1) + q C(1.1) - C(x)</c>, <c>q = (1 - x^-a) / (a ln 1.1)</c>.
/// Why: past about 2x the horizon the constant part carries the WSD question's misses (session 17's diagnosis), and the
/// fitted exponent that sets its curvature is the calibration seed's noise (a 5-14-point validation window); the data pin
/// the level and the slope at the horizon, the fixed exponent supplies the curvature.
/// </summary>
public sealed class HorizonMatch
{
    /// <summary>The fixed exponent <c>a</c> (session 16's choice on its twelve corpora, seed 1; session 17 kept it: 0.4 is the
    /// best pooled on the WSD question under both calibration seeds' constant runs, leave-one-corpus-out too).</summary>
    public const double Exponent = 0.4;

    /// <summary>The area ratio of the slope's second point (<c>C(1.1)</c>).</summary>
    private const double SlopeRatio = 1.1;

    /// <summary>The counterpart run asked at the steps the shift needs: H, the step of area 1.1 x, and one per shifted step.</summary>
    public LawRun Query { get; }

    /// <summary>Per asked step of the run: the index of its C(x) among <see cref="Query"/>'s steps, -1 when it is not shifted.</summary>
    private readonly int[] _at;

    /// <summary>Per asked step: q (<see cref="HorizonMatch"/>'s formula), 0 when it is not shifted.</summary>
    private readonly double[] _q;

    private readonly int _h, _h11;

    private HorizonMatch(LawRun query, int[] at, double[] q, int h, int h11) => (Query, _at, _q, _h, _h11) = (query, at, q, h, h11);

    /// <summary>
    /// The match of <paramref name="run"/>'s forecast past <paramref name="fittedHorizon"/> at exponent <paramref name="a"/>;
    /// null when no asked step's area passes the horizon's (nothing changes), when the horizon is unknown (0) or lies before
    /// the run's peak rate, or when <paramref name="a"/> is not positive.
    /// </summary>
    public static HorizonMatch? For(LawRun run, long fittedHorizon, double a)
    {
        if (!(a > 0) || fittedHorizon <= 0) return null;
        var eta = run.Eta;
        int peak = EtaMath.PeakIndex(eta);
        if (fittedHorizon <= peak) return null;
        double top = eta[peak];
        // areas up to and including a step: the run's own (its rates, none past its end), and the counterpart's (its own
        // rates to the peak, then the peak)
        var prefix = EtaMath.Prefix(eta);
        double Area(long s) => s <= peak ? prefix[s + 1] : prefix[peak + 1] + (s - peak) * top;
        long StepOf(double area) => area <= prefix[peak + 1] ? peak : peak + (long)Math.Round((area - prefix[peak + 1]) / top);
        double areaH = Area(fittedHorizon);
        var ratio = run.Steps.Select(s => prefix[Math.Min(s + 1, eta.Length)] / areaH).ToArray();
        if (ratio.All(x => x <= 1)) return null;
        var steps = new SortedSet<long> { fittedHorizon, StepOf(SlopeRatio * areaH) };
        var stepOf = ratio.Select(x => x > 1 ? StepOf(x * areaH) : -1).ToArray();
        foreach (var s in stepOf) if (s >= 0) steps.Add(s);
        var sorted = steps.ToArray();
        var query = GainScale.Counterpart(run, sorted[^1] + 1) with
        {
            Name = run.Name + "[constant, horizon-matched]", Steps = sorted, GradNorm = null, GradNormInterpolated = false,
        };
        var at = stepOf.Select(s => s >= 0 ? Array.BinarySearch(sorted, s) : -1).ToArray();
        var q = ratio.Select(x => x > 1 ? (1 - Math.Pow(x, -a)) / (a * Math.Log(SlopeRatio)) : 0).ToArray();
        return new HorizonMatch(query, at, q, Array.BinarySearch(sorted, fittedHorizon), Array.BinarySearch(sorted, StepOf(SlopeRatio * areaH)));
    }

    /// <summary>
    /// Adds the shift to the member's forecast <paramref name="loss"/> of the run (one value per asked step) given its
    /// forecast <paramref name="constant"/> of <see cref="Query"/>; with <paramref name="k"/> &gt; 1 the arrays hold k values
    /// per step (a Jacobian's rows, parameter-major within a step), shifted the same way.
    /// </summary>
    public void Apply(Span<double> loss, ReadOnlySpan<double> constant, int k = 1)
    {
        for (int i = 0; i < _at.Length; i++)
        {
            if (_at[i] < 0) continue;
            for (int j = 0; j < k; j++)
                loss[i * k + j] += (1 - _q[i]) * constant[_h * k + j] + _q[i] * constant[_h11 * k + j] - constant[_at[i] * k + j];
        }
    }
}
