using System.Collections.Concurrent;
using Dynamo.Router.Routing.Indexing;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Dynamo.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using static Dynamo.Router.Tests.Routing.KvIndexTests;

namespace Dynamo.Router.Tests.Routing;

public sealed class KvEventIngestorTests
{
    [Fact]
    public async Task PostAsync_ConsecutiveIds_AppliesWithoutDumps()
    {
        var index = new KvIndex();
        var dumps = new FakeDumps();
        await using var ingestor = Start(index, dumps);

        await ingestor.PostAsync(Batch("w1", 1, Stored(null, [1, 2], KvTier.Device)));
        await ingestor.PostAsync(Batch("w1", 2, Stored(2, [3], KvTier.Device)));
        await Eventually.TrueAsync(() => ingestor.Applied == 2, "two batches applied");

        Assert.Equal(3, index.FindMatches([1, 2, 3]).For("w1").DeviceBlocks);
        Assert.Equal(0, ingestor.DumpsRequested);
    }

    [Fact]
    public async Task PostAsync_Gap_RebuildsFromDumpThenReplaysNewerHeldBatches()
    {
        var index = new KvIndex();
        var release = new TaskCompletionSource();
        var dumps = new FakeDumps
        {
            Reply = _ => Batch("w1", 5, new KvCleared(), Stored(null, [10, 11], KvTier.Device), Stored(11, [12], KvTier.Host)),
            Gate = release.Task,
        };
        await using var ingestor = Start(index, dumps);
        await ingestor.PostAsync(Batch("w1", 1, Stored(null, [1, 2], KvTier.Device)));

        await ingestor.PostAsync(Batch("w1", 4, Stored(null, [99], KvTier.Device)));
        await ingestor.PostAsync(Batch("w1", 5, Stored(null, [98], KvTier.Device)));
        await ingestor.PostAsync(Batch("w1", 6, Stored(12, [13], KvTier.Device)));
        await Eventually.TrueAsync(() => dumps.Requests.Count == 1, "a dump requested");
        release.SetResult();
        await Eventually.TrueAsync(() => index.LastEventId("w1") == 6, "the held batch after the dump applied");

        Assert.Equal(new WorkerOverlap("w1", 2, 1, 0), index.FindMatches([10, 11, 12]).For("w1"));
        Assert.Single(index.FindMatches([12, 13]).Workers);
        Assert.Empty(index.FindMatches([1]).Workers);
        Assert.Empty(index.FindMatches([99]).Workers);
        Assert.Equal(["w1"], dumps.Requests);
    }

    [Fact]
    public async Task PostAsync_FirstContactMidStream_AsksForADump()
    {
        var index = new KvIndex();
        var dumps = new FakeDumps { Reply = _ => Batch("w2", 40, new KvCleared(), Stored(null, [7], KvTier.Device)) };
        await using var ingestor = Start(index, dumps);

        await ingestor.PostAsync(Batch("w2", 41, Stored(7, [8], KvTier.Device)));
        await Eventually.TrueAsync(() => index.LastEventId("w2") == 41, "dump plus the first batch applied");

        Assert.Equal(2, index.FindMatches([7, 8]).For("w2").DeviceBlocks);
        Assert.Equal(1, ingestor.DumpsRequested);
    }

    [Fact]
    public async Task PostAsync_WorkerRestartedAtEventOne_ReplacesItsPart()
    {
        var index = new KvIndex();
        await using var ingestor = Start(index, new FakeDumps());
        await ingestor.PostAsync(Batch("w1", 1, Stored(null, [1, 2], KvTier.Device)));
        await ingestor.PostAsync(Batch("w1", 2, Stored(2, [3], KvTier.Device)));

        await ingestor.PostAsync(Batch("w1", 1, Stored(null, [5], KvTier.Device)));
        await Eventually.TrueAsync(() => ingestor.Applied == 3, "restart batch applied");

        Assert.Empty(index.FindMatches([1]).Workers);
        Assert.Equal(1, index.BlockCount("w1"));
        Assert.Equal(1, index.LastEventId("w1"));
    }

    [Fact]
    public async Task PostAsync_DumpFails_KeepsStalePartAndRetriesOnALaterGap()
    {
        var index = new KvIndex();
        var time = new ManualTimeProvider();
        var dumps = new FakeDumps { Reply = _ => throw new TimeoutException("no reply") };
        await using var ingestor = Start(index, dumps, time);
        await ingestor.PostAsync(Batch("w1", 1, Stored(null, [1], KvTier.Device)));

        await ingestor.PostAsync(Batch("w1", 3, Stored(1, [2], KvTier.Device)));
        await Eventually.TrueAsync(() => ingestor.DumpsFailed == 1, "the dump failed");
        await ingestor.PostAsync(Batch("w1", 4, Stored(2, [3], KvTier.Device)));
        dumps.Reply = _ => Batch("w1", 4, new KvCleared(), Stored(null, [1, 2, 3], KvTier.Device));
        time.Advance(TimeSpan.FromSeconds(3));
        await ingestor.PostAsync(Batch("w1", 5, Stored(3, [4], KvTier.Device)));
        await Eventually.TrueAsync(() => index.LastEventId("w1") == 5, "second dump and batch 5 applied");

        Assert.Equal(2, dumps.Requests.Count);
        Assert.Equal(4, index.FindMatches([1, 2, 3, 4]).For("w1").DeviceBlocks);
    }

    [Fact]
    public async Task RemoveWorkerAsync_DropsItsPart()
    {
        var index = new KvIndex();
        await using var ingestor = Start(index, new FakeDumps());
        await ingestor.PostAsync(Batch("w1", 1, Stored(null, [1], KvTier.Device)));

        await ingestor.RemoveWorkerAsync("w1");
        await Eventually.TrueAsync(() => !index.HasWorker("w1"), "worker dropped");

        Assert.Equal(0, index.DistinctBlocks);
    }

    [Fact]
    public async Task NatsDumpClient_GapOverRealNats_RebuildsFromTheWorkersReply()
    {
        await using var nats = await NatsServer.StartNewAsync();
        using var host = BuildHost(nats.Url);
        var plane = host.Services.GetRequiredService<IEventPlane>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await plane.WaitUntilConnectedAsync(timeout.Token);
        var asked = 0;
        await using var responder = await plane.ServeAsync(
            Subjects.KvDump("kvtest", "w9"),
            (_, _) =>
            {
                Interlocked.Increment(ref asked);
                var dump = Batch("w9", 20, new KvCleared(), Stored(null, [1, 2, 3], KvTier.Device));
                return ValueTask.FromResult<ReadOnlyMemory<byte>>(ContractSerializer.Serialize(dump));
            },
            cancellationToken: timeout.Token);
        var index = new KvIndex();
        await using var ingestor = Start(index, new NatsKvDumpClient(plane, "kvtest", TimeSpan.FromSeconds(5)));

        await ingestor.PostAsync(Batch("w9", 21, Stored(3, [4], KvTier.Host)));
        await Eventually.TrueAsync(() => index.LastEventId("w9") == 21, "dump over NATS applied");

        Assert.Equal(new WorkerOverlap("w9", 3, 1, 0), index.FindMatches([1, 2, 3, 4]).For("w9"));
        Assert.Equal(1, Volatile.Read(ref asked));
    }

    internal static IHost BuildHost(string natsUrl, string? redis = null, IDictionary<string, string?>? extra = null, Action<IHostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:nats"] = natsUrl,
            ["ConnectionStrings:redis"] = redis ?? "127.0.0.1:1",
            ["Dynamo:Namespace"] = "kvtest",
            ["Dynamo:Nats:ReconnectWait"] = "00:00:00.200",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddDynamoRuntime();
        configure?.Invoke(builder);
        return builder.Build();
    }

    private static KvEventIngestor Start(KvIndex index, IKvDumpClient dumps, TimeProvider? time = null)
    {
        var ingestor = new KvEventIngestor(index, dumps, time ?? TimeProvider.System, TimeSpan.FromSeconds(2), NullLogger.Instance);
        ingestor.Start();
        return ingestor;
    }

    private sealed class FakeDumps : IKvDumpClient
    {
        public ConcurrentQueue<string> Requests { get; } = new();

        public Func<string, KvEventBatch> Reply { get; set; } = worker => throw new InvalidOperationException($"no dump expected for {worker}");

        public Task Gate { get; init; } = Task.CompletedTask;

        public async Task<KvEventBatch> RequestDumpAsync(string workerId, CancellationToken cancellationToken)
        {
            Requests.Enqueue(workerId);
            await Gate.WaitAsync(cancellationToken);
            return Reply(workerId);
        }
    }
}
