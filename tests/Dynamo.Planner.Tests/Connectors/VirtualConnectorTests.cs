using Dynamo.Planner.Connectors;
using Dynamo.Planner.Hosting;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dynamo.Planner.Tests.Connectors;

public sealed class VirtualConnectorTests
{
    [Fact]
    public async Task ScaleAsync_ControllerAcknowledges_ReturnsItsAnswer()
    {
        await using var redis = await RedisServer.StartNewAsync();
        using var host = RuntimeHost.CreateBuilder("nats://127.0.0.1:1", redis.ConnectionString).WithRuntime().Build();
        var store = host.Services.GetRequiredService<IStateStore>();
        var connector = new VirtualConnector(store, Options.Create(new PlannerOptions { VirtualAckTimeoutSeconds = 20 }), TimeProvider.System);
        using var stop = new CancellationTokenSource();
        var controller = AcknowledgeAsync(store, "decode", stop.Token);

        var outcome = await connector.ScaleAsync("decode", 3, "decision-7", CancellationToken.None);
        await stop.CancelAsync();
        await controller;

        Assert.Equal("acknowledged by test-controller: decode → 3 replicas", outcome);
        Assert.Equal(3, await connector.GetReplicasAsync("decode", CancellationToken.None));
        var request = await store.GetAsync(VirtualConnector.RequestsCollection, "decode", PlannerJsonContext.Default.VirtualScaleRequest);
        Assert.Equal("decision-7", request!.DecisionId);
    }

    [Fact]
    public async Task ScaleAsync_NobodyAcknowledges_ThrowsAfterTimeout()
    {
        await using var redis = await RedisServer.StartNewAsync();
        using var host = RuntimeHost.CreateBuilder("nats://127.0.0.1:1", redis.ConnectionString).WithRuntime().Build();
        var store = host.Services.GetRequiredService<IStateStore>();
        await store.SetAsync(VirtualConnector.AcksCollection, "prefill",
            new VirtualScaleAck("an-older-decision", 2, "test-controller", DateTimeOffset.UnixEpoch), PlannerJsonContext.Default.VirtualScaleAck);
        var connector = new VirtualConnector(store, Options.Create(new PlannerOptions { VirtualAckTimeoutSeconds = 0.3 }), TimeProvider.System);

        var error = await Assert.ThrowsAsync<ScalingException>(() => connector.ScaleAsync("prefill", 5, "decision-8", CancellationToken.None));

        Assert.Contains("No acknowledgement of decision decision-8", error.Message, StringComparison.Ordinal);
    }

    /// <summary>What an external controller does: read the request, apply it, write the acknowledgement.</summary>
    private static async Task AcknowledgeAsync(IStateStore store, string pool, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var request = await store.GetAsync(VirtualConnector.RequestsCollection, pool, PlannerJsonContext.Default.VirtualScaleRequest, cancellationToken);
                if (request is not null)
                {
                    await store.SetAsync(VirtualConnector.AcksCollection, pool,
                        new VirtualScaleAck(request.DecisionId, request.Replicas, "test-controller", DateTimeOffset.UtcNow), PlannerJsonContext.Default.VirtualScaleAck,
                        cancellationToken);
                    return;
                }

                await Task.Delay(20, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
