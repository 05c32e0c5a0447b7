using System.Text;

namespace Dynamo.Runtime.Gguf;

/// <summary>
/// One metadata value of a GGUF file: a scalar, a UTF-8 string or an array (possibly nested).
/// Arrays of numbers are held as typed arrays (<c>uint[]</c>, <c>float[]</c>, ...); arrays of strings as a
/// <see cref="GgufStringArray"/> that keeps the raw UTF-8 bytes, so a 150k-entry vocabulary costs one blob.
/// </summary>
public sealed class GgufMetadataValue
{
    internal GgufMetadataValue(GgufValueType type, object value, GgufValueType elementType = GgufValueType.Array)
    {
        Type = type;
        Value = value;
        ElementType = elementType;
    }

    public GgufValueType Type { get; }

    /// <summary>For <see cref="GgufValueType.Array"/> values: the type of the elements.</summary>
    public GgufValueType ElementType { get; }

    /// <summary>
    /// The value: a boxed scalar (<c>byte</c>, <c>sbyte</c>, <c>ushort</c>, ... <c>bool</c>), a <c>string</c>,
    /// a typed array of scalars, a <see cref="GgufStringArray"/> or a <c>GgufMetadataValue[]</c> of nested arrays.
    /// </summary>
    public object Value { get; }

    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>Number of elements of an array value.</summary>
    public int Count => Value switch
    {
        Array a => a.Length,
        GgufStringArray s => s.Count,
        _ => throw new InvalidOperationException($"A {Type} value is not an array."),
    };

    public string AsString() => Value as string ?? throw Mismatch(GgufValueType.String);

    public bool AsBool() => Value is bool b ? b : throw Mismatch(GgufValueType.Bool);

    /// <summary>Any integer type, converted when the value fits.</summary>
    public long AsInt64() => Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        ulong v => throw new InvalidDataException($"GGUF value {v} does not fit a signed 64-bit integer."),
        _ => throw Mismatch(GgufValueType.Int64),
    };

    public ulong AsUInt64() => Value switch
    {
        ulong v => v,
        _ => AsInt64() is var s && s >= 0 ? (ulong)s : throw new InvalidDataException($"GGUF value {Value} is negative; an unsigned integer was expected."),
    };

    public uint AsUInt32() => AsUInt64() is var v && v <= uint.MaxValue ? (uint)v : throw new InvalidDataException($"GGUF value {Value} does not fit a 32-bit unsigned integer.");

    public int AsInt32() => AsInt64() is var v && v is >= int.MinValue and <= int.MaxValue ? (int)v : throw new InvalidDataException($"GGUF value {Value} does not fit a 32-bit integer.");

    /// <summary>Float32 or Float64 (or an integer) as a double.</summary>
    public double AsDouble() => Value switch
    {
        float f => f,
        double d => d,
        _ => AsInt64(),
    };

    public float AsSingle() => (float)AsDouble();

    /// <summary>The elements of an array of <typeparamref name="T"/>; strings materialize as <c>string[]</c>.</summary>
    public T[] AsArray<T>()
    {
        if (Value is T[] typed)
        {
            return typed;
        }

        if (typeof(T) == typeof(string) && Value is GgufStringArray strings)
        {
            return (T[])(object)strings.ToArray();
        }

        throw new InvalidDataException(IsArray
            ? $"GGUF array of {ElementType} cannot be read as {typeof(T).Name}[]."
            : $"GGUF value of type {Type} is not an array.");
    }

    public GgufStringArray AsStringArray() => Value as GgufStringArray
        ?? throw new InvalidDataException(IsArray ? $"GGUF array of {ElementType} is not an array of strings." : $"GGUF value of type {Type} is not an array.");

    public override string ToString() => Value switch
    {
        string s => s,
        GgufStringArray s => $"[{s.Count} strings]",
        Array a => $"[{a.Length} x {ElementType}]",
        _ => Convert.ToString(Value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty,
    };

    private InvalidDataException Mismatch(GgufValueType expected) =>
        new($"GGUF value of type {(IsArray ? $"Array<{ElementType}>" : Type.ToString())} cannot be read as {expected}.");
}

/// <summary>An array of GGUF strings kept as one UTF-8 blob with offsets (no per-string allocation until asked).</summary>
public sealed class GgufStringArray : IReadOnlyList<string>
{
    private readonly byte[] _blob;
    private readonly int[] _offsets; // Count + 1 entries

    internal GgufStringArray(byte[] blob, int[] offsets)
    {
        _blob = blob;
        _offsets = offsets;
    }

    public int Count => _offsets.Length - 1;

    public string this[int index] => Encoding.UTF8.GetString(GetUtf8(index));

    /// <summary>The raw bytes of element <paramref name="index"/> exactly as stored in the file.</summary>
    public ReadOnlySpan<byte> GetUtf8(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return _blob.AsSpan(_offsets[index], _offsets[index + 1] - _offsets[index]);
    }

    public string[] ToArray()
    {
        var result = new string[Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = this[i];
        }

        return result;
    }

    public IEnumerator<string> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A tensor described in a GGUF header. <see cref="Offset"/> is relative to the data section.</summary>
public sealed record GgufTensorInfo(string Name, long[] Dimensions, GgmlType Type, ulong Offset)
{
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Dimensions)
            {
                n = checked(n * d);
            }

            return n;
        }
    }

    /// <summary>Bytes of tensor data; throws <see cref="NotSupportedException"/> for tensor types this project does not know.</summary>
    public long ByteSize => GgmlTypeInfo.ByteSize(Type, ElementCount);
}
