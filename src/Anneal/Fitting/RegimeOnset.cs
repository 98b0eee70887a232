using System.Globalization;
using Anneal.Laws;

namespace Anneal.Fitting;

/// <summary>
/// Where a constant-rate run enters the regime the laws describe after a fit that ended before it, and so how long
/// calibration runs must be: the rule of the alarm's end. <see cref="RegimeCheck"/> judges a fit by its runs' end; here it
/// judges the user's longer constant-rate run as if it had stopped at each of its logged points from the fit's horizon H
/// on (its points up to that one, the rates up to that step). When the check fires at H (the fit is before the regime), the
/// onset is the first stop after H at which it is quiet and stays quiet at the next stop: the end of the run of alarms
/// that H is in. When the log ends before two quiet stops in a row, the run has not reached the regime
/// (<see cref="Reached"/> false). When the check is quiet at H, the fit is already in the regime and nothing is asked.
/// <para>
/// Why the end of H's alarm and not the last alarm of the log: the check fires at one standard error, so over the dozens of
/// stops of a long log it raises isolated alarms on corpora whose fits are in the regime (gpt-deep's seed-1 constant run
/// fires at 7 of 75 stops past 3,000 steps, mlp-long's seed-2 run at 2 of 16); the two corpora fitted before the regime
/// (gpt-jargon, gpt-perldoc) fire at every stop from H = 599 to the onset, 17 and 14 stops in a row. Why two quiet stops: one can be the end's noise
/// (gpt-perldoc's seed-2 run is quiet at 799, at 1.0 standard errors, between alarms). Nothing is fitted and no constant is
/// chosen on a corpus (docs/journal/session-19-regime.md measures the rule on the fifteen corpora).
/// </para>
/// </summary>
/// <param name="Run">The constant-rate run's name.</param>
/// <param name="Horizon">The fit's horizon H: its constant-rate run's last fitted step.</param>
/// <param name="Step">The onset: the first of two quiet stops in a row after H (H itself when the check is quiet there; the log's last step when it is not reached).</param>
/// <param name="End">The run's last logged step.</param>
/// <param name="Alarms">Stops from H on at which the check fires before the onset.</param>
public sealed record RegimeOnset(string Run, long Horizon, long Step, long End, int Alarms)
{
    /// <summary>Whether the log shows the regime's start: the check is quiet at H, or at two stops in a row after it.</summary>
    public bool Reached { get; init; } = true;

    /// <summary>Whether a fit to the horizon ends before the regime: the calibration runs must be longer.</summary>
    public bool AsksLonger => Alarms > 0;

    /// <summary>
    /// The shortest calibration run, in steps, whose last step is in the regime: the onset's step + 1, or past the log's end
    /// when the log does not reach it; 0 when runs to the horizon already are.
    /// </summary>
    public long ShortestRun => !AsksLonger ? 0 : Reached ? Step + 1 : End + 2;

    /// <summary>What the log asks of calibration runs, in a few words ("calibration runs should reach step N"); null when it asks nothing.</summary>
    public string? Ask => !AsksLonger ? null : Reached
        ? string.Create(CultureInfo.InvariantCulture, $"calibration runs should reach step {Step}")
        : string.Create(CultureInfo.InvariantCulture, $"calibration runs must be longer than {End} steps");

    /// <summary>One sentence for the user: where the regime starts on this run, or that it does not within the run.</summary>
    public string Describe() => !AsksLonger
        ? string.Create(CultureInfo.InvariantCulture, $"{Run} is in the power-law regime the laws assume at step {Horizon} (the regime check is quiet there): calibration runs to step {Horizon} reach it")
        : !Reached
            ? string.Create(CultureInfo.InvariantCulture, $"{Run} has not reached the power-law regime the laws assume by its last logged step {End} (the regime check fires from step {Horizon} on): {Ask}; train it further to find how much")
            : string.Create(CultureInfo.InvariantCulture, $"{Run} enters the power-law regime the laws assume at about step {Step} (the regime check, which fires when it is stopped at {Horizon}, is quiet from there on): {Ask}, {(double)Step / Horizon:0.#}x step {Horizon}");

    /// <summary>The fit's warning when its own <paramref name="regime"/> check fires: its horizon is before the regime, and where this log enters it.</summary>
    public string FitWarning(RegimeCheck regime) => string.Create(CultureInfo.InvariantCulture, $"the fit's horizon (step {regime.Horizon}) is before the regime: {Describe()}");

    /// <summary>
    /// The onset on <paramref name="run"/>, a run whose rate is constant after its warmup (its points from its peak on, as a
    /// fit sees them: <see cref="RegimeService.Read"/>), for a fit that ends at <paramref name="horizon"/>; null when the check
    /// cannot judge the run stopped at <paramref name="horizon"/> (too few points after the peak, no constant-rate phase:
    /// <see cref="RegimeCheck.Of(IReadOnlyList{LawRun})"/>, or no logged point there).
    /// </summary>
    public static RegimeOnset? Of(LawRun run, long horizon)
    {
        if (run.Observed is null || run.Count == 0) return null;
        int at = Array.FindLastIndex(run.Steps, s => s <= horizon);
        // The run stopped at its p-th point has the first p points of the whole run's constant-rate phase (the rates up to
        // a stop are a prefix of the whole run's, and its peak, the first maximum, is the whole run's from the run's first
        // point on): the phase is found once, and the check at each stop reads its first points.
        if (at < 0 || TransientWindow.ConstantPhase([run]) is not { } phase) return null;
        RegimeCheck? At(int points) => RegimeCheck.Of(phase, Math.Min(points, phase.Steps.Length), run.Steps[points - 1]);
        if (At(at + 1) is not { } first) return null;
        long h = run.Steps[at], end = run.Steps[^1];
        if (!first.Fires) return new RegimeOnset(run.Name, h, h, end, 0);
        int alarms = 1;
        long? quiet = null;
        for (int i = at + 1; i < run.Count; i++)
        {
            bool fires = At(i + 1)?.Fires ?? true;
            if (fires) { alarms++; quiet = null; continue; }
            if (quiet is { } q) return new RegimeOnset(run.Name, h, q, end, alarms);
            quiet = run.Steps[i];
        }
        return new RegimeOnset(run.Name, h, end, end, alarms) { Reached = false };
    }
}
