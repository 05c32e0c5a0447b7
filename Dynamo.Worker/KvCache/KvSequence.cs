using Dynamo.Runtime.Hashing;

namespace Dynamo.Worker.KvCache;

/// <summary>One sequence's tokens, block table and the hashes of its full blocks (owned by <see cref="KvBlockManager"/>).</summary>
internal sealed class KvSequence(ulong seed, int initialTokens)
{
    private int[] _tokens = new int[Math.Max(initialTokens, 16)];
    private ulong[] _seqHashes = new ulong[8];
    private ulong[] _localHashes = new ulong[8];

    public ulong Seed { get; } = seed;

    public List<int> Blocks { get; } = [];

    public int TokenCount { get; private set; }

    /// <summary>Leading blocks registered in G1 (hit, onboarded, or computed and registered).</summary>
    public int RegisteredBlocks { get; set; }

    public int HashedBlocks { get; private set; }

    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, TokenCount);

    public ulong SeqHash(int block) => _seqHashes[block];

    public ulong LocalHash(int block) => _localHashes[block];

    public void AddTokens(ReadOnlySpan<int> tokens)
    {
        if (TokenCount + tokens.Length > _tokens.Length)
        {
            // Doubling keeps appends amortized O(1) and allocation-free on almost every decode step.
            Array.Resize(ref _tokens, Math.Max(_tokens.Length * 2, TokenCount + tokens.Length));
        }

        tokens.CopyTo(_tokens.AsSpan(TokenCount));
        TokenCount += tokens.Length;
    }

    /// <summary>Hashes full blocks up to <paramref name="blockCount"/> (each once).</summary>
    public void HashBlocks(int blockCount, int blockSize)
    {
        if (blockCount > _seqHashes.Length)
        {
            var size = Math.Max(_seqHashes.Length * 2, blockCount);
            Array.Resize(ref _seqHashes, size);
            Array.Resize(ref _localHashes, size);
        }

        for (var i = HashedBlocks; i < blockCount; i++)
        {
            var local = KvBlockHashing.HashBlock(_tokens.AsSpan(i * blockSize, blockSize), Seed);
            _localHashes[i] = local;
            _seqHashes[i] = i == 0 ? local : KvBlockHashing.NextSequenceHash(_seqHashes[i - 1], local);
        }

        HashedBlocks = Math.Max(HashedBlocks, blockCount);
    }
}
