using BenchmarkDotNet.Running;

// Modes that are not BenchmarkDotNet runs come first; anything else goes to BenchmarkDotNet.
// Every [Benchmark] class in this assembly is listed; pick with --filter, e.g.
//   dotnet run -c Release --project bench/Anneal.Bench -- --filter '*Schedule*'
// `band-calibration` recomputes the auto band's constants and their leave-one-corpus-out coverage (docs/laws.md).
// `horizon-diagnosis` prints why the laws forecast gpt-tiny's long runs too low (docs/journal/session-05-cooldown-saturation-horizons.md).
// `published-diagnosis [repo] [laws] [sizes]` and `published-path [repo] [sizes]`: where the published MPL split's error
// comes from, and the reference procedure's path (docs/journal/session-11-published-split.md).
// `wsd-diagnosis [corpus folder ...]`: the WSD question's signed errors per forecaster and held-out branch, split into the
// constant run's part and the cooldown gain's part, with issue 10's by-hand baseline (docs/journal/session-16-wsd-question.md).
// `seed2-cooldowns ROOT corpus-folder ...`: the WSD question calibrated on the seed-2 constant run and the seed-2 twins of its two
// fitted cooldowns (ROOT/<corpus>/, bench/seed2-cooldowns/README.md), against seed 1's calibration and the mean of both (docs/journal/session-24-seed2-cooldowns.md).
// `member-choice [corpus folder ...]`: each candidate member of auto, fitted alone as the stack reads it, on the WSD question: its
// residuals at the fitted runs' ends, its cross-validated error and its held-out errors (docs/journal/session-19-member-choice.md).
// `cooldown-bias [repo] [law] [calibration kind]`: the schedules question's signed errors per forecaster and held-out run, by decay fraction, split
// into the constant counterpart's part and the decay gain's part (docs/journal/session-18-cooldown-gain.md).
// Calibration kind `seed2`: the second seed's constant run and cosine, predicting the first seed's runs (the seed-swap check); a stack is
// also read with its members' constant parts horizon-matched at 0.3, 0.4 and 0.5 (docs/journal/session-20-far-horizons.md).
// `cooldown-ends [corpus folder ...]`: auto's choice and every law's forecasts of the WSD question fitted on the branches'
// curves and on their end points (docs/journal/session-15-wsd-end-points.md).
// `trajectory-check [repo] [rows.csv]`: whether the schedules question's two fitted runs (each seed's own fit) are one trajectory before
// their rates part: the log-loss gap beyond the fitted law's where the rates are within 5 % and 10 %, beside the fit's forecast errors
// (docs/journal/session-20-trajectory.md).
// `probe-branches [repo] [corpus|all] [rows.csv] [after]`: calibration designs of one trajectory (constant + cooldown branches) against constant + cosine
// at the same compute, on WSD-like and decay targets, on every corpus (docs/journal/session-21-probe.md).
// `two-seeds [repo]`: the schedules question fitted on one seed's pair, on both seeds' pairs (one fit, and two fits averaged) and on
// one seed with a second cosine at 2H, scored as anneal accuracy scores it (docs/journal/session-20-two-seeds.md).
// Every mode below that reads the repository (or corpus folders) takes them as its first arguments: one that is not a
// folder (a typo, or --help) gets the mode's usage line and exit 2 before any work, not an exception from deep inside.
string[] folderModes = ["member-choice", "seed2-cooldowns", "cooldown-bias", "cooldown-ends", "wsd-diagnosis", "horizon-diagnosis", "stack-selection", "published-blend", "published-path", "fit-profile", "kernel-speed",
    "published-cv", "published-diagnosis", "band-features", "band-calibration", "regime-check", "regime-onset", "trajectory-check", "two-seeds", "probe-branches", "seed-ensemble", "probe-seeds", "gain-band", "design-regret"];
if (args.Length > 1 && folderModes.Contains(args[0]) && !Directory.Exists(args[1]))
{
    Console.Error.WriteLine($"bench {args[0]}: '{args[1]}' is not a folder. Give the repository root (e.g. .) first"
        + (args[0] == "cooldown-ends" ? ", or corpus folders such as data/corpora/gpt-tiny-long" : "")
        + "; the usage of each mode is in the comments of bench/Anneal.Bench/Program.cs.");
    return 2;
}
if (args is ["cooldown-ends", ..])
{
    Anneal.Bench.CooldownEndsDiagnosis.Run(args[1..], Environment.GetEnvironmentVariable("ANNEAL_LAWS") ?? string.Join(",", Anneal.Laws.LawRegistry.DefaultSpecs));
    return 0;
}
if (args is ["member-choice", ..])
{
    Anneal.Bench.MemberChoice.Run(args[1..]);
    return 0;
}
if (args is ["cooldown-bias", ..])
{
    return Anneal.Bench.CooldownBias.Run(args.Length > 1 ? args[1] : ".", args.Length > 2 ? args[2] : "auto", args.Length > 3 ? args[3] : "cosine");
}
if (args is ["seed2-cooldowns", var seed2Root, .. var seed2Folders] && seed2Folders.Length > 0)
    return Anneal.Bench.Seed2Cooldowns.Run(seed2Root, seed2Folders);
if (args is ["wsd-diagnosis", ..])
{
    Anneal.Bench.WsdDiagnosis.Run(args[1..]);
    return 0;
}
if (args is ["horizon-diagnosis", ..])
{
    Anneal.Bench.HorizonDiagnosis.Run(args.Length > 1 ? args[1] : ".");
    return 0;
}
if (args is ["stack-selection", ..])
{
    Anneal.Bench.StackSelection.Run(args.Length > 1 ? args[1] : ".", args.Length > 2 ? args[2] : "stack-selection.json",
        args.Length > 3 ? args[3] : "momentum(cap=fit),mpl(warmup=reference),momentum(lambda=fit),powerlaw,momentum");
    return 0;
}
if (args is ["published-blend", ..])
{
    Anneal.Bench.PublishedBlend.Run(args.Length > 1 ? args[1] : ".", args.Length > 2 ? args[2] : "published-blend.json", args.Length > 3 ? args[3] : null);
    return 0;
}
if (args is ["published-path", ..])
{
    Anneal.Bench.PublishedDiagnosis.ReferencePath(args.Length > 1 ? args[1] : ".", args.Length > 2 ? args[2] : "25m,100m,400m");
    return 0;
}
// `kernel-speed [repo] [rounds]`: the multi-power law's loss-drop kernel alone on the 400M split, CPU ns per pair and a
// checksum of its bits (docs/benchmarks.md, "Session 18").
if (args is ["kernel-speed", ..])
{
    Anneal.Bench.KernelSpeed.Run(args.Length > 1 ? args[1] : ".", args.Length > 2 ? int.Parse(args[2]) : 5);
    return 0;
}
if (args is ["fit-profile", ..])
{
    Anneal.Bench.FitProfile.Run(args.Length > 1 ? args[1] : ".", args.Length > 2 ? args[2] : "400m", args.Length > 3 ? int.Parse(args[3]) : 5);
    return 0;
}
if (args is ["published-cv", ..])
{
    Anneal.Bench.PublishedDiagnosis.CrossValidation(args.Length > 1 ? args[1] : ".", args.Length > 2 ? args[2] : "mpl;mpl(area=0.8);mpl(area=0.6)",
        args.Length > 3 ? args[3] : "25m,100m,400m");
    return 0;
}
if (args is ["published-diagnosis", ..])
{
    Anneal.Bench.PublishedDiagnosis.Run(args.Length > 1 ? args[1] : ".", args.Length > 2 ? args[2] : "mpl(warmup=reference),momentum(cap=fit),auto",
        args.Length > 3 ? args[3] : "25m,100m,400m");
    return 0;
}
if (args is ["band-features", _, _])
{
    Anneal.Bench.BandFeatures.Run(args[1], args[2]);
    return 0;
}
// `regime-onset [repo]`: where each corpus's constant runs enter the laws' regime, and the WSD question refitted there (docs/journal/session-19-regime.md).
if (args is ["regime-onset", ..])
{
    Anneal.Bench.RegimeOnsetTable.Run(args.Length > 1 ? args[1] : ".");
    return 0;
}
// `regime-check [repo]`: the fit-time regime check on every split the band calibration fits (docs/journal/session-17-plateau.md).
if (args is ["trajectory-check", ..])
{
    Anneal.Bench.TrajectoryTable.Run(args.Length > 1 ? args[1] : ".", args.Length > 2 ? args[2] : null);
    return 0;
}
if (args is ["probe-branches", ..])
{
    Anneal.Bench.ProbeBranchesTable.Run(args.Length > 1 ? args[1] : ".", args.Length > 2 ? args[2] : null, args.Length > 3 ? args[3] : null,
        args.Length > 4 ? double.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture) : 1);
    return 0;
}
// `probe-seeds [repo] [corpus|all] [rows.csv]`: is a second seed of a calibration run worth its compute? The probe's design, the same plus a
// seed twin (forecast through the seed ensemble), and the same compute on the probe's best non-seed design (docs/journal/session-23-probe-seeds.md).
if (args is ["probe-seeds", ..])
{
    Anneal.Bench.ProbeSeedsTable.Run(args.Length > 1 ? args[1] : ".", args.Length > 2 ? args[2] : null, args.Length > 3 ? args[3] : null);
    return 0;
}
// `gain-band [repo]`: optimize's gain band (one seed's law and the seed ensemble's) against the observed gains of the trained schedules over
// the cosine of their horizon (docs/journal/session-23-probe-seeds.md).
if (args is ["gain-band", ..])
{
    Anneal.Bench.GainBandTable.Run(args.Length > 1 ? args[1] : ".");
    return 0;
}
// `design-regret [repo]`: the schedule an auto law's design objective picks among each corpus's trained runs of one horizon,
// the multi-power member's (before session 24) against the stack's forecast (docs/journal/session-24-designstack.md).
if (args is ["design-regret", ..])
{
    Anneal.Bench.DesignRegretTable.Run(args.Length > 1 ? args[1] : ".");
    return 0;
}
if (args is ["two-seeds", ..])
{
    Anneal.Bench.TwoSeedsTable.Run(args.Length > 1 ? args[1] : ".");
    return 0;
}
// `seed-ensemble [repo]`: the two-seed question: one seed, a joint fit and the seed ensemble (docs/journal/session-21-seeds.md).
if (args is ["seed-ensemble", ..])
{
    Anneal.Bench.SeedEnsembleTable.Run(args.Length > 1 ? args[1] : ".");
    return 0;
}
if (args is ["regime-check", ..])
{
    Anneal.Bench.RegimeTable.Run(args.Length > 1 ? args[1] : ".");
    return 0;
}
if (args is ["band-calibration", ..])
{
    // band-calibration [repo] [rows.csv] [--from-rows] [--extrapolation-forms] [--seed-twins]: with --from-rows, the rule
    // on rows.csv as a previous run wrote it; with --extrapolation-forms, only the forms of few shapes (the floor and the
    // extrapolation, with and without the noise factor, and with the members' disagreement undiscounted): minutes instead of
    // the five-term forms' hour under load; with --seed-twins, the rule also reads the other seeds' runs forecast from the
    // first seed's fit (session 20; by default they are reported apart).
    Anneal.Bench.BandCalibration.Run(args.Length > 1 ? args[1] : ".", args.Length > 2 && !args[2].StartsWith("--") ? args[2] : null, args.Contains("--from-rows"), args.Contains("--extrapolation-forms"), args.Contains("--seed-twins"));
    return 0;
}
// The tuning benchmark replayed from recorded curves is a separate mode (docs/tuning.md):
//   dotnet run -c Release --project bench/Anneal.Bench -- tuning-table [seeds] [corpora...]
if (args.Length > 0 && args[0] == "tuning-table") return Anneal.Bench.TuningTable.Main(args[1..]);
// CPU time (not only wall time, which a loaded machine inflates) of GP proposals at 200 trials:
//   dotnet run -c Release --project bench/Anneal.Bench -- tuning-propose [proposals]
// The forecast pruner replayed on the live sweeps' recorded trial curves (bench/tuning/live/curves.json):
//   dotnet run -c Release --project bench/Anneal.Bench -- tuning-live-replay [--verbose]
if (args.Length > 0 && args[0] == "tuning-live-replay") return Anneal.Bench.TuningTable.LiveReplay(args[1..]);
if (args.Length > 0 && args[0] == "tuning-propose") return Anneal.Bench.TuningTable.Propose(args[1..]);
// Trials per second through the sweep workers' claim and proposal protocol (docs/tuning.md, "Executors"):
//   dotnet run -c Release --project bench/Anneal.Bench -- sweep-claims [workers] [trials]
if (args.Length > 0 && args[0] == "sweep-claims") return Anneal.Bench.SweepClaims.Main(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
