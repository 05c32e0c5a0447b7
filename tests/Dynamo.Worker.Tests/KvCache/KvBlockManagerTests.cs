using Dynamo.Runtime.Contracts;

namespace Dynamo.Worker.Tests.KvCache;

public sealed class KvBlockManagerTests
{
    [Fact]
    public void TryAllocate_RepeatedPrompt_ReusesFullPrefixBlocks()
    {
        using var rig = new KvRig(blocks: 16);
        var prompt = KvRig.Tokens(10);

        var first = rig.Prefill(1, prompt);
        rig.Manager.Free(1);
        var second = rig.Manager.TryAllocate(2, prompt)!;

        Assert.Equal(0, first.CachedTokens);
        Assert.Equal(8, second.CachedTokens);
        Assert.Equal(2, prompt.Length - second.CachedTokens);
        Assert.Equal(first.BlockTable[..2], second.BlockTable[..2]);
    }

    [Fact]
    public void TryAllocate_BlockAlignedPromptFullyCached_LeavesLastBlockToCompute()
    {
        using var rig = new KvRig(blocks: 16);
        var prompt = KvRig.Tokens(12);
        rig.Prefill(1, prompt);
        rig.Manager.Free(1);

        var again = rig.Manager.TryAllocate(2, prompt)!;

        Assert.Equal(8, again.CachedTokens);
        Assert.Equal(3, again.BlockTable.Length);
    }

    [Fact]
    public void TryAllocate_SharedPartialBlock_IsNotShared()
    {
        using var rig = new KvRig(blocks: 16);
        var a = KvRig.Tokens(6);
        var b = KvRig.Tokens(9);
        var first = rig.Prefill(1, a);

        var second = rig.Manager.TryAllocate(2, b)!;

        Assert.Equal(4, second.CachedTokens);
        Assert.Equal(first.BlockTable[0], second.BlockTable[0]);
        Assert.NotEqual(first.BlockTable[1], second.BlockTable[1]);
    }

    [Fact]
    public void TryAllocate_SamePromptOtherLoraAdapter_MissesCache()
    {
        using var rig = new KvRig(blocks: 16);
        var prompt = KvRig.Tokens(10);
        rig.Prefill(1, prompt);

        var other = rig.Manager.TryAllocate(2, prompt, "sql-adapter")!;
        var same = rig.Manager.TryAllocate(3, prompt)!;

        Assert.Equal(0, other.CachedTokens);
        Assert.Equal(8, same.CachedTokens);
    }

    [Fact]
    public void Free_EverySequenceOfRandomWorkload_AllBlocksAvailableAgain()
    {
        using var rig = new KvRig(blocks: 32);
        var random = new Random(7);
        var live = new List<long>();
        for (var step = 0; step < 200; step++)
        {
            if (live.Count > 0 && random.Next(3) == 0)
            {
                var victim = live[random.Next(live.Count)];
                rig.Manager.Free(victim);
                live.Remove(victim);
            }
            else if (KvRig.Tokens(1 + random.Next(20), random.Next(4)) is var prompt && rig.Manager.TryAllocate(step, prompt) is not null)
            {
                rig.Manager.MarkComputed(step, prompt.Length);
                live.Add(step);
            }
        }

        foreach (var id in live)
        {
            rig.Manager.Free(id);
        }

        Assert.Equal(32, rig.Manager.AvailableBlocks);
        Assert.Equal(0, rig.Manager.Snapshot().ActiveBlocks);
    }

    [Fact]
    public void TryAppend_FillsBlock_AllocatesNextAndRegistersFullOne()
    {
        using var rig = new KvRig(blocks: 8);
        var prompt = KvRig.Tokens(3);
        rig.Prefill(1, prompt);

        Assert.True(rig.Manager.TryAppend(1, [500]));
        Assert.Equal(1, rig.Manager.GetBlockTable(1).Length);
        Assert.True(rig.Manager.TryAppend(1, [501]));
        Assert.Equal(2, rig.Manager.GetBlockTable(1).Length);
        rig.Manager.MarkComputed(1, 5);

        var full = KvRig.SeqHashes([.. prompt, 500])[0];
        Assert.Contains(full, rig.Manager.CachedHashes(KvTier.Device));
        Assert.Single(rig.Manager.CachedHashes(KvTier.Device));
    }

    [Fact]
    public void MarkComputed_IdenticalBlockAlreadyRegistered_DedupesToIt()
    {
        using var rig = new KvRig(blocks: 8);
        var prompt = KvRig.Tokens(3);
        rig.Prefill(1, prompt);
        rig.Prefill(2, prompt);
        rig.Manager.TryAppend(1, [9]);
        rig.Manager.TryAppend(2, [9]);
        var before = rig.Manager.AvailableBlocks;

        rig.Manager.MarkComputed(1, 4);
        rig.Manager.MarkComputed(2, 4);

        Assert.Equal(rig.Manager.GetBlockTable(1)[0], rig.Manager.GetBlockTable(2)[0]);
        Assert.Equal(before + 1, rig.Manager.AvailableBlocks);
    }

    [Fact]
    public void TryAllocate_EvictionOrder_LeavesFirstThenLeastRecentlyUsed()
    {
        using var rig = new KvRig(blocks: 6);
        var p = KvRig.Tokens(9, salt: 1);
        var q = KvRig.Tokens(9, salt: 2);
        rig.Prefill(1, p);
        rig.Manager.Free(1);
        rig.Prefill(2, q);
        rig.Manager.Free(2);
        var ph = KvRig.SeqHashes(p);
        var qh = KvRig.SeqHashes(q);

        rig.Manager.TryAllocate(3, KvRig.Tokens(12, salt: 3));
        Assert.Equal(new[] { ph[0], qh[0], qh[1] }.Order(), rig.Manager.CachedHashes(KvTier.Device).Order());

        rig.Manager.TryAllocate(4, [1]);
        Assert.Equal(new[] { qh[0], qh[1] }.Order(), rig.Manager.CachedHashes(KvTier.Device).Order());

        rig.Manager.TryAllocate(5, [1]);
        Assert.Equal([qh[0]], rig.Manager.CachedHashes(KvTier.Device).ToArray());
    }

    [Fact]
    public void TryAllocate_TooLarge_ReturnsNullAndChangesNothing()
    {
        using var rig = new KvRig(blocks: 4);
        rig.Prefill(1, KvRig.Tokens(9));
        var events = rig.Sink.Batches.Count;

        Assert.False(rig.Manager.CanAllocate(2));
        Assert.Null(rig.Manager.TryAllocate(2, KvRig.Tokens(8, salt: 5)));
        Assert.False(rig.Manager.TryAppend(1, KvRig.Tokens(8)));
        Assert.Equal(1, rig.Manager.AvailableBlocks);
        Assert.Equal(events, rig.Sink.Batches.Count);
        Assert.Equal(3, rig.Manager.GetBlockTable(1).Length);
    }

    [Fact]
    public void TryAllocate_CachedBlocksHeldIdle_CountAsAvailable()
    {
        using var rig = new KvRig(blocks: 4);
        rig.Prefill(1, KvRig.Tokens(16));
        rig.Manager.Free(1);

        Assert.True(rig.Manager.CanAllocate(4));
        Assert.NotNull(rig.Manager.TryAllocate(2, KvRig.Tokens(16, salt: 9)));
        Assert.Empty(rig.Manager.CachedHashes(KvTier.Device));
    }

    [Fact]
    public void Dump_CalledWhileManagerIsBusy_ThrowsBecauseItIsSingleThreaded()
    {
        using var rig = new KvRig(blocks: 8);
        Exception? reentrant = null;
        rig.Sink.OnPublish = _ => reentrant = Record.Exception(() => rig.Manager.Dump());

        rig.Prefill(1, KvRig.Tokens(8));

        Assert.IsType<InvalidOperationException>(reentrant);
        Assert.NotEmpty(rig.Manager.Dump());
    }

    [Fact]
    public void Free_UnknownSequence_Throws()
    {
        using var rig = new KvRig(blocks: 4);

        Assert.Throws<InvalidOperationException>(() => rig.Manager.Free(42));
        Assert.Throws<ArgumentException>(() => rig.Manager.TryAllocate(1, []));
    }
}
