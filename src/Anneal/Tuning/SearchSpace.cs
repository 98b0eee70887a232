using System.Globalization;
using System.Text;

namespace Anneal.Tuning;

/// <summary>
/// One parameter's value in a trial: a number (real or whole) or a categorical word. Kept as the user wrote it
/// so that substitution into a spec (<c>wsd(shape={shape})</c>) and the stored trial read the same.
/// </summary>
public readonly record struct ParamValue
{
    /// <summary>The numeric value (the index of the choice for a categorical parameter).</summary>
    public double Number { get; }

    /// <summary>The word for a categorical parameter; null for a number.</summary>
    public string? Text { get; }

    /// <summary>True for a whole-number parameter (printed without a decimal point).</summary>
    public bool IsInteger { get; }

    private ParamValue(double number, string? text, bool isInteger) { Number = number; Text = text; IsInteger = isInteger; }

    /// <summary>A real value.</summary>
    public static ParamValue Real(double v) => new(v, null, false);

    /// <summary>A whole value.</summary>
    public static ParamValue Integer(long v) => new(v, null, true);

    /// <summary>A categorical choice (its word and its index among the choices).</summary>
    public static ParamValue Choice(string word, int index) => new(index, word, false);

    /// <summary>The text substituted for <c>{name}</c>: round-trip for reals, digits for integers, the word for choices.</summary>
    public override string ToString() => Text ?? (IsInteger ? ((long)Number).ToString(CultureInfo.InvariantCulture) : Number.ToString("R", CultureInfo.InvariantCulture));
}

/// <summary>A parameter's domain and its map to and from the unit interval that samplers work in.</summary>
public abstract record ParameterDomain
{
    /// <summary>How many unit coordinates the parameter takes (one-hot width for a categorical, 1 otherwise).</summary>
    public virtual int Width => 1;

    /// <summary>The value at unit coordinate <paramref name="u"/> in [0, 1] (a categorical reads <c>u[0]</c> as a fraction of its choices).</summary>
    public abstract ParamValue FromUnit(double u);

    /// <summary>The unit coordinate of a value (inverse of <see cref="FromUnit"/> up to rounding of whole numbers).</summary>
    public abstract double ToUnit(ParamValue v);

    /// <summary>Grid points for the grid sampler: every choice, every whole number up to <paramref name="points"/>, else <paramref name="points"/> evenly spaced (in log for log domains).</summary>
    public abstract IReadOnlyList<ParamValue> Grid(int points);

    /// <summary>The domain as written in a study file, for messages and the stored study.</summary>
    public abstract string Describe();

    /// <summary>Parses a value as stored (the text of <see cref="ParamValue.ToString"/>).</summary>
    public abstract ParamValue Parse(string text);
}

/// <summary>Uniform on [<paramref name="Low"/>, <paramref name="High"/>].</summary>
public sealed record UniformDomain(double Low, double High) : ParameterDomain
{
    public override ParamValue FromUnit(double u) => ParamValue.Real(Low + Math.Clamp(u, 0, 1) * (High - Low));
    public override double ToUnit(ParamValue v) => (v.Number - Low) / (High - Low);
    public override IReadOnlyList<ParamValue> Grid(int points) => Enumerable.Range(0, points).Select(i => FromUnit(points == 1 ? 0.5 : i / (double)(points - 1))).ToArray();
    public override string Describe() => $"uniform: [{Fmt(Low)}, {Fmt(High)}]";
    public override ParamValue Parse(string text) => ParamValue.Real(double.Parse(text, CultureInfo.InvariantCulture));
    internal static string Fmt(double x) => x.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>Log-uniform on [<paramref name="Low"/>, <paramref name="High"/>], both &gt; 0: uniform in log(value), the usual prior for learning rates.</summary>
public sealed record LogUniformDomain(double Low, double High) : ParameterDomain
{
    public override ParamValue FromUnit(double u) => ParamValue.Real(Math.Exp(Math.Log(Low) + Math.Clamp(u, 0, 1) * (Math.Log(High) - Math.Log(Low))));
    public override double ToUnit(ParamValue v) => (Math.Log(v.Number) - Math.Log(Low)) / (Math.Log(High) - Math.Log(Low));
    public override IReadOnlyList<ParamValue> Grid(int points) => Enumerable.Range(0, points).Select(i => FromUnit(points == 1 ? 0.5 : i / (double)(points - 1))).ToArray();
    public override string Describe() => $"log_uniform: [{UniformDomain.Fmt(Low)}, {UniformDomain.Fmt(High)}]";
    public override ParamValue Parse(string text) => ParamValue.Real(double.Parse(text, CultureInfo.InvariantCulture));
}

/// <summary>Whole numbers in [<paramref name="Low"/>, <paramref name="High"/>], optionally log-spaced (batch sizes, widths).</summary>
public sealed record IntegerDomain(long Low, long High, bool Log = false) : ParameterDomain
{
    // Each whole number owns an equal slice of the unit interval (in log space when Log), so rounding is unbiased.
    private double Lo => Log ? Math.Log(Low - 0.5 > 0 ? Low - 0.5 : Low) : Low - 0.5;
    private double Hi => Log ? Math.Log(High + 0.5) : High + 0.5;

    public override ParamValue FromUnit(double u)
    {
        double t = Lo + Math.Clamp(u, 0, 1) * (Hi - Lo);
        double v = Log ? Math.Exp(t) : t;
        return ParamValue.Integer(Math.Clamp((long)Math.Round(v, MidpointRounding.AwayFromZero), Low, High));
    }

    public override double ToUnit(ParamValue v) => ((Log ? Math.Log(v.Number) : v.Number) - Lo) / (Hi - Lo);

    public override IReadOnlyList<ParamValue> Grid(int points)
    {
        if (High - Low + 1 <= points) return Enumerable.Range(0, (int)(High - Low + 1)).Select(i => ParamValue.Integer(Low + i)).ToArray();
        return Enumerable.Range(0, points)
            .Select(i => { double t = i / (double)(points - 1); return ParamValue.Integer((long)Math.Round(Log ? Math.Exp(Math.Log(Low) + t * (Math.Log(High) - Math.Log(Low))) : Low + t * (High - Low))); })
            .Distinct().ToArray();
    }

    public override string Describe() => $"{(Log ? "log_int" : "int")}: [{Low}, {High}]";
    public override ParamValue Parse(string text) => ParamValue.Integer(long.Parse(text, CultureInfo.InvariantCulture));
}

/// <summary>One of a list of words (or numbers written as words), substituted as written.</summary>
public sealed record CategoricalDomain(IReadOnlyList<string> Choices) : ParameterDomain
{
    public override int Width => Choices.Count;
    public override ParamValue FromUnit(double u) { int i = Math.Min(Choices.Count - 1, (int)(Math.Clamp(u, 0, 1) * Choices.Count)); return ParamValue.Choice(Choices[i], i); }
    public override double ToUnit(ParamValue v) => (v.Number + 0.5) / Choices.Count;
    public override IReadOnlyList<ParamValue> Grid(int points) => Choices.Select((c, i) => ParamValue.Choice(c, i)).ToArray();
    public override string Describe() => $"choice: [{string.Join(", ", Choices)}]";

    public override ParamValue Parse(string text)
    {
        int i = Choices.ToList().IndexOf(text);
        if (i < 0) throw new InputException($"'{text}' is not one of the choices {string.Join(", ", Choices)}");
        return ParamValue.Choice(text, i);
    }

    /// <summary>Equality by the list of choices (records compare lists by reference otherwise).</summary>
    public bool Equals(CategoricalDomain? other) => other is not null && Choices.SequenceEqual(other.Choices);

    public override int GetHashCode() => Choices.Aggregate(17, (h, c) => h * 31 + c.GetHashCode(StringComparison.Ordinal));
}

/// <summary>A trial's parameters, in the search space's order.</summary>
public sealed class TrialParams : IEquatable<TrialParams>
{
    private readonly KeyValuePair<string, ParamValue>[] _items;

    /// <summary>The parameters in the space's order.</summary>
    public TrialParams(IEnumerable<KeyValuePair<string, ParamValue>> items) { _items = items.ToArray(); }

    /// <summary>Name and value pairs in the space's order.</summary>
    public IReadOnlyList<KeyValuePair<string, ParamValue>> Items => _items;

    /// <summary>The value of <paramref name="name"/>.</summary>
    public ParamValue this[string name] => _items.First(kv => kv.Key == name).Value;

    /// <summary>True when the trial has a parameter called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _items.Any(kv => kv.Key == name);

    /// <summary><c>peak=0.003, shape=sqrt</c>.</summary>
    public override string ToString() => string.Join(", ", _items.Select(kv => $"{kv.Key}={kv.Value}"));

    public bool Equals(TrialParams? other) => other is not null && _items.Length == other._items.Length &&
        _items.Zip(other._items).All(p => p.First.Key == p.Second.Key && p.First.Value.ToString() == p.Second.Value.ToString());

    public override bool Equals(object? obj) => Equals(obj as TrialParams);
    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}

/// <summary>
/// The named parameters of a study, in file order, each with its domain. Samplers see the space as the unit cube of
/// <see cref="EncodedWidth"/> coordinates (categoricals one-hot), which is also the Gaussian process's input space.
/// </summary>
public sealed class SearchSpace
{
    /// <summary>The parameters in file order.</summary>
    public IReadOnlyList<(string Name, ParameterDomain Domain)> Parameters { get; }

    /// <summary>A space of the given parameters (names must be distinct words).</summary>
    public SearchSpace(IReadOnlyList<(string Name, ParameterDomain Domain)> parameters)
    {
        if (parameters.Count == 0) throw new InputException("the search space has no parameters; name at least one, e.g. space: {peak: {log_uniform: [3e-4, 1e-2]}}");
        var dup = parameters.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new InputException($"the search space names '{dup.Key}' twice; give each parameter one entry");
        Parameters = parameters;
    }

    /// <summary>Number of parameters.</summary>
    public int Count => Parameters.Count;

    /// <summary>Width of the one-hot unit encoding that the Gaussian process sees.</summary>
    public int EncodedWidth => Parameters.Sum(p => p.Domain.Width);

    /// <summary>The parameters at a point of the unit cube with one coordinate per parameter (random, Sobol).</summary>
    public TrialParams FromUnit(ReadOnlySpan<double> u)
    {
        var items = new KeyValuePair<string, ParamValue>[Count];
        for (int i = 0; i < Count; i++) items[i] = new(Parameters[i].Name, Parameters[i].Domain.FromUnit(u[i]));
        return new TrialParams(items);
    }

    /// <summary>
    /// The Gaussian process's encoding: one unit coordinate per numeric parameter (log for log domains), a one-hot block
    /// per categorical. Whole numbers are encoded at their rounded value, so the model sees what was actually run.
    /// </summary>
    public void Encode(TrialParams p, Span<double> x)
    {
        int k = 0;
        foreach (var (name, domain) in Parameters)
        {
            var v = p[name];
            if (domain is CategoricalDomain c)
            {
                for (int j = 0; j < c.Width; j++) x[k + j] = j == (int)v.Number ? 1 : 0;
                k += c.Width;
            }
            else x[k++] = domain.ToUnit(v);
        }
    }

    /// <summary>The parameters nearest to an encoded point (largest one-hot entry wins for a categorical).</summary>
    public TrialParams Decode(ReadOnlySpan<double> x)
    {
        var items = new KeyValuePair<string, ParamValue>[Count];
        int k = 0;
        for (int i = 0; i < Count; i++)
        {
            var (name, domain) = Parameters[i];
            if (domain is CategoricalDomain c)
            {
                int best = 0;
                for (int j = 1; j < c.Width; j++) if (x[k + j] > x[k + best]) best = j;
                items[i] = new(name, ParamValue.Choice(c.Choices[best], best));
                k += c.Width;
            }
            else items[i] = new(name, domain.FromUnit(x[k++]));
        }
        return new TrialParams(items);
    }

    /// <summary>Parses stored parameter texts back into values (resuming a study).</summary>
    public TrialParams Parse(IReadOnlyDictionary<string, string> texts) =>
        new(Parameters.Select(p => new KeyValuePair<string, ParamValue>(p.Name, texts.TryGetValue(p.Name, out var t) ? p.Domain.Parse(t)
            : throw new InputException($"a stored trial has no value for parameter '{p.Name}'; the study's search space changed since it was stored, so start a new study name"))));

    /// <summary>
    /// Replaces every <c>{name}</c> in <paramref name="spec"/> with the trial's value. <c>{{</c> and <c>}}</c> stand for
    /// literal braces. An unknown name is an error naming it and the space's parameters.
    /// </summary>
    public static string Substitute(string spec, TrialParams p, string where = "spec")
    {
        var sb = new StringBuilder(spec.Length + 16);
        for (int i = 0; i < spec.Length; i++)
        {
            char c = spec[i];
            if (c == '{' && i + 1 < spec.Length && spec[i + 1] == '{') { sb.Append('{'); i++; continue; }
            if (c == '}' && i + 1 < spec.Length && spec[i + 1] == '}') { sb.Append('}'); i++; continue; }
            if (c == '{')
            {
                int end = spec.IndexOf('}', i + 1);
                if (end < 0) throw new InputException($"{where}: '{{' at character {i + 1} is not closed; write {{name}} for a parameter or {{{{ for a literal brace");
                var name = spec[(i + 1)..end].Trim();
                if (!p.Contains(name))
                    throw new InputException($"{where}: placeholder {{{name}}} names no parameter of the search space (it has {string.Join(", ", p.Items.Select(kv => kv.Key))}); add it under space: or fix the name");
                sb.Append(p[name].ToString());
                i = end;
                continue;
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>The placeholder names used in <paramref name="spec"/> (for checking a study before any trial runs).</summary>
    public static IReadOnlyList<string> Placeholders(string spec)
    {
        var names = new List<string>();
        for (int i = 0; i < spec.Length; i++)
        {
            if (spec[i] == '{' && i + 1 < spec.Length && spec[i + 1] == '{') { i++; continue; }
            if (spec[i] != '{') continue;
            int end = spec.IndexOf('}', i + 1);
            if (end < 0) break;
            names.Add(spec[(i + 1)..end].Trim());
            i = end;
        }
        return names;
    }
}
