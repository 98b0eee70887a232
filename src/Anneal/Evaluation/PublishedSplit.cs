using Anneal.Fitting;
using Anneal.Laws;

using static Anneal.ParameterName;
namespace Anneal.Evaluation;

/// <summary>A request to evaluate laws on the multi-power-law paper's own split of one model size.</summary>
/// <param name="Benchmark">The benchmark's curves and manifest.</param>
/// <param name="Size">The model size (one of <see cref="MplBenchmark.Sizes"/>).</param>
/// <param name="Laws">The laws to compare.</param>
public sealed record PublishedSplitRequest(MplBenchmark Benchmark, string Size, IReadOnlyList<LossLaw> Laws)
{
    /// <summary>The report's title; null: "SIZE: fit on CURVES".</summary>
    public string? Title { get; init; }
}

/// <summary>
/// The published split (fit cosine_24000, constant_24000 and wsdcon_9; predict the six others), scored on
/// whole curves with the paper's metrics beside its published numbers: what <c>anneal demo</c> shows and
/// the accuracy report's last section.
/// </summary>
public static class PublishedSplit
{
    /// <summary>
    /// Fits every law on the split's fitted curves and scores it on the held-out ones. Throws
    /// <see cref="InputException"/> for an unknown size (naming the parameter <c>size</c>). <paramref name="progress"/> receives the fitter's messages.
    /// </summary>
    public static EvaluationReport Evaluate(PublishedSplitRequest request, IProgress<string>? progress = null, CancellationToken cancel = default)
    {
        var bench = request.Benchmark;
        if (!bench.Sizes.Contains(request.Size)) throw InputException.Naming($"{Parameter("size")} must be one of {string.Join(", ", bench.Sizes)}, got '{request.Size}'");
        var fits = bench.Runs(request.Size, bench.FitSplit);
        var tests = bench.Runs(request.Size, bench.TestSplit);
        cancel.ThrowIfCancellationRequested();
        var options = new FitOptions { Progress = progress is null ? null : progress.Report };
        var scores = LawEvaluation.Run(request.Laws, fits, tests, options);
        return new EvaluationReport(request.Title ?? $"{request.Size}: fit on {string.Join(", ", bench.FitSplit)}", bench.FitSplit.ToArray(), scores, bench.PublishedMetrics(request.Size));
    }
}
