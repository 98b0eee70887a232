namespace Anneal.Planning;

/// <summary>
/// Where a published number comes from and how accurate its authors say it is. Printed next to every
/// recommendation so a user can judge how much to trust it.
/// </summary>
/// <param name="Name">Short label, e.g. "Step Law".</param>
/// <param name="Citation">Paper and identifier.</param>
/// <param name="Accuracy">The authors' own accuracy statement, in our words.</param>
public sealed record LawSource(string Name, string Citation, string Accuracy);

/// <summary>
/// Step Law (Li et al., "Predictable Scale: Part I — Optimal Hyperparameter Scaling Law in Large
/// Language Model Pretraining", arXiv 2503.04715):
/// <c>eta_opt(N, D) = 1.79 * N^-0.713 * D^0.307</c> and <c>B_opt(D) = 0.58 * D^0.571</c>, with N the
/// non-embedding parameter count, D the training tokens and B in tokens per optimizer step.
/// Fitted on runs whose final loss is within 0.25% of the best at each (N, D); the predicted
/// optimum is reported within about 0.09% of the exhaustive-search best loss.
/// </summary>
public sealed record StepLaw(double LrCoefficient = 1.79, double LrParamsExponent = -0.713, double LrTokensExponent = 0.307,
                             double BatchCoefficient = 0.58, double BatchTokensExponent = 0.571)
{
    /// <summary>The published constants.</summary>
    public static StepLaw Published { get; } = new();

    public static LawSource Source { get; } = new("Step Law",
        "Li et al. 2025, Predictable Scale: Part I (arXiv 2503.04715)",
        "fitted on runs within 0.25% of the best loss at each (N, D); predicted optimum within ~0.09% of the grid-search best loss");

    /// <summary><c>eta = c * N^p * D^q</c>.</summary>
    public double LearningRate(double nonEmbeddingParams, double tokens) =>
        LrCoefficient * Math.Pow(nonEmbeddingParams, LrParamsExponent) * Math.Pow(tokens, LrTokensExponent);

    /// <summary><c>B = c * D^r</c> in tokens per optimizer step.</summary>
    public double BatchTokens(double tokens) => BatchCoefficient * Math.Pow(tokens, BatchTokensExponent);
}

/// <summary>
/// DeepSeek LLM compute law (DeepSeek-AI, "DeepSeek LLM: Scaling Open-Source Language Models with
/// Longtermism", arXiv 2401.02954): <c>eta_opt = 0.3118 * C^-0.1250</c>, <c>B_opt = 0.2920 * C^0.3271</c>
/// with C = M * D in FLOPs (M = non-embedding FLOPs per token) and B in tokens. Fitted on runs whose
/// generalization error is within 0.25% of the minimum (the "near-optimal" band).
/// </summary>
public sealed record DeepSeekLaw(double LrCoefficient = 0.3118, double LrExponent = -0.1250,
                                 double BatchCoefficient = 0.2920, double BatchExponent = 0.3271)
{
    public static DeepSeekLaw Published { get; } = new();

    public static LawSource Source { get; } = new("DeepSeek",
        "DeepSeek-AI 2024, DeepSeek LLM (arXiv 2401.02954)",
        "fitted on runs within 0.25% of the minimum loss (near-optimal band); a wide band of (eta, B) is near-optimal");

    public double LearningRate(double flops) => LrCoefficient * Math.Pow(flops, LrExponent);

    public double BatchTokens(double flops) => BatchCoefficient * Math.Pow(flops, BatchExponent);

    /// <summary>
    /// DeepSeek's non-embedding FLOPs per token, <c>M = 72 n_layer d_model^2 + 12 n_layer d_model l_seq</c>
    /// (the second term is attention-score compute, which 6N leaves out).
    /// </summary>
    public static double FlopsPerToken(int layers, int dModel, int seqLen) =>
        72.0 * layers * (double)dModel * dModel + 12.0 * layers * (double)dModel * seqLen;
}

/// <summary>
/// Chinchilla parametric loss (Hoffmann et al. 2022, "Training Compute-Optimal Large Language
/// Models", arXiv 2203.15556, approach 3): <c>L(N, D) = E + A / N^alpha + B / D^beta</c>.
/// Under the budget <c>C = 6 N D</c> the loss-minimising allocation has the closed form
/// <c>N_opt = G (C/6)^a</c>, <c>D_opt = G^-1 (C/6)^b</c>, <c>a = beta/(alpha+beta)</c>,
/// <c>b = alpha/(alpha+beta)</c>, <c>G = (alpha A / (beta B))^(1/(alpha+beta))</c>.
/// </summary>
public sealed record ChinchillaLaw(double E, double A, double B, double Alpha, double Beta)
{
    /// <summary>
    /// Hoffmann et al.'s published fit, unrounded (log A = 6.0073404, log B = 6.0179186,
    /// log E = 0.5267228, alpha = 0.33917084, beta = 0.2849083); the rounded values printed in the
    /// paper (E = 1.69, A = 406.4, B = 410.7, 0.34, 0.28) give visibly different allocations.
    /// </summary>
    public static ChinchillaLaw Published { get; } =
        new(Math.Exp(0.5267228), Math.Exp(6.0073404), Math.Exp(6.0179186), 0.33917084, 0.2849083);

    /// <summary>
    /// Besiroglu et al. (Epoch AI) replication, arXiv 2404.10102: E = 1.8172, A = 482.01,
    /// B = 2085.43, alpha = 0.3478, beta = 0.3658 (constants as reported secondhand in our notes).
    /// </summary>
    public static ChinchillaLaw EpochRefit { get; } = new(1.8172, 482.01, 2085.43, 0.3478, 0.3658);

    public static LawSource PublishedSource { get; } = new("Chinchilla (published)",
        "Hoffmann et al. 2022, Training Compute-Optimal LLMs (arXiv 2203.15556), approach 3",
        "the Epoch replication reports this fit does not match the paper's own data well; its CIs are implausibly narrow");

    public static LawSource EpochSource { get; } = new("Chinchilla (Epoch refit)",
        "Besiroglu et al. 2024, Chinchilla Scaling: A replication attempt (arXiv 2404.10102)",
        "refit to data reconstructed from the paper's figure; consistent with approaches 1 and 2 (~20 tokens/parameter)");

    public double Loss(double n, double d) => E + A / Math.Pow(n, Alpha) + B / Math.Pow(d, Beta);

    /// <summary><c>a = beta / (alpha + beta)</c>: N_opt grows as C^a.</summary>
    public double ParamsExponent => Beta / (Alpha + Beta);

    /// <summary><c>b = alpha / (alpha + beta)</c>: D_opt grows as C^b.</summary>
    public double TokensExponent => Alpha / (Alpha + Beta);

    /// <summary><c>G = (alpha A / (beta B))^(1/(alpha+beta))</c>.</summary>
    public double G => Math.Pow(Alpha * A / (Beta * B), 1.0 / (Alpha + Beta));

    /// <summary>
    /// Compute-optimal (N, D) for a budget of C FLOPs with C = k N D (k = 6, Kaplan et al. 2020, by
    /// default; a measured FLOPs-per-parameter-token from the user's runs otherwise).
    /// </summary>
    public (double Params, double Tokens) ComputeOptimal(double flops, double flopsPerParamToken = 6.0)
    {
        double k = flops / flopsPerParamToken;
        double g = G;
        return (g * Math.Pow(k, ParamsExponent), Math.Pow(k, TokensExponent) / g);
    }
}

/// <summary>
/// Critical batch size (Kaplan et al. 2020, "Scaling Laws for Neural Language Models",
/// arXiv 2001.08361, building on McCandlish et al. 2018): <c>B_crit(L) = B* / L^(1/alpha_B)</c>
/// with B* ~ 2e8 tokens and alpha_B ~ 0.21, L in nats per token. Training at batch B for S steps
/// (E = B S tokens) relates to the minimum steps and minimum tokens by
/// <c>S_min = S / (1 + B_crit/B)</c> and <c>E_min = E / (1 + B/B_crit)</c>.
/// </summary>
public sealed record CriticalBatch(double BStar = 2e8, double AlphaB = 0.21)
{
    public static CriticalBatch Kaplan { get; } = new();

    public static LawSource Source { get; } = new("Kaplan critical batch",
        "Kaplan et al. 2020, Scaling Laws for Neural Language Models (arXiv 2001.08361), section 5.1",
        "fitted on WebText2 with GPT-2 tokenisation; B* and alpha_B are rough (~) and the loss scale is dataset-specific");

    public double Tokens(double loss) => BStar / Math.Pow(loss, 1.0 / AlphaB);

    /// <summary>Minimum number of steps to reach the same loss (infinite batch limit).</summary>
    public static double MinSteps(double steps, double batch, double bCrit) => steps / (1 + bCrit / batch);

    /// <summary>Minimum number of tokens to reach the same loss (small batch limit).</summary>
    public static double MinTokens(double tokens, double batch, double bCrit) => tokens / (1 + batch / bCrit);
}
