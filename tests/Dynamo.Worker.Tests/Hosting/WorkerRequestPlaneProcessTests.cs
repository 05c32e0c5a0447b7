using System.Net;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;
using Dynamo.Worker.Tests.Api;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Worker.Tests.Hosting;

/// <summary>The real worker process (its build output) with default listener settings, real Redis and NATS.</summary>
public sealed class WorkerRequestPlaneProcessTests
{
    private const string WorkerId = "request-plane-worker";

    [Fact]
    public async Task Start_DefaultSettings_RegistersAnH2cRequestPlaneThatServesGenerateOverHttp2PriorKnowledge()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var nats = await NatsServer.StartNewAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        using var registryHost = WorkerDrainProcessTests.RegistryHost(redis.ConnectionString);
        await registryHost.StartAsync(timeout.Token);
        var registry = registryHost.Services.GetRequiredService<IWorkerRegistry>();
        var logs = Directory.CreateTempSubdirectory("dynamo-request-plane-");
        await using var children = new ChildServices(logs.FullName);
        var port = ChildServices.FreePort();
        children.Start(WorkerDrainProcessTests.WorkerDll(), new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ConnectionStrings__redis"] = redis.ConnectionString,
            ["ConnectionStrings__nats"] = nats.Url,
            ["DYNAMO_INSTANCE_ID"] = WorkerId,
            ["Worker__Engine"] = "mocker",
            ["Worker__KvCapacityBlocks"] = "256",
        }, "worker.log");
        using var http11 = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        await children.WaitHealthyAsync(http11, new Uri($"http://127.0.0.1:{port}/health"), timeout.Token);

        var registration = (await registry.ListAsync(timeout.Token)).Workers.Single(w => w.WorkerId == WorkerId);
        var plane = new Uri(registration.Endpoints.RequestPlane ?? throw new Xunit.Sdk.XunitException("no request plane advertised"));
        using var h2c = new HttpClient { BaseAddress = plane, Timeout = TimeSpan.FromSeconds(60) };
        using var response = await h2c.SendAsync(
            WorkerApp.Generate(new { token_ids = Enumerable.Range(100, 20).ToArray(), max_tokens = 4 }, HttpVersion.Version20),
            HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        var events = await WorkerApp.ReadEventsAsync(response);
        using var healthOverHttp11 = await http11.GetAsync(new Uri($"http://127.0.0.1:{port}/health"), timeout.Token);
        using var http11ToPlane = await h2c.SendAsync(WorkerApp.Generate(new { token_ids = new[] { 1, 2, 3 }, max_tokens = 1 }), timeout.Token);

        Assert.Equal($"http://127.0.0.1:{port}", registration.Endpoints.Http);
        Assert.Equal("127.0.0.1", plane.Host);
        Assert.NotEqual(port, plane.Port);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(4, events.Count);
        Assert.Equal("length", events[^1].GetProperty("finish_reason").GetString());
        Assert.Equal(HttpVersion.Version11, healthOverHttp11.Version);
        Assert.True(healthOverHttp11.IsSuccessStatusCode);
        // h2c only: Kestrel answers an HTTP/1.1 request there with a bare 400.
        Assert.Equal(HttpStatusCode.BadRequest, http11ToPlane.StatusCode);
    }
}
