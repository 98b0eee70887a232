using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Anneal.Specs;

/// <summary>
/// The small grammar shared by schedule and law specs:
/// <c>name(key=value, positional, ...)</c>, where a value is a number, a bare word, a quoted
/// string, a list <c>[v, ...]</c> or a nested call. Schedules, laws and CLI options all speak it,
/// and every spec round-trips through <see cref="SpecCall.ToString"/> and JSON.
/// </summary>
public abstract record SpecValue
{
    /// <summary>Canonical text of this value; parsing it gives an equal value.</summary>
    public abstract override string ToString();

    internal abstract JsonNode? ToJsonNode();

    internal static SpecValue FromJsonNode(JsonNode? node, string where) => node switch
    {
        null => throw new SpecException($"{where}: null is not a spec value"),
        JsonArray a => new SpecList(a.Select((x, i) => FromJsonNode(x, $"{where}[{i}]")).ToArray()),
        JsonObject o when o.ContainsKey("type") => SpecCall.FromJsonObject(o, where),
        JsonObject => throw new SpecException($"{where}: an object needs a \"type\" member"),
        JsonValue v when v.TryGetValue<double>(out var d) => new SpecNumber(d),
        JsonValue v when v.TryGetValue<string>(out var s) => new SpecText(s),
        JsonValue v when v.TryGetValue<bool>(out var b) => new SpecText(b ? "true" : "false"),
        _ => throw new SpecException($"{where}: unsupported JSON value {node.ToJsonString()}"),
    };
}

/// <summary>A number, printed in the shortest form that round-trips.</summary>
public sealed record SpecNumber(double Value) : SpecValue
{
    public override string ToString() => Format(Value);

    internal override JsonNode ToJsonNode() => JsonValue.Create(Value);

    /// <summary>Shortest round-trip text of a double, with a lower-case exponent.</summary>
    public static string Format(double v)
    {
        if (v == Math.Floor(v) && Math.Abs(v) < 1e15) return ((long)v).ToString(CultureInfo.InvariantCulture);
        return v.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e");
    }
}

/// <summary>A word such as <c>cosine</c> or a quoted string (quoted when printed only if needed).</summary>
public sealed record SpecText(string Value) : SpecValue
{
    public override string ToString() => IsBareWord(Value) ? Value : "\"" + Value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    internal override JsonNode ToJsonNode() => JsonValue.Create(Value);

    internal static bool IsBareWord(string s) =>
        s.Length > 0 && (char.IsLetter(s[0]) || s[0] == '_') && s.All(c => char.IsLetterOrDigit(c) || c is '_' or '.' or '-' or '/');
}

/// <summary>A list of values, e.g. the boundaries of <c>join(..., at=[8000])</c>.</summary>
public sealed record SpecList(IReadOnlyList<SpecValue> Items) : SpecValue
{
    public override string ToString() => "[" + string.Join(", ", Items) + "]";

    internal override JsonNode ToJsonNode() => new JsonArray(Items.Select(i => i.ToJsonNode()).ToArray());

    public bool Equals(SpecList? other) => other is not null && ToString() == other.ToString();

    public override int GetHashCode() => ToString().GetHashCode();
}

/// <summary>One argument of a call: named (<c>peak=3e-4</c>) or positional (<c>Name</c> is null).</summary>
public sealed record SpecArg(string? Name, SpecValue Value)
{
    public override string ToString() => Name is null ? Value.ToString() : $"{Name}={Value}";
}

/// <summary>A call <c>name(args)</c>: the root of every schedule or law spec.</summary>
public sealed record SpecCall(string Name, IReadOnlyList<SpecArg> Args) : SpecValue
{
    public SpecCall(string name, params SpecArg[] args) : this(name, (IReadOnlyList<SpecArg>)args) { }

    public override string ToString() => Args.Count == 0 ? Name : Name + "(" + string.Join(", ", Args) + ")";

    public bool Equals(SpecCall? other) => other is not null && ToString() == other.ToString();

    public override int GetHashCode() => ToString().GetHashCode();

    /// <summary>JSON form: <c>{"type": name, key: value, ..., "args": [positional...]}</c>.</summary>
    public JsonObject ToJson() => (JsonObject)ToJsonNode();

    internal override JsonNode ToJsonNode()
    {
        var o = new JsonObject { ["type"] = Name };
        var positional = Args.Where(a => a.Name is null).Select(a => a.Value.ToJsonNode()).ToArray();
        if (positional.Length > 0) o["args"] = new JsonArray(positional);
        foreach (var a in Args.Where(a => a.Name is not null)) o[a.Name!] = a.Value.ToJsonNode();
        return o;
    }

    /// <summary>Reads the JSON form written by <see cref="ToJson"/>.</summary>
    public static SpecCall FromJson(string json)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(json); }
        catch (System.Text.Json.JsonException e) { throw new SpecException($"not valid JSON: {e.Message}"); }
        return node is JsonObject o ? FromJsonObject(o, "$") : throw new SpecException("a spec in JSON must be an object with a \"type\" member");
    }

    internal static SpecCall FromJsonObject(JsonObject o, string where)
    {
        if (o["type"] is not JsonValue tv || !tv.TryGetValue<string>(out var type))
            throw new SpecException($"{where}: \"type\" must be a string");
        var args = new List<SpecArg>();
        if (o["args"] is JsonArray pos)
            args.AddRange(pos.Select((x, i) => new SpecArg(null, FromJsonNode(x, $"{where}.args[{i}]"))));
        foreach (var (k, v) in o)
            if (k != "type" && k != "args") args.Add(new SpecArg(k, FromJsonNode(v, $"{where}.{k}")));
        return new SpecCall(type, args);
    }

    /// <summary>Parses <c>name(key=value, ...)</c>; a bare <c>name</c> is a call with no arguments.</summary>
    public static SpecCall Parse(string text) => SpecParser.ParseCall(text);
}

/// <summary>A spec that cannot be parsed or bound; the message says where and how to fix it.</summary>
public sealed class SpecException(string message) : InputException(message);

internal sealed class SpecParser
{
    private readonly string _s;
    private int _i;

    private SpecParser(string s) => _s = s;

    public static SpecCall ParseCall(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new SpecException("empty spec: expected something like cosine(peak=3e-4, total=10000)");
        var p = new SpecParser(text);
        var v = p.Value();
        p.SkipWs();
        if (p._i < p._s.Length) throw p.Error($"unexpected '{p._s[p._i]}'");
        return v as SpecCall ?? (v is SpecText t ? new SpecCall(t.Value) : throw new SpecException($"'{text}' is not a spec: expected name(key=value, ...)"));
    }

    private SpecException Error(string what) =>
        new($"{what} at position {_i + 1} of spec '{_s}'");

    private void SkipWs() { while (_i < _s.Length && char.IsWhiteSpace(_s[_i])) _i++; }

    private bool Eat(char c) { SkipWs(); if (_i < _s.Length && _s[_i] == c) { _i++; return true; } return false; }

    private SpecValue Value()
    {
        SkipWs();
        if (_i >= _s.Length) throw Error("expected a value");
        char c = _s[_i];
        if (c == '[')
        {
            _i++;
            var items = new List<SpecValue>();
            if (!Eat(']'))
            {
                do items.Add(Value()); while (Eat(','));
                if (!Eat(']')) throw Error("expected ']'");
            }
            return new SpecList(items);
        }
        if (c is '"' or '\'')
        {
            _i++;
            var sb = new StringBuilder();
            while (_i < _s.Length && _s[_i] != c)
            {
                if (_s[_i] == '\\' && _i + 1 < _s.Length) _i++;
                sb.Append(_s[_i++]);
            }
            if (_i >= _s.Length) throw Error("unterminated string");
            _i++;
            return new SpecText(sb.ToString());
        }
        if (char.IsDigit(c) || c is '-' or '+' or '.')
        {
            int start = _i;
            while (_i < _s.Length && (char.IsLetterOrDigit(_s[_i]) || _s[_i] is '.' or '-' or '+' or '_')) _i++;
            var tok = _s[start.._i].Replace("_", "");
            if (!double.TryParse(tok, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
            { _i = start; throw Error($"'{tok}' is not a number"); }
            return new SpecNumber(d);
        }
        if (char.IsLetter(c) || c == '_')
        {
            int start = _i;
            while (_i < _s.Length && (char.IsLetterOrDigit(_s[_i]) || _s[_i] is '_' or '.' or '-' or '/')) _i++;
            var word = _s[start.._i];
            if (!Eat('(')) return new SpecText(word);
            var args = new List<SpecArg>();
            if (!Eat(')'))
            {
                do args.Add(Arg()); while (Eat(','));
                if (!Eat(')')) throw Error($"expected ',' or ')' in {word}(...)");
            }
            return new SpecCall(word, args);
        }
        throw Error($"unexpected '{c}'");
    }

    private SpecArg Arg()
    {
        SkipWs();
        int save = _i;
        if (_i < _s.Length && (char.IsLetter(_s[_i]) || _s[_i] == '_'))
        {
            int start = _i;
            while (_i < _s.Length && (char.IsLetterOrDigit(_s[_i]) || _s[_i] == '_')) _i++;
            var name = _s[start.._i];
            if (Eat('=')) return new SpecArg(name, Value());
            _i = save;
        }
        return new SpecArg(null, Value());
    }
}

/// <summary>
/// Binds a call's arguments to parameters, with defaults, and rejects unknown or duplicate names,
/// so a typo such as <c>warmpu=100</c> is an error instead of a silent default.
/// </summary>
public sealed class SpecArgs
{
    private readonly SpecCall _call;
    private readonly Dictionary<string, SpecValue> _named = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public SpecArgs(SpecCall call)
    {
        _call = call;
        foreach (var a in call.Args.Where(a => a.Name is not null))
            if (!_named.TryAdd(a.Name!, a.Value)) throw Fail($"'{a.Name}' is given twice");
        Positional = call.Args.Where(a => a.Name is null).Select(a => a.Value).ToArray();
    }

    public IReadOnlyList<SpecValue> Positional { get; }

    public SpecException Fail(string what) => new($"{_call.Name}: {what} (in '{_call}')");

    public bool Has(string name) => _named.ContainsKey(name);

    public double Number(string name, double? fallback = null)
    {
        _used.Add(name);
        if (!_named.TryGetValue(name, out var v))
            return fallback ?? throw Fail($"missing '{name}=...'{Misspelt(name)}");
        return v is SpecNumber n ? n.Value : throw Fail($"'{name}' must be a number, got {v}");
    }

    public double? OptionalNumber(string name) => Has(name) ? Number(name) : Mark(name);

    public long Integer(string name, long? fallback = null)
    {
        var d = Number(name, fallback);
        if (d != Math.Floor(d) || Math.Abs(d) > 1e15) throw Fail($"'{name}' must be a whole number, got {SpecNumber.Format(d)}");
        return (long)d;
    }

    public string Word(string name, string? fallback = null)
    {
        _used.Add(name);
        if (!_named.TryGetValue(name, out var v))
            return fallback ?? throw Fail($"missing '{name}=...'{Misspelt(name)}");
        return v switch
        {
            SpecText t => t.Value,
            SpecNumber n => n.ToString(),
            _ => throw Fail($"'{name}' must be a word, got {v}"),
        };
    }

    public bool Flag(string name, bool fallback)
    {
        var w = Word(name, fallback ? "true" : "false");
        return w switch
        {
            "true" or "1" or "yes" => true,
            "false" or "0" or "no" => false,
            _ => throw Fail($"'{name}' must be true or false, got {w}"),
        };
    }

    public double[] Numbers(string name, double[]? fallback = null)
    {
        _used.Add(name);
        if (!_named.TryGetValue(name, out var v))
            return fallback ?? throw Fail($"missing '{name}=[...]'{Misspelt(name)}");
        return v switch
        {
            SpecList l => l.Items.Select(i => i is SpecNumber n ? n.Value : throw Fail($"'{name}' must list numbers, got {i}")).ToArray(),
            SpecNumber n => [n.Value],
            _ => throw Fail($"'{name}' must be a list of numbers, got {v}"),
        };
    }

    public SpecValue? Raw(string name)
    {
        _used.Add(name);
        return _named.GetValueOrDefault(name);
    }

    /// <summary>
    /// Call last: fails on any named argument no parameter consumed; the message's "valid here" lists
    /// <paramref name="kindParameters"/> (a kind's documented parameters, e.g. <see cref="Anneal.Schedules.ScheduleKind.Parameters"/>:
    /// the factory reads some only in some forms, such as wsd's decay_steps in place of decay) with the ones the factory asked for.
    /// They are listed only: an argument the factory did not read is still refused.
    /// </summary>
    public void EnsureAllUsedOf(IEnumerable<string> kindParameters)
    {
        _listed = kindParameters.ToArray();
        EnsureAllUsed();
    }

    private string[] _listed = [];

    /// <summary>Call last: fails on any named argument no parameter consumed.</summary>
    public void EnsureAllUsed(params string[] alsoAllowed)
    {
        var unknown = _named.Keys.Where(k => !_used.Contains(k) && !alsoAllowed.Contains(k)).ToArray();
        if (unknown.Length == 0) return;
        // Every parameter the factory asked for is in _used (present or not), so it is the list of
        // valid names to suggest from.
        var known = _used.Concat(alsoAllowed).Concat(_listed).Where(k => !_named.ContainsKey(k)).Distinct().Order(StringComparer.Ordinal).ToArray();
        string Hint(string u)
        {
            var near = known.MinBy(k => EditDistance(k, u.ToLowerInvariant()));
            return near is not null && EditDistance(near, u.ToLowerInvariant()) <= Math.Max(1, Math.Min(2, u.Length / 3)) ? $" (did you mean '{near}'?)" : "";
        }
        // A documented parameter the factory did not read is one the others given replace (wsd's decay_steps beside decay).
        string list = string.Join(", ", unknown.Select(u => "'" + u + "'" + (_listed.Contains(u) ? " (not read with the others given)" : Hint(u))));
        // Every parameter of the kind, those already given marked (the hints above point only at the others): listing only
        // the ones not given read as if the given ones were not valid here.
        var all = _used.Concat(alsoAllowed).Concat(_listed).Distinct().Order(StringComparer.Ordinal).Select(k => _named.ContainsKey(k) ? k + " (given)" : k).ToArray();
        string valid = all.Length > 0 ? $"; valid here: {string.Join(", ", all)}" : "";
        throw Fail($"{(unknown.All(_listed.Contains) ? "parameter" : "unknown parameter")}{(unknown.Length > 1 ? "s" : "")} {list}{valid}");
    }

    /// <summary>" (you wrote 'totl')" when a given, unused parameter is a near-miss of the missing one.</summary>
    private string Misspelt(string missing)
    {
        var near = _named.Keys.Where(k => !_used.Contains(k)).MinBy(k => EditDistance(k.ToLowerInvariant(), missing));
        return near is not null && EditDistance(near.ToLowerInvariant(), missing) <= Math.Max(1, Math.Min(2, missing.Length / 3)) ? $" (you wrote '{near}')" : "";
    }

    /// <summary>Levenshtein distance (insertions, deletions, substitutions), for "did you mean" hints.</summary>
    public static int EditDistance(string a, string b)
    {
        var prev = new int[b.Length + 1]; var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    private double? Mark(string name) { _used.Add(name); return null; }
}

/// <summary>Builds a canonical argument list, skipping parameters equal to their defaults.</summary>
public sealed class SpecBuilder(string name)
{
    private readonly List<SpecArg> _args = [];

    public SpecBuilder Add(SpecValue positional) { _args.Add(new SpecArg(null, positional)); return this; }

    public SpecBuilder Num(string key, double value) { _args.Add(new SpecArg(key, new SpecNumber(value))); return this; }

    public SpecBuilder NumIf(string key, double value, double omitWhen) => value.Equals(omitWhen) ? this : Num(key, value);

    public SpecBuilder NumIf(string key, double? value) => value is { } v ? Num(key, v) : this;

    public SpecBuilder Word(string key, string value) { _args.Add(new SpecArg(key, new SpecText(value))); return this; }

    public SpecBuilder WordIf(string key, string value, string omitWhen) => value == omitWhen ? this : Word(key, value);

    public SpecBuilder List(string key, IEnumerable<double> values)
    { _args.Add(new SpecArg(key, new SpecList(values.Select(v => (SpecValue)new SpecNumber(v)).ToArray()))); return this; }

    public SpecCall Build() => new(name, _args.ToArray());
}
