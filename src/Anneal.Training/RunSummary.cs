using Anneal.Curves;

namespace Anneal.Training;

/// <summary>
/// End-of-run figures of a logged curve: the training loss averaged over the last <c>tail</c> fraction of logged
/// steps (single-batch losses are noisy), the last and the lowest validation loss. <see cref="Steps"/> is the number
/// of updates the log covers, last step + 1 (steps count updates from 0). For a run read with
/// <see cref="CurveReadOptions.StopAtNonFinite"/> that diverged, the figures describe the finite rows before the divergence.
/// </summary>
public sealed record RunSummary(string Name, long Steps, double FinalTrainLoss, double FinalValLoss, double MinValLoss, long MinValStep)
{
    /// <summary>True when the log ended in a non-finite loss (see <see cref="LossCurve.Diverged"/>).</summary>
    public bool Diverged { get; init; }

    /// <summary>Step of the non-finite row when known; else null (see <see cref="LossCurve.DivergedAtStep"/>).</summary>
    public long? DivergedAtStep { get; init; }

    /// <summary>"ok", "diverged at step N", or "diverged after step N" when the offending row's step is unknown.</summary>
    public string Status => !Diverged ? "ok" : DivergedAtStep is { } s ? $"diverged at step {s}" : $"diverged after step {Steps - 1}";

    public static RunSummary From(LossCurve c, double tail = 0.05)
    {
        if (c.Count == 0) throw new InputException($"{c.SourceFile ?? c.Name}: the curve has no rows");
        int n = c.Count, k = Math.Max(1, (int)Math.Round(n * tail));
        double train = c.Loss is null ? double.NaN : c.Loss.Skip(n - k).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();
        double last = double.NaN, min = double.NaN; long minStep = -1;
        if (c.ValLoss is { } v)
            for (int i = 0; i < n; i++)
            {
                if (!double.IsFinite(v[i])) continue;
                last = v[i];
                if (!(v[i] >= min)) { min = v[i]; minStep = c.Steps[i]; }
            }
        return new RunSummary(c.Name, c.Steps[^1] + 1, train, last, min, minStep) { Diverged = c.Diverged, DivergedAtStep = c.DivergedAtStep };
    }
}
