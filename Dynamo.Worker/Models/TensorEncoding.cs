using System.Buffers.Binary;
using Dynamo.Runtime.Gguf;

namespace Dynamo.Worker.Models;

/// <summary>Encodes float weights as GGUF tensor bytes (F32, F16, Q8_0, Q4_0) and decodes them back.</summary>
internal static class TensorEncoding
{
    private const int Q8Block = 32;
    private const int Q8BlockBytes = 34;
    private const int Q4BlockBytes = 18;

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
            case GgmlType.Q4_0:
                for (var b = 0; b < values.Length / Q8Block; b++)
                {
                    QuantizeQ4Block(values.Slice(b * Q8Block, Q8Block), bytes.AsSpan(b * Q4BlockBytes, Q4BlockBytes));
                }

                break;
            default:
                throw new NotSupportedException($"Encoding {type} tensors is not supported (F32, F16, Q8_0, Q4_0).");
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
            case GgmlType.Q4_0:
                for (var b = 0; b < count / Q8Block; b++)
                {
                    var block = bytes.Slice(b * Q4BlockBytes, Q4BlockBytes);
                    var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    for (var j = 0; j < 16; j++)
                    {
                        // Low nibbles hold elements 0..15, high nibbles 16..31, offset by 8.
                        values[(b * Q8Block) + j] = ((block[2 + j] & 0xF) - 8) * d;
                        values[(b * Q8Block) + j + 16] = ((block[2 + j] >> 4) - 8) * d;
                    }
                }

                break;
            default:
                throw new NotSupportedException($"Decoding {type} tensors is not supported (F32, F16, Q8_0, Q4_0).");
        }

        return values;
    }

    /// <summary>ggml's Q4_0: scale = (signed value of largest magnitude) / −8, nibbles round(x/scale) + 8 clamped to 15.</summary>
    private static void QuantizeQ4Block(ReadOnlySpan<float> x, Span<byte> block)
    {
        var max = 0f;
        foreach (var v in x)
        {
            if (MathF.Abs(v) > MathF.Abs(max))
            {
                max = v;
            }
        }

        var d = max / -8f;
        var inverse = d != 0 ? 1f / d : 0f;
        BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
        for (var j = 0; j < 16; j++)
        {
            var lo = Math.Min(15, (int)((x[j] * inverse) + 8.5f));
            var hi = Math.Min(15, (int)((x[j + 16] * inverse) + 8.5f));
            block[2 + j] = (byte)(lo | (hi << 4));
        }
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
