using Anneal.Specs;

namespace Anneal.Schedules;

/// <summary>
/// A schedule that depends on what training reports rather than on the step alone: it is fed one
/// metric per evaluation and answers the rate to use next. Unlike <see cref="Schedule"/> it has state.
/// </summary>
public interface IStatefulSchedule
{
    /// <summary>The rate currently in force.</summary>
    double Current { get; }

    /// <summary>Records one evaluation's metric and returns the rate to use from now on.</summary>
    double Step(double metric);

    /// <summary>Back to the initial state.</summary>
    void Reset();
}

/// <summary>Options of <see cref="ReduceOnPlateau"/>; the defaults are PyTorch's <c>ReduceLROnPlateau</c>.</summary>
public sealed record ReduceOnPlateauOptions(double Peak, bool Maximize = false, double Factor = 0.1, int Patience = 10, double Threshold = 1e-4,
    bool RelativeThreshold = true, int Cooldown = 0, double Min = 0, double Eps = 1e-8)
{
    /// <summary>Canonical spec, e.g. <c>plateau(peak=0.5, patience=5, threshold=0.1, threshold_mode=abs)</c>.</summary>
    public string Spec => ToSpecCall().ToString();

    public SpecCall ToSpecCall() => new SpecBuilder("plateau").Num("peak", Peak).WordIf("mode", Maximize ? "max" : "min", "min").NumIf("factor", Factor, 0.1)
        .NumIf("patience", Patience, 10).NumIf("threshold", Threshold, 1e-4).WordIf("threshold_mode", RelativeThreshold ? "rel" : "abs", "rel")
        .NumIf("cooldown", Cooldown, 0).NumIf("min", Min, 0).NumIf("eps", Eps, 1e-8).Build();

    public override string ToString() => Spec;

    /// <summary>Parses <c>plateau(peak=P, mode=min|max, factor=0.1, patience=10, threshold=1e-4, threshold_mode=rel|abs, cooldown=0, min=0, eps=1e-8)</c>.</summary>
    public static ReduceOnPlateauOptions Parse(string spec)
    {
        var call = SpecCall.Parse(spec);
        if (call.Name != "plateau") throw new SpecException($"expected plateau(peak=..., ...), got '{call.Name}'");
        var a = new SpecArgs(call);
        double peak = a.Number("peak");
        Phases.Check(a, peak, 0);
        var mode = a.Word("mode", "min");
        if (mode is not ("min" or "max")) throw a.Fail($"mode must be min or max, got '{mode}'");
        double factor = Phases.Finite(a, "factor", 0.1);
        if (!(factor >= 0 && factor < 1)) throw a.Fail($"factor must be in [0, 1), got {SpecNumber.Format(factor)}");
        long patience = Phases.Steps(a, "patience", 10), cooldown = Phases.Steps(a, "cooldown", 0);
        double threshold = Phases.Finite(a, "threshold", 1e-4);
        var tm = a.Word("threshold_mode", "rel");
        if (tm is not ("rel" or "abs")) throw a.Fail($"threshold_mode must be rel or abs, got '{tm}'");
        double min = a.Number("min", 0), eps = Phases.Finite(a, "eps", 1e-8);
        Phases.CheckMinNonNegative(a, min, peak);
        a.EnsureAllUsed();
        if (patience > int.MaxValue || cooldown > int.MaxValue) throw a.Fail("patience and cooldown must fit in 32 bits");
        return new ReduceOnPlateauOptions(peak, mode == "max", factor, (int)patience, threshold, tm == "rel", (int)cooldown, min, eps);
    }
}

/// <summary>
/// Reduce the rate when a metric stops improving, with PyTorch <c>ReduceLROnPlateau</c> semantics: a
/// metric is better than the best so far when (mode min) it is below best*(1 - threshold) [rel] or
/// best - threshold [abs] (mode max: above best*(1 + threshold) or best + threshold). After more than
/// <c>patience</c> evaluations without improvement the rate becomes max(rate*factor, min) (ignored when
/// the change is at most eps), then <c>cooldown</c> evaluations pass with the bad count held at 0.
/// </summary>
public sealed class ReduceOnPlateau(ReduceOnPlateauOptions options) : IStatefulSchedule
{
    private double _best = options.Maximize ? double.NegativeInfinity : double.PositiveInfinity;
    private int _bad;
    private int _cooldownLeft;

    public ReduceOnPlateauOptions Options { get; } = options;

    public double Current { get; private set; } = options.Peak;

    /// <summary>Evaluations so far.</summary>
    public long Evaluations { get; private set; }

    /// <summary>Best metric so far.</summary>
    public double Best => _best;

    public static ReduceOnPlateau Parse(string spec) => new(ReduceOnPlateauOptions.Parse(spec));

    private bool IsBetter(double a)
    {
        var o = Options;
        if (!o.Maximize) return o.RelativeThreshold ? a < _best * (1 - o.Threshold) : a < _best - o.Threshold;
        return o.RelativeThreshold ? a > _best * (o.Threshold + 1) : a > _best + o.Threshold;
    }

    public double Step(double metric)
    {
        Evaluations++;
        if (IsBetter(metric)) { _best = metric; _bad = 0; }
        else _bad++;
        if (_cooldownLeft > 0) { _cooldownLeft--; _bad = 0; }
        if (_bad > Options.Patience)
        {
            double next = Math.Max(Current * Options.Factor, Options.Min);
            if (Current - next > Options.Eps) Current = next;
            _cooldownLeft = Options.Cooldown;
            _bad = 0;
        }
        return Current;
    }

    public void Reset()
    {
        _best = Options.Maximize ? double.NegativeInfinity : double.PositiveInfinity;
        _bad = 0; _cooldownLeft = 0; Evaluations = 0; Current = Options.Peak;
    }
}
