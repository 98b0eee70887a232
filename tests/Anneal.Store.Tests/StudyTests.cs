namespace Anneal.Store.Tests;

/// <summary>Studies and trials as sweeps use them: numbering, claiming, heartbeats, reaping, intermediate values.</summary>
public sealed class StudyTests
{
    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void A_trial_reports_intermediate_values_and_ends_once(string kind)
    {
        using var t = Backends.Create(kind);
        var study = t.Store.GetOrCreateStudy("s1", "name: s1\nsampler: random\n");
        t.Store.GetOrCreateStudy("s1", "something else").ShouldBe(study); // resumed: the first spec stays
        Should.Throw<ArgumentException>(() => t.Store.GetOrCreateStudy("s2", "x", "sideways"));
        var trial = t.Store.CreateTrial(study.Id, """{"peak": 0.001, "shape": "sqrt"}""", worker: "w1");
        trial.Number.ShouldBe(0);
        trial.State.ShouldBe(TrialState.Running);
        trial.ParamsJson.ShouldBe("""{"peak":0.001,"shape":"sqrt"}""");
        t.Store.ReportIntermediate(trial.Id, 100, 3.5).ShouldBeTrue();
        t.Store.ReportIntermediate(trial.Id, 200, 3.1).ShouldBeTrue();
        t.Store.ReportIntermediate(trial.Id, 200, 3.0).ShouldBeTrue(); // a repeated step replaces
        t.Store.FinishTrial(trial.Id, TrialState.Pruned, 3.0, "forecast worse than the incumbent").ShouldBeTrue();
        t.Store.FinishTrial(trial.Id, TrialState.Complete, 2.9).ShouldBeFalse(); // the first ending wins
        t.Store.ReportIntermediate(trial.Id, 300, 2.9).ShouldBeFalse();
        var back = t.Store.GetTrial(trial.Id)!;
        back.State.ShouldBe(TrialState.Pruned);
        back.Value.ShouldBe(3.0);
        back.Message.ShouldBe("forecast worse than the incumbent");
        back.Intermediate.ShouldBe([(100L, 3.5), (200L, 3.0)]);
        Should.Throw<ArgumentException>(() => t.Store.FinishTrial(trial.Id, TrialState.Complete, double.NaN));
        Should.Throw<ArgumentException>(() => t.Store.CreateTrial(study.Id, "{}", TrialState.Complete, "w"));
        Should.Throw<KeyNotFoundException>(() => t.Store.CreateTrial(study.Id + 99, "{}", worker: "w"));

        long run = t.Store.AddRun(new NewRun { Name = "trial-1" });
        var second = t.Store.CreateTrial(study.Id, "{}", worker: "w1", runId: run);
        t.Store.SetTrialAttributes(second.Id, """{"steps": 120}""").ShouldBeTrue();
        t.Store.FinishTrial(second.Id, TrialState.Complete, 2.5).ShouldBeTrue();
        var trials = t.Store.ListTrials(study.Id);
        trials.Select(x => (x.Number, x.State, x.Value, x.RunId)).ShouldBe([(0, TrialState.Pruned, (double?)3.0, (long?)null), (1, TrialState.Complete, 2.5, run)]);
        trials[1].AttributesJson.ShouldBe("""{"steps":120}""");
        trials[0].Intermediate.Count.ShouldBe(2);
        t.Store.GetStudy("s1")!.Trials.ShouldBe(2);
        t.Store.ListStudies().Select(s => s.Name).ShouldBe(["s1"]);
        t.Store.DeleteRun(run).ShouldBeTrue();
        t.Store.GetTrial(second.Id)!.RunId.ShouldBeNull();
        t.Store.DeleteStudy("s1").ShouldBeTrue();
        t.Store.GetStudy("s1").ShouldBeNull();
        t.Store.CountRows("trial_values").ShouldBe(0);
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void Workers_adding_and_claiming_at_once_never_share_a_number_or_a_trial(string kind)
    {
        using var t = Backends.Create(kind);
        var study = t.Store.GetOrCreateStudy("race", "{}");
        var stores = Enumerable.Range(0, 4).Select(_ => t.OpenAnother()).ToArray();
        try
        {
            // 4 workers each add 15 waiting trials at once
            Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, w =>
            {
                for (int i = 0; i < 15; i++) stores[w].CreateTrial(study.Id, $$"""{"w": {{w}}, "i": {{i}}}""", TrialState.Waiting);
            });
            var numbers = t.Store.ListTrials(study.Id).Select(x => x.Number).ToList();
            numbers.ShouldBe(Enumerable.Range(0, 60));
            // then claim until none is left: every trial once
            var claimed = new System.Collections.Concurrent.ConcurrentBag<(string Worker, long Id)>();
            Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, w =>
            {
                while (stores[w].ClaimWaitingTrial(study.Id, $"w{w}") is { } trial) claimed.Add(($"w{w}", trial.Id));
            });
            claimed.Count.ShouldBe(60);
            claimed.Select(c => c.Id).Distinct().Count().ShouldBe(60);
            foreach (var x in t.Store.ListTrials(study.Id, withIntermediate: false))
            {
                x.State.ShouldBe(TrialState.Running);
                x.Worker.ShouldBe(claimed.Single(c => c.Id == x.Id).Worker);
            }
            t.Store.ClaimWaitingTrial(study.Id, "late").ShouldBeNull();
        }
        finally
        {
            foreach (var s in stores) s.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public void A_dead_workers_trial_is_failed_and_requeued_once_and_its_worker_is_told_to_stop(string kind)
    {
        using var t = Backends.Create(kind);
        var now = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        t.Store.Clock = () => now;
        var study = t.Store.GetOrCreateStudy("hb", "{}");
        var dead = t.Store.CreateTrial(study.Id, """{"peak": 1}""", worker: "dead");
        var alive = t.Store.CreateTrial(study.Id, """{"peak": 2}""", worker: "alive");
        now = now.AddSeconds(50);
        t.Store.Heartbeat(alive.Id, "alive").ShouldBeTrue();
        t.Store.Heartbeat(alive.Id, "someone-else").ShouldBeFalse();
        now = now.AddSeconds(20);
        // 70 s since the dead worker's heartbeat, 20 s since the live one's
        t.Store.ReapStaleTrials(study.Id, TimeSpan.FromSeconds(60), requeue: true).Select(x => x.Id).ShouldBe([dead.Id]);
        t.Store.ReapStaleTrials(study.Id, TimeSpan.FromSeconds(60), requeue: true).ShouldBeEmpty(); // once
        var failed = t.Store.GetTrial(dead.Id)!;
        failed.State.ShouldBe(TrialState.Failed);
        failed.Message.ShouldBe("worker dead stopped sending heartbeats");
        // the dead worker, should it come back, learns that its trial is no longer its own
        t.Store.Heartbeat(dead.Id, "dead").ShouldBeFalse();
        t.Store.FinishTrial(dead.Id, TrialState.Complete, 1.0).ShouldBeFalse();
        var requeued = t.Store.ListTrials(study.Id).Single(x => x.State == TrialState.Waiting);
        requeued.Number.ShouldBe(2);
        requeued.ParamsJson.ShouldBe(dead.ParamsJson);
        t.Store.ClaimWaitingTrial(study.Id, "w2")!.Id.ShouldBe(requeued.Id);
        t.Store.GetTrial(alive.Id)!.State.ShouldBe(TrialState.Running);
    }
}
