using Dynamo.Runtime.Contracts;
using Dynamo.Worker.KvCache;

namespace Dynamo.Worker.Tests.KvCache;

public sealed class KvTierTests
{
    [Fact]
    public void TryAllocate_EvictedPrefixInHostTier_OnboardsWithIntactBytes()
    {
        using var rig = new KvRig(blocks: 4, hostBlocks: 8);
        var prompt = KvRig.Tokens(13);
        var hashes = KvRig.SeqHashes(prompt);
        rig.Prefill(1, prompt);
        rig.Manager.Free(1);
        rig.Manager.TryAllocate(2, KvRig.Tokens(16, salt: 4));
        Assert.Empty(rig.Manager.CachedHashes(KvTier.Device));
        Assert.Equal(hashes.Order(), rig.Manager.CachedHashes(KvTier.Host).Order());
        rig.Manager.Free(2);

        var again = rig.Manager.TryAllocate(3, prompt)!;

        Assert.Equal(12, again.CachedTokens);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(FakeBlockIo.Pattern(hashes[i], rig.Io.BlockBytes), rig.Io.Read(again.BlockTable[i]));
        }

        var host = rig.Manager.Snapshot().Tiers.Single(t => t.Tier == KvTier.Host);
        Assert.Equal((3, 3, 3), (host.Hits, host.Onboards, host.Offloads));
    }

    [Fact]
    public void Offload_HostEvictsBlockHitOnce_DropsItInsteadOfDisk()
    {
        using var rig = new KvRig(blocks: 2, hostBlocks: 1, diskBlocks: 4);
        var a = KvRig.Tokens(5, salt: 1);
        var b = KvRig.Tokens(5, salt: 2);
        rig.Prefill(1, a);
        rig.Manager.Free(1);
        Assert.Equal(4, rig.Manager.TryAllocate(2, a)!.CachedTokens);
        rig.Manager.Free(2);

        rig.Prefill(3, b);
        rig.Manager.Free(3);
        rig.Manager.TryAllocate(4, KvRig.Tokens(8, salt: 3));

        Assert.Empty(rig.Manager.CachedHashes(KvTier.Disk));
        Assert.Equal([KvRig.SeqHashes(b)[0]], rig.Manager.CachedHashes(KvTier.Host));
    }

    [Fact]
    public void Offload_HostEvictsBlockHitTwice_MovesItToDiskAndOnboardsIt()
    {
        using var rig = new KvRig(blocks: 2, hostBlocks: 1, diskBlocks: 4);
        var a = KvRig.Tokens(5, salt: 1);
        var b = KvRig.Tokens(5, salt: 2);
        var aHash = KvRig.SeqHashes(a)[0];
        rig.Prefill(1, a);
        rig.Manager.Free(1);
        for (var id = 2; id < 4; id++)
        {
            Assert.Equal(4, rig.Manager.TryAllocate(id, a)!.CachedTokens);
            rig.Manager.Free(id);
        }

        rig.Prefill(4, b);
        rig.Manager.Free(4);
        rig.Manager.TryAllocate(5, KvRig.Tokens(8, salt: 3));
        Assert.Equal([aHash], rig.Manager.CachedHashes(KvTier.Disk));
        rig.Manager.Free(5);

        var back = rig.Manager.TryAllocate(6, a)!;

        Assert.Equal(4, back.CachedTokens);
        Assert.Equal(FakeBlockIo.Pattern(aHash, rig.Io.BlockBytes), rig.Io.Read(back.BlockTable[0]));
        Assert.Empty(rig.Manager.CachedHashes(KvTier.Disk));
        var disk = rig.Manager.Snapshot().Tiers.Single(t => t.Tier == KvTier.Disk);
        Assert.Equal((1L, 1L, 1L), (disk.Offloads, disk.Onboards, disk.Hits));
    }

    [Fact]
    public void Offload_HostTierFull_EvictsOldestAndStaysWithinCapacity()
    {
        using var rig = new KvRig(blocks: 3, hostBlocks: 2);
        for (var salt = 0; salt < 6; salt++)
        {
            rig.Prefill(salt, KvRig.Tokens(5, salt));
            rig.Manager.Free(salt);
        }

        var host = rig.Manager.CachedHashes(KvTier.Host);
        Assert.Equal(2, host.Count);
        Assert.Contains(KvRig.SeqHashes(KvRig.Tokens(5, 3))[0], host);
        Assert.Contains(KvRig.SeqHashes(KvRig.Tokens(5, 2))[0], host);
        Assert.Equal(4, rig.Manager.Snapshot().Tiers.Single(t => t.Tier == KvTier.Host).Offloads);
    }

    [Fact]
    public void DiskBlockStore_WriteThenRead_RoundTripsEverySlot()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kv-disk-{Guid.NewGuid():N}.bin");
        using (var store = new DiskBlockStore(path, capacityBytes: 1000, blockBytes: 96))
        {
            Assert.Equal(10, store.SlotCount);
            Assert.Equal(960, new FileInfo(path).Length);
            for (var slot = store.SlotCount - 1; slot >= 0; slot--)
            {
                store.Write(slot, FakeBlockIo.Pattern((ulong)slot, 96));
            }

            var read = new byte[96];
            for (var slot = 0; slot < store.SlotCount; slot++)
            {
                store.Read(slot, read);
                Assert.Equal(FakeBlockIo.Pattern((ulong)slot, 96), read);
            }

            Assert.Throws<ArgumentOutOfRangeException>(() => store.Write(10, read));
        }

        Assert.False(File.Exists(path));
    }

    [Fact]
    public void HostBlockStore_WrongBlockSize_Throws()
    {
        using var store = new HostBlockStore(capacityBytes: 256, blockBytes: 64);

        store.Write(3, new byte[64]);

        Assert.Equal(4, store.SlotCount);
        Assert.Throws<ArgumentException>(() => store.Write(0, new byte[63]));
        Assert.Throws<InvalidOperationException>(() => store.Read(1, new byte[64]));
    }

    [Fact]
    public void Create_TierSizesInGb_SizesStoresInWholeBlocks()
    {
        var options = new KvCacheOptions { WorkerId = "w", BlockCount = 4, BlockSize = 4, HostCacheGb = 0.000001, DiskCacheGb = 0.0000005 };
        using var manager = KvBlockManager.Create(options, new FakeBlockIo(4, blockBytes: 300), new RecordingSink(), TimeProvider.System);

        var tiers = manager.Snapshot().Tiers;

        Assert.Equal([(KvTier.Device, 4), (KvTier.Host, 3), (KvTier.Disk, 1)], tiers.Select(t => (t.Tier, t.CapacityBlocks)));
    }
}
