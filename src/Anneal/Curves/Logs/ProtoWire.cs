using System.Buffers.Binary;

namespace Anneal.Curves.Logs;

/// <summary>
/// A minimal reader of the protocol-buffer wire format (varint, 64-bit, length-delimited, 32-bit
/// fields), enough for TensorBoard's Event, Summary and TensorProto messages. Hand-written rather than
/// generated so reading a million events allocates nothing per field; unknown fields are skipped,
/// and malformed input throws <see cref="FormatException"/> for the caller to name the record.
/// </summary>
internal ref struct ProtoReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _pos;

    /// <summary>Wire types of the protobuf encoding.</summary>
    public const int Varint = 0, Fixed64 = 1, Bytes = 2, Fixed32 = 5;

    public readonly bool End => _pos >= _data.Length;

    /// <summary>Reads the next field key; false at the end of the message.</summary>
    public bool Next(out int field, out int wireType)
    {
        if (_pos >= _data.Length) { field = 0; wireType = 0; return false; }
        ulong key = ReadVarint();
        field = (int)(key >> 3);
        wireType = (int)(key & 7);
        if (field == 0) throw new FormatException("field number 0");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong v = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_pos >= _data.Length) throw new FormatException("varint runs past the end of the message");
            byte b = _data[_pos++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
        throw new FormatException("varint longer than 10 bytes");
    }

    public double ReadDouble()
    {
        if (_pos + 8 > _data.Length) throw new FormatException("64-bit field runs past the end of the message");
        var v = BinaryPrimitives.ReadDoubleLittleEndian(_data[_pos..]);
        _pos += 8;
        return v;
    }

    public float ReadFloat()
    {
        if (_pos + 4 > _data.Length) throw new FormatException("32-bit field runs past the end of the message");
        var v = BinaryPrimitives.ReadSingleLittleEndian(_data[_pos..]);
        _pos += 4;
        return v;
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        ulong n = ReadVarint();
        if (n > (ulong)(_data.Length - _pos)) throw new FormatException("length-delimited field runs past the end of the message");
        var s = _data.Slice(_pos, (int)n);
        _pos += (int)n;
        return s;
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint: ReadVarint(); break;
            case Fixed64: if (_pos + 8 > _data.Length) throw new FormatException("64-bit field runs past the end"); _pos += 8; break;
            case Bytes: ReadBytes(); break;
            case Fixed32: if (_pos + 4 > _data.Length) throw new FormatException("32-bit field runs past the end"); _pos += 4; break;
            default: throw new FormatException($"unsupported wire type {wireType}");
        }
    }
}

/// <summary>Writes the same subset of the wire format (used by <see cref="TensorBoardWriter"/>).</summary>
internal sealed class ProtoWriter
{
    private byte[] _buf = new byte[64];
    private int _n;

    public int Length => _n;
    public ReadOnlySpan<byte> Span => _buf.AsSpan(0, _n);
    public void Clear() => _n = 0;

    private void Ensure(int more)
    {
        if (_n + more > _buf.Length) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _n + more));
    }

    public void Varint(ulong v)
    {
        Ensure(10);
        while (v >= 0x80) { _buf[_n++] = (byte)(v | 0x80); v >>= 7; }
        _buf[_n++] = (byte)v;
    }

    public void Key(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    public void Double(int field, double v) { Key(field, ProtoReader.Fixed64); Ensure(8); BinaryPrimitives.WriteDoubleLittleEndian(_buf.AsSpan(_n), v); _n += 8; }

    public void Float(int field, float v) { Key(field, ProtoReader.Fixed32); Ensure(4); BinaryPrimitives.WriteSingleLittleEndian(_buf.AsSpan(_n), v); _n += 4; }

    public void Int(int field, long v) { Key(field, ProtoReader.Varint); Varint((ulong)v); }

    public void Bytes(int field, ReadOnlySpan<byte> v)
    {
        Key(field, ProtoReader.Bytes);
        Varint((ulong)v.Length);
        Ensure(v.Length);
        v.CopyTo(_buf.AsSpan(_n));
        _n += v.Length;
    }
}
