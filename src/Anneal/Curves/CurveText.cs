using System.Text;

namespace Anneal.Curves;

/// <summary>Text from a user's file as messages echo it: cut to a readable length, so a 5 MB cell makes a short message.</summary>
internal static class CurveText
{
    /// <summary>Characters of a cell or name a message shows before cutting it.</summary>
    public const int MaxEcho = 60;

    /// <summary><paramref name="s"/>, or its first <see cref="MaxEcho"/> characters with the full length said.</summary>
    public static string Echo(string s) => s.Length <= MaxEcho ? s : $"{s[..MaxEcho]}... ({s.Length:N0} characters)";

    /// <summary>The UTF-8 bytes of a cell as text, cut like <see cref="Echo(string)"/> without decoding all of a huge cell.</summary>
    public static string Echo(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length <= MaxEcho) return Encoding.UTF8.GetString(utf8);
        // a few bytes more than MaxEcho characters can need; a cut multi-byte character decodes as U+FFFD
        var head = Encoding.UTF8.GetString(utf8[..(MaxEcho * 2)]);
        return $"{(head.Length > MaxEcho ? head[..MaxEcho] : head)}... ({utf8.Length:N0} bytes)";
    }
}
