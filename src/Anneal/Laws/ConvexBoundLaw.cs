using Anneal.Specs;

namespace Anneal.Laws;

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
/// <para>
/// <c>convex(area=fit)</c> (<paramref name="FitArea"/>) replaces the distance term's <c>D^2 / (2 sum eta)</c> by
/// <c>D^2 / (2 eta_max^(1-a) (sum eta)^a)</c> with a in [0.05, 1] a fourth parameter (a = 1 is the bound; eta_max, the run's
/// peak rate, keeps the law equivariant to the rate's unit): for a constant rate the bound's distance term falls as
/// 1 / (eta T) while its noise term grows as (eta / 2) ln T, so fitted at a short horizon the two cancel beyond it and the
/// bound's constant part flattens (docs/journal/session-14-members.md and docs/journal/session-15-far-horizons.md).
/// </para>
/// </summary>
/// <param name="LoggedGrad">G_t from the logged gradient norms (true) or 1.</param>
/// <param name="FitArea">Fit the distance term's power of the rate's area (<c>area=fit</c>).</param>
public sealed record ConvexBoundLaw(bool LoggedGrad = false, bool FitArea = false) : LossLaw
{
    private static readonly LawParameter[] Params =
    [
        new("c0", 0, double.PositiveInfinity, "loss", "loss offset"),
        new("c1", 0, double.PositiveInfinity, "loss/bound", "loss per unit of the bound", new LrPower(-1)),
        new("D2", 0, double.PositiveInfinity, "lr*G^2", "squared distance to the optimum, D^2 (in units of lr times squared gradient norm)", new LrPower(2)),
    ];

    private static readonly LawParameter[] AreaParams =
    [
        .. Params,
        new("a", 0.05, 1, "1", "power of the rate's area in the distance term, D^2 / (2 eta_max^(1-a) (sum eta)^a) (1: the bound)"),
    ];

    public override string Name => "convex";

    public override string Summary => LoggedGrad
        ? "convex-bound law (Schaipp et al. 2025): c0 + c1*bound(schedule, logged G_t; D^2), 3 parameters"
        : "convex-bound law (Schaipp et al. 2025): c0 + c1*bound(schedule; D^2, G=1), 3 parameters";

    public override IReadOnlyList<LawParameter> Parameters => FitArea ? AreaParams : Params;

    public override SpecCall ToSpecCall() => new SpecBuilder("convex").WordIf("grad", LoggedGrad ? "logged" : "unit", "unit").WordIf("area", FitArea ? "fit" : "bound", "bound").Build();

    internal static ConvexBoundLaw Create(SpecArgs a)
    {
        var raw = a.Raw("grad");
        bool logged = raw switch
        {
            null or SpecText { Value: "unit" } => false,
            SpecText { Value: "logged" } => true,
            _ => throw a.Fail($"grad must be logged (per-step gradient norms from the grad_norm column) or unit (G = 1), got {raw}"),
        };
        bool area = a.Word("area", "bound") switch
        {
            "bound" => false,
            "fit" => true,
            var w => throw a.Fail($"area must be fit (the distance term's power of the rate's area fitted) or bound (1, the bound's), got {w}"),
        };
        return new ConvexBoundLaw(logged, area);
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
        // With the area's power fitted, each start begins at the bound (a = 1) and once halfway to the power laws' exponents.
        double[][] powers = FitArea ? [[1], [0.5]] : [[]];
        foreach (var a in powers)
        {
            foreach (var b in best.OrderBy(b => b.Sse).Take(3)) yield return [.. b.P, .. a];
            yield return [Math.Max(0.05, h.MinLoss - 0.3), 1, 1, .. a];
        }
    }

    internal sealed class State : LawState
    {
        /// <summary>Coefficient of D^2 in the bound: 1 / (2 sum eta).</summary>
        public double[] A { get; }
        /// <summary>The D-free part of the bound.</summary>
        public double[] B { get; }

        /// <summary>Mean of G_t^2 over the run's steps (1 when G = 1).</summary>
        public double MeanG2 { get; }

        /// <summary>ln((sum eta) / eta_max) per point: <c>A_a = A (sum eta / eta_max)^(1-a)</c> with <c>area=fit</c>.</summary>
        private readonly double[] _lnArea;

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
            _lnArea = new double[run.Count];
            double peak = eta.Length > 0 ? eta.Max() : 0;
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
                _lnArea[j] = peak > 0 ? Math.Log(total / peak) : 0;
            }
        }

        public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jac)
        {
            int np = p.Length;
            for (int i = 0; i < loss.Length; i++)
            {
                // area=fit: D^2 / (2 eta_max^(1-a) S^a) = A (S / eta_max)^(1-a), its derivative in a -A_a ln(S / eta_max).
                double a = np == 4 ? A[i] * Math.Exp((1 - p[3]) * _lnArea[i]) : A[i];
                double bound = p[2] * a + B[i];
                loss[i] = p[0] + p[1] * bound;
                if (jac.IsEmpty) continue;
                jac[np * i] = 1; jac[np * i + 1] = bound; jac[np * i + 2] = p[1] * a;
                if (np == 4) jac[np * i + 3] = -p[1] * p[2] * a * _lnArea[i];
            }
        }
    }
}
