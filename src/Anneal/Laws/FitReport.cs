namespace Anneal.Laws;

/// <summary>How a fit went: objective, effort, convergence and warnings.</summary>
public sealed record FitReport
{
    /// <summary>Final objective: sum of weighted Huber(log obs - log pred).</summary>
    public double Objective { get; init; }
    /// <summary>Iterations of the best start.</summary>
    public int Iterations { get; init; }
    /// <summary>Iterations over all starts.</summary>
    public int TotalIterations { get; init; }
    /// <summary>Law evaluations over all starts.</summary>
    public int Evaluations { get; init; }
    /// <summary>Number of starting points tried.</summary>
    public int Starts { get; init; }
    /// <summary>Starts that converged.</summary>
    public int ConvergedStarts { get; init; }
    /// <summary>Whether the best start converged.</summary>
    public bool Converged { get; init; }
    /// <summary>Wall time of the whole fit in seconds.</summary>
    public double WallSeconds { get; init; }
    /// <summary>Logged points fitted.</summary>
    public int Points { get; init; }
    /// <summary>Names of the fitted runs.</summary>
    public string[] Runs { get; init; } = [];
    /// <summary>Root-mean-square residual of log loss at the optimum.</summary>
    public double RmsLogResidual { get; init; }
    /// <summary>Variance inflation (1+rho)/(1-rho) for lag-1 autocorrelated residuals, applied to the covariance.</summary>
    public double Inflation { get; init; } = 1;
    /// <summary>Huber threshold used.</summary>
    public double HuberDelta { get; init; }
    /// <summary>Whether runs were weighted equally.</summary>
    public bool EqualRunWeights { get; init; }
    /// <summary>Seed of the random starts.</summary>
    public int Seed { get; init; }
    /// <summary>How the objective was minimised.</summary>
    public Anneal.Fitting.FitMethod Method { get; init; }
    /// <summary>Parameters held fixed because the data cannot determine them.</summary>
    public string[] Fixed { get; init; } = [];
    /// <summary>Everything the user should know about this fit.</summary>
    public string[] Warnings { get; init; } = [];
}
