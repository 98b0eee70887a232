using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Tests.Design;

/// <summary>
/// One <c>auto</c> fit of gpt-tiny's schedules question (its pair: the constant run to H1 and the cosine at H1), as
/// <c>anneal accuracy</c>'s protocol makes it: the fit the design tests of an auto stack share (made once per test run).
/// </summary>
internal static class GptTinyStack
{
    private static readonly Lazy<FittedLaw> Lazy = new(() => LawFitter.Fit(new AutoLaw(),
        ForecastProtocol.Splits(ForecastCorpus.Load(Path.Combine(TestPaths.RepoRoot, "data", "corpora", "gpt-tiny"))).Single(s => s.Question == "schedules").Fit));

    public static FittedLaw Fit => Lazy.Value;
}
