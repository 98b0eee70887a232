namespace Anneal.Tuning;

/// <summary>
/// Expected improvement in log space, for minimisation. EI(x) = σ h(z), z = (best − μ)/σ, h(z) = φ(z) + zΦ(z)
/// (Jones, Schonlau &amp; Welch 1998). Far from the incumbent h(z) underflows to 0 in double precision, which leaves the
/// acquisition optimiser on a flat landscape; log h is computed stably everywhere as in Ament, Daulton, Eriksson,
/// Balandat &amp; Bakshy, "Unexpected Improvements to Expected Improvement for Bayesian Optimization" (NeurIPS 2023), eq. 9.
/// </summary>
public static class Acquisition
{
    private static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);
    private static readonly double HalfLogPiOver2 = 0.5 * Math.Log(Math.PI / 2);
    private static readonly double InvSqrtEps = 1 / Math.Sqrt(2.220446049250313e-16); // 1/√(machine epsilon)

    /// <summary>log h(z), h(z) = φ(z) + zΦ(z), finite for every finite z (Ament et al. 2023, eq. 9).</summary>
    public static double LogH(double z)
    {
        if (z > -1)
        {
            // No cancellation here: both terms are positive for z ≥ 0, and for -1 < z < 0 φ dominates |z|Φ by a margin.
            return Math.Log(Phi(z) + z * NormalCdf(z));
        }
        if (z > -InvSqrtEps)
        {
            // h = φ(z) (1 − |z| Φ(z)/φ(z)) and Φ(z)/φ(z) = √(π/2) erfcx(−z/√2).
            return -0.5 * z * z - HalfLog2Pi + Log1mExp(Math.Log(Erfcx(-z / Math.Sqrt(2)) * Math.Abs(z)) + HalfLogPiOver2);
        }
        // Past 1/√ε the bracket is 1/z² to machine precision (Mills-ratio series h ≈ φ(z)/z²).
        return -0.5 * z * z - HalfLog2Pi - 2 * Math.Log(Math.Abs(z));
    }

    /// <summary>log EI for minimisation at a point with posterior mean <paramref name="mean"/> and standard deviation <paramref name="sd"/>, incumbent <paramref name="best"/>.</summary>
    public static double LogExpectedImprovement(double mean, double sd, double best) => LogH((best - mean) / sd) + Math.Log(sd);

    /// <summary>Standard normal density.</summary>
    public static double Phi(double z) => Math.Exp(-0.5 * z * z - HalfLog2Pi);

    /// <summary>Standard normal distribution function.</summary>
    public static double NormalCdf(double z) => 0.5 * MathNet.Numerics.SpecialFunctions.Erfc(-z / Math.Sqrt(2));

    /// <summary>log(1 − eˣ) for x &lt; 0 (Mächler 2012: via expm1 near 0, via log1p far from it).</summary>
    public static double Log1mExp(double x) => x > -Math.Log(2) ? Math.Log(-Expm1(x)) : Log1p(-Math.Exp(x));

    /// <summary>eˣ − 1 without cancellation near 0 (Kahan's trick; .NET's double.ExpM1 is exp(x) − 1).</summary>
    public static double Expm1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1) return x;
        double um1 = u - 1;
        if (um1 == -1) return -1;
        return um1 * x / Math.Log(u);
    }

    /// <summary>log(1 + x) without cancellation near 0 (Kahan's trick).</summary>
    public static double Log1p(double x)
    {
        double u = 1 + x;
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }

    /// <summary>
    /// The scaled complementary error function erfcx(x) = exp(x²) erfc(x) for x ≥ 0: directly below 10 (erfc keeps its
    /// relative accuracy there and exp(x²) is finite), by its asymptotic series 1/(x√π) Σ (−1)^k (2k−1)!!/(2x²)^k above
    /// (Abramowitz &amp; Stegun 7.1.23), summed until the terms stop shrinking.
    /// </summary>
    public static double Erfcx(double x)
    {
        if (x < 0) throw new ArgumentOutOfRangeException(nameof(x), "erfcx is used for x >= 0 only");
        if (x < 10) return Math.Exp(x * x) * MathNet.Numerics.SpecialFunctions.Erfc(x);
        double inv2x2 = 1 / (2 * x * x), term = 1, sum = 1;
        for (int k = 1; k < 200; k++)
        {
            double next = -term * (2 * k - 1) * inv2x2;
            if (Math.Abs(next) >= Math.Abs(term)) break; // the asymptotic series starts to diverge
            term = next;
            sum += term;
            if (Math.Abs(term) < 1e-17) break;
        }
        return sum / (x * Math.Sqrt(Math.PI));
    }
}
