namespace Anneal.IO;

/// <summary>What the start of a file looks like, for inputs that must be UTF-8 text.</summary>
public enum TextKind
{
    /// <summary>UTF-8 (or ASCII) text.</summary>
    Text,
    /// <summary>UTF-16 text: a byte-order mark, or every other byte zero.</summary>
    Utf16,
    /// <summary>gzip-compressed data.</summary>
    Gzip,
    /// <summary>A zip archive.</summary>
    Zip,
    /// <summary>Binary data: NUL bytes or many other control bytes.</summary>
    Binary,
}

/// <summary>
/// Tells UTF-8 text from what is often given in its place (a UTF-16 export, a compressed file, a checkpoint or
/// any binary file) by its first 4 KB, so a reader can refuse it by name instead of parsing or training on it.
/// </summary>
public static class TextContent
{
    /// <summary>Bytes looked at: enough to see a header and a few lines.</summary>
    public const int Head = 4096;

    /// <summary>
    /// The kind of <paramref name="content"/> (its first <see cref="Head"/> bytes are enough), and for
    /// <see cref="TextKind.Binary"/> how many of the bytes looked at are control bytes.
    /// </summary>
    public static (TextKind Kind, int Control, int Examined) Sniff(ReadOnlySpan<byte> content)
    {
        var head = content[..Math.Min(content.Length, Head)];
        if (head.Length == 0) return (TextKind.Text, 0, 0);
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) || LooksUtf16(head))
            return (TextKind.Utf16, 0, head.Length);
        if (head.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B])) return (TextKind.Gzip, 0, head.Length);
        if (head.StartsWith("PK\u0003\u0004"u8)) return (TextKind.Zip, 0, head.Length);
        int control = 0;
        foreach (var b in head) if (b == 0 || (b < 0x20 && b is not 0x09 and not 0x0A and not 0x0C and not 0x0D)) control++;
        // a stray form feed or escape is text; a NUL, or control bytes in more than 1 % of the bytes, is not
        if (control > 0 && (head.Contains((byte)0) || control * 100 > head.Length)) return (TextKind.Binary, control, head.Length);
        return (TextKind.Text, control, head.Length);
    }

    /// <summary>The first <see cref="Head"/> bytes of a file.</summary>
    public static byte[] ReadHead(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        var buf = new byte[Head];
        int n = fs.ReadAtLeast(buf, Head, throwOnEndOfStream: false);
        return buf[..n];
    }

    /// <summary>UTF-16 text without a byte-order mark: most odd (or even) bytes are zero.</summary>
    private static bool LooksUtf16(ReadOnlySpan<byte> head)
    {
        if (head.Length < 8) return false;
        int even = 0, odd = 0, pairs = head.Length / 2;
        for (int i = 0; i + 1 < head.Length; i += 2) { if (head[i] == 0) even++; if (head[i + 1] == 0) odd++; }
        return Math.Max(even, odd) * 10 >= pairs * 8 && Math.Min(even, odd) * 10 < pairs;
    }
}
