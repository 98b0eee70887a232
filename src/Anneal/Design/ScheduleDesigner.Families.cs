using Anneal.Schedules;

namespace Anneal.Design;

/// <summary>The best member of each named schedule family (WSD, cosine, linear, REX, cosine power).</summary>
public sealed partial class ScheduleDesigner
{
    /// <summary>Shapes searched by <see cref="BestWsd"/> by default.</summary>
    public static IReadOnlyList<DecayShape> AllShapes { get; } = Enum.GetValues<DecayShape>();

    private double MinRatio => Problem.MinLr / P;

    private double[] MinRatios(bool positive)
    {
        double[] grid = [0, 0.001, 0.01, 0.03, 0.1];
        var r = grid.Where(x => x >= MinRatio && (!positive || x > 0)).ToList();
        if (MinRatio > 0 && !r.Contains(MinRatio)) r.Insert(0, MinRatio);
        if (r.Count == 0) r.Add(Math.Max(MinRatio, 1e-3));
        return r.ToArray();
    }

    private double MaxDecay => (double)(T - W) / T;

    private string WsdSpec(double decay, DecayShape shape, double minRatio) =>
        $"wsd(peak={Num(P)}, total={T}, warmup={W}, decay={Num(decay)}, shape={DecayShapes.Name(shape)}" + (minRatio > 0 ? $", min={Num(Round(minRatio * P))})" : ")");

    /// <summary>Three significant digits, so printed specs stay short.</summary>
    private static double Round(double v) => v == 0 ? 0 : Math.Round(v, Math.Clamp(2 - (int)Math.Floor(Math.Log10(Math.Abs(v))), 0, 15));

    /// <summary>
    /// The best WSD schedule: a grid over cooldown fraction (0.05 steps), shape and final LR ratio
    /// {0, 0.001, 0.01, 0.03, 0.1} (at least MinLr), then golden-section refinement of the cooldown
    /// fraction and the final ratio of the best cell. Fractions are rounded to 0.001 so the spec stays readable.
    /// </summary>
    public Candidate BestWsd(IReadOnlyList<DecayShape>? shapes = null)
    {
        shapes ??= AllShapes;
        Candidate? best = null;
        double bestDecay = 0, bestMin = 0;
        DecayShape bestShape = shapes[0];
        foreach (var shape in shapes)
            foreach (var mr in MinRatios(shape is DecayShape.Exponential or DecayShape.Inverse))
                for (double f = 0.05; f <= MaxDecay + 1e-12; f += 0.05)
                {
                    var c = Make("wsd", WsdSpec(Math.Round(f, 3), shape, mr));
                    if (best is null || c.Loss < best.Loss) { best = c; bestDecay = Math.Round(f, 3); bestMin = mr; bestShape = shape; }
                }
        var grid = best!;
        var sh = bestShape;
        double mrBest = bestMin;
        double fBest = GoldenSection.Minimize(x => Make("wsd", WsdSpec(Math.Round(x, 3), sh, mrBest)).Loss, Math.Max(0.001, bestDecay - 0.05), Math.Min(MaxDecay, bestDecay + 0.05), 0.001);
        fBest = Math.Round(fBest, 3);
        if (bestMin > 0 || MinRatio > 0 || sh is DecayShape.Exponential or DecayShape.Inverse)
        {
            double lo = Math.Log(Math.Max(MinRatio, 1e-4)), hi = Math.Log(0.3);
            double lm = GoldenSection.Minimize(x => Make("wsd", WsdSpec(fBest, sh, Math.Exp(x))).Loss, lo, hi, 0.01);
            var alt = Make("wsd", WsdSpec(fBest, sh, Math.Exp(lm)));
            var keep = Make("wsd", WsdSpec(fBest, sh, mrBest));
            best = alt.Loss < keep.Loss ? alt : keep;
        }
        else best = Make("wsd", WsdSpec(fBest, sh, 0));
        // The refinements assume one minimum near the grid's best cell; where the objective has several (an auto stack's
        // forecast can), they may end above that cell, which is then kept: the search never returns more than its grid's best.
        if (grid.Loss < best.Loss) best = grid;
        return best with { Label = "best wsd" };
    }

    /// <summary>Best cosine: golden-section search of the final ratio min/peak in [MinLr/peak, 0.5].</summary>
    public Candidate BestCosine() => BestByRatio("best cosine", r => $"cosine(peak={Num(P)}, total={T}, warmup={W}" + (r > 0 ? $", min={Num(Round(r * P))})" : ")"));

    /// <summary>Best linear decay: golden-section search of the final ratio min/peak in [MinLr/peak, 0.5].</summary>
    public Candidate BestLinear() => BestByRatio("best linear", r => $"linear(peak={Num(P)}, total={T}, warmup={W}" + (r > 0 ? $", min={Num(Round(r * P))})" : ")"));

    private Candidate BestByRatio(string label, Func<double, string> spec)
    {
        double best = MinRatio, bestLoss = double.PositiveInfinity;
        for (double r = MinRatio; r <= 0.5; r += 0.025)
        {
            double l = Make(label, spec(r)).Loss;
            if (l < bestLoss) { bestLoss = l; best = r; }
        }
        double refined = GoldenSection.Minimize(r => Make(label, spec(r)).Loss, Math.Max(MinRatio, best - 0.025), best + 0.025, 1e-4);
        var a = Make(label, spec(refined));
        var b = Make(label, spec(best));
        return a.Loss < b.Loss ? a : b;
    }

    /// <summary>Best REX (Chen et al.): golden-section search of the final ratio.</summary>
    public Candidate BestRex() => BestByRatio("best rex", r => $"rex(peak={Num(P)}, total={T}, warmup={W}" + (r > 0 ? $", min={Num(Round(r * P))})" : ")"));

    /// <summary>Best cosine power annealing: base B in {1.5, 2, 5, 10, 20, 50, 100}, each with its best final ratio.</summary>
    public Candidate BestCosinePower() =>
        new[] { 1.5, 2.0, 5, 10, 20, 50, 100 }
            .Select(b => BestByRatio("best cosine_power", r => $"cosine_power(peak={Num(P)}, total={T}, warmup={W}, base={Num(b)}" + (r > 0 ? $", min={Num(Round(r * P))})" : ")")))
            .MinBy(c => c.Loss)!;

    /// <summary>Family names accepted by <see cref="BestOf"/>.</summary>
    public static IReadOnlyList<string> Families { get; } = ["wsd", "cosine", "linear", "rex", "cosine_power"];

    /// <summary>The best member of one family.</summary>
    public Candidate BestOf(string family) => family switch
    {
        "wsd" => BestWsd(),
        "cosine" => BestCosine(),
        "linear" => BestLinear(),
        "rex" => BestRex(),
        "cosine_power" => BestCosinePower(),
        _ => throw new InputException($"unknown family '{family}': use free, {string.Join(", ", Families)}"),
    };

    /// <summary>Best schedule of every named family (wsd, cosine, linear, rex, cosine_power).</summary>
    public IReadOnlyList<Candidate> BestOfFamilies() => Families.Select(BestOf).ToArray();
}
