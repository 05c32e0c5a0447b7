using System.Collections.Concurrent;
using System.Text.Json;
using Dynamo.Planner.Connectors;
using Dynamo.Planner.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Dynamo.Planner.Tests.Connectors;

public sealed class LocalConnectorTests
{
    [Fact]
    public async Task ScaleAsync_AcceptedByControlApi_PostsReplicasToMappedResource()
    {
        var posted = new ConcurrentQueue<(string Name, int Replicas)>();
        await using var api = await FakeHttpApi.StartAsync(app => app.MapPost("/api/resources/{name}/scale", async (string name, HttpRequest request) =>
        {
            using var body = await JsonDocument.ParseAsync(request.Body);
            posted.Enqueue((name, body.RootElement.GetProperty("replicas").GetInt32()));
            return Results.Accepted();
        }));
        var connector = Create(api);

        var outcome = await connector.ScaleAsync("decode", 3, "d1", CancellationToken.None);

        Assert.Equal(("decode-worker", 3), Assert.Single(posted));
        Assert.Contains("decode-worker → 3", outcome, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScaleAsync_Refused_ThrowsWithTheApisMessage()
    {
        await using var api = await FakeHttpApi.StartAsync(app => app.MapPost("/api/resources/{name}/scale",
            (string name) => Results.Conflict(new { error = $"'{name}' is not running yet" })));
        var connector = Create(api);

        var error = await Assert.ThrowsAsync<ScalingException>(() => connector.ScaleAsync("aggregated", 2, "d1", CancellationToken.None));

        Assert.Contains("409", error.Message, StringComparison.Ordinal);
        Assert.Contains("'worker' is not running yet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetReplicasAsync_StoppingReplicas_AreNotCounted()
    {
        await using var api = await FakeHttpApi.StartAsync(app => app.MapGet("/api/resources/{name}", (string name) => Results.Json(new
        {
            name,
            replicas = new[] { new { index = 0, state = "Running" }, new { index = 1, state = "Starting" }, new { index = 2, state = "Stopping" } },
        })));
        var connector = Create(api);

        Assert.Equal(2, await connector.GetReplicasAsync("aggregated", CancellationToken.None));
    }

    [Fact]
    public async Task ScaleAsync_NoApi_ThrowsScalingException()
    {
        var connector = new LocalConnector(new HttpClient { BaseAddress = new Uri("http://127.0.0.1:1/") }, Options.Create(new PlannerOptions()));

        await Assert.ThrowsAsync<ScalingException>(() => connector.ScaleAsync("aggregated", 2, "d1", CancellationToken.None));
    }

    private static LocalConnector Create(FakeHttpApi api) =>
        new(new HttpClient { BaseAddress = api.Address }, Options.Create(new PlannerOptions()));
}
