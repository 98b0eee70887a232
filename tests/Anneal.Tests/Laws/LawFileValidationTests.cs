using System.Text.Json.Nodes;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;
using static Anneal.Tests.Cli.CliRunner;

namespace Anneal.Tests.Laws;

/// <summary>
/// Law files are checked before anything is predicted from them (issue 12, item 4): format version,
/// the law, parameter values (finite, inside the law's range), standard errors, the covariance
/// (shape, finite, symmetric, non-negative variances, correlations within [-1, 1]), the refits and the
/// cross-validated error. Each crafted bad file is an <see cref="InputException"/> naming the file and
/// the field, and exit 2 from <c>anneal predict</c> and <c>anneal optimize</c>.
/// </summary>
[Collection("Console")] // the serial collection of the in-process CLI tests
public class LawFileValidationTests
{
    private const string Schedule400 = "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=linear, min=3e-5)";

    /// <summary>A real law file: mpl fitted to three synthetic runs of a known law (cosine, constant, step decay).</summary>
    private static readonly Lazy<string> Good = new(() =>
    {
        var law = new MultiPowerLaw();
        double[] truth = [2.53, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63];
        LawRun Synthetic(string spec, int n, int seed)
        {
            var eta = Schedule.Parse(spec).Sample(n);
            var steps = Enumerable.Range(0, n).Where(i => i >= 200 && i % 50 == 0).Select(i => (long)i).ToArray();
            var y = law.Predict(eta, steps, truth);
            var rng = new Random(seed);
            for (int i = 0; i < y.Length; i++) y[i] *= Math.Exp(2e-3 * (rng.NextDouble() - 0.5));
            return new LawRun { Name = spec, Eta = eta, Steps = steps, Observed = y, EtaSource = spec };
        }
        return LawFitter.Fit(law,
        [
            Synthetic("cosine(peak=3e-4, total=6000, warmup=200, min=3e-5)", 6000, 1),
            Synthetic("constant(peak=3e-4, warmup=200)", 6000, 2),
            Synthetic("join(constant(peak=3e-4, warmup=200), constant(peak=9e-5), at=[3000])", 5000, 3),
        ]).ToJson();
    });

    private static JsonObject Doc() => JsonNode.Parse(Good.Value)!.AsObject();

    private static JsonObject Param(JsonObject o, string name) =>
        o["parameters"]!.AsArray().Select(p => p!.AsObject()).First(p => p["name"]!.GetValue<string>() == name);

    /// <summary>Each case: a name, how the good file is broken, and words the message must contain.</summary>
    public static IEnumerable<object[]> BadFiles() => new (string Name, Action<JsonObject> Break, string[] Words)[]
    {
        ("format missing", o => o.Remove("format"), ["\"format\"", "anneal-law/1"]),
        ("format from the future", o => o["format"] = "anneal-law/2", ["anneal-law/2", "anneal-law/1"]),
        ("alpha above its bound", o => Param(o, "alpha")["value"] = 50, ["parameters[2] (alpha)", "50", "outside its range [0, 5]"]),
        ("L0 negative", o => Param(o, "L0")["value"] = -5, ["parameters[0] (L0)", "-5", "outside its range"]),
        ("B negative", o => Param(o, "B")["value"] = -1, ["parameters[3] (B)", "outside its range"]),
        ("value a string", o => Param(o, "A")["value"] = "NaN", ["parameters[1] (A)", "finite number", "\"NaN\""]),
        ("value missing", o => Param(o, "beta").Remove("value"), ["parameters[5] (beta)", "finite number"]),
        ("value huge", o => Param(o, "C")["value"] = JsonNode.Parse("1e400"), ["parameters[4] (C)", "finite number"]),
        ("negative standard error", o => Param(o, "gamma")["std_error"] = -0.1, ["parameters[6] (gamma)", "std_error", "-0.1"]),
        ("wrong parameter name", o => Param(o, "C")["name"] = "c", ["parameters[4]", "'c'", "'C'"]),
        ("too few parameters", o => o["parameters"]!.AsArray().RemoveAt(6), ["mpl has 7 parameters", "lists 6"]),
        ("law and law_spec disagree", o => o["law"] = "momentum", ["\"law\" is momentum", "law_spec", "mpl"]),
        ("unknown law", o => { o.Remove("law_spec"); o["law"] = "nonsense"; }, ["unknown law", "nonsense"]),
        ("2x2 covariance", o => o["covariance"] = new JsonArray(new JsonArray(1e-4, 0.0), new JsonArray(0.0, 1e-4)), ["covariance", "7 x 7"]),
        ("ragged covariance", o => o["covariance"]!.AsArray()[3]!.AsArray().RemoveAt(0), ["covariance", "7 x 7"]),
        ("covariance not symmetric", o => o["covariance"]![0]![1] = o["covariance"]![0]![1]!.GetValue<double>() + 1e-3, ["covariance is not symmetric", "[0][1]", "L0", "A"]),
        ("negative variance", o => o["covariance"]![2]![2] = -1e-6, ["covariance[2][2]", "variance of alpha", "-1E-06"]),
        ("correlation above 1", o => { o["covariance"]![0]![1] = 10.0; o["covariance"]![1]![0] = 10.0; }, ["covariance[1][0]", "correlation", "L0", "A"]),
        ("covariance entry a string", o => o["covariance"]![4]![4] = "x", ["covariance[4][4]", "finite number"]),
        ("refit of the wrong length", o => o["leave_one_run_out"]!.AsArray()[0]!.AsArray().RemoveAt(0), ["leave_one_run_out[0]", "7 numbers"]),
        ("refit out of range", o => o["leave_one_run_out"]![1]![2] = 9.0, ["leave_one_run_out[1][2] (alpha)", "outside its range"]),
        ("negative cross-validated error", o => o["cv_log_rmse"] = -0.01, ["cv_log_rmse", "finite number >= 0"]),
        ("unknown fit method", o => o["fit"]!["method"] = "magic", ["fit.method", "magic"]),
    }.Select(c => new object[] { c.Name, c.Break, c.Words });

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void ACraftedBadLawFileIsAnInputErrorNamingTheFileAndTheField(string name, Action<JsonObject> breakIt, string[] words)
    {
        var o = Doc();
        breakIt(o);
        var e = Should.Throw<InputException>(() => FittedLaw.FromJson(o.ToJsonString(), "bad/law.json"), name);
        e.Message.ShouldStartWith("bad/law.json: ", Case.Sensitive, name);
        foreach (var w in words) e.Message.ShouldContain(w, Case.Sensitive, name);
    }

    [Fact]
    public void TheGoodFileAndItsCovarianceFreeFormsAreAccepted()
    {
        // The file as written, and the two forms without a covariance: null (unavailable, as a fit
        // whose covariance could not be computed writes it) and absent (the standard errors squared).
        var fit = FittedLaw.FromJson(Good.Value);
        fit.Covariance.ShouldNotBeNull();
        var o = Doc(); o["covariance"] = null;
        FittedLaw.FromJson(o.ToJsonString()).Covariance.ShouldBeNull();
        var a = Doc(); a.Remove("covariance");
        var diag = FittedLaw.FromJson(a.ToJsonString()).Covariance!;
        for (int i = 0; i < 7; i++) diag[i][i].ShouldBe(fit.StdErrors[i] * fit.StdErrors[i]);
    }

    [Fact]
    public void BadLawFilesAreExitTwoFromPredictAndOptimizeWithoutOutput()
    {
        var dir = Directory.CreateTempSubdirectory("anneal-lawfile-");
        try
        {
            var o = Doc();
            Param(o, "alpha")["value"] = 50;
            var bad = Path.Combine(dir.FullName, "law.json");
            File.WriteAllText(bad, o.ToJsonString());
            var csv = Path.Combine(dir.FullName, "p.csv");
            var p = Run("predict", bad, "--schedule", Schedule400, "--csv", csv);
            p.Code.ShouldBe(2, p.Err);
            p.Err.ShouldContain(bad);
            p.Err.ShouldContain("parameters[2] (alpha) = 50 is outside its range");
            p.Err.ShouldNotContain("   at ");
            File.Exists(csv).ShouldBeFalse();

            var c = Doc();
            c["covariance"] = new JsonArray(new JsonArray(1e-4, 0.0), new JsonArray(0.0, 1e-4));
            File.WriteAllText(bad, c.ToJsonString());
            var q = Run("optimize", bad, "--steps", "24000", "--warmup", "2160", "--peak", "3e-4");
            q.Code.ShouldBe(2, q.Err);
            q.Err.ShouldContain("covariance must be a 7 x 7 array");
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void APredictionThatWouldBeNonPositiveIsExitTwoWithTheReason()
    {
        // Parameters inside every range, but a tiny L0 and a huge drop amplitude: the loss-drop term
        // of a long decay exceeds the rest of the law (L = L0 + A*S1^-alpha - B*LD < 0).
        var dir = Directory.CreateTempSubdirectory("anneal-lawfile-");
        try
        {
            var o = Doc();
            Param(o, "L0")["value"] = 0.01;
            Param(o, "B")["value"] = 1e5;
            var path = Path.Combine(dir.FullName, "law.json");
            File.WriteAllText(path, o.ToJsonString());
            var p = Run("predict", path, "--schedule", Schedule400, "--json");
            p.Code.ShouldBe(2, p.Err);
            p.Err.ShouldContain("mpl predicts a loss of -");
            p.Err.ShouldContain("loss-drop term exceeds the rest of the law");
            p.Out.ShouldBeEmpty();
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void AnUnavailableBandIsNullInJsonEmptyInCsvAndSaidInText()
    {
        // A fit whose covariance could not be computed (covariance null, optimum method): the band
        // needs the delta method, so predict gives the loss and says why there is no band.
        var dir = Directory.CreateTempSubdirectory("anneal-lawfile-");
        try
        {
            var o = Doc();
            o["covariance"] = null;
            foreach (var p in o["parameters"]!.AsArray()) p!["std_error"] = null;
            var path = Path.Combine(dir.FullName, "law.json");
            File.WriteAllText(path, o.ToJsonString());
            var j = Run("predict", path, "--schedule", Schedule400, "--json");
            j.Code.ShouldBe(0, j.Err);
            var r = JsonNode.Parse(j.Out)!;
            r["final_loss"]!.GetValue<double>().ShouldBeGreaterThan(0);
            r["final_loss_low"].ShouldBeNull();
            r["final_loss_high"].ShouldBeNull();
            r["band_unavailable"]!.GetValue<string>().ShouldContain("covariance could not be computed");
            r["curve"]!["low"]!.AsArray().ShouldAllBe(v => v == null);

            var csv = Path.Combine(dir.FullName, "p.csv");
            var svg = Path.Combine(dir.FullName, "p.svg");
            var t = Run("predict", path, "--schedule", Schedule400, "--csv", csv, "--svg", svg);
            t.Code.ShouldBe(0, t.Err);
            t.Out.ShouldContain("no 95% band: the fit's parameter covariance could not be computed");
            t.Err.ShouldContain("warning: no 95% band");
            File.ReadLines(csv).Skip(1).ShouldAllBe(l => l.EndsWith(",,"));
            File.ReadAllText(svg).ShouldNotContain(" band");
            // Against the same file with its covariance: there the band is written and drawn.
            var good = Path.Combine(dir.FullName, "good.json");
            File.WriteAllText(good, Good.Value);
            Run("predict", good, "--schedule", Schedule400, "--csv", csv, "--svg", svg).Code.ShouldBe(0);
            File.ReadLines(csv).Skip(1).ShouldAllBe(l => !l.EndsWith(",,"));
            File.ReadAllText(svg).ShouldContain(" band");

            var fitted = FittedLaw.FromJson(File.ReadAllText(path), path);
            fitted.Table().ShouldContain("n/a");
        }
        finally { dir.Delete(true); }
    }
}
