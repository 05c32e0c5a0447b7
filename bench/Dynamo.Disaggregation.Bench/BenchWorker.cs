using System.Net;
using Dynamo.Worker.Api;
using Dynamo.Worker.Disaggregation;
using Dynamo.Worker.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Dynamo.Disaggregation.Bench;

/// <summary>One worker as Program.cs composes it, in this process, on a free loopback port, h2c only.</summary>
internal sealed class BenchWorker : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BenchWorker(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Client = new HttpClient
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromMinutes(10),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public WorkerEngineHost Engine => _app.Services.GetRequiredService<WorkerEngineHost>();

    /// <param name="redis">Redis connection string; null → an unreachable one (the worker serves without a registry).</param>
    /// <param name="nats">NATS URL; null → an unreachable one (no event plane).</param>
    public static async Task<BenchWorker> StartAsync(string role, string modelDirectory, int kvBlocks, string? redis = null, string? nats = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            // Without brokers the worker degrades to serving only, as designed (see Program.cs for why the bench has them).
            ["ConnectionStrings:redis"] = redis ?? "127.0.0.1:1",
            ["ConnectionStrings:nats"] = nats ?? "nats://127.0.0.1:1",
            ["Worker:AdvertisedUrl"] = "http://127.0.0.1:18080",
            ["Worker:Role"] = role,
            ["Worker:ModelDirectory"] = modelDirectory,
            ["Worker:KvCapacityBlocks"] = kvBlocks.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Worker:HttpProtocols"] = "Http2",
            ["Logging:LogLevel:Default"] = "Error",

            // The decode request waits through the whole prefill, which takes minutes for long prompts on a busy box.
            ["Worker:Disaggregation:TransferTimeoutMs"] = "600000",
        });
        builder.AddServiceDefaults();
        builder.AddWorkerServices();
        var app = builder.Build();
        app.MapGenerateApi();
        app.MapDisaggregationApi();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new BenchWorker(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
