namespace Anneal.Planning;

/// <summary>
/// Synthetic runs with known truth, for examples and for tests that recover the constants.
/// Noise is multiplicative: <c>loss = L_true * exp(sigma * z)</c>, z standard normal (Box-Muller), seeded.
/// </summary>
public static class SyntheticRuns
{
    /// <summary>Model sizes of the bundled example.</summary>
    public static readonly double[] ExampleParams = [1e7, 3e7, 1e8, 3e8, 1e9];

    /// <summary>Tokens per parameter of the bundled example.</summary>
    public static readonly double[] ExampleTokensPerParam = [5, 10, 20, 40, 80];

    /// <summary>
    /// One run per (N, D = N * tokens-per-param) with loss from <paramref name="law"/>; lr and batch are
    /// set at the published Step Law optimum so that the file has every column.
    /// </summary>
    public static IReadOnlyList<ScalingRun> Chinchilla(ChinchillaLaw law, IReadOnlyList<double> sizes, IReadOnlyList<double> tokensPerParam, double sigma, int seed)
    {
        var rng = new Random(seed);
        var runs = new List<ScalingRun>();
        foreach (double n in sizes)
            foreach (double tpp in tokensPerParam)
            {
                double d = n * tpp;
                double loss = law.Loss(n, d) * Math.Exp(sigma * Normal(rng));
                runs.Add(new ScalingRun(n, d, StepLaw.Published.LearningRate(n, d), StepLaw.Published.BatchTokens(d), loss));
            }
        return runs;
    }

    /// <summary>
    /// A learning-rate x batch sweep at each (N, D): <c>loss = L(N, D) * (1 + kLr ln^2(eta/eta*) + kB ln^2(B/B*)) * exp(sigma z)</c>
    /// with the optimum (eta*, B*) from <paramref name="truth"/>. The sweep values are fixed absolute
    /// grids (not centred on the optimum), as in a real sweep.
    /// </summary>
    public static IReadOnlyList<ScalingRun> Sweep(ChinchillaLaw law, StepLaw truth, IReadOnlyList<double> sizes, IReadOnlyList<double> tokens,
                                                 IReadOnlyList<double> lrs, IReadOnlyList<double> batches, double kLr, double kB, double sigma, int seed)
    {
        var rng = new Random(seed);
        var runs = new List<ScalingRun>();
        foreach (double n in sizes)
            foreach (double d in tokens)
            {
                double baseLoss = law.Loss(n, d), lrOpt = truth.LearningRate(n, d), bOpt = truth.BatchTokens(d);
                foreach (double lr in lrs)
                    foreach (double b in batches)
                    {
                        double u = Math.Log(lr / lrOpt), v = Math.Log(b / bOpt);
                        double loss = baseLoss * (1 + kLr * u * u + kB * v * v) * Math.Exp(sigma * Normal(rng));
                        runs.Add(new ScalingRun(n, d, lr, b, loss));
                    }
            }
        return runs;
    }

    /// <summary>Geometric grid lo, lo*r, ... up to hi (inclusive within rounding).</summary>
    public static double[] Geometric(double lo, double hi, double ratio)
    {
        var list = new List<double>();
        for (double v = lo; v <= hi * (1 + 1e-9); v *= ratio) list.Add(v);
        return list.ToArray();
    }

    private static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
