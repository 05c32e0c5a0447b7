using System.Buffers.Binary;
using Dynamo.Runtime.Gguf;

namespace Dynamo.Worker.Models;

/// <summary>Encodes float weights as GGUF tensor bytes (F32, F16, Q8_0) and decodes them back.</summary>
internal static class TensorEncoding
{
    private const int Q8Block = 32;
    private const int Q8BlockBytes = 34;

    public static byte[] Encode(ReadOnlySpan<float> values, GgmlType type)
    {
        var bytes = new byte[GgmlTypeInfo.ByteSize(type, values.Length)];
        switch (type)
        {
            case GgmlType.F32:
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
                }

                break;
            case GgmlType.F16:
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)values[i]);
                }

                break;
            case GgmlType.Q8_0:
                for (var b = 0; b < values.Length / Q8Block; b++)
                {
                    QuantizeQ8Block(values.Slice(b * Q8Block, Q8Block), bytes.AsSpan(b * Q8BlockBytes, Q8BlockBytes));
                }

                break;
            default:
                throw new NotSupportedException($"Encoding {type} tensors is not supported (F32, F16, Q8_0).");
        }

        return bytes;
    }

    public static float[] Decode(ReadOnlySpan<byte> bytes, GgmlType type, int count)
    {
        var values = new float[count];
        switch (type)
        {
            case GgmlType.F32:
                for (var i = 0; i < count; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]);
                }

                break;
            case GgmlType.F16:
                for (var i = 0; i < count; i++)
                {
                    values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(i * 2)..]);
                }

                break;
            case GgmlType.Q8_0:
                for (var b = 0; b < count / Q8Block; b++)
                {
                    var block = bytes.Slice(b * Q8BlockBytes, Q8BlockBytes);
                    var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    for (var j = 0; j < Q8Block; j++)
                    {
                        values[(b * Q8Block) + j] = (sbyte)block[2 + j] * d;
                    }
                }

                break;
            default:
                throw new NotSupportedException($"Decoding {type} tensors is not supported (F32, F16, Q8_0).");
        }

        return values;
    }

    /// <summary>ggml's Q8_0: a half-precision scale amax/127 and 32 rounded int8 values.</summary>
    private static void QuantizeQ8Block(ReadOnlySpan<float> x, Span<byte> block)
    {
        var amax = 0f;
        foreach (var v in x)
        {
            amax = MathF.Max(amax, MathF.Abs(v));
        }

        var inverse = amax != 0 ? 127f / amax : 0f;
        BinaryPrimitives.WriteHalfLittleEndian(block, (Half)(amax / 127f));
        for (var j = 0; j < Q8Block; j++)
        {
            block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * inverse);
        }
    }
}
