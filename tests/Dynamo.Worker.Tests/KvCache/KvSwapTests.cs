using Dynamo.Runtime.Contracts;

namespace Dynamo.Worker.Tests.KvCache;

public sealed class KvSwapTests
{
    [Fact]
    public void TrySwapIn_AfterThePoolWasReusedByAnother_RestoresEveryBlockByteForByteAndRegistersFullBlocks()
    {
        using var rig = new KvRig(blocks: 4, swapBlocks: 4);
        var prompt = KvRig.Tokens(10);
        var table = rig.Prefill(1, prompt).BlockTable;
        rig.Io.Compute(table[2], 0xABCDEF); // the partial block's K/V, which no cache would keep
        var before = table.Select(rig.Io.Read).ToArray();

        var swapped = rig.Manager.TrySwapOut(1, prompt.Length)!;
        var swappedBlocks = swapped.Blocks;
        rig.Prefill(2, KvRig.Tokens(16, salt: 1));
        rig.Manager.Free(2);
        var restored = rig.Manager.TrySwapIn(3, swapped);
        var after = rig.Manager.GetBlockTable(3).ToArray().Select(rig.Io.Read).ToArray();

        Assert.True(restored);
        Assert.Equal(3, swappedBlocks);
        Assert.Equal(0, swapped.Blocks);
        Assert.Equal(before, after);
        Assert.Equal(10, rig.Manager.TokenCount(3));
        Assert.Equal(4, rig.Manager.SwapFreeBlocks);
        var cached = rig.Manager.CachedHashes(KvTier.Device);
        Assert.All(KvRig.SeqHashes(prompt), hash => Assert.Contains(hash, cached));
        rig.Manager.Free(3);
        Assert.Equal(4, rig.Manager.AvailableBlocks);
    }

    [Fact]
    public void TrySwapIn_FullBlocksStillCachedInG1_SharesThemInsteadOfCopying()
    {
        using var rig = new KvRig(blocks: 8, swapBlocks: 8);
        var prompt = KvRig.Tokens(10);
        var table = rig.Prefill(1, prompt).BlockTable;
        var swapped = rig.Manager.TrySwapOut(1, prompt.Length)!;
        var imports = rig.Io.Imports;

        Assert.True(rig.Manager.TrySwapIn(2, swapped));

        Assert.Equal(table[..2], rig.Manager.GetBlockTable(2)[..2].ToArray());
        Assert.Equal(imports + 1, rig.Io.Imports);
    }

    [Fact]
    public void TrySwapOut_SwapSpaceTooSmall_ReturnsNullAndLeavesTheSequenceRunning()
    {
        using var rig = new KvRig(blocks: 8, swapBlocks: 2);
        rig.Prefill(1, KvRig.Tokens(10));

        var swapped = rig.Manager.TrySwapOut(1, 10);

        Assert.Null(swapped);
        Assert.Equal(3, rig.Manager.GetBlockTable(1).Length);
        Assert.Equal(2, rig.Manager.SwapFreeBlocks);
    }

    [Fact]
    public void TrySwapIn_PoolTooFull_ReturnsFalseAndKeepsTheSwapSpaceUntilDiscarded()
    {
        using var rig = new KvRig(blocks: 4, swapBlocks: 4);
        rig.Prefill(1, KvRig.Tokens(10));
        var swapped = rig.Manager.TrySwapOut(1, 10)!;
        rig.Prefill(2, KvRig.Tokens(14, salt: 1));

        var restored = rig.Manager.TrySwapIn(3, swapped);
        var held = rig.Manager.SwapFreeBlocks;
        rig.Manager.DiscardSwapped(swapped);

        Assert.False(restored);
        Assert.Equal(1, held);
        Assert.Equal(4, rig.Manager.SwapFreeBlocks);
    }
}
