using System.Diagnostics.Metrics;
using Dynamo.Runtime.Contracts;
using Dynamo.Worker.KvCache;

namespace Dynamo.Worker.Tests.KvCache;

public sealed class KvEventTests
{
    private static readonly KvTier[] AllTiers = [KvTier.Device, KvTier.Host, KvTier.Disk];

    [Fact]
    public void Events_RandomWorkloadReplayedIntoFreshIndex_EqualManagerContentsPerTier()
    {
        using var rig = new KvRig(blocks: 24, hostBlocks: 10, diskBlocks: 6);
        var random = new Random(1234);
        var live = new List<long>();
        for (var step = 0; step < 400; step++)
        {
            var action = random.Next(4);
            if (action == 0 && live.Count > 0)
            {
                var victim = live[random.Next(live.Count)];
                rig.Manager.Free(victim);
                live.Remove(victim);
            }
            else if (action == 1 && live.Count > 0)
            {
                var id = live[random.Next(live.Count)];
                if (rig.Manager.TryAppend(id, [random.Next(3)]))
                {
                    rig.Manager.MarkComputed(id, rig.Manager.TokenCount(id));
                }
            }
            else
            {
                // Few distinct prompt families of varying length, so prefixes repeat and tiers churn.
                var prompt = KvRig.Tokens(1 + random.Next(24), random.Next(6));
                if (rig.Manager.TryAllocate(step, prompt) is not null)
                {
                    rig.Manager.MarkComputed(step, prompt.Length);
                    live.Add(step);
                }
            }
        }

        var index = new ReplayIndex();
        foreach (var e in rig.Sink.Events)
        {
            index.Apply(e);
        }

        var dumped = new ReplayIndex();
        foreach (var e in rig.Manager.Dump())
        {
            var stored = Assert.IsType<KvStored>(e);
            var parentInTier = stored.ParentHash is { } parent && rig.Manager.CachedHashes(stored.Tier!.Value).Contains(parent);
            Assert.True(!parentInTier || dumped[stored.Tier!.Value].Contains(stored.ParentHash!.Value), "Dump listed a child before its parent.");
            dumped.Apply(e);
        }

        foreach (var tier in AllTiers)
        {
            var actual = rig.Manager.CachedHashes(tier);
            Assert.Equal(actual.Order(), index[tier].Order());
            Assert.Equal(actual.Order(), dumped[tier].Order());
        }

        Assert.NotEmpty(rig.Manager.CachedHashes(KvTier.Host));
        Assert.NotEmpty(rig.Manager.CachedHashes(KvTier.Disk));
        Assert.Equal(Enumerable.Range(1, rig.Sink.Batches.Count).Select(i => (long)i), rig.Sink.Batches.Select(b => b.EventId));
        Assert.All(rig.Sink.Batches, b => Assert.Equal("worker-1", b.WorkerId));
    }

    [Fact]
    public void MarkComputed_PromptBlocks_OneStoredEventWithParentChain()
    {
        using var rig = new KvRig(blocks: 8);
        var prompt = KvRig.Tokens(10);
        rig.Prefill(1, prompt);
        rig.Manager.TryAppend(1, [7, 8]);

        rig.Manager.MarkComputed(1, 12);

        var hashes = Dynamo.Runtime.Hashing.KvBlockHashing.ComputeBlockHashes([.. prompt, 7, 8], 4);
        var first = Assert.IsType<KvStored>(Assert.Single(rig.Sink.Batches[0].Events));
        Assert.Null(first.ParentHash);
        Assert.Equal(KvTier.Device, first.Tier);
        Assert.Equal([new KvStoredBlock(hashes.SequenceHashes[0], hashes.LocalHashes[0]), new KvStoredBlock(hashes.SequenceHashes[1], hashes.LocalHashes[1])], first.Blocks);
        var second = Assert.IsType<KvStored>(Assert.Single(rig.Sink.Batches[1].Events));
        Assert.Equal(hashes.SequenceHashes[1], second.ParentHash);
        Assert.Equal(hashes.SequenceHashes[2], Assert.Single(second.Blocks).SeqHash);
        Assert.Equal([1L, 2L], rig.Sink.Batches.Select(b => b.EventId));
    }

    [Fact]
    public void TryAllocate_EvictionToHost_EmitsRemovedDeviceThenStoredHostInOneBatch()
    {
        using var rig = new KvRig(blocks: 2, hostBlocks: 4);
        var prompt = KvRig.Tokens(5);
        var hash = KvRig.SeqHashes(prompt)[0];
        rig.Prefill(1, prompt);
        rig.Manager.Free(1);

        rig.Manager.TryAllocate(2, KvRig.Tokens(8, salt: 1));

        var batch = rig.Sink.Batches[^1];
        Assert.Equal(2, batch.EventId);
        Assert.Collection(
            batch.Events,
            e =>
            {
                var removed = Assert.IsType<KvRemoved>(e);
                Assert.Equal(KvTier.Device, removed.Tier);
                Assert.Equal([hash], removed.SeqHashes);
            },
            e => Assert.Equal(KvTier.Host, Assert.IsType<KvStored>(e).Tier));
    }

    [Fact]
    public void Reset_AfterWork_EmitsClearedAndEmptiesEveryTier()
    {
        using var rig = new KvRig(blocks: 2, hostBlocks: 4);
        rig.Prefill(1, KvRig.Tokens(5));
        rig.Manager.Free(1);
        rig.Prefill(2, KvRig.Tokens(8, salt: 1));
        Assert.Throws<InvalidOperationException>(rig.Manager.Reset);
        rig.Manager.Free(2);

        rig.Manager.Reset();

        Assert.IsType<KvCleared>(Assert.Single(rig.Sink.Batches[^1].Events));
        Assert.Empty(rig.Manager.Dump());
        Assert.Equal(2, rig.Manager.AvailableBlocks);
        Assert.Equal(2, rig.Manager.Snapshot().FreeBlocks);
    }

    [Fact]
    public void Metrics_HitsAndUsage_ReportedOnMeterWithTierTag()
    {
        var hits = new Dictionary<string, long>();
        var usage = new Dictionary<string, double>();
        using var meters = new TestMeterFactory();
        using var rig = new KvRig(blocks: 8, hostBlocks: 2, meterFactory: meters);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only this rig's meter: other tests' managers publish on the same meter name in parallel.
            if (instrument.Meter.Name == "Dynamo.Worker.KvCache" && meters.Meters.Contains(instrument.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "dynamo_worker_kv_hits_total")
            {
                var tier = (string)tags[0].Value!;
                hits[tier] = hits.GetValueOrDefault(tier) + value;
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "dynamo_worker_kv_usage")
            {
                usage[(string)tags[0].Value!] = value;
            }
        });
        listener.Start();
        rig.Prefill(1, KvRig.Tokens(9));
        rig.Manager.TryAllocate(2, KvRig.Tokens(9));

        listener.RecordObservableInstruments();

        Assert.Equal(2, hits["device"]);
        Assert.Equal(4 / 8d, usage["device"]);
        Assert.Equal(0, usage["host"]);
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        public List<Meter> Meters { get; } = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            Meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var meter in Meters)
            {
                meter.Dispose();
            }
        }
    }
}
