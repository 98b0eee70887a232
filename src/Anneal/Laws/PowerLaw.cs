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
