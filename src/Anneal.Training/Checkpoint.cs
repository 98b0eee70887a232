using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Anneal.Training.Optim;

namespace Anneal.Training;

/// <summary>
/// Checkpoint file: "ANNEALCK", format version, the run header (JSON; must match on resume, all but the schedule
/// for a branch), step, elapsed seconds, optimizer step count, the written CSV rows so far, the last update's row
/// without its loss (empty string if none), the loss window (sum, count) of the rows not yet written, then every
/// parameter and optimizer state array as raw little-endian floats, and last the SHA-256 of every byte before it, so a
/// corrupted file (a flipped bit, a truncated copy) is refused before anything is read from it.
/// Written atomically (<see cref="TrainCheckpoint.Save"/>), so a kill mid-write leaves the previous checkpoint intact.
/// </summary>
internal static class Checkpoint
{
    internal const string Magic = "ANNEALCK";
    // 2: rows follow the laws' step convention and the last update's row (without its loss) is stored apart
    // 3: the loss window of log_every and the header's eval_every and log_every
    // 4: a SHA-256 of the content at the end
    internal const int Version = 4;

    /// <summary>Bytes of the trailing checksum.</summary>
    internal const int ChecksumBytes = 32;

    /// <summary>
    /// Checks the trailing SHA-256 of the checkpoint at <paramref name="path"/> against its content (streamed: the
    /// file is never held in memory). Throws <see cref="InputException"/> when it differs, so a corrupted checkpoint
    /// is refused before a run resumes or branches from it and the run's files stay as they are.
    /// </summary>
    public static void Verify(string path)
    {
        using var f = OpenStream(path);
        var head = new byte[Magic.Length + 4];
        int got = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (got < head.Length || Encoding.ASCII.GetString(head, 0, Magic.Length) != Magic)
            throw new InputException($"{path}: not an Anneal checkpoint (no ANNEALCK header); give the .ckpt file a run wrote");
        int version = BitConverter.ToInt32(head, Magic.Length);
        if (version != Version)
            throw new InputException($"{path}: checkpoint format {version}, this Anneal reads format {Version}" +
                (version < Version ? " (written by an earlier Anneal, before checkpoints carried a checksum); it cannot be resumed or branched from: delete it and restart the run" : "; use the Anneal that wrote it"));
        if (f.Length < head.Length + ChecksumBytes) throw new InputException($"{path}: checkpoint is truncated; delete it and restart the run");
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        sha.AppendData(head);
        long left = f.Length - head.Length - ChecksumBytes;
        var buf = new byte[1 << 20];
        while (left > 0)
        {
            int n = f.Read(buf, 0, (int)Math.Min(buf.Length, left));
            if (n <= 0) throw new InputException($"{path}: checkpoint is truncated; delete it and restart the run");
            sha.AppendData(buf, 0, n);
            left -= n;
        }
        var stored = new byte[ChecksumBytes];
        f.ReadExactly(stored);
        if (!sha.GetHashAndReset().AsSpan().SequenceEqual(stored))
            throw new InputException($"{path}: checkpoint is corrupted (its SHA-256 checksum does not match its content); nothing was resumed and the run's files are unchanged. Restore an intact copy, branch from an earlier checkpoint, or delete it and restart the run");
    }

    /// <summary>The run header and step of the checkpoint at <paramref name="path"/>, without its rows and arrays.</summary>
    public static (JsonObject Header, long Step) ReadHeader(string path)
    {
        using var r = Open(path);
        var header = ReadHeaderJson(r, path);
        return (header, Read(path, r.ReadInt64));
    }

    public static (long Step, double Seconds, List<TrainLogRow> Rows, Pending? Pending, LossWindow Window) Load(string path, JsonObject header, IReadOnlyList<Tensor<float>> ps, Optimizer<float> opt, bool branch)
    {
        using var r = Open(path);
        var saved = ReadHeaderJson(r, path);
        // a branch changes the schedule (checked step by step in Trainer.BranchPoint); everything else must match
        var diffs = header.Where(kv => !(branch && kv.Key == "schedule") && saved[kv.Key]?.ToJsonString() != kv.Value?.ToJsonString())
            .Select(kv => $"{kv.Key}: checkpoint has {saved[kv.Key]?.ToJsonString() ?? "nothing"}, this run has {kv.Value?.ToJsonString()}").ToList();
        if (diffs.Count > 0)
            throw new InputException($"{path}: {(branch ? "a branch needs the parent run's settings (all but the schedule and steps)" : "resume needs the same settings as the checkpointed run")}; differences: {string.Join("; ", diffs)}");
        return Read(path, () =>
        {
            long step = r.ReadInt64(); double seconds = r.ReadDouble(); opt.StepCount = r.ReadInt64();
            var rows = new List<TrainLogRow>(); int nr = r.ReadInt32(); for (int i = 0; i < nr; i++) rows.Add(ParseRow(path, r.ReadString()));
            string pending = r.ReadString();
            var window = new LossWindow { Sum = r.ReadDouble(), Count = r.ReadInt32() };
            var arrays = ps.Select(p => (p.Name ?? "?", p.Data)).Concat(opt.State()).ToList();
            int n = r.ReadInt32();
            if (n != arrays.Count) throw new InputException($"{path}: holds {n} arrays, the model and optimizer need {arrays.Count}");
            foreach (var (name, values) in arrays)
            {
                string sn = r.ReadString(); int len = r.ReadInt32();
                if (sn != name || len != values.Length) throw new InputException($"{path}: array '{sn}' ({len}) where '{name}' ({values.Length}) was expected");
                var bytes = MemoryMarshal.AsBytes(values.AsSpan());
                r.BaseStream.ReadExactly(bytes);
            }
            // the pending row's own forward-pass loss and throughput were measured before the checkpoint: unknown here
            return (step, seconds, rows, pending.Length == 0 ? null : new Pending(ParseRow(path, pending), double.NaN, double.NaN), window);
        });
    }

    private static TrainLogRow ParseRow(string path, string line)
    {
        try { return TrainLogRow.Parse(line); }
        catch (FormatException) { throw new InputException($"{path}: the checkpoint holds a malformed log row '{line}'; delete it and restart the run"); }
    }

    private static BinaryReader Open(string path)
    {
        Verify(path);
        return new BinaryReader(OpenStream(path), Encoding.UTF8);
    }

    private static FileStream OpenStream(string path)
    {
        try { return File.OpenRead(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new InputException($"{path}: cannot read the checkpoint: {e.Message}"); }
    }

    private static JsonObject ReadHeaderJson(BinaryReader r, string path) => Read(path, () =>
    {
        if (Encoding.ASCII.GetString(r.ReadBytes(Magic.Length)) != Magic || r.ReadInt32() != Version)
            throw new InputException($"{path}: not an Anneal checkpoint of format {Version} (checkpoints of earlier versions cannot be resumed or branched from); delete it and restart the run");
        return (JsonObject)JsonNode.Parse(r.ReadString())!;
    });

    private static T Read<T>(string path, Func<T> read)
    {
        try { return read(); }
        catch (EndOfStreamException) { throw new InputException($"{path}: checkpoint is truncated; delete it and restart the run"); }
    }
}
