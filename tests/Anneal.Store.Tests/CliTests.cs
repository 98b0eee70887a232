using System.Text.Json;
using Anneal.Cli;
using Anneal.Curves;

namespace Anneal.Store.Tests;

/// <summary>Serialises the tests that run the CLI in-process (it swaps Console.Out).</summary>
[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCollection;

/// <summary><c>anneal runs add|list|show|rm</c> and <c>anneal train --store</c>, in-process, on every backend.</summary>
[Collection("Console")]
public sealed class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        return (AnnealCli.Run(args, o, e), o.ToString(), e.ToString());
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Runs_are_added_from_files_and_folders_listed_shown_and_removed(string kind)
    {
        using var t = Backends.Create(kind);
        var folder = TestPaths.Mpl("400m");
        var files = Directory.GetFiles(folder, "*.csv").Order(StringComparer.Ordinal).ToArray();
        var (code, stdout, err) = Run("runs", "add", folder, "--tag", "mpl", "--tag", "400m", "--store", t.Location, "--json");
        code.ShouldBe(0, err);
        var addedDoc = JsonDocument.Parse(stdout).RootElement;
        addedDoc.GetProperty("format").GetString().ShouldBe("anneal-runs-added/1");
        var added = addedDoc.GetProperty("runs").EnumerateArray().ToList();
        added.Select(a => a.GetProperty("name").GetString()).ShouldBe(files.Select(Path.GetFileNameWithoutExtension));
        var (c2, one, e2) = Run("runs", "add", files[2] + "@cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)", "--name", "named", "--store", t.Location);
        c2.ShouldBe(0, e2);
        one.ShouldContain("added run");

        var (c3, list, e3) = Run("runs", "list", "--store", t.Location, "--tag", "mpl", "--sort", "loss", "--asc", "--json");
        c3.ShouldBe(0, e3);
        var page = JsonDocument.Parse(list).RootElement;
        page.GetProperty("total").GetInt64().ShouldBe(files.Length);
        // ordered by final training loss, which the files themselves give
        var finals = files.Select(f => (Name: Path.GetFileNameWithoutExtension(f), Loss: CurveReader.Read(f).Loss![^1])).OrderBy(x => x.Loss).Select(x => x.Name);
        page.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("name").GetString()).ShouldBe(finals);

        var named = t.Store.ListRuns(new RunQuery { Search = "named" }).Runs.ShouldHaveSingleItem();
        named.Schedule.ShouldBe(CurveArgument.Parse(files[2] + "@cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)").ScheduleSpec); // canonical
        var (c4, show, e4) = Run("runs", "show", named.Id.ToString(), "--store", t.Location);
        c4.ShouldBe(0, e4);
        show.ShouldContain(named.Schedule!);
        show.ShouldContain("loss");
        var (c5, table, _) = Run("runs", "list", "--store", t.Location, "--search", "WSDCON");
        c5.ShouldBe(0);
        table.ShouldContain("wsdcon_3");
        table.ShouldNotContain("cosine_24000");

        var (c6, rm, e6) = Run("runs", "rm", named.Id.ToString(), "--store", t.Location);
        c6.ShouldBe(0, e6);
        rm.ShouldContain($"deleted run {named.Id}");
        t.Store.GetRun(named.Id).ShouldBeNull();
        // an unknown id among known ones deletes nothing
        var first = added[0].GetProperty("id").GetInt64();
        var (c7, _, e7) = Run("runs", "rm", first.ToString(), "999999", "--store", t.Location);
        c7.ShouldBe(2);
        e7.ShouldContain("no run 999999");
        t.Store.GetRun(first).ShouldNotBeNull();
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Train_with_a_store_streams_every_logged_step_and_marks_the_run_finished(string kind)
    {
        using var t = Backends.Create(kind);
        var dir = Directory.CreateTempSubdirectory("anneal-trainstore-").FullName;
        try
        {
            string csv = Path.Combine(dir, "tiny.csv");
            var sample = Path.Combine(TestPaths.RepoRoot, "tests", "Anneal.Training.Tests", "Data", "brown-sample.txt");
            var (code, stdout, err) = Run("train", "--model", "gpt(layers=1, heads=2, dim=16, seq=16)", "--data", sample, "--schedule", "cosine(peak=1e-2, total=30, warmup=2)",
                "--steps", "30", "--batch", "4", "--eval-every", "10", "--eval-batches", "2", "--out", csv, "--store", t.Location, "--tag", "tiny");
            code.ShouldBe(0, err);
            stdout.ShouldContain("stored as run");
            var run = t.Store.ListRuns(new RunQuery { Tags = ["tiny"] }).Runs.ShouldHaveSingleItem();
            run.Name.ShouldBe("tiny");
            run.Status.ShouldBe(RunStatus.Finished);
            run.Schedule.ShouldBe("cosine(peak=1e-2, total=30, warmup=2)");
            var log = CurveReader.Read(csv);
            var stored = t.Store.LoadCurve(run.Id)!;
            stored.Steps.ShouldBe(log.Steps);
            stored.Loss.ShouldBe(log.Loss);
            stored.Lr.ShouldBe(log.Lr);
            stored.ValLoss!.Where(double.IsFinite).ShouldBe(log.ValLoss!.Where(double.IsFinite));
            var full = t.Store.GetRun(run.Id)!;
            full.MetadataJson.ShouldContain("\"model\"");
            full.Metrics.Select(m => m.Metric).ShouldBe(["grad_norm", "loss", "lr", "seconds", "tokens", "val_loss"]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
