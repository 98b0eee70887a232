using System.Globalization;
using Anneal.Specs;

namespace Anneal.Tuning;

/// <summary>
/// Settings of AutoLRS (Jin et al., "AutoLRS: Automatic Learning-Rate Schedule by Bayesian Optimization on the Fly",
/// ICLR 2021), spec <c>autolrs(min=, max=, tau=, tau_max=8 tau, k=10)</c>: training runs in stages of τ steps at one
/// constant rate each; before a stage, <see cref="Candidates"/> rates in [<see cref="Min"/>, <see cref="Max"/>] are each
/// tried for τ/10 steps from the stage's starting state, their loss after τ steps is forecast by an exponential fit
/// (<see cref="ExponentialForecast"/>), Bayesian optimisation over log rate picks the next candidate
/// (<see cref="AutoLrsSearch"/>), and the stage trains at the rate with the lowest forecast. τ doubles after each stage
/// up to <see cref="TauMax"/>. Not a <see cref="Schedules.Schedule"/>: its rates depend on the model, so only a
/// trainer can run it.
/// With <see cref="Anneal"/> (the default) four changes to the paper aim at the loss at the end of the run rather
/// than at the end of each stage: every candidate is also cooled down (its rate decayed linearly to 0 over another τ'
/// steps) and its score credits the validation loss that cooldown removed (<see cref="AutoLrsCandidate.AnnealDrop"/>);
/// among candidates whose scores the window cannot tell apart the highest rate wins
/// (<see cref="AutoLrsController.Choose"/>); and the stage that reaches past the run's midpoint is the last one, its
/// chosen rate decaying linearly to 0 over the rest of the run (<see cref="Plan"/>, <see cref="RateAt"/>). A
/// constant-rate forecast over a short window charges a high rate for the noise floor it trains at, which the final
/// decay removes; compared that way the greedy stage choice picked rates 4-27x below the best hand-tuned peak on the
/// MLP (the short-horizon bias, Wu et al. 2018). The fourth: the first stage is a warmup (<see cref="WarmsUp"/>).
/// <c>anneal=false</c> is the paper's method.
/// </summary>
public sealed record AutoLrsOptions(double Min, double Max, long Tau, long TauMax, int Candidates = AutoLrsOptions.DefaultCandidates, bool Anneal = true, bool? Warmup = null)
{
    /// <summary>
    /// Whether the first stage is a warmup: its chosen rate is reached by a linear ramp from 0 over the stage (the
    /// library's <see cref="Schedules.ConstantSchedule"/> warmup) and chosen by the lowest score
    /// (<see cref="AutoLrsController.Choose"/>). Default: on with <see cref="Anneal"/>, off in the paper's method. On
    /// gpt-tiny a constant 0.0124 from initialisation left the run at validation loss 2.93 after 100 steps (1.49e-3:
    /// 2.52) and it never recovered (2.48 at 2000), while a 100-step warmup to 1e-2 trains normally (1.97 at 1000).
    /// </summary>
    public bool WarmsUp => Warmup ?? Anneal;

    /// <summary>The spec name.</summary>
    public const string Name = "autolrs";

    /// <summary>The paper's k: candidate rates tried per stage.</summary>
    public const int DefaultCandidates = 10;

    /// <summary>The paper's τ/τ': each candidate is explored for a tenth of its stage.</summary>
    public const int ExploreDivisor = 10;

    /// <summary>
    /// Fewest exploration steps of a candidate: the exponential fit has three parameters and needs more points than
    /// that (the losses after 0..τ' updates are τ'+1 points).
    /// </summary>
    public const int MinExploreSteps = 3;

    /// <summary>Canonical spec, defaults omitted, e.g. <c>autolrs(min=0.0001, max=0.1, tau=100)</c>.</summary>
    public string Spec => ToSpecCall().ToString();

    /// <summary>The canonical spec as a parsed call.</summary>
    public SpecCall ToSpecCall() => new SpecBuilder(Name).Num("min", Min).Num("max", Max).Num("tau", Tau)
        .NumIf("tau_max", TauMax, 8 * Tau).NumIf("k", Candidates, DefaultCandidates).WordIf("anneal", Anneal ? "true" : "false", "true")
        .WordIf("warmup", WarmsUp ? "true" : "false", Anneal ? "true" : "false").Build();

    /// <inheritdoc/>
    public override string ToString() => Spec;

    /// <summary>Whether <paramref name="spec"/> names AutoLRS (whatever its arguments; a malformed spec is not).</summary>
    public static bool Is(string spec)
    {
        try { return SpecCall.Parse(spec).Name.Equals(Name, StringComparison.OrdinalIgnoreCase); }
        catch (SpecException) { return false; }
    }

    /// <summary>Parses <c>autolrs(min=, max=, tau=, tau_max=, k=, anneal=)</c>; throws <see cref="SpecException"/> naming the bad argument.</summary>
    public static AutoLrsOptions Parse(string spec) => Create(SpecCall.Parse(spec));

    /// <summary>Builds the options a parsed call describes.</summary>
    public static AutoLrsOptions Create(SpecCall call)
    {
        if (!call.Name.Equals(Name, StringComparison.OrdinalIgnoreCase)) throw new SpecException($"expected {Name}(min=..., max=..., tau=...), got '{call.Name}'");
        var a = new SpecArgs(call);
        if (a.Positional.Count > 0) throw a.Fail("takes named arguments only: min, max, tau, tau_max, k, anneal, warmup");
        double min = a.Number("min"), max = a.Number("max");
        if (!(min > 0 && double.IsFinite(min))) throw a.Fail($"min must be a finite rate > 0 (the search is over log rate), got {SpecNumber.Format(min)}");
        if (!(max > min && double.IsFinite(max))) throw a.Fail($"max must be a finite rate above min ({SpecNumber.Format(min)}), got {SpecNumber.Format(max)}");
        long tau = a.Integer("tau");
        long least = (long)ExploreDivisor * MinExploreSteps;
        if (tau < least) throw a.Fail($"tau must be >= {least} steps (each candidate explores tau/{ExploreDivisor} steps, at least {MinExploreSteps} for the exponential fit), got {tau}");
        long tauMax = a.Integer("tau_max", 8 * tau);
        if (tauMax < tau) throw a.Fail($"tau_max must be >= tau ({tau}), got {tauMax}");
        long k = a.Integer("k", DefaultCandidates);
        if (k is < 2 or > 100) throw a.Fail($"k (candidate rates per stage) must be between 2 and 100, got {k}");
        bool anneal = a.Flag("anneal", true);
        bool warmup = a.Flag("warmup", anneal);
        a.EnsureAllUsed();
        return new AutoLrsOptions(min, max, tau, tauMax, (int)k, anneal, warmup == anneal ? null : warmup);
    }

    /// <summary>
    /// The stages of a run of <paramref name="totalSteps"/> updates: lengths τ, 2τ, 4τ, ... capped at
    /// <see cref="TauMax"/>; a remainder shorter than τ joins the last stage (it would be too short to explore), so
    /// the stages cover 0..totalSteps-1 exactly. With <see cref="Anneal"/> the first stage that ends past the run's
    /// midpoint runs to the end instead (the final decay: at least half the run, as in the best hand-tuned linear,
    /// cosine and long-cooldown WSD runs of the MLP corpus). Each stage explores a tenth of its length per candidate
    /// (at least <see cref="MinExploreSteps"/>).
    /// </summary>
    public IReadOnlyList<AutoLrsStagePlan> Plan(long totalSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        var stages = new List<AutoLrsStagePlan>();
        long start = 0, tau = Tau;
        while (start < totalSteps)
        {
            long left = totalSteps - start;
            long length = Math.Min(tau, left);
            if (left - length < Tau || (Anneal && 2 * (start + length) > totalSteps)) length = left;
            stages.Add(new AutoLrsStagePlan(stages.Count, start, length, (int)Math.Max(MinExploreSteps, length / ExploreDivisor)));
            start += length;
            tau = Math.Min(2 * tau, TauMax);
        }
        return stages;
    }

    /// <summary>The stage holding update <paramref name="step"/> in a run of <paramref name="totalSteps"/> updates.</summary>
    public AutoLrsStagePlan StageAt(long step, long totalSteps) => Plan(totalSteps).Last(s => s.Start <= step);

    /// <summary>
    /// The rate of update <paramref name="step"/> of <paramref name="stage"/>, which chose <paramref name="rate"/>: the
    /// rate itself, except in the last stage of an <see cref="Anneal"/> run (the final decay), which decays it linearly
    /// to 0 over the stage (<see cref="Schedules.D2zSchedule"/> from the stage's start: the rate at its first update, rate/length at
    /// its last), so the run ends annealed as the candidates' cooldowns assumed, and in the first stage of a
    /// <see cref="WarmsUp"/> run (when it is not also the last), which ramps it up linearly from 0
    /// (<see cref="Schedules.ConstantSchedule"/> with the stage as its warmup: rate·t/length at the stage's update t).
    /// </summary>
    public double RateAt(AutoLrsStagePlan stage, bool last, double rate, long step) =>
        Anneal && last ? new Schedules.D2zSchedule(rate, stage.Length).At(step - stage.Start)
        : IsWarmup(stage, last) ? new Schedules.ConstantSchedule(rate, stage.Length).At(step - stage.Start)
        : rate;

    /// <summary>Whether <paramref name="stage"/> is the run's warmup (the first stage of a <see cref="WarmsUp"/> run, unless it is also its last).</summary>
    public bool IsWarmup(AutoLrsStagePlan stage, bool last) => WarmsUp && stage.Index == 0 && !last;

    /// <summary>
    /// The rate <paramref name="stage"/> chose, from the rate <paramref name="lr"/> its update <paramref name="step"/>
    /// used (<see cref="RateAt"/> inverted; a resumed run reads the rate from its log's last row). Inside the final
    /// decay and the warmup the division is exact to rounding: of the nearest doubles, the one that gives
    /// <paramref name="lr"/> back. NaN for the warmup's first update, whose rate is 0 whatever was chosen.
    /// </summary>
    public double ChosenRate(AutoLrsStagePlan stage, bool last, double lr, long step)
    {
        if (!(Anneal && last) && !IsWarmup(stage, last)) return lr;
        double factor = RateAt(stage, last, 1.0, step);
        if (factor == 0) return double.NaN;
        double r = lr / factor, up = r, down = r;
        if (RateAt(stage, last, r, step) == lr) return r;
        for (int d = 0; d < 4; d++)
        {
            up = Math.BitIncrement(up); down = Math.BitDecrement(down);
            if (RateAt(stage, last, up, step) == lr) return up;
            if (RateAt(stage, last, down, step) == lr) return down;
        }
        return r;
    }
}

/// <summary>One stage of an AutoLRS run: updates <see cref="Start"/>..<see cref="Start"/>+<see cref="Length"/>-1 at one rate.</summary>
/// <param name="Index">0-based stage number.</param>
/// <param name="Start">Its first update.</param>
/// <param name="Length">Its updates (τ of the stage).</param>
/// <param name="ExploreSteps">Updates each candidate is explored for (τ' = τ/10).</param>
public sealed record AutoLrsStagePlan(int Index, long Start, long Length, int ExploreSteps);

/// <summary>One candidate rate of a stage and what its exploration showed.</summary>
/// <param name="Lr">The rate.</param>
/// <param name="Forecast">Its fitted loss after the stage's τ updates (NaN when it diverged).</param>
/// <param name="StepsRun">Updates it trained (the stage's τ', fewer when it diverged).</param>
/// <param name="Fit">The exponential fit of its losses (null when it diverged).</param>
/// <param name="AnnealDrop">
/// What a linear cooldown to 0 after the exploration removed from the validation loss (the loss before it minus the
/// loss after; 0 when the run does not anneal): the part of the loss that is the noise floor of training at this rate,
/// which the run's final decay removes too.
/// </param>
public sealed record AutoLrsCandidate(double Lr, double Forecast, int StepsRun, ExponentialForecast? Fit, double AnnealDrop = 0)
{
    /// <summary>The loss or gradient stopped being finite during the exploration.</summary>
    public bool Diverged => Fit is null;

    /// <summary>Fit errors added to the forecast in <see cref="Score"/>.</summary>
    public const double RmsPenalty = 2;

    /// <summary>
    /// What the stage minimises: the forecast minus <see cref="AnnealDrop"/> (the forecast annealed) plus
    /// <see cref="RmsPenalty"/> times the fit's rms residual (NaN when diverged). A pessimistic forecast: an exponential that does not describe the window (a rate that makes the loss
    /// spike and fall back, fitted as a fall that goes on) is not trusted for ten windows ahead. The paper smooths the
    /// losses and drops outliers instead; on the MLP the plain forecast chose a spiking rate of 0.44 at 1.0 (its fit's
    /// rms 0.84, the steady candidates' 0.05).
    /// </summary>
    public double Score => Diverged ? double.NaN : Forecast - AnnealDrop + RmsPenalty * Fit!.Rms;

    /// <summary>
    /// The forecast annealed: <see cref="Forecast"/> minus <see cref="AnnealDrop"/> (NaN when diverged), what an
    /// <see cref="AutoLrsOptions.Anneal"/> stage chooses by (<see cref="AutoLrsController.Choose"/>). Unlike
    /// <see cref="Score"/> it carries no fit-rms penalty: the candidates of a stage are trained on the same batches, so
    /// the scatter of single-batch losses around each fit is shared by all of them and cancels in a comparison, except
    /// for its growth with the rate, which the penalty turns into a bias against higher rates.
    /// </summary>
    public double Annealed => Diverged ? double.NaN : Forecast - AnnealDrop;
}

/// <summary>A decided stage: its plan, the candidates in the order they were tried and the rate it trains at.</summary>
/// <param name="Plan">Where the stage is.</param>
/// <param name="Candidates">The explored candidates.</param>
/// <param name="ChosenIndex">The chosen candidate (<see cref="AutoLrsController.Choose"/>) in <see cref="Candidates"/>.</param>
public sealed record AutoLrsStage(AutoLrsStagePlan Plan, IReadOnlyList<AutoLrsCandidate> Candidates, int ChosenIndex)
{
    /// <summary>The chosen rate, which the stage trains at.</summary>
    public double Lr => Chosen.Lr;

    /// <summary>Updates spent exploring the candidates (training cost on top of the stage's own updates).</summary>
    public long ExploreSteps => Candidates.Sum(c => (long)c.StepsRun);

    /// <summary>The chosen candidate.</summary>
    public AutoLrsCandidate Chosen => Candidates[ChosenIndex];
}

/// <summary>
/// What a trainer does for an exploration: from the stage's starting state, train <c>steps</c> updates at rate
/// <c>lr</c>, collect the training losses after 0..steps updates (steps+1 values; shorter, ending in a non-finite
/// value, when training diverged), and when <c>anneal</c> is set cool the rate down to 0 over another <c>steps</c>
/// updates and measure the validation loss before and after; then restore the starting state exactly.
/// </summary>
public delegate AutoLrsProbe AutoLrsExplore(double lr, int steps, bool anneal);

/// <summary>What one exploration measured.</summary>
/// <param name="Losses">Training losses after 0..τ' updates at the candidate rate (see <see cref="AutoLrsExplore"/>).</param>
/// <param name="AnnealDrop">Validation loss before the cooldown minus after it (0 without one; NaN when the cooldown diverged).</param>
/// <param name="CooldownSteps">Updates the cooldown trained.</param>
public sealed record AutoLrsProbe(IReadOnlyList<double> Losses, double AnnealDrop = 0, int CooldownSteps = 0)
{
    /// <summary>A probe without a cooldown.</summary>
    public static implicit operator AutoLrsProbe(double[] losses) => new((IReadOnlyList<double>)losses, 0, 0);
}

/// <summary>
/// The AutoLRS decision of one stage (Algorithm 1 of the paper): k rounds of "BO proposes a rate, the trainer explores
/// it for τ' steps, the exponential model forecasts its loss at τ, BO observes the forecast", then the rate with the
/// lowest forecast. Deterministic for a given sequence of exploration results.
/// </summary>
public static class AutoLrsController
{
    /// <summary>
    /// Decides stage <paramref name="plan"/>: explores <see cref="AutoLrsOptions.Candidates"/> rates through
    /// <paramref name="explore"/> and returns them with the chosen rate. <paramref name="previousLr"/> (the last
    /// stage's rate) is the first candidate of a later stage, the middle of the log range that of the first.
    /// </summary>
    public static AutoLrsStage Decide(AutoLrsOptions options, AutoLrsStagePlan plan, AutoLrsExplore explore, double? previousLr = null)
    {
        ArgumentNullException.ThrowIfNull(explore);
        var search = new AutoLrsSearch(options.Min, options.Max, seed: plan.Index);
        var candidates = new List<AutoLrsCandidate>();
        double? first = previousLr;
        for (int i = 0; i < options.Candidates; i++)
        {
            double lr = i == 0 && first is { } p && p >= options.Min && p <= options.Max ? p : search.Next();
            var probe = explore(lr, plan.ExploreSteps, options.Anneal);
            var c = Evaluate(lr, probe.Losses, plan.ExploreSteps, plan.Length, probe.AnnealDrop);
            c = c with { StepsRun = c.StepsRun + probe.CooldownSteps };
            candidates.Add(c);
            search.Observe(lr, Objective(c, probe.Losses));
        }
        return new AutoLrsStage(plan, candidates, Choose(options, candidates, warmup: options.WarmsUp && plan.Index == 0));
    }

    /// <summary>
    /// The candidate a stage trains at: in the paper's method the lowest <see cref="AutoLrsCandidate.Score"/>; with
    /// <see cref="AutoLrsOptions.Anneal"/> the highest rate among those whose annealed forecast
    /// (<see cref="AutoLrsCandidate.Annealed"/>) is within the best one's fit rms of it (a difference smaller than the
    /// window's own noise is not resolved, and the short window's bias is towards low rates: a lower rate's loss drops at
    /// once, a higher rate's progress shows later). The choice compares annealed forecasts, not scores: the score's rms
    /// penalty grows with the rate (gpt-tiny, seed 2, step 300: rms 0.060 at 1e-4 rising to 0.067 at 4.4e-3), and at
    /// step 100 that 2x difference alone moved the incumbent 3.2e-3 out of the tolerance and the run stepped down to
    /// 1.8e-3; spiking windows, the penalty's reason, are excluded by <see cref="Spiked"/> instead, and the search
    /// still models the score (<see cref="Objective"/>) so it does not spend candidates near them. In a
    /// <paramref name="warmup"/> stage (the first of a <see cref="AutoLrsOptions.WarmsUp"/> run) the lowest forecast,
    /// without the cooldown credit: from initialisation the window's bias is the other way, the first updates fall
    /// fastest at a high rate (on gpt-tiny 0.008 had the lowest loss after 10 steps, while after 100 steps 0.0124 was at
    /// 2.93 and 1.49e-3 at 2.52); and the credit assumes a candidate's constant-rate loss is near its floor, while ten
    /// updates from initialisation it is still falling steeply (fitted amplitudes 2-2.5, later stages' 0.05-0.3), so the
    /// cooldown measures progress still to come, largest at the slowest rates (gpt-tiny seed 4: 0.43-0.47 at
    /// 6.7e-4-9.3e-4, 0.04-0.08 at 4.2e-3-1e-2; with it the warmup chose 9.3e-4, the run was 0.03-0.04 behind the other
    /// seeds from step 99 to 699 and ended 1.5% above the best hand-tuned schedule). When every candidate diverged, the lowest rate (the least likely to diverge again). With
    /// <see cref="AutoLrsOptions.Anneal"/> a candidate whose fit rms is more than sampling error above the stage's median
    /// (<see cref="Spiked"/>) is not chosen.
    /// </summary>
    public static int Choose(AutoLrsOptions options, IReadOnlyList<AutoLrsCandidate> candidates, bool warmup = false)
    {
        var ok = Enumerable.Range(0, candidates.Count).Where(i => !candidates[i].Diverged).ToList();
        if (ok.Count == 0) return Enumerable.Range(0, candidates.Count).MinBy(i => candidates[i].Lr);
        if (!options.Anneal) return ok.MinBy(i => candidates[i].Score);
        ok = ok.Where(i => !Spiked(candidates, i)).ToList(); // never empty: the lowest rms is at most the median
        // from initialisation the cooldown measures progress still to come, not a noise floor: no credit in the warmup
        if (warmup) return ok.MinBy(i => candidates[i].Forecast);
        int best = ok.MinBy(i => candidates[i].Annealed);
        double within = candidates[best].Annealed + candidates[best].Fit!.Rms;
        return ok.Where(i => candidates[i].Annealed <= within).MaxBy(i => candidates[i].Lr);
    }

    /// <summary>Standard errors of an rms estimate above the stage's median at which a window is not an exponential (<see cref="Spiked"/>).</summary>
    public const double SpikeStandardErrors = 3;

    /// <summary>
    /// Rms below this is rounding, not scatter (training losses are single-precision sums): no window is spiked below it.
    /// </summary>
    public const double RmsFloor = 1e-6;

    /// <summary>
    /// The fit rms above which a candidate of a stage whose median rms is <paramref name="median"/> is spiked: the
    /// median times 1 + <see cref="SpikeStandardErrors"/>/√(2(n−3)), n the window's points. The candidates of a stage
    /// train on the same batches, so without a spike each one's rms is that shared scatter, estimated from n − 3
    /// residual degrees of freedom with a relative standard error of about 1/√(2(n−3)) (the standard error of a
    /// sample standard deviation of normal errors): 1.75x the median for a 10-step window (11 points), 1.5x for 20,
    /// 1.19x for 130.
    /// </summary>
    public static double SpikeThreshold(double median, int points) =>
        Math.Max(RmsFloor, median * (1 + SpikeStandardErrors / Math.Sqrt(2.0 * Math.Max(1, points - 3))));

    /// <summary>
    /// Whether candidate <paramref name="i"/>'s fit rms is above <see cref="SpikeThreshold"/> of the median rms of the
    /// stage's candidates that did not diverge (the scatter of the batches they all trained on): its loss spiked or
    /// oscillated, the exponential does not describe its window, and its forecast ten windows ahead is not a forecast.
    /// On the MLP (seed 2, stage 1) a rate of 0.316 had rms 0.70 (the steady candidates' 0.04-0.07) and a forecast of
    /// 1.00 (theirs 2.24-2.35); chosen, the run's validation loss was 2.31 at step 199, where the same seed at 0.045
    /// had 2.08. A threshold of a fixed 3x the median (the rule before) let through seed 3's 0.154 at stage 1 (rms
    /// 0.202, 2.98x the median 0.068 of 21-point windows, 12 standard errors; forecast annealed 1.79, the steady
    /// candidates' 1.86-2.28), and the run was at 2.125 at step 299 where seeds 1 and 2 at 0.045 had 2.00-2.03.
    /// </summary>
    public static bool Spiked(IReadOnlyList<AutoLrsCandidate> candidates, int i)
    {
        var rms = candidates.Where(c => !c.Diverged).Select(c => c.Fit!.Rms).ToArray();
        if (rms.Length == 0 || candidates[i].Diverged) return false;
        double median = SampleStatistics.Median(rms);
        return candidates[i].Fit!.Rms > SpikeThreshold(median, candidates[i].Fit!.Points);
    }

    /// <summary>
    /// What the GP models for a candidate: log of its <see cref="AutoLrsCandidate.Score"/>, capped at twice the loss
    /// the stage started from (a diverged candidate sits at the cap). The log and the cap keep one exploding rate
    /// (scores of hundreds beside 2.3) from setting the GP's scale, which would flatten everything else. The cap is
    /// well above the start: a single batch's loss is noisy, and capping at it flattened every steady candidate
    /// onto one value in the first MLP run.
    /// </summary>
    public static double Objective(AutoLrsCandidate c, IReadOnlyList<double> losses)
    {
        double start = losses.Count > 0 && double.IsFinite(losses[0]) && losses[0] > 0 ? losses[0] : double.NaN;
        double cap = double.IsFinite(start) ? 2 * start : double.PositiveInfinity;
        double score = c.Diverged ? cap : Math.Min(c.Score, cap);
        // a diverged first exploration step leaves no start to cap at: count it as 10x worse than any loss seen
        if (!double.IsFinite(score)) score = 10 * Math.Max(1, losses.Where(double.IsFinite).DefaultIfEmpty(1).Max());
        return Math.Log(Math.Max(score, 1e-12));
    }

    /// <summary>
    /// A candidate from its exploration's losses (after 0..τ' updates): the exponential fit of them and its value at
    /// <paramref name="horizon"/> updates; diverged when a loss or <paramref name="annealDrop"/> is not finite or
    /// fewer than τ'+1 losses came back.
    /// </summary>
    public static AutoLrsCandidate Evaluate(double lr, IReadOnlyList<double> losses, int exploreSteps, long horizon, double annealDrop = 0)
    {
        int run = Math.Max(0, Math.Min(exploreSteps, losses.Count - 1));
        if (losses.Count < exploreSteps + 1 || losses.Any(l => !double.IsFinite(l)) || !double.IsFinite(annealDrop)) return new AutoLrsCandidate(lr, double.NaN, run, null);
        var fit = ExponentialForecast.Fit(losses.ToArray());
        return new AutoLrsCandidate(lr, fit.At(horizon), run, fit, annealDrop);
    }
}

/// <summary>
/// Bayesian optimisation of one stage's rate over u = (ln lr − ln min)/(ln max − ln min) in [0, 1]: a
/// <see cref="GaussianProcess"/> (Matérn-5/2, marginal-likelihood hyperparameters) on the forecasts observed so far,
/// and the next rate at the maximum of log expected improvement (<see cref="Acquisition"/>) over a grid of the
/// interval. The paper's public code uses a pure-exploration LCB; log-EI explores where the GP is unsure and
/// exploits near the best forecast, which suits ten evaluations in one dimension.
/// </summary>
public sealed class AutoLrsSearch(double min, double max, int seed = 0)
{
    /// <summary>Grid points of [0, 1] the acquisition is maximised over (1-D: a grid is exact to its spacing).</summary>
    public const int Grid = 257;

    private readonly List<double> _u = [];
    private readonly List<double> _y = [];
    private GpHyperparameters? _warm;

    /// <summary>The observed (rate, value) pairs, in order.</summary>
    public IEnumerable<(double Lr, double Value)> Observed => _u.Select((u, i) => (Rate(u), _y[i]));

    /// <summary>The rate at unit coordinate <paramref name="u"/>.</summary>
    public double Rate(double u) => Math.Exp(Math.Log(min) + u * (Math.Log(max) - Math.Log(min)));

    /// <summary>The unit coordinate of rate <paramref name="lr"/>.</summary>
    public double Unit(double lr) => (Math.Log(lr) - Math.Log(min)) / (Math.Log(max) - Math.Log(min));

    /// <summary>Records the value (forecast loss) of rate <paramref name="lr"/>.</summary>
    public void Observe(double lr, double value)
    {
        if (!double.IsFinite(value)) throw new ArgumentException($"an observed value must be finite, got {value}", nameof(value));
        _u.Add(Math.Clamp(Unit(lr), 0, 1));
        _y.Add(value);
    }

    /// <summary>Grid points closer than this (in unit coordinates, a fiftieth of the log range) to an observed point are not proposed.</summary>
    public const double Exclusion = 0.02;

    /// <summary>
    /// The next rate: the middle of the log range first, then the grid point of highest log-EI among those at least
    /// <see cref="Exclusion"/> from every observed point (a rate next to a measured one tells a noisy forecast
    /// little; without it the first MLP run spent its candidates one grid step apart at the range's ends).
    /// </summary>
    public double Next()
    {
        if (_u.Count == 0) return Rate(0.5);
        var gp = GaussianProcess.Fit(_u.Select(u => new[] { u }).ToArray(), _y.ToArray(), starts: 3, warm: _warm, seed: seed);
        _warm = gp.Hyperparameters;
        double best = _y.Min(), bestU = double.NaN, bestAcq = double.NegativeInfinity;
        for (int g = 0; g < Grid; g++)
        {
            double u = (double)g / (Grid - 1);
            if (_u.Any(o => Math.Abs(o - u) < Exclusion)) continue;
            var (m, v) = gp.Predict([u]);
            double acq = Acquisition.LogExpectedImprovement(m, Math.Sqrt(v), best);
            if (acq > bestAcq) { bestAcq = acq; bestU = u; }
        }
        return double.IsNaN(bestU) ? Rate(0.5) : Rate(bestU);
    }
}

/// <summary>
/// The paper's loss forecast y(t) = a·exp(−b t) + c (b &gt; 0), fitted to a candidate's losses after 0..n updates and
/// extrapolated to the stage's end. As in the paper, b is found by a one-dimensional search and, for each b, a and c
/// by linear least squares. Two bounds keep a ten-fold extrapolation sane: c ≥ 0 (a cross-entropy cannot go below
/// 0), and a time constant 1/b of at most the window (b·n ≥ 1): the curve must bend inside the window it is fitted
/// to. Without the second bound a nearly straight window (the first updates from initialisation, where a high rate
/// falls fastest) is fitted by a slow exponential that is in effect a line, and forecast ten windows later near
/// zero loss; the first try on the MLP chose a rate of 1 that way (forecast 0.007, actual 2.8).
/// </summary>
/// <param name="A">Amplitude a (the part of the loss still to go at t = 0).</param>
/// <param name="B">Rate b &gt; 0 per update.</param>
/// <param name="C">Asymptote c ≥ 0.</param>
/// <param name="Rms">Root-mean-square residual of the fit.</param>
/// <param name="Points">The (t, y) pairs it was fitted to.</param>
public sealed record ExponentialForecast(double A, double B, double C, double Rms, int Points)
{
    /// <summary>Bounds of b·n searched (n = the window's last t): from a time constant of the whole window to one of a hundredth of it.</summary>
    public const double MinDecay = 1, MaxDecay = 1e2;

    /// <summary>The fitted loss after <paramref name="t"/> updates.</summary>
    public double At(double t) => A * Math.Exp(-B * t) + C;

    /// <summary>Fits losses <paramref name="y"/>[t] after t = 0..n updates (at least 3 points).</summary>
    public static ExponentialForecast Fit(IReadOnlyList<double> y)
    {
        if (y.Count < 3) throw new ArgumentException($"an exponential fit needs at least 3 points, got {y.Count}", nameof(y));
        var t = Enumerable.Range(0, y.Count).Select(i => (double)i).ToArray();
        return Fit(t, y.ToArray());
    }

    /// <summary>Fits y(t) at the given times (t ≥ 0, not all equal).</summary>
    public static ExponentialForecast Fit(double[] t, double[] y)
    {
        if (t.Length != y.Length || t.Length < 3) throw new ArgumentException("an exponential fit needs at least 3 (t, y) pairs");
        double span = t.Max();
        if (!(span > 0)) throw new ArgumentException("the times of an exponential fit must not all be 0");
        // golden-section search on log(b·span) after a coarse scan (the sum of squares can have more than one dip)
        double lo = Math.Log(MinDecay), hi = Math.Log(MaxDecay);
        const int scan = 41;
        int bestI = 0; double bestS = double.PositiveInfinity;
        for (int i = 0; i < scan; i++)
        {
            double s = Sse(t, y, Math.Exp(lo + (hi - lo) * i / (scan - 1)) / span).Sse;
            if (s < bestS) { bestS = s; bestI = i; }
        }
        double step = (hi - lo) / (scan - 1);
        double x0 = Math.Max(lo, lo + (bestI - 1) * step), x3 = Math.Min(hi, lo + (bestI + 1) * step);
        const double phi = 0.6180339887498949;
        double x1 = x3 - phi * (x3 - x0), x2 = x0 + phi * (x3 - x0);
        double f1 = Sse(t, y, Math.Exp(x1) / span).Sse, f2 = Sse(t, y, Math.Exp(x2) / span).Sse;
        for (int it = 0; it < 80 && x3 - x0 > 1e-12; it++)
        {
            if (f1 <= f2) { x3 = x2; x2 = x1; f2 = f1; x1 = x3 - phi * (x3 - x0); f1 = Sse(t, y, Math.Exp(x1) / span).Sse; }
            else { x0 = x1; x1 = x2; f1 = f2; x2 = x0 + phi * (x3 - x0); f2 = Sse(t, y, Math.Exp(x2) / span).Sse; }
        }
        double xb = f1 <= f2 ? x1 : x2;
        // the scan's best point stands when the refinement did not beat it (a dip at the edge of the range)
        double b = Math.Min(f1, f2) <= bestS ? Math.Exp(xb) / span : Math.Exp(lo + (hi - lo) * bestI / (scan - 1)) / span;
        var (a, c, sse) = Sse(t, y, b);
        return new ExponentialForecast(a, b, c, Math.Sqrt(sse / t.Length), t.Length);
    }

    /// <summary>Least-squares a and c ≥ 0 for a fixed b, and the sum of squared residuals.</summary>
    private static (double A, double C, double Sse) Sse(double[] t, double[] y, double b)
    {
        int n = t.Length;
        double se = 0, see = 0, sy = 0, sey = 0;
        for (int i = 0; i < n; i++)
        {
            double e = Math.Exp(-b * t[i]);
            se += e; see += e * e; sy += y[i]; sey += e * y[i];
        }
        double det = n * see - se * se;
        double a, c;
        if (Math.Abs(det) > 1e-300)
        {
            a = (n * sey - se * sy) / det;
            c = (see * sy - se * sey) / det;
        }
        else { a = 0; c = sy / n; }
        if (c < 0) { c = 0; a = sey / see; } // the constrained optimum lies on c = 0
        double s = 0;
        for (int i = 0; i < n; i++) { double r = a * Math.Exp(-b * t[i]) + c - y[i]; s += r * r; }
        return (a, c, s);
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{A:G6}*exp(-{B:G6} t) + {C:G6}");
}
