using Anneal.IO;

namespace Anneal.Training.Data;

/// <summary>
/// What a training text file must be: UTF-8 text (the byte tokenizer trains on any bytes, so a checkpoint, a
/// compressed file or a UTF-16 export would train silently on noise) and at most <see cref="MaxBytes"/> long
/// (the text is held in memory twice while it is split into training and validation parts).
/// </summary>
public static class TextFileCheck
{
    /// <summary>Largest text file accepted: 256 MiB, about 0.5 GB of memory once split.</summary>
    public const long MaxBytes = 256L << 20;

    /// <summary>Throws <see cref="InputException"/> naming <paramref name="path"/> unless it is UTF-8 text of an accepted size.</summary>
    public static void Check(string path)
    {
        long size = new FileInfo(path).Length;
        if (size > MaxBytes)
            throw new InputException($"{path}: {size} bytes of text is more than the {MaxBytes} bytes (256 MiB) a training text may have (it is held in memory); train on a part of it");
        const string Fix = "train on UTF-8 text (the model reads its bytes as tokens)";
        var (kind, control, examined) = TextContent.Sniff(TextContent.ReadHead(path));
        switch (kind)
        {
            case TextKind.Utf16: throw new InputException($"{path}: looks like UTF-16 text, not UTF-8; convert it first (e.g. iconv -f UTF-16 -t UTF-8 in > out), then {Fix}");
            case TextKind.Gzip: throw new InputException($"{path}: is gzip-compressed; decompress it first (gunzip), then {Fix}");
            case TextKind.Zip: throw new InputException($"{path}: is a zip archive; extract the text from it, then {Fix}");
            case TextKind.Binary: throw new InputException($"{path}: is a binary file, not text ({control} of its first {examined} bytes are control bytes); {Fix}");
        }
    }
}
