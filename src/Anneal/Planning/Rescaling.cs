namespace Anneal.Planning;

/// <summary>Optimizer families that the rescaling rules distinguish.</summary>
public enum OptimizerKind
{
    /// <summary>SGD (with or without momentum): linear LR scaling with batch size.</summary>
    Sgd,
    /// <summary>Adam-type (Adam, AdamW, ...): square-root LR scaling with batch size.</summary>
    AdamW,
}

/// <summary>Result of moving a learning rate to a new batch size.</summary>
/// <param name="Lr">New learning rate.</param>
/// <param name="Factor">New / old learning rate.</param>
/// <param name="Rule">The rule applied, as a formula.</param>
/// <param name="Source">Where the rule comes from.</param>
public sealed record BatchRescale(double Lr, double Factor, string Rule, string Source);

/// <summary>One parameter group's new learning rate and weight decay after a width change.</summary>
/// <param name="Group">"matrix-like" (hidden and output weight matrices) or "vector-like" (embeddings, biases, norm gains).</param>
/// <param name="Lr">New learning rate.</param>
/// <param name="WeightDecay">New decoupled weight-decay coefficient lambda (AdamW's <c>weight_decay</c> argument).</param>
/// <param name="LrRule">Formula for the LR.</param>
/// <param name="WeightDecayRule">Formula for lambda.</param>
/// <param name="Source">Where the rules come from.</param>
public sealed record WidthRescaleGroup(string Group, double Lr, double WeightDecay, string LrRule, string WeightDecayRule, string Source);

/// <summary>Result of moving hyperparameters from one width to another.</summary>
public sealed record WidthRescale(double WidthRatio, WidthRescaleGroup Matrix, WidthRescaleGroup Vector);

/// <summary>Rules for carrying a tuned learning rate and weight decay to another batch size or width.</summary>
public static class Rescaling
{
    /// <summary>
    /// Batch-size transfer. SGD: <c>eta2 = eta1 * B2/B1</c> (linear scaling rule, Goyal et al. 2017,
    /// "Accurate, Large Minibatch SGD", arXiv 1706.02677). Adam-type: <c>eta2 = eta1 * sqrt(B2/B1)</c>
    /// (square-root rule, Granziol et al. 2022, "Learning Rates as a Function of Batch Size: A Random
    /// Matrix Theory Approach", JMLR 23). Both hold below the critical batch size only.
    /// </summary>
    public static BatchRescale Batch(double lr, double fromBatch, double toBatch, OptimizerKind optimizer)
    {
        Require.Positive(lr, "lr"); Require.Positive(fromBatch, "from_batch"); Require.Positive(toBatch, "to_batch");
        double ratio = toBatch / fromBatch;
        return optimizer == OptimizerKind.Sgd
            ? new BatchRescale(lr * ratio, ratio, "eta2 = eta1 * B2/B1 (linear)",
                "Goyal et al. 2017, Accurate, Large Minibatch SGD (arXiv 1706.02677); valid below the critical batch size")
            : new BatchRescale(lr * Math.Sqrt(ratio), Math.Sqrt(ratio), "eta2 = eta1 * sqrt(B2/B1) (square root)",
                "Granziol et al. 2022, Learning Rates as a Function of Batch Size: a Random Matrix Theory Approach (JMLR 23); valid below the critical batch size");
    }

    /// <summary>
    /// Width transfer for AdamW under muP (Yang et al. 2021, "Tensor Programs V", arXiv 2203.03466):
    /// matrix-like parameters <c>eta2 = eta1 * w1/w2</c>, vector-like parameters keep eta (Theta(1)).
    /// Weight decay (Fan et al. 2025, "Robust Layerwise Scaling Rules by Proper Weight Decay Tuning",
    /// arXiv 2510.15262): matrix-like <c>lambda2 = lambda1 * sqrt(w2/w1)</c>, vector-like lambda = 0.
    /// Their diagnostic: the top singular values of matrix parameters should match across widths.
    /// </summary>
    public static WidthRescale Width(double lr, double weightDecay, double fromWidth, double toWidth)
    {
        Require.Positive(lr, "lr"); Require.Positive(fromWidth, "from_width"); Require.Positive(toWidth, "to_width");
        if (!double.IsFinite(weightDecay) || weightDecay < 0) throw InputException.Naming($"{ParameterName.Parameter("weight_decay")} must be a finite number >= 0, got {weightDecay}");
        double r = toWidth / fromWidth;
        var matrix = new WidthRescaleGroup("matrix-like", lr / r, weightDecay * Math.Sqrt(r),
            "eta2 = eta1 * w1/w2 (muP, Adam)", "lambda2 = lambda1 * sqrt(w2/w1)",
            "muP: Yang et al. 2021 (arXiv 2203.03466); weight decay: Fan et al. 2025 (arXiv 2510.15262)");
        var vector = new WidthRescaleGroup("vector-like", lr, 0.0,
            "eta2 = eta1 (Theta(1))", "lambda = 0",
            "muP: Yang et al. 2021 (arXiv 2203.03466); Fan et al. 2025 (arXiv 2510.15262)");
        return new WidthRescale(r, matrix, vector);
    }
}
