using System.Buffers.Binary;

namespace Dynamo.Runtime.Gguf;

/// <summary>
/// Buffered little-endian reader over a stream that knows its absolute position and, when the stream can seek,
/// how many bytes remain — so a corrupt length field is rejected before anything is allocated for it.
/// </summary>
internal sealed class GgufBinaryReader
{
    private const ulong MaxCountWithoutLength = 1 << 26;

    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private long _consumedBeforeBuffer;

    public GgufBinaryReader(Stream stream)
    {
        _stream = stream;
        Length = stream.CanSeek ? stream.Length - stream.Position : null;
    }

    /// <summary>Bytes the GGUF content spans from its first byte, when known (seekable streams).</summary>
    public long? Length { get; }

    public long Position => _consumedBeforeBuffer + _start;

    /// <summary>Bytes left before the end of the stream, or <see cref="long.MaxValue"/> when the stream cannot tell.</summary>
    public long Remaining => Length is { } length ? length - Position : long.MaxValue;

    public byte ReadByte() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public float ReadSingle() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    /// <summary>Fills <paramref name="destination"/> completely or throws a truncation error.</summary>
    public void ReadExactly(Span<byte> destination)
    {
        while (destination.Length > 0)
        {
            if (_start == _end)
            {
                Fill(1);
            }

            var n = Math.Min(destination.Length, _end - _start);
            _buffer.AsSpan(_start, n).CopyTo(destination);
            _start += n;
            destination = destination[n..];
        }
    }

    /// <summary>Throws unless <paramref name="count"/> items of at least <paramref name="minItemBytes"/> bytes can still fit.</summary>
    public void EnsurePlausible(ulong count, long minItemBytes, string what)
    {
        // Without a known length, cap counts so a corrupt header cannot demand gigabytes of arrays up front.
        if (count > int.MaxValue || (Length is null && count > MaxCountWithoutLength))
        {
            throw new InvalidDataException($"GGUF {what} count {count} at offset {Position} is absurd (file corrupt?).");
        }

        if ((long)count * minItemBytes > Remaining)
        {
            throw new InvalidDataException(
                $"GGUF {what} count {count} at offset {Position} needs at least {(long)count * minItemBytes} bytes but only {Remaining} remain (file truncated or corrupt).");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (_end - _start < count)
        {
            Fill(count);
        }

        var span = _buffer.AsSpan(_start, count);
        _start += count;
        return span;
    }

    private void Fill(int needed)
    {
        var kept = _end - _start;
        _buffer.AsSpan(_start, kept).CopyTo(_buffer);
        _consumedBeforeBuffer += _start;
        _start = 0;
        _end = kept;
        while (_end < needed)
        {
            var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0)
            {
                throw new InvalidDataException($"GGUF file is truncated: needed {needed - _end} more byte(s) at offset {Position + _end}.");
            }

            _end += read;
        }
    }
}
