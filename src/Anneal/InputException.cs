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
    protected InputException(FormattableString message) : base(ParameterName.Render(message))
    {
        _template = message;
        Parameters = ParameterName.Named(message).Distinct().ToArray();
    }

    /// <summary>
    /// Bad input that names parameters: every <see cref="ParameterName"/> in <paramref name="message"/> (or in a
    /// <see cref="FormattableString"/> in one of its holes) is a parameter a front end may rename (<see cref="MessageNaming"/>);
    /// the rest is formatted with the invariant culture.
    /// </summary>
    public static InputException Naming(FormattableString message) => new(message);

    /// <summary>The parameters the message names, the offending one first; empty when it names none.</summary>
    public IReadOnlyList<string> Parameters { get; }

    /// <summary>
    /// The message with every parameter named as <paramref name="name"/> maps it (a command line's <c>--peak</c>
    /// for <c>peak</c>); <see cref="Exception.Message"/> when the message names no parameter.
    /// </summary>
    public string MessageNaming(Func<string, string> name) => _template is null ? Message : ParameterName.Render(_template, name);

    /// <summary>
    /// This error with <paramref name="prefix"/> before its message (<c>$"{Parameter("law")}: "</c>), its parameters
    /// kept, so a caller can say where the bad input came from without losing a front end's names. The result is a
    /// plain <see cref="InputException"/>.
    /// </summary>
    public InputException Prefixed(FormattableString prefix) => new(Joined(prefix, (object?)_template ?? Message));

    /// <summary>The texts one after the other (each a <see cref="FormattableString"/> or a literal string), their parameters kept.</summary>
    protected static FormattableString Joined(params object[] parts) =>
        FormattableStringFactory.Create(string.Concat(Enumerable.Range(0, parts.Length).Select(i => "{" + i.ToString(CultureInfo.InvariantCulture) + "}")), parts);
}

/// <summary>
/// A parameter's name in a message (<see cref="InputException"/>, a result's notes) (<c>peak</c>, <c>min_lr</c>):
/// snake_case, as requests and law files spell it. Renders as the name itself; a front end maps it to its own word
/// (<see cref="Render"/>).
/// </summary>
/// <param name="Name">The parameter's name.</param>
public readonly record struct ParameterName(string Name)
{
    /// <summary>
    /// The parameter <paramref name="name"/>, for a message's hole: with <c>using static Anneal.ParameterName;</c>,
    /// <c>InputException.Naming($"{Parameter("peak")} must be &gt; 0")</c>.
    /// </summary>
    public static ParameterName Parameter(string name) => new(name);

    /// <summary>
    /// <paramref name="text"/> formatted with the invariant culture, its <see cref="ParameterName"/> holes named as
    /// <paramref name="name"/> maps them (by default their own names). A hole may hold another such text (a reason
    /// built elsewhere): its parameters are renamed too.
    /// </summary>
    public static string Render(FormattableString text, Func<string, string>? name = null)
    {
        var args = Array.ConvertAll(text.GetArguments(), a => a switch
        {
            ParameterName p when name is not null => name(p.Name),
            FormattableString inner => Render(inner, name),
            _ => a,
        });
        return string.Format(CultureInfo.InvariantCulture, text.Format, args);
    }

    /// <summary>The parameters <paramref name="text"/> names, in order, nested texts included.</summary>
    public static IEnumerable<string> Named(FormattableString text) =>
        text.GetArguments().SelectMany(a => a switch
        {
            ParameterName p => [p.Name],
            FormattableString inner => Named(inner),
            _ => Enumerable.Empty<string>(),
        });

    /// <summary>The name itself.</summary>
    public override string ToString() => Name;
}
