using System.Text.Json;
using System.Text.Json.Nodes;
using Anneal.Cli;
using Anneal.Curves;
using Anneal.Laws;

namespace Anneal.Store.Tests;

/// <summary>
/// <c>anneal fit|predict|optimize --store</c> with stored runs and laws as inputs (<c>run:ID</c>, <c>run:NAME</c>,
/// <c>law:ID</c>), in-process on every backend: what is saved, with which provenance, and what bad references do.
/// </summary>
[Collection("Console")]
public sealed class ProvenanceTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        return (AnnealCli.Run(args, o, e), o.ToString(), e.ToString());
    }

    private const string Cosine = "cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)";
    private const string Constant = "constant(peak=3e-4, warmup=2160)";

    private static string File(string name, string spec) => TestPaths.Mpl("400m", name) + "@" + spec;

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Fit_predict_and_optimize_save_a_law_with_its_runs_and_results_linked_to_it(string kind)
    {
        using var t = Backends.Create(kind);
        long cos = t.Store.ImportCurve(CurveArgument.Parse(File("cosine_24000.csv", Cosine)), new NewRun { Name = "cos" });
        long con = t.Store.ImportCurve(CurveArgument.Parse(File("constant_24000.csv", Constant)), new NewRun { Name = "con" });

        // stored runs by id and by name
        var (code, lawJson, err) = Run("fit", $"run:{cos}", "run:con", "--law", "mpl", "--json", "--store", t.Location);
        code.ShouldBe(0, err);
        var laws = t.Store.ListArtifacts(ArtifactKind.Law);
        var law = laws.ShouldHaveSingleItem();
        err.ShouldContain($"saved law {law.Id}");
        law.Runs.Select(r => (r.RunId, r.RunName, r.Exists)).ShouldBe([(cos, "cos", true), (con, "con", true)]);
        law.AnnealVersion.ShouldBe(RunStore.AnnealVersion);
        law.Name.ShouldBe("mpl");
        // the body is the law file the command printed
        JsonNode.DeepEquals(JsonNode.Parse(law.BodyJson), JsonNode.Parse(lawJson)).ShouldBeTrue();
        // peer: the same fit of the files the runs were imported from (the fit is deterministic per seed)
        var (c2, fileJson, e2) = Run("fit", File("cosine_24000.csv", Cosine), File("constant_24000.csv", Constant), "--law", "mpl", "--json");
        c2.ShouldBe(0, e2);
        LawFile.Read(law.BodyJson, "stored").Values.ShouldBe(LawFile.Read(fileJson, "file").Values);

        // a forecast with the stored law, linked to it and inheriting its runs
        var target = "wsd(peak=3e-4, total=48000, warmup=2160, decay=0.2, shape=sqrt)";
        var lawFile = Path.Combine(Path.GetTempPath(), $"anneal-prov-{Guid.NewGuid():N}.json");
        System.IO.File.WriteAllText(lawFile, lawJson);
        try
        {
            var (c3, predicted, e3) = Run("predict", $"law:{law.Id}", "--schedule", target, "--json", "--store", t.Location);
            c3.ShouldBe(0, e3);
            var first = t.Store.ListArtifacts(ArtifactKind.Forecast).ShouldHaveSingleItem();
            first.LawId.ShouldBe(law.Id);
            first.Spec.ShouldBe(Anneal.Schedules.Schedule.Parse(target).Spec);
            first.Runs.Select(r => r.RunId).ShouldBe([cos, con]);
            JsonNode.DeepEquals(JsonNode.Parse(first.BodyJson), JsonNode.Parse(predicted)).ShouldBeTrue();
            // peer: the same law read from its file predicts the same final loss
            var (c4, fromFile, e4) = Run("predict", lawFile, "--schedule", target, "--json");
            c4.ShouldBe(0, e4);
            JsonNode.Parse(first.BodyJson)!["final_loss"]!.GetValue<double>().ShouldBe(JsonNode.Parse(fromFile)!["final_loss"]!.GetValue<double>());

            // the stored law's own file is that law: the forecast links to it, with its runs
            Run("predict", lawFile, "--schedule", target, "--store", t.Location).Code.ShouldBe(0);
            t.Store.ListArtifacts(ArtifactKind.Forecast)[0].LawId.ShouldBe(law.Id);
            // a law from outside the store (a built-in one) is kept once, without runs, so that results link to it
            Run("predict", "mpl-400m", "--schedule", target, "--store", t.Location).Code.ShouldBe(0);
            Run("predict", "mpl-400m", "--schedule", target, "--store", t.Location).Code.ShouldBe(0);
            var outside = t.Store.ListArtifacts(ArtifactKind.Law).Where(a => a.Id != law.Id).ShouldHaveSingleItem();
            outside.Runs.ShouldBeEmpty();
            outside.Name.ShouldBe("mpl-400m");
            t.Store.ListArtifacts(ArtifactKind.Forecast).Count(f => f.LawId == outside.Id).ShouldBe(2);
        }
        finally { System.IO.File.Delete(lawFile); }

        // a design with the stored law
        var (c5, designed, e5) = Run("optimize", $"law:{law.Id}", "--steps", "24000", "--peak", "3e-4", "--warmup", "2160", "--json", "--store", t.Location);
        c5.ShouldBe(0, e5);
        var design = t.Store.ListArtifacts(ArtifactKind.Design).ShouldHaveSingleItem();
        design.LawId.ShouldBe(law.Id);
        design.Runs.Select(r => r.RunId).ShouldBe([cos, con]);
        JsonNode.DeepEquals(JsonNode.Parse(design.BodyJson), JsonNode.Parse(designed)).ShouldBeTrue();
        JsonNode.Parse(designed)!["law"]!.GetValue<string>().ShouldStartWith($"law:{law.Id} (mpl fitted to runs {cos} 'cos', {con} 'con')");

        // listed: per run, and shown with provenance
        var (c6, listed, e6) = Run("runs", "artifacts", "--run", cos.ToString(), "--json", "--store", t.Location);
        c6.ShouldBe(0, e6);
        JsonDocument.Parse(listed).RootElement.GetProperty("format").GetString().ShouldBe("anneal-artifact-list/1");
        JsonDocument.Parse(listed).RootElement.GetProperty("artifacts").EnumerateArray().Select(a => a.GetProperty("kind").GetString()).ShouldBe(["design", "forecast", "forecast", "law"]);
        var (c6b, oneJson, e6b) = Run("runs", "artifact", law.Id.ToString(), "--json", "--store", t.Location);
        c6b.ShouldBe(0, e6b);
        JsonDocument.Parse(oneJson).RootElement.GetProperty("format").GetString().ShouldBe("anneal-artifact/1");
        JsonDocument.Parse(oneJson).RootElement.GetProperty("id").GetInt64().ShouldBe(law.Id);
        var (c7, shown, e7) = Run("runs", "show", cos.ToString(), "--store", t.Location);
        c7.ShouldBe(0, e7);
        shown.ShouldContain("results computed from this run (4");
        var (c8, one, e8) = Run("runs", "artifact", design.Id.ToString(), "--store", t.Location);
        c8.ShouldBe(0, e8);
        one.ShouldContain($"law       {law.Id} (mpl");
        one.ShouldContain($"{cos} 'cos', {con} 'con'");
        var (c9, body, e9) = Run("runs", "artifact", law.Id.ToString(), "--body", "--store", t.Location);
        c9.ShouldBe(0, e9);
        LawFile.Read(body, "printed").Values.ShouldBe(LawFile.Read(lawJson, "fit").Values);

        // a deleted run stays in the provenance by name
        t.Store.DeleteRun(con).ShouldBeTrue();
        t.Store.GetArtifact(law.Id)!.Runs.Single(r => r.RunId == con).ShouldBe(new ArtifactRun(con, "con", false));
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Bad_references_exit_2_with_one_message_before_any_work_and_save_nothing(string kind)
    {
        using var t = Backends.Create(kind);
        long a = t.Store.ImportCurve(CurveArgument.Parse(File("cosine_24000.csv", Cosine)), new NewRun { Name = "twin" });
        long b = t.Store.ImportCurve(CurveArgument.Parse(File("constant_24000.csv", Constant)), new NewRun { Name = "twin" });
        long forecast = t.Store.SaveForecast(new NewArtifact { Name = "f", BodyJson = "{}" });
        (string[] Args, string Message)[] cases =
        [
            (["fit", $"run:{b + 100}", "--store", t.Location], $"run:{b + 100}: there is no run {b + 100} in store"),
            (["fit", "run:nobody", $"run:{a}", "--store", t.Location], "run:nobody: no run is named 'nobody'"),
            (["fit", "run:twin", "--store", t.Location], $"2 runs are named 'twin' in store {t.Store.Location} (ids {a}, {b}); name one by its id"),
            (["fit", $"run:{a}@cosine(peak=-1)", "--store", t.Location], "the schedule after '@' is not valid"),
            (["fit", "--store", $"run:{a}", $"run:{b}"], $"--store 'run:{a}': that is a stored run or law, not a store"),
            (["predict", $"law:{forecast}", "--schedule", Cosine, "--store", t.Location], $"law:{forecast}: stored result {forecast} is a forecast, not a law"),
            (["predict", "law:77", "--schedule", Cosine, "--store", t.Location], "law:77: there is no stored result 77"),
            (["optimize", "law:x", "--steps", "1000", "--peak", "1e-3", "--store", t.Location], "law:x: give the stored law's id after law:"),
        ];
        foreach (var (args, message) in cases)
        {
            var (code, stdout, err) = Run(args);
            code.ShouldBe(2, string.Join(" ", args) + "\n" + err);
            err.ShouldStartWith("error: ");
            err.ShouldContain(message);
            err.Trim().Split('\n').Length.ShouldBe(1, err); // one message, no progress: no work started
            stdout.ShouldBeEmpty();
        }
        t.Store.ListArtifacts().Select(x => x.Id).ShouldBe([forecast]);
    }

    [Fact]
    public void A_store_to_read_from_that_does_not_exist_is_named_and_not_created()
    {
        var dir = Directory.CreateTempSubdirectory("anneal-prov-").FullName;
        try
        {
            var missing = Path.Combine(dir, "none.db");
            var (code, _, err) = Run("fit", "run:1", "--store", missing);
            code.ShouldBe(2);
            err.ShouldContain($"there is no store at {missing}");
            System.IO.File.Exists(missing).ShouldBeFalse();
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void An_autolrs_run_is_fitted_on_the_rates_it_logged()
    {
        using var t = Backends.Create("sqlite");
        var file = CurveReader.Read(TestPaths.Mpl("400m", "constant_24000.csv"));
        long id = t.Store.ImportCurve(file, new NewRun { Name = "auto", Schedule = "autolrs(min=1e-4, max=1e-2, tau=100)" });
        var run = Provenance.ReadRuns(t.Store, [$"run:{id}"]).ShouldHaveSingleItem();
        run.Curve.ScheduleSpec.ShouldBeNull(); // no spec to sample: the lr column is the schedule
        run.Curve.Lr.ShouldBe(file.Lr);
        run.Curve.Warnings.ShouldContain(w => w.Contains("chosen while training"));
        LawRun.FromCurve(run.Curve).EtaSource.ShouldContain("lr column");
    }
}
