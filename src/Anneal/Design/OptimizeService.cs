using System.Text.Json;
using System.Text.Json.Nodes;
using Anneal.Laws;
using Anneal.Schedules;
using static Anneal.ParameterName;

namespace Anneal.Design;

/// <summary>A request to design a learning-rate schedule under an MPL law.</summary>
/// <param name="Law">The law (<see cref="DesignLaw.Resolve"/> reads a name or a law file).</param>
/// <param name="Total">Total optimizer steps T (warmup included).</param>
/// <param name="Peak">Peak learning rate.</param>
public sealed record OptimizeRequest(DesignLaw Law, long Total, double Peak)
{
    /// <summary>Linear warmup steps W (fixed; the design is free after it).</summary>
    public long Warmup { get; init; }

    /// <summary>Lowest learning rate allowed after the warmup.</summary>
    public double MinLr { get; init; }

    /// <summary><see cref="OptimizeService.Free"/> (the per-step optimum) or one of <see cref="ScheduleDesigner.Families"/>.</summary>
    public string Family { get; init; } = OptimizeService.Free;
}

/// <summary>One schedule of a design's table.</summary>
/// <param name="Label">Its role: <c>free optimum</c>, <c>best wsd</c>, <c>cosine to 10%</c>, <c>closest named</c>, ...</param>
/// <param name="Spec">Its spec; null for the free optimum (per-step rates only).</param>
/// <param name="Loss">Predicted final loss (<see cref="DesignLaw.Predict"/>: an auto stack's forecast where the law is one).</param>
/// <param name="Band">95% band of the final loss; null when the law has none.</param>
/// <param name="GainHalfWidth">95% half-width of its gain over <see cref="OptimizeResult.Baseline"/> (<see cref="DesignLaw.GainHalfWidth"/>); null without uncertainty. A gain no larger than it is not resolved by the fit (<see cref="DesignLaw.GainResolved"/>).</param>
/// <param name="PostWarmup">Its rates at steps W..T-1.</param>
public sealed record DesignCandidate(string Label, string? Spec, double Loss, (double Low, double High)? Band, double? GainHalfWidth, double[] PostWarmup)
{
    /// <summary>Its final loss under the objective the design minimised (<see cref="DesignLaw.Objective"/>), which chose it: <see cref="Loss"/> itself, to rounding (an auto stack's forecast evaluated without its band, or the multi-power law's).</summary>
    public double DesignedLoss { get; init; } = double.NaN;
}

/// <summary>What the free optimum looks like and how the solver got there.</summary>
/// <param name="Iterations">Solver iterations over all levels.</param>
/// <param name="Evaluations">Loss evaluations over all levels.</param>
/// <param name="Stop">Why the solver stopped.</param>
/// <param name="Levels">One line per coarse-to-fine level.</param>
/// <param name="DecayStart">First step whose rate is below the peak.</param>
/// <param name="Drops">Steps where the rate drops by more than 1e-6 of the previous rate.</param>
/// <param name="Closest">The named schedule closest to the optimum.</param>
public sealed record FreeDesign(int Iterations, int Evaluations, string Stop, string Levels, long DecayStart, int Drops, ClosestNamed Closest);

/// <summary>The outcome of <see cref="OptimizeService.Optimize"/>.</summary>
/// <param name="Problem">The validated design problem.</param>
/// <param name="Law">The law designed under.</param>
/// <param name="Family">The family asked for.</param>
/// <param name="Candidates">The design first, then the references (<see cref="ScheduleDesigner.References"/>), with the free optimum also each family's best and the closest named schedule.</param>
/// <param name="References">The four reference schedules, for plots.</param>
/// <param name="Free">Details of the free optimum; null for a family search.</param>
public sealed record OptimizeResult(DesignProblem Problem, DesignLaw Law, string Family, IReadOnlyList<DesignCandidate> Candidates, IReadOnlyList<Candidate> References, FreeDesign? Free)
{
    /// <summary>The versioned name of the JSON form.</summary>
    public const string Format = "anneal-design/1";

    /// <summary>The designed schedule.</summary>
    public DesignCandidate Design => Candidates[0];

    /// <summary>The loss of cosine to 10% of peak, against which gains are reported: its candidate's (the law's forecast, as every candidate's).</summary>
    public double Baseline => Candidates.First(c => c.Label == References[0].Label && c.Spec == References[0].Schedule.Spec).Loss;

    /// <summary>The designed rates for every step 0..T-1 (the linear warmup, then the design).</summary>
    public double[] FullSchedule() => Problem.FullSchedule(Design.PostWarmup);

    /// <summary>The JSON form printed by <c>anneal optimize --json</c> (docs/formats.md).</summary>
    public JsonObject ToJson()
    {
        var design = Design;
        var json = new JsonObject
        {
            ["format"] = Format,
            ["law"] = Law.Source, ["parameters"] = Law.Parameters.ToJson(), ["convention"] = WarmupConventions.Name(Law.Convention),
            ["total"] = Problem.Total, ["warmup"] = Problem.Warmup, ["peak"] = Problem.Peak, ["min_lr"] = Problem.MinLr,
            ["family"] = Family, ["band_available"] = Law.HasBand,
            // why the bands and the gains' half-widths are withheld (the regime check), null where they are not
            ["band_withheld"] = Law.BandWithheld(Problem),
            ["free"] = Free is not { } f ? null : new JsonObject
            {
                ["loss"] = design.Loss, ["band"] = BandJson(design.Band), ["iterations"] = f.Iterations, ["evaluations"] = f.Evaluations,
                ["stop"] = f.Stop, ["levels"] = f.Levels, ["final_lr"] = design.PostWarmup[^1],
                ["decay_start"] = f.DecayStart,
                ["drops"] = f.Drops,
            },
            ["candidates"] = new JsonArray(Candidates.Select(x => (JsonNode)new JsonObject
            {
                ["label"] = x.Label, ["spec"] = x.Spec, ["loss"] = x.Loss, ["band"] = BandJson(x.Band), ["gain_vs_cosine_10"] = Baseline - x.Loss, ["gain_resolved"] = DesignLaw.GainResolved(Baseline - x.Loss, x.GainHalfWidth),
            }).ToArray()),
            ["gain_half_width_95"] = new JsonArray(Candidates.Select(c => (JsonNode?)(c.GainHalfWidth is { } v ? JsonValue.Create(v) : null)).ToArray()),
            ["closest_rms_distance"] = Free?.Closest.RmsDistance,
        };
        // a seed ensemble's every group's parameters (parameters above are the first group's); absent for one law
        if (Law.Seeds is { } seeds) json["seed_groups"] = new JsonArray(seeds.Select(g => (JsonNode)g.Parameters.ToJson()).ToArray());
        return json;
    }

    /// <summary><see cref="ToJson"/> indented, as printed.</summary>
    public string ToJsonText() => ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>A band as JSON (<c>low</c>, <c>high</c>, <c>level</c> 0.95), null without one.</summary>
    public static JsonNode? BandJson((double Low, double High)? b) => b is { } x ? new JsonObject { ["low"] = x.Low, ["high"] = x.High, ["level"] = 0.95 } : null;
}

/// <summary>
/// Schedule design as one call: the free per-step optimum (or the best member of one named family), the
/// best member of every family, the standard references, the named schedule closest to the optimum, and
/// every candidate's band and gain over cosine to 10% with its uncertainty.
/// </summary>
public static class OptimizeService
{
    /// <summary>The family name of the free per-step optimum.</summary>
    public const string Free = "free";

    /// <summary>
    /// Designs the schedule. Checks the request first (<see cref="DesignProblem.Validate"/>; errors name the
    /// parameters <c>total</c>, <c>peak</c>, <c>warmup</c>, <c>min_lr</c>, <c>family</c>: <see cref="InputException.Parameters"/>).
    /// <paramref name="progress"/> receives one line per phase. Cancellation is checked between phases.
    /// </summary>
    public static OptimizeResult Optimize(OptimizeRequest request, IProgress<string>? progress = null, CancellationToken cancel = default)
    {
        var law = request.Law;
        string family = request.Family;
        if (family != Free && !ScheduleDesigner.Families.Contains(family))
            throw InputException.Naming($"{Parameter("family")} must be {Free} or one of {string.Join(", ", ScheduleDesigner.Families)}, got '{family}'");
        var problem = law.Problem(request.Total, request.Warmup, request.Peak, request.MinLr);
        // Every search minimises what the law reports (DesignLaw.Objective: an auto stack's forecast, else the multi-power law's).
        var d = law.Designer(problem);
        var rows = new List<(string Label, Schedule? Schedule, double Loss, double[] Rates)>();
        FreeDesign? free = null;
        IReadOnlyList<Candidate> refs;
        if (family == Free)
        {
            progress?.Report($"free per-step optimum over {problem.PostWarmupSteps} post-warmup steps...");
            // Nothing here depends on anything else until the closest named schedule. The two longest family searches, WSD
            // and cosine power, run on other threads, each with a designer of its own (a designer's scratch buffers are not
            // shared), from the start, so that they also overlap the references and the first calls' set-up; this thread
            // does the references, the free optimum and the three short families. With two cores the scheduler shares
            // them out; with more, they run side by side. Same candidates in the same order.
            var background = new[] { "wsd", "cosine_power" }.ToDictionary(f => f, f => Task.Run(() => law.Designer(problem).BestOf(f), cancel));
            refs = d.References();
            // With per-rate gradients the free optimum needs no start and comes first; without them (an auto stack's forecast)
            // it starts from the lowest of every family's best, the references and the multi-power member's per-step optimum
            // (ScheduleDesigner.OptimizeAfter), so it waits for the families.
            var opt = d.RateGradient ? d.Optimize() : null;
            progress?.Report("best member of each family...");
            var others = ScheduleDesigner.Families.Where(f => !background.ContainsKey(f)).ToDictionary(f => f, d.BestOf);
            if (opt is null)
            {
                var named = ScheduleDesigner.Families.Select(f => background.TryGetValue(f, out var t) ? t.GetAwaiter().GetResult() : others[f]).Concat(refs).ToArray();
                progress?.Report($"free optimum through the stack's forecast: staircases over {problem.PostWarmupSteps} post-warmup steps...");
                opt = d.OptimizeAfter(named);
            }
            rows.Add(("free optimum", null, opt.Loss, opt.PostWarmup));
            foreach (var f in ScheduleDesigner.Families)
            {
                var c = background.TryGetValue(f, out var task) ? task.GetAwaiter().GetResult() : others[f];
                rows.Add((c.Label, c.Schedule, c.Loss, Post(c.Schedule, problem)));
            }
            cancel.ThrowIfCancellationRequested();
            var closest = d.Closest(opt.PostWarmup);
            var designed = opt.PostWarmup;
            free = new FreeDesign(opt.Solver.Iterations, opt.Solver.Evaluations, opt.Solver.Reason, opt.Levels,
                problem.Warmup + Array.FindIndex(designed, x => x < problem.Peak), Drops(designed), closest);
        }
        else
        {
            refs = d.References();
            progress?.Report($"searching the {family} family...");
            var c = d.BestOf(family);
            rows.Add((c.Label, c.Schedule, c.Loss, Post(c.Schedule, problem)));
        }
        foreach (var c in refs) rows.Add((c.Label, c.Schedule, c.Loss, Post(c.Schedule, problem)));
        if (free is { } fr) rows.Add(("closest named", fr.Closest.Candidate.Schedule, fr.Closest.Candidate.Loss, Post(fr.Closest.Candidate.Schedule, problem)));
        cancel.ThrowIfCancellationRequested();
        var baseRates = Post(refs[0].Schedule, problem);
        // Each candidate's loss and band as the law forecasts them (DesignLaw.Predict: an auto stack's forecast and calibrated
        // band, what anneal predict gives for the same schedule; else the law designed through, whose loss the row has).
        var candidates = rows.Select(r =>
        {
            var (loss, band) = law.Forecaster is null ? (r.Loss, law.Band(problem, r.Rates)) : law.Predict(problem, r.Rates);
            return new DesignCandidate(r.Label, r.Schedule?.Spec, loss, band, law.GainHalfWidth(problem, baseRates, r.Rates), r.Rates) { DesignedLoss = r.Loss };
        }).ToArray();
        return new OptimizeResult(problem, law, family, candidates, refs, free);
    }

    /// <summary>Number of steps where the rate drops by more than 1e-6 of the previous rate (a smooth decay counts every step).</summary>
    public static int Drops(double[] eta)
    {
        int n = 0;
        for (int i = 1; i < eta.Length; i++) if (eta[i] < eta[i - 1] * (1 - 1e-6)) n++;
        return n;
    }

    private static double[] Post(Schedule s, DesignProblem p) => MplFinalLoss.PostWarmup(s, p.Total, p.Warmup);
}
