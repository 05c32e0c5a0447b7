using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dynamo.Worker.Disaggregation;

/// <summary>
/// What a pushed transfer is: the sender's model and KV layout (the receiver refuses anything it could not import
/// bit for bit) and the chained sequence hash of every full block, in order.
/// </summary>
/// <param name="BlockBytes">Bytes per block; 0 for an engine that keeps no K/V (the mocker), whose frames carry none.</param>
/// <param name="Layout">The engine's K/V layout in words, e.g. <c>native:llama:8x4x64:f32</c>; equal layouts have equal bytes.</param>
/// <param name="PromptTokens">The prompt's length; blocks cover its first <c>(PromptTokens - 1) / BlockSize</c> blocks.</param>
public sealed record KvTransferHeader(
    string TransferId,
    string Model,
    string Engine,
    string Layout,
    int BlockSize,
    int BlockBytes,
    int PromptTokens,
    ulong[] SequenceHashes);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(KvTransferHeader))]
[JsonSerializable(typeof(KvTransferAck))]
internal sealed partial class KvTransferJsonContext : JsonSerializerContext;

/// <summary>
/// The push body (<c>application/x-dynamo-kv</c>): <c>"DKV1"</c>, a little-endian u32 length and that many bytes of
/// <see cref="KvTransferHeader"/> JSON, then one frame per block in order: u32 block index, u64 XXH3-64 (seed 0) of
/// the block's bytes, and <see cref="KvTransferHeader.BlockBytes"/> bytes. The body ending early is a failed transfer.
/// </summary>
public static class KvTransferWire
{
    public const string ContentType = "application/x-dynamo-kv";

    public const int FrameHeaderBytes = 12;

    /// <summary>Bounds the JSON header (a 1M-token prompt's hashes at 16 tokens per block stay well under it).</summary>
    public const int MaxHeaderBytes = 16 << 20;

    private static ReadOnlySpan<byte> Magic => "DKV1"u8;

    public static byte[] EncodeHeader(KvTransferHeader header)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(header, KvTransferJsonContext.Default.KvTransferHeader);
        var bytes = new byte[8 + json.Length];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    /// <exception cref="InvalidDataException">Not a transfer body, or a header out of bounds.</exception>
    public static async Task<KvTransferHeader> ReadHeaderAsync(Stream body, CancellationToken cancellationToken)
    {
        var prefix = new byte[8];
        await body.ReadExactlyAsync(prefix, cancellationToken).ConfigureAwait(false);
        if (!prefix.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw new InvalidDataException("The body is not a KV transfer (bad magic).");
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(prefix.AsSpan(4));
        if (length is <= 0 or > MaxHeaderBytes)
        {
            throw new InvalidDataException($"The KV transfer header length {length} is out of bounds.");
        }

        var json = new byte[length];
        await body.ReadExactlyAsync(json, cancellationToken).ConfigureAwait(false);
        var header = JsonSerializer.Deserialize(json, KvTransferJsonContext.Default.KvTransferHeader)
            ?? throw new InvalidDataException("The KV transfer header is null.");
        if (header.SequenceHashes is null || header.BlockSize <= 0 || header.BlockBytes < 0 || header.PromptTokens <= 0
            || header.SequenceHashes.Length != (header.PromptTokens - 1) / header.BlockSize)
        {
            throw new InvalidDataException("The KV transfer header is inconsistent (hashes, block size, bytes or prompt length).");
        }

        return header;
    }

    public static void WriteFrameHeader(Span<byte> destination, int index, ulong checksum)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, index);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[4..], checksum);
    }

    public static (int Index, ulong Checksum) ReadFrameHeader(ReadOnlySpan<byte> source) =>
        (BinaryPrimitives.ReadInt32LittleEndian(source), BinaryPrimitives.ReadUInt64LittleEndian(source[4..]));
}
