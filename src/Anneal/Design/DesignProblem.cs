using Anneal.Laws;
using Anneal.Schedules;
using static Anneal.ParameterName;

namespace Anneal.Design;

/// <summary>
/// A schedule-design question: under an MPL law, which schedule of <see cref="Total"/> steps with a
/// linear warmup of <see cref="Warmup"/> steps to <see cref="Peak"/> minimises the predicted final
/// loss? Rates after the warmup are free within [max(MinLr, floor), Peak] and non-increasing.
/// </summary>
public sealed record DesignProblem(MplParameters Law, long Total, long Warmup, double Peak, double MinLr = 0, WarmupConvention Convention = WarmupConvention.Paper)
{
    /// <summary>True in the reference convention, where the warmup ramp's changes enter the loss-drop sum.</summary>
    public bool ReferenceWarmup => Convention == WarmupConvention.Reference;

    /// <summary>n = T - W, the number of free post-warmup rates.</summary>
    public int PostWarmupSteps => checked((int)(Total - Warmup));

    /// <summary>S_W = 0.5 * peak * W (paper convention); the ramp's exact sum in the reference convention.</summary>
    public double WarmupArea => ReferenceWarmup ? Ramp().Sum() : MplFinalLoss.LinearWarmupArea(Peak, Warmup);

    /// <summary>The linear warmup's rates at steps 0..W-1 (peak * s / W, as <c>constant(peak, warmup=W)</c> samples them).</summary>
    public double[] Ramp() => new Anneal.Schedules.ConstantSchedule(Peak, Warmup).Sample(checked((int)Warmup));

    /// <summary>
    /// The lowest rate the free optimiser may use: MinLr, but never below 1e-8 * peak because the
    /// law's eta^(-gamma) factor is singular at 0.
    /// </summary>
    public double Floor => Math.Max(MinLr, 1e-8 * Peak);

    /// <summary>
    /// The seed groups' parameter vectors when the law is a seed ensemble (<see cref="SeedEnsemble"/>; <see cref="Law"/> is
    /// then the first group's), else empty. With two or more, <see cref="FinalLoss"/> is the ensemble's objective.
    /// </summary>
    public IReadOnlyList<MplParameters> Seeds { get; init; } = [];

    /// <summary>
    /// A fresh design objective (holds scratch buffers; one per thread): <see cref="Objective"/> for one law; for a seed
    /// ensemble (<see cref="Seeds"/>) the geometric mean of each group's objective, <see cref="SeedEnsembleFinalLoss"/>.
    /// </summary>
    public IFinalLoss FinalLoss() => Seeds.Count < 2 ? Objective()
        : new SeedEnsembleFinalLoss(Seeds.Select(s => (this with { Law = s, Seeds = [] }).Objective()).ToArray());

    /// <summary>A fresh objective of the one parameter vector <see cref="Law"/> (holds scratch buffers; one per thread).</summary>
    public MplFinalLoss Objective() => ReferenceWarmup ? MplFinalLoss.ReferenceConvention(Law, Peak, Ramp(), ContinuousDrops) : new(Law, Peak, WarmupArea) { ContinuousDrops = ContinuousDrops };

    /// <summary>True for a law fitted with <c>drops=continuous</c> (<see cref="MplFinalLoss.ContinuousDrops"/>).</summary>
    public bool ContinuousDrops { get; init; }

    /// <summary>Largest peak learning rate a design accepts: far above any rate the laws are fitted on, and low
    /// enough that the law's sums of rates stay finite at the largest supported <see cref="Total"/>.</summary>
    public const double MaxPeak = 100;

    /// <summary>
    /// Most post-warmup steps a design accepts. The free optimum keeps L-BFGS histories of per-step vectors
    /// (about 0.75 GB and two minutes on two cores at 1e6 steps, docs/reliability.md); a family search evaluates
    /// hundreds of per-step schedules. Both grow linearly, so larger designs are refused up front.
    /// </summary>
    public const int MaxPostWarmupSteps = 1_000_000;

    /// <summary>
    /// Throws <see cref="InputException"/> naming the offending parameter (<c>peak</c>, <c>warmup</c>, <c>total</c>,
    /// <c>min_lr</c>) unless the problem is well posed; a front end renames them (<see cref="InputException.MessageNaming"/>).
    /// </summary>
    public DesignProblem Validate()
    {
        Law.Validate("law");
        foreach (var seed in Seeds) seed.Validate("law");
        if (!(Peak > 0) || !double.IsFinite(Peak) || Peak > MaxPeak) throw InputException.Naming($"{Parameter("peak")} must be a learning rate in (0, {MaxPeak}], got {Peak}");
        if (Warmup < 0) throw InputException.Naming($"{Parameter("warmup")} must be >= 0, got {Warmup}");
        if (Total <= Warmup + 1) throw InputException.Naming($"{Parameter("total")} ({Total}) must exceed {Parameter("warmup")} ({Warmup}) by at least 2");
        if (Total - Warmup > MaxPostWarmupSteps)
            throw InputException.Naming($"{Parameter("total")} - {Parameter("warmup")} = {Total - Warmup} post-warmup steps is more than the {MaxPostWarmupSteps} supported (a design holds several per-step arrays and searches over them; beyond that its memory and time are not bounded)");
        if (!(MinLr >= 0) || MinLr >= Peak) throw InputException.Naming($"{Parameter("min_lr")} must be in [0, {Parameter("peak")}) = [0, {Peak}), got {MinLr}");
        return this;
    }


    /// <summary>Predicted final loss of a schedule (its rates at steps W..T-1 are used).</summary>
    public double Predict(Schedule schedule) => FinalLoss().Value(MplFinalLoss.PostWarmup(schedule, Total, Warmup));

    /// <summary>Per-step rates for steps 0..T-1: the linear warmup peak*t/W, then <paramref name="postWarmup"/>.</summary>
    public double[] FullSchedule(ReadOnlySpan<double> postWarmup)
    {
        var all = new double[Total];
        for (long t = 0; t < Warmup; t++) all[t] = Peak * t / Warmup;
        postWarmup.CopyTo(all.AsSpan((int)Warmup));
        return all;
    }
}
