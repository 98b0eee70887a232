using Anneal.Curves;

namespace Anneal.Training;

/// <summary>
/// End-of-run figures of a logged curve: the training loss averaged over the last <c>tail</c> fraction of logged
/// steps (single-batch losses are noisy), the last and the lowest validation loss.
/// </summary>
public sealed record RunSummary(string Name, long Steps, double FinalTrainLoss, double FinalValLoss, double MinValLoss, long MinValStep)
{
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
        return new RunSummary(c.Name, c.Steps[^1], train, last, min, minStep);
    }
}
