using System.Globalization;
using System.Net;
using Dynamo.TestSupport.Hosting;
using Dynamo.Worker.Hosting;

namespace Dynamo.Disaggregation.Bench;

/// <summary>One worker as Program.cs composes it, in this process, on a free loopback port, h2c only.</summary>
internal sealed class BenchWorker : IAsyncDisposable
{
    private readonly InProcessApp _app;

    private BenchWorker(InProcessApp app)
    {
        _app = app;
        Client = new HttpClient
        {
            BaseAddress = app.Address,
            Timeout = TimeSpan.FromMinutes(10),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    public Uri Address => _app.Address;

    public HttpClient Client { get; }

    public WorkerEngineHost Engine => _app.Services.GetRequiredService<WorkerEngineHost>();

    /// <param name="redis">Redis connection string; null → an unreachable one (the worker serves without a registry).</param>
    /// <param name="nats">NATS URL; null → an unreachable one (no event plane).</param>
    public static async Task<BenchWorker> StartAsync(string role, string modelDirectory, int kvBlocks, string? redis = null, string? nats = null)
    {
        var settings = new Dictionary<string, string?>
        {
            // Without brokers the worker degrades to serving only, as designed (see Program.cs for why the bench has them).
            ["ConnectionStrings:redis"] = redis ?? "127.0.0.1:1",
            ["ConnectionStrings:nats"] = nats ?? "nats://127.0.0.1:1",
            ["Worker:AdvertisedUrl"] = "http://127.0.0.1:18080",
            ["Worker:Role"] = role,
            ["Worker:ModelDirectory"] = modelDirectory,
            ["Worker:KvCapacityBlocks"] = kvBlocks.ToString(CultureInfo.InvariantCulture),
            ["Worker:HttpProtocols"] = "Http2",
            ["Logging:LogLevel:Default"] = "Error",

            // The decode request waits through the whole prefill, which takes minutes for long prompts on a busy box.
            ["Worker:Disaggregation:TransferTimeoutMs"] = "600000",
        };
        return new BenchWorker(await InProcessApp.StartAsync(
            new InProcessAppOptions { EnvironmentName = Environments.Production, Settings = [settings] },
            static b => b.AddWorker(), static a => a.MapWorker()));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
    }
}
