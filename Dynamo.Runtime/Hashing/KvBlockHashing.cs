using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Dynamo.Runtime.Hashing;

/// <summary>
/// KV block identity: local block hashes over token ids and the chained sequence hashes that
/// name a block together with its whole prefix.
/// </summary>
/// <remarks>
/// Byte layouts match ai-dynamo/dynamo (lib/kv-router/src/protocols.rs <c>compute_block_hash_for_seq</c>,
/// <c>compute_next_seq_hash</c>; lib/kv-hashing salt.rs), so hashes are interchangeable with Dynamo's:
/// <list type="bullet">
/// <item>local hash = XXH3-64(token ids as u32 little-endian [‖ sorted multimodal content hashes as u64 LE], seed);</item>
/// <item>seed = 1337, or for a LoRA adapter 1337 + XXH3-64(UTF-8 adapter name, seed 0) with wrap-around
/// (an empty name counts as no adapter);</item>
/// <item>seq[0] = local[0]; seq[i] = XXH3-64(seq[i-1] u64 LE ‖ local[i] u64 LE, seed 1337) — the chain
/// always uses 1337; the adapter salt reaches every sequence hash through local[0].</item>
/// </list>
/// Only full blocks are hashed: a trailing partial block is not shareable.
/// </remarks>
public static class KvBlockHashing
{
    /// <summary>The XXH3 seed of Dynamo's block and chain hashes (XXH3_SEED / CHAIN_XXH3_SEED).</summary>
    public const ulong DefaultSeed = 1337;

    /// <summary>Blocks of this many bytes or fewer are assembled on the stack when they need copying.</summary>
    private const int StackBufferBytes = 1024;

    /// <summary>The block-hash seed for requests served by <paramref name="loraAdapter"/> (null or empty: the base model).</summary>
    public static ulong SeedFor(string? loraAdapter)
    {
        if (string.IsNullOrEmpty(loraAdapter))
        {
            return DefaultSeed;
        }

        var maxBytes = Encoding.UTF8.GetMaxByteCount(loraAdapter.Length);
        byte[]? rented = null;
        var buffer = maxBytes <= StackBufferBytes ? stackalloc byte[maxBytes] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            var written = Encoding.UTF8.GetBytes(loraAdapter, buffer);
            return unchecked(DefaultSeed + Xxh3.Hash64(buffer[..written], 0));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>How many full blocks of <paramref name="blockSize"/> tokens <paramref name="tokenCount"/> tokens make.</summary>
    public static int FullBlockCount(int tokenCount, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        ArgumentOutOfRangeException.ThrowIfNegative(tokenCount);
        return tokenCount / blockSize;
    }

    /// <summary>Hashes one block of token ids, optionally salted with the content hashes of the media it covers.</summary>
    public static ulong HashBlock(ReadOnlySpan<int> blockTokens, ulong seed = DefaultSeed, ReadOnlySpan<ulong> contentHashes = default)
    {
        if (contentHashes.IsEmpty && BitConverter.IsLittleEndian)
        {
            return Xxh3.Hash64(MemoryMarshal.AsBytes(blockTokens), seed);
        }

        var size = (blockTokens.Length * sizeof(uint)) + (contentHashes.Length * sizeof(ulong));
        byte[]? rented = null;
        var buffer = size <= StackBufferBytes ? stackalloc byte[size] : (rented = ArrayPool<byte>.Shared.Rent(size)).AsSpan(0, size);
        try
        {
            for (var i = 0; i < blockTokens.Length; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(buffer[(i * sizeof(uint))..], blockTokens[i]);
            }

            var hashes = buffer[(blockTokens.Length * sizeof(uint))..];
            for (var i = 0; i < contentHashes.Length; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(hashes[(i * sizeof(ulong))..], contentHashes[i]);
            }

            SortUInt64LittleEndian(hashes);
            return Xxh3.Hash64(buffer, seed);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Writes the local hash of every full block of <paramref name="tokens"/> into <paramref name="destination"/>
    /// and returns how many were written. Allocates nothing.
    /// </summary>
    public static int ComputeLocalHashes(ReadOnlySpan<int> tokens, int blockSize, Span<ulong> destination, ulong seed = DefaultSeed)
    {
        var blocks = FullBlockCount(tokens.Length, blockSize);
        if (destination.Length < blocks)
        {
            throw new ArgumentException($"Destination holds {destination.Length} hashes but {blocks} full blocks need hashing.", nameof(destination));
        }

        for (var i = 0; i < blocks; i++)
        {
            destination[i] = HashBlock(tokens.Slice(i * blockSize, blockSize), seed);
        }

        return blocks;
    }

    /// <summary>The sequence hash of a block whose parent block has <paramref name="parentSequenceHash"/>.</summary>
    public static ulong NextSequenceHash(ulong parentSequenceHash, ulong localHash)
    {
        Span<byte> pair = stackalloc byte[2 * sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(pair, parentSequenceHash);
        BinaryPrimitives.WriteUInt64LittleEndian(pair[sizeof(ulong)..], localHash);
        return Xxh3.Hash64(pair, DefaultSeed);
    }

    /// <summary>
    /// Chains <paramref name="localHashes"/> into sequence hashes. With <paramref name="parentSequenceHash"/>
    /// the chain continues after an earlier block (e.g. the blocks a decode step just filled); without it,
    /// the first local hash starts the chain. Allocates nothing.
    /// </summary>
    public static void ChainSequenceHashes(ReadOnlySpan<ulong> localHashes, Span<ulong> destination, ulong? parentSequenceHash = null)
    {
        if (destination.Length < localHashes.Length)
        {
            throw new ArgumentException($"Destination holds {destination.Length} hashes but {localHashes.Length} are needed.", nameof(destination));
        }

        if (localHashes.IsEmpty)
        {
            return;
        }

        var previous = parentSequenceHash is { } parent ? NextSequenceHash(parent, localHashes[0]) : localHashes[0];
        destination[0] = previous;
        for (var i = 1; i < localHashes.Length; i++)
        {
            previous = NextSequenceHash(previous, localHashes[i]);
            destination[i] = previous;
        }
    }

    /// <summary>Local hashes of every full block (convenience; allocates the result).</summary>
    public static ulong[] ComputeLocalHashes(ReadOnlySpan<int> tokens, int blockSize, string? loraAdapter = null)
    {
        var result = new ulong[FullBlockCount(tokens.Length, blockSize)];
        ComputeLocalHashes(tokens, blockSize, result, SeedFor(loraAdapter));
        return result;
    }

    /// <summary>
    /// Local and chained sequence hashes of every full block (convenience; allocates the result).
    /// <paramref name="contentHashesPerBlock"/>, when given, lists per block index the content hashes of the
    /// images/audio whose placeholder tokens fall in that block (null or empty entries: text-only blocks).
    /// </summary>
    public static KvBlockHashes ComputeBlockHashes(
        ReadOnlySpan<int> tokens,
        int blockSize,
        string? loraAdapter = null,
        IReadOnlyList<ulong[]?>? contentHashesPerBlock = null)
    {
        var seed = SeedFor(loraAdapter);
        var local = new ulong[FullBlockCount(tokens.Length, blockSize)];
        for (var i = 0; i < local.Length; i++)
        {
            var media = contentHashesPerBlock is not null && i < contentHashesPerBlock.Count ? contentHashesPerBlock[i] : null;
            local[i] = HashBlock(tokens.Slice(i * blockSize, blockSize), seed, media);
        }

        var sequence = new ulong[local.Length];
        ChainSequenceHashes(local, sequence);
        return new KvBlockHashes(local, sequence);
    }

    private static void SortUInt64LittleEndian(Span<byte> bytes)
    {
        // Tiny arrays (a handful of images per block): insertion sort over the encoded values.
        var count = bytes.Length / sizeof(ulong);
        for (var i = 1; i < count; i++)
        {
            var value = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(i * 8)..]);
            var j = i - 1;
            while (j >= 0 && BinaryPrimitives.ReadUInt64LittleEndian(bytes[(j * 8)..]) > value)
            {
                bytes.Slice(j * 8, 8).CopyTo(bytes[((j + 1) * 8)..]);
                j--;
            }

            BinaryPrimitives.WriteUInt64LittleEndian(bytes[((j + 1) * 8)..], value);
        }
    }
}

/// <summary>Per full block: its local (content) hash and its chained sequence hash, index-aligned.</summary>
public sealed record KvBlockHashes(ulong[] LocalHashes, ulong[] SequenceHashes)
{
    public int Count => LocalHashes.Length;
}
