using Anneal.Laws;
using Anneal.Schedules;
using Anneal.Specs;

namespace Anneal.Design;

/// <summary>
/// Schedule design under the Multi-Power Law (Luo et al., arXiv 2503.12811): the free per-step
/// optimum, the best member of each named family, and the standard references.
/// </summary>
public sealed partial class ScheduleDesigner
{
    private readonly IFinalLoss _objective;
    private readonly Func<IFinalLoss> _newObjective;
    private readonly double[] _eta;

    /// <summary>A designer for <paramref name="problem"/> (validated here) minimising its own objective (<see cref="DesignProblem.FinalLoss"/>). Holds scratch buffers: one per thread.</summary>
    public ScheduleDesigner(DesignProblem problem) : this(problem, problem.FinalLoss) { }

    /// <summary>
    /// A designer for <paramref name="problem"/> (validated here) minimising the objectives <paramref name="objective"/> makes
    /// (a fresh one wherever a search needs its own; <see cref="DesignLaw.Objective"/>: an <c>auto</c> stack's forecast). Holds
    /// scratch buffers: one per thread.
    /// </summary>
    public ScheduleDesigner(DesignProblem problem, Func<IFinalLoss> objective)
    {
        Problem = problem.Validate();
        _newObjective = objective;
        _objective = objective();
        _eta = new double[problem.PostWarmupSteps];
    }

    /// <summary>Whether the objective gives per-rate gradients (<see cref="IFinalLoss.RateGradient"/>); without them the free optimum is a staircase (<see cref="Optimize(Action{int, double}?)"/>).</summary>
    public bool RateGradient => _objective.RateGradient;

    /// <summary>The design question.</summary>
    public DesignProblem Problem { get; }

    private long T => Problem.Total;
    private long W => Problem.Warmup;
    private double P => Problem.Peak;

    /// <summary>Predicted final loss of a schedule (rates at steps W..T-1).</summary>
    public double Predict(Schedule schedule)
    {
        schedule.Fill(_eta, W);
        return _objective.Value(_eta);
    }

    /// <summary>Predicted final loss of explicit post-warmup rates.</summary>
    public double Predict(ReadOnlySpan<double> postWarmup) => _objective.Value(postWarmup);

    // Predicted losses by spec: the searches round their parameters to readable specs (3 significant digits, cooldown
    // fractions to 0.001), so the last golden-section steps and the final comparisons often ask for a spec again.
    private readonly Dictionary<string, double> _losses = new(StringComparer.Ordinal);

    private Candidate Make(string label, string spec)
    {
        var s = Schedule.Parse(spec);
        if (!_losses.TryGetValue(spec, out double loss)) _losses[spec] = loss = PredictCandidate(s);
        return new Candidate(label, s, loss);
    }

    /// <summary><see cref="Predict(Schedule)"/> to the bit, from cached factors where the schedule has them.</summary>
    internal double PredictCandidate(Schedule s) =>
        s is IScaledDecay d && d.Warmup <= W ? PredictScaled(d)
        : s is WsdSchedule { Convention: WsdConvention.Standard, WarmupShape: WarmupShape.Linear, DecaySteps: > 0 } w
          && w.Warmup <= W && w.DecayStart >= W && w.Total == T && DecayShapes.IsScaled(w.Shape) ? PredictWsd(w)
        : Predict(s);

    // Cooldown factors of the WSD schedules predicted so far, by shape and length: the WSD grid tries five final rates for
    // each shape and cooldown fraction, and computes each cooldown's cosines or square roots once.
    private readonly Dictionary<(DecayShape Shape, long Steps), double[]> _cooldowns = [];

    /// <summary>
    /// The loss of a WSD schedule whose cooldown starts after the warmup and ends at T, with a scaled shape
    /// (<see cref="DecayShapes.IsScaled"/>): the stable phase at its peak, the cooldown from its shape's cached factors,
    /// as <see cref="WsdSchedule.Fill"/> computes them (progress j / D, then <see cref="DecayShapes.Apply"/>).
    /// </summary>
    private double PredictWsd(WsdSchedule w)
    {
        var key = (w.Shape, w.DecaySteps);
        if (!_cooldowns.TryGetValue(key, out var factors))
        {
            factors = new double[w.DecaySteps];
            for (int j = 0; j < factors.Length; j++) factors[j] = j;
            System.Numerics.Tensors.TensorPrimitives.Divide(factors, (double)w.DecaySteps, factors);
            DecayShapes.Factors(w.Shape, factors);
            _cooldowns[key] = factors;
        }
        int stable = (int)(w.DecayStart - W);
        _eta.AsSpan(0, stable).Fill(w.Peak);
        double min = w.Min, k = DecayShapes.Scale(w.Shape, w.Peak, w.Min);
        var cooldown = _eta.AsSpan(stable);
        for (int j = 0; j < cooldown.Length; j++) cooldown[j] = min + k * factors[j];
        return _objective.Value(_eta);
    }

    // Post-warmup factors of the scaled decays predicted so far (cosine, cosine power), by shape: a search over the final
    // rate (e.g. 36 final rates for each of 7 cosine-power bases) computes each shape's cosines and powers once.
    private readonly Dictionary<object, double[]> _factors = [];

    /// <summary><see cref="Predict(Schedule)"/> of a scaled decay, its rates from its shape's cached factors (the same bits as its Fill).</summary>
    private double PredictScaled(IScaledDecay decay)
    {
        if (!_factors.TryGetValue(decay.FactorKey, out var factors))
        {
            factors = new double[_eta.Length];
            ScaledDecay.FillFactors(decay, factors, W);
            _factors[decay.FactorKey] = factors;
        }
        ScaledDecay.Scale(decay, factors, _eta);
        return _objective.Value(_eta);
    }

    /// <summary>A number as specs print it (shortest round trip).</summary>
    private static string Num(double v) => SpecNumber.Format(v);

    /// <summary>
    /// The references printed beside every design: cosine to 10% of peak, cosine to 0,
    /// linear to zero, and WSD with a 20% 1-sqrt cooldown, at the same T, W and peak.
    /// </summary>
    public IReadOnlyList<Candidate> References() =>
    [
        Make("cosine to 10%", $"cosine(peak={Num(P)}, total={T}, warmup={W}, min={Num(Round(0.1 * P))})"),
        Make("cosine to 0", $"cosine(peak={Num(P)}, total={T}, warmup={W})"),
        Make("linear to zero", $"linear(peak={Num(P)}, total={T}, warmup={W})"),
        Make("wsd 20% sqrt", $"wsd(peak={Num(P)}, total={T}, warmup={W}, decay=0.2, shape=sqrt)"),
    ];
}
