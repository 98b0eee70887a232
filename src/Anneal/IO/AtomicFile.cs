using System.Text;

namespace Anneal.IO;

/// <summary>
/// Writes files all-or-nothing: content goes to a temporary file beside the target, which is then
/// renamed over it, so a crash or a failed write never leaves a partly written output. An output that is a
/// symbolic link is written through it (the file it points to is replaced, the link stays), and a replaced
/// file keeps its permission bits (the temporary file gets them before the rename).
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
        full = LinkTarget(full, $"{what} {path}");
        if (Directory.Exists(full)) throw new InputException($"{what} {path}: is a link to the folder '{full}'; give a file name");
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
                var full = LinkTarget(Path.GetFullPath(path), path);
                var dir = Path.GetDirectoryName(full)!;
                if (!Directory.Exists(dir)) throw new InputException($"{path}: folder '{dir}' does not exist; create it first or choose another output path");
                var tmp = TempFor(full);
                temps.Add((tmp, full));
                // Unbuffered file under a tagging stream under the buffer: every failure of the file system (a full
                // disk, a size limit, a folder gone read-only) reaches the catch below as an OutputFileFailure,
                // while an exception of the writer itself (a bug) passes through as it is.
                using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 0))
                {
                    var tagged = new FailureTaggingStream(fs);
                    using (var buffered = new BufferedStream(tagged, 1 << 16))
                    {
                        write(buffered);
                        buffered.Flush();
                    }
                    tagged.FlushToDisk();
                }
                // the replaced file's permissions carry over (a shared 0664 log, a private 0600 law file)
                if (!OperatingSystem.IsWindows() && File.Exists(full)) File.SetUnixFileMode(tmp, File.GetUnixFileMode(full));
            }
            foreach (var (tmp, full) in temps) File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a full disk or a folder turned read-only meanwhile: the targets are untouched, say so
            foreach (var (tmp, _) in temps) { try { File.Delete(tmp); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { } }
            var why = e is OutputFileFailure f ? f.Reason : e.Message;
            throw new OutputWriteException(outputs.Count == 1
                ? $"{outputs[0].Path}: cannot write ({why}); the file was left unchanged"
                : $"cannot write {string.Join(", ", outputs.Select(o => o.Path))} ({why}); the files were left unchanged",
                outputs.Select(o => o.Path).ToArray());
        }
        catch
        {
            foreach (var (tmp, _) in temps) { try { File.Delete(tmp); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { } }
            throw;
        }
    }

    /// <summary>
    /// The file a path names once symbolic links are followed: writing replaces that file and leaves the links,
    /// so an output reached through a link (a shared results folder, <c>latest.csv -&gt; run-7.csv</c>) is updated
    /// where it lives. A link that points to itself or in a circle is bad input, named by <paramref name="what"/>.
    /// </summary>
    private static string LinkTarget(string full, string what)
    {
        try
        {
            var info = new FileInfo(full);
            if (info.LinkTarget is null) return full;
            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            return target is null ? full : Path.GetFullPath(target.FullName);
        }
        catch (IOException e)
        {
            throw new InputException($"{what}: is a symbolic link that cannot be followed ({e.Message}); give the file itself");
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

    /// <summary>A failure of the file system under a write (not of the code producing the content).</summary>
    private sealed class OutputFileFailure(string reason, Exception inner) : IOException(reason, inner)
    {
        public string Reason { get; } = reason;
    }

    /// <summary>
    /// Passes writes to a file and turns each failure of the file system into an <see cref="OutputFileFailure"/>:
    /// besides IOException (ENOSPC, EIO, EROFS) .NET reports a file outgrowing the process's size limit (EFBIG) as an
    /// ArgumentOutOfRangeException, which must not read as a bug.
    /// </summary>
    private sealed class FailureTaggingStream(FileStream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Guard(() => inner.Write(buffer, offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            try { inner.Write(buffer); }
            catch (Exception e) when (Tag(e) is { } t) { throw t; }
        }
        public override void Flush() => Guard(inner.Flush);
        public void FlushToDisk() => Guard(() => inner.Flush(flushToDisk: true));

        private static void Guard(Action a)
        {
            try { a(); }
            catch (Exception e) when (Tag(e) is { } t) { throw t; }
        }

        private static OutputFileFailure? Tag(Exception e) => e switch
        {
            OutputFileFailure => null,
            ArgumentOutOfRangeException => new("the file is larger than the file system or this process's file size limit allows", e),
            IOException or UnauthorizedAccessException => new(e.Message, e),
            _ => null,
        };
    }
}

/// <summary>
/// An output could not be written (a full disk, a size limit, a folder that became read-only); every output of the
/// write was left as it was. <see cref="Paths"/> names them, so a caller can say what else is intact and what to do.
/// </summary>
public sealed class OutputWriteException(string message, IReadOnlyList<string> paths) : InputException(message)
{
    /// <summary>The outputs of the failed write, as given.</summary>
    public IReadOnlyList<string> Paths { get; } = paths;
}
