using System.Globalization;
using Anneal.Curves;
using Anneal.Tuning;

namespace Anneal.Prediction;

/// <summary>
/// The learning rate of every step of a run whose rates were not planned as a schedule spec, continued to its planned
/// length so that its loss curve can be forecast: the rates it realised so far, then an assumed continuation.
/// </summary>
/// <param name="Rates">The rate of every step 0..total-1.</param>
/// <param name="LoggedTo">The last logged step: rates up to it are the run's own.</param>
/// <param name="ExactTo">The last step whose rate is known rather than assumed (at least <paramref name="LoggedTo"/>).</param>
/// <param name="Description">Where the rates come from and what is assumed after <paramref name="ExactTo"/>, and why.</param>
public sealed record RealisedRates(double[] Rates, long LoggedTo, long ExactTo, string Description)
{
    /// <summary>
    /// The rates of an AutoLRS run (<see cref="AutoLrsOptions"/>) logged up to <paramref name="curve"/>'s last step, over
    /// <paramref name="total"/> steps. AutoLRS trains each stage (<see cref="AutoLrsOptions.Plan"/>) at one rate, so the
    /// realised rates are exact per stage: each stage that has started takes the rate logged inside it (logged steps need
    /// not be every step), and the current stage keeps its rate to its end. Later stages' rates do not exist yet: AutoLRS
    /// chooses each by Bayesian optimisation over candidates explored on the model, so nothing plans them; the
    /// continuation holds the current rate to <paramref name="total"/>, the one choice that assumes no decision AutoLRS has
    /// not made, except that the final stage of an annealing run (<see cref="AutoLrsOptions.Anneal"/>, the default) decays
    /// it linearly to 0 as AutoLRS plans (<see cref="AutoLrsOptions.RateAt"/>).
    /// </summary>
    /// <exception cref="InputException">The curve logs no learning rate, or <paramref name="total"/> is past the laws' limit.</exception>
    public static RealisedRates AutoLrs(LossCurve curve, AutoLrsOptions options, long total)
    {
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentNullException.ThrowIfNull(options);
        var where = curve.SourceFile ?? curve.Name;
        if (curve.Lr is not { } lr || curve.Steps.Length == 0) throw new InputException($"{where}: an AutoLRS run's forecast needs its logged lr column (its rates were chosen while training), and this run logs none");
        long last = curve.Steps[^1];
        total = Math.Max(total, last + 1);
        Laws.LawRun.CheckHorizon(total);
        var rates = new double[total];
        var stages = options.Plan(total);
        var final = stages[^1];
        long exactTo = last;
        int li = 0;
        double held = double.NaN;
        foreach (var stage in stages)
        {
            if (stage.Start > last) break;
            long end = stage.Start + stage.Length - 1;
            bool isFinal = stage == final;
            // the stage's chosen rate, from the rate logged at its first logged step (the final decay of an annealing run
            // logs the chosen rate times the decay factor of that step: inverted exactly by ChosenRate)
            // (the warmup's first update logs 0 whatever was chosen: ChosenRate gives NaN there, and the next logged step is read)
            while (li < curve.Steps.Length && (curve.Steps[li] < stage.Start || double.IsNaN(lr[li]) || double.IsNaN(options.ChosenRate(stage, isFinal, lr[li], curve.Steps[li]))) && curve.Steps[li] <= end) li++;
            double rate = li < curve.Steps.Length && curve.Steps[li] <= end && !double.IsNaN(lr[li]) ? options.ChosenRate(stage, isFinal, lr[li], curve.Steps[li]) : held;
            if (double.IsNaN(rate)) throw new InputException($"{where}: no learning rate is logged in AutoLRS stage {stage.Index} (steps {stage.Start}..{end}) or before it; log the lr column more often");
            for (long t = stage.Start; t <= end; t++) rates[t] = options.RateAt(stage, isFinal, rate, t);
            held = rate;
            exactTo = end;
        }
        // Later stages: hold the current rate; the final stage of an annealing run decays it (the decay is planned, the rate is not).
        foreach (var stage in stages.Where(st => st.Start > exactTo))
            for (long t = stage.Start; t < stage.Start + stage.Length; t++) rates[t] = options.RateAt(stage, stage == final, held, t);
        var current = stages.Last(s => s.Start <= last);
        string g(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
        bool decays = options.Anneal && final.Start > exactTo;
        var description = $"{options.Spec} chose its rates while training: the rates it realised to step {last} (one per AutoLRS stage, from the logged lr), "
            + $"and stage {current.Index}'s rate {g(held)} to its end at step {exactTo}"
            + (exactTo + 1 < total
                ? $"; after it AutoLRS will choose each stage's rate on the model, so no planned rates exist: the forecast holds {g(held)}"
                  + (decays ? $" to step {final.Start - 1}, then decays it linearly to 0 over the final stage (steps {final.Start}..{total - 1}), as AutoLRS with anneal=true plans" : $" to step {total - 1}")
                  + " (another rate chosen later would end elsewhere)"
                : "");
        return new RealisedRates(rates, last, exactTo, description);
    }
}
