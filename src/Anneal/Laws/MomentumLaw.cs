using Anneal.Specs;

namespace Anneal.Laws;

/// <summary>
/// Baseline power law in LR area (Kaplan-style, with the LR area as "time"):
/// <c>L(t) = L0 + A * S1(t)^(-alpha)</c>, <c>S1(t) = sum_{tau&lt;=t} eta_tau</c> (warmup included).
/// Fits constant-LR runs; cannot express the drop caused by LR decay: the baseline every other law must beat.
/// </summary>
public sealed record PowerLaw : LossLaw
{
    private static readonly LawParameter[] Params =
    [
        new("L0", 0, double.PositiveInfinity, "loss", "asymptotic loss"),
        new("A", 0, double.PositiveInfinity, "loss", "amplitude", new LrPower(0, Plus: 2)),
        new("alpha", 0, 5, "1", "exponent in LR area"),
    ];

    public override string Name => "powerlaw";

    public override string Summary => "baseline power law in LR area: L0 + A*S1^-alpha, 3 parameters";

    public override IReadOnlyList<LawParameter> Parameters => Params;

    public override SpecCall ToSpecCall() => new("powerlaw");

    internal static PowerLaw Create(SpecArgs a) => new();

    public override LawState Prepare(LawRun run) => new State(run);

    public override IEnumerable<double[]> Starts(StartHint h, IReadOnlyList<LawState> runs)
    {
        yield return [h.L0, h.A, h.Alpha];
        yield return [Math.Max(0.05, h.MinLoss - 0.5), h.A, h.Alpha];
    }

    private sealed class State : LawState
    {
        private readonly double[] _lnS1;

        public State(LawRun run) : base(run)
        {
            var pre = EtaMath.Prefix(run.Eta);
            _lnS1 = run.Steps.Select(t => Math.Log(pre[t + 1])).ToArray();
        }

        public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jac)
        {
            for (int i = 0; i < loss.Length; i++)
            {
                double pw = Math.Exp(-p[2] * _lnS1[i]);
                loss[i] = p[0] + p[1] * pw;
                if (jac.IsEmpty) continue;
                jac[3 * i] = 1; jac[3 * i + 1] = pw; jac[3 * i + 2] = -p[1] * pw * _lnS1[i];
            }
        }
    }
}

/// <summary>
/// Momentum law (Tissue et al., "Scaling Law with Learning Rate Annealing", arXiv 2408.11029):
/// <code>
/// L(t) = L0 + A * S1(t)^(-alpha) - C * S2(t),   S2(t) = sum_{i&lt;=t} m_i,   m_i = lambda * m_{i-1} + (eta_{i-1} - eta_i)
/// </code>
/// Only post-warmup decrements enter m (warmup increases are not "annealing"). lambda is fixed
/// (0.999 as in the paper) or fitted (<c>momentum(lambda=fit)</c>); lambda = 0 gives S2 = eta_peak - eta_t.
/// </summary>
public sealed record MomentumLaw(double? Lambda = 0.999) : LossLaw
{
    private static readonly LawParameter[] Base =
    [
        new("L0", 0, double.PositiveInfinity, "loss", "asymptotic loss"),
        new("A", 0, double.PositiveInfinity, "loss", "amplitude of the LR-area power law", new LrPower(0, Plus: 2)),
        new("alpha", 0, 5, "1", "exponent in LR area"),
        new("C", 0, double.PositiveInfinity, "loss/lr", "loss drop per unit of annealing area S2", new LrPower(-1)),
    ];

    private static readonly LawParameter[] WithLambda = [.. Base, new("lambda", 0, 1, "1", "decay of the annealing momentum per step")];

    /// <summary>True when lambda is a fitted parameter.</summary>
    public bool FitLambda => Lambda is null;

    public override string Name => "momentum";

    public override string Summary => "momentum law (Tissue et al. 2024): L0 + A*S1^-alpha - C*S2, 4 parameters (+ lambda)";

    public override IReadOnlyList<LawParameter> Parameters => FitLambda ? WithLambda : Base;

    public override SpecCall ToSpecCall()
    {
        if (Lambda is { } l) return new SpecBuilder("momentum").NumIf("lambda", l, 0.999).Build();
        return new SpecBuilder("momentum").Word("lambda", "fit").Build();
    }

    internal static MomentumLaw Create(SpecArgs a)
    {
        var raw = a.Raw("lambda");
        if (raw is null) return new MomentumLaw(0.999);
        if (raw is SpecText { Value: "fit" }) return new MomentumLaw((double?)null);
        if (raw is SpecNumber n && n.Value >= 0 && n.Value < 1) return new MomentumLaw(n.Value);
        throw a.Fail($"lambda must be a number in [0, 1) or the word fit, got {raw}");
    }

    public override LawState Prepare(LawRun run) => new State(run, Lambda);

    public override IReadOnlyList<FixedParameter> NonIdentifiable(IReadOnlyList<LawState> runs)
    {
        if (runs.Any(r => EtaMath.HasDrop(r.Run.Eta))) return [];
        const string why = "no fitted run lowers its learning rate after the warmup, so the annealing term cannot be fitted; it is held at zero";
        return FitLambda ? [new(3, 0, why), new(4, 0.999, why)] : [new(3, 0, why)];
    }

    public override IEnumerable<double[]> Starts(StartHint h, IReadOnlyList<LawState> runs)
    {
        // The pre-fit's B*(eta_peak - eta_t) is S2 at lambda = 0; at lambda the same drop gives an S2
        // that grows about 1/(1 - lambda) times faster, so C starts smaller by that factor.
        double lam = Lambda ?? 0.999;
        double c = h.B * (1 - lam) + 1e-3;
        if (FitLambda)
        {
            yield return [h.L0, h.A, h.Alpha, c, lam];
            yield return [h.L0, h.A, h.Alpha, h.B * 0.01, 0.99];
            yield return [h.L0, h.A, h.Alpha, h.B * 0.5, 0.5];
        }
        else
        {
            yield return [h.L0, h.A, h.Alpha, c];
            yield return [h.L0, h.A, h.Alpha, c * 10];
        }
    }

    private sealed class State : LawState
    {
        private readonly double[] _lnS1;
        private readonly double[] _drop;   // post-warmup eta_{i-1} - eta_i, 0 elsewhere
        private readonly double[]? _s2;    // S2 at the run's steps when lambda is fixed

        public State(LawRun run, double? lambda) : base(run)
        {
            var eta = run.Eta;
            var pre = EtaMath.Prefix(eta);
            _lnS1 = run.Steps.Select(t => Math.Log(pre[t + 1])).ToArray();
            int peak = EtaMath.PeakIndex(eta);
            _drop = new double[eta.Length];
            for (int i = peak + 1; i < eta.Length; i++) _drop[i] = eta[i - 1] - eta[i];
            if (lambda is { } l)
            {
                _s2 = new double[run.Count];
                S2(l, _s2, default);
            }
        }

        private void S2(double lambda, Span<double> s2, Span<double> ds2)
        {
            double m = 0, dm = 0, s = 0, ds = 0;
            int j = 0;
            long last = Run.Steps[^1];
            for (long i = 0; i <= last; i++)
            {
                dm = m + lambda * dm;          // d m_i / d lambda, using m_{i-1}
                m = lambda * m + _drop[i];
                s += m; ds += dm;
                if (i == Run.Steps[j])
                {
                    s2[j] = s;
                    if (!ds2.IsEmpty) ds2[j] = ds;
                    j++;
                }
            }
        }

        public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jac)
        {
            int n = loss.Length, np = _s2 is null ? 5 : 4;
            double[]? s2 = _s2, ds2 = null;
            if (s2 is null)
            {
                s2 = new double[n]; ds2 = new double[n];
                S2(p[4], s2, ds2);
            }
            for (int i = 0; i < n; i++)
            {
                double pw = Math.Exp(-p[2] * _lnS1[i]);
                loss[i] = p[0] + p[1] * pw - p[3] * s2[i];
                if (jac.IsEmpty) continue;
                var row = jac.Slice(np * i, np);
                row[0] = 1; row[1] = pw; row[2] = -p[1] * pw * _lnS1[i]; row[3] = -s2[i];
                if (ds2 is not null) row[4] = -p[3] * ds2[i];
            }
        }
    }
}

/// <summary>
/// Forward-momentum law (Wang et al., AAAI 2026, arXiv 2512.13705):
/// <code>
/// L = L0 + A * S^(-alpha) + B * N^(-alpha_N) - C * M
/// S_i = S_{i-1} + eta_i,   d_i = (eta_{i-1} - eta_i) / eta_peak   (post-warmup decrements)
/// m_i = 0.9 m + 0.1 d_i,  v_i = 0.999 v + 0.001 d_i^2,  M_i = M_{i-1} + m_hat / (sqrt(v_hat) + 1e-8)
/// </code>
/// (bias-corrected m_hat, v_hat with the global step count). Decrements are measured in units of
/// the peak rate so that eps is scale-free. With one model size per fit, B*N^-alpha_N is a constant
/// folded into L0; <c>fm(n=1e8)</c> records N with the fit.
/// </summary>
public sealed record ForwardMomentumLaw(double? N = null) : LossLaw
{
    private static readonly LawParameter[] Params =
    [
        new("L0", 0, double.PositiveInfinity, "loss", "asymptotic loss (includes B*N^-alpha_N for this model size)"),
        new("A", 0, double.PositiveInfinity, "loss", "amplitude of the LR-area power law", new LrPower(0, Plus: 2)),
        new("alpha", 0, 5, "1", "exponent in LR area"),
        new("C", 0, double.PositiveInfinity, "loss", "loss drop per unit of forward momentum M"),
    ];

    public override string Name => "fm";

    public override string Summary => "forward-momentum law (Wang et al. 2026): L0 + A*S^-alpha - C*M, 4 parameters";

    public override IReadOnlyList<LawParameter> Parameters => Params;

    public override SpecCall ToSpecCall() => new SpecBuilder("fm").NumIf("n", N).Build();

    internal static ForwardMomentumLaw Create(SpecArgs a)
    {
        var n = a.OptionalNumber("n");
        if (n is { } v && !(v > 0)) throw a.Fail($"n (model size in parameters) must be > 0, got {v}");
        return new ForwardMomentumLaw(n);
    }

    public override LawState Prepare(LawRun run) => new State(run);

    public override IReadOnlyList<FixedParameter> NonIdentifiable(IReadOnlyList<LawState> runs) =>
        runs.Any(r => EtaMath.HasDrop(r.Run.Eta)) ? [] :
        [new(3, 0, "no fitted run lowers its learning rate after the warmup, so the momentum term cannot be fitted; it is held at zero")];

    public override IEnumerable<double[]> Starts(StartHint h, IReadOnlyList<LawState> runs)
    {
        // Match the pre-fit's drop B*(eta_peak - eta_min) with C * max M.
        double mMax = runs.Select(r => ((State)r).MaxM).DefaultIfEmpty(1).Max();
        double drop = h.B * h.PeakLr * 0.9;
        yield return [h.L0, h.A, h.Alpha, mMax > 0 ? drop / mMax : 1e-4];
        yield return [h.L0, h.A, h.Alpha, mMax > 0 ? 0.1 * drop / mMax : 1e-5];
    }

    private sealed class State : LawState
    {
        private readonly double[] _lnS;
        private readonly double[] _m;

        public double MaxM { get; }

        public State(LawRun run) : base(run)
        {
            var eta = run.Eta;
            var pre = EtaMath.Prefix(eta);
            _lnS = run.Steps.Select(t => Math.Log(pre[t + 1])).ToArray();
            int peak = EtaMath.PeakIndex(eta);
            double scale = eta[peak] > 0 ? eta[peak] : 1;
            _m = new double[run.Count];
            double m = 0, v = 0, acc = 0, b1 = 1, b2 = 1;
            int j = 0;
            for (long i = 0; i <= run.Steps[^1]; i++)
            {
                double d = i > peak ? (eta[i - 1] - eta[i]) / scale : 0;
                m = 0.9 * m + 0.1 * d;
                v = 0.999 * v + 0.001 * d * d;
                b1 *= 0.9; b2 *= 0.999;
                double mh = m / (1 - b1), vh = v / (1 - b2);
                acc += mh / (Math.Sqrt(vh) + 1e-8);
                if (i == run.Steps[j]) _m[j++] = acc;
            }
            MaxM = _m.Length == 0 ? 0 : _m.Max();
        }

        public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jac)
        {
            for (int i = 0; i < loss.Length; i++)
            {
                double pw = Math.Exp(-p[2] * _lnS[i]);
                loss[i] = p[0] + p[1] * pw - p[3] * _m[i];
                if (jac.IsEmpty) continue;
                var row = jac.Slice(4 * i, 4);
                row[0] = 1; row[1] = pw; row[2] = -p[1] * pw * _lnS[i]; row[3] = -_m[i];
            }
        }
    }
}

/// <summary>
/// Convex-bound law (Schaipp et al., ICML 2025, "The surprising agreement between convex
/// optimization theory and learning-rate scheduling for large model training"): the last-iterate
/// bound of SGD on a convex Lipschitz problem, evaluated for the schedule truncated at t (T = t+1 steps),
/// <code>
/// bound(T) = D^2 / (2 sum eta) + sum eta_t^2 G_t^2 / (2 sum eta) + 1/2 sum_{k&lt;T-1} (eta_k / alpha_k) (gamma_k / beta_k)
/// alpha_k = sum_{s&gt;k} eta_s,  beta_k = sum_{s&gt;=k} eta_s,  gamma_k = sum_{s&gt;=k} eta_s^2 G_s^2
/// </code>
/// (sums over s &lt; T), fitted as <c>L = c0 + c1 * bound</c>; D2 = D^2 is the third parameter.
/// <c>convex</c> / <c>convex(grad=unit)</c> takes G_t = 1 (the paper's choice when norms are unknown);
/// <c>convex(grad=logged)</c> takes G_t from <see cref="LawRun.GradNorm"/> (the logged global gradient norm
/// of update t, interpolated between logged steps). A run without gradient norms (a schedule to predict)
/// must be given them first, e.g. by <see cref="LawRun.WithGradNormFrom"/> (the mean of the fitted runs'
/// norms at the same progress), which <c>anneal evaluate</c> applies to every held-out run.
/// </summary>
public sealed record ConvexBoundLaw(bool LoggedGrad = false) : LossLaw
{
    private static readonly LawParameter[] Params =
    [
        new("c0", 0, double.PositiveInfinity, "loss", "loss offset"),
        new("c1", 0, double.PositiveInfinity, "loss/bound", "loss per unit of the bound", new LrPower(-1)),
        new("D2", 0, double.PositiveInfinity, "lr*G^2", "squared distance to the optimum, D^2 (in units of lr times squared gradient norm)", new LrPower(2)),
    ];

    public override string Name => "convex";

    public override string Summary => LoggedGrad
        ? "convex-bound law (Schaipp et al. 2025): c0 + c1*bound(schedule, logged G_t; D^2), 3 parameters"
        : "convex-bound law (Schaipp et al. 2025): c0 + c1*bound(schedule; D^2, G=1), 3 parameters";

    public override IReadOnlyList<LawParameter> Parameters => Params;

    public override SpecCall ToSpecCall() => LoggedGrad ? new SpecBuilder("convex").Word("grad", "logged").Build() : new("convex");

    internal static ConvexBoundLaw Create(SpecArgs a)
    {
        var raw = a.Raw("grad");
        return raw switch
        {
            null or SpecText { Value: "unit" } => new ConvexBoundLaw(false),
            SpecText { Value: "logged" } => new ConvexBoundLaw(true),
            _ => throw a.Fail($"grad must be logged (per-step gradient norms from the grad_norm column) or unit (G = 1), got {raw}"),
        };
    }

    public override LawState Prepare(LawRun run)
    {
        if (LoggedGrad && run.GradNorm is null)
            throw new InputException($"{run.Name}: convex(grad=logged) needs the gradient norm of every step, and this run has none. " +
                "Log a grad_norm column (anneal train does), estimate it from the fitted runs (anneal evaluate does: the mean norm at the same progress), or use convex(grad=unit)");
        return new State(run, LoggedGrad ? run.GradNorm : null);
    }

    public override IEnumerable<double[]> Starts(StartHint h, IReadOnlyList<LawState> runs)
    {
        // For fixed D2 the law is linear in (c0, c1): scan D2 on a log grid and solve each exactly.
        // D^2 enters beside sum eta^2 G^2, so the grid is centred on the runs' mean G^2 (1 with G = 1).
        double g2 = runs.Select(r => ((State)r).MeanG2).DefaultIfEmpty(1).Average();
        double shift = g2 > 0 && double.IsFinite(g2) ? Math.Round(Math.Log10(g2) * 4) / 4 : 0;
        var best = new List<(double Sse, double[] P)>();
        for (double lg = -4 + shift; lg <= 3 + shift; lg += 0.25)
        {
            double d2 = Math.Pow(10, lg);
            double sx = 0, sy = 0, sxx = 0, sxy = 0; int n = 0;
            foreach (State s in runs)
                for (int i = 0; i < s.Run.Count; i++)
                {
                    double x = d2 * s.A[i] + s.B[i], y = s.Run.Observed![i];
                    sx += x; sy += y; sxx += x * x; sxy += x * y; n++;
                }
            double det = n * sxx - sx * sx;
            if (n < 2 || det <= 0) continue;
            double c1 = (n * sxy - sx * sy) / det, c0 = (sy - c1 * sx) / n;
            if (!(c1 > 0) || !(c0 > 0)) continue;
            double sse = 0;
            foreach (State s in runs)
                for (int i = 0; i < s.Run.Count; i++) { double r = s.Run.Observed![i] - c0 - c1 * (d2 * s.A[i] + s.B[i]); sse += r * r; }
            best.Add((sse, [c0, c1, d2]));
        }
        foreach (var b in best.OrderBy(b => b.Sse).Take(3)) yield return b.P;
        yield return [Math.Max(0.05, h.MinLoss - 0.3), 1, 1];
    }

    internal sealed class State : LawState
    {
        /// <summary>Coefficient of D^2 in the bound: 1 / (2 sum eta).</summary>
        public double[] A { get; }
        /// <summary>The D-free part of the bound.</summary>
        public double[] B { get; }

        /// <summary>Mean of G_t^2 over the run's steps (1 when G = 1).</summary>
        public double MeanG2 { get; }

        /// <param name="run">The run.</param>
        /// <param name="grad">G_t per step (same length as the run's eta), or null for G = 1.</param>
        public State(LawRun run, double[]? grad = null) : base(run)
        {
            var eta = run.Eta;
            var p = EtaMath.Prefix(eta);
            var sq = new double[eta.Length];
            double g2 = 0;
            for (int i = 0; i < eta.Length; i++)
            {
                double gi = grad is null ? 1 : grad[i];
                sq[i] = eta[i] * eta[i] * gi * gi;
                g2 += gi * gi;
            }
            MeanG2 = eta.Length > 0 ? g2 / eta.Length : 1;
            var q = EtaMath.Prefix(sq);
            A = new double[run.Count]; B = new double[run.Count];
            for (int j = 0; j < run.Count; j++)
            {
                long t = run.Steps[j];
                double total = p[t + 1];
                if (!(total > 0)) { A[j] = double.PositiveInfinity; B[j] = 0; continue; }
                double tail = 0;
                for (long k = 0; k < t; k++)
                {
                    double ek = eta[k];
                    if (ek == 0) continue;
                    double alpha = p[t + 1] - p[k + 1], beta = p[t + 1] - p[k], gamma = q[t + 1] - q[k];
                    if (alpha > 0) tail += ek / alpha * (gamma / beta);
                }
                A[j] = 1 / (2 * total);
                B[j] = q[t + 1] / (2 * total) + 0.5 * tail;
            }
        }

        public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jac)
        {
            for (int i = 0; i < loss.Length; i++)
            {
                double bound = p[2] * A[i] + B[i];
                loss[i] = p[0] + p[1] * bound;
                if (jac.IsEmpty) continue;
                jac[3 * i] = 1; jac[3 * i + 1] = bound; jac[3 * i + 2] = p[1] * A[i];
            }
        }
    }
}
