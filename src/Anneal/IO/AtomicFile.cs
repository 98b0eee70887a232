using System.Text;

namespace Anneal.IO;

/// <summary>
/// Writes files all-or-nothing: content goes to a temporary file beside the target, which is then
/// renamed over it, so a crash or a failed write never leaves a partly written output.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="write"/>'s output to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, Action<Stream> write) => Commit([(path, write)]);

    /// <summary>
    /// Checks, before any work starts, that <paramref name="path"/> can be written: its folder exists and
    /// is writable, and the path is not a folder. <paramref name="what"/> names the input in the message
    /// (an option, a form field).
    /// </summary>
    public static void CheckWritable(string path, string what)
    {
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException) { throw new InputException($"{what} {path}: not a valid path ({e.Message})"); }
        if (Directory.Exists(full)) throw new InputException($"{what} {path}: is a folder; give a file name inside it");
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) throw new InputException($"{what} {path}: folder '{dir}' does not exist; create it first or choose another output path");
        var probe = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Environment.ProcessId + ".probe");
        try
        {
            using (new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{what} {path}: cannot write in '{dir}' ({e.Message}); choose a writable folder");
        }
    }

    /// <summary>
    /// Checks, before any work starts, that files can be written into the folder <paramref name="path"/>: it is not
    /// a file, and it is a writable folder or its nearest existing ancestor is one (missing folders are created, with
    /// their parents, when the outputs are written). <paramref name="what"/> names the input in the message.
    /// </summary>
    public static void CheckFolder(string path, string what)
    {
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException) { throw new InputException($"{what} {path}: not a valid path ({e.Message})"); }
        if (File.Exists(full)) throw new InputException($"{what} {path}: is a file, not a folder; give a folder name");
        var dir = full;
        while (!Directory.Exists(dir))
        {
            if (File.Exists(dir)) throw new InputException($"{what} {path}: '{dir}' is a file, so the folder cannot be created; choose another output folder");
            dir = Path.GetDirectoryName(dir) ?? throw new InputException($"{what} {path}: no existing folder above it; choose another output folder");
        }
        var probe = Path.Combine(dir, ".anneal." + Environment.ProcessId + ".probe");
        try
        {
            using (new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{what} {path}: cannot write in '{dir}' ({e.Message}); choose a writable folder");
        }
    }

    /// <summary>
    /// Writes several text outputs of one command together: every temporary file is written first and
    /// only then renamed over its target, so a failure leaves every existing output untouched.
    /// </summary>
    public static void WriteAll(IReadOnlyList<(string Path, string Text)> outputs) =>
        Commit(outputs.Select(o => (o.Path, (Action<Stream>)(st => { var b = new UTF8Encoding(false).GetBytes(o.Text); st.Write(b, 0, b.Length); }))).ToArray());

    /// <summary>
    /// The one write path: every output goes to its temporary file first (flushed to disk), and only then
    /// is each renamed over its target; on any failure every temporary file is removed and no target changes.
    /// </summary>
    private static void Commit(IReadOnlyList<(string Path, Action<Stream> Write)> outputs)
    {
        var temps = new List<(string Tmp, string Full)>();
        try
        {
            foreach (var (path, write) in outputs)
            {
                var full = Path.GetFullPath(path);
                var dir = Path.GetDirectoryName(full)!;
                if (!Directory.Exists(dir)) throw new InputException($"{path}: folder '{dir}' does not exist; create it first or choose another output path");
                var tmp = TempFor(full);
                temps.Add((tmp, full));
                using var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            foreach (var (tmp, full) in temps) File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a full disk or a folder turned read-only meanwhile: the targets are untouched, say so
            foreach (var (tmp, _) in temps) { try { File.Delete(tmp); } catch (IOException) { } }
            throw new InputException(outputs.Count == 1
                ? $"{outputs[0].Path}: cannot write ({e.Message}); the file was left unchanged"
                : $"cannot write {string.Join(", ", outputs.Select(o => o.Path))} ({e.Message}); the files were left unchanged");
        }
        catch
        {
            foreach (var (tmp, _) in temps) { try { File.Delete(tmp); } catch (IOException) { } }
            throw;
        }
    }

    /// <summary>
    /// The temporary file beside <paramref name="full"/> for this process, <c>.NAME.PID.tmp</c>. Temporary files
    /// of the same target left by a process that no longer runs (killed while writing) are deleted first, so a
    /// crash never leaves a large hidden file behind for longer than the next write.
    /// </summary>
    private static string TempFor(string full)
    {
        var dir = Path.GetDirectoryName(full)!;
        var prefix = "." + Path.GetFileName(full) + ".";
        try
        {
            foreach (var stale in Directory.EnumerateFiles(dir, prefix + "*.tmp"))
            {
                var pid = Path.GetFileName(stale)[prefix.Length..^".tmp".Length];
                if (int.TryParse(pid, out var id) && id != Environment.ProcessId && !Alive(id)) File.Delete(stale);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }   // cleaning is best effort
        return Path.Combine(dir, prefix + Environment.ProcessId + ".tmp");
    }

    private static bool Alive(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>Writes UTF-8 text (no BOM) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => { var b = new UTF8Encoding(false).GetBytes(text); s.Write(b, 0, b.Length); });

    /// <summary>Writes through a <see cref="TextWriter"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteText(string path, Action<TextWriter> write) =>
        Write(path, s => { using var w = new StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true); write(w); });
}
