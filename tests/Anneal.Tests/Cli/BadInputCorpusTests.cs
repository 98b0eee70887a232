using System.Text.Json.Nodes;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;
using static Anneal.Tests.Cli.CliRunner;

namespace Anneal.Tests.Cli;

/// <summary>
/// Files the bad-input corpus reads: good inputs (a law fitted to synthetic runs of a known law, a scaling-runs file
/// written by <c>anneal scaling example</c>, the bundled MPL curves) and bad ones (binary, empty, header-only,
/// non-numeric, out-of-range law). Every output a row names is made or removed afresh before the row runs.
/// </summary>
public sealed class BadInputFiles : IDisposable
{
    /// <summary>The folder holding every input and output of the corpus.</summary>
    public string Dir { get; } = Directory.CreateTempSubdirectory("anneal-badinput-").FullName;

    public BadInputFiles()
    {
        string P(string f) => Path.Combine(Dir, f);
        var law = new MultiPowerLaw();
        double[] truth = [2.53, 0.65, 0.43, 520.0, 2.0, 0.59, 0.63];
        LawRun Synthetic(string spec, int n)
        {
            var eta = Schedule.Parse(spec).Sample(n);
            var steps = Enumerable.Range(0, n).Where(i => i >= 200 && i % 50 == 0).Select(i => (long)i).ToArray();
            return new LawRun { Name = spec, Eta = eta, Steps = steps, Observed = law.Predict(eta, steps, truth), EtaSource = spec };
        }
        var json = LawFitter.Fit(law, [Synthetic("cosine(peak=3e-4, total=6000, warmup=200, min=3e-5)", 6000), Synthetic("constant(peak=3e-4, warmup=200)", 6000)]).ToJson();
        File.WriteAllText(P("law.json"), json);
        var bad = JsonNode.Parse(json)!.AsObject();
        bad["parameters"]!.AsArray().Select(p => p!.AsObject()).First(p => p["name"]!.GetValue<string>() == "alpha")["value"] = 50;
        File.WriteAllText(P("alpha50.law.json"), bad.ToJsonString());
        File.WriteAllText(P("junk.json"), "{ this is not json");
        var rng = new Random(12);
        var bytes = new byte[4096];
        rng.NextBytes(bytes);
        File.WriteAllBytes(P("binary.csv"), bytes);
        File.WriteAllText(P("empty.csv"), "");
        File.WriteAllText(P("header.csv"), "step,lr,loss\n");
        File.WriteAllText(P("text-cell.csv"), "step,lr,loss\n100,3e-4,3.5\n200,3e-4,abc\n300,3e-4,3.4\n");
        // a run logging its epochs completed (HF's convention): 100 steps per epoch, to step 300
        File.WriteAllText(P("epochs.csv"), "step,lr,loss,epoch\n100,3e-4,3.5,1\n150,3e-4,3.45,1.5\n200,3e-4,3.4,2\n250,3e-4,3.35,2.5\n300,3e-4,3.3,3\n");
        File.WriteAllText(P("nolr.csv"), "step,loss\n100,3.5\n200,3.4\n300,3.3\n400,3.25\n");
        File.WriteAllText(P("short-lr.csv"), "step,lr\n0,1e-4\n1,2e-4\n2,3e-4\n");
        File.WriteAllText(P("bad-header-lr.csv"), "iteration,rate\n0,1e-4\n");
        File.WriteAllText(P("text.txt"), string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog. ", 400)));
        Directory.CreateDirectory(P("afolder"));
        // runs and rate files past the per-step limit of the laws (LrExpansion.MaxSteps = 5e6): a 5-row log ending
        // at step 199,999,999 (issue 12, defect 3) and a rate table ending at step 2e7
        File.WriteAllText(P("far.csv"), "step,lr,loss\n20000000,3e-4,3.5\n50000000,2.5e-4,3.4\n100000000,1.6e-4,3.3\n150000000,6e-5,3.1\n199999999,3e-5,3.0\n");
        File.WriteAllText(P("far-lr.csv"), "step,lr\n0,3e-4\n20000000,3e-5\n");
        // a curve file one byte over CurveReader.MaxBytes (sparse: no disk is used)
        using (var big = File.Create(P("huge.csv"))) big.SetLength(Anneal.Curves.CurveReader.MaxBytes + 1);
        File.WriteAllText(P("edge.csv"), "step,lr,loss\n1000000,3e-4,3.5\n2000000,2.5e-4,3.4\n3000000,1.6e-4,3.3\n4000000,6e-5,3.1\n5000000,3e-5,3.0\n");
        // training texts that are not UTF-8 text: a gzip stream, UTF-16 text, a checkpoint-like binary
        using (var gz = new System.IO.Compression.GZipStream(File.Create(P("text.txt.gz")), System.IO.Compression.CompressionLevel.Fastest))
            gz.Write(System.Text.Encoding.UTF8.GetBytes("the quick brown fox jumps over the lazy dog. "));
        File.WriteAllText(P("utf16.txt"), string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog. ", 40)), System.Text.Encoding.Unicode);
        if (!OperatingSystem.IsWindows())
        {
            // an output that is a link loop cannot be written through
            File.CreateSymbolicLink(P("loop-a.csv"), P("loop-b.csv"));
            File.CreateSymbolicLink(P("loop-b.csv"), P("loop-a.csv"));
        }
        // trainer logs (issue 13): a TensorBoard file with one flipped byte, one cut inside its first record, an HF
        // state without log_history, a folder of two runs, a malformed MLflow metric line, a long table of two runs
        var tb = File.ReadAllBytes(TestPaths.TestData("logs", "peer-simple.tfevents"));
        var flipped = (byte[])tb.Clone();
        flipped[80] ^= 0x10;
        File.WriteAllBytes(P("badcrc.tfevents"), flipped);
        File.WriteAllBytes(P("cut.tfevents"), tb[..20]);
        File.WriteAllBytes(P("good.tfevents"), tb);
        File.WriteAllText(P("trainer_state.json"), """{"global_step": 200, "max_steps": 200, "logging_steps": 10, "best_metric": null}""");
        foreach (var v in new[] { "version_0", "version_1" })
        {
            Directory.CreateDirectory(P($"tworuns/lightning_logs/{v}"));
            File.WriteAllText(P($"tworuns/lightning_logs/{v}/metrics.csv"), "epoch,step,train_loss\n0,9,3.1\n");
        }
        Directory.CreateDirectory(P("mlrun/metrics"));
        File.WriteAllText(P("mlrun/meta.yaml"), "run_id: abc\nrun_name: bad-run\n");
        File.WriteAllText(P("mlrun/metrics/loss"), "1700000000000 3.2 10\n1700000000001 three 20\n");
        File.WriteAllText(P("long2.csv"), "run_id,key,value,step\nr1,loss,3.2,10\nr2,loss,3.1,10\n");
        File.WriteAllText(P("dupstep.csv"), "step,train_loss,val_loss\n10,3.2,\n10,,3.3\n10,3.1,\n");
        const string study = "name: bad\nobjective: {command: [bash, x.sh], log: \"r/{trial}.csv\", steps: 10, metric: loss}\nspace: {x: {uniform: [0, 1]}}\n";
        File.WriteAllText(P("good-study.yaml"), study);
        File.WriteAllText(P("sampler-study.yaml"), study + "sampler: bayes\n");
        File.WriteAllText(P("placeholder-study.yaml"), study + "schedule: \"cosine(peak={lr}, total=10)\"\n");
        File.WriteAllText(P("broken-study.yaml"), "name: bad\nspace: {x: [1, 2\n");
        var (code, _, err) = Run("scaling", "example", "--out", P("runs.csv"));
        if (code != 0) throw new InvalidOperationException("anneal scaling example failed: " + err);
        (code, _, err) = Run("runs", "add", TestPaths.Mpl("400m", "wsdcon_3.csv"), "--store", P("store.db"));
        if (code != 0) throw new InvalidOperationException("anneal runs add failed: " + err);
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// The bad-input corpus of issue 12: every row is a command line with one bad input or option, run through the CLI
/// entry point in-process. Each must end with exit 2 (never 1, never 0), a message holding the row's words and no
/// stack trace, and no output created or changed: outputs marked <c>=</c> exist beforehand with known content and
/// must keep it; the others must not exist afterwards, and no temporary file may be left beside them.
/// Placeholders: <c>{d}</c> the corpus folder (<see cref="BadInputFiles"/>), <c>{E}</c> the bundled 400m MPL curves.
/// </summary>
[Collection("Console")] // the serial collection of the in-process CLI tests
public sealed class BadInputCorpusTests(BadInputFiles files) : IClassFixture<BadInputFiles>
{
    private const string Keep = "KEEP: written before the command ran\n";
    private const string S = "wsd(peak=3e-4, total=2400, warmup=216, decay=0.2, shape=sqrt)";
    private const string Base = "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)";
    private const string Cos = "{E}/cosine_24000.csv";
    private const string Con = "{E}/constant_24000.csv";

    /// <summary>A row: a name, the arguments, words the message must contain, the outputs to watch (<c>=</c>: exists beforehand).</summary>
    private sealed record Row(string Name, string[] Args, string[] Words, string[] Outputs);

    private static Row R(string name, string[] args, string[] words, params string[] outputs) => new(name, args, words, outputs);

    private static readonly Row[] Rows =
    [
        // ---- schedule sample
        R("sample: unknown schedule kind", ["schedule", "sample", "cosin(peak=3e-4, total=10)", "-n", "10", "--out", "{d}/s.csv"], ["cosin"], "s.csv"),
        R("sample: zero steps", ["schedule", "sample", S, "-n", "0", "--out", "{d}/s.csv"], ["--steps", "between 1 and"], "s.csv"),
        R("sample: steps above the maximum", ["schedule", "sample", S, "-n", "200000000", "--out", "{d}/s.csv"], ["--steps", "100000000"], "s.csv"),
        R("sample: steps in exponent form", ["schedule", "sample", S, "-n", "1e12", "--out", "{d}/s.csv"], ["--steps", "'1e12'", "whole number"], "s.csv"),
        R("sample: steps missing", ["schedule", "sample", S, "--out", "{d}/s.csv"], ["--steps", "required"], "s.csv"),
        R("sample: unwritable --out", ["schedule", "sample", S, "-n", "10", "--out", "/proc/s.csv"], ["--out", "/proc"]),
        R("sample: --out is a folder", ["schedule", "sample", S, "-n", "10", "--out", "{d}/afolder"], ["--out", "is a folder"]),
        R("sample: --out in a missing folder", ["schedule", "sample", S, "-n", "10", "--out", "{d}/nofolder/s.csv"], ["--out", "does not exist"]),
        R("sample: unknown format", ["schedule", "sample", S, "-n", "10", "--format", "xml", "--out", "{d}/s.csv"], ["xml"], "s.csv"),
        R("sample: unknown option", ["schedule", "sample", S, "-n", "10", "--bogus", "--out", "{d}/s.csv"], ["--bogus"], "s.csv"),
        R("sample: bad spec keeps the old output", ["schedule", "sample", "wsd(peak=3e-4, total=10, decay=2)", "-n", "10", "--out", "{d}/s.csv"], ["decay"], "=s.csv"),
        // ---- schedule plot
        R("plot: nothing to write", ["schedule", "plot", S, "--steps", "100"], ["nothing to write"]),
        R("plot: unwritable --svg keeps --csv", ["schedule", "plot", S, "--steps", "100", "--svg", "/proc/p.svg", "--csv", "{d}/p.csv"], ["--svg", "/proc"], "=p.csv"),
        R("plot: unwritable --csv keeps --svg", ["schedule", "plot", S, "--steps", "100", "--csv", "/proc/p.csv", "--svg", "{d}/p.svg"], ["--csv", "/proc"], "=p.svg"),
        R("plot: --svg and --csv on one file", ["schedule", "plot", S, "--steps", "100", "--svg", "{d}/same.out", "--csv", "{d}/same.out"], ["--svg and --csv", "same file"], "same.out"),
        R("plot: --points below 2", ["schedule", "plot", S, "--steps", "100", "--points", "1", "--svg", "{d}/p.svg"], ["--points"], "=p.svg"),
        R("plot: bad spec", ["schedule", "plot", "cosine(peak=-1, total=10)", "--steps", "10", "--svg", "{d}/p.svg"], ["peak"], "p.svg"),
        R("plot: zero steps", ["schedule", "plot", S, "--steps", "0", "--svg", "{d}/p.svg"], ["--steps"], "p.svg"),
        R("schedule list: unknown option", ["schedule", "list", "--bogus"], ["--bogus"]),
        // ---- curve info / plot / convert
        R("curve info: missing file", ["curve", "info", "{d}/nosuch.csv"], ["nosuch.csv", "not found"]),
        R("curve info: empty file", ["curve", "info", "{d}/empty.csv"], ["empty.csv"]),
        R("curve info: header only", ["curve", "info", "{d}/header.csv"], ["header.csv"]),
        R("curve info: text in a loss cell", ["curve", "info", "{d}/text-cell.csv"], ["text-cell.csv", "abc"]),
        R("curve info: unknown column", ["curve", "info", Cos, "--loss-col", "nosuch"], ["nosuch"]),
        R("curve info: bad attached schedule", ["curve", "info", Cos + "@cosine(peak=3e-4)"], ["total"]),
        R("curve plot: unwritable --svg", ["curve", "plot", Cos, "--svg", "/proc/c.svg"], ["--svg", "/proc"]),
        R("curve plot: --svg is a folder", ["curve", "plot", Cos, "--svg", "{d}/afolder"], ["--svg", "is a folder"]),
        R("curve plot: missing input keeps the plot", ["curve", "plot", "{d}/nosuch.csv", "--svg", "{d}/c.svg"], ["nosuch.csv"], "=c.svg"),
        R("curve plot: --target val without validation loss", ["curve", "plot", Cos, "--target", "val", "--svg", "{d}/c.svg"], ["validation"], "=c.svg"),
        R("curve plot: --lr without a learning rate", ["curve", "plot", "{d}/nolr.csv", "--lr", "--svg", "{d}/c.svg"], ["--lr"], "=c.svg"),
        R("curve info: a file above 200 MB", ["curve", "info", "{d}/huge.csv"], ["huge.csv", "200000000"]),
        R("fit: a curve file above 200 MB", ["fit", "{d}/huge.csv", "--out", "{d}/f.json"], ["huge.csv", "200000000"], "=f.json"),
        R("curve plot: --lr of a run past the per-step limit", ["curve", "plot", "{d}/far.csv", "--lr", "--svg", "{d}/c.svg"], ["far.csv", "5000000"], "=c.svg"),
        R("export: --out is a symbolic link loop", ["export", S, "--steps", "2400", "--out", "{d}/loop-a.csv"], ["loop-a.csv", "symbolic link"]),
        R("curve convert: unknown extension", ["curve", "convert", Cos, "--out", "{d}/c.txt"], ["--out", ".csv or .json"], "c.txt"),
        R("curve convert: unwritable --out", ["curve", "convert", Cos, "--out", "/proc/c.csv"], ["--out", "/proc"]),
        R("curve convert: missing input keeps the output", ["curve", "convert", "{d}/nosuch.csv", "--out", "{d}/c.csv"], ["nosuch.csv"], "=c.csv"),
        R("curve convert: binary input", ["curve", "convert", "{d}/binary.csv", "--out", "{d}/c.csv"], ["binary.csv"], "=c.csv"),
        // ---- trainer logs (issue 13)
        R("curve info: TensorBoard file with a bad CRC", ["curve", "info", "{d}/badcrc.tfevents"], ["badcrc.tfevents", "record 2", "CRC-32C does not match"]),
        R("curve info: TensorBoard file cut in its first record", ["curve", "info", "{d}/cut.tfevents"], ["cut.tfevents", "no scalar values", "cut"]),
        R("curve info: HF state without log_history", ["curve", "info", "{d}/trainer_state.json"], ["trainer_state.json", "log_history"]),
        R("curve info: folder of two runs", ["curve", "info", "{d}/tworuns"], ["holds 2 runs", "version_0", "version_1"]),
        R("curve info: folder without a log", ["curve", "info", "{d}/afolder"], ["afolder", "no training log found"]),
        R("curve info: MLflow metric line not a number", ["curve", "info", "{d}/mlrun"], ["loss:2", "timestamp value step"]),
        R("curve info: long table of two runs", ["curve", "info", "{d}/long2.csv"], ["long2.csv", "2 runs", "r1", "r2"]),
        R("curve info: sparse table with two losses at one step", ["curve", "info", "{d}/dupstep.csv"], ["dupstep.csv:4", "step 10 repeats"]),
        R("curve info: --step-col on a TensorBoard file", ["curve", "info", "{d}/good.tfevents", "--step-col", "x"], ["stores the step with each value"]),
        R("fit: TensorBoard file with a bad CRC keeps the law", ["fit", "{d}/badcrc.tfevents", "--out", "{d}/f.json"], ["CRC-32C"], "=f.json"),
        R("fit: --loss-col names no metric", ["fit", "{d}/tworuns/lightning_logs/version_0", "--loss-col", "nosuch", "--out", "{d}/f.json"], ["nosuch", "train_loss"], "=f.json"),
        R("evaluate: --val-col names no column", ["evaluate", "--fit", Cos, "--test", Con, "--target", "val", "--val-col", "nosuch", "--markdown", "{d}/e.md"], ["nosuch"], "=e.md"),
        R("train compare: --loss-col names no column", ["train", "compare", Cos, "--loss-col", "nosuch", "--plot", "{d}/c.svg"], ["nosuch"], "=c.svg"),
        // ---- watch
        R("watch: log in a missing folder", ["watch", "{d}/nofolder/run.csv", "--schedule", S], ["nofolder", "neither the log nor its folder"]),
        R("watch: schedule without a total", ["watch", "{d}/run.csv", "--schedule", "constant(peak=3e-4, warmup=10)"], ["no total length"]),
        R("watch: bad law", ["watch", "{d}/run.csv", "--schedule", S, "--law", "nosuch"], ["nosuch"]),
        R("watch: --level 2", ["watch", "{d}/run.csv", "--schedule", S, "--level", "2"], ["--level"]),
        R("watch: --idle 0", ["watch", "{d}/run.csv", "--schedule", S, "--idle", "0"], ["--idle"]),
        R("watch: bad --against", ["watch", "{d}/run.csv", "--schedule", S, "--against", "cosin(peak=1)"], ["cosin"]),
        R("watch: unreadable log", ["watch", "{d}/binary.csv", "--schedule", S, "--idle", "5"], ["binary.csv"]),
        R("watch: unknown option", ["watch", "{d}/run.csv", "--schedule", S, "--bogus"], ["unknown option", "--bogus"]),
        // ---- fit
        R("fit: --steps-per-epoch 0", ["fit", Cos, "--steps-per-epoch", "0", "--out", "{d}/f.json"], ["--steps-per-epoch", ">= 1", "got 0"], "=f.json"),
        R("fit: --steps-per-epoch contradicts the log's epoch column", ["fit", "{d}/epochs.csv", "--law", "powerlaw", "--steps-per-epoch", "500", "--out", "{d}/f.json"],
            ["--steps-per-epoch 500", "epochs.csv", "at most 100", "leave --steps-per-epoch out"], "=f.json"),
        R("fit: missing file", ["fit", "{d}/nosuch.csv", "--out", "{d}/f.json"], ["nosuch.csv", "not found"], "f.json"),
        R("fit: unwritable --out", ["fit", Cos, "--out", "/proc/law.json"], ["--out", "/proc"]),
        R("fit: --out is a folder", ["fit", Cos, "--out", "{d}/afolder"], ["--out", "is a folder"]),
        R("fit: unknown law", ["fit", Cos, "--law", "nosuch", "--out", "{d}/f.json"], ["nosuch"], "=f.json"),
        R("fit: negative --from-step", ["fit", Cos, "--from-step", "-5", "--out", "{d}/f.json"], ["--from-step"], "=f.json"),
        R("fit: unknown method", ["fit", Cos, "--method", "bogus", "--out", "{d}/f.json"], ["--method", "bogus"], "=f.json"),
        R("fit: --target val without validation loss", ["fit", Cos, "--target", "val", "--out", "{d}/f.json"], ["val"], "=f.json"),
        R("fit: unknown option", ["fit", Cos, "--bogus", "1"], ["unknown option", "--bogus"]),
        R("fit: empty curve keeps the law", ["fit", "{d}/empty.csv", "--out", "{d}/f.json"], ["empty.csv"], "=f.json"),
        R("fit: seed not a number", ["fit", Cos, "--seed", "abc"], ["--seed", "whole number"]),
        R("fit: a run ending one step past the maximum", ["fit", "{d}/edge.csv", "--law", "powerlaw", "--out", "{d}/f.json"], ["edge.csv", "5000000"], "=f.json"),
        R("fit: a 5-row run ending at step 199,999,999", ["fit", "{d}/far.csv", "--law", "powerlaw", "--out", "{d}/f.json"], ["far.csv", "199999999", "5000000"], "=f.json"),
        // ---- predict
        R("predict: --steps-per-epoch with a law that records no fitted horizon", ["predict", "mpl-400m", "--schedule", S, "--steps-per-epoch", "3000", "--csv", "{d}/p.csv"],
            ["--steps-per-epoch", "give --steps-per-epoch when fitting"], "=p.csv"),
        R("predict: --steps-per-epoch -1", ["predict", "{d}/law.json", "--schedule", S, "--steps-per-epoch", "-1", "--csv", "{d}/p.csv"], ["--steps-per-epoch", ">= 1"], "=p.csv"),
        R("predict: missing law", ["predict", "{d}/nosuch.json", "--schedule", S, "--csv", "{d}/p.csv"], ["nosuch.json", "not found"], "=p.csv"),
        R("predict: law not JSON", ["predict", "{d}/junk.json", "--schedule", S, "--csv", "{d}/p.csv"], ["junk.json"], "=p.csv"),
        R("predict: law parameter out of range", ["predict", "{d}/alpha50.law.json", "--schedule", S, "--csv", "{d}/p.csv"], ["alpha", "50"], "=p.csv"),
        R("predict: unwritable --svg keeps --csv", ["predict", "{d}/law.json", "--schedule", S, "--csv", "{d}/p.csv", "--svg", "/proc/p.svg"], ["--svg", "/proc"], "=p.csv"),
        R("predict: unwritable --csv keeps --svg", ["predict", "{d}/law.json", "--schedule", S, "--csv", "/proc/p.csv", "--svg", "{d}/p.svg"], ["--csv", "/proc"], "=p.svg"),
        R("predict: --csv and --svg on one file", ["predict", "{d}/law.json", "--schedule", S, "--csv", "{d}/same.out", "--svg", "{d}/same.out"], ["same file"], "same.out"),
        R("predict: no schedule", ["predict", "{d}/law.json", "--csv", "{d}/p.csv"], ["--schedule", "--lr-file"], "=p.csv"),
        R("predict: two schedules", ["predict", "{d}/law.json", "--schedule", S, "--lr-file", "{d}/short-lr.csv", "--csv", "{d}/p.csv"], ["one of them"], "=p.csv"),
        R("predict: --level above 1", ["predict", "{d}/law.json", "--schedule", S, "--level", "1.5", "--csv", "{d}/p.csv"], ["--level"], "=p.csv"),
        R("predict: --points 0", ["predict", "{d}/law.json", "--schedule", S, "--points", "0", "--csv", "{d}/p.csv"], ["--points"], "=p.csv"),
        R("predict: --steps 1", ["predict", "{d}/law.json", "--schedule", S, "--steps", "1", "--csv", "{d}/p.csv"], ["--steps"], "=p.csv"),
        R("predict: --steps above the maximum", ["predict", "{d}/law.json", "--schedule", S, "--steps", "300000000", "--csv", "{d}/p.csv"], ["--steps", "5000000"], "=p.csv"),
        R("predict: --steps one above the maximum", ["predict", "{d}/law.json", "--schedule", S, "--steps", "5000001", "--csv", "{d}/p.csv"], ["--steps", "5000001", "5000000"], "=p.csv"),
        R("predict: --steps 2e8, the old maximum", ["predict", "{d}/law.json", "--schedule", S, "--steps", "200000000", "--csv", "{d}/p.csv", "--svg", "{d}/p.svg"], ["--steps", "5000000", "memory"], "=p.csv", "p.svg"),
        R("predict: a schedule's total above the maximum", ["predict", "{d}/law.json", "--schedule", "cosine(peak=3e-4, total=20000000, warmup=100)", "--csv", "{d}/p.csv"], ["total", "5000000"], "=p.csv"),
        R("predict: --lr-file ending past the maximum", ["predict", "{d}/law.json", "--lr-file", "{d}/far-lr.csv", "--csv", "{d}/p.csv"], ["far-lr.csv", "20000000", "5000000"], "=p.csv"),
        R("predict: --lr-file with --steps above the maximum", ["predict", "{d}/law.json", "--lr-file", "{d}/short-lr.csv", "--steps", "20000000", "--csv", "{d}/p.csv"], ["--steps", "5000000"], "=p.csv"),
        R("predict: schedule without a length", ["predict", "{d}/law.json", "--schedule", "constant(peak=3e-4, warmup=100)", "--csv", "{d}/p.csv"], ["--steps is needed"], "=p.csv"),
        R("predict: missing --lr-file", ["predict", "{d}/law.json", "--lr-file", "{d}/nosuch.csv", "--csv", "{d}/p.csv"], ["nosuch.csv"], "=p.csv"),
        R("predict: binary --lr-file", ["predict", "{d}/law.json", "--lr-file", "{d}/binary.csv", "--csv", "{d}/p.csv"], ["binary.csv"], "=p.csv"),
        // ---- evaluate
        R("evaluate: --law names no law", ["evaluate", "--fit", Cos, "--test", Con, "--law", ",", "--markdown", "{d}/e.md"], ["no law"], "=e.md"),
        R("evaluate: unknown law", ["evaluate", "--fit", Cos, "--test", Con, "--law", "nosuch", "--markdown", "{d}/e.md"], ["nosuch"], "=e.md"),
        R("evaluate: --svg is a file", ["evaluate", "--fit", Cos, "--test", Con, "--law", "mpl", "--svg", "{d}/e.md"], ["--svg", "is a file"], "=e.md"),
        R("evaluate: unwritable --markdown, no plots", ["evaluate", "--fit", Cos, "--test", Con, "--law", "mpl", "--svg", "{d}/evalplots", "--markdown", "/proc/e.md"], ["--markdown", "/proc"], "evalplots"),
        R("evaluate: unwritable --svg folder", ["evaluate", "--fit", Cos, "--test", Con, "--law", "mpl", "--svg", "/proc/plots", "--markdown", "{d}/e.md"], ["--svg", "/proc"], "=e.md"),
        R("evaluate: missing test run", ["evaluate", "--fit", Cos, "--test", "{d}/nosuch.csv", "--law", "mpl", "--markdown", "{d}/e.md"], ["nosuch.csv"], "=e.md"),
        R("evaluate: unknown method", ["evaluate", "--fit", Cos, "--test", Con, "--law", "mpl", "--method", "bogus", "--markdown", "{d}/e.md"], ["--method"], "=e.md"),
        R("evaluate: unknown --test-grad-norm", ["evaluate", "--fit", Cos, "--test", Con, "--test-grad-norm", "bogus"], ["bogus"]),
        R("evaluate: --fit missing", ["evaluate", "--test", Con], ["--fit"]),
        // ---- optimize
        R("optimize: --peak 1e308", ["optimize", "mpl-400m", "--steps", "24000", "--peak", "1e308", "--warmup", "2160", "--out", "{d}/o.csv"], ["--peak"], "=o.csv"),
        R("optimize: --peak 0", ["optimize", "mpl-400m", "--steps", "24000", "--peak", "0", "--out", "{d}/o.csv"], ["--peak"], "=o.csv"),
        R("optimize: --steps not above --warmup", ["optimize", "mpl-400m", "--steps", "100", "--peak", "1e-3", "--warmup", "100", "--out", "{d}/o.csv"], ["--steps", "--warmup"], "=o.csv"),
        R("optimize: --min-lr above the peak", ["optimize", "mpl-400m", "--steps", "2400", "--peak", "3e-4", "--min-lr", "1", "--out", "{d}/o.csv"], ["--min-lr"], "=o.csv"),
        R("optimize: post-warmup steps above the maximum", ["optimize", "mpl-400m", "--steps", "60000000", "--peak", "3e-4", "--out", "{d}/o.csv"], ["1000000", "post-warmup"], "=o.csv"),
        R("optimize: wsd family at 5e7 steps, the old maximum", ["optimize", "mpl-400m", "--steps", "50002160", "--warmup", "2160", "--peak", "3e-4", "--family", "wsd", "--out", "{d}/o.csv", "--svg", "{d}/o.svg"], ["--steps", "--warmup", "1000000"], "=o.csv", "o.svg"),
        R("optimize: one post-warmup step above the maximum", ["optimize", "mpl-400m", "--steps", "1002161", "--warmup", "2160", "--peak", "3e-4", "--out", "{d}/o.csv"], ["1000001", "1000000"], "=o.csv"),
        R("optimize: --steps in exponent form", ["optimize", "mpl-400m", "--steps", "1e12", "--peak", "3e-4"], ["--steps", "whole number"]),
        R("optimize: unwritable --svg keeps --out", ["optimize", "mpl-400m", "--steps", "2400", "--peak", "3e-4", "--warmup", "216", "--out", "{d}/o.csv", "--svg", "/proc/o.svg"], ["--svg", "/proc"], "=o.csv"),
        R("optimize: unwritable --out keeps --svg", ["optimize", "mpl-400m", "--steps", "2400", "--peak", "3e-4", "--warmup", "216", "--out", "/proc/o.csv", "--svg", "{d}/o.svg"], ["--out", "/proc"], "=o.svg"),
        R("optimize: unknown law", ["optimize", "{d}/nosuch.json", "--steps", "2400", "--peak", "3e-4", "--out", "{d}/o.csv"], ["mpl-400m"], "=o.csv"),
        R("optimize: law parameter out of range", ["optimize", "{d}/alpha50.law.json", "--steps", "2400", "--peak", "3e-4", "--out", "{d}/o.csv"], ["alpha"], "=o.csv"),
        R("optimize: unknown family", ["optimize", "mpl-400m", "--steps", "2400", "--peak", "3e-4", "--family", "bogus"], ["bogus"]),
        // ---- whatif
        R("whatif: --from-step past the base's end", ["whatif", "mpl-400m", "--base", Base, "--from-step", "30000", "--svg", "{d}/w.svg"], ["--from-step", "24000"], "=w.svg"),
        R("whatif: --from-step inside the warmup", ["whatif", "mpl-400m", "--base", Base, "--from-step", "100", "--svg", "{d}/w.svg"], ["--from-step", "warmup"], "=w.svg"),
        R("whatif: no --vary", ["whatif", "mpl-400m", "--base", Base, "--svg", "{d}/w.svg"], ["--vary"], "=w.svg"),
        R("whatif: three --vary axes", ["whatif", "mpl-400m", "--base", Base, "--vary", "decay=0.1,0.2", "--vary", "total=24000,48000", "--vary", "warmup=100,200"], ["at most two"]),
        R("whatif: unwritable --svg", ["whatif", "mpl-400m", "--base", Base, "--vary", "decay=0.1,0.2", "--svg", "/proc/w.svg"], ["--svg", "/proc"]),
        R("whatif: a base run above the design maximum", ["whatif", "mpl-400m", "--base", "wsd(peak=3e-4, total=3000000, warmup=2160, decay=0.2, shape=sqrt)", "--vary", "decay=0.1,0.2", "--svg", "{d}/w.svg"], ["1000000"], "=w.svg"),
        R("whatif: unknown --shape", ["whatif", "mpl-400m", "--base", Base, "--from-step", "12000", "--shape", "nosuch"], ["--shape", "nosuch"]),
        R("whatif: continuation axis not in steps", ["whatif", "mpl-400m", "--base", Base, "--from-step", "12000", "--vary", "extend=0.5,1"], ["whole steps"]),
        // ---- export
        R("export: unwritable --out", ["export", Base, "--steps", "24000", "--out", "/proc/x.csv"], ["--out", "/proc"]),
        R("export: --out is a folder", ["export", Base, "--steps", "24000", "--out", "{d}/afolder"], ["--out", "is a folder"]),
        R("export: zero steps", ["export", Base, "--steps", "0", "--out", "{d}/x.csv"], ["--steps"], "=x.csv"),
        R("export: steps above the maximum", ["export", Base, "--steps", "200000000", "--out", "{d}/x.csv"], ["--steps", "100000000"], "=x.csv"),
        R("export: pytorch without --out", ["export", Base, "--steps", "24000", "--format", "pytorch"], ["--format pytorch", "--out"]),
        R("export: hf from a table", ["export", "{d}/short-lr.csv", "--steps", "3", "--format", "hf", "--out", "{d}/x.json"], ["hf"], "=x.json"),
        R("export: table with a wrong header", ["export", "{d}/bad-header-lr.csv", "--steps", "1", "--out", "{d}/x.csv"], ["bad-header-lr.csv", "learning-rate column", "Name them step and lr"], "=x.csv"),
        R("export: table shorter than --steps", ["export", "{d}/short-lr.csv", "--steps", "10", "--out", "{d}/x.csv"], ["fewer than --steps"], "=x.csv"),
        R("export: bad spec", ["export", "wsd(peak=3e-4, total=100, bogus=1)", "--steps", "100", "--out", "{d}/x.csv"], ["bogus"], "=x.csv"),
        // ---- plan
        R("plan: --params 1e300", ["plan", "--params", "1e300", "--tokens", "1e300"], ["--params", "at most"]),
        R("plan: negative --tokens", ["plan", "--params", "1e9", "--tokens", "-1"], ["--tokens"]),
        R("plan: --params missing", ["plan", "--tokens", "1e11"], ["--params is required"]),
        R("plan: --fit a loss-curve law", ["plan", "--params", "1e9", "--tokens", "1e11", "--fit", "{d}/law.json"], ["law.json", "scaling fit"]),
        R("plan: --fit missing", ["plan", "--params", "1e9", "--tokens", "1e11", "--fit", "{d}/nosuch.json"], ["nosuch.json", "not found"]),
        R("plan: --vocab without --d-model", ["plan", "--params", "1e9", "--tokens", "1e11", "--vocab", "50000"], ["--vocab", "--d-model"]),
        R("plan: --seq-len 0", ["plan", "--params", "1e9", "--tokens", "1e11", "--seq-len", "0"], ["--seq-len"]),
        R("plan: --flops 1e300", ["plan", "--params", "1e9", "--tokens", "1e11", "--flops", "1e300"], ["--flops"]),
        R("plan rescale batch: negative batch", ["plan", "rescale", "batch", "--lr", "3e-4", "--from-batch", "256", "--to-batch", "-5"], ["--to-batch"]),
        R("plan rescale width: zero width", ["plan", "rescale", "width", "--lr", "3e-3", "--from-width", "256", "--to-width", "0"], ["--to-width"]),
        // ---- scaling
        R("scaling fit: missing file", ["scaling", "fit", "{d}/nosuch.csv", "--svg", "{d}/f.svg"], ["nosuch.csv"], "=f.svg"),
        R("scaling fit: binary file", ["scaling", "fit", "{d}/binary.csv", "--svg", "{d}/f.svg"], ["binary.csv"], "=f.svg"),
        R("scaling fit: unwritable --svg", ["scaling", "fit", "{d}/runs.csv", "--bootstrap", "0", "--svg", "/proc/f.svg"], ["--svg", "/proc"]),
        R("scaling fit: unwritable --contours keeps --svg", ["scaling", "fit", "{d}/runs.csv", "--bootstrap", "0", "--svg", "{d}/f.svg", "--contours", "/proc/c.svg"], ["--contours", "/proc"], "=f.svg"),
        R("scaling fit: --contours with steplaw", ["scaling", "fit", "{d}/runs.csv", "--law", "steplaw", "--contours", "{d}/c.svg"], ["--contours"], "=c.svg"),
        R("scaling fit: unknown law", ["scaling", "fit", "{d}/runs.csv", "--law", "kaplan"], ["kaplan"]),
        R("scaling fit: --bootstrap 1e8 (chinchilla)", ["scaling", "fit", "{d}/runs.csv", "--bootstrap", "100000000", "--svg", "{d}/f.svg"], ["bootstrap", "10000", "100000000"], "=f.svg"),
        R("scaling fit: --bootstrap above the maximum (steplaw)", ["scaling", "fit", "{d}/runs.csv", "--law", "steplaw", "--bootstrap", "10001", "--svg", "{d}/f.svg"], ["bootstrap", "10000"], "=f.svg"),
        R("scaling example: unwritable --out", ["scaling", "example", "--out", "/proc/r.csv"], ["--out", "/proc"]),
        R("scaling example: --noise 2", ["scaling", "example", "--noise", "2", "--out", "{d}/r.csv"], ["--noise"], "=r.csv"),
        // ---- train
        R("train: unwritable --out", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--out", "/proc/run.csv"], ["--out", "/proc"]),
        R("train: --out in a missing folder", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--out", "{d}/nofolder/run.csv"], ["--out", "does not exist"]),
        R("train: unwritable --data-dir", ["train", "--data-dir", "/proc/anneal-data", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["--data-dir", "/proc"], "run.csv", "run.csv.ckpt"),
        R("train: unwritable --plot", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv", "--plot", "/proc/run.svg"], ["--plot", "/proc"], "run.csv", "run.csv.ckpt"),
        R("train: unwritable --checkpoint", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv", "--checkpoint", "/proc/run.ckpt"], ["--checkpoint", "/proc"], "run.csv"),
        R("train: adamw b1=2", ["train", "--data", "{d}/text.txt", "--optimizer", "adamw(b1=2)", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["--optimizer", "b1", "[0, 1)"], "run.csv", "run.csv.ckpt"),
        R("train: adamw wd=-5", ["train", "--data", "{d}/text.txt", "--optimizer", "adamw(wd=-5)", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["--optimizer", "wd", "-5"], "run.csv", "run.csv.ckpt"),
        R("train: lion b2=-1", ["train", "--data", "{d}/text.txt", "--optimizer", "lion(b2=-1)", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["--optimizer", "b2"], "run.csv", "run.csv.ckpt"),
        R("train: sgd momentum=1", ["train", "--data", "{d}/text.txt", "--optimizer", "sgd(momentum=1)", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["momentum"], "run.csv", "run.csv.ckpt"),
        R("train: adam eps=-1", ["train", "--data", "{d}/text.txt", "--optimizer", "adam(eps=-1)", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["eps"], "run.csv", "run.csv.ckpt"),
        R("train: unknown optimizer", ["train", "--data", "{d}/text.txt", "--optimizer", "adagrad", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["adagrad"], "run.csv", "run.csv.ckpt"),
        R("train: muon momentum=1", ["train", "--data", "{d}/text.txt", "--optimizer", "muon(momentum=1)", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["--optimizer", "momentum", "[0, 1)"], "run.csv", "run.csv.ckpt"),
        R("train: muon ns_steps=0", ["train", "--data", "{d}/text.txt", "--optimizer", "muon(ns_steps=0)", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["--optimizer", "ns_steps", "1 to 20"], "run.csv", "run.csv.ckpt"),
        R("train: muon ns_steps=2.5", ["train", "--data", "{d}/text.txt", "--optimizer", "muon(ns_steps=2.5)", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["--optimizer", "ns_steps", "whole number"], "run.csv", "run.csv.ckpt"),
        R("train: muon adam_b2=1", ["train", "--data", "{d}/text.txt", "--optimizer", "muon(adam_b2=1)", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["--optimizer", "adam_b2", "[0, 1)"], "run.csv", "run.csv.ckpt"),
        R("train: muon adam_wd=-1", ["train", "--data", "{d}/text.txt", "--optimizer", "muon(adam_wd=-1)", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["--optimizer", "adam_wd", ">= 0"], "run.csv", "run.csv.ckpt"),
        R("train: muon adam_eps=-1", ["train", "--data", "{d}/text.txt", "--optimizer", "muon(adam_eps=-1)", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["--optimizer", "adam_eps"], "run.csv", "run.csv.ckpt"),
        R("train: muon nesterov=maybe", ["train", "--data", "{d}/text.txt", "--optimizer", "muon(nesterov=maybe)", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["--optimizer", "nesterov", "true or false"], "run.csv", "run.csv.ckpt"),
        R("train: muon misspelt b1", ["train", "--data", "{d}/text.txt", "--optimizer", "muon(b1=0.9)", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["--optimizer", "b1", "adam_b1"], "run.csv", "run.csv.ckpt"),
        R("train: zero steps", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "0", "--out", "{d}/run.csv"], ["--steps"], "run.csv", "run.csv.ckpt"),
        R("train: steps in exponent form", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "1e12", "--out", "{d}/run.csv"], ["--steps", "'1e12'", "whole number"], "run.csv"),
        R("train: unknown model", ["train", "--data", "{d}/text.txt", "--model", "gpt-huge", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["gpt-huge"], "run.csv", "run.csv.ckpt"),
        R("train: bad schedule", ["train", "--data", "{d}/text.txt", "--schedule", "cosine(total=10)", "--steps", "10", "--out", "{d}/run.csv"], ["peak"], "run.csv", "run.csv.ckpt"),
        R("train: --resume without a checkpoint", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv", "--resume"], ["--resume", "no checkpoint"], "run.csv", "run.csv.ckpt"),
        R("train: --branch-from missing", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv", "--branch-from", "{d}/nosuch.ckpt"], ["--branch-from", "nosuch.ckpt"], "run.csv", "run.csv.ckpt"),
        R("train: --branch-from a non-checkpoint", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv", "--branch-from", "{d}/binary.csv"], ["binary.csv", "checkpoint"], "run.csv", "run.csv.ckpt"),
        R("train: --save-at not a number", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv", "--save-at", "abc"], ["--save-at", "abc"], "run.csv", "run.csv.ckpt"),
        R("train: --save-at past --steps", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv", "--save-at", "999"], ["--save-at", "999"], "run.csv", "run.csv.ckpt"),
        R("train: --batch 0", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--batch", "0", "--out", "{d}/run.csv"], ["--batch"], "run.csv", "run.csv.ckpt"),
        R("train: --seq above the model's", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--seq", "100000", "--out", "{d}/run.csv"], ["--seq"], "run.csv", "run.csv.ckpt"),
        R("train: --out and --checkpoint on one file", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv", "--checkpoint", "{d}/run.csv"], ["same file"], "run.csv"),
        R("train: missing --data file", ["train", "--data", "{d}/nosuch.txt", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["nosuch.txt"], "run.csv", "run.csv.ckpt"),
        R("train: binary --data file", ["train", "--data", "{d}/binary.csv", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["binary.csv", "binary file", "UTF-8 text"], "run.csv", "run.csv.ckpt"),
        R("train: gzip --data file", ["train", "--data", "{d}/text.txt.gz", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["text.txt.gz", "gzip", "gunzip"], "run.csv", "run.csv.ckpt"),
        R("train: UTF-16 --data file", ["train", "--data", "{d}/utf16.txt", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv"], ["utf16.txt", "UTF-16", "iconv"], "run.csv", "run.csv.ckpt"),
        R("train: --out is a symbolic link loop", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--out", "{d}/loop-a.csv"], ["loop-a.csv", "symbolic link"], "loop-a.csv.ckpt"),
        R("train compare: unwritable --plot", ["train", "compare", Cos, "--plot", "/proc/c.svg"], ["--plot", "/proc"]),
        R("train compare: missing run", ["train", "compare", "{d}/nosuch.csv", "--plot", "{d}/c.svg"], ["nosuch.csv"], "=c.svg"),
        R("train compare: --tail 2", ["train", "compare", Cos, "--tail", "2", "--plot", "{d}/c.svg"], ["--tail"], "=c.svg"),
        // ---- runs (the store {d}/store.db holds run 1; a store that is not created stays uncreated)
        R("runs add: missing file leaves the store uncreated", ["runs", "add", "{d}/nosuch.csv", "--store", "{d}/new.db"], ["nosuch.csv", "not found"], "new.db"),
        R("runs add: binary file", ["runs", "add", "{d}/binary.csv", "--store", "{d}/new.db"], ["binary.csv"], "new.db"),
        R("runs add: one bad file of two adds neither", ["runs", "add", Cos, "{d}/empty.csv", "--store", "{d}/new.db"], ["empty.csv"], "new.db"),
        R("runs add: --name with two files", ["runs", "add", Cos, Con, "--name", "x", "--store", "{d}/new.db"], ["--name", "2 curve files"], "new.db"),
        R("runs add: folder without curves", ["runs", "add", "{d}/afolder", "--store", "{d}/new.db"], ["afolder", "no curve files"], "new.db"),
        R("runs add: store in a missing folder", ["runs", "add", Cos, "--store", "{d}/nofolder/s.db"], ["--store", "does not exist"]),
        R("runs add: store is a folder", ["runs", "add", Cos, "--store", "{d}/afolder"], ["--store", "is a folder"]),
        R("runs add: store is not a database", ["runs", "add", Cos, "--store", "{d}/notdb.db"], ["--store", "not a SQLite database"], "=notdb.db"),
        R("runs list: unknown URL scheme", ["runs", "list", "--store", "mysql://u:p@localhost/db"], ["--store", "mysql://", "postgres://"]),
        R("runs list: unreachable PostgreSQL", ["runs", "list", "--store", "postgres://u:secretpw@127.0.0.1:1/db"], ["--store", "cannot reach", "127.0.0.1:1"]),
        R("runs list: URL without a database", ["runs", "list", "--store", "postgresql://u@127.0.0.1:5432"], ["--store", "names no database"]),
        R("runs list: bad sslmode", ["runs", "list", "--store", "postgres://u@127.0.0.1/db?sslmode=maybe"], ["--store", "sslmode", "maybe"]),
        R("runs list: unknown --sort", ["runs", "list", "--store", "{d}/store.db", "--sort", "bogus"], ["--sort", "bogus"]),
        R("runs list: --limit 0", ["runs", "list", "--store", "{d}/store.db", "--limit", "0"], ["--limit"]),
        R("runs list: unknown --status", ["runs", "list", "--store", "{d}/store.db", "--status", "sleeping"], ["--status", "sleeping"]),
        R("runs show: unknown run", ["runs", "show", "99", "--store", "{d}/store.db"], ["no run 99", "anneal runs list"]),
        R("runs show: id not a number", ["runs", "show", "abc", "--store", "{d}/store.db"], ["abc", "whole number"]),
        R("runs rm: an unknown run among known ones", ["runs", "rm", "1", "99", "--store", "{d}/store.db"], ["no run 99"]),
        R("train: unreachable --store", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv", "--store", "postgres://u:p@127.0.0.1:1/db"], ["--store", "cannot reach"], "run.csv", "run.csv.ckpt"),
        R("train: --store in a missing folder", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv", "--store", "{d}/nofolder/s.db"], ["--store", "does not exist"], "run.csv", "run.csv.ckpt"),
        R("train: --tag without --store", ["train", "--data", "{d}/text.txt", "--schedule", S, "--steps", "10", "--out", "{d}/run.csv", "--tag", "x"], ["--tag", "--store"], "run.csv", "run.csv.ckpt"),
        // ---- demo, accuracy
        R("demo: unwritable --out", ["demo", "--out", "/proc/demo"], ["--out", "/proc"]),
        R("demo: --out is a file", ["demo", "--out", "{d}/e.md"], ["--out", "is a file"], "=e.md"),
        R("demo: unknown size", ["demo", "--size", "7b", "--out", "{d}/demo-new"], ["--size", "7b"], "demo-new"),
        R("demo: --law names no law", ["demo", "--law", ",", "--out", "{d}/demo-new"], ["no law"], "demo-new"),
        R("accuracy: unwritable --out", ["accuracy", "--out", "/proc/a.md"], ["--out", "/proc"]),
        R("accuracy: unwritable --json keeps --out", ["accuracy", "--out", "{d}/a.md", "--json", "/proc/a.json"], ["--json", "/proc"], "=a.md"),
        R("accuracy: --no-bundled without --corpus", ["accuracy", "--no-bundled", "--out", "{d}/a.md"], ["--corpus"], "=a.md"),
        // ---- sweep
        R("sweep run: missing study file", ["sweep", "run", "{d}/nosuch.yaml", "--store", "{d}/sw.db"], ["nosuch.yaml", "does not exist"], "sw.db"),
        R("sweep run: unknown sampler", ["sweep", "run", "{d}/sampler-study.yaml", "--store", "{d}/sw.db"], ["sampler-study.yaml:4", "unknown sampler 'bayes'", "gp"], "sw.db"),
        R("sweep run: placeholder names no parameter", ["sweep", "run", "{d}/placeholder-study.yaml", "--store", "{d}/sw.db"], ["placeholder-study.yaml:4", "{lr}", "space:"], "sw.db"),
        R("sweep run: broken yaml", ["sweep", "run", "{d}/broken-study.yaml", "--store", "{d}/sw.db"], ["broken-study.yaml:", "not valid YAML"], "sw.db"),
        R("sweep run: --workers 0", ["sweep", "run", "{d}/good-study.yaml", "--workers", "0", "--store", "{d}/sw.db"], ["--workers"], "sw.db"),
        R("sweep run: unknown executor", ["sweep", "run", "{d}/good-study.yaml", "--executor", "pbs", "--store", "{d}/sw.db"], ["--executor", "pbs"], "sw.db"),
    ];

    public static TheoryData<string> Names() => new(Rows.Select(r => r.Name));

    [Fact]
    public void The_corpus_has_at_least_80_distinct_rows_covering_every_command()
    {
        Rows.Length.ShouldBeGreaterThanOrEqualTo(80);
        Rows.Select(r => r.Name).Distinct().Count().ShouldBe(Rows.Length);
        var commands = Rows.Select(r => r.Args[0]).ToHashSet();
        foreach (var c in new[] { "schedule", "curve", "fit", "predict", "evaluate", "optimize", "whatif", "export", "plan", "scaling", "train", "demo", "accuracy", "runs", "watch" })
            commands.ShouldContain(c);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Bad_input_is_exit_2_with_a_clear_message_and_no_output_touched(string name)
    {
        var row = Rows.Single(r => r.Name == name);
        string dir = files.Dir, mpl = TestPaths.Mpl("400m");
        string Sub(string a) => a.Replace("{d}", dir).Replace("{E}", mpl);
        var watched = row.Outputs.Select(o => (Keep: o.StartsWith('='), Path: Path.Combine(dir, o.TrimStart('=')))).ToArray();
        foreach (var (keep, path) in watched)
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            if (keep) File.WriteAllText(path, Keep); else File.Delete(path);
        }
        var before = Directory.GetFileSystemEntries(dir).Order().ToArray();

        var (code, stdout, err) = Run(row.Args.Select(Sub).ToArray());

        string all = stdout + err;
        all.ShouldNotContain("   at ", customMessage: "a stack trace was printed");
        all.ShouldNotContain("internal error");
        code.ShouldBe(2, customMessage: $"exit {code}; stderr: {err}");
        foreach (var w in row.Words) err.ShouldContain(Sub(w), Case.Insensitive, customMessage: $"stderr: {err}");
        foreach (var (keep, path) in watched)
        {
            if (keep) File.ReadAllText(path).ShouldBe(Keep, customMessage: $"{path} was changed");
            else { File.Exists(path).ShouldBeFalse($"{path} was created"); Directory.Exists(path).ShouldBeFalse($"{path} was created"); }
        }
        // nothing else appeared either: no temporary or probe file, no stray output
        Directory.GetFileSystemEntries(dir).Order().ToArray().ShouldBe(before);
    }
}
