using Anneal.Laws;

namespace Anneal.Design;

/// <summary>
/// The final loss an <c>auto</c> stack (or a seed ensemble of stacks) forecasts for a design's post-warmup rates, as a design
/// objective: <c>L(eta) = F(warmup ramp, eta)[T-1]</c>, F the fitted law's forecast without its band
/// (<see cref="FittedLaw.ForecastLoss"/>: the stack's own combination <c>sum_i w_i N(L_i)</c> of its members, a seed
/// ensemble's geometric mean of its groups'), the schedule the linear warmup then the rates
/// (<see cref="DesignProblem.FullSchedule"/>): what <see cref="DesignLaw.Predict"/> and <c>anneal predict</c> report for it.
/// The members give no derivative with respect to the rates (the multi-power member alone has one), so
/// <see cref="RateGradient"/> is false: the family searches use values only, and the free optimum is searched over
/// staircases of a few levels, whose gradient <see cref="EvaluateStaircase"/> takes by forward differences, one forecast per
/// level (docs/journal/session-24-designstack.md). A forecast that is not finite and positive (a schedule outside what the
/// law describes) is +infinity: the searches pass it by. Holds no scratch state; one per thread all the same.
/// </summary>
public sealed class StackFinalLoss : IFinalLoss
{
    private readonly FittedLaw _forecaster;
    private readonly DesignProblem _problem;
    private readonly long[] _last;

    /// <summary>The forecast of <paramref name="forecaster"/> at the last step of <paramref name="problem"/>'s schedules.</summary>
    public StackFinalLoss(FittedLaw forecaster, DesignProblem problem)
    {
        _forecaster = forecaster;
        _problem = problem;
        _last = [problem.Total - 1];
    }

    /// <summary>Forecasts evaluated so far (each is one evaluation of every member): the cost of a design through the stack.</summary>
    public int Evaluations { get; private set; }

    /// <inheritdoc />
    public bool RateGradient => false;

    /// <inheritdoc />
    public double Value(ReadOnlySpan<double> eta)
    {
        Evaluations++;
        var run = LawRun.ForSchedule("design", _problem.FullSchedule(eta), _last, "design rates");
        double l = _forecaster.ForecastLoss(run)[0];
        return double.IsFinite(l) && l > 0 ? l : double.PositiveInfinity;
    }

    /// <summary><see cref="Value"/>; a per-step gradient is not available (<see cref="RateGradient"/>) and asking for one throws.</summary>
    public double Evaluate(ReadOnlySpan<double> eta, Span<double> gradient) => gradient.IsEmpty ? Value(eta)
        : throw new NotSupportedException("an auto stack's forecast has no per-rate gradient; design through it searches staircases (EvaluateStaircase) or family parameters");

    /// <summary>
    /// The staircase's forecast; a non-empty <paramref name="gradient"/> receives forward differences
    /// <c>(L(level_j + h_j) - L) / h_j</c>, <c>h_j = 1e-6 level_j</c> (the forecast's rounding, ~1e-15 relative, is then
    /// below 1e-8 of a gradient of order L / level).
    /// </summary>
    public double EvaluateStaircase(ReadOnlySpan<int> starts, ReadOnlySpan<double> levels, int n, Span<double> gradient)
    {
        var eta = new double[n];
        ScheduleDesigner.Expand(starts, levels, eta, n);
        double l = Value(eta);
        if (gradient.IsEmpty) return l;
        var moved = levels.ToArray();
        for (int j = 0; j < levels.Length; j++)
        {
            double h = 1e-6 * Math.Abs(levels[j]);
            if (h == 0) h = 1e-12;
            moved[j] = levels[j] + h;
            ScheduleDesigner.Expand(starts, moved, eta, n);
            double lj = Value(eta);
            gradient[j] = double.IsFinite(l) && double.IsFinite(lj) ? (lj - l) / h : 0;
            moved[j] = levels[j];
        }
        return l;
    }
}
