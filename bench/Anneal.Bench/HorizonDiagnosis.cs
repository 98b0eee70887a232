using System.Globalization;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// Why the laws forecast gpt-tiny's long runs too low (docs/journal/session-05-cooldown-saturation-horizons.md). Run:
/// <c>dotnet run -c Release --project bench/Anneal.Bench -- horizon-diagnosis</c>. On the engine's
/// gpt-tiny corpus (validation loss) it prints: (1) the plain power law fitted to the constant run's first 1000 steps
/// alone, and its forecast of the same run at 2000 and 3000 steps, for fits starting at several steps; (2) the
/// profile of the fit's objective over a held L0, with the 3000-step forecast at each L0; (3) every law of the
/// schedules question fitted on the whole 3000-step constant run instead of its first 1000 steps (an oracle for the
/// horizon), to separate the horizon's share of the error from the annealing term's.
/// </summary>
internal static class HorizonDiagnosis
{
    public static void Run(string repo)
    {
        var corpus = ForecastCorpus.Load(Path.Combine(repo, "data/corpora/gpt-tiny"));
        CorpusRun Get(string n) => corpus.Runs.Single(r => r.Name == n);
        var constant = Get("constant_s1");
        var full = corpus.LawRunOf(constant);
        double At(double[] pred, long step) => pred[Array.IndexOf(full.Steps, step)];
        double Obs(long step) => full.Observed![Array.IndexOf(full.Steps, step)];
        var options = new FitOptions { Jackknife = false };

        Console.WriteLine("(1) powerlaw on constant_s1 alone, steps [from, 1000): forecast error of the same run");
        foreach (long from in (long[])[0, 200, 300, 400, 500])
        {
            var fit = LawFitter.Fit(new PowerLaw(), [corpus.LawRunOf(constant, firstStep: from, endStep: 1000)], options);
            var pred = fit.Law.Predict(full, fit.Values);
            Console.WriteLine(F($"  from {from,3}: L0 = {fit.Values[0]:0.000}, A = {fit.Values[1]:0.000}, alpha = {fit.Values[2]:0.000}; step 1999 {Err(At(pred, 1999), Obs(1999))}, step 2999 {Err(At(pred, 2999), Obs(2999))}"));
        }

        Console.WriteLine("(2) momentum(lambda=fit) on the schedules question's fit runs with L0 held: objective relative to the free fit, forecast of constant_s1 at 2999");
        var split = ForecastProtocol.Splits(corpus).Single(s => s.Question == "schedules");
        var free = LawFitter.Fit(new MomentumLaw((double?)null), split.Fit, options);
        double minLoss = split.Fit.Min(r => r.Observed!.Min());
        foreach (double f in (double[])[0, 0.2, 0.4, 0.6, 0.7, 0.8, 0.9])
        {
            var held = new HeldL0(f * minLoss);
            var fit = LawFitter.Fit(held, split.Fit, options);
            double[] p = [f * minLoss, .. fit.Values];
            var pred = new MomentumLaw((double?)null).Predict(full, p);
            Console.WriteLine(F($"  L0 = {f * minLoss:0.000}: objective x{fit.Report.Objective / free.Report.Objective:0.00}, step 2999 {Err(At(pred, 2999), Obs(2999))}"));
        }

        Console.WriteLine("(3) schedules question, fitted on constant_s1 to 1000 (the protocol) and to 3000 (horizon known): mean / worst final-loss error");
        var oracle = split with { Fit = [full with { Name = "constant_s1" }, split.Fit[1]], Tests = split.Tests.Where(t => t.Run.Name != "constant_s1").ToArray() };
        foreach (var spec in (string[])["momentum(lambda=fit)", "momentum(cap=fit)", "mpl(warmup=reference)", "auto"])
        {
            var law = LossLaw.Parse(spec);
            var a = ForecastBenchmark.Score(split with { Tests = oracle.Tests }, law, 0.95, options);
            var b = ForecastBenchmark.Score(oracle, law, 0.95, options);
            Console.WriteLine(F($"  {spec,-22} to 1000: {a.MeanError * 100:0.00} % / {a.WorstError * 100:0.00} %   to 3000: {b.MeanError * 100:0.00} % / {b.WorstError * 100:0.00} %"));
        }
    }

    private static string Err(double pred, double obs) => F($"{pred:0.0000} vs {obs:0.0000} ({(pred / obs - 1) * 100:+0.00;-0.00} %)");

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>momentum(lambda=fit) with L0 held at a value: the profile of the objective over L0.</summary>
    private sealed record HeldL0(double L0) : LossLaw
    {
        private static readonly MomentumLaw Inner = new((double?)null);
        public override string Name => "momentum-held-L0";
        public override string Summary => "momentum(lambda=fit) with L0 held";
        public override Anneal.Specs.SpecCall ToSpecCall() => new(Name, []);
        public override IReadOnlyList<LawParameter> Parameters { get; } =
            Inner.Parameters.Skip(1).Select(p => p with { LrPower = p.LrPower with { Plus = p.LrPower.Plus - 1 } }).ToArray();
        public override LawState Prepare(LawRun run) => new State(this, Inner.Prepare(run));
        public override IEnumerable<double[]> Starts(StartHint hint, IReadOnlyList<LawState> runs) =>
            Inner.Starts(hint, runs.Select(r => ((State)r).Inner).ToArray()).Select(s => s[1..]);

        private sealed class State(HeldL0 law, LawState inner) : LawState(inner.Run)
        {
            public LawState Inner { get; } = inner;

            public override void Evaluate(ReadOnlySpan<double> p, Span<double> loss, Span<double> jacobian)
            {
                double[] full = [law.L0, .. p];
                if (jacobian.IsEmpty) { Inner.Evaluate(full, loss, default); return; }
                int n = loss.Length, k = full.Length;
                var jac = new double[n * k];
                Inner.Evaluate(full, loss, jac);
                for (int i = 0; i < n; i++)
                    for (int j = 1; j < k; j++) jacobian[i * (k - 1) + j - 1] = jac[i * k + j];
            }
        }
    }
}
