using Anneal.Accuracy;

namespace Anneal.Cli.Commands;

/// <summary>The forecasting corpora made with Anneal's own engine (data/corpora), embedded in the CLI so that <c>anneal accuracy</c> runs anywhere.</summary>
internal static class BundledCorpora
{
    /// <summary>Every embedded <c>corpora/NAME/corpus.json</c>, in name order.</summary>
    public static IReadOnlyList<ForecastCorpus> All() =>
        EmbeddedData.Names
            .Where(n => n.StartsWith("corpora/", StringComparison.Ordinal) && n.EndsWith("/corpus.json", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                var folder = n[..^"corpus.json".Length];
                return ForecastCorpus.Parse(EmbeddedData.Read(n)!, "bundled " + n, rel => EmbeddedData.Read(folder + rel));
            })
            .ToArray();
}
