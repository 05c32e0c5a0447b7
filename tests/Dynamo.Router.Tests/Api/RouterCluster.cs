using Dynamo.Router.Hosting;
using Dynamo.Router.Workers;
using Dynamo.TestSupport;
using Dynamo.TestSupport.Hosting;
using Dynamo.Worker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dynamo.Router.Tests.Api;

/// <summary>
/// A real serving slice on 127.0.0.1: nats-server, redis-server, one worker (native engine, the default model,
/// composed as its Program.cs does) and a router in front of it, sharing a fresh namespace.
/// </summary>
public sealed class RouterCluster : IAsyncLifetime
{
    public const string Model = "dynamo-default";

    private readonly ClusterBrokers _brokers = new("rt");

    public WebApplication Worker { get; private set; } = null!;

    public WebApplication Router { get; private set; } = null!;

    public Uri RouterAddress { get; private set; } = null!;

    public static string ModelPath => Path.Combine(RepoPaths.Root, "models", "generated", "dynamo-default-q8_0.gguf");

    public WorkerEngineHost WorkerEngine => Worker.Services.GetRequiredService<WorkerEngineHost>();

    public async Task InitializeAsync()
    {
        await StartBrokersAsync();
        Worker = await StartWorkerAsync(new());
        (Router, RouterAddress) = await StartRouterAsync(new());
        await WaitForWorkersAsync(Router, 1);
    }

    /// <summary>Only nats-server and redis-server, for tests that compose their own worker and router.</summary>
    public Task StartBrokersAsync() => _brokers.StartAsync();

    public async Task DisposeAsync()
    {
        await StopAsync(Router);
        await StopAsync(Worker);
        await _brokers.DisposeAsync();
    }

    public HttpClient CreateClient() => new() { BaseAddress = RouterAddress, Timeout = TimeSpan.FromSeconds(120) };

    /// <summary>Another router of this cluster (e.g. for another model name); the caller stops it.</summary>
    public async Task<(WebApplication App, Uri Address)> StartRouterAsync(Dictionary<string, string?> settings)
    {
        var router = await InProcessApp.StartAsync(
            new InProcessAppOptions
            {
                Settings = [Common(), new Dictionary<string, string?> { ["Router:ModelPath"] = ModelPath, ["Router:CardRefreshSeconds"] = "1" }, settings],
            },
            static b => b.AddRouter(), static a => a.MapRouter());
        return (router.App, router.Address);
    }

    public static Task WaitForWorkersAsync(WebApplication router, int count)
    {
        var pool = router.Services.GetRequiredService<WorkerPool>();
        return Eventually.TrueAsync(() => pool.Workers.Count >= count, $"{count} worker(s) in the router's pool", seconds: 30);
    }

    public static async Task StopAsync(WebApplication? app)
    {
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>
    /// Another worker of this cluster (e.g. for another model name or protocol) on a port picked first, so that its
    /// registration advertises it; the caller stops it.
    /// </summary>
    public async Task<WebApplication> StartWorkerAsync(Dictionary<string, string?> settings)
    {
        var port = ChildServices.FreePort();
        var worker = await InProcessApp.StartAsync(
            new InProcessAppOptions
            {
                Port = port,
                Settings =
                [
                    Common(),
                    new Dictionary<string, string?>
                    {
                        ["Worker:ModelPath"] = ModelPath,
                        ["Worker:AdvertisedUrl"] = $"http://127.0.0.1:{port}",
                        ["Worker:KvCapacityBlocks"] = "1024",
                    },
                    settings,
                ],
            },
            static b => b.AddWorker(), static a => a.MapWorker());
        return worker.App;
    }

    private Dictionary<string, string?> Common() => _brokers.Settings();
}

[CollectionDefinition(Name)]
public sealed class RouterClusterCollection : ICollectionFixture<RouterCluster>
{
    public const string Name = "router cluster";
}
