using System.Text;

namespace Dynamo.Runtime.Gguf;

/// <summary>
/// Writes GGUF v3 files: typed metadata (scalars, strings, arrays), tensor infos and
/// tensor data aligned to <c>general.alignment</c>. Everything is little-endian.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<Entry> _metadata = [];
    private readonly List<Tensor> _tensors = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);

    public GgufWriter(int alignment = GgmlTypeInfo.DefaultAlignment)
    {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "Alignment must be a positive power of two.");
        }

        Alignment = alignment;
        if (alignment != GgmlTypeInfo.DefaultAlignment)
        {
            Add("general.alignment", (uint)alignment);
        }
    }

    public int Alignment { get; }

    public void Add(string key, string value) => AddEntry(key, GgufValueType.String, value ?? throw new ArgumentNullException(nameof(value)));

    public void Add(string key, bool value) => AddEntry(key, GgufValueType.Bool, value);

    public void Add(string key, byte value) => AddEntry(key, GgufValueType.UInt8, value);

    public void Add(string key, sbyte value) => AddEntry(key, GgufValueType.Int8, value);

    public void Add(string key, ushort value) => AddEntry(key, GgufValueType.UInt16, value);

    public void Add(string key, short value) => AddEntry(key, GgufValueType.Int16, value);

    public void Add(string key, uint value) => AddEntry(key, GgufValueType.UInt32, value);

    public void Add(string key, int value) => AddEntry(key, GgufValueType.Int32, value);

    public void Add(string key, ulong value) => AddEntry(key, GgufValueType.UInt64, value);

    public void Add(string key, long value) => AddEntry(key, GgufValueType.Int64, value);

    public void Add(string key, float value) => AddEntry(key, GgufValueType.Float32, value);

    public void Add(string key, double value) => AddEntry(key, GgufValueType.Float64, value);

    public void AddArray(string key, IReadOnlyList<string> values) => AddEntry(key, GgufValueType.Array, values.ToArray(), GgufValueType.String);

    /// <summary>An array of a numeric element type (byte, sbyte, short, ushort, int, uint, long, ulong, float, double, bool).</summary>
    public void AddArray<T>(string key, ReadOnlySpan<T> values)
        where T : unmanaged => AddEntry(key, GgufValueType.Array, values.ToArray(), ElementType<T>());

    /// <summary>Adds a value as <see cref="GgufReader"/> read it, to copy metadata from one file into another.</summary>
    /// <exception cref="NotSupportedException">An array of arrays, which this writer does not write.</exception>
    public void Add(string key, GgufMetadataValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        switch (value.Value)
        {
            case GgufStringArray strings:
                AddArray(key, strings.ToArray());
                break;
            case GgufMetadataValue[]:
                throw new NotSupportedException($"Metadata '{key}' is an array of arrays, which GgufWriter does not write.");
            default:
                AddEntry(key, value.Type, value.Value, value.IsArray ? value.ElementType : GgufValueType.UInt8);
                break;
        }
    }

    /// <summary>Adds a tensor; <paramref name="shape"/> lists ne0 (the contiguous dimension) first, as GGUF does.</summary>
    public void AddTensor(string name, ReadOnlySpan<long> shape, GgmlType type, ReadOnlyMemory<byte> data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (shape.Length is < 1 or > 4)
        {
            throw new ArgumentException($"Tensor '{name}' needs 1 to 4 dimensions, got {shape.Length}.", nameof(shape));
        }

        long elements = 1;
        foreach (var d in shape)
        {
            if (d <= 0)
            {
                throw new ArgumentException($"Tensor '{name}' has a non-positive dimension {d}.", nameof(shape));
            }

            elements = checked(elements * d);
        }

        var (blockElements, _) = GgmlTypeInfo.Geometry(type);
        if (shape[0] % blockElements != 0)
        {
            throw new ArgumentException($"Tensor '{name}' row length {shape[0]} is not a multiple of the {type} block size {blockElements}.", nameof(shape));
        }

        var expected = GgmlTypeInfo.ByteSize(type, elements);
        if (data.Length != expected)
        {
            throw new ArgumentException($"Tensor '{name}' of {elements} {type} elements needs {expected} bytes, got {data.Length}.", nameof(data));
        }

        if (!_tensorNames.Add(name))
        {
            throw new ArgumentException($"Tensor '{name}' was already added.", nameof(name));
        }

        _tensors.Add(new Tensor(name, shape.ToArray(), type, data));
    }

    public void WriteTo(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        WriteTo(stream);
    }

    public void WriteTo(Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(GgmlTypeInfo.GgufMagic);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var e in _metadata)
        {
            WriteString(w, e.Key);
            w.Write((uint)e.Type);
            WriteValue(w, e.Type, e.ElementType, e.Value);
        }

        long offset = 0;
        foreach (var t in _tensors)
        {
            WriteString(w, t.Name);
            w.Write((uint)t.Shape.Length);
            foreach (var d in t.Shape)
            {
                w.Write((ulong)d);
            }

            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offset = Align(offset + t.Data.Length);
        }

        w.Flush();
        Pad(w, stream.Position);
        foreach (var t in _tensors)
        {
            w.Write(t.Data.Span);
            Pad(w, t.Data.Length);
        }

        w.Flush();
    }

    private long Align(long n) => (n + Alignment - 1) / Alignment * Alignment;

    private void Pad(BinaryWriter w, long written)
    {
        var padding = (int)(Align(written) - written);
        Span<byte> zeros = stackalloc byte[padding];
        zeros.Clear();
        w.Write(zeros);
    }

    private void AddEntry(string key, GgufValueType type, object value, GgufValueType elementType = GgufValueType.UInt8)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (!_keys.Add(key))
        {
            throw new ArgumentException($"Metadata key '{key}' was already added.", nameof(key));
        }

        _metadata.Add(new Entry(key, type, value, elementType));
    }

    private static GgufValueType ElementType<T>()
        where T : unmanaged => default(T) switch
        {
            byte => GgufValueType.UInt8,
            sbyte => GgufValueType.Int8,
            ushort => GgufValueType.UInt16,
            short => GgufValueType.Int16,
            uint => GgufValueType.UInt32,
            int => GgufValueType.Int32,
            ulong => GgufValueType.UInt64,
            long => GgufValueType.Int64,
            float => GgufValueType.Float32,
            double => GgufValueType.Float64,
            bool => GgufValueType.Bool,
            _ => throw new NotSupportedException($"GGUF arrays cannot hold {typeof(T).Name} elements."),
        };

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValueType type, GgufValueType elementType, object value)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write((byte)value); break;
            case GgufValueType.Int8: w.Write((sbyte)value); break;
            case GgufValueType.UInt16: w.Write((ushort)value); break;
            case GgufValueType.Int16: w.Write((short)value); break;
            case GgufValueType.UInt32: w.Write((uint)value); break;
            case GgufValueType.Int32: w.Write((int)value); break;
            case GgufValueType.UInt64: w.Write((ulong)value); break;
            case GgufValueType.Int64: w.Write((long)value); break;
            case GgufValueType.Float32: w.Write((float)value); break;
            case GgufValueType.Float64: w.Write((double)value); break;
            case GgufValueType.Bool: w.Write((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)value); break;
            case GgufValueType.Array:
                var array = (Array)value;
                w.Write((uint)elementType);
                w.Write((ulong)array.Length);
                foreach (var item in array)
                {
                    WriteValue(w, elementType, GgufValueType.UInt8, item!);
                }

                break;
            default:
                throw new NotSupportedException($"GGUF value type {type} cannot be written.");
        }
    }

    private sealed record Entry(string Key, GgufValueType Type, object Value, GgufValueType ElementType);

    private sealed record Tensor(string Name, long[] Shape, GgmlType Type, ReadOnlyMemory<byte> Data);
}
