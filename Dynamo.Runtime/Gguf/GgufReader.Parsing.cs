using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Dynamo.Runtime.Gguf;

public sealed partial class GgufReader
{
    // Chat templates are the longest strings in practice (tens of KB); without a known file length nothing larger
    // than this is believed.
    private const ulong MaxStringWithoutLength = 64 << 20;

    private static GgufReader Parse(Stream stream, SafeFileHandle? file, Stream? keptStream, long baseOffset)
    {
        var r = new GgufBinaryReader(stream);
        if (r.Remaining < 24)
        {
            throw new InvalidDataException($"GGUF file is truncated: {r.Remaining} bytes is shorter than the 24-byte header.");
        }

        var magic = r.ReadUInt32();
        if (magic != GgmlTypeInfo.GgufMagic)
        {
            throw new InvalidDataException($"Not a GGUF file: magic is 0x{magic:X8}, expected 0x{GgmlTypeInfo.GgufMagic:X8} (\"GGUF\").");
        }

        var version = r.ReadUInt32();
        if (version is not (2 or 3))
        {
            throw new InvalidDataException((version & 0xFFFF) == 0 && version != 0
                ? $"GGUF version field 0x{version:X8} looks big-endian; big-endian GGUF files are not supported."
                : $"GGUF version {version} is not supported (only versions 2 and 3).");
        }

        var tensorCount = r.ReadUInt64();
        var kvCount = r.ReadUInt64();
        r.EnsurePlausible(kvCount, 8 + 1 + 4, "metadata key/value");
        r.EnsurePlausible(tensorCount, 8 + 4 + 4 + 8, "tensor");

        var metadata = new List<KeyValuePair<string, GgufMetadataValue>>((int)kvCount);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < kvCount; i++)
        {
            var key = ReadString(r, "metadata key");
            if (!seen.Add(key))
            {
                throw new InvalidDataException($"GGUF metadata key '{key}' appears twice.");
            }

            var type = ReadValueType(r, key);
            metadata.Add(new(key, ReadValue(r, type, key, depth: 0)));
        }

        var alignment = GgmlTypeInfo.DefaultAlignment;
        if (metadata.Find(kv => kv.Key == "general.alignment").Value is { } alignValue)
        {
            if (alignValue.Type != GgufValueType.UInt32 || alignValue.AsUInt32() is var a && (a == 0 || (a & (a - 1)) != 0 || a > 1 << 20))
            {
                throw new InvalidDataException($"GGUF general.alignment must be a power-of-two UInt32, got {alignValue.Type} {alignValue}.");
            }

            alignment = (int)alignValue.AsUInt32();
        }

        var tensors = new List<GgufTensorInfo>((int)tensorCount);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
        {
            tensors.Add(ReadTensorInfo(r, alignment, names));
        }

        var dataOffset = (r.Position + alignment - 1) / alignment * alignment;
        if (r.Length is { } length)
        {
            foreach (var t in tensors)
            {
                if (Enum.IsDefined(t.Type) && dataOffset + (long)t.Offset + t.ByteSize > length)
                {
                    throw new InvalidDataException(
                        $"GGUF tensor '{t.Name}' ends at {dataOffset + (long)t.Offset + t.ByteSize} but the file has {length} bytes (truncated).");
                }
            }
        }

        return new GgufReader(version, metadata, tensors, alignment, dataOffset, file, keptStream, baseOffset);
    }

    private static GgufTensorInfo ReadTensorInfo(GgufBinaryReader r, int alignment, HashSet<string> names)
    {
        var name = ReadString(r, "tensor name");
        if (!names.Add(name))
        {
            throw new InvalidDataException($"GGUF tensor '{name}' appears twice.");
        }

        var nDims = r.ReadUInt32();
        if (nDims > MaxDimensions)
        {
            throw new InvalidDataException($"GGUF tensor '{name}' has {nDims} dimensions; at most {MaxDimensions} are allowed.");
        }

        var dims = new long[nDims];
        long elements = 1;
        for (var d = 0; d < dims.Length; d++)
        {
            var dim = r.ReadUInt64();
            if (dim > long.MaxValue || (dim > 0 && elements > long.MaxValue / (long)dim))
            {
                throw new InvalidDataException($"GGUF tensor '{name}' dimension {d} = {dim} overflows the element count.");
            }

            dims[d] = (long)dim;
            elements *= (long)dim;
        }

        var type = (GgmlType)r.ReadUInt32();
        var offset = r.ReadUInt64();
        if (offset % (ulong)alignment != 0 || offset > long.MaxValue)
        {
            throw new InvalidDataException($"GGUF tensor '{name}' data offset {offset} is not a multiple of the alignment {alignment}.");
        }

        return new GgufTensorInfo(name, dims, type, offset);
    }

    private static GgufValueType ReadValueType(GgufBinaryReader r, string key)
    {
        var raw = r.ReadUInt32();
        return raw <= (uint)GgufValueType.Float64
            ? (GgufValueType)raw
            : throw new InvalidDataException($"GGUF metadata '{key}' has unknown value type {raw} at offset {r.Position - 4}.");
    }

    private static GgufMetadataValue ReadValue(GgufBinaryReader r, GgufValueType type, string key, int depth) => type switch
    {
        GgufValueType.UInt8 => new(type, r.ReadByte()),
        GgufValueType.Int8 => new(type, (sbyte)r.ReadByte()),
        GgufValueType.UInt16 => new(type, r.ReadUInt16()),
        GgufValueType.Int16 => new(type, (short)r.ReadUInt16()),
        GgufValueType.UInt32 => new(type, r.ReadUInt32()),
        GgufValueType.Int32 => new(type, (int)r.ReadUInt32()),
        GgufValueType.Float32 => new(type, r.ReadSingle()),
        GgufValueType.Bool => new(type, ReadBool(r, key)),
        GgufValueType.String => new(type, ReadString(r, key)),
        GgufValueType.UInt64 => new(type, r.ReadUInt64()),
        GgufValueType.Int64 => new(type, (long)r.ReadUInt64()),
        GgufValueType.Float64 => new(type, r.ReadDouble()),
        GgufValueType.Array => ReadArray(r, key, depth),
        _ => throw new InvalidDataException($"GGUF metadata '{key}' has unknown value type {(uint)type}."),
    };

    private static GgufMetadataValue ReadArray(GgufBinaryReader r, string key, int depth)
    {
        if (depth >= MaxNestingDepth)
        {
            throw new InvalidDataException($"GGUF metadata '{key}' nests arrays deeper than {MaxNestingDepth} levels.");
        }

        var elementType = ReadValueType(r, key);
        var count = r.ReadUInt64();
        r.EnsurePlausible(count, MinEncodedSize(elementType), $"array '{key}' element");
        var n = (int)count;
        object value = elementType switch
        {
            GgufValueType.UInt8 => ReadScalars<byte>(r, n),
            GgufValueType.Int8 => ReadScalars<sbyte>(r, n),
            GgufValueType.UInt16 => ReadScalars<ushort>(r, n),
            GgufValueType.Int16 => ReadScalars<short>(r, n),
            GgufValueType.UInt32 => ReadScalars<uint>(r, n),
            GgufValueType.Int32 => ReadScalars<int>(r, n),
            GgufValueType.Float32 => ReadScalars<float>(r, n),
            GgufValueType.UInt64 => ReadScalars<ulong>(r, n),
            GgufValueType.Int64 => ReadScalars<long>(r, n),
            GgufValueType.Float64 => ReadScalars<double>(r, n),
            GgufValueType.Bool => ReadBools(r, n, key),
            GgufValueType.String => ReadStringArray(r, n, key),
            _ => ReadNestedArrays(r, n, key, depth),
        };
        return new GgufMetadataValue(GgufValueType.Array, value, elementType);
    }

    private static T[] ReadScalars<T>(GgufBinaryReader r, int count)
        where T : unmanaged
    {
        var values = new T[count];
        r.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("GGUF reading needs a little-endian machine.");
        }

        return values;
    }

    private static bool[] ReadBools(GgufBinaryReader r, int count, string key)
    {
        var values = new bool[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = ReadBool(r, key);
        }

        return values;
    }

    private static GgufMetadataValue[] ReadNestedArrays(GgufBinaryReader r, int count, string key, int depth)
    {
        var values = new GgufMetadataValue[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = ReadArray(r, key, depth + 1);
        }

        return values;
    }

    private static GgufStringArray ReadStringArray(GgufBinaryReader r, int count, string key)
    {
        var offsets = new int[count + 1];
        var blob = new byte[Math.Min(count * 8L + 64, 1 << 20)];
        var used = 0;
        for (var i = 0; i < count; i++)
        {
            var length = ReadStringLength(r, key);
            if (used + length > blob.Length)
            {
                var grown = Math.Max(used + length, (int)Math.Min(blob.Length * 2L, Array.MaxLength));
                Array.Resize(ref blob, grown);
            }

            r.ReadExactly(blob.AsSpan(used, length));
            used += length;
            offsets[i + 1] = used;
        }

        Array.Resize(ref blob, used);
        return new GgufStringArray(blob, offsets);
    }

    private static string ReadString(GgufBinaryReader r, string what)
    {
        var length = ReadStringLength(r, what);
        if (length <= 1024)
        {
            Span<byte> small = stackalloc byte[length];
            r.ReadExactly(small);
            return Decode(small);
        }

        var bytes = new byte[length];
        r.ReadExactly(bytes);
        return Decode(bytes);
    }

    private static int ReadStringLength(GgufBinaryReader r, string what)
    {
        var length = r.ReadUInt64();
        if (length > int.MaxValue || (long)length > r.Remaining || (r.Length is null && length > MaxStringWithoutLength))
        {
            throw new InvalidDataException(
                $"GGUF string length {length} for {what} at offset {r.Position - 8} exceeds the {r.Remaining} bytes remaining (file truncated or corrupt).");
        }

        return (int)length;
    }

    // gguf.cpp does not validate UTF-8 either; scalar strings decode with replacement characters, while array
    // strings (token vocabularies, which may hold partial UTF-8 sequences) keep their raw bytes.
    private static string Decode(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

    private static bool ReadBool(GgufBinaryReader r, string key)
    {
        var b = r.ReadByte();
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw new InvalidDataException($"GGUF metadata '{key}' holds bool byte {b}; only 0 and 1 are valid."),
        };
    }

    private static long MinEncodedSize(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
        _ => 12, // nested array: element type + count
    };
}
