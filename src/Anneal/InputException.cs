using System.Globalization;
using System.Runtime.CompilerServices;

namespace Anneal;

/// <summary>
/// Bad input from the user (a file, a spec, a parameter). The message names where the problem is
/// (file, line, column or parameter) and how to fix it; the CLI prints it and exits with code 2.
/// </summary>
/// <remarks>
/// The library names a request's parameters (<c>peak</c>, <c>warmup</c>, <c>data</c>), never a front end's spelling
/// of them. A message that names parameters is built by <see cref="Naming"/> from an interpolated string whose
/// <see cref="ParameterName"/> holes mark them: <see cref="Exception.Message"/> reads "peak must be &gt; 0", and a
/// front end renders it in its own words with <see cref="MessageNaming"/> (the CLI: "--peak must be &gt; 0"; a form:
/// its field's label). Its <see cref="Parameters"/> say which inputs to point at.
/// </remarks>
public class InputException : Exception
{
    private readonly FormattableString? _template;

    /// <summary>A message that names no parameter (a file, a line, a spec).</summary>
    public InputException(string message) : base(message) => Parameters = [];

    /// <summary>A message whose <see cref="ParameterName"/> holes name parameters (use <see cref="Naming"/>).</summary>
    protected InputException(FormattableString message) : base(Render(message, null))
    {
        _template = message;
        Parameters = message.GetArguments().OfType<ParameterName>().Select(p => p.Name).Distinct().ToArray();
    }

    /// <summary>
    /// Bad input that names parameters: every <see cref="ParameterName"/> in <paramref name="message"/> is a parameter
    /// a front end may rename (<see cref="MessageNaming"/>); the rest is formatted with the invariant culture.
    /// </summary>
    public static InputException Naming(FormattableString message) => new(message);

    /// <summary>The parameters the message names, the offending one first; empty when it names none.</summary>
    public IReadOnlyList<string> Parameters { get; }

    /// <summary>
    /// The message with every parameter named as <paramref name="name"/> maps it (a command line's <c>--peak</c>
    /// for <c>peak</c>); <see cref="Exception.Message"/> when the message names no parameter.
    /// </summary>
    public string MessageNaming(Func<string, string> name) => _template is null ? Message : Render(_template, name);

    /// <summary>
    /// This error with <paramref name="prefix"/> before its message (<c>"law.json: "</c>), its parameters kept, so a
    /// caller can say where the bad input came from without losing the front end's names.
    /// </summary>
    public InputException Prefixed(string prefix) =>
        _template is null ? new InputException(prefix + Message) : new InputException(After(prefix, _template));

    /// <summary><paramref name="text"/> (literal, braces and all) followed by <paramref name="message"/>, its parameters kept.</summary>
    protected static FormattableString After(string text, FormattableString message) =>
        FormattableStringFactory.Create(text.Replace("{", "{{").Replace("}", "}}") + message.Format, message.GetArguments());

    private static string Render(FormattableString message, Func<string, string>? name)
    {
        var args = message.GetArguments();
        if (name is not null)
            args = Array.ConvertAll(args, a => a is ParameterName p ? name(p.Name) : a);
        return string.Format(CultureInfo.InvariantCulture, message.Format, args);
    }
}

/// <summary>
/// A parameter's name in an <see cref="InputException"/> message (<c>peak</c>, <c>min_lr</c>): snake_case, as requests
/// and law files spell it. Renders as the name itself; a front end maps it to its own word.
/// </summary>
/// <param name="Name">The parameter's name.</param>
public readonly record struct ParameterName(string Name)
{
    /// <summary>
    /// The parameter <paramref name="name"/>, for a message's hole: with <c>using static Anneal.ParameterName;</c>,
    /// <c>InputException.Naming($"{Parameter("peak")} must be &gt; 0")</c>.
    /// </summary>
    public static ParameterName Parameter(string name) => new(name);

    /// <summary>The name itself.</summary>
    public override string ToString() => Name;
}
