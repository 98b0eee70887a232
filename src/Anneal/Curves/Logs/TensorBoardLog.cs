using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Anneal.Curves.Logs;

/// <summary>
/// Reads TensorBoard event files (<c>events.out.tfevents.*</c>): TFRecord framing (little-endian u64 length,
/// masked CRC-32C of the length, the data, masked CRC-32C of the data), each record an <c>Event</c> protobuf
/// whose <c>summary</c> holds <c>Value</c>s with a tag and either <c>simple_value</c> (TF1, tensorboardX,
/// torch.utils.tensorboard) or a one-element <c>tensor</c> (TF2 <c>tf.summary.scalar</c>). Other values
/// (histograms, images, text) are skipped. Field numbers are those of tensorboard/compat/proto/event.proto,
/// summary.proto and tensor.proto.
/// </summary>
internal static class TensorBoardLog
{
    /// <summary>Format name in notes and <see cref="LossCurve.Format"/>.</summary>
    public const string FormatName = "TensorBoard event file";

    /// <summary>True when <paramref name="content"/> starts with a TFRecord whose length CRC checks.</summary>
    public static bool Looks(ReadOnlySpan<byte> content) =>
        content.Length >= 12 && Crc32C.Masked(content[..8]) == BinaryPrimitives.ReadUInt32LittleEndian(content[8..12]);

    /// <summary>
    /// Adds the scalars of one event file to <paramref name="log"/>. <paramref name="prefix"/> goes before every
    /// tag (Keras writes train/ and validation/ folders with the same tags). A record cut by the end of the file
    /// (a writer still running or killed) ends the read with a warning; a CRC mismatch anywhere else is an error.
    /// </summary>
    public static void Read(ReadOnlySpan<byte> content, string file, MetricLog log, string prefix = "")
    {
        log.CapacityHint = Math.Max(log.CapacityHint, CountRecords(content));
        int record = 0;
        Records(content, 0, true, file, log, prefix, [], ref record);
    }

    /// <summary>
    /// <see cref="Read(ReadOnlySpan{byte}, string, MetricLog, string)"/> from the file itself, a megabyte at a time:
    /// a 1M-event file (~80 MB) is never held in memory whole.
    /// </summary>
    public static void ReadFile(string path, MetricLog log, string prefix = "")
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
            var buf = new byte[1 << 20];
            int have = 0, record = 0;
            long offset = 0, length = f.Length;
            var tags = new List<(byte[] Tag, MetricSeries Series)>();
            bool first = true;
            while (true)
            {
                int got;
                while (have < buf.Length && (got = f.Read(buf, have, buf.Length - have)) > 0) have += got;
                bool atEnd = have < buf.Length;
                if (first)
                {
                    // size every series once: records in this first megabyte, scaled to the file
                    int n = CountRecords(buf.AsSpan(0, have));
                    log.CapacityHint = Math.Max(log.CapacityHint, have == 0 ? 0 : (int)Math.Min(int.MaxValue / 2, (long)(n * 1.05 * length / have) + 16));
                    first = false;
                }
                int used = Records(buf.AsSpan(0, have), offset, atEnd, path, log, prefix, tags, ref record);
                if (atEnd) return;
                if (used == 0)
                {
                    // one record larger than the buffer: grow it to hold that record
                    ulong len = BinaryPrimitives.ReadUInt64LittleEndian(buf);
                    Array.Resize(ref buf, (int)Math.Min(int.MaxValue - 64, Math.Max((ulong)buf.Length * 2, len + 16)));
                    continue;
                }
                Buffer.BlockCopy(buf, used, buf, 0, have - used);
                have -= used;
                offset += used;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CurveFormatException($"{path}: cannot be read ({e.Message})");
        }
    }

    /// <summary>
    /// Reads the complete records of <paramref name="content"/> (which starts at byte <paramref name="offset"/> of the
    /// file) and returns the bytes used. An incomplete last record is left for the next call, or, at the end of the
    /// file, reported as cut.
    /// </summary>
    // Optimised at once: the loop runs once per process over up to millions of records, before tiered compilation
    // would have replaced its first, unoptimised code.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Records(ReadOnlySpan<byte> content, long offset, bool atEnd, string file, MetricLog log, string prefix,
        List<(byte[] Tag, MetricSeries Series)> tags, ref int record)
    {
        int pos = 0;
        const string Fix = "The file is damaged: copy it again from where the run wrote it, or cut it before this record.";
        while (pos < content.Length)
        {
            long at = offset + pos;
            if (content.Length - pos < 12)
            {
                if (!atEnd) return pos;
                log.Warnings.Add($"{file}: the file ends inside the header of record {record + 1} (byte {at:N0}): the last record is cut (the writer may still be running); read the {record} complete records");
                return content.Length;
            }
            var header = content.Slice(pos, 12);
            uint lenCrc = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
            if (Crc32C.Masked(header[..8]) != lenCrc)
                throw new CurveFormatException($"{file}: record {record + 1} (byte {at:N0}): the length's CRC-32C does not match (stored 0x{lenCrc:x8}, computed 0x{Crc32C.Masked(header[..8]):x8}). {Fix}");
            ulong len = BinaryPrimitives.ReadUInt64LittleEndian(header);
            if (len > (ulong)(content.Length - pos - 12) || (ulong)(content.Length - pos - 12) - len < 4)
            {
                if (!atEnd) return pos;
                log.Warnings.Add($"{file}: record {record + 1} (byte {at:N0}) needs {len:N0} bytes but the file ends after {content.Length - pos - 12:N0}: the last record is cut (the writer may still be running); read the {record} complete records");
                return content.Length;
            }
            record++;
            var data = content.Slice(pos + 12, (int)len);
            uint dataCrc = BinaryPrimitives.ReadUInt32LittleEndian(content[(pos + 12 + (int)len)..]);
            if (Crc32C.Masked(data) != dataCrc)
                throw new CurveFormatException($"{file}: record {record} (byte {at:N0}): the data's CRC-32C does not match (stored 0x{dataCrc:x8}, computed 0x{Crc32C.Masked(data):x8}). {Fix}");
            try { ReadEvent(data, record, prefix, log, tags); }
            catch (FormatException e)
            {
                throw new CurveFormatException($"{file}: record {record} (byte {at:N0}): not a TensorBoard Event ({e.Message}), though its CRC checks. Is this a TFRecord file of something else? Give a TensorBoard event file (events.out.tfevents.*).");
            }
            pos += 12 + (int)len + 4;
        }
        return pos;
    }

    /// <summary>Records in the file, from the lengths alone (no checks): each series is sized once for at most this many values.</summary>
    private static int CountRecords(ReadOnlySpan<byte> content)
    {
        int n = 0;
        long pos = 0;
        while (content.Length - pos >= 12)
        {
            ulong len = BinaryPrimitives.ReadUInt64LittleEndian(content[(int)pos..]);
            if (len > (ulong)content.Length) break;
            pos += 16 + (long)len;
            n++;
        }
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReadEvent(ReadOnlySpan<byte> data, int record, string prefix, MetricLog log, List<(byte[] Tag, MetricSeries Series)> tags)
    {
        var ev = new ProtoReader(data);
        long step = 0;
        ReadOnlySpan<byte> summary = default;
        bool hasSummary = false;
        while (ev.Next(out int f, out int wt))
        {
            if (f == 2 && wt == ProtoReader.Varint) step = (long)ev.ReadVarint();
            else if (f == 5 && wt == ProtoReader.Bytes) { summary = ev.ReadBytes(); hasSummary = true; }
            else ev.Skip(wt);
        }
        if (!hasSummary) return;
        var sum = new ProtoReader(summary);
        while (sum.Next(out int f, out int wt))
        {
            if (f != 1 || wt != ProtoReader.Bytes) { sum.Skip(wt); continue; }
            var value = new ProtoReader(sum.ReadBytes());
            ReadOnlySpan<byte> tag = default;
            double v = double.NaN;
            bool scalar = false;
            while (value.Next(out int vf, out int vwt))
            {
                if (vf == 1 && vwt == ProtoReader.Bytes) tag = value.ReadBytes();
                else if (vf == 2 && vwt == ProtoReader.Fixed32) { v = value.ReadFloat(); scalar = true; }
                else if (vf == 8 && vwt == ProtoReader.Bytes) scalar = TensorScalar(value.ReadBytes(), out v);
                else value.Skip(vwt);
            }
            if (!scalar || tag.IsEmpty) continue;
            MetricSeries? series = null;
            foreach (var (t, s) in tags) if (tag.SequenceEqual(t)) { series = s; break; }
            if (series is null)
            {
                series = log.Get(prefix + Encoding.UTF8.GetString(tag));
                tags.Add((tag.ToArray(), series));
            }
            series.AddReplacing(step, v, record);
        }
    }

    /// <summary>
    /// The value of a tensor holding exactly one number (DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64, DT_HALF,
    /// DT_BFLOAT16), from its typed field or its raw little-endian <c>tensor_content</c>; false for anything else.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TensorScalar(ReadOnlySpan<byte> tensor, out double v)
    {
        v = double.NaN;
        var r = new ProtoReader(tensor);
        int dtype = 0, count = 0;
        ReadOnlySpan<byte> content = default;
        double typed = double.NaN;
        while (r.Next(out int f, out int wt))
        {
            switch (f)
            {
                case 1 when wt == ProtoReader.Varint: dtype = (int)r.ReadVarint(); break;
                case 4 when wt == ProtoReader.Bytes: content = r.ReadBytes(); break;
                case 5: count += Packed(ref r, wt, 4, b => BinaryPrimitives.ReadSingleLittleEndian(b), ref typed); break; // float_val
                case 6: count += Packed(ref r, wt, 8, b => BinaryPrimitives.ReadDoubleLittleEndian(b), ref typed); break; // double_val
                case 7 or 10 or 13: count += PackedVarint(ref r, wt, f, ref typed); break; // int_val, int64_val, half_val
                default: r.Skip(wt); break;
            }
        }
        if (count == 1)
        {
            v = dtype switch
            {
                19 => (double)BitConverter.UInt16BitsToHalf((ushort)typed), // DT_HALF stored as int bits
                14 => BitConverter.Int32BitsToSingle((int)typed << 16),      // DT_BFLOAT16 likewise
                _ => typed,
            };
            return true;
        }
        if (count > 1) return false;
        switch (dtype)
        {
            case 1 when content.Length == 4: v = BinaryPrimitives.ReadSingleLittleEndian(content); return true;
            case 2 when content.Length == 8: v = BinaryPrimitives.ReadDoubleLittleEndian(content); return true;
            case 3 when content.Length == 4: v = BinaryPrimitives.ReadInt32LittleEndian(content); return true;
            case 9 when content.Length == 8: v = BinaryPrimitives.ReadInt64LittleEndian(content); return true;
            case 19 when content.Length == 2: v = (double)BinaryPrimitives.ReadHalfLittleEndian(content); return true;
            case 14 when content.Length == 2: v = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(content) << 16); return true;
            default: return false;
        }
    }

    private delegate double Decode(ReadOnlySpan<byte> b);

    /// <summary>A repeated fixed-width field, packed or not; returns how many numbers it held.</summary>
    private static int Packed(ref ProtoReader r, int wt, int width, Decode decode, ref double last)
    {
        if (wt == ProtoReader.Bytes)
        {
            var b = r.ReadBytes();
            if (b.Length % width != 0) throw new FormatException("packed field length is not a multiple of its element size");
            if (b.Length >= width) last = decode(b[..width]);
            return b.Length / width;
        }
        if (width == 4 && wt == ProtoReader.Fixed32) { last = r.ReadFloat(); return 1; }
        if (width == 8 && wt == ProtoReader.Fixed64) { last = r.ReadDouble(); return 1; }
        r.Skip(wt);
        return 0;
    }

    private static int PackedVarint(ref ProtoReader r, int wt, int field, ref double last)
    {
        if (wt == ProtoReader.Varint) { last = AsNumber(r.ReadVarint(), field); return 1; }
        if (wt != ProtoReader.Bytes) { r.Skip(wt); return 0; }
        var inner = new ProtoReader(r.ReadBytes());
        int n = 0;
        while (!inner.End) { last = AsNumber(inner.ReadVarint(), field); n++; }
        return n;
    }

    // int32 values are sign-extended to 64 bits on the wire; half_val carries the raw 16 bits
    private static double AsNumber(ulong raw, int field) => field == 13 ? (ushort)raw : (long)raw;
}

/// <summary>
/// Writes a curve as a TensorBoard event file (the scalars <c>train/loss</c>, <c>train/learning_rate</c>,
/// <c>eval/loss</c>, <c>train/grad_norm</c>, as HF's TensorBoard callback names them, with <c>simple_value</c>),
/// so runs can be viewed in TensorBoard; the reader's tests also use it as a writer independent of any
/// Python package.
/// </summary>
public static class TensorBoardWriter
{
    /// <summary>Writes <paramref name="curve"/> to <paramref name="path"/> (atomically).</summary>
    public static void Write(LossCurve curve, string path)
    {
        var bytes = Encode(curve);
        Anneal.IO.AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>The bytes of the event file: a file_version event, then one event per logged step.</summary>
    public static byte[] Encode(LossCurve curve, double wallTimeStart = 1.7e9)
    {
        using var ms = new MemoryStream();
        var ev = new ProtoWriter();
        var sum = new ProtoWriter();
        var val = new ProtoWriter();
        ev.Double(1, wallTimeStart);
        ev.Bytes(3, "brain.Event:2"u8);
        Record(ms, ev.Span);
        for (int i = 0; i < curve.Count; i++)
        {
            sum.Clear();
            void Scalar(string tag, double[]? col)
            {
                if (col is null || double.IsNaN(col[i])) return;
                val.Clear();
                val.Bytes(1, Encoding.UTF8.GetBytes(tag));
                val.Float(2, (float)col[i]);
                sum.Bytes(1, val.Span);
            }
            Scalar("train/loss", curve.Loss);
            Scalar("train/learning_rate", curve.Lr);
            Scalar("eval/loss", curve.ValLoss);
            Scalar("train/grad_norm", curve.GradNorm);
            ev.Clear();
            ev.Double(1, wallTimeStart + i);
            ev.Int(2, curve.Steps[i]);
            ev.Bytes(5, sum.Span);
            Record(ms, ev.Span);
        }
        return ms.ToArray();
    }

    /// <summary>Appends one TFRecord: length, masked CRC of the length, data, masked CRC of the data.</summary>
    internal static void Record(Stream s, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(head, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(head[8..], Crc32C.Masked(head[..8]));
        s.Write(head);
        s.Write(data);
        Span<byte> foot = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(foot, Crc32C.Masked(data));
        s.Write(foot);
    }
}
