using Dynamo.Router.Routing.Indexing;
using Dynamo.Runtime.Contracts;
using static Dynamo.Router.Tests.Routing.KvIndexTests;

namespace Dynamo.Router.Tests.Routing;

/// <summary>The index's lookup structures: slot bitsets, slot reuse, the lock-free block table, reusable buffers.</summary>
public sealed class KvIndexLayoutTests
{
    [Fact]
    public void FindMatches_WorkersAcrossSeveralBitsetWords_ReportsEachDepthAndTier()
    {
        var index = new KvIndex();
        for (var w = 0; w < 200; w++)
        {
            var tier = w % 7 == 0 ? KvTier.Host : KvTier.Device;
            index.Apply(Batch($"w{w}", 1, Stored(null, [.. Enumerable.Range(1, 1 + (w % 9)).Select(i => (ulong)i)], tier)));
        }

        var matches = index.FindMatches([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

        Assert.Equal(200, matches.Workers.Count);
        for (var w = 0; w < 200; w++)
        {
            var depth = 1 + (w % 9);
            var expected = w % 7 == 0 ? new WorkerOverlap($"w{w}", 0, depth, 0) : new WorkerOverlap($"w{w}", depth, 0, 0);
            Assert.Equal(expected, matches.For($"w{w}"));
        }
    }

    [Fact]
    public void RemoveWorker_SlotReusedByANewWorker_NewWorkerSeesOnlyItsOwnBlocks()
    {
        var index = new KvIndex();
        index.Apply(Batch("old", 1, Stored(null, [1, 2, 3], KvTier.Device)));
        index.Apply(Batch("other", 1, Stored(null, [1], KvTier.Device)));
        index.RemoveWorker("old");

        index.Apply(Batch("new", 1, Stored(null, [7, 8], KvTier.Disk)));

        Assert.Equal(0, index.SlotOf("new"));
        Assert.Equal(new WorkerOverlap("other", 1, 0, 0), Assert.Single(index.FindMatches([1, 2, 3]).Workers));
        Assert.Equal(new WorkerOverlap("new", 0, 0, 2), Assert.Single(index.FindMatches([7, 8]).Workers));
        Assert.Equal(3, index.DistinctBlocks);
    }

    [Fact]
    public void FindMatches_ReusedBuffer_ForgetsThePreviousLookup()
    {
        var index = new KvIndex();
        index.Apply(Batch("a", 1, Stored(null, [1, 2, 3], KvTier.Host)));
        index.Apply(Batch("b", 1, Stored(null, [9], KvTier.Device)));
        var buffer = new KvMatchBuffer();

        index.FindMatches([1, 2, 3], buffer);
        index.FindMatches([9], buffer);

        Assert.Equal(1, buffer.Count);
        Assert.Equal(new WorkerOverlap("b", 1, 0, 0), buffer[0]);
        Assert.Equal(new WorkerOverlap("a", 0, 0, 0), buffer.For("a"));
    }

    [Fact]
    public void TierTable_RandomSetsAndRemovesThroughGrowth_MatchesADictionary()
    {
        var random = new Random(7);
        var table = new TierTable();
        var model = new Dictionary<ulong, ulong>();
        for (var step = 0; step < 200_000; step++)
        {
            // A small key space (with 0, the tombstone's key) forces collisions, tombstone reuse and rebuilds.
            var key = (ulong)random.Next(0, 5000) * (step % 3 == 0 ? 1UL : 0x1_0000_0000UL);
            if (random.Next(3) == 0)
            {
                Assert.Equal(model.Remove(key), table.Remove(key));
            }
            else
            {
                var value = (ulong)step;
                table.Set([key, value]);
                model[key] = value;
            }

            if (step % 10_000 == 0)
            {
                foreach (var (k, v) in model)
                {
                    Assert.Equal(v, table.Find(k)![1]);
                }
            }
        }

        Assert.Equal(model.Count, table.Count);
        for (ulong k = 0; k < 5000; k++)
        {
            Assert.Equal(model.TryGetValue(k, out var v) ? v : (ulong?)null, table.Find(k)?[1]);
        }
    }

    /// <summary>
    /// Many readers against writers that churn prefixes, change tiers, and free and reuse slots. Each churning worker
    /// always holds a contiguous prefix of the query chain, so a lookup that overlaps several of its states must report
    /// a depth between the smallest and the largest of them; a worker that never held the chain must never appear
    /// (it would, were a reused slot's old bits credited to its new owner).
    /// </summary>
    [Fact]
    public async Task FindMatches_ReadersWhileWritersChurnAndReuseSlots_StayWithinTheReferenceModel()
    {
        const int Writers = 2;
        const int Steps = 6000;
        var index = new KvIndex();
        var chain = Enumerable.Range(1, 40).Select(i => (ulong)i * 0x9E37_79B9UL).ToArray();
        var elsewhere = Enumerable.Range(1, 8).Select(i => (ulong)i * 0x1234_5678_9UL).ToArray();
        index.Apply(Batch("stable", 1, Stored(null, chain, KvTier.Device)));

        // history[t][v] is writer t's model depth at its v-th state, written before the index can show that state.
        var history = Enumerable.Range(0, Writers).Select(_ => new int[Steps + 2]).ToArray();
        var pending = new int[Writers];
        var applied = new int[Writers];
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, Writers).Select(t => Task.Run(() =>
        {
            var random = new Random(t);
            var worker = $"churn-{t}";
            var current = 0;
            for (var v = 1; v <= Steps; v++)
            {
                // Grow by storing the next blocks in order, shrink by removing the tail from its front: every state
                // a reader can catch, mid-batch included, is a prefix between the old depth and the new.
                var depth = random.Next(0, chain.Length + 1);
                history[t][v] = depth;
                Volatile.Write(ref pending[t], v);
                KvEvent change = depth >= current
                    ? Stored(null, chain[current..depth], (KvTier)random.Next(3))
                    : new KvRemoved([.. chain[depth..current]]);
                index.Apply(Batch(worker, v, change));
                Volatile.Write(ref applied[t], v);
                current = depth;
            }
        })).ToList();
        writers.Add(Task.Run(() =>
        {
            // Slot churn: a worker holding the chain leaves, and a newcomer that holds something else takes its slot.
            for (var i = 0; i < Steps / 2; i++)
            {
                index.Apply(Batch("leaver", 1, Stored(null, chain[..(1 + (i % chain.Length))], KvTier.Device)));
                index.RemoveWorker("leaver");
                index.Apply(Batch($"ghost-{i}", 1, Stored(null, elsewhere, KvTier.Device)));
                index.RemoveWorker($"ghost-{i}");
            }
        }));
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            var buffer = new KvMatchBuffer();
            var lookups = 0;
            while (!stop.IsCancellationRequested || lookups < 200)
            {
                var before = new int[Writers];
                for (var t = 0; t < Writers; t++)
                {
                    before[t] = Volatile.Read(ref applied[t]);
                }

                index.FindMatches(chain, buffer);
                for (var i = 0; i < buffer.Count; i++)
                {
                    var id = buffer[i].WorkerId;
                    Assert.True(id is "stable" or "leaver" || id.StartsWith("churn-", StringComparison.Ordinal), $"{id} never held the chain");
                }

                Assert.Equal(new WorkerOverlap("stable", chain.Length, 0, 0), buffer.For("stable"));
                for (var t = 0; t < Writers; t++)
                {
                    var seen = buffer.For($"churn-{t}").TotalBlocks;
                    var window = history[t][before[t]..(Volatile.Read(ref pending[t]) + 1)];
                    Assert.InRange(seen, window.Min(), window.Max());
                }

                lookups++;
            }

            return lookups;
        })).ToArray();

        await Task.WhenAll(writers);
        await stop.CancelAsync();
        var counts = await Task.WhenAll(readers);

        Assert.All(counts, c => Assert.True(c >= 200));
        Assert.Equal(Writers + 1, index.Workers.Count);
        for (var t = 0; t < Writers; t++)
        {
            Assert.Equal(history[t][Steps], index.FindMatches(chain).For($"churn-{t}").TotalBlocks);
        }
    }
}
