using Anneal.Curves;
using Anneal.Schedules;

namespace Anneal.Laws;

/// <summary>
/// The input every law sees: the learning rate at EVERY optimizer step 0..n-1 of one run and the
/// steps at which the loss is wanted. Convention (checked against the published multi-power-law
/// metrics): the loss logged at step s is the loss after the updates of steps 0..s, so
/// S1(s) = sum_{tau=0..s} eta_tau includes step s itself.
/// </summary>
public sealed record LawRun
{
    /// <summary>Name shown in tables (usually the curve name).</summary>
    public required string Name { get; init; }

    /// <summary>Per-step learning rate, index = 0-based optimizer step; length &gt; max(Steps).</summary>
    public required double[] Eta { get; init; }

    /// <summary>Steps at which the law is evaluated (strictly increasing, each &lt; Eta.Length).</summary>
    public required long[] Steps { get; init; }

    /// <summary>Observed loss at <see cref="Steps"/> (null when the run is only predicted).</summary>
    public double[]? Observed { get; init; }

    /// <summary>True when <see cref="Eta"/> was rebuilt by interpolating a logged LR column (approximate).</summary>
    public bool EtaInterpolated { get; init; }

    /// <summary>Where <see cref="Eta"/> came from, for reports (a schedule spec or "interpolated lr column").</summary>
    public string EtaSource { get; init; } = "per-step array";

    /// <summary>Number of evaluated points.</summary>
    public int Count => Steps.Length;

    /// <summary>Checks shapes and values; throws <see cref="InputException"/> naming the run.</summary>
    public LawRun Validate()
    {
        if (Steps.Length == 0) throw new InputException($"{Name}: no steps to evaluate");
        for (int i = 0; i < Steps.Length; i++)
        {
            if (Steps[i] < 0) throw new InputException($"{Name}: step {Steps[i]} is negative");
            if (i > 0 && Steps[i] <= Steps[i - 1]) throw new InputException($"{Name}: steps must be strictly increasing (row {i + 1}: {Steps[i]} after {Steps[i - 1]})");
        }
        if (Steps[^1] >= Eta.Length) throw new InputException($"{Name}: the learning rate is known for steps 0..{Eta.Length - 1} but the loss is wanted at step {Steps[^1]}");
        for (int i = 0; i < Eta.Length; i++)
            if (!double.IsFinite(Eta[i]) || Eta[i] < 0) throw new InputException($"{Name}: learning rate at step {i} is {Eta[i]}; it must be finite and >= 0");
        if (Observed is { } o)
        {
            if (o.Length != Steps.Length) throw new InputException($"{Name}: {o.Length} observed losses for {Steps.Length} steps");
            for (int i = 0; i < o.Length; i++)
                if (!(o[i] > 0) || !double.IsFinite(o[i])) throw new InputException($"{Name}: loss at step {Steps[i]} is {o[i]}; laws fit log(loss), so every loss must be a finite number > 0");
        }
        return this;
    }

    /// <summary>
    /// Builds a run from a logged curve. The per-step LR comes from the curve's
    /// <see cref="LossCurve.ScheduleSpec"/> when present (exact); otherwise it is rebuilt by
    /// piecewise-linear interpolation of the logged LR column (flagged: an approximation that
    /// misses anything between logged points, e.g. the exact warmup).
    /// </summary>
    /// <param name="curve">The logged run.</param>
    /// <param name="target">"loss" (training loss) or "val" (validation loss; rows without one are dropped).</param>
    public static LawRun FromCurve(LossCurve curve, string target = "loss")
    {
        var where = curve.SourceFile ?? curve.Name;
        double[] y = target switch
        {
            "loss" => curve.Loss ?? throw new InputException($"{where}: no training-loss column; add one or use --target val"),
            "val" => curve.ValLoss ?? throw new InputException($"{where}: no validation-loss column; use --target loss"),
            _ => throw new InputException($"--target must be loss or val, got '{target}'"),
        };
        var keep = Enumerable.Range(0, curve.Count).Where(i => double.IsFinite(y[i]) && y[i] > 0).ToArray();
        if (keep.Length == 0) throw new InputException($"{where}: no rows with a finite {target} > 0");
        var steps = keep.Select(i => curve.Steps[i]).ToArray();
        var obs = keep.Select(i => y[i]).ToArray();
        long n = steps[^1] + 1;
        if (n > 200_000_000) throw new InputException($"{where}: step {steps[^1]} is too large (laws need the LR at every step; at most 2e8 steps)");
        double[] eta;
        bool interpolated = false;
        string source;
        if (curve.ScheduleSpec is { } spec)
        {
            eta = Schedule.Parse(spec).Sample((int)n);
            source = spec;
        }
        else if (curve.Lr is { } lr)
        {
            eta = InterpolateLr(curve.Steps, lr, (int)n, where);
            interpolated = true;
            source = "interpolated lr column";
        }
        else throw new InputException($"{where}: no learning-rate column and no schedule; attach the schedule as FILE@SPEC, e.g. {Path.GetFileName(where)}@\"cosine(peak=3e-4, total=24000, warmup=2160)\"");
        return new LawRun { Name = curve.Name, Eta = eta, Steps = steps, Observed = obs, EtaInterpolated = interpolated, EtaSource = source }.Validate();
    }

    /// <summary>
    /// Per-step LR from a sparsely logged column: linear between logged points, constant before
    /// the first and after the last logged value. NaN rows are skipped.
    /// </summary>
    public static double[] InterpolateLr(long[] steps, double[] lr, int n, string where = "lr")
    {
        var idx = Enumerable.Range(0, steps.Length).Where(i => double.IsFinite(lr[i])).ToArray();
        if (idx.Length == 0) throw new InputException($"{where}: the lr column has no numbers; attach the schedule as FILE@SPEC");
        var eta = new double[n];
        int j = 0;
        for (int t = 0; t < n; t++)
        {
            while (j + 1 < idx.Length && steps[idx[j + 1]] <= t) j++;
            long s0 = steps[idx[j]];
            if (t <= s0 || j + 1 >= idx.Length) { eta[t] = lr[idx[j]]; continue; }
            long s1 = steps[idx[j + 1]];
            double f = (double)(t - s0) / (s1 - s0);
            eta[t] = lr[idx[j]] + f * (lr[idx[j + 1]] - lr[idx[j]]);
        }
        return eta;
    }

    /// <summary>
    /// At most <paramref name="maxPoints"/> points: consecutive rows are averaged in equal bins (loss
    /// at the bin's mean step). Noisy per-step logs (tens of thousands of rows) carry no more
    /// information about a smooth law than a thousand bin means, and cost far less to fit.
    /// </summary>
    public LawRun Binned(int maxPoints)
    {
        if (maxPoints < 2 || Count <= maxPoints) return this;
        int b = (Count + maxPoints - 1) / maxPoints;
        var steps = new List<long>(); var obs = Observed is null ? null : new List<double>();
        for (int i = 0; i < Count; i += b)
        {
            int e = Math.Min(Count, i + b);
            double ms = 0, ml = 0;
            for (int j = i; j < e; j++) { ms += Steps[j]; if (Observed is not null) ml += Observed[j]; }
            long st = (long)Math.Round(ms / (e - i));
            if (steps.Count > 0 && st <= steps[^1]) continue;
            steps.Add(st);
            obs?.Add(ml / (e - i));
        }
        return this with { Steps = steps.ToArray(), Observed = obs?.ToArray(), BinSize = b };
    }

    /// <summary>Rows averaged per point by <see cref="Binned"/> (1 = raw).</summary>
    public int BinSize { get; init; } = 1;

    /// <summary>A run to predict: the schedule's LR at every step, evaluated at <paramref name="steps"/>.</summary>
    public static LawRun ForSchedule(string name, double[] eta, long[] steps, string source) =>
        new LawRun { Name = name, Eta = eta, Steps = steps, EtaSource = source }.Validate();

    /// <summary><paramref name="points"/> roughly evenly spaced steps in [first, n-1], always including n-1.</summary>
    public static long[] EvenSteps(long n, int points, long first = 0)
    {
        if (n <= 0) return [];
        first = Math.Clamp(first, 0, n - 1);
        long span = n - 1 - first;
        if (points <= 1 || span == 0) return [n - 1];
        var list = new List<long>(points);
        for (int i = 0; i < points; i++)
        {
            long s = first + (long)Math.Round((double)span * i / (points - 1));
            if (list.Count == 0 || s > list[^1]) list.Add(s);
        }
        return list.ToArray();
    }
}
