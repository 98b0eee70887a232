using System.Numerics.Tensors;

namespace Anneal.Laws;

/// <summary>
/// A seed ensemble's predicted final loss (<see cref="SeedEnsemble"/>: one multi-power fit per seed group) as a function of
/// the post-warmup rates, with its exact gradient, so that schedule design minimises what the ensemble forecasts:
/// <code>
/// L = exp(mean_g ln L_g),      dL/deta_j = L mean_g (dL_g/deta_j / L_g)
/// </code>
/// the geometric mean of the groups' final losses (<see cref="SeedEnsemble.Combine"/>'s forecast) and its chain rule, the
/// same for the staircase form (dL/dlevel_j from each group's <see cref="MplFinalLoss.EvaluateStaircase"/>). Each group's
/// objective is <see cref="MplFinalLoss"/> of its own parameters in the same warmup convention. Not thread-safe.
/// </summary>
public sealed class SeedEnsembleFinalLoss : IFinalLoss
{
    private readonly MplFinalLoss[] _groups;
    private double[] _scratch = [];

    /// <summary>The ensemble of <paramref name="groups"/>' objectives (one per seed group; at least one).</summary>
    public SeedEnsembleFinalLoss(IReadOnlyList<MplFinalLoss> groups)
    {
        if (groups.Count == 0) throw new ArgumentException("a seed ensemble has at least one group", nameof(groups));
        _groups = groups.ToArray();
    }

    /// <summary>Each seed group's objective.</summary>
    public IReadOnlyList<MplFinalLoss> Groups => _groups;

    /// <inheritdoc />
    public double Value(ReadOnlySpan<double> eta)
    {
        double logs = 0;
        foreach (var f in _groups) logs += Math.Log(f.Value(eta));
        return Math.Exp(logs / _groups.Length);
    }

    /// <inheritdoc />
    public double Evaluate(ReadOnlySpan<double> eta, Span<double> gradient)
    {
        if (gradient.IsEmpty) return Value(eta);
        var g = Scratch(gradient);
        double logs = 0;
        foreach (var f in _groups) logs += Accumulate(f.Evaluate(eta, g), g, gradient);
        return Finish(logs, gradient);
    }

    /// <inheritdoc />
    public double EvaluateStaircase(ReadOnlySpan<int> starts, ReadOnlySpan<double> levels, int n, Span<double> gradient)
    {
        double logs = 0;
        if (gradient.IsEmpty)
        {
            foreach (var f in _groups) logs += Math.Log(f.EvaluateStaircase(starts, levels, n, default));
            return Math.Exp(logs / _groups.Length);
        }
        var g = Scratch(gradient);
        foreach (var f in _groups) logs += Accumulate(f.EvaluateStaircase(starts, levels, n, g), g, gradient);
        return Finish(logs, gradient);
    }

    /// <summary>A scratch buffer of the gradient's length; clears <paramref name="gradient"/>, which sums the groups' terms.</summary>
    private Span<double> Scratch(Span<double> gradient)
    {
        if (_scratch.Length < gradient.Length) _scratch = new double[gradient.Length];
        gradient.Clear();
        return _scratch.AsSpan(0, gradient.Length);
    }

    /// <summary>Adds grad L_g / L_g to <paramref name="sum"/>; returns ln L_g.</summary>
    private static double Accumulate(double loss, ReadOnlySpan<double> groupGradient, Span<double> sum)
    {
        TensorPrimitives.MultiplyAdd(groupGradient, 1 / loss, sum, sum);
        return Math.Log(loss);
    }

    /// <summary>L = exp(mean ln L_g); the summed grad L_g / L_g becomes L mean_g(grad L_g / L_g).</summary>
    private double Finish(double logs, Span<double> gradient)
    {
        double l = Math.Exp(logs / _groups.Length);
        TensorPrimitives.Multiply(gradient, l / _groups.Length, gradient);
        return l;
    }
}
