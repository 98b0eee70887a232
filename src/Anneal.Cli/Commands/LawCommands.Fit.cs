using System.CommandLine;
using Anneal.Fitting;
using Anneal.IO;
using Anneal.Laws;

namespace Anneal.Cli.Commands;

/// <summary><c>anneal fit</c>: fits a loss-curve law to logged runs.</summary>
public static partial class LawCommands
{
    /// <summary>
    /// <c>--steps-per-epoch</c> of fit, predict and watch (the parameter <c>steps_per_epoch</c>): where the training data starts to
    /// repeat, so that forecasts past it say so and get no band (<see cref="EpochBoundary"/>).
    /// </summary>
    internal static Option<long?> StepsPerEpochOption() => new("--steps-per-epoch")
    {
        Description = "Optimizer steps in one pass over the training data (training tokens / tokens per step; default: the logs' epoch column, where they have one). Forecasts of runs that train past it, when the fitted runs end before it, warn that they assume fresh data; past 4 epochs they get no band.",
    };

    /// <summary>
    /// fit's <c>--law</c>: one law. A list (evaluate's <c>--law auto,mpl</c>) and an empty value are refused naming the
    /// option and the fix; the spec parser alone would say "unexpected ','" or suggest a schedule.
    /// </summary>
    internal static LossLaw ParseOneLaw(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec))
            throw new InputException("--law is empty: give one law, e.g. --law auto (the default) or --law mpl; 'anneal fit --help' lists them");
        int depth = 0;
        for (int i = 0; i < spec.Length; i++)
        {
            if (spec[i] == '(') depth++;
            else if (spec[i] == ')') depth--;
            else if (spec[i] == ',' && depth == 0)
                throw new InputException($"--law '{spec}': fit fits one law; give one (e.g. --law {spec[..i].Trim()}), or compare several with anneal evaluate --law '{spec}'");
        }
        return LossLaw.Parse(spec);
    }

    private static Command Fit()
    {
        var curvesArg = new Argument<string[]>("curves") { Description = "Logged runs: FILE or FILE@SCHEDULE (the exact schedule; otherwise the lr column is interpolated), or a stored run: run:ID or run:NAME (optionally @SCHEDULE; read from --store's store).", Arity = ArgumentArity.OneOrMore };
        var law = new Option<string>("--law", "-l") { Description = "Law spec: auto (default: a stack of momentum(cap=fit) (or age(q=0.7, prior=13) or share), mpl(warmup=reference, drops=continuous) and convex, chosen per fit, see docs/laws.md), powerlaw, momentum, momentum(lambda=fit), momentum(cap=fit), mpl, mpl(warmup=reference), fm, fm(n=1e8), convex.", DefaultValueFactory = _ => "auto" };
        var outFile = new Option<string?>("--out", "-o") { Description = "Write the fitted law (values, standard errors, covariance, report) to this JSON file." };
        var target = TargetOption();
        var json = new Option<bool>("--json") { Description = "Print the fitted law as JSON instead of a table." };
        var equal = new Option<bool>("--equal-weights") { Description = "Weight every run equally, whatever its number of logged points." };
        var seed = new Option<int>("--seed") { Description = "Seed of the random starts (the fit is deterministic per seed).", DefaultValueFactory = _ => 0 };
        var fromStep = FromStepOption();
        var methodOpt = MethodOption();
        var stepsPerEpoch = StepsPerEpochOption();
        var constantLog = new Option<string?>("--constant-log") { Description = "A longer log of a constant-rate run at the fitted runs' peak (FILE or FILE@SCHEDULE: the fitted constant run logged on, or a pilot): when the fitted runs end before the laws' regime, the warning says at about which step this log enters it, how long calibration runs must be. Refused where it cannot apply: a log whose rate decays after its warmup (a cosine), one no longer than the fitted constant-rate run, or a fit without a constant-rate run." };
        var store = StoreInputs.SaveOption("fitted law");
        var cmd = new Command("fit", """
            Fit a loss-curve law to one or more logged runs (Huber on log loss, multi-start, analytic gradients).
            Example: anneal fit runs/cosine_24000.csv@"cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)" runs/constant_24000.csv@"constant(peak=3e-4, warmup=2160)" --law mpl --out law.json
            Stored runs, the law saved with them: anneal fit run:12 run:13 --store   (then: anneal predict law:ID ..., anneal runs artifacts)
            """) { curvesArg, law, outFile, target, json, equal, seed, fromStep, methodOpt, stepsPerEpoch, constantLog, store };
        var cols = CurveColumnOptions.For(cmd);
        cmd.SetAction(r =>
        {
            var io = CliContext.Of(r);
            CliOutputs.Check(("--out", r.GetValue(outFile)));
            var l = ParseOneLaw(r.GetValue(law)!);
            FitWindow.CheckFromStep(r.GetValue(fromStep));
            var method = ParseMethod(r.GetValue(methodOpt)!);
            var args = r.GetValue(curvesArg)!;
            using var runStore = StoreInputs.Open(r, store, args.Any(Anneal.Store.Provenance.IsRun));
            var read = cols.Get(r);
            var (curves, runIds) = StoreInputs.ReadCurves(args, runStore, a => ReadCurves([a], read, r)[0], io.Err);
            var res = FitService.Fit(new FitRequest(curves, l)
            {
                Target = r.GetValue(target)!, FromStep = r.GetValue(fromStep), EqualRunWeights = r.GetValue(equal), Seed = r.GetValue(seed), Method = method,
                StepsPerEpoch = r.GetValue(stepsPerEpoch),
                ConstantLog = r.GetValue(constantLog) is { } logArg ? ReadCurves([logArg], read, r)[0] : null,
            }, FitProgress(io.Err));
            PrintNotes(res.Prepared.NotesNaming(OptionNames.Of(r)), io.Err);
            var fit = res.Fit;
            var runs = res.Runs;
            if (r.GetValue(outFile) is { } path) AtomicFile.WriteAllText(path, fit.ToJson());
            string? saved = null;
            if (r.GetResult(store) is not null)
            {
                long lawId = Anneal.Store.Provenance.SaveLaw(runStore!, fit, runIds);
                saved = $"saved law {lawId} to {runStore!.Location} (" + (runIds.Length == 0 ? "fitted to files only: no stored runs recorded"
                    : $"fitted to run{(runIds.Length == 1 ? "" : "s")} {string.Join(", ", runIds)}" + (args.Length > runIds.Length ? $" and {args.Length - runIds.Length} file(s)" : ""))
                    + $"; Anneal {Anneal.Store.RunStore.AnnealVersion}); use it as law:{lawId}";
            }
            if (r.GetValue(json))
            {
                io.Out.WriteLine(fit.ToJson());
                if (saved is not null) io.Err.WriteLine(saved);
                return CliExit.Ok;
            }
            io.Out.WriteLine($"law {fit.Law.Spec} fitted to {runs.Count} run(s), {fit.Report.Points} points");
            // A seed ensemble (SeedEnsemble): each seed group's fit in turn; its forecasts are their mean (the first warning says how).
            var parts = fit.Seeds is { } seeds ? seeds.Groups : [fit];
            if (fit.Seeds is not null)
                io.Out.WriteLine($"seed ensemble of {parts.Count} groups, each one seed's runs fitted apart; every forecast is their geometric mean, with their spread in its band");
            for (int g = 0; g < parts.Count; g++)
            {
                var part = parts[g];
                if (fit.Seeds is not null) io.Out.WriteLine($"seed group {g + 1}: {string.Join(", ", part.Report.Runs)} ({part.Report.Points} points)");
                if (part.Law is AutoLaw stack)
                    io.Out.WriteLine("auto = " + string.Join(" + ", stack.Members.Select(m => string.Create(Inv, $"{m.Weight:0.##} x {m.Law.Spec}"))) + $" ({part.StackChoice ?? FittedLaw.AutoLawReason})");
                io.Out.Write(part.Table());
                var pr = part.Report;
                io.Out.WriteLine(string.Create(Inv, $"objective {pr.Objective:G6} (Huber delta {pr.HuberDelta:G3} on log loss), rms log residual {pr.RmsLogResidual:G3}"));
                if (pr.Method == FitMethod.EarlyStoppedAdamW)
                    io.Out.WriteLine(string.Create(Inv, $"reference procedure: {pr.Iterations} AdamW steps from the reference initialisation (early-stopped by design), {pr.Evaluations} evaluations, {pr.WallSeconds:F2} s"));
                else
                    io.Out.WriteLine(string.Create(Inv, $"{pr.Starts} starts ({pr.ConvergedStarts} converged), best after {pr.Iterations} iterations, {pr.Evaluations} evaluations, {pr.WallSeconds:F2} s"));
                io.Out.WriteLine(string.Create(Inv, $"standard errors: Gauss-Newton at the fitted point, x{pr.Inflation:F1} variance for autocorrelated residuals"));
            }
            var rep = fit.Report;
            foreach (var w in rep.Warnings) io.Out.WriteLine("warning: " + w);
            if (fit.Epoch is { } epoch) io.Out.WriteLine("epoch: " + epoch.Summary);
            if (fit.Seeds is not null) io.Out.WriteLine("each run against its own seed group's fit:");
            foreach (var (name, m) in res.PerRun)
                io.Out.WriteLine(string.Create(Inv, $"  {name}: R^2 {m.R2:F4}, RMSE {m.Rmse:G3}, PredE {m.PredE:P3}"));
            if (r.GetValue(outFile) is { } p2) io.Out.WriteLine($"wrote {p2}");
            if (saved is not null) io.Out.WriteLine(saved);
            return CliExit.Ok;
        });
        return cmd;
    }
}
