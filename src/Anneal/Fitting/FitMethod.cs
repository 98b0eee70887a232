namespace Anneal.Fitting;

/// <summary>How <see cref="LawFitter.Fit"/> minimises the objective.</summary>
public enum FitMethod
{
    /// <summary>
    /// Levenberg-Marquardt from every start, the best polished to convergence: the exact minimiser
    /// of the Huber objective on the fitted runs.
    /// </summary>
    Optimum,
    /// <summary>
    /// Early-stopped AdamW, the multi-power-law reference procedure (Luo et al. 2025, MIT code): from the reference
    /// initialisation only, at most 200 AdamW steps on the raw parameters (learning rate 5e-2 for
    /// parameters with a one-sided bound such as L0, A, B, C and 5e-3 for interval-bounded exponents
    /// such as alpha, beta, gamma; betas 0.9/0.999, eps 1e-8, weight decay 0.01), stopped after 20
    /// steps without improvement, keeping the best point seen. It is deliberately not run to
    /// convergence: the early stop keeps the parameters near the initialisation, a regulariser.
    /// </summary>
    EarlyStoppedAdamW,
}
