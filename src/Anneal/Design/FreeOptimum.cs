using Anneal.Optimization;

namespace Anneal.Design;

/// <summary>The free (per-step) optimum of a <see cref="DesignProblem"/>.</summary>
/// <param name="PostWarmup">Optimal rates of steps W..T-1.</param>
/// <param name="Loss">Predicted final loss.</param>
/// <param name="Solver">Iterations, evaluations and stopping reason of the optimiser (all levels).</param>
/// <param name="Levels">One line per coarse-to-fine level: knots, iterations, evaluations, loss.</param>
public sealed record FreeOptimum(double[] PostWarmup, double Loss, LbfgsResult Solver, string Levels = "");

/// <summary>How the free optimum is parameterised.</summary>
public enum FreeMethod
{
    /// <summary>v_i = log eta_i with v non-increasing in [log floor, log peak]; projection by pool-adjacent-violators.</summary>
    LogRates,
    /// <summary>Non-negative decrements u_i = (eta_{i-1} - eta_i)/peak; simple bounds.</summary>
    Decrements,
}
