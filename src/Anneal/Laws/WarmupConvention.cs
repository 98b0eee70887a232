namespace Anneal.Laws;

/// <summary>Which LR decrements enter the multi-power law's loss-drop sum LD.</summary>
public enum WarmupConvention
{
    /// <summary>The paper's: only drops after the warmup peak count (Luo et al. 2025, eq. for LD).</summary>
    Paper,
    /// <summary>
    /// The MIT reference code's evaluation path: every step-to-step change from step 1 counts, so the
    /// warmup increases enter LD with a negative sign and L0 absorbs about +B*eta_peak. Only needed
    /// to reproduce parameters published under that convention.
    /// </summary>
    Reference,
}
