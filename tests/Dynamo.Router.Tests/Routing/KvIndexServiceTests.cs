using Dynamo.Router.Routing;
using Dynamo.Router.Routing.Indexing;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Dynamo.Router.Tests.Routing.KvIndexTests;

namespace Dynamo.Router.Tests.Routing;

public sealed class KvIndexServiceTests
{
    [Fact]
    public async Task Host_EventsThenLeaseExpiry_IndexesThenDropsTheWorker()
    {
        await using var nats = await NatsServer.StartNewAsync();
        await using var redis = await RedisServer.StartNewAsync();
        using var host = BuildRouterHost(nats.Url, redis.ConnectionString);
        var plane = host.Services.GetRequiredService<IEventPlane>();
        await plane.WaitUntilConnectedAsync();
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<IWorkerRegistry>();
        var index = host.Services.GetRequiredService<KvIndex>();
        await registry.RegisterAsync(Registration("w1"), TimeSpan.FromSeconds(1));

        await plane.PublishAsync(Subjects.KvEvents("kvtest", "w1"), Batch("w1", 1, Stored(null, [1, 2, 3], KvTier.Device)));
        await Eventually.TrueAsync(() => index.BlockCount("w1") == 3, "events indexed");
        await Eventually.TrueAsync(() => !index.HasWorker("w1"), "expired lease dropped the worker", seconds: 30);

        Assert.Equal(0, index.DistinctBlocks);
        await host.StopAsync();
    }

    [Fact]
    public async Task Host_Restart_LoadsSnapshotAndContinuesFromItsEventId()
    {
        await using var nats = await NatsServer.StartNewAsync();
        await using var redis = await RedisServer.StartNewAsync();
        using (var first = BuildRouterHost(nats.Url, redis.ConnectionString))
        {
            var plane = first.Services.GetRequiredService<IEventPlane>();
            await plane.WaitUntilConnectedAsync();
            await first.StartAsync();
            await first.Services.GetRequiredService<IWorkerRegistry>().RegisterAsync(Registration("w1"), TimeSpan.FromMinutes(5));
            await plane.PublishAsync(Subjects.KvEvents("kvtest", "w1"), Batch("w1", 1, Stored(null, [1, 2], KvTier.Device), Stored(2, [3], KvTier.Disk)));
            var index = first.Services.GetRequiredService<KvIndex>();
            await Eventually.TrueAsync(() => index.LastEventId("w1") == 1, "events indexed");
            await first.StopAsync();
        }

        using var second = BuildRouterHost(nats.Url, redis.ConnectionString);
        var plane2 = second.Services.GetRequiredService<IEventPlane>();
        await plane2.WaitUntilConnectedAsync();
        await second.StartAsync();
        var restored = second.Services.GetRequiredService<KvIndex>();

        Assert.Equal(new WorkerOverlap("w1", 2, 0, 1), restored.FindMatches([1, 2, 3]).For("w1"));
        Assert.Equal(1, restored.LastEventId("w1"));
        await plane2.PublishAsync(Subjects.KvEvents("kvtest", "w1"), Batch("w1", 2, Stored(3, [4], KvTier.Host)));
        await Eventually.TrueAsync(() => restored.LastEventId("w1") == 2, "the event after the snapshot's applied without a dump");

        Assert.Equal(new WorkerOverlap("w1", 2, 1, 1), restored.FindMatches([1, 2, 3, 4]).For("w1"));
        Assert.Equal(0, second.Services.GetRequiredService<KvEventIngestor>().DumpsRequested);
        await second.StopAsync();
    }

    [Fact]
    public async Task SaveAsync_WorkerGone_DeletesItsDocument()
    {
        await using var redis = await RedisServer.StartNewAsync();
        using var host = BuildRouterHost("nats://127.0.0.1:1", redis.ConnectionString);
        var store = host.Services.GetRequiredService<IStateStore>();
        var snapshots = host.Services.GetRequiredService<KvIndexSnapshotStore>();
        var index = new KvIndex();
        index.Apply(Batch("w1", 3, Stored(null, [1], KvTier.Device)));
        index.Apply(Batch("w2", 4, Stored(null, [1, 2], KvTier.Host)));

        Assert.Equal(2, await snapshots.SaveAsync(index, CancellationToken.None));
        Assert.Equal(0, await snapshots.SaveAsync(index, CancellationToken.None));
        index.RemoveWorker("w1");
        await snapshots.SaveAsync(index, CancellationToken.None);

        var stored = await store.ListAsync("kv-index", SnapshotJsonContext.Default.KvIndexSnapshotDocument);
        var only = Assert.Single(stored);
        Assert.Equal("w2", only.Key);
        Assert.Equal(4, only.Value.LastEventId);
        Assert.Equal(2, only.Value.BlockCount);
    }

    internal static WorkerRegistration Registration(string id, string engine = "mocker", long capacity = 1000, int blockSize = 16) =>
        new(id, "m", WorkerRole.Aggregated, engine, new WorkerEndpoints("http://127.0.0.1:1"), blockSize, capacity, DateTimeOffset.UnixEpoch);

    private static IHost BuildRouterHost(string nats, string redis) =>
        KvEventIngestorTests.BuildHost(
            nats,
            redis,
            new Dictionary<string, string?> { ["Dynamo:Redis:ReconciliationInterval"] = "00:00:01" },
            builder => builder.AddKvRouting());
}
