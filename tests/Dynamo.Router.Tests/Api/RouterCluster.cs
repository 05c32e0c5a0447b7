using System.Net;
using System.Net.Sockets;
using Dynamo.Router.Hosting;
using Dynamo.Router.Workers;
using Dynamo.TestSupport;
using Dynamo.Worker.Api;
using Dynamo.Worker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
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

    private readonly string _namespace = $"rt{Guid.NewGuid():N}"[..12];
    private NatsServer? _nats;
    private RedisServer? _redis;

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
    public async Task StartBrokersAsync()
    {
        _nats = await NatsServer.StartNewAsync();
        _redis = await RedisServer.StartNewAsync();
    }

    public async Task DisposeAsync()
    {
        await StopAsync(Router);
        await StopAsync(Worker);
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        if (_nats is not null)
        {
            await _nats.DisposeAsync();
        }
    }

    public HttpClient CreateClient() => new() { BaseAddress = RouterAddress, Timeout = TimeSpan.FromSeconds(120) };

    /// <summary>Another router of this cluster (e.g. for another model name); the caller stops it.</summary>
    public async Task<(WebApplication App, Uri Address)> StartRouterAsync(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(Common());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Router:ModelPath"] = ModelPath, ["Router:CardRefreshSeconds"] = "1" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        builder.AddRouterServices();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapRouterApi();
        await app.StartAsync();
        return (app, new Uri(Address(app)));
    }

    public static async Task WaitForWorkersAsync(WebApplication router, int count)
    {
        var pool = router.Services.GetRequiredService<WorkerPool>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (pool.Workers.Count < count)
        {
            await Task.Delay(50, timeout.Token);
        }
    }

    public static async Task StopAsync(WebApplication? app)
    {
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>Another worker of this cluster (e.g. for another model name or protocol); the caller stops it.</summary>
    public async Task<WebApplication> StartWorkerAsync(Dictionary<string, string?> settings)
    {
        var port = FreePort();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Configuration.AddInMemoryCollection(Common());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Worker:ModelPath"] = ModelPath,
            ["Worker:AdvertisedUrl"] = $"http://127.0.0.1:{port}",
            ["Worker:KvCapacityBlocks"] = "1024",
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        builder.AddWorkerServices();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGenerateApi();
        await app.StartAsync();
        return app;
    }

    private Dictionary<string, string?> Common() => new()
    {
        ["ConnectionStrings:redis"] = _redis!.ConnectionString,
        ["ConnectionStrings:nats"] = _nats!.Url,
        ["Dynamo:Namespace"] = _namespace,
        ["Logging:LogLevel:Default"] = "Warning",
    };

    private static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class RouterClusterCollection : ICollectionFixture<RouterCluster>
{
    public const string Name = "router cluster";
}
