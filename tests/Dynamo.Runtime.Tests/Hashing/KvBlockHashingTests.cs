using Dynamo.Runtime.Hashing;

namespace Dynamo.Runtime.Tests.Hashing;

public sealed class KvBlockHashingTests
{
    // Tokens 100..149, block size 16. Expected values come from an independent Python rendering of Dynamo's
    // formulas over libxxhash 0.8.1: xxh3_64(struct.pack("<16I", *block), seed=1337) and
    // xxh3_64(struct.pack("<QQ", parent, local), seed=1337).
    private static readonly int[] s_tokens = Enumerable.Range(100, 50).ToArray();

    [Fact]
    public void ComputeBlockHashes_KnownTokens_MatchDynamoByteLayout()
    {
        var hashes = KvBlockHashing.ComputeBlockHashes(s_tokens, 16);

        Assert.Equal([0x9633B31C7A2562C7UL, 0x10EE3BBEA3BF72F2UL, 0xA0B11437B6E3F7C9UL], hashes.LocalHashes);
        Assert.Equal([0x9633B31C7A2562C7UL, 0x38EDDE460245FC8EUL, 0xFF80123400F62CBEUL], hashes.SequenceHashes);
    }

    [Fact]
    public void SeedFor_LoraAdapter_IsDefaultSeedPlusNameHash()
    {
        Assert.Equal(0x20C184514A4C9EACUL, KvBlockHashing.SeedFor("my-adapter"));
        Assert.Equal(KvBlockHashing.DefaultSeed, KvBlockHashing.SeedFor(null));
        Assert.Equal(KvBlockHashing.DefaultSeed, KvBlockHashing.SeedFor(""));
    }

    [Fact]
    public void ComputeLocalHashes_LoraAdapter_SaltsEveryBlock()
    {
        var salted = KvBlockHashing.ComputeLocalHashes(s_tokens, 16, "my-adapter");
        var plain = KvBlockHashing.ComputeLocalHashes(s_tokens, 16);

        Assert.Equal([0x84D8B8F8EB122BD2UL, 0xB02CEF3A58910F19UL, 0xB3AA781BCBB69D36UL], salted);
        Assert.All(salted.Zip(plain), pair => Assert.NotEqual(pair.First, pair.Second));
    }

    [Fact]
    public void HashBlock_ContentHashes_AppendedSortedRegardlessOfOrder()
    {
        var block = s_tokens.AsSpan(0, 16);

        Assert.Equal(0x4D8E8BF3C195D014UL, KvBlockHashing.HashBlock(block, KvBlockHashing.DefaultSeed, [0xDEADBEEFUL, 0x1234UL]));
        Assert.Equal(0x4D8E8BF3C195D014UL, KvBlockHashing.HashBlock(block, KvBlockHashing.DefaultSeed, [0x1234UL, 0xDEADBEEFUL]));
        Assert.NotEqual(KvBlockHashing.HashBlock(block), KvBlockHashing.HashBlock(block, KvBlockHashing.DefaultSeed, [0x1234UL]));
    }

    [Fact]
    public void ComputeBlockHashes_PartialTrailingBlock_IsExcluded()
    {
        Assert.Equal(3, KvBlockHashing.ComputeBlockHashes(s_tokens, 16).Count);
        Assert.Empty(KvBlockHashing.ComputeBlockHashes(s_tokens.AsSpan(0, 15), 16).LocalHashes);
    }

    [Fact]
    public void ComputeBlockHashes_SharedPrefix_SameHashesUntilDivergence()
    {
        var a = Enumerable.Range(0, 64).ToArray();
        var b = (int[])a.Clone();
        b[40] = 99_999; // inside block 2 (tokens 32..47)

        var ha = KvBlockHashing.ComputeBlockHashes(a, 16);
        var hb = KvBlockHashing.ComputeBlockHashes(b, 16);

        Assert.Equal(ha.SequenceHashes[..2], hb.SequenceHashes[..2]);
        Assert.NotEqual(ha.SequenceHashes[2], hb.SequenceHashes[2]);
        Assert.Equal(ha.LocalHashes[3], hb.LocalHashes[3]);
        Assert.NotEqual(ha.SequenceHashes[3], hb.SequenceHashes[3]);
    }

    [Fact]
    public void ChainSequenceHashes_WithParent_ContinuesTheFullChain()
    {
        var full = KvBlockHashing.ComputeBlockHashes(s_tokens, 16);
        var tail = new ulong[2];

        KvBlockHashing.ChainSequenceHashes(full.LocalHashes.AsSpan(1), tail, full.SequenceHashes[0]);

        Assert.Equal(full.SequenceHashes[1..], tail);
    }

    [Fact]
    public void ComputeLocalHashes_SpanApi_WritesCountAndRejectsShortDestination()
    {
        Span<ulong> destination = stackalloc ulong[4];
        Assert.Equal(3, KvBlockHashing.ComputeLocalHashes(s_tokens, 16, destination));
        Assert.Equal(KvBlockHashing.ComputeLocalHashes(s_tokens, 16), destination[..3].ToArray());
        Assert.Throws<ArgumentException>(() => KvBlockHashing.ComputeLocalHashes(s_tokens, 16, new ulong[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => KvBlockHashing.FullBlockCount(10, 0));
    }
}
