using Dynamo.Worker.KvCache;

namespace Dynamo.Worker.Tests.KvCache;

public sealed class BlockPoolTests
{
    [Fact]
    public void TryEvict_ParentReleasedBeforeChild_EvictsChildFirst()
    {
        var pool = new BlockPool(2);
        var parent = pool.TakeFree();
        var child = pool.TakeFree();
        pool.Register(parent, new KvBlockInfo(10, 1, null, 0), -1);
        pool.Register(child, new KvBlockInfo(20, 2, 10, 0), parent);
        pool.Release(parent);
        pool.Release(child);

        Assert.True(pool.TryEvict(out var first, out var firstInfo));
        Assert.True(pool.TryEvict(out var second, out _));

        Assert.Equal((child, 20UL, (ulong?)10), (first, firstInfo.SeqHash, firstInfo.ParentHash));
        Assert.Equal(parent, second);
        Assert.False(pool.TryEvict(out _, out _));
    }

    [Fact]
    public void Acquire_IdleLeaf_LeavesEvictionSetUntilReleasedAgain()
    {
        var pool = new BlockPool(1);
        var block = pool.TakeFree();
        pool.Register(block, new KvBlockInfo(10, 1, null, 0), -1);
        pool.Release(block);

        pool.Acquire(block, countHit: true);

        Assert.False(pool.TryEvict(out _, out _));
        Assert.Equal(0, pool.IdleCount);
        pool.Release(block);
        Assert.True(pool.TryEvict(out _, out var info));
        Assert.Equal(1, info.Hits);
        pool.Release(block);
        Assert.Equal(1, pool.FreeCount);
        Assert.Throws<InvalidOperationException>(() => pool.Release(block));
    }
}
