namespace Anneal.Design;

/// <summary>Golden-section search, the one-dimensional minimiser of the family searches.</summary>
internal static class GoldenSection
{
    /// <summary>Golden-section minimisation of a unimodal f on [a, b] to width <paramref name="tol"/>.</summary>
    public static double Minimize(Func<double, double> f, double a, double b, double tol)
    {
        if (b < a) (a, b) = (b, a);
        const double R = 0.6180339887498949;
        double c = b - R * (b - a), d = a + R * (b - a);
        double fc = f(c), fd = f(d);
        while (b - a > tol)
        {
            if (fc < fd) { b = d; d = c; fd = fc; c = b - R * (b - a); fc = f(c); }
            else { a = c; c = d; fc = fd; d = a + R * (b - a); fd = f(d); }
        }
        return fc < fd ? c : d;
    }
}
