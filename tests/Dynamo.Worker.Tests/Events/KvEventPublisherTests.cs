using System.Collections.Concurrent;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.TestSupport;
using Dynamo.Worker.Events;
using Dynamo.Worker.Tests.Api;
using Dynamo.Worker.Tests.Engine;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Worker.Tests.Events;

[Collection(EngineCollection.Name)]
public sealed class KvEventPublisherTests(EngineModelsFixture models)
{
    [Fact]
    public async Task Generate_WithNats_PublishesStoredBlocksWithConsecutiveEventIdsOnTheWorkersSubject()
    {
        await using var nats = await NatsServer.StartNewAsync();
        await using var app = await WorkerApp.StartAsync(new()
        {
            ["Worker:ModelPath"] = models.LlamaF32,
            ["ConnectionStrings:nats"] = nats.Url,
            ["DYNAMO_INSTANCE_ID"] = "kv-events-worker",
        });
        var plane = app.Services.GetRequiredService<IEventPlane>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await plane.WaitUntilConnectedAsync(timeout.Token);
        var batches = new ConcurrentQueue<KvEventBatch>();
        await using var subscription = await plane.SubscribeAsync<KvEventBatch>(
            Subjects.KvEvents("dynamo", "kv-events-worker"),
            (batch, _) =>
            {
                batches.Enqueue(batch);
                return ValueTask.CompletedTask;
            },
            cancellationToken: timeout.Token);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(
            WorkerApp.Generate(new { token_ids = Enumerable.Range(100, 40).ToArray(), max_tokens = 4, sampling = new { temperature = 0 } }),
            HttpCompletionOption.ResponseHeadersRead,
            timeout.Token);
        await WorkerApp.ReadEventsAsync(response);
        while (!batches.SelectMany(b => b.Events).OfType<KvStored>().Any(s => s.Blocks.Count > 0))
        {
            await Task.Delay(50, timeout.Token);
        }

        var received = batches.ToArray();
        Assert.All(received, b => Assert.Equal("kv-events-worker", b.WorkerId));
        Assert.Equal(Enumerable.Range(1, received.Length).Select(i => (long)i), received.Select(b => b.EventId));
        var stored = received.SelectMany(b => b.Events).OfType<KvStored>().ToArray();
        Assert.Null(stored[0].ParentHash);
        Assert.True(stored.Sum(s => s.Blocks.Count) >= 2, "a 40-token prompt fills two 16-token blocks");
        Assert.Equal(0, app.Services.GetRequiredService<KvEventPublisher>().Dropped);
    }

    [Fact]
    public async Task Publish_NatsUnreachable_DropsAndCountsInsteadOfBlockingGeneration()
    {
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:ModelPath"] = models.LlamaF32 });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(
            WorkerApp.Generate(new { token_ids = Enumerable.Range(100, 40).ToArray(), max_tokens = 4, sampling = new { temperature = 0 } }),
            HttpCompletionOption.ResponseHeadersRead);
        var events = await WorkerApp.ReadEventsAsync(response);
        var publisher = app.Services.GetRequiredService<KvEventPublisher>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (publisher.Dropped == 0)
        {
            await Task.Delay(50, timeout.Token);
        }

        Assert.Equal(4, events.Count);
        Assert.Equal(0, publisher.Published);
    }
}
