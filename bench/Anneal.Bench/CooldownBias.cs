using System.Globalization;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// Whether the laws over-predict the benefit of cooldowns within the fitted horizon (issue 10, item 3;
/// docs/journal/session-18-cooldown-gain.md). Run:
/// <c>dotnet run -c Release --project bench/Anneal.Bench -- cooldown-bias . [law spec]</c> (the law: <c>auto</c> unless given).
/// For every corpus of the forecasting benchmark (the bundled MPL sizes, every folder of data/corpora, gpt100m-rope where
/// ../shared has it) and its <b>schedules</b> split (constant run to H plus the cosine at H), per held-out run: its end T
/// over the fitted horizon, its decay fraction (the share of its steps after the last step at the peak rate), its kind, and
/// the signed error of the law and, for a stack, of each fitted member as the stack weighs it, each split into the part from
/// the forecast of the run's constant counterpart at T (the corpus's longest constant run of the first seed, observed at T)
/// and the part from the decay's gain over it (final = constant - gain; both relative to the observed final; a negative
/// gain part: the law gives the decay more benefit than the run shows). Tab-separated rows after a header, to be pooled by
/// a script; runs without a constant counterpart observed at T have empty parts.
/// </summary>
internal static class CooldownBias
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Prints the rows; returns 0, or 2 with one message when the law spec is not one valid law.</summary>
    public static int Run(string repo, string spec, string calibration = "cosine")
    {
        LossLaw prototype;
        try
        {
            var laws = LawRegistry.ParseList(spec);
            if (laws.Count != 1) throw new InputException($"give one law, got {laws.Count} ('{spec}')");
            prototype = laws[0];
        }
        catch (InputException e)
        {
            Console.Error.WriteLine($"bench cooldown-bias: law: {e.Message}");
            return 2;
        }
        var corpora = BandCalibration.Corpora(repo);
        corpora.AddRange(ForecastCorpus.LoadFolders(Path.Combine(repo, "data/corpora"), includeHeldOut: true).Where(c => c.HeldOut));
        Console.WriteLine("corpus\tforecaster\tweight\trun\tkind\tratio\tfraction\tobserved\tfinal_err\tconstant_err\tgain_err\tobserved_gain\tarea_err\tanneal_err\tobserved_anneal_gain");
        int measured = 0;
        foreach (var corpus in corpora)
        {
            var split = ForecastProtocol.AllSplits(corpus).FirstOrDefault(s => s.Question == "schedules");
            if (split is null) continue;
            if (calibration != "cosine")
            {
                if (WithCalibration(corpus, split, calibration) is not { } swapped) continue;
                split = swapped;
            }
            measured++;
            var law = LawFitter.Fit(prototype, split.Fit);
            Console.Error.WriteLine($"{corpus.Name}: H {split.FitHorizon}; {law.StackChoice}");
            foreach (var m in law.Members)
                Console.Error.WriteLine($"  {m.Law.Spec}: " + string.Join(", ", m.Law.Parameters.Select((p, i) => string.Create(Inv, $"{p.Name} {m.Values[i]:G4}"))));
            var forecasters = new List<(string Name, double Weight, Func<LawRun, double> Predict)> { (spec, 1, r => law.Predict(r).Loss.Average()) };
            if (law.Law is AutoLaw { HorizonMatchExponent: 0 } unmatched)
                foreach (double a in MatchExponents)
                {
                    // The same fit read with every member's constant part horizon-matched at exponent a (HorizonMatch), as
                    // the WSD question's fits read theirs (docs/journal/session-20-far-horizons.md).
                    var matched = law with { Law = WithMatch(unmatched, a) };
                    forecasters.Add((string.Create(Inv, $"{spec}[match {a}]"), 1, r => matched.Predict(r).Loss.Average()));
                    // Only the convex member's constant part matched, or only the annealing members': the stack's weights
                    // (AutoLaw.WeightsFor) over its members as it reads them (NonRisingForecast), as FittedLaw.Stack mixes them.
                    var m = (AutoLaw)matched.Law;
                    foreach (bool convexOnly in new[] { true, false })
                        forecasters.Add((string.Create(Inv, $"{spec}[match {a} {(convexOnly ? "convex" : "annealing")}]"), 1, r =>
                        {
                            var w = unmatched.WeightsFor(r);
                            var sum = new double[r.Steps.Length];
                            for (int k = 0; k < law.Members.Count; k++)
                            {
                                if (!(w[k] > 0)) continue;
                                var f = law.Members[k];
                                var raw = f.Law.Predict(r, f.Values);
                                var read = NonRisingForecast.Of(r, ((f.Law is ConvexBoundLaw) == convexOnly ? m : unmatched).MemberForecast(k, r, f.Values, raw));
                                for (int i = 0; i < sum.Length; i++) sum[i] += w[k] * read[i];
                            }
                            return sum.Average();
                        }));
                }
            if (law.Law is AutoLaw stack)
                for (int m = 0; m < law.Members.Count; m++)
                {
                    var f = law.Members[m];
                    int member = m;
                    // The member as the stack reads it (AutoLaw.MemberForecast: its gain scaled, its constant part past the horizon matched).
                    forecasters.Add((f.Law.Spec, stack.Members[m].Weight, r => stack.MemberForecast(member, r, f.Values, f.Law.Predict(r, f.Values)).Average()));
                }
            var constant = corpus.Runs.Where(r => ForecastProtocol.Kind(r) == "constant").OrderBy(r => r.Seed).ThenByDescending(r => r.Horizon).FirstOrDefault();
            foreach (var t in split.Tests)
            {
                string name = t.Run.Name.Split('/')[^1];
                var run = corpus.Runs.FirstOrDefault(r => r.Name == name);
                string kind = run is null ? "?" : ForecastProtocol.Kind(run);
                long n = t.Run.Eta.Length;
                double obs = t.ObservedFinal, ratio = (double)n / split.FitHorizon, fraction = DecayFraction(t.Run.Eta);
                ForecastTarget? c = constant is not null && constant.Horizon >= n * 0.99 && kind != "constant" ? ForecastProtocol.Target(corpus, constant, n) : null;
                var matched = constant is not null && kind != "constant" ? AreaMatched(LawRun.FromCurve(constant.Curve, corpus.Target), t.Run.Eta) : null;
                foreach (var (fname, weight, predict) in forecasters)
                {
                    double pw = predict(t.Run), final = pw / obs - 1;
                    string parts = "\t\t";
                    if (c is not null)
                    {
                        double pc = predict(c.Run), constErr = (pc - c.ObservedFinal) / obs;
                        parts = string.Create(Inv, $"{100 * constErr:F3}\t{100 * (final - constErr):F3}\t{100 * (c.ObservedFinal - obs) / obs:F3}");
                    }
                    else parts = "\t\t";
                    if (matched is not null)
                    {
                        double pm = predict(matched), areaErr = (pm - matched.Observed![0]) / obs;
                        parts += string.Create(Inv, $"\t{100 * areaErr:F3}\t{100 * (final - areaErr):F3}\t{100 * (matched.Observed![0] - obs) / obs:F3}");
                    }
                    Console.WriteLine(string.Create(Inv,
                        $"{corpus.Name}\t{fname}\t{weight:0.###}\t{name}\t{kind}\t{ratio:0.000}\t{fraction:0.000}\t{obs:F5}\t{100 * final:F3}\t{parts}"));
                }
            }
        }
        if (measured > 0) return 0;
        Console.Error.WriteLine($"bench cooldown-bias: no corpus has a schedules split{(calibration == "cosine" ? "" : $" with a run of kind '{calibration}' at its cosine's horizon (e.g. linear)")}");
        return 2;
    }

    /// <summary>
    /// The schedules split with its fitted cosine replaced by the run of kind <paramref name="kind"/> (e.g. linear) of the same
    /// seed and horizon, which becomes a fitted run while the cosine joins the held-out ones; null when the corpus has none.
    /// How much of the in-horizon error comes from which decay calibrates the gain.
    /// </summary>
    private static ForecastSplit? WithCalibration(ForecastCorpus corpus, ForecastSplit split, string kind)
    {
        if (kind == "seed2") return SecondSeed(corpus, split);
        string cosineName = split.Fit[1].Name.Split('/')[^1];
        var cosine = corpus.Runs.FirstOrDefault(r => r.Name == cosineName);
        if (cosine is null) return null;
        var other = corpus.Runs.FirstOrDefault(r => r.Seed == cosine.Seed && ForecastProtocol.Kind(r) == kind
            && ForecastProtocol.Nominal(r.Horizon) == ForecastProtocol.Nominal(cosine.Horizon));
        if (other is null) return null;
        var tests = split.Tests.Where(t => t.Run.Name.Split('/')[^1] != other.Name).Append(ForecastProtocol.Target(corpus, cosine)).ToArray();
        return split with { Fit = [split.Fit[0], corpus.LawRunOf(other)], Tests = tests };
    }

    /// <summary>
    /// The constant run stopped where its LR area equals the area of <paramref name="eta"/> (all its steps), as one point: its
    /// observed loss there interpolated linearly between the logged points around it; null when the constant run is too short
    /// or logs no point on either side. The law's error on it is the error of its constant-rate part at the schedule's area,
    /// the rest of its error on the schedule is its annealing gain's (the laws' picture: loss = f(LR area) - gain).
    /// </summary>
    private static LawRun? AreaMatched(LawRun constant, double[] eta)
    {
        double area = eta.Sum(), sum = 0;
        int end = -1;
        for (int i = 0; i < constant.Eta.Length; i++)
        {
            sum += constant.Eta[i];
            if (sum >= area) { end = i; break; }
        }
        if (end < 0) return null;
        int hi = Array.FindIndex(constant.Steps, s => s >= end);
        if (hi <= 0) return null;
        long s0 = constant.Steps[hi - 1], s1 = constant.Steps[hi];
        double y = constant.Observed![hi - 1] + (constant.Observed[hi] - constant.Observed[hi - 1]) * (end - s0) / Math.Max(1, s1 - s0);
        return constant with { Eta = constant.Eta[..(end + 1)], Steps = [end], Observed = [y] };
    }

    /// <summary>The exponents at which <c>auto</c>'s fits are also read horizon-matched (<see cref="HorizonMatch"/>).</summary>
    private static readonly double[] MatchExponents = [0.3, 0.4, 0.5];

    /// <summary><paramref name="stack"/> with every member's constant part past its fitted horizon matched at exponent <paramref name="a"/>.</summary>
    internal static AutoLaw WithMatch(AutoLaw stack, double a) => new(stack.Members, stack.CrossValidatedWeights)
    {
        Alternates = stack.Alternates, RampsReference = stack.RampsReference, LeavesConvexPastHorizon = stack.LeavesConvexPastHorizon,
        FittedHorizon = stack.FittedHorizon, GainScales = stack.GainScales, HorizonMatchExponent = a,
    };

    /// <summary>
    /// The seed-swap check: the schedules split calibrated on the second seed's constant run (to the same step) and its cosine
    /// of the same horizon, predicting the first seed's runs as before; null when the corpus has no such pair.
    /// </summary>
    private static ForecastSplit? SecondSeed(ForecastCorpus corpus, ForecastSplit split)
    {
        int first = corpus.Runs.Min(r => r.Seed);
        var seconds = corpus.Runs.Where(r => r.Seed != first).ToArray();
        string cosineName = split.Fit[1].Name.Split('/')[^1];
        var cosine = corpus.Runs.First(r => r.Name == cosineName);
        var constant = seconds.Where(r => ForecastProtocol.Kind(r) == "constant").OrderByDescending(r => r.Horizon).FirstOrDefault();
        var cosine2 = seconds.FirstOrDefault(r => ForecastProtocol.Kind(r) == "cosine" && r.Seed == constant?.Seed && r.Horizon == cosine.Horizon);
        if (constant is null || cosine2 is null) return null;
        long end = cosine.Horizon;   // where the protocol stops the first seed's constant run (ForecastProtocol's schedules split)
        if (constant.Horizon < end) return null;
        return split with { Fit = [corpus.LawRunOf(constant, endStep: end) with { Name = $"{constant.Name}[:{end}]" }, corpus.LawRunOf(cosine2)] };
    }

    /// <summary>The share of a schedule's steps after its last step at the peak rate (0: constant to the end).</summary>
    internal static double DecayFraction(double[] eta)
    {
        double peak = eta.Max();
        int last = Array.FindLastIndex(eta, e => e >= peak * (1 - 1e-9));
        return (double)(eta.Length - 1 - last) / eta.Length;
    }
}
