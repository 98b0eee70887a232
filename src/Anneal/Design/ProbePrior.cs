using Anneal.Laws;

namespace Anneal.Design;

/// <summary>
/// A law that plays the real training runs in the simulation: it generates the calibration runs' curves and
/// the targets' true final losses. Its "world" is the peak rate and horizon it was fitted at: the targets'
/// schedules are mapped onto it (time stretched so that the longest target horizon becomes
/// <see cref="Horizon"/>, rates scaled so that the targets' peak becomes <see cref="Peak"/>), because a law's
/// parameters mean something only in the units and at the horizons it was fitted on.
/// </summary>
/// <param name="Name">Short name for reports, e.g. <c>mpl-400m</c>.</param>
/// <param name="Law">The law with its parameter values.</param>
/// <param name="Source">Where the law and its values come from.</param>
public sealed record ProbePrior(string Name, FittedLaw Law, string Source)
{
    /// <summary>Peak rate of the runs the law was fitted on; null: the targets' own units (no rescaling).</summary>
    public double? Peak { get; init; }

    /// <summary>Horizon (steps) the longest target is mapped onto; null: the targets' own steps (no stretching).</summary>
    public long? Horizon { get; init; }

    /// <summary>
    /// The law was fitted in the simulation's own world (<see cref="ProbePriors.FromReference"/>: the targets' rates, in
    /// blocks of <see cref="ProbeSimulation.Block"/> steps), so it generates on exactly the rates the fit sees.
    /// </summary>
    public bool InSimulationWorld { get; init; }

    /// <summary>For a prior in the simulation's world: the factor from the targets' rates to the rate units the law was fitted in.</summary>
    public double RateScale { get; init; } = 1;
}


/// <summary>
/// Real runs that the prior laws are fitted on, after mapping them onto the targets' world: steps stretched so
/// that <see cref="Horizon"/> becomes the longest target horizon (the rates keep their units; the priors then
/// see the targets' rates scaled by <see cref="Peak"/> over the targets' peak). Each law of <see cref="Laws"/> fitted there is one prior: they agree where the runs were
/// observed and differ where they extrapolate, which is where a design must be robust.
/// </summary>
/// <param name="Name">Short name, e.g. <c>mpl-400m</c>.</param>
/// <param name="Runs">The runs (per-step rates, logged losses).</param>
/// <param name="Peak">Their peak rate.</param>
/// <param name="Horizon">Their longest horizon (steps).</param>
/// <param name="Source">Where they come from.</param>
public sealed record ProbeReference(string Name, IReadOnlyList<LawRun> Runs, double Peak, long Horizon, string Source)
{
    /// <summary>The law families fitted on the mapped runs, one prior each.</summary>
    public IReadOnlyList<string> Laws { get; init; } = ["momentum(lambda=fit)", "mpl"];

    /// <summary>A corpus's runs of its first seed as a reference (<see cref="CorpusRuns"/>), peak and horizon theirs.</summary>
    public static ProbeReference Of(Accuracy.ForecastCorpus corpus)
    {
        var runs = CorpusRuns(corpus);
        return new ProbeReference(corpus.Name, runs, runs.Max(x => x.Eta.Max()), runs.Max(x => x.Steps[^1] + 1), corpus.Source);
    }

    /// <summary>Every run of the corpus's first seed as the laws see it (a branch from its branch step on).</summary>
    public static LawRun[] CorpusRuns(Accuracy.ForecastCorpus corpus)
    {
        int seed = corpus.Runs.Min(x => x.Seed);
        return corpus.Runs.Where(x => x.Seed == seed).Select(x => corpus.LawRunOf(x, x.BranchOf is null ? 0 : x.BranchStep)).ToArray();
    }
}


/// <summary>The prior laws <c>anneal probe</c> simulates with (docs/probe.md).</summary>
public static class ProbePriors
{
    /// <summary>
    /// One prior per law of <paramref name="reference"/>, fitted (to the optimum, every default start) on its runs
    /// mapped onto the simulation's world for targets of peak <paramref name="peak"/> and longest horizon
    /// <paramref name="horizon"/>: rates block-averaged, logged steps moved to the same fraction of the run
    /// (points landing on one simulated step averaged), points before each run's peak left out. A law whose fit
    /// fails is left out, named in <paramref name="failed"/> with the reason, and so is a reference run that keeps fewer than two logged points once mapped. The laws are fitted in the reference's own
    /// rate units, where they were made to fit (the multi-power law is not equivariant to the units of the rate), and
    /// generate the targets' rates scaled to those units. <paramref name="cancel"/> stops it before any law's fit not yet begun.
    /// </summary>
    public static IReadOnlyList<ProbePrior> FromReference(ProbeReference reference, double peak, long horizon, out IReadOnlyList<string> failed, CancellationToken cancel = default)
    {
        long hs = ProbeSimulation.SimHorizon(horizon);
        double scale = (double)hs / reference.Horizon;
        // A run that keeps fewer than two logged points once shrunk onto the targets' horizon (a short cooldown branch of a
        // long reference) carries nothing a fit can use: it is left out, named in failed; the others still make priors.
        var skipped = new List<string>();
        var runs = reference.Runs.Select(r =>
        {
            try { return Map(r, scale, 1); }
            catch (InputException e) { skipped.Add($"reference run left out: {e.Message}"); return null; }
        }).OfType<LawRun>().ToArray();
        if (runs.Length == 0) throw new InputException($"no run of {reference.Name} keeps two logged points once mapped onto the targets' horizon ({string.Join("; ", skipped)}); give another reference");
        var laws = reference.Laws.Select(LossLaw.Parse).ToArray();
        var priors = new ProbePrior?[laws.Length];
        var why = new string?[laws.Length];
        Fitting.LawFitter.ForEachIndependent(laws.Length, i =>
        {
            if (cancel.IsCancellationRequested) return;
            try
            {
                // one joint fit (the seed ensemble off): the prior is one parameter vector
                var fit = Fitting.LawFitter.Fit(laws[i], runs, new Fitting.FitOptions(Jackknife: false) { SeedEnsemble = false });
                priors[i] = new ProbePrior($"{laws[i].Spec} on {reference.Name}", fit, $"{reference.Source}, mapped to the targets' horizon")
                { InSimulationWorld = true, RateScale = reference.Peak / peak };
            }
            catch (InputException e) { why[i] = $"prior left out, its fit failed: {laws[i].Spec} on {reference.Name}: {e.Message}"; }
        });
        cancel.ThrowIfCancellationRequested();
        failed = skipped.Concat(why.OfType<string>()).ToArray();
        var ok = priors.OfType<ProbePrior>().ToArray();
        if (ok.Length == 0) throw new InputException($"no prior law could be fitted on {reference.Name} ({string.Join("; ", failed)}); give another reference");
        return ok;
    }

    /// <summary>A run moved to a world stretched <paramref name="scale"/> times with rates times <paramref name="lr"/>.</summary>
    internal static LawRun Map(LawRun run, double scale, double lr)
    {
        var eta = ProbeSimulation.Resample(run.Eta, scale, lr);
        int peakAt = EtaMath.PeakIndex(eta);
        var bins = new SortedDictionary<long, (double Sum, int Count)>();
        for (int i = 0; i < run.Count; i++)
        {
            long j = Math.Min(eta.Length - 1, Math.Max(0, (long)Math.Round((run.Steps[i] + 1) * scale) - 1));
            if (j < peakAt) continue;
            bins[j] = bins.TryGetValue(j, out var b) ? (b.Sum + run.Observed![i], b.Count + 1) : (run.Observed![i], 1);
        }
        if (bins.Count < 2) throw new InputException($"{run.Name}: fewer than 2 logged points after the warmup once mapped onto the targets' world");
        return new LawRun
        {
            Name = run.Name, Eta = eta, Steps = bins.Keys.ToArray(), Observed = bins.Values.Select(b => b.Sum / b.Count).ToArray(),
            EtaSource = $"{run.EtaSource}, mapped",
        }.Validate();
    }

    /// <summary>Peak rate of the multi-power-law benchmark runs.</summary>
    public const double MplPeak = 3e-4;

    /// <summary>The longest multi-power-law benchmark run (72,000 steps): the horizon the published laws were checked to.</summary>
    public const long MplHorizon = 72_000;

    /// <summary>
    /// A published multi-power law (<c>mpl-25m</c>, <c>mpl-100m</c>, <c>mpl-400m</c>; Luo et al. 2025; in its own warmup
    /// convention, <see cref="BuiltinLaws.Convention"/>) in its own world: peak 3e-4, 72,000 steps. Null for another name.
    /// </summary>
    public static ProbePrior? Published(string name) =>
        BuiltinLaws.Resolve(name) is { } law
            ? new ProbePrior(name.ToLowerInvariant(), law,
                "published multi-power law, Luo et al. 2025, in its own world (peak 3e-4, 72,000 steps)") { Peak = MplPeak, Horizon = MplHorizon }
            : null;
}
