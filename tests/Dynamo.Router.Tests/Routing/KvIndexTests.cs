using Dynamo.Router.Routing.Indexing;
using Dynamo.Runtime.Contracts;

namespace Dynamo.Router.Tests.Routing;

public sealed class KvIndexTests
{
    [Fact]
    public void FindMatches_PrefixHeldInTiers_CountsEachBlockInItsBestTier()
    {
        var index = new KvIndex();
        index.Apply(Batch("w1", 1, Stored(null, [1, 2, 3, 4], KvTier.Device)));
        index.Apply(Batch("w1", 2, new KvRemoved([3, 4], KvTier.Device), Stored(2, [3], KvTier.Host), Stored(3, [4], KvTier.Disk)));
        index.Apply(Batch("w2", 1, Stored(null, [1, 2], KvTier.Host), Stored(null, [1], KvTier.Device)));

        var matches = index.FindMatches([1, 2, 3, 4, 5]);

        Assert.Equal(new WorkerOverlap("w1", 2, 1, 1), matches.For("w1"));
        Assert.Equal(new WorkerOverlap("w2", 1, 1, 0), matches.For("w2"));
        Assert.Equal(new WorkerOverlap("w3", 0, 0, 0), matches.For("w3"));
    }

    [Fact]
    public void FindMatches_HoleInTheChain_StopsAtTheHole()
    {
        var index = new KvIndex();
        index.Apply(Batch("w1", 1, Stored(null, [1, 2, 3, 4], KvTier.Device)));
        index.Apply(Batch("w1", 2, new KvRemoved([2])));

        Assert.Equal(1, index.FindMatches([1, 2, 3, 4]).For("w1").TotalBlocks);
        Assert.Equal(3, index.BlockCount("w1"));
    }

    [Fact]
    public void RemoveWorker_SharedBlocks_KeepsOtherWorkersAndDropsOrphanedNodes()
    {
        var index = new KvIndex();
        index.Apply(Batch("w1", 1, Stored(null, [1, 2, 3], KvTier.Device)));
        index.Apply(Batch("w2", 1, Stored(null, [1, 2], KvTier.Device)));

        var dropped = index.RemoveWorker("w1");

        Assert.Equal(3, dropped);
        Assert.Equal(2, index.DistinctBlocks);
        Assert.Equal(0, index.BlockCount("w1"));
        Assert.Null(index.LastEventId("w1"));
        var only = Assert.Single(index.FindMatches([1, 2, 3]).Workers);
        Assert.Equal(new WorkerOverlap("w2", 2, 0, 0), only);
    }

    [Fact]
    public void FindMatches_SharedPrefixOnManyWorkers_ReportsEachWorkersOwnDepth()
    {
        var index = new KvIndex();
        for (var w = 0; w < 20; w++)
        {
            index.Apply(Batch($"w{w}", 1, Stored(null, [.. Enumerable.Range(1, 1 + (w % 5)).Select(i => (ulong)i)], KvTier.Device)));
        }

        var matches = index.FindMatches([1, 2, 3, 4, 5, 6]);

        Assert.Equal(20, matches.Workers.Count);
        for (var w = 0; w < 20; w++)
        {
            Assert.Equal(1 + (w % 5), matches.For($"w{w}").DeviceBlocks);
        }

        Assert.Equal(0, matches.For("w99").TotalBlocks);
    }

    [Fact]
    public void Apply_RandomEventStreams_MatchesANaiveModel()
    {
        var random = new Random(42);
        var index = new KvIndex();
        var model = new NaiveModel();
        string[] workers = ["a", "b", "c", "d"];
        var eventIds = workers.ToDictionary(w => w, _ => 0L);

        // Prompts share prefixes: 30 chains of up to 12 blocks over a small hash alphabet, so workers overlap.
        var chains = Enumerable.Range(0, 30)
            .Select(_ => Enumerable.Range(0, random.Next(1, 13)).Select(_ => (ulong)random.Next(1, 60)).ToArray())
            .Select(Chain)
            .ToArray();
        for (var step = 0; step < 3000; step++)
        {
            var worker = workers[random.Next(workers.Length)];
            var chain = chains[random.Next(chains.Length)];
            var tier = (KvTier)random.Next(3);
            KvEvent change = random.Next(20) switch
            {
                0 => new KvCleared(),
                < 8 => new KvRemoved([.. chain.Skip(random.Next(chain.Length)).Take(random.Next(1, 4))], random.Next(2) == 0 ? null : tier),
                _ => Stored(null, chain[..random.Next(1, chain.Length + 1)], tier),
            };
            index.Apply(Batch(worker, ++eventIds[worker], change));
            model.Apply(worker, change);

            if (step % 50 == 0)
            {
                foreach (var query in chains)
                {
                    foreach (var w in workers)
                    {
                        Assert.Equal(model.Overlap(w, query), index.FindMatches(query).For(w));
                    }
                }
            }
        }

        foreach (var w in workers)
        {
            Assert.Equal(model.Count(w), index.BlockCount(w));
            Assert.Equal(eventIds[w], index.LastEventId(w));
        }

        Assert.Equal(model.Distinct(), index.DistinctBlocks);
    }

    [Fact]
    public async Task FindMatches_WhileIngesting_AlwaysSeesAConsistentPrefix()
    {
        var index = new KvIndex();
        var chain = Chain([.. Enumerable.Range(1, 32).Select(i => (ulong)i)]);
        index.Apply(Batch("stable", 1, Stored(null, chain, KvTier.Device)));
        var writer = Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                // The churning worker stores the whole chain and removes its tail, again and again.
                index.Apply(Batch("churn", (2 * i) + 1, Stored(null, chain, KvTier.Device)));
                index.Apply(Batch("churn", (2 * i) + 2, new KvRemoved([.. chain[(i % 32)..]])));
            }
        });
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            var lookups = 0;
            while (!writer.IsCompleted || lookups < 1000)
            {
                var matches = index.FindMatches(chain);
                Assert.Equal(32, matches.For("stable").DeviceBlocks);
                var churn = matches.For("churn").DeviceBlocks;
                Assert.InRange(churn, 0, 32);
                lookups++;
            }

            return lookups;
        })).ToArray();

        await writer;
        var counts = await Task.WhenAll(readers);

        Assert.All(counts, c => Assert.True(c >= 1000));
        Assert.Equal(19_999 % 32, index.FindMatches(chain).For("churn").DeviceBlocks);
    }

    [Fact]
    public void ExportImport_RoundTrip_RestoresBlocksTiersAndEventId()
    {
        var index = new KvIndex();
        index.Apply(Batch("w1", 7, Stored(null, [1, 2], KvTier.Device), Stored(2, [3], KvTier.Disk)));
        var part = index.ExportWorker("w1")!;
        var restored = new KvIndex();

        restored.ImportWorker(part);

        Assert.Equal(7, restored.LastEventId("w1"));
        Assert.Equal(new WorkerOverlap("w1", 2, 0, 1), restored.FindMatches([1, 2, 3]).For("w1"));
    }

    internal static KvEventBatch Batch(string worker, long id, params KvEvent[] events) => new(worker, id, DateTimeOffset.UnixEpoch, events);

    internal static KvStored Stored(ulong? parent, ulong[] hashes, KvTier tier) =>
        new(parent, [.. hashes.Select(h => new KvStoredBlock(h, h))], tier);

    // Turns arbitrary "local" values into chained values so a shared local prefix means a shared chain.
    private static ulong[] Chain(ulong[] locals)
    {
        var chained = new ulong[locals.Length];
        ulong previous = 17;
        for (var i = 0; i < locals.Length; i++)
        {
            previous = (previous * 1_000_003) ^ locals[i];
            chained[i] = previous;
        }

        return chained;
    }

    /// <summary>The obvious model: per worker, hash → set of tiers; overlap walks the chain.</summary>
    private sealed class NaiveModel
    {
        private readonly Dictionary<string, Dictionary<ulong, HashSet<KvTier>>> _held = [];

        public void Apply(string worker, KvEvent change)
        {
            var held = _held.TryGetValue(worker, out var h) ? h : _held[worker] = [];
            switch (change)
            {
                case KvCleared:
                    held.Clear();
                    break;
                case KvStored stored:
                    foreach (var block in stored.Blocks)
                    {
                        (held.TryGetValue(block.SeqHash, out var t) ? t : held[block.SeqHash] = []).Add(stored.Tier ?? KvTier.Device);
                    }

                    break;
                case KvRemoved removed:
                    foreach (var hash in removed.SeqHashes)
                    {
                        if (held.TryGetValue(hash, out var tiers))
                        {
                            if (removed.Tier is { } tier)
                            {
                                tiers.Remove(tier);
                            }
                            else
                            {
                                tiers.Clear();
                            }

                            if (tiers.Count == 0)
                            {
                                held.Remove(hash);
                            }
                        }
                    }

                    break;
            }
        }

        public WorkerOverlap Overlap(string worker, ulong[] chain)
        {
            int device = 0, host = 0, disk = 0;
            var held = _held.GetValueOrDefault(worker) ?? [];
            foreach (var hash in chain)
            {
                if (!held.TryGetValue(hash, out var tiers))
                {
                    break;
                }

                if (tiers.Contains(KvTier.Device))
                {
                    device++;
                }
                else if (tiers.Contains(KvTier.Host))
                {
                    host++;
                }
                else
                {
                    disk++;
                }
            }

            return new WorkerOverlap(worker, device, host, disk);
        }

        public long Count(string worker) => _held.GetValueOrDefault(worker)?.Count ?? 0;

        public long Distinct() => _held.Values.SelectMany(h => h.Keys).Distinct().LongCount();
    }
}
