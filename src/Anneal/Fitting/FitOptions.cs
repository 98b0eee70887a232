using Anneal.Laws;

namespace Anneal.Fitting;

/// <summary>Options of <see cref="LawFitter.Fit"/>.</summary>
/// <param name="HuberDelta">Huber threshold on log-loss residuals (1e-3 as in the multi-power-law reference fit).</param>
/// <param name="EqualRunWeights">Weight every run equally whatever its number of logged points (default: every point equally).</param>
/// <param name="Seed">Seed of the random starts; the fit is deterministic for a given seed.</param>
/// <param name="RandomStarts">Seeded random starts per law on top of the deterministic ones (the law decides how many it offers).</param>
/// <param name="MaxIterations">Levenberg-Marquardt iterations per start.</param>
/// <param name="Jackknife">Refit without each run in turn (when there are two or more) for the between-run part of the band.</param>
/// <param name="ScreenIterations">Iterations each start gets before only the best one is continued.</param>
/// <param name="SkipTransient">Fit from the end of the early transient (<see cref="TransientWindow"/>) when the runs show one.</param>
/// <param name="Method">Levenberg-Marquardt to the optimum, or early-stopped AdamW (the multi-power-law reference procedure); null: the law's <see cref="LossLaw.PreferredMethod"/>.</param>
/// <param name="KeepBestEvaluated">Early-stopped AdamW returns the parameters at which its best objective was evaluated,
/// instead of the reference procedure's parameters just after that step (which reproduce the published fits, but on an
/// oscillating path with few points fit several times worse). <see cref="StackFitter"/> sets it for its members.</param>
public sealed record FitOptions(double HuberDelta = 1e-3, bool EqualRunWeights = false, int Seed = 0, int RandomStarts = 2, int MaxIterations = 300, int ScreenIterations = 40, bool Jackknife = true, FitMethod? Method = null, bool SkipTransient = true, bool KeepBestEvaluated = false)
{
    /// <summary>
    /// Progress messages (long fits report each start and refit as it finishes); null for silence.
    /// Starts and refits run in parallel, so it may be called from several threads: it must be
    /// thread-safe (<c>Console.Error.WriteLine</c> is).
    /// </summary>
    public Action<string>? Progress { get; init; }

    /// <summary>
    /// When the runs have too few logged points for every free parameter, fit the law's reduced form
    /// (<see cref="LossLaw.ReducedForm"/>: the multi-power law holds its drop term's shape) instead of refusing the fit.
    /// <see cref="StackFitter"/> turns it off for its members: inside <c>auto</c> the reduced multi-power law forecast the
    /// WSD question worse than the stack without it (docs/journal/session-15-wsd-end-points.md).
    /// </summary>
    public bool ReducedForm { get; init; } = true;

    /// <summary>
    /// Optimizer steps in one pass over the fitted runs' training data, and where that number came from (null: unknown).
    /// The fit records it with its horizon (<see cref="FittedLaw.Epoch"/>, <see cref="EpochBoundary"/>): forecasts that train
    /// past it when the fitted runs did not get a warning, and no band past <see cref="EpochBoundary.EpochsWithBand"/> epochs.
    /// </summary>
    public (long StepsPerEpoch, string Source)? Epoch { get; init; }

    /// <summary>
    /// A longer log of a constant-rate run at the fitted runs' peak (the fitted constant run logged on, or a pilot), as a
    /// fit sees it; null: none. When the regime check fires (<see cref="RegimeCheck"/>), where this log enters the laws'
    /// regime after the fitted horizon (<see cref="RegimeOnset"/>) is added to the fit's warning: how long calibration
    /// runs must be.
    /// </summary>
    public LawRun? ConstantLog { get; init; }

    /// <summary>
    /// When the runs hold two seeds (or data orders) of the same schedules (<see cref="SeedGroups"/>), fit each seed's runs
    /// apart and forecast the groups' mean (<see cref="Anneal.Laws.SeedEnsemble"/>) instead of one fit of every run; false:
    /// one joint fit, with <see cref="SeedTwins"/>' warning (what every fit did before session 21; the benchmark's joint design).
    /// Runs without twins are fitted as before whatever this says.
    /// </summary>
    public bool SeedEnsemble { get; init; } = true;
}
