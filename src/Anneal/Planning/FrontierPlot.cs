using Anneal.Plotting;

namespace Anneal.Planning;

/// <summary>
/// SVG of a Chinchilla fit: observed final loss against training compute C (one marker series per
/// model size), the fitted loss of each size as its token count grows (C = 6 N D), and the
/// compute-optimal frontier L(N_opt(C), D_opt(C)) with its bootstrap band.
/// </summary>
public static class FrontierPlot
{
    public static SvgPlot Build(IReadOnlyList<ScalingRun> runs, ChinchillaFitResult fit)
    {
        var plot = new SvgPlot
        {
            Title = $"Loss vs compute: Chinchilla fit (alpha={fit.Law.Alpha:F3}, beta={fit.Law.Beta:F3}, E={fit.Law.E:F3}) and compute-optimal frontier",
            XLabel = "training compute C (FLOPs)",
            YLabel = "final loss (nats/token)",
            LogX = true,
            LogY = true,
        };
        double cMin = runs.Min(r => r.Compute), cMax = runs.Max(r => r.Compute);
        double lo = Math.Log10(cMin) - 0.3, hi = Math.Log10(cMax) + 1;
        var grid = Enumerable.Range(0, 121).Select(i => Math.Pow(10, lo + (hi - lo) * i / 120)).ToArray();
        var front = fit.FrontierAt(grid);
        if (fit.BootstrapLaws.Count > 0)
            plot.AddBand($"frontier {fit.Level * 100:G3}% band", grid, front.Select(p => p.LossLow).ToArray(), front.Select(p => p.LossHigh).ToArray());
        plot.AddLine("compute-optimal frontier", grid, front.Select(p => p.Loss).ToArray());
        foreach (var g in runs.GroupBy(r => r.Params).OrderBy(g => g.Key))
        {
            double n = g.Key;
            var dMin = g.Min(r => r.Tokens) / 2; var dMax = g.Max(r => r.Tokens) * 2;
            var ds = Enumerable.Range(0, 60).Select(i => dMin * Math.Pow(dMax / dMin, i / 59.0)).ToArray();
            string name = "N = " + n.ToString("0.##e0", System.Globalization.CultureInfo.InvariantCulture);
            plot.AddMarkers(name, g.Select(r => r.Compute).ToArray(), g.Select(r => r.Loss).ToArray());
            plot.AddLine(name, ds.Select(d => fit.FlopsPerParamToken * n * d).ToArray(), ds.Select(d => fit.Law.Loss(n, d)).ToArray());
        }
        return plot;
    }

    /// <summary>Renders and writes atomically.</summary>
    public static void Save(string path, IReadOnlyList<ScalingRun> runs, ChinchillaFitResult fit) => Build(runs, fit).Save(path);
}

/// <summary>
/// SVG of a Step Law fit: the near-optimal runs' learning rates against tokens D (one colour per
/// model size) with the fitted <c>eta_opt(N, D)</c> lines, and the published Step Law for comparison.
/// </summary>
public static class StepLawPlot
{
    public static SvgPlot Build(IReadOnlyList<ScalingRun> runs, StepLawFitResult fit)
    {
        var plot = new SvgPlot
        {
            Title = $"Near-optimal learning rates (within {fit.Band * 100:G3}% of best) and the fitted Step Law",
            XLabel = "training tokens D",
            YLabel = "peak learning rate",
            LogX = true,
            LogY = true,
        };
        double dMin = runs.Min(r => r.Tokens) / 1.5, dMax = runs.Max(r => r.Tokens) * 1.5;
        var ds = Enumerable.Range(0, 40).Select(i => dMin * Math.Pow(dMax / dMin, i / 39.0)).ToArray();
        // One grey series for the published law at every size, segments split by NaN (one legend entry).
        var pubX = new List<double>();
        var pubY = new List<double>();
        foreach (var g in runs.GroupBy(r => r.Params).OrderBy(g => g.Key))
        {
            double n = g.Key;
            string name = "N = " + n.ToString("0.##e0", System.Globalization.CultureInfo.InvariantCulture);
            var kept = g.GroupBy(r => r.Tokens).SelectMany(t => { double best = t.Min(r => r.Loss); return t.Where(r => r.Loss <= best * (1 + fit.Band)); }).ToArray();
            plot.AddMarkers(name, kept.Select(r => r.Tokens).ToArray(), kept.Select(r => r.Lr).ToArray());
            plot.AddLine(name, ds, ds.Select(d => fit.Law.LearningRate(n, d)).ToArray());
            pubX.AddRange(ds); pubX.Add(double.NaN);
            pubY.AddRange(ds.Select(d => StepLaw.Published.LearningRate(n, d))); pubY.Add(double.NaN);
        }
        plot.AddLine("published Step Law (Li et al. 2025)", pubX.ToArray(), pubY.ToArray(), color: "#999999");
        return plot;
    }

    public static void Save(string path, IReadOnlyList<ScalingRun> runs, StepLawFitResult fit) => Build(runs, fit).Save(path);
}

/// <summary>
/// Iso-loss map of a Chinchilla fit over model size N (x) and training tokens D (y), log-log: the
/// contours <c>L(N, D) = l</c> in closed form, <c>D = (B / (l - E - A N^-alpha))^(1/beta)</c> (defined
/// where <c>l &gt; E + A N^-alpha</c>); iso-compute lines <c>D = C / (6 N)</c>; the compute-optimal path
/// <c>(N_opt(C), D_opt(C))</c> that touches each iso-compute line where the loss is lowest; and the
/// runs as markers. Reads like the iso-loss figure of Hoffmann et al. 2022 (approach 3).
/// </summary>
public static class IsoLossPlot
{
    /// <summary>The D at which a model of N parameters reaches loss <paramref name="loss"/>; NaN where it never does.</summary>
    public static double TokensFor(ChinchillaLaw law, double n, double loss)
    {
        double room = loss - law.E - law.A / Math.Pow(n, law.Alpha);
        return room > 0 ? Math.Pow(law.B / room, 1 / law.Beta) : double.NaN;
    }

    public static SvgPlot Build(IReadOnlyList<ScalingRun> runs, ChinchillaFitResult fit, int levels = 6)
    {
        var law = fit.Law;
        var plot = new SvgPlot
        {
            Title = $"Iso-loss map of the Chinchilla fit (E={law.E:F3}, alpha={law.Alpha:F3}, beta={law.Beta:F3})",
            XLabel = "parameters N",
            YLabel = "training tokens D",
            LogX = true,
            LogY = true,
        };
        double nMin = runs.Min(r => r.Params) / 3, nMax = runs.Max(r => r.Params) * 10;
        double dMin = runs.Min(r => r.Tokens) / 3, dMax = runs.Max(r => r.Tokens) * 10;
        var ns = Enumerable.Range(0, 200).Select(i => nMin * Math.Pow(nMax / nMin, i / 199.0)).ToArray();
        // Contour levels spread geometrically in the reducible loss L - E over what the map spans
        // (from its best corner to its worst): power laws are evenly spaced that way.
        double rLow = law.Loss(nMax, dMax) - law.E, rHigh = law.Loss(nMin, dMin) - law.E;
        foreach (var l in Enumerable.Range(0, levels).Select(i => law.E + rLow * Math.Pow(rHigh / rLow, (i + 0.5) / levels)))
        {
            var d = ns.Select(n => TokensFor(law, n, l)).Select(v => v >= dMin && v <= dMax ? v : double.NaN).ToArray();
            if (d.Any(double.IsFinite)) plot.AddLine($"L = {l:F3}", ns, d);
        }
        var cs = runs.Select(r => r.Compute).ToArray();
        double cLo = Math.Log10(cs.Min()), cHi = Math.Log10(cs.Max()) + 1;
        var isoX = new List<double>(); var isoY = new List<double>();
        for (double lc = Math.Floor(cLo); lc <= Math.Ceiling(cHi); lc++)
        {
            double c = Math.Pow(10, lc);
            foreach (var n in ns) { double d = c / (fit.FlopsPerParamToken * n); isoX.Add(n); isoY.Add(d >= dMin && d <= dMax ? d : double.NaN); }
            isoX.Add(double.NaN); isoY.Add(double.NaN);
        }
        plot.AddLine($"iso-compute C = {fit.FlopsPerParamToken:G3} N D (powers of 10)", isoX.ToArray(), isoY.ToArray(), color: "#bbbbbb");
        var budgets = Enumerable.Range(0, 80).Select(i => Math.Pow(10, cLo - 1 + (cHi - cLo + 2) * i / 79.0)).ToArray();
        var path = budgets.Select(c => law.ComputeOptimal(c, fit.FlopsPerParamToken)).Where(p => p.Params >= nMin && p.Params <= nMax && p.Tokens >= dMin && p.Tokens <= dMax).ToArray();
        plot.AddLine("compute-optimal N, D", path.Select(p => p.Params).ToArray(), path.Select(p => p.Tokens).ToArray(), color: "#000000");
        plot.AddMarkers("runs", runs.Select(r => r.Params).ToArray(), runs.Select(r => r.Tokens).ToArray());
        return plot;
    }

    public static void Save(string path, IReadOnlyList<ScalingRun> runs, ChinchillaFitResult fit) => Build(runs, fit).Save(path);
}
