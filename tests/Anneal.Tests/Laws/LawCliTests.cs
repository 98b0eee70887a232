using static Anneal.Tests.Cli.CliRunner;
using System.Text.Json.Nodes;

namespace Anneal.Tests.Laws;

/// <summary>The law commands end to end on the bundled benchmark files (data/examples/mpl).</summary>
[Collection("Console")] // the serial collection of the in-process CLI tests
public class LawCliTests
{

    private static string Curve(string name) => TestPaths.Mpl("400m", name + ".csv") + "@" + MplData.Spec(name);

    [Fact]
    public void FitThenPredictWritesLawJsonAndFinalLossWithBand()
    {
        var dir = Directory.CreateTempSubdirectory("anneal-laws-");
        try
        {
            var law = Path.Combine(dir.FullName, "law.json");
            var fit = Run("fit", Curve("constant_24000"), Curve("wsdcon_9"), "--law", "momentum", "--out", law);
            fit.Code.ShouldBe(0, fit.Err);
            fit.Out.ShouldContain("alpha");
            File.Exists(law).ShouldBeTrue();

            var svg = Path.Combine(dir.FullName, "p.svg");
            var pred = Run("predict", law, "--schedule", MplData.Spec("wsdcon_3"), "--steps", "16000", "--json", "--svg", svg);
            pred.Code.ShouldBe(0, pred.Err);
            var o = JsonNode.Parse(pred.Out)!;
            double fin = o["final_loss"]!.GetValue<double>(), lo = o["final_loss_low"]!.GetValue<double>(), hi = o["final_loss_high"]!.GetValue<double>();
            lo.ShouldBeLessThan(fin); hi.ShouldBeGreaterThan(fin);
            // The numbers are the prediction service's (tested in Services/FitAndPredictServiceTests) on the law file written.
            var service = Anneal.Prediction.PredictService.Predict(new Anneal.Prediction.PredictRequest(Anneal.Laws.FittedLaw.FromJson(File.ReadAllText(law), law))
            {
                Schedule = Anneal.Schedules.Schedule.Parse(MplData.Spec("wsdcon_3")), Steps = 16000,
            });
            o.ToJsonString().ShouldBe(service.ToJson().ToJsonString());
            fin.ShouldBe(service.Prediction.FinalLoss);
            File.ReadAllText(svg).ShouldStartWith("<svg");
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void BadInputIsExitTwoWithAMessageAndNoOutputFile()
    {
        var dir = Directory.CreateTempSubdirectory("anneal-laws-");
        try
        {
            var law = Path.Combine(dir.FullName, "law.json");
            var r = Run("fit", Curve("constant_24000"), "--law", "mpl(warmup=maybe)", "--out", law);
            r.Code.ShouldBe(2);
            r.Err.ShouldContain("warmup");
            File.Exists(law).ShouldBeFalse();
            var p = Run("predict", Path.Combine(dir.FullName, "missing.json"), "--schedule", "constant(peak=1e-3)", "--steps", "100");
            p.Code.ShouldBe(2);
            p.Err.ShouldContain("anneal fit");
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void PredictFromAPerStepLrFileEqualsPredictFromTheSpec()
    {
        // Independent source: the same schedule given as a spec. A file written by 'schedule sample'
        // holds every step, so the two predictions must be identical; a file with every 100th step
        // is interpolated (with a warning); linear interpolation of the cosine over 100-step gaps errs
        // by at most peak*(pi/T)^2*100^2/8 ~ 4e-10 per step, which moves the final loss by a few 1e-6.
        var dir = Directory.CreateTempSubdirectory("anneal-laws-");
        try
        {
            var law = Path.Combine(dir.FullName, "law.json");
            Run("fit", Curve("constant_24000"), Curve("wsdcon_9"), "--law", "momentum", "--out", law).Code.ShouldBe(0);
            const string spec = "cosine(peak=3e-4, total=30000, warmup=2160, min=3e-5)";
            var lr = Path.Combine(dir.FullName, "lr.csv");
            Run("schedule", "sample", spec, "--steps", "30000", "--out", lr).Code.ShouldBe(0);
            var a = JsonNode.Parse(Run("predict", law, "--schedule", spec, "--json").Out)!;
            var b = Run("predict", law, "--lr-file", lr, "--json");
            b.Code.ShouldBe(0, b.Err);
            var bj = JsonNode.Parse(b.Out)!;
            bj["final_loss"]!.GetValue<double>().ShouldBe(a["final_loss"]!.GetValue<double>());
            bj["final_loss_high"]!.GetValue<double>().ShouldBe(a["final_loss_high"]!.GetValue<double>());

            var sparse = Path.Combine(dir.FullName, "sparse.csv");
            File.WriteAllLines(sparse, File.ReadAllLines(lr).Where((_, i) => i == 0 || (i - 1) % 100 == 0 || i == 30000));
            var c = Run("predict", law, "--lr-file", sparse, "--json");
            c.Code.ShouldBe(0, c.Err);
            c.Err.ShouldContain("interpolation");
            JsonNode.Parse(c.Out)!["final_loss"]!.GetValue<double>().ShouldBe(a["final_loss"]!.GetValue<double>(), 2e-5);

            var bad = Path.Combine(dir.FullName, "bad.csv");
            File.WriteAllText(bad, "step,lr\n0,1e-4\n5,2e-4\n5,3e-4\n");
            var d = Run("predict", law, "--lr-file", bad);
            d.Code.ShouldBe(2);
            d.Err.ShouldContain("bad.csv:4");
            d.Err.ShouldContain("does not increase");
            Run("predict", law).Code.ShouldBe(2);
        }
        finally { dir.Delete(true); }
    }
}
