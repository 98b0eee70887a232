using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Anneal.Tuning;

/// <summary>What a trial runs.</summary>
public abstract record ObjectiveSpec
{
    /// <summary>The metric minimised: <c>val_loss</c> or <c>loss</c> (a column of the trial's log).</summary>
    public required string Metric { get; init; }

    /// <summary>Planned training steps of every trial.</summary>
    public required long Steps { get; init; }
}

/// <summary>
/// Anneal's own trainer: <c>{train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}</c>. Optional
/// <c>batch</c>, <c>seq</c>, <c>eval_every</c>, <c>log_every</c>, <c>seed</c>; string values may hold placeholders.
/// </summary>
public sealed record TrainObjectiveSpec : ObjectiveSpec
{
    /// <summary>Model spec (may hold placeholders).</summary>
    public required string Model { get; init; }

    /// <summary>Data name or path.</summary>
    public required string Data { get; init; }

    /// <summary>Further trainer settings by their study-file names (batch, seq, eval_every, log_every, seed, threads).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Any program: <c>{command: [python3, train.py, --lr, "{peak}"], log: "runs/{trial}/log.csv", metric: val_loss, steps: 2000}</c>.
/// It gets its parameters as placeholders in its arguments (or, when it uses none, as <c>--name=value</c> arguments)
/// and always as environment variables <c>ANNEAL_PARAM_NAME</c>, with <c>ANNEAL_TRIAL</c> and <c>ANNEAL_LOG</c>.
/// </summary>
public sealed record CommandObjectiveSpec : ObjectiveSpec
{
    /// <summary>Program and arguments (may hold placeholders and <c>{trial}</c>).</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>The log file the program writes, followed while it runs (may hold <c>{trial}</c>).</summary>
    public required string Log { get; init; }
}

/// <summary>A sampler or pruner name with its options as written.</summary>
public sealed record ComponentSpec(string Name, IReadOnlyDictionary<string, string> Options, int Line)
{
    /// <summary>
    /// Every key asked for through <see cref="Number"/>, <see cref="Word"/> or <see cref="Has"/>, when set: how
    /// <see cref="StudyComponents.KnownOptions"/> learns the options a component reads from the code that reads them.
    /// </summary>
    internal List<string>? Asked { get; init; }

    /// <summary>Option <paramref name="key"/> as a number, or <paramref name="fallback"/>.</summary>
    public double Number(string key, double fallback, string file) =>
        !Has(key) ? fallback
        : double.TryParse(Options[key], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v
        : throw new InputException($"{file}:{Line}: {Name} option {key} must be a number, got '{Options[key]}'");

    /// <summary>Option <paramref name="key"/> as a word, or <paramref name="fallback"/>.</summary>
    public string Word(string key, string fallback) => Has(key) ? Options[key] : fallback;

    /// <summary>Whether the study sets option <paramref name="key"/>.</summary>
    public bool Has(string key)
    {
        if (Asked is { } a && !a.Contains(key)) a.Add(key);
        return Options.ContainsKey(key);
    }
}

/// <summary>A parsed study file: everything a sweep needs, checked before any trial runs.</summary>
public sealed record StudySpec
{
    /// <summary>The study's name (its key in the run store).</summary>
    public required string Name { get; init; }

    /// <summary>The objective.</summary>
    public required ObjectiveSpec Objective { get; init; }

    /// <summary>Schedule spec with placeholders, or null (the objective's default).</summary>
    public string? Schedule { get; init; }

    /// <summary>Optimizer spec with placeholders, or null.</summary>
    public string? Optimizer { get; init; }

    /// <summary>The search space.</summary>
    public required SearchSpace Space { get; init; }

    /// <summary>The sampler (random, grid, sobol, gp).</summary>
    public required ComponentSpec Sampler { get; init; }

    /// <summary>The pruner (none, median, asha, hyperband, forecast).</summary>
    public required ComponentSpec Pruner { get; init; }

    /// <summary>Number of trials the study runs (budget: {trials: N}); null when the file sets none.</summary>
    public int? Trials { get; init; }

    /// <summary>Seed of the sampler; a train objective's runs use the objective's own <c>seed</c> (default 1).</summary>
    public int Seed { get; init; }

    /// <summary>The study file's path (for messages).</summary>
    public string File { get; init; } = "study.yaml";

    /// <summary>The study file's text, stored with the study so a resumed sweep can check it is the same study.</summary>
    public string Text { get; init; } = "";
}

/// <summary>
/// Reads study files (YAML). Every mistake is one message naming the file, the line and the fix, raised before
/// any trial runs.
/// </summary>
public static class StudyFile
{
    /// <summary>Sampler names.</summary>
    public static readonly string[] SamplerNames = ["random", "grid", "sobol", "gp"];

    /// <summary>Pruner names.</summary>
    public static readonly string[] PrunerNames = ["none", "median", "asha", "hyperband", "forecast"];

    private static readonly string[] TopKeys = ["name", "objective", "schedule", "optimizer", "space", "sampler", "pruner", "budget", "seed", "direction"];

    /// <summary>Reads and checks <paramref name="path"/>.</summary>
    public static StudySpec Load(string path)
    {
        if (!System.IO.File.Exists(path)) throw new InputException($"study file '{path}' does not exist; pass the path of a YAML study file (see docs/tuning.md)");
        return Parse(System.IO.File.ReadAllText(path), path);
    }

    /// <summary>Parses and checks study-file text; <paramref name="file"/> names it in messages.</summary>
    public static StudySpec Parse(string text, string file = "study.yaml")
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlException e)
        {
            var inner = e.InnerException?.Message ?? e.Message;
            throw new InputException($"{file}:{e.Start.Line}: not valid YAML ({Trim(inner)}); check the indentation and quote specs that contain ': ' or '#'");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet reports some unclosed flow collections this way, without a position: find the last event it read.
            throw new InputException($"{file}:{LastGoodLine(text)}: not valid YAML (an unclosed [ or {{ or quote?); close it, or quote specs that contain ': ' or '#'");
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new InputException($"{file}:1: a study file is a mapping with name, objective, space, sampler and pruner; see docs/tuning.md for an example");
        var keys = Keys(root, file, TopKeys, "the study");
        string name = Scalar(Require(root, keys, "name", file, "name: my-study"), file, "name");
        if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw new InputException($"{file}:{Require(root, keys, "name", file, "")!.Start.Line}: name '{name}' must be letters, digits, '-', '_' or '.'; it names the study in the store");
        if (keys.TryGetValue("direction", out var dir) && Scalar(dir, file, "direction") != "minimize")
            throw new InputException($"{file}:{dir.Start.Line}: direction must be minimize (studies minimise a loss); remove the line or write direction: minimize");
        var space = ParseSpace(Require(root, keys, "space", file, "space: {peak: {log_uniform: [3e-4, 1e-2]}}"), file);
        var objective = ParseObjective(Require(root, keys, "objective", file, "objective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}"), file);
        string? schedule = keys.TryGetValue("schedule", out var s) ? Scalar(s, file, "schedule") : null;
        string? optimizer = keys.TryGetValue("optimizer", out var o) ? Scalar(o, file, "optimizer") : null;
        var sampler = keys.TryGetValue("sampler", out var sm) ? Component(sm, file, "sampler", SamplerNames) : new ComponentSpec("random", new Dictionary<string, string>(), 0);
        var pruner = keys.TryGetValue("pruner", out var pr) ? Component(pr, file, "pruner", PrunerNames) : new ComponentSpec("none", new Dictionary<string, string>(), 0);
        int? trials = null;
        if (keys.TryGetValue("budget", out var b))
        {
            var bn = b is YamlMappingNode bm ? Keys(bm, file, ["trials"], "budget").GetValueOrDefault("trials") : b;
            if (bn is null) throw new InputException($"{file}:{b.Start.Line}: budget needs trials, e.g. budget: {{trials: 20}}");
            trials = PositiveInt(bn, file, "budget trials");
        }
        int seed = keys.TryGetValue("seed", out var sd) ? (int)Integer(sd, file, "seed") : 0;

        // Placeholders: every one must name a parameter (a typo would otherwise fail in trial 0 after minutes of work).
        var known = space.Parameters.Select(p => p.Name).Append("trial").ToHashSet();
        void Check(YamlNode? node, string? spec, string what)
        {
            if (spec is null) return;
            foreach (var ph in SearchSpace.Placeholders(spec))
                if (!known.Contains(ph))
                    throw new InputException($"{file}:{node?.Start.Line ?? 0}: {what}: placeholder {{{ph}}} names no parameter of the search space (it has {string.Join(", ", space.Parameters.Select(p => p.Name))}); add it under space: or fix the name");
        }
        Check(keys.GetValueOrDefault("schedule"), schedule, "schedule");
        Check(keys.GetValueOrDefault("optimizer"), optimizer, "optimizer");
        var objNode = keys["objective"];
        if (objective is TrainObjectiveSpec t) { Check(objNode, t.Model, "objective model"); foreach (var kv in t.Settings) Check(objNode, kv.Value, $"objective {kv.Key}"); }
        if (objective is CommandObjectiveSpec c) { foreach (var a in c.Command) Check(objNode, a, "objective command"); Check(objNode, c.Log, "objective log"); }

        // The schedule must parse for a trial in the middle of the space, before anything runs.
        if (schedule is not null)
        {
            var mid = space.FromUnit(Enumerable.Repeat(0.5, space.Count).ToArray());
            try { _ = Anneal.Schedules.Schedule.Parse(SearchSpace.Substitute(schedule.Replace("{trial}", "0", StringComparison.Ordinal), mid)); }
            catch (InputException e) { throw new InputException($"{file}:{s!.Start.Line}: schedule (with {mid}): {e.Message}"); }
            catch (FormatException e) { throw new InputException($"{file}:{s!.Start.Line}: schedule (with {mid}): {e.Message}"); }
        }
        if (sampler.Name == "grid" && space.Parameters.Any(p => p.Domain is not CategoricalDomain) && !sampler.Options.ContainsKey("points"))
        {
            // Fine: the default of 5 points per range applies; nothing to check.
        }
        if (sampler.Name == "sobol" && space.Count > SobolSequence.MaxDimension)
            throw new InputException($"{file}:{sampler.Line}: the sobol sampler handles at most {SobolSequence.MaxDimension} parameters and the space has {space.Count}; use sampler: random or gp");
        return new StudySpec
        {
            Name = name, Objective = objective, Schedule = schedule, Optimizer = optimizer, Space = space, Sampler = sampler, Pruner = pruner,
            Trials = trials, Seed = seed, File = file, Text = text,
        };
    }

    private static SearchSpace ParseSpace(YamlNode node, string file)
    {
        if (node is not YamlMappingNode map || map.Children.Count == 0)
            throw new InputException($"{file}:{node.Start.Line}: space must map parameter names to domains, e.g. space: {{peak: {{log_uniform: [3e-4, 1e-2]}}, shape: {{choice: [linear, sqrt]}}}}");
        var list = new List<(string, ParameterDomain)>();
        foreach (var (k, v) in map.Children)
        {
            string pname = Scalar(k, file, "parameter name");
            if (pname.Length == 0 || !(char.IsAsciiLetter(pname[0]) || pname[0] == '_') || pname.Any(ch => !(char.IsAsciiLetterOrDigit(ch) || ch == '_')) || pname == "trial")
                throw new InputException($"{file}:{k.Start.Line}: parameter name '{pname}' must be a word of letters, digits and '_' (not 'trial'), so that {{{pname}}} can stand in a spec");
            const string kinds = "log_uniform: [low, high], uniform: [low, high], int: [low, high], log_int: [low, high] or choice: [a, b, ...]";
            if (v is not YamlMappingNode dm || dm.Children.Count != 1)
                throw new InputException($"{file}:{v.Start.Line}: parameter {pname} needs one domain: {kinds}");
            var (kindNode, argsNode) = dm.Children.First();
            string kind = Scalar(kindNode, file, $"parameter {pname}");
            if (argsNode is not YamlSequenceNode seq)
                throw new InputException($"{file}:{argsNode.Start.Line}: parameter {pname}: {kind} takes a list, e.g. {kind}: [{(kind == "choice" ? "a, b" : "low, high")}]");
            var items = seq.Children.Select(c => Scalar(c, file, $"parameter {pname}")).ToArray();
            int line = (int)argsNode.Start.Line;
            ParameterDomain domain = kind switch
            {
                "log_uniform" or "uniform" => Range(items, file, line, pname, kind) is var (lo, hi) ? (kind == "uniform" ? new UniformDomain(lo, hi)
                    : lo > 0 ? new LogUniformDomain(lo, hi) : throw new InputException($"{file}:{line}: parameter {pname}: log_uniform needs low > 0, got {items[0]}; use uniform for ranges that include 0")) : null!,
                "int" or "log_int" => IntRange(items, file, line, pname, kind),
                "choice" => items.Length >= 1 && items.Distinct().Count() == items.Length ? new CategoricalDomain(items)
                    : throw new InputException($"{file}:{line}: parameter {pname}: choice needs at least one value and no repeats, got [{string.Join(", ", items)}]"),
                _ => throw new InputException($"{file}:{kindNode.Start.Line}: parameter {pname}: unknown domain '{kind}'; use {kinds}"),
            };
            list.Add((pname, domain));
        }
        return new SearchSpace(list);
    }

    private static (double, double) Range(string[] items, string file, int line, string pname, string kind)
    {
        if (items.Length != 2) throw new InputException($"{file}:{line}: parameter {pname}: {kind} takes [low, high], got {items.Length} value(s)");
        var v = items.Select(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x) ? x
            : throw new InputException($"{file}:{line}: parameter {pname}: '{t}' is not a number; write e.g. {kind}: [3e-4, 1e-2]")).ToArray();
        if (!(v[0] < v[1])) throw new InputException($"{file}:{line}: parameter {pname}: {kind} needs low < high, got [{items[0]}, {items[1]}]");
        return (v[0], v[1]);
    }

    private static IntegerDomain IntRange(string[] items, string file, int line, string pname, string kind)
    {
        if (items.Length != 2) throw new InputException($"{file}:{line}: parameter {pname}: {kind} takes [low, high], got {items.Length} value(s)");
        var v = items.Select(t => long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x
            : throw new InputException($"{file}:{line}: parameter {pname}: '{t}' is not a whole number; write e.g. {kind}: [8, 64]")).ToArray();
        if (!(v[0] < v[1])) throw new InputException($"{file}:{line}: parameter {pname}: {kind} needs low < high, got [{items[0]}, {items[1]}]");
        if (kind == "log_int" && v[0] < 1) throw new InputException($"{file}:{line}: parameter {pname}: log_int needs low >= 1, got {v[0]}; use int");
        return new IntegerDomain(v[0], v[1], kind == "log_int");
    }

    private static ObjectiveSpec ParseObjective(YamlNode node, string file)
    {
        const string example = "objective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}} or objective: {command: [python3, train.py], log: log.csv, steps: 2000, metric: val_loss}";
        if (node is not YamlMappingNode map) throw new InputException($"{file}:{node.Start.Line}: objective must be a mapping; {example}");
        if (map.Children.Count == 1 && map.Children.First().Key is YamlScalarNode { Value: "train" })
        {
            var body = map.Children.First().Value as YamlMappingNode
                ?? throw new InputException($"{file}:{node.Start.Line}: objective train needs model, data, steps and metric; {example}");
            var k = Keys(body, file, ["model", "data", "steps", "metric", "batch", "seq", "eval_every", "log_every", "seed", "threads", "eval_batches"], "objective train");
            var settings = k.Where(kv => kv.Key is not ("model" or "data" or "steps" or "metric")).ToDictionary(kv => kv.Key, kv => Scalar(kv.Value, file, $"objective {kv.Key}"));
            return new TrainObjectiveSpec
            {
                Model = Scalar(Require(body, k, "model", file, "model: gpt-tiny"), file, "model"),
                Data = Scalar(Require(body, k, "data", file, "data: brown"), file, "data"),
                Steps = PositiveInt(Require(body, k, "steps", file, "steps: 2000"), file, "objective steps"),
                Metric = Metric(k, file, body),
                Settings = settings,
            };
        }
        var keys = Keys(map, file, ["command", "log", "steps", "metric"], "objective");
        if (!keys.ContainsKey("command")) throw new InputException($"{file}:{node.Start.Line}: objective needs train: or command:; {example}");
        var cmdNode = keys["command"];
        IReadOnlyList<string> command = cmdNode switch
        {
            YamlSequenceNode seq => seq.Children.Select(c => Scalar(c, file, "objective command")).ToArray(),
            _ => Scalar(cmdNode, file, "objective command").Split(' ', StringSplitOptions.RemoveEmptyEntries),
        };
        if (command.Count == 0) throw new InputException($"{file}:{cmdNode.Start.Line}: objective command is empty; name the program, e.g. command: [python3, train.py]");
        return new CommandObjectiveSpec
        {
            Command = command,
            Log = Scalar(Require(map, keys, "log", file, "log: runs/{trial}/log.csv"), file, "log"),
            Steps = PositiveInt(Require(map, keys, "steps", file, "steps: 2000"), file, "objective steps"),
            Metric = Metric(keys, file, map),
        };
    }

    private static string Metric(Dictionary<string, YamlNode> keys, string file, YamlNode parent)
    {
        var m = Scalar(Require(parent, keys, "metric", file, "metric: val_loss"), file, "metric");
        return m is "val_loss" or "loss" ? m : throw new InputException($"{file}:{keys["metric"].Start.Line}: metric must be val_loss or loss, got '{m}'");
    }

    private static ComponentSpec Component(YamlNode node, string file, string what, string[] names)
    {
        string name;
        var options = new Dictionary<string, string>();
        if (node is YamlScalarNode) name = Scalar(node, file, what);
        else if (node is YamlMappingNode m && m.Children.Count == 1)
        {
            var (k, v) = m.Children.First();
            name = Scalar(k, file, what);
            if (v is YamlMappingNode opts)
                foreach (var (ok, ov) in opts.Children) options[Scalar(ok, file, $"{what} option")] = Scalar(ov, file, $"{what} option");
            else if (!(v is YamlScalarNode { Value: null or "" }))
                throw new InputException($"{file}:{v.Start.Line}: {what} options are a mapping, e.g. {what}: {{{name}: {{...}}}}");
        }
        else throw new InputException($"{file}:{node.Start.Line}: {what} is a name ({string.Join(", ", names)}) or one name with options");
        if (!names.Contains(name)) throw new InputException($"{file}:{node.Start.Line}: unknown {what} '{name}'; use one of {string.Join(", ", names)}");
        // The options a component reads are the known ones (StudyComponents.KnownOptions): a misspelt option silently
        // falling back to its default would run a whole study with settings nobody asked for.
        var known = StudyComponents.KnownOptions(what, name);
        foreach (var key in options.Keys)
            if (!known.Contains(key))
                throw new InputException(known.Count == 0
                    ? $"{file}:{node.Start.Line}: {what} {name} takes no options, got '{key}'; write {what}: {name}"
                    : $"{file}:{node.Start.Line}: unknown {what} {name} option '{key}'; known options: {string.Join(", ", known)}");
        var spec = new ComponentSpec(name, options, (int)node.Start.Line);
        // Built once here so that a value out of range is refused with the file and line before any trial runs.
        _ = what == "sampler" ? StudyComponents.Sampler(spec, 0, file) : (object)StudyComponents.Pruner(spec, file);
        return spec;
    }

    private static Dictionary<string, YamlNode> Keys(YamlMappingNode map, string file, string[] allowed, string what)
    {
        var d = new Dictionary<string, YamlNode>();
        foreach (var (k, v) in map.Children)
        {
            var key = Scalar(k, file, "key");
            if (!allowed.Contains(key))
                throw new InputException($"{file}:{k.Start.Line}: unknown key '{key}' in {what}; known keys: {string.Join(", ", allowed)}");
            d[key] = v;
        }
        return d;
    }

    private static YamlNode Require(YamlNode parent, Dictionary<string, YamlNode> keys, string key, string file, string example) =>
        keys.TryGetValue(key, out var n) ? n : throw new InputException($"{file}:{parent.Start.Line}: missing '{key}'; add e.g. {example}");

    private static string Scalar(YamlNode node, string file, string what) =>
        node is YamlScalarNode s ? s.Value ?? "" : throw new InputException($"{file}:{node.Start.Line}: {what} must be a single value, not a list or mapping; quote it if it contains ': '");

    private static long Integer(YamlNode node, string file, string what)
    {
        var t = Scalar(node, file, what);
        return long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
            : throw new InputException($"{file}:{node.Start.Line}: {what} must be a whole number written in digits, got '{t}'");
    }

    private static int PositiveInt(YamlNode node, string file, string what)
    {
        long v = Integer(node, file, what);
        return v is >= 1 and <= int.MaxValue ? (int)v : throw new InputException($"{file}:{node.Start.Line}: {what} must be at least 1, got {v}");
    }

    private static long LastGoodLine(string text)
    {
        var parser = new Parser(new StringReader(text));
        long line = 1;
        try { while (parser.MoveNext()) line = parser.Current?.End.Line ?? line; }
        catch (Exception e) when (e is YamlException or InvalidOperationException) { }
        return line;
    }

    private static string Trim(string m) => m.Length > 160 ? m[..160] + "..." : m;
}
