using System.Collections.Concurrent;
using System.Globalization;
using Anneal.Training.Data;
using Anneal.Tuning;

namespace Anneal.Training.Tests;

/// <summary>AutoLRS in the trainer, on a tiny GPT over the bundled Brown slice (seconds).</summary>
public class AutoLrsTrainingTests : IDisposable
{
    private const string Model = "gpt(layers=1, heads=2, dim=16, seq=16)";
    // 120 steps: stages of 30 and 90 (tau doubled to 60, which ends past the midpoint: the final decay runs to the end)
    private const string Spec = "autolrs(min=1e-4, max=1e-1, tau=30, tau_max=60)";
    private readonly string _dir = Directory.CreateTempSubdirectory("anneal-autolrs-").FullName;

    private static TextDataset Brown()
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "tests", "Anneal.Training.Tests", "Data", "brown-sample.txt"));
        int cut = bytes.Length * 9 / 10;
        return new TextDataset("brown-sample", bytes[..cut], bytes[cut..]);
    }

    private TrainConfig Config(string name, string schedule = Spec, int steps = 120) => new()
    {
        Model = Model, Schedule = schedule, Steps = steps, Batch = 4, EvalEvery = 8, EvalBatches = 2, Seed = 42, Out = Path.Combine(_dir, name + ".csv"), Threads = 2,
    };

    private static string[] Curve(string csv) => File.ReadAllLines(csv).Select(l => string.Join(',', l.Split(',')[..6])).ToArray(); // all but seconds

    private static (TrainSummary Summary, List<AutoLrsStageChosen> Stages) Run(TrainConfig cfg, long? haltAfter = null)
    {
        var seen = new ConcurrentQueue<AutoLrsStageChosen>();
        var s = Trainer.Run(cfg, Brown(), TextWriter.Null, events => events.Subscribe(e => { if (e is AutoLrsStageChosen a) seen.Enqueue(a); }), haltAfter);
        return (s, seen.ToList());
    }

    [Fact]
    public void Stages_have_the_planned_lengths_and_the_run_equals_a_plain_run_at_the_chosen_rates_bit_for_bit()
    {
        var cfg = Config("auto");
        var (summary, stages) = Run(cfg);
        // the plan: tau doubles (30 -> 60); that stage would end past the midpoint, so it runs to the end
        stages.Select(a => a.Stage.Plan.Start).ShouldBe([0L, 30]);
        stages.Select(a => a.Stage.Plan.Length).ShouldBe([30L, 90]);
        stages.Select(a => a.Stage.Plan.ExploreSteps).ShouldBe([3, 9]);
        stages.ShouldAllBe(a => a.Stage.Candidates.Count == AutoLrsOptions.DefaultCandidates);
        // steps accounted: the run's 120 updates, plus every candidate's exploration
        summary.Steps.ShouldBe(120);
        long explored = stages.Sum(a => a.Stage.ExploreSteps);
        summary.ExploreSteps.ShouldBe(explored);
        stages[^1].ExploreSteps.ShouldBe(explored);
        // each candidate: its exploration and (the default anneal=true) a cooldown as long, unless it diverged
        explored.ShouldBe(stages.Sum(a => a.Stage.Candidates.Sum(c => c.Diverged ? c.StepsRun : 2 * a.Stage.Plan.ExploreSteps)));
        explored.ShouldBeGreaterThan(10 * (3 + 9));
        // the explorations differed (not vacuous): candidates were trained at different rates and forecast differently
        foreach (var a in stages) a.Stage.Candidates.Select(c => c.Forecast).Where(double.IsFinite).Distinct().Count().ShouldBeGreaterThan(5);

        // the log's lr column: the first stage warms up linearly to its chosen rate (rate*t/30), the last decays its rate linearly to 0
        var rows = File.ReadAllLines(cfg.Out).Skip(1).Select(l => l.Split(',')).ToArray();
        rows.Length.ShouldBe(120);
        foreach (var r in rows)
        {
            long step = long.Parse(r[0], CultureInfo.InvariantCulture);
            double lr = double.Parse(r[1], CultureInfo.InvariantCulture);
            var stage = stages.Last(a => a.Stage.Plan.Start <= step).Stage;
            lr.ShouldBe(stage.Plan.Index < 1 ? stage.Lr * step / 30.0 : stage.Lr * (1 - (step - 30) / 90.0), 1e-15);
        }
        // every candidate's cooldown was measured (the drops differ between rates)
        foreach (var a in stages) a.Stage.Candidates.Where(c => !c.Diverged).Select(c => c.AnnealDrop).Distinct().Count().ShouldBeGreaterThan(5);

        // Independent source: a plain run whose step schedule gives those rates. Restoring the model and optimizer
        // after each exploration and cooldown must leave nothing behind, so every logged loss, validation loss and
        // gradient norm is the plain run's, bit for bit; a leaked exploration update would change them from its stage on.
        string R(int i) => stages[i].Stage.Lr.ToString("R", CultureInfo.InvariantCulture);
        var plain = Config("plain", $"join(constant(peak={R(0)}, warmup=30), d2z(peak={R(1)}, total=90), at=[30])");
        Trainer.Run(plain, Brown(), TextWriter.Null);
        Curve(cfg.Out).ShouldBe(Curve(plain.Out));

        // the decisions file: a row per candidate, the chosen one marked, forecasts as the events gave them
        var side = File.ReadAllLines(cfg.AutoLrsLogPath);
        side[0].ShouldBe(AutoLrsLogWriter.Header);
        side.Length.ShouldBe(1 + 20);
        var chosen = side.Skip(1).Select(l => l.Split(',')).Where(f => f[12] == "1").ToArray();
        chosen.Select(f => double.Parse(f[13], CultureInfo.InvariantCulture)).ShouldBe(stages.Select(a => a.Stage.Chosen.AnnealDrop));
        chosen.Select(f => double.Parse(f[4], CultureInfo.InvariantCulture)).ShouldBe(stages.Select(a => a.Stage.Lr));
        chosen.Select(f => double.Parse(f[6], CultureInfo.InvariantCulture)).ShouldBe(stages.Select(a => a.Stage.Chosen.Forecast));
        chosen.Select(f => double.Parse(f[7], CultureInfo.InvariantCulture)).ShouldBe(stages.Select(a => a.Stage.Chosen.Score));
        // the choice: the warmup stage takes the lowest score; a later one a candidate no more than the best fit's rms
        // above it, and none of a higher rate is within it
        stages[0].Stage.Chosen.ShouldBe(stages[0].Stage.Candidates.Where(c => !c.Diverged).MinBy(c => c.Score));
        foreach (var a in stages.Skip(1))
        {
            var ok = a.Stage.Candidates.Where(c => !c.Diverged).ToList();
            var best = ok.MinBy(c => c.Score)!;
            a.Stage.Chosen.Score.ShouldBeLessThanOrEqualTo(best.Score + best.Fit!.Rms);
            ok.Where(c => c.Lr > a.Stage.Lr).ShouldAllBe(c => c.Score > best.Score + best.Fit!.Rms);
        }
    }

    [Fact]
    public void A_killed_autolrs_run_resumes_bit_for_bit_with_its_decisions()
    {
        var full = Config("full");
        Run(full);
        var cfg = Config("killed");
        // killed after 20 updates (inside the first stage); its last checkpoint is after 16
        Run(cfg, haltAfter: 20).Summary.Halted.ShouldBeTrue();
        var (resumed, stages) = Run(cfg with { Resume = true });
        // only the stage that starts after the checkpoint is decided again
        stages.Select(a => a.Stage.Plan.Start).ShouldBe([30L]);
        resumed.ExploreSteps.ShouldBe(stages.Sum(a => a.Stage.ExploreSteps));
        Curve(cfg.Out).ShouldBe(Curve(full.Out));
        File.ReadAllLines(cfg.AutoLrsLogPath).ShouldBe(File.ReadAllLines(full.AutoLrsLogPath));
        // killed inside the last, decaying stage (checkpoint after 104): the stage's rate is read back from the log's
        // last row and the decay goes on bit for bit
        var late = Config("late");
        Run(late, haltAfter: 106).Summary.Halted.ShouldBeTrue();
        Run(late with { Resume = true }).Stages.ShouldBeEmpty();
        Curve(late.Out).ShouldBe(Curve(full.Out));
        // without the decisions file the rate comes back from the log's last row, to rounding
        var bare = Config("bare");
        Run(bare, haltAfter: 106);
        File.Delete(bare.AutoLrsLogPath);
        Run(bare with { Resume = true });
        var got = File.ReadAllLines(bare.Out).Skip(1).Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        var want = File.ReadAllLines(full.Out).Skip(1).Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        for (int i = 0; i < want.Length; i++) got[i].ShouldBe(want[i], 4e-16 * want[i]);
        // the same inside the warmup (checkpoint after 16): the rate is read back from the ramp's last logged rate
        var early = Config("early");
        Run(early, haltAfter: 20);
        File.Delete(early.AutoLrsLogPath);
        Run(early with { Resume = true }).Stages.Select(a => a.Stage.Plan.Start).ShouldBe([30L]);
        var first = File.ReadAllLines(early.Out).Skip(1).Take(30).Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        for (int i = 0; i < 30; i++) first[i].ShouldBe(want[i], 4e-16 * want[i]);
    }

    [Fact]
    public void Branching_with_or_from_autolrs_is_refused_before_any_work()
    {
        var parent = Config("parent", "constant(peak=3e-3)", steps: 40) with { SaveAt = [30] };
        Trainer.Run(parent, Brown(), TextWriter.Null);
        var branch = Config("branch") with { BranchFrom = parent.SavedCheckpointPath(30) };
        var e = Should.Throw<InputException>(() => Trainer.Validate(branch));
        e.Message.ShouldContain("autolrs");
        e.Message.ShouldNotContain("--");
        var auto = Config("autoparent", steps: 40) with { SaveAt = [30] };
        Trainer.Run(auto, Brown(), TextWriter.Null);
        var fromAuto = Config("fromauto", "constant(peak=3e-3)", steps: 40) with { BranchFrom = auto.SavedCheckpointPath(30) };
        Should.Throw<InputException>(() => Trainer.Validate(fromAuto)).Message.ShouldContain("chosen while it trained");
        File.Exists(fromAuto.Out).ShouldBeFalse();
    }

    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }
}
