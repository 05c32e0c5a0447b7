using System.Collections.Concurrent;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.TestSupport;
using Dynamo.Worker.Tests.Api;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Worker.Tests.Events;

public sealed class KvDumpServerTests
{
    [Fact]
    public async Task Dump_AfterARandomWorkloadWithEvictions_EqualsThePoolAndTheReplayedEventStream()
    {
        await using var nats = await NatsServer.StartNewAsync();
        var settings = WorkerLoadPublisherTests.Mocker("dump-worker", nats.Url, speedUp: 100);
        settings["Worker:KvCapacityBlocks"] = "24";
        await using var app = await WorkerApp.StartAsync(settings);
        var plane = app.Services.GetRequiredService<IEventPlane>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await plane.WaitUntilConnectedAsync(timeout.Token);
        var batches = new ConcurrentQueue<KvEventBatch>();
        await using var subscription = await plane.SubscribeAsync<KvEventBatch>(
            Subjects.KvEvents("dynamo", "dump-worker"),
            (batch, _) =>
            {
                batches.Enqueue(batch);
                return ValueTask.CompletedTask;
            },
            cancellationToken: timeout.Token);
        using var client = app.CreateClient();

        // Shared prefixes (reuse), distinct tails, and more distinct blocks than the pool's 24 (eviction).
        var random = new Random(42);
        for (var round = 0; round < 4; round++)
        {
            var requests = Enumerable.Range(0, 4).Select(async _ =>
            {
                var prefix = Enumerable.Range(1000 * random.Next(3), 32 + 16 * random.Next(2));
                var prompt = prefix.Concat(Enumerable.Range(0, 5 + random.Next(40)).Select(_ => random.Next(5, 30_000))).ToArray();
                using var response = await client.SendAsync(
                    WorkerApp.Generate(new { token_ids = prompt, max_tokens = 1 + random.Next(30) }),
                    HttpCompletionOption.ResponseHeadersRead,
                    timeout.Token);
                await WorkerApp.ReadEventsAsync(response);
            });
            await Task.WhenAll(requests);
        }

        var reply = await plane.RequestAsync(Subjects.KvDump("dynamo", "dump-worker"), ReadOnlyMemory<byte>.Empty, TimeSpan.FromSeconds(10), timeout.Token);
        var dump = ContractSerializer.Deserialize<KvEventBatch>(reply.Data.Span);
        var kv = app.Engine.KvBlocks;
        var (pool, lastEventId) = await app.Engine.Scheduler.InvokeAsync(() => (kv.CachedHashes(KvTier.Device), kv.LastEventId), timeout.Token);
        while (batches.Count < lastEventId)
        {
            await Task.Delay(20, timeout.Token);
        }

        var replayed = Replay(batches.OrderBy(b => b.EventId).SelectMany(b => b.Events));
        var dumped = Replay(dump.Events);

        Assert.Equal("dump-worker", dump.WorkerId);
        Assert.Equal(lastEventId, dump.EventId);
        Assert.IsType<KvCleared>(dump.Events[0]);
        Assert.Contains(batches, b => b.Events.OfType<KvRemoved>().Any());
        Assert.NotEmpty(pool);
        Assert.Equal(pool.Order(), dumped.Order());
        Assert.Equal(pool.Order(), replayed.Order());
        Assert.Equal(Enumerable.Range(1, (int)lastEventId).Select(i => (long)i), batches.Select(b => b.EventId).Order());
    }

    [Fact]
    public async Task Dump_EmptyCache_IsJustClearedAtEventZero()
    {
        await using var nats = await NatsServer.StartNewAsync();
        await using var app = await WorkerApp.StartAsync(WorkerLoadPublisherTests.Mocker("dump-empty", nats.Url));
        var plane = app.Services.GetRequiredService<IEventPlane>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await plane.WaitUntilConnectedAsync(timeout.Token);

        var reply = await plane.RequestAsync(Subjects.KvDump("dynamo", "dump-empty"), ReadOnlyMemory<byte>.Empty, TimeSpan.FromSeconds(10), timeout.Token);
        var dump = ContractSerializer.Deserialize<KvEventBatch>(reply.Data.Span);

        Assert.Equal(0, dump.EventId);
        Assert.IsType<KvCleared>(Assert.Single(dump.Events));
    }

    /// <summary>A router's view of one worker's G1 blocks after applying events in order.</summary>
    private static HashSet<ulong> Replay(IEnumerable<KvEvent> events)
    {
        var device = new HashSet<ulong>();
        foreach (var e in events)
        {
            switch (e)
            {
                case KvStored stored when stored.Tier is null or KvTier.Device:
                    device.UnionWith(stored.Blocks.Select(b => b.SeqHash));
                    break;
                case KvRemoved removed when removed.Tier is null or KvTier.Device:
                    device.ExceptWith(removed.SeqHashes);
                    break;
                case KvCleared:
                    device.Clear();
                    break;
            }
        }

        return device;
    }
}
