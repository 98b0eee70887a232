using Anneal.Fitting;
using Anneal.Specs;

namespace Anneal.Laws;

/// <summary>
/// One fitted parameter of a law: name, valid range (bounds are exclusive for open ranges), unit, and how
/// its value changes with the unit the learning rate is measured in (<see cref="LrPower"/>).
/// </summary>
public sealed record LawParameter(string Name, double Lower, double Upper, string Unit, string Description, LrPower LrPower = default);

/// <summary>
/// How a parameter depends on the unit of the learning rate: when every rate is multiplied by f, the
/// same losses come from the value multiplied by <c>f^(Constant + p[Plus])</c> (<c>p[Plus]</c> only
/// when <see cref="Plus"/> is set; that parameter must itself be unit-free). E.g. the amplitude A of
/// <c>A * S1^-alpha</c> has Constant 0, Plus = alpha's index; a coefficient per unit of LR has Constant -1.
/// The default is a unit-free parameter.
/// </summary>
public readonly record struct LrPower(double Constant, int? Plus = null);

/// <summary>
/// An empirical loss-curve law L(t; eta_0..eta_t, p): the loss after step t of a run whose
/// learning rate at every step is known, for parameters p. One interface for all laws
/// (scikit-learn-like): the fitter, the evaluation loop and the CLI never special-case a law.
/// Implementations: <see cref="PowerLaw"/>, <see cref="MomentumLaw"/>, <see cref="MultiPowerLaw"/>,
/// <see cref="ForwardMomentumLaw"/>, <see cref="ConvexBoundLaw"/>; registered in <see cref="LawRegistry"/>.
/// </summary>
public abstract record LossLaw
{
    /// <summary>Spec name, e.g. <c>mpl</c>.</summary>
    public abstract string Name { get; }

    /// <summary>One-line description with the source paper.</summary>
    public abstract string Summary { get; }

    /// <summary>Canonical spec (options only; fitted values live in <see cref="FittedLaw"/>).</summary>
    public abstract SpecCall ToSpecCall();

    /// <summary>Canonical spec string, e.g. <c>momentum(lambda=0.999)</c>.</summary>
    public string Spec => ToSpecCall().ToString();

    /// <summary>The fitted parameters, in the order of every parameter vector.</summary>
    public abstract IReadOnlyList<LawParameter> Parameters { get; }

    /// <summary>
    /// Precomputes everything that does not depend on the parameters (prefix sums of eta, the list
    /// of steps where eta drops, ...) so that evaluating many parameter vectors is cheap.
    /// </summary>
    public abstract LawState Prepare(LawRun run);

    /// <summary>
    /// The run prepared for a fit's objective (<see cref="Fitting.LawFitter"/>): <see cref="Prepare"/> unless the law evaluates
    /// its fitted points more cheaply to within a small quadrature error (<c>mpl(drops=continuous)</c>).
    /// </summary>
    internal virtual LawState PrepareForFit(LawRun run) => Prepare(run);

    /// <summary>
    /// Parameters the given runs cannot determine (e.g. a decay term from constant-LR runs only),
    /// with the value they are held at and the reason. Empty when everything is identifiable.
    /// </summary>
    public virtual IReadOnlyList<HeldParameter> NonIdentifiable(IReadOnlyList<LawState> runs) => [];

    /// <summary>
    /// The law's reduced form, for runs whose <paramref name="points"/> logged points do not outnumber its free parameters
    /// (those not in <paramref name="held"/>): further parameters to hold, with their values and the reason, so that they do
    /// (<see cref="Fitting.FitOptions.ReducedForm"/>). Empty (the default) when the law has none: the fit is then refused.
    /// </summary>
    internal virtual IReadOnlyList<HeldParameter> ReducedForm(IReadOnlyList<LawState> runs, IReadOnlyList<HeldParameter> held, int points) => [];

    /// <summary>
    /// Priors the fit adds to the runs' residuals (a maximum a posteriori fit), one row each, for parameters the given runs
    /// may not pin; empty (the default) for none. See <see cref="LawPrior"/>.
    /// </summary>
    internal virtual IReadOnlyList<LawPrior> Priors(IReadOnlyList<LawState> runs) => [];

    /// <summary>Parameter <paramref name="index"/> held at <paramref name="value"/> for <paramref name="reason"/> (for <see cref="NonIdentifiable"/>).</summary>
    protected HeldParameter Held(int index, double value, string reason) => new(Parameters[index].Name, value, reason) { Index = index };

    /// <summary>
    /// Deterministic starting points for the multi-start fit, derived from the shared
    /// pre-fit of <c>L0 + A*S1^-alpha - B*(eta_peak - eta_t)</c> (the reference initialisation).
    /// </summary>
    public abstract IEnumerable<double[]> Starts(StartHint hint, IReadOnlyList<LawState> runs);

    /// <summary>Loss at <paramref name="run"/>'s steps for parameters <paramref name="p"/>.</summary>
    public double[] Predict(LawRun run, IReadOnlyList<double> p)
    {
        var state = Prepare(run);
        try
        {
            var loss = new double[run.Count];
            state.Evaluate(p.ToArray(), loss, default);
            return loss;
        }
        finally { state.Release(); }
    }

    /// <summary>Loss at <paramref name="steps"/> of a run with per-step rates <paramref name="lrPerStep"/>.</summary>
    public double[] Predict(double[] lrPerStep, long[] steps, IReadOnlyList<double> p) =>
        Predict(LawRun.ForSchedule("prediction", lrPerStep, steps, "per-step array"), p);

    /// <summary>
    /// How this law is fitted unless the caller says otherwise: the exact optimum by default; a law
    /// whose published parameters come from an early-stopped procedure may prefer that procedure.
    /// </summary>
    public virtual Anneal.Fitting.FitMethod PreferredMethod => Anneal.Fitting.FitMethod.Optimum;

    /// <summary>
    /// The parameters that give the same losses when every learning rate is multiplied by
    /// <paramref name="factor"/>: <c>p_j * factor^(e_j)</c> with e_j from each parameter's
    /// <see cref="LawParameter.LrPower"/>. Every law is exactly equivariant to the LR's unit in this
    /// sense; the fitter relies on it to fit in a canonical unit (<see cref="LrUnits"/>).
    /// </summary>
    public double[] RescaleLr(IReadOnlyList<double> p, double factor)
    {
        var q = new double[p.Count];
        for (int j = 0; j < q.Length; j++) q[j] = p[j] * Math.Pow(factor, Exponent(j, p));
        return q;
    }

    /// <summary>
    /// d RescaleLr(p, factor)_j / d p_k (row j, column k): the map is linear in each parameter except
    /// through the exponents that depend on another parameter, which add <c>q_j ln(factor)</c> in that column.
    /// </summary>
    public double[][] RescaleLrJacobian(IReadOnlyList<double> p, double factor)
    {
        var q = RescaleLr(p, factor);
        var d = new double[p.Count][];
        double lnF = Math.Log(factor);
        for (int j = 0; j < d.Length; j++)
        {
            d[j] = new double[p.Count];
            d[j][j] = Math.Pow(factor, Exponent(j, p));
            if (Parameters[j].LrPower.Plus is int k) d[j][k] += q[j] * lnF;
        }
        return d;
    }

    private double Exponent(int j, IReadOnlyList<double> p)
    {
        var e = Parameters[j].LrPower;
        return e.Constant + (e.Plus is int k ? p[k] : 0);
    }

    /// <summary>Index of a parameter by name; -1 when absent.</summary>
    public int IndexOf(string name)
    {
        for (int i = 0; i < Parameters.Count; i++) if (Parameters[i].Name == name) return i;
        return -1;
    }

    public sealed override string ToString() => Spec;

    /// <summary>Parses a law spec such as <c>momentum(lambda=fit)</c>.</summary>
    public static LossLaw Parse(string spec) => LawRegistry.Create(SpecCall.Parse(spec));
}

/// <summary>
/// The shared pre-fit every law starts from: <c>L0 + A*S1^-alpha - B*(eta_peak - eta_t)</c>
/// fitted on the reference grid (L0 = min loss +-0.2, A and alpha from a log-log regression +-0.1,
/// B in {100, 550, 1000}). <see cref="PeakLr"/> is the largest rate of any fitted run.
/// </summary>
public sealed record StartHint(double L0, double A, double Alpha, double B, double MinLoss, double PeakLr, int Seed);

/// <summary>
/// A law prepared for one run: evaluates the loss at the run's steps and, when
/// <c>jacobian</c> is non-empty, the analytic derivatives dL/dp (row-major,
/// <c>Count x Parameters</c>).
/// </summary>
public abstract class LawState(LawRun run)
{
    /// <summary>The run this state was prepared for.</summary>
    public LawRun Run { get; } = run;

    /// <summary>Writes L(t_i; p) to <paramref name="loss"/> and, if requested, dL/dp_j to jacobian[i*P + j].</summary>
    public abstract void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jacobian);

    /// <summary>
    /// Gives pooled buffers back once the caller is done with this state (short-lived prediction
    /// states); evaluating afterwards is an error. A state never released is simply collected.
    /// </summary>
    internal virtual void Release() { }
}

/// <summary>
/// The unit the fitter measures learning rates in. The starting points and the reference procedure
/// (the multi-power-law reference initialisation C = 1 and B in {100, 550, 1000}, AdamW steps of 5e-2 on
/// the raw parameters) were set for runs whose peak rate is 3e-4, so each fit divides every rate by
/// <c>peak / 3e-4</c>, fits, and converts the parameters back with <see cref="LossLaw.RescaleLr"/>: the
/// same runs in any LR unit give the same forecast, and runs with a 3e-4 peak are fitted unchanged.
/// </summary>
public static class LrUnits
{
    /// <summary>The peak rate the fitter's fixed constants were set for.</summary>
    public const double CanonicalPeak = 3e-4;
}

/// <summary>Cumulative sums and the peak of a per-step LR array, shared by the laws.</summary>
internal static class EtaMath
{
    /// <summary>P[i] = sum_{tau &lt; i} eta_tau with compensated summation (length n + 1).</summary>
    public static double[] Prefix(double[] eta)
    {
        var p = new double[eta.Length + 1];
        Prefix(eta, p);
        return p;
    }

    /// <summary>
    /// Writes P[0..n] for the n rates of <paramref name="eta"/> to <paramref name="p"/> (length n + 1).
    /// Neumaier's compensated sum: the running total's dependency chain is one addition per step,
    /// not Kahan's four, and the error stays O(eps) whatever n.
    /// </summary>
    public static void Prefix(ReadOnlySpan<double> eta, Span<double> p)
    {
        double s = 0, c = 0;
        p[0] = 0;
        for (int i = 0; i < eta.Length; i++)
        {
            double x = eta[i], t = s + x;
            c += Math.Abs(s) >= Math.Abs(x) ? (s - t) + x : (x - t) + s;
            s = t;
            p[i + 1] = s + c;
        }
    }

    /// <summary>First index of the maximum rate: the end of the warmup ramp.</summary>
    public static int PeakIndex(double[] eta)
    {
        int k = 0;
        for (int i = 1; i < eta.Length; i++) if (eta[i] > eta[k]) k = i;
        return k;
    }

    /// <summary>True when some post-peak step lowers the rate.</summary>
    public static bool HasDrop(double[] eta)
    {
        int k = PeakIndex(eta);
        for (int i = k + 1; i < eta.Length; i++) if (eta[i] < eta[i - 1]) return true;
        return false;
    }
}
