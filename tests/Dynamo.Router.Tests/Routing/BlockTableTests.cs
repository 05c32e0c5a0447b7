using System.Runtime.InteropServices;
using Dynamo.Router.Routing.Indexing;

namespace Dynamo.Router.Tests.Routing;

/// <summary>The inline-holder block table against a reference model: per key, each slot's tiers.</summary>
public sealed class BlockTableTests
{
    [Fact]
    public void SetHolder_RandomChangesThroughGrowthWideningAndPurges_MatchesTheReferenceModel()
    {
        var random = new Random(11);
        var table = new BlockTable();
        var model = new Dictionary<ulong, Dictionary<int, byte>>();
        var slots = 40;
        for (var step = 0; step < 120_000; step++)
        {
            // Halfway, more workers join: the cells widen from one holder word to four with content in place.
            if (step == 60_000)
            {
                slots = 200;
                table.EnsureSlots(slots);
            }

            // A small key space (with 0, the empty cell's key) forces collisions, dead cells, purges and growth.
            var key = (ulong)random.Next(0, 3000) * (step % 3 == 0 ? 1UL : 0x1_0000_0000UL);
            var slot = random.Next(slots);
            var tiers = (byte)(random.Next(3) == 0 ? 0 : random.Next(1, 8));
            table.SetHolder(key, slot, tiers);
            var holders = model.TryGetValue(key, out var h) ? h : model[key] = [];
            if (tiers == 0)
            {
                holders.Remove(slot);
            }
            else
            {
                holders[slot] = tiers;
            }

            if (step % 20_000 == 0 || step == 119_999)
            {
                AssertMatches(table, model);
            }
        }
    }

    [Fact]
    public void EnsureSlots_WidensWithHoldersAndTiersKept_CellsStartOnACacheLine()
    {
        var table = new BlockTable();
        table.SetHolder(5, 3, KvTierMask.Device);
        table.SetHolder(5, 60, KvTierMask.Host);
        table.SetHolder(0, 1, KvTierMask.Disk);

        table.EnsureSlots(300);
        table.SetHolder(5, 299, KvTierMask.Disk | KvTierMask.Host);

        var cells = table.Current;
        Assert.Equal(5, cells.Words);
        Assert.Equal(0, Marshal.UnsafeAddrOfPinnedArrayElement(cells.Data, cells.Origin) % 64);
        var at = cells.At(cells.Find(5)) + 1;
        Assert.Equal((1UL << 3) | (1UL << 60), cells.Data[at]);
        Assert.Equal(1UL << (299 - 256), cells.Data[at + 4]);
        var node = table.TierNodeOf(5)!;
        Assert.Equal(1UL << 60, TierNode.Host(node, 0));
        Assert.Equal(1UL << (299 - 256), TierNode.Host(node, 4));
        Assert.Equal(1UL << 1, TierNode.Disk(table.TierNodeOf(0)!, 0));
        Assert.Equal(2, table.Count);
    }

    private static void AssertMatches(BlockTable table, Dictionary<ulong, Dictionary<int, byte>> model)
    {
        var cells = table.Current;
        Assert.Equal(model.Count(e => e.Value.Count > 0), table.Count);
        foreach (var (key, holders) in model)
        {
            var any = new ulong[cells.Words];
            var host = new ulong[cells.Words];
            var disk = new ulong[cells.Words];
            foreach (var (slot, tiers) in holders)
            {
                any[slot >> 6] |= 1UL << (slot & 63);
                if ((tiers & KvTierMask.Device) == 0)
                {
                    ((tiers & KvTierMask.Host) != 0 ? host : disk)[slot >> 6] |= 1UL << (slot & 63);
                }
            }

            var cell = cells.Find(key);
            var node = table.TierNodeOf(key);
            if (holders.Count == 0)
            {
                Assert.True(cell < 0 || cells.Data.AsSpan(cells.At(cell) + 1, cells.Words).IndexOfAnyExcept(0UL) < 0, $"{key} has no holders");
                Assert.Null(node);
                continue;
            }

            Assert.True(cell >= 0, $"{key} is missing");
            Assert.Equal(any, cells.Data.AsSpan(cells.At(cell) + 1, cells.Words).ToArray());
            Assert.Equal(host.Any(w => w != 0) || disk.Any(w => w != 0), cells.HasLowerTiers(cell));
            Assert.Equal(host, Enumerable.Range(0, cells.Words).Select(w => node is null ? 0 : TierNode.Host(node, w)).ToArray());
            Assert.Equal(disk, Enumerable.Range(0, cells.Words).Select(w => node is null ? 0 : TierNode.Disk(node, w)).ToArray());
        }
    }
}
