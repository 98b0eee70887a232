using System.Globalization;
using Anneal.Specs;

namespace Anneal.Schedules;

/// <summary>
/// The "infinite" schedule (Ibrahim et al. 2024, "Simple and Scalable Strategies to Continually
/// Pre-train Large Language Models"): linear warmup to P over W steps; cosine cooldown from P to the
/// constant rate c over the next C steps (<c>c + (P - c)(1 + cos(pi q))/2</c>); hold c; optionally a
/// final exponential anneal over the last A steps of T, <c>c * (m/c)^q</c>, then m.
/// Spec: <c>infinite(peak=P, warmup=W, cooldown=C, constant=c, total=T, anneal=A, min=M)</c>.
/// </summary>
public sealed record InfiniteSchedule(double Peak, long Warmup, long Cooldown, double Constant, long? Total = null, long Anneal = 0, double Min = 0) : Schedule
{
    public override double At(long t)
    {
        if (t < Warmup) return Peak * Phases.Warmup(t, Warmup);
        long s = t - Warmup;
        if (s < Cooldown) return Constant + (Peak - Constant) * 0.5 * (1 + Math.Cos(Math.PI * s / Cooldown));
        if (Anneal == 0 || Total is not { } T) return Constant;
        long annealStart = T - Anneal;
        if (t < annealStart) return Constant;
        if (t >= T) return Min;
        return Constant * Math.Pow(Min / Constant, (double)(t - annealStart) / Anneal);
    }

    public override long? Length => Total;

    public override SpecCall ToSpecCall() => new SpecBuilder("infinite").Num("peak", Peak).NumIf("warmup", Warmup, 0).Num("cooldown", Cooldown).Num("constant", Constant)
        .NumIf("total", Total).NumIf("anneal", Anneal, 0).NumIf("min", Min, 0).Build();

    internal static InfiniteSchedule Create(SpecArgs a)
    {
        double peak = a.Number("peak");
        long w = Phases.Steps(a, "warmup", 0), c = Phases.Steps(a, "cooldown");
        double k = Phases.Finite(a, "constant");
        long? total = a.Has("total") ? Phases.Steps(a, "total", positive: true) : null;
        long anneal = Phases.Steps(a, "anneal", 0);
        double min = a.Number("min", 0);
        Phases.Check(a, peak, w, total);
        if (k < 0 || k > peak) throw a.Fail($"constant must be in [0, peak], got {SpecNumber.Format(k)}");
        if (anneal > 0)
        {
            if (total is not { } T) throw a.Fail("anneal=A needs total=T (the anneal covers the last A steps)");
            if (w + c > T - anneal) throw a.Fail($"warmup + cooldown ({w + c}) must end before the anneal starts at total - anneal = {T - anneal}");
            if (!(min > 0) || min > k) throw a.Fail($"the exponential anneal needs 0 < min <= constant, got min={SpecNumber.Format(min)}");
        }
        else if (a.Has("min")) throw a.Fail("min only applies with an anneal phase (anneal=A > 0)");
        if (total is { } T2 && w + c > T2) throw a.Fail($"warmup + cooldown ({w + c}) cannot exceed total ({T2})");
        return new InfiniteSchedule(peak, w, c, k, total, anneal, min);
    }
}

/// <summary>
/// Power scheduler (Shen et al. 2024, IBM, "Power Scheduler: A Batch Size and Token Number Agnostic
/// Learning Rate Scheduler"): with n = t * K tokens seen before step t,
/// <c>eta = min(P, beta * a * n^b)</c>; a linear warmup to eta(W) over W steps; optionally a final
/// decay over the last D steps from eta(T - D) to m with a WSD shape (our choice: linear by default).
/// Spec: <c>power(peak=P, a=A, exponent=b, tokens_per_step=K, batch=beta, warmup=W, total=T, decay_steps=D, shape=S, min=M)</c>.
/// </summary>
public sealed record PowerSchedule(double Peak, double A, double Exponent, double TokensPerStep, double Batch = 1, long Warmup = 0,
    long? Total = null, long DecaySteps = 0, DecayShape Shape = DecayShape.Linear, double Min = 0) : Schedule
{
    internal double Power(long t)
    {
        double n = t * TokensPerStep;
        return n <= 0 ? Peak : Math.Min(Peak, Batch * A * Math.Pow(n, Exponent));
    }

    public override double At(long t)
    {
        if (t < Warmup) return Power(Warmup) * Phases.Warmup(t, Warmup);
        if (DecaySteps > 0 && Total is { } T)
        {
            long ds = T - DecaySteps;
            if (t >= T) return Min;
            if (t >= ds) return DecayShapes.Value(Shape, (double)(t - ds) / DecaySteps, Power(ds), Min);
        }
        return Power(t);
    }

    public override long? Length => Total;

    public override SpecCall ToSpecCall() => new SpecBuilder("power").Num("peak", Peak).Num("a", A).Num("exponent", Exponent).Num("tokens_per_step", TokensPerStep)
        .NumIf("batch", Batch, 1).NumIf("warmup", Warmup, 0).NumIf("total", Total).NumIf("decay_steps", DecaySteps, 0)
        .WordIf("shape", DecayShapes.Name(Shape), "linear").NumIf("min", Min, 0).Build();

    internal static PowerSchedule Create(SpecArgs a)
    {
        double peak = a.Number("peak");
        double coef = Phases.Finite(a, "a", positive: true), b = Phases.Finite(a, "exponent"), k = Phases.Finite(a, "tokens_per_step", positive: true);
        double batch = Phases.Finite(a, "batch", 1, positive: true);
        long w = Phases.Steps(a, "warmup", 0);
        long? total = a.Has("total") ? Phases.Steps(a, "total", positive: true) : null;
        long d = Phases.Steps(a, "decay_steps", 0);
        Phases.Check(a, peak, w, total);
        if (b > 0) throw a.Fail($"exponent must be <= 0 (the rate falls with tokens seen), got {SpecNumber.Format(b)}");
        if (d > 0 && (total is not { } T || d > T - w)) throw a.Fail("decay_steps=D needs total=T with D <= total - warmup");
        var shape = DecayShapes.Parse(a, "shape", DecayShape.Linear);
        double min = a.Number("min", 0);
        Phases.CheckMinNonNegative(a, min, peak);
        if (shape is DecayShape.Exponential or DecayShape.Inverse && min <= 0) throw a.Fail($"shape={DecayShapes.Name(shape)} needs min > 0");
        var s = new PowerSchedule(peak, coef, b, k, batch, w, total, d, shape, min);
        if (d > 0 && min > s.Power(total!.Value - d))
            throw a.Fail($"min ({SpecNumber.Format(min)}) exceeds the rate where the decay starts ({SpecNumber.Format(s.Power(total.Value - d))}): lower min");
        return s;
    }
}

/// <summary>
/// Schedule refined from the gradient norms of a previous run (Defazio et al. 2023, "When, Why and How
/// Much? Adaptive Learning Rate Scheduling by Refinement"). The norms G_1..G_T are median-filtered
/// with window 2 floor(0.1 T / 2) + 1 (shrinking at the ends), weighted w_t = G_t^-2 (SGD, l2 norms) or
/// G_t^-1 (Adam, l1 norms), and <c>eta_t = w_t * sum_{p &gt; t} w_p</c>, normalised to a maximum of 1 and
/// scaled by P; step t (0-based) is the paper's t + 1, and the rate is 0 from T - 1 on.
/// Constant norms give linear decay to zero.
/// Spec: <c>refined(peak=P, norms=[...] | file=PATH, weighting=sgd|adam, column=grad_norm)</c>.
/// </summary>
public sealed record RefinedSchedule : Schedule
{
    private readonly double[] _norms;
    private readonly double[] _eta;

    public RefinedSchedule(double peak, IReadOnlyList<double> norms, bool adam = false, string? file = null, string? column = null)
    {
        if (norms.Count < 2) throw new ArgumentException("refinement needs at least two gradient norms");
        Peak = peak; Adam = adam; File = file; Column = column;
        _norms = norms.ToArray();
        _eta = Refine(_norms, adam);
        for (int i = 0; i < _eta.Length; i++) _eta[i] *= peak;
    }

    public double Peak { get; }
    public bool Adam { get; }
    public string? File { get; }
    public string? Column { get; }
    public IReadOnlyList<double> Norms => _norms;

    /// <summary>The median-filter window for T norms: 2 floor(0.1 T / 2) + 1.</summary>
    public static int Window(int count) => 2 * (int)Math.Floor(0.1 * count / 2) + 1;

    /// <summary>The refined multipliers (max 1) for the given per-step norms.</summary>
    public static double[] Refine(ReadOnlySpan<double> norms, bool adam)
    {
        int n = norms.Length, h = Window(n) / 2;
        var w = new double[n];
        var buf = new double[2 * h + 1];
        for (int t = 0; t < n; t++)
        {
            int lo = Math.Max(0, t - h), hi = Math.Min(n - 1, t + h), m = hi - lo + 1;
            norms.Slice(lo, m).CopyTo(buf);
            Array.Sort(buf, 0, m);
            double g = m % 2 == 1 ? buf[m / 2] : 0.5 * (buf[m / 2 - 1] + buf[m / 2]);
            w[t] = adam ? 1 / g : 1 / (g * g);
        }
        var eta = new double[n];
        double suffix = 0, max = 0;
        for (int t = n - 1; t >= 0; t--)
        {
            eta[t] = w[t] * suffix;
            suffix += w[t];
            max = Math.Max(max, eta[t]);
        }
        for (int t = 0; t < n; t++) eta[t] /= max;
        return eta;
    }

    public override double At(long t) => t < 0 ? _eta[0] : t < _eta.Length ? _eta[t] : 0;

    public override long? Length => _eta.Length;

    public override SpecCall ToSpecCall()
    {
        var b = new SpecBuilder("refined").Num("peak", Peak);
        if (File is { } f)
        {
            b.Word("file", f);
            if (Column is { } c) b.Word("column", c);
        }
        else b.List("norms", _norms);
        return b.WordIf("weighting", Adam ? "adam" : "sgd", "sgd").Build();
    }

    public bool Equals(RefinedSchedule? other) => other is not null && Spec == other.Spec && _norms.AsSpan().SequenceEqual(other._norms);
    public override int GetHashCode() => Spec.GetHashCode();

    internal static RefinedSchedule Create(SpecArgs a)
    {
        double peak = a.Number("peak");
        Phases.Check(a, peak, 0);
        bool hasFile = a.Has("file"), hasNorms = a.Has("norms");
        if (hasFile == hasNorms) throw a.Fail("give the previous run's gradient norms as norms=[g1, g2, ...] or file=PATH, exactly one");
        string? file = null, column = null;
        double[] norms;
        if (hasFile)
        {
            file = a.Word("file");
            column = a.Has("column") ? a.Word("column") : null;
            norms = ReadNorms(file, column);
        }
        else norms = a.Numbers("norms");
        if (norms.Length < 2) throw a.Fail($"needs at least two gradient norms, got {norms.Length}");
        for (int i = 0; i < norms.Length; i++)
            if (!(norms[i] > 0) || !double.IsFinite(norms[i])) throw a.Fail($"gradient norm #{i + 1} must be finite and > 0, got {SpecNumber.Format(norms[i])}");
        var w = a.Word("weighting", "sgd");
        if (w is not ("sgd" or "adam")) throw a.Fail($"weighting must be sgd (w = G^-2) or adam (w = G^-1), got '{w}'");
        return new RefinedSchedule(peak, norms, w == "adam", file, column);
    }

    /// <summary>
    /// Reads per-step gradient norms: one number per line, or a CSV with a header whose column
    /// <paramref name="column"/> (default: the first of grad_norm, gradnorm, grad_norm_l2, grad_norm_l1) holds them.
    /// Blank lines and lines starting with '#' are skipped.
    /// </summary>
    public static double[] ReadNorms(string path, string? column = null)
    {
        if (!System.IO.File.Exists(path)) throw new SpecException($"refined: gradient-norm file '{path}' not found: give an existing file (one norm per line, or a CSV with a grad_norm column)");
        var lines = System.IO.File.ReadAllLines(path);
        var result = new List<double>();
        int col = -1;
        bool headerSeen = false;
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var cells = line.Split(',');
            if (!headerSeen)
            {
                headerSeen = true;
                bool numeric = double.TryParse(cells[0].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _);
                if (!numeric || column is not null)
                {
                    var names = cells.Select(c => c.Trim().Trim('"').ToLowerInvariant()).ToArray();
                    string[] wanted = column is not null ? [column.ToLowerInvariant()] : ["grad_norm", "gradnorm", "grad_norm_l2", "grad_norm_l1"];
                    col = Array.FindIndex(names, n => wanted.Contains(n));
                    if (col < 0) throw new SpecException($"{path}:{i + 1}: no column named {string.Join(" or ", wanted)} in header '{line}': name the column with column=NAME");
                    continue;
                }
                if (cells.Length > 1) throw new SpecException($"{path}:{i + 1}: several columns but no header: add a header with a grad_norm column, or give one number per line");
                col = 0;
            }
            if (col >= cells.Length) throw new SpecException($"{path}:{i + 1}: missing column {col + 1}");
            var cell = cells[col].Trim();
            if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var g))
                throw new SpecException($"{path}:{i + 1}: '{cell}' is not a number: each row needs the gradient norm of one step");
            result.Add(g);
        }
        return result.ToArray();
    }
}
