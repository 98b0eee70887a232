using System.Globalization;
using Anneal.Curves;
using Anneal.Laws;

namespace Anneal.Fitting;

/// <summary>
/// Where the first pass over the training data ends, and what it means for a forecast. Every law's constant-rate part is a
/// power law in the learning-rate area fitted on runs that saw each token once: it assumes fresh data. Past the end of the
/// first epoch the run sees its text again, and the loss may fall less than on fresh data, which no law here models.
/// gpt-code, session 17: its text (3.73 MB of training bytes at 1,536 a step, <c>anneal train</c>'s random windows) is read
/// once by step 2,430; its validation loss flattens after (1.128 at 2,700, 1.104 at 3,150, 1.102 at 3,600) and `auto`'s
/// cooldown forecasts there were 5-8 % too low (docs/journal/session-17-blind-measurement.md).
/// <para>
/// So a forecast of a run that trains past <see cref="StepsPerEpoch"/> when the fitted runs did not (their last point at
/// <see cref="Horizon"/> &lt; <see cref="StepsPerEpoch"/>) carries a warning naming the step (<see cref="ForecastWarning"/>).
/// It keeps its band up to <see cref="EpochsWithBand"/> epochs and gets none past them (<see cref="BandWithheld"/>), as
/// <see cref="RegimeCheck"/> withholds it past the horizon of runs still on a plateau. Why not from the first epoch on:
/// measured in session 18 on the five development corpora besides gpt-jargon (whose regime check withholds those bands
/// anyway) whose runs pass one epoch after fits within it (gpt-code,
/// gpt-deep, gpt-tiny-long, mlp-long, mlp-sgd; up to 2.24 epochs), the `auto` band covered all 39 such forecasts, their
/// errors show no break at the epoch (gpt-code's cooldowns: -1.7 % at 1,200 steps to -4.8 % at 2,200 before it, -5.0 % to
/// -7.7 % after; the three Brown corpora within 0.5 % either side), and gpt-deep's are too high, not too low
/// (docs/journal/session-18-repeated-data.md): withholding them would have cost 39 covered bands for no miss avoided.
/// When the fitted runs already passed an epoch the laws were fitted on repeated data: nothing is said or withheld for it.
/// </para>
/// <para>
/// Where the number comes from: the caller's <c>steps_per_epoch</c> (training tokens / tokens a step; with the engine's
/// random windows, the step by which it has drawn as many tokens as its text holds), or the logs' epoch column
/// (<see cref="FromLogs"/>): Hugging Face's trainer_state.json logs the epochs completed, <c>epoch = step / steps_per_epoch</c>
/// (a fraction); Lightning's CSV logs the 0-based index of the current epoch.
/// </para>
/// </summary>
/// <param name="StepsPerEpoch">Optimizer steps in one pass over the training data: steps 0..StepsPerEpoch-1 see it once.</param>
/// <param name="Horizon">The last step any fitted point reached.</param>
/// <param name="Source">Where <paramref name="StepsPerEpoch"/> came from, for messages (<c>steps_per_epoch</c>, or a log's epoch column).</param>
public sealed record EpochBoundary(long StepsPerEpoch, long Horizon, string Source)
{
    /// <summary>
    /// Rounding of an epoch column that holds fractions: Hugging Face's Trainer wrote <c>round(epoch, 2)</c> in its older
    /// versions (unrounded since); an epoch within this much of <c>step / steps_per_epoch</c> agrees with it.
    /// </summary>
    public const double FractionRounding = 0.005;

    /// <summary>
    /// Epochs up to which a forecast keeps its band: 4. Muennighoff et al. 2023 (Scaling Data-Constrained Language Models,
    /// NeurIPS) find that up to 4 epochs of repeated data change the loss negligibly against unique data, and the value of
    /// a repeat falling fast beyond: their effective data <c>D' = U (1 + R* (1 - exp(-R / R*)))</c>, U the unique tokens, R the
    /// repeats (epochs - 1), fitted R* = 15.4, makes 4 epochs worth 3.73 of fresh data (93 %) and 2.24 epochs, the furthest
    /// the development corpora reach, 2.19 (98 %). The band's calibration has seen no forecast past 2.24 epochs, and past 4
    /// the loss is known to part from the fresh-data law, so none is offered there.
    /// </summary>
    public const double EpochsWithBand = 4;

    /// <summary>Whether the fitted runs already trained past the first epoch: the laws were fitted on repeated data.</summary>
    public bool FittedPast => Horizon >= StepsPerEpoch;

    /// <summary>The step from which a forecast gets no band: the end of epoch <see cref="EpochsWithBand"/>.</summary>
    public long BandEnd => (long)Math.Min(long.MaxValue / 2, Math.Ceiling(EpochsWithBand * StepsPerEpoch));

    /// <summary>Whether a forecast of <paramref name="run"/> trains past the first epoch (its last step at or after <see cref="StepsPerEpoch"/>) when the fitted runs did not.</summary>
    public bool Repeats(LawRun run) => !FittedPast && run.Count > 0 && run.Steps[^1] >= StepsPerEpoch;

    /// <summary>What the fit says about it, one sentence.</summary>
    public string Summary => FittedPast
        ? string.Create(CultureInfo.InvariantCulture, $"the first epoch of the training data ends at step {StepsPerEpoch} ({Source}), within the fitted runs (their last point at step {Horizon}): the laws were fitted on repeated data")
        : string.Create(CultureInfo.InvariantCulture, $"the first epoch of the training data ends at step {StepsPerEpoch} ({Source}), after the fitted runs (their last point at step {Horizon}): forecasts past it assume fresh data and say so; past {EpochsWithBand:0} epochs (step {BandEnd}) they get no band");

    /// <summary>
    /// The warning a forecast of <paramref name="run"/> carries when it trains past the first epoch and the fitted runs did
    /// not (<see cref="Repeats"/>); null otherwise.
    /// </summary>
    public string? ForecastWarning(LawRun run) => Repeats(run)
        ? string.Create(CultureInfo.InvariantCulture,
            $"the run trains past step {StepsPerEpoch}, where the first epoch of its training data ends ({Source}), and the fitted runs end before it (step {Horizon}): forecasts past step {StepsPerEpoch} assume fresh data; repeated data usually flattens the loss, so this one may be too low ({(double)(run.Steps[^1] + 1) / StepsPerEpoch:0.##} epochs)")
        : null;

    /// <summary>
    /// Why a forecast of <paramref name="run"/> gets no band: null unless it trains past <see cref="EpochsWithBand"/> epochs
    /// (its last step at or after <see cref="BandEnd"/>) and the fitted runs did not pass the first. Whole or absent, as
    /// <see cref="RegimeCheck.BandWithheld(LawRun, double)"/>.
    /// </summary>
    public string? BandWithheld(LawRun run, double level) => Repeats(run) && run.Steps[^1] >= BandEnd
        ? string.Create(CultureInfo.InvariantCulture,
            $"no {level * 100:G4}% band: the run trains past step {BandEnd}, {EpochsWithBand:0} epochs of its training data ({StepsPerEpoch} steps each, {Source}), and the fitted runs end within the first (step {Horizon}); so much repeated data is worth clearly less than fresh, which the laws do not model, so how far it is off is unknown")
        : null;

    /// <summary>
    /// <paramref name="law"/> with the steps per epoch a prediction gives (<paramref name="given"/>, the caller's
    /// <c>steps_per_epoch</c>; null: the law as it is). The fitted horizon is the one the law file records (with its regime
    /// check, or an <c>auto</c> law's <see cref="FittedLaw.FittedHorizon"/>). Throws <see cref="InputException"/> for a value
    /// that is not positive, one that contradicts the law file's own, or a law file that records no fitted horizon.
    /// </summary>
    public static FittedLaw Given(FittedLaw law, long? given)
    {
        if (given is not { } g) return law;
        var option = Checked(g);
        if (law.Epoch is { } known)
            return known.StepsPerEpoch == g ? law
                : throw InputException.Naming($"{option} {g} contradicts the law file's {known.StepsPerEpoch} steps per epoch (from {known.Source} at fit time); leave {option} out, or refit with the right one");
        long horizon = law.Regime?.Horizon ?? (law.FittedHorizon > 0 ? law.FittedHorizon
            : throw InputException.Naming($"{option}: this law file does not record the last step its runs reached (only auto laws and laws with a regime check do), so whether they passed the first epoch is unknown; give {option} when fitting instead"));
        return law with { Epoch = new EpochBoundary(g, horizon, "steps_per_epoch") };
    }

    /// <summary>
    /// The steps per epoch one log's epoch column allows, as a closed interval of whole steps [<c>Low</c>, <c>High</c>]
    /// (<c>High</c> = <see cref="long.MaxValue"/> when the log never reaches the end of the first epoch), and what it read.
    /// A column of epochs completed (any fraction, or a Hugging Face trainer state): each row gives
    /// <c>step / (epoch + </c><see cref="FractionRounding"/><c>) &lt;= P &lt;= (step + 1) / (epoch - </c><see cref="FractionRounding"/><c>)</c>,
    /// the step counting updates (Hugging Face) or naming the last one, 0-based (<c>anneal train</c>'s log, whose epoch after
    /// update s is <c>(s + 1) / P</c>). A column of whole epoch indices (Lightning, 0-based):
    /// a row of epoch e at step s has <c>e P &lt;= s + 1</c> and <c>s &lt; (e + 1) P</c> (one step either way for the
    /// loggers' 0- or 1-based steps). Null: no epoch column, or no row with a step after 0.
    /// </summary>
    public static (long Low, long High, string Reading)? Interval(LossCurve curve)
    {
        if (curve.Epochs is not { } epochs) return null;
        bool completed = curve.Format == Curves.Logs.HfTrainerState.FormatName || epochs.Any(e => double.IsFinite(e) && e != Math.Floor(e));
        double lo = 0, hi = double.PositiveInfinity;
        int rows = 0;
        for (int i = 0; i < curve.Count; i++)
        {
            double e = epochs[i], s = curve.Steps[i];
            if (!double.IsFinite(e) || e < 0 || s <= 0) continue;
            rows++;
            if (completed)
            {
                lo = Math.Max(lo, s / (e + FractionRounding));
                if (e > FractionRounding) hi = Math.Min(hi, (s + 1) / (e - FractionRounding));
            }
            else
            {
                lo = Math.Max(lo, s / (e + 1));
                if (e > 0) hi = Math.Min(hi, (s + 1) / e);
            }
        }
        if (rows == 0) return null;
        // whole steps: at least lo (completed epochs), more than lo (an index); at most hi
        long low = Math.Max(1, completed ? (long)Math.Ceiling(lo - 1e-9) : (long)Math.Floor(lo) + 1), high = double.IsFinite(hi) ? (long)Math.Floor(hi + 1e-9) : long.MaxValue;
        // a fraction of a step per epoch (random windows: training tokens / tokens a step, as anneal train's log) can lie
        // strictly between two whole numbers: the epoch ends within update low-1, so low steps per epoch (ceil(P))
        if (completed && low > high && lo <= hi) high = low;
        // the last row read, to show in messages
        int last = Array.FindLastIndex(epochs, e => double.IsFinite(e) && e >= 0);
        string reading = string.Create(CultureInfo.InvariantCulture,
            $"the epoch column of {curve.SourceFile ?? curve.Name} ({(completed ? "epochs completed" : "0-based epoch index")}, {epochs[last]:0.####} at step {curve.Steps[last]})");
        return (low, high, reading);
    }

    /// <summary>
    /// The parameter <c>steps_per_epoch</c>, for messages, after refusing a <paramref name="given"/> value that is not
    /// positive (<see cref="InputException"/> naming it); null passes.
    /// </summary>
    private static ParameterName Checked(long? given)
    {
        var option = ParameterName.Parameter("steps_per_epoch");
        if (given is <= 0) throw InputException.Naming($"{option} must be a whole number of steps >= 1 (training tokens / tokens per step), got {given}");
        return option;
    }

    /// <summary>
    /// The steps per epoch of runs fitted together, and where it came from: <paramref name="given"/> (the caller's
    /// <c>steps_per_epoch</c>) when set, else the smallest whole number every log's epoch column allows (<see cref="Interval"/>:
    /// the earliest step the data may repeat); null when neither says (no epoch column, or logs that never reach the end of
    /// the first epoch). Throws <see cref="InputException"/> for a <paramref name="given"/> that is not positive, logs whose
    /// epoch columns disagree, or a <paramref name="given"/> value they contradict.
    /// </summary>
    public static (long StepsPerEpoch, string Source)? FromLogs(IReadOnlyList<LossCurve> curves, long? given)
    {
        var option = Checked(given);
        long low = 1, high = long.MaxValue;
        string? lowFrom = null, highFrom = null;
        foreach (var c in curves)
        {
            if (Interval(c) is not { } iv) continue;
            if (iv.Low > low) { low = iv.Low; lowFrom = iv.Reading; }
            if (iv.High < high) { high = iv.High; highFrom = iv.Reading; }
            if (low > high)
                throw new InputException(string.Create(CultureInfo.InvariantCulture,
                    $"the runs' epoch columns disagree: {lowFrom} means at least {low} steps per epoch, {highFrom} at most {high}; fit runs that train on the same data at the same batch size"));
        }
        if (given is { } g)
        {
            if (g < low || g > high)
                throw InputException.Naming(
                    $"{option} {g} contradicts {(g < low ? lowFrom : highFrom)}, which means {(g < low ? $"at least {low}" : $"at most {high}")} steps per epoch; leave {option} out to use the logs' epochs, or correct it");
            return (g, "steps_per_epoch");
        }
        if (high == long.MaxValue) return null;
        return (low, lowFrom ?? highFrom!);
    }
}
