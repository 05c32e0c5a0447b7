namespace Dynamo.Runtime.Gguf;

/// <summary>GGUF metadata value types (GGUF v3 spec, gguf_metadata_value_type).</summary>
public enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>ggml tensor element types as numbered in GGUF files (ggml_type).</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    BF16 = 30,
}

/// <summary>Block geometry of ggml tensor types: elements per block and bytes per block.</summary>
public static class GgmlTypeInfo
{
    public const uint GgufMagic = 0x46554747; // "GGUF" little-endian
    public const int DefaultAlignment = 32;

    public static (int BlockElements, int BlockBytes) Geometry(GgmlType type) => type switch
    {
        GgmlType.F32 => (1, 4),
        GgmlType.F16 => (1, 2),
        GgmlType.BF16 => (1, 2),
        GgmlType.F64 => (1, 8),
        GgmlType.I8 => (1, 1),
        GgmlType.I16 => (1, 2),
        GgmlType.I32 => (1, 4),
        GgmlType.I64 => (1, 8),
        GgmlType.Q4_0 => (32, 18),
        GgmlType.Q4_1 => (32, 20),
        GgmlType.Q5_0 => (32, 22),
        GgmlType.Q5_1 => (32, 24),
        GgmlType.Q8_0 => (32, 34),
        GgmlType.Q8_1 => (32, 36),
        GgmlType.Q2_K => (256, 84),
        GgmlType.Q3_K => (256, 110),
        GgmlType.Q4_K => (256, 144),
        GgmlType.Q5_K => (256, 176),
        GgmlType.Q6_K => (256, 210),
        GgmlType.Q8_K => (256, 292),
        _ => throw new NotSupportedException($"ggml tensor type {(uint)type} is not supported."),
    };

    /// <summary>Bytes occupied by a row-major tensor of <paramref name="elements"/> elements.</summary>
    public static long ByteSize(GgmlType type, long elements)
    {
        var (blockElements, blockBytes) = Geometry(type);
        if (elements % blockElements != 0)
        {
            throw new InvalidDataException($"{type} tensors need a multiple of {blockElements} elements, got {elements}.");
        }

        return elements / blockElements * blockBytes;
    }
}
