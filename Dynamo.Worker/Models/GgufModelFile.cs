using System.Text;
using Dynamo.Runtime.Gguf;

namespace Dynamo.Worker.Models;

/// <summary>
/// The minimal GGUF parsing the model generator needs (a vocabulary's tokenizer arrays) and the
/// engine tests need (tensor locations): metadata values boxed into a dictionary, arrays as typed
/// arrays, tensor infos with absolute file offsets. The full reader lives in Dynamo.Runtime.
/// </summary>
internal sealed class GgufModelFile
{
    private GgufModelFile(string path, Dictionary<string, object> metadata, Dictionary<string, GgufTensorInfo> tensors)
    {
        Path = path;
        Metadata = metadata;
        Tensors = tensors;
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, object> Metadata { get; }

    public IReadOnlyDictionary<string, GgufTensorInfo> Tensors { get; }

    public static GgufModelFile Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var r = new BinaryReader(stream, Encoding.UTF8);
        if (r.ReadUInt32() != GgmlTypeInfo.GgufMagic)
        {
            throw new InvalidDataException($"'{path}' is not a GGUF file.");
        }

        var version = r.ReadUInt32();
        if (version is not (2 or 3))
        {
            throw new InvalidDataException($"'{path}' has unsupported GGUF version {version}.");
        }

        var tensorCount = checked((int)r.ReadUInt64());
        var kvCount = checked((int)r.ReadUInt64());
        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        for (var i = 0; i < kvCount; i++)
        {
            var key = ReadString(r);
            metadata[key] = ReadValue(r, (GgufValueType)r.ReadUInt32());
        }

        var infos = new List<(string Name, long[] Shape, GgmlType Type, long Offset)>(tensorCount);
        for (var i = 0; i < tensorCount; i++)
        {
            var name = ReadString(r);
            var shape = new long[r.ReadUInt32()];
            for (var d = 0; d < shape.Length; d++)
            {
                shape[d] = checked((long)r.ReadUInt64());
            }

            infos.Add((name, shape, (GgmlType)r.ReadUInt32(), checked((long)r.ReadUInt64())));
        }

        var alignment = metadata.TryGetValue("general.alignment", out var a) ? Convert.ToInt64(a, null) : GgmlTypeInfo.DefaultAlignment;
        var dataStart = (stream.Position + alignment - 1) / alignment * alignment;
        var tensors = new Dictionary<string, GgufTensorInfo>(StringComparer.Ordinal);
        foreach (var (name, shape, type, offset) in infos)
        {
            var elements = shape.Aggregate(1L, (x, y) => checked(x * y));
            tensors[name] = new GgufTensorInfo(name, shape, type, dataStart + offset, GgmlTypeInfo.ByteSize(type, elements));
        }

        return new GgufModelFile(path, metadata, tensors);
    }

    public T Get<T>(string key) => Metadata.TryGetValue(key, out var v) && v is T t
        ? t
        : throw new InvalidDataException($"'{Path}' has no metadata '{key}' of type {typeof(T).Name}.");

    public byte[] ReadTensorBytes(string name)
    {
        var info = Tensors.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"'{Path}' has no tensor '{name}'.");
        using var stream = File.OpenRead(Path);
        stream.Seek(info.FileOffset, SeekOrigin.Begin);
        var bytes = new byte[info.ByteLength];
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static string ReadString(BinaryReader r)
    {
        var length = checked((int)r.ReadUInt64());
        return Encoding.UTF8.GetString(r.ReadBytes(length));
    }

    private static object ReadValue(BinaryReader r, GgufValueType type) => type switch
    {
        GgufValueType.UInt8 => r.ReadByte(),
        GgufValueType.Int8 => r.ReadSByte(),
        GgufValueType.UInt16 => r.ReadUInt16(),
        GgufValueType.Int16 => r.ReadInt16(),
        GgufValueType.UInt32 => r.ReadUInt32(),
        GgufValueType.Int32 => r.ReadInt32(),
        GgufValueType.UInt64 => r.ReadUInt64(),
        GgufValueType.Int64 => r.ReadInt64(),
        GgufValueType.Float32 => r.ReadSingle(),
        GgufValueType.Float64 => r.ReadDouble(),
        GgufValueType.Bool => r.ReadByte() != 0,
        GgufValueType.String => ReadString(r),
        GgufValueType.Array => ReadArray(r),
        _ => throw new InvalidDataException($"Invalid GGUF value type {(uint)type}."),
    };

    private static Array ReadArray(BinaryReader r)
    {
        var elementType = (GgufValueType)r.ReadUInt32();
        var count = checked((int)r.ReadUInt64());
        return elementType switch
        {
            GgufValueType.String => Fill(count, () => ReadString(r)),
            GgufValueType.Float32 => Fill(count, r.ReadSingle),
            GgufValueType.Int32 => Fill(count, r.ReadInt32),
            GgufValueType.UInt32 => Fill(count, r.ReadUInt32),
            _ => Fill(count, () => ReadValue(r, elementType)),
        };
    }

    private static T[] Fill<T>(int count, Func<T> read)
    {
        var values = new T[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = read();
        }

        return values;
    }
}

/// <summary>A tensor's GGUF shape (ne0 first), type and absolute location in the file.</summary>
internal sealed record GgufTensorInfo(string Name, long[] Shape, GgmlType Type, long FileOffset, long ByteLength);
