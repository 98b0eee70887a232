using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Anneal.IO;
using Anneal.Training.Optim;

namespace Anneal.Training;

/// <summary>
/// A run's state after <see cref="Step"/> updates, captured for a checkpoint file: the settings header, the log's state
/// (written rows, the pending row, the loss window) and copies of every parameter and optimizer array, so that training
/// can go on while a subscriber writes it (<see cref="CheckpointWriter"/>). <see cref="Save"/> writes the file that
/// <see cref="TrainConfig.Resume"/> and <see cref="TrainConfig.BranchFrom"/> read.
/// </summary>
public sealed class TrainCheckpoint
{
    private readonly string _header;
    private readonly long _optimizerSteps;
    private readonly string[] _rows;
    private readonly string _pending;
    private readonly double _windowSum;
    private readonly int _windowCount;
    private readonly (string Name, float[] Values)[] _arrays;
    // Deliveries not yet handled by a subscriber, plus the trainer's own hold while it publishes; at zero the
    // stream's slot (its bound on captured checkpoints) is free again.
    private int _deliveries = 1;

    private TrainCheckpoint(string header, long step, double seconds, long optimizerSteps, string[] rows, string pending, double windowSum, int windowCount, (string, float[])[] arrays)
    {
        _header = header; Step = step; Seconds = seconds; _optimizerSteps = optimizerSteps; _rows = rows; _pending = pending;
        _windowSum = windowSum; _windowCount = windowCount; _arrays = arrays;
    }

    /// <summary>Updates done (the model after updates 0..Step-1).</summary>
    public long Step { get; }

    /// <summary>Run wall clock at the capture (resumed runs included).</summary>
    public double Seconds { get; }

    internal static TrainCheckpoint Capture(JsonObject header, long step, double seconds, IReadOnlyList<TrainLogRow> rows, TrainLogRow pending, LossWindow window,
        IReadOnlyList<Tensor<float>> ps, Optimizer<float> opt) =>
        new(header.ToJsonString(), step, seconds, opt.StepCount, rows.Select(r => r.ToCsv()).ToArray(), pending.ToCsv(""), window.Sum, window.Count,
            ps.Select(p => (p.Name ?? "?", (float[])p.Data.Clone())).Concat(opt.State().Select(a => (a.Name, (float[])a.Values.Clone()))).ToArray());

    /// <summary>Writes the checkpoint file atomically (a kill mid-write leaves the previous file intact).</summary>
    public void Save(string path) => AtomicFile.Write(path, file =>
    {
        // every byte goes through the hash on its way to the file; the hash itself comes last
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        using (var s = new HashingStream(file, sha))
        using (var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true))
            WriteContent(w);
        file.Write(sha.GetHashAndReset());
    });

    private void WriteContent(BinaryWriter w)
    {
        w.Write(Encoding.ASCII.GetBytes(Checkpoint.Magic)); w.Write(Checkpoint.Version);
        w.Write(_header); w.Write(Step); w.Write(Seconds); w.Write(_optimizerSteps);
        w.Write(_rows.Length); foreach (var r in _rows) w.Write(r);
        w.Write(_pending);
        w.Write(_windowSum); w.Write(_windowCount);
        w.Write(_arrays.Length);
        foreach (var (name, values) in _arrays) { w.Write(name); w.Write(values.Length); w.Write(MemoryMarshal.AsBytes(values.AsSpan())); }
    }

    /// <summary>A write-only stream that hashes what it passes on to <c>inner</c> (left open).</summary>
    private sealed class HashingStream(Stream inner, System.Security.Cryptography.IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer) { hash.AppendData(buffer); inner.Write(buffer); }
    }

    internal void AddDelivery() => Interlocked.Increment(ref _deliveries);

    internal void RemoveDelivery(TrainEventStream stream)
    {
        if (Interlocked.Decrement(ref _deliveries) == 0) stream.ReleaseCheckpointSlot();
    }
}
