using Anneal.Design;
using Anneal.Laws;
using Anneal.Schedules;

namespace Anneal.Tests.Design;

/// <summary>The design layer against the laws layer's law.json format and its independent MPL implementation.</summary>
public class LawsIntegrationTests
{
    [Fact]
    public void Reads_a_law_json_written_by_FittedLaw()
    {
        var fitted = FittedLaw.FromValues(LossLaw.Parse("mpl"), MplParameters.Published100M.ToArray());
        var path = Path.Combine(Path.GetTempPath(), $"anneal-fitted-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, fitted.ToJson());
        try
        {
            var law = DesignLaw.Resolve(path);
            law.Parameters.ShouldBe(MplParameters.Published100M);
            law.Convention.ShouldBe(Anneal.Laws.WarmupConvention.Paper);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)")]
    [InlineData("wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)")]
    public void Final_loss_agrees_with_the_laws_layer_mpl(string spec)
    {
        // Independent implementation (src/Anneal/Laws/MultiPowerLaw.cs, paper convention). It takes the warmup
        // area as the actual sum of the warmup rates, P (W - 1) / 2, where design uses the paper's 0.5 P W:
        // a 0.5 P difference in area, worth ~3e-6 in loss here.
        var s = Schedule.Parse(spec);
        var lr = s.Sample(24000);
        var fitted = FittedLaw.FromValues(LossLaw.Parse("mpl"), MplParameters.Published400M.ToArray());
        double theirs = fitted.Predict(lr, [23999]).FinalLoss;
        double ours = new MplFinalLoss(MplParameters.Published400M, 3e-4, 0.5 * 3e-4 * 2160).Value(lr[2160..]);
        Math.Abs(ours - theirs).ShouldBeLessThan(1e-5);
        double oursSameArea = new MplFinalLoss(MplParameters.Published400M, 3e-4, lr[..2160].Sum()).Value(lr[2160..]);
        Math.Abs(oursSameArea - theirs).ShouldBeLessThan(1e-9);
    }
}
