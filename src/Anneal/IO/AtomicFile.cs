using System.Text;

namespace Anneal.IO;

/// <summary>
/// Writes files all-or-nothing: content goes to a temporary file beside the target, which is then
/// renamed over it, so a crash or a failed write never leaves a partly written output.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="write"/>'s output to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) throw new InputException($"{path}: folder '{dir}' does not exist; create it first or choose another output path");
        var tmp = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Environment.ProcessId + ".tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>Writes UTF-8 text (no BOM) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => { var b = new UTF8Encoding(false).GetBytes(text); s.Write(b, 0, b.Length); });

    /// <summary>Writes through a <see cref="TextWriter"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteText(string path, Action<TextWriter> write) =>
        Write(path, s => { using var w = new StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true); write(w); });
}
