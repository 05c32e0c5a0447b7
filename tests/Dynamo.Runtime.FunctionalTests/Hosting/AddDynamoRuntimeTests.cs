using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Dynamo.Runtime.FunctionalTests.Hosting;

public sealed class AddDynamoRuntimeTests
{
    [Fact]
    public async Task Host_BrokersDownAtStart_StartsUnhealthyThenRecovers()
    {
        await using var nats = await NatsServer.StartNewAsync();
        await using var redis = await RedisServer.StartNewAsync();
        await nats.StopAsync();
        await redis.StopAsync();
        using var host = BuildHost(nats.Url, redis.ConnectionString);

        await host.StartAsync();
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var down = await health.CheckHealthAsync(r => r.Tags.Contains(DynamoRuntimeExtensions.ReadyTag));

        Assert.Equal(HealthStatus.Unhealthy, down.Status);
        Assert.Equal(HealthStatus.Unhealthy, down.Entries["nats"].Status);
        Assert.Equal(HealthStatus.Unhealthy, down.Entries["redis"].Status);

        await nats.StartAsync();
        await redis.StartAsync();
        await Eventually.TrueAsync(
            async () => (await health.CheckHealthAsync(r => r.Tags.Contains(DynamoRuntimeExtensions.ReadyTag))).Status == HealthStatus.Healthy,
            "both brokers healthy after they come up");

        var registry = host.Services.GetRequiredService<IWorkerRegistry>();
        await registry.RegisterAsync(new WorkerRegistration("w", "m", WorkerRole.Prefill, "mocker", new WorkerEndpoints("http://127.0.0.1:1"), 16, 1, DateTimeOffset.UnixEpoch), TimeSpan.FromMinutes(1));
        Assert.Single((await registry.ListAsync()).Workers);
        Assert.True(host.Services.GetRequiredService<IEventPlane>().IsConnected);
        await host.StopAsync();
    }

    [Fact]
    public async Task AddWorkerLease_HostLifetime_RegistersAndUnregisters()
    {
        await using var nats = await NatsServer.StartNewAsync();
        await using var redis = await RedisServer.StartNewAsync();
        using var host = BuildHost(nats.Url, redis.ConnectionString, services => services.AddWorkerLease(
            _ => new WorkerRegistration("leased", "m", WorkerRole.Decode, "mocker", new WorkerEndpoints("http://127.0.0.1:1"), 16, 1, DateTimeOffset.UnixEpoch),
            TimeSpan.FromSeconds(5)));
        var registry = host.Services.GetRequiredService<IWorkerRegistry>();

        await host.StartAsync();
        await Eventually.TrueAsync(async () => (await registry.ListAsync()).Workers.Any(w => w.WorkerId == "leased"), "worker registered");
        await host.StopAsync();

        Assert.DoesNotContain((await registry.ListAsync()).Workers, w => w.WorkerId == "leased");
    }

    private static IHost BuildHost(string natsUrl, string redisConnection, Action<IServiceCollection>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:nats"] = natsUrl,
            ["ConnectionStrings:redis"] = redisConnection,
            ["Dynamo:Namespace"] = "hosting" + Guid.NewGuid().ToString("N")[..6],
            ["Dynamo:Nats:ReconnectWait"] = "00:00:00.200",
        });
        builder.AddDynamoRuntime();
        configure?.Invoke(builder.Services);
        return builder.Build();
    }
}
