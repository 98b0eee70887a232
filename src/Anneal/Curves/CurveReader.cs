using System.Text;

namespace Anneal.Curves;

/// <summary>
/// Reads a logged training run into a <see cref="LossCurve"/>: CSV/TSV with a header, JSON Lines,
/// or a JSON document (W&amp;B-style history dump or column arrays). The format is chosen from
/// the extension (.csv/.tsv/.txt, .jsonl/.ndjson, .json) and, when that is ambiguous, the content.
/// Columns are found by their usual names (step/iter/_step/global_step, lr/learning_rate/train_lr,
/// loss/train_loss, val_loss/eval_loss/valid_loss, grad_norm, tokens) unless
/// <see cref="CurveReadOptions"/> names them. Steps must be strictly increasing; gaps are fine.
/// Every problem is a <see cref="CurveFormatException"/> naming file, line, column and fix.
/// </summary>
public static class CurveReader
{
    /// <summary>
    /// Largest curve file read: 200 MB (about 5e6 rows of step, lr and loss). A file is read whole and parsed into
    /// columns, about 5 times its size at the peak (measured in docs/reliability.md), so this keeps a read under 1 GB.
    /// </summary>
    public const long MaxBytes = 200_000_000;

    /// <summary>Reads <paramref name="path"/>; see the class summary for formats and rules.</summary>
    public static LossCurve Read(string path, CurveReadOptions? options = null)
    {
        options ??= CurveReadOptions.Default;
        if (Directory.Exists(path)) return Logs.LogFolder.Read(path, options);
        if (!File.Exists(path))
            throw new CurveFormatException($"{path}: file not found; check the path (relative paths start at {Environment.CurrentDirectory})");
        if (StartsWithTfRecord(path))
        {
            // streamed: a TensorBoard file of a million events is ~80 MB
            var log = new Logs.MetricLog(path, Logs.TensorBoardLog.FormatName, "record");
            Logs.TensorBoardLog.ReadFile(path, log);
            return log.ToCurve(options, options.Name ?? Logs.LogFolder.DefaultName(path));
        }
        long size = new FileInfo(path).Length;
        if (size > MaxBytes)
            throw new CurveFormatException($"{path}: {size} bytes is more than the {MaxBytes} bytes a curve file may have (it is read whole, and parsing takes about 5 times its size in memory); log every k-th step, or split the file");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CurveFormatException($"{path}: cannot be read ({e.Message})");
        }
        return Parse(bytes, path, options);
    }

    private static bool StartsWithTfRecord(string path)
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            Span<byte> head = stackalloc byte[12];
            return f.ReadAtLeast(head, 12, throwOnEndOfStream: false) == 12 && Logs.TensorBoardLog.Looks(head);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>Parses file content already in memory (no copy; large CSV is parsed on several cores).</summary>
    public static LossCurve Parse(byte[] content, string path, CurveReadOptions? options = null) =>
        ParseCore(content, path, options ?? CurveReadOptions.Default);

    /// <summary>Parses file content already in memory; <paramref name="path"/> names it in messages and picks the format.</summary>
    public static LossCurve Parse(ReadOnlySpan<byte> content, string path, CurveReadOptions? options = null) =>
        ParseCore(content.ToArray(), path, options ?? CurveReadOptions.Default);

    private static LossCurve ParseCore(ReadOnlyMemory<byte> memory, string path, CurveReadOptions options)
    {
        var content = memory.Span;
        var name = options.Name ?? Logs.LogFolder.DefaultName(path);
        if (Logs.TensorBoardLog.Looks(content))
        {
            var log = new Logs.MetricLog(path, Logs.TensorBoardLog.FormatName, "record");
            Logs.TensorBoardLog.Read(content, path, log);
            return log.ToCurve(options, name);
        }
        RefuseNonText(content, path);
        var format = options.Format == CurveFileFormat.Auto ? Detect(content, path) : options.Format;
        switch (format)
        {
            case CurveFileFormat.Csv:
            case CurveFileFormat.JsonLines:
                try
                {
                    return format == CurveFileFormat.Csv ? CsvCurveParser.Parse(memory, path, name, options) : JsonLinesParser.Parse(content, path, name, options);
                }
                catch (CurveFormatException e) when (e.SparseRow && format == CurveFileFormat.Csv)
                {
                    // rows that log only some metrics (Lightning's CSVLogger, W&B exports): merge them by step
                    var what = Path.GetFileName(path) == "metrics.csv" ? "Lightning CSVLogger metrics.csv (rows merged by step)" : "sparse CSV (rows merged by step)";
                    return CsvCurveParser.ParseSparse(memory, path, name, options, what);
                }
                catch (CurveFormatException e) when (e.NonFiniteLoss && options.StopAtNonFinite && e.Line is int line)
                {
                    return BeforeDivergence(memory, path, options, e, line);
                }
            default:
                var curve = JsonCurveParser.ParseDocument(Decode(content), path, name, options, out var spec);
                if (curve.Format.Length == 0) curve = curve with { Format = "JSON" };
                return spec is null ? curve : curve with { ScheduleSpec = spec };
        }
    }

    /// <summary>
    /// The curve up to (not including) <paramref name="line"/>, where the training loss stopped being finite.
    /// Both line-based formats number lines from the start of the content, so cutting there keeps every
    /// earlier row (and message line number) exactly as a full read would see it.
    /// </summary>
    private static LossCurve BeforeDivergence(ReadOnlyMemory<byte> memory, string path, CurveReadOptions options, CurveFormatException e, int line)
    {
        var span = memory.Span;
        int cut = 0;
        for (int l = 1; l < line; l++)
        {
            int nl = span[cut..].IndexOf((byte)'\n');
            if (nl < 0) { cut = span.Length; break; }
            cut += nl + 1;
        }
        string at = e.Step is { } s ? $"step {s}" : $"line {line}";
        LossCurve before;
        try { before = ParseCore(memory[..cut], path, options with { StopAtNonFinite = false }); }
        catch (CurveFormatException inner) when (inner.Message.Contains("no data rows", StringComparison.Ordinal) || inner.Message.Contains("is empty", StringComparison.Ordinal))
        {
            throw new CurveFormatException(path, line, e.Column, $"the training loss is not finite on the first data row ({at}), so nothing is left to read",
                "The run diverged immediately: lower the learning rate or check the logging.");
        }
        var warning = $"{path}:{line}: the training loss is not finite at {at}: the run diverged; read {before.Count} rows up to step {before.Steps[^1]} and ignored the rest";
        return before with { DivergedAtLine = line, DivergedAtStep = e.Step, Warnings = [.. before.Warnings, warning] };
    }

    /// <summary>
    /// Refuses content that is not UTF-8 text before any parser sees it, saying what it looks like, so a
    /// binary file never turns into hundreds of control bytes read as column names. Looks at the first 4 KB:
    /// a UTF-16 byte-order mark or every other byte zero (UTF-16 text), the gzip or zip magic, and NUL or
    /// other control bytes (a binary file, e.g. a checkpoint or a TensorBoard event file).
    /// </summary>
    public static void RefuseNonText(ReadOnlySpan<byte> content, string path)
    {
        const string Fix = "give the log as CSV, JSON or JSON Lines text in UTF-8";
        var (kind, control, examined) = Anneal.IO.TextContent.Sniff(content);
        if (kind == Anneal.IO.TextKind.Text) return;
        throw kind switch
        {
            Anneal.IO.TextKind.Utf16 => new CurveFormatException($"{path}: looks like UTF-16 text, not UTF-8; convert it first (e.g. iconv -f UTF-16 -t UTF-8 in > out) or save it as UTF-8"),
            Anneal.IO.TextKind.Gzip => new CurveFormatException($"{path}: is gzip-compressed; decompress it first (gunzip), then {Fix}"),
            Anneal.IO.TextKind.Zip => new CurveFormatException($"{path}: is a zip archive; extract the log from it, then {Fix}"),
            _ => new CurveFormatException($"{path}: is a binary file, not a text log ({control} of its first {examined} bytes are control bytes); {Fix}"),
        };
    }

    /// <summary>The format <see cref="Read"/> would use for this content and path.</summary>
    public static CurveFileFormat Detect(ReadOnlySpan<byte> content, string path)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is ".jsonl" or ".ndjson") return CurveFileFormat.JsonLines;
        var text = content.StartsWith("\uFEFF"u8) ? content[3..] : content;
        int i = 0;
        while (i < text.Length && text[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') i++;
        bool jsonLike = i < text.Length && text[i] is (byte)'{' or (byte)'[';
        if (ext is ".csv" or ".tsv" && !jsonLike) return CurveFileFormat.Csv;
        if (!jsonLike) return CurveFileFormat.Csv;
        if (text[i] == (byte)'[') return CurveFileFormat.Json;
        // '{' starts both a JSON document and JSON Lines: it is JSON Lines when the first line is a
        // complete object and another object line follows.
        var rest = text[i..];
        int nl = rest.IndexOf((byte)'\n');
        if (nl < 0) return CurveFileFormat.Json;
        var first = rest[..nl].TrimEnd((byte)'\r').TrimEnd((byte)' ');
        var after = rest[(nl + 1)..].TrimStart((byte)' ').TrimStart((byte)'\r').TrimStart((byte)'\n');
        return first.Length > 1 && first[^1] == (byte)'}' && !after.IsEmpty && after[0] == (byte)'{'
            ? CurveFileFormat.JsonLines : CurveFileFormat.Json;
    }

    private static string Decode(ReadOnlySpan<byte> b) => Encoding.UTF8.GetString(b.StartsWith("\uFEFF"u8) ? b[3..] : b);
}
