using System.Globalization;
using System.Text.Json.Nodes;

namespace Anneal.Laws;

/// <summary>
/// The seven parameters of the Multi-Power Law (Luo et al., "A Multi-Power Law for Loss Curve
/// Prediction Across Learning Rate Schedules", arXiv 2503.12811, ICLR 2025):
/// <code>
/// L(t)  = L0 + A * (S1(t) + S_W)^(-alpha) - LD(t)
/// LD(t) = B * sum_{k=1..t} (eta_{k-1} - eta_k) * G(eta_k^(-gamma) * S_k(t)),  G(x) = 1 - (C x + 1)^(-beta)
/// </code>
/// in the paper's convention: only post-warmup LR drops count (eta_0 = peak) and
/// S_W = 0.5 * peak * W for a linear warmup of W steps.
/// The multi-power law's parameter vector by name, as <see cref="MplFinalLoss"/> and schedule design use it
/// (the same order as <see cref="MultiPowerLaw"/>'s parameters).
/// </summary>
public sealed record MplParameters(double L0, double A, double Alpha, double B, double C, double Beta, double Gamma)
{
    // The published values (arXiv 2503.12811, reference code README) reproduce the published metrics in the reference
    // warmup convention (MplBenchmarkTests): BuiltinLaws gives them by name, with that convention, to every caller.

    /// <summary>Published 25M parameters (arXiv 2503.12811, reference code README).</summary>
    public static MplParameters Published25M { get; } = new(3.0405, 0.5247, 0.5079, 363.79, 2.0656, 0.5828, 0.6414);

    /// <summary>Published 100M parameters.</summary>
    public static MplParameters Published100M { get; } = new(2.6514, 0.6012, 0.4530, 437.95, 2.1325, 0.5979, 0.6552);

    /// <summary>Published 400M parameters.</summary>
    public static MplParameters Published400M { get; } = new(2.3747, 0.6542, 0.4288, 523.42, 2.0246, 0.5935, 0.6347);

    /// <summary>The parameters as [L0, A, alpha, B, C, beta, gamma] (the paper's order).</summary>
    public double[] ToArray() => [L0, A, Alpha, B, C, Beta, Gamma];

    /// <summary>Names in the order of <see cref="ToArray"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["L0", "A", "alpha", "B", "C", "beta", "gamma"];

    /// <summary>Throws <see cref="InputException"/> naming <paramref name="where"/> unless every parameter is finite and &gt; 0.</summary>
    public MplParameters Validate(string where)
    {
        var v = ToArray();
        for (int i = 0; i < v.Length; i++)
            if (!double.IsFinite(v[i]) || v[i] <= 0)
                throw new InputException($"{where}: MPL parameter {Names[i]} must be a finite number > 0, got {v[i].ToString("R", CultureInfo.InvariantCulture)}");
        return this;
    }

    /// <summary>The values by name, <c>{"L0": .., "A": .., ...}</c>, as design outputs list them.</summary>
    public JsonObject ToJson()
    {
        var p = new JsonObject();
        var v = ToArray();
        for (int i = 0; i < v.Length; i++) p[Names[i]] = v[i];
        return p;
    }

    /// <summary>The parameters of a fitted multi-power law, in the laws layer's order (the same as <see cref="ToArray"/>).</summary>
    public static MplParameters FromVector(IReadOnlyList<double> v)
    {
        if (v.Count != 7) throw new ArgumentException($"the multi-power law has 7 parameters, got {v.Count}");
        return new MplParameters(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
    }
}
