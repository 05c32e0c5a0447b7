using Dynamo.TestSupport;

namespace Dynamo.Gateway.Bench;

/// <summary>
/// One mocker worker and one router, the built Dynamo.Worker / Dynamo.Router outputs started as child processes
/// (killed on dispose, and by a watchdog if this process dies), sharing the caller's nats-server and redis-server.
/// </summary>
internal sealed class ServingSlice : IAsyncDisposable
{
    public const string Model = "dynamo-default";

    private readonly ChildServices _children = new(Directory.CreateTempSubdirectory("dynamo-gateway-bench-slice-").FullName);

    private ServingSlice()
    {
    }

    public Uri WorkerUrl { get; private set; } = null!;

    public Uri RouterUrl { get; private set; } = null!;

    public static string ModelPath => Path.Combine(RepoPaths.Root, "models", "generated", "dynamo-default-q8_0.gguf");

    /// <param name="speedUp">The mocker's speed-up; 10¹² makes its simulated step time round to zero, so the engine costs the same (nothing) on every path.</param>
    public static async Task<ServingSlice> StartAsync(string redis, string nats, double speedUp)
    {
        var slice = new ServingSlice();
        try
        {
            await slice.StartCoreAsync(redis, nats, speedUp);
            return slice;
        }
        catch
        {
            await slice.DisposeAsync();
            throw;
        }
    }

    private async Task StartCoreAsync(string redis, string nats, double speedUp)
    {
        var common = new Dictionary<string, string>
        {
            ["ConnectionStrings__nats"] = nats,
            ["ConnectionStrings__redis"] = redis,
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        var workerPort = ChildServices.FreePort();
        WorkerUrl = new Uri($"http://127.0.0.1:{workerPort}");
        _children.Start(BuiltDll("Dynamo.Worker"), new Dictionary<string, string>(common)
        {
            ["ASPNETCORE_URLS"] = WorkerUrl.ToString(),
            ["DYNAMO_INSTANCE_ID"] = "gateway-bench-worker",
            ["Worker__Model"] = Model,
            ["Worker__ModelPath"] = ModelPath,
            ["Worker__AdvertisedUrl"] = WorkerUrl.ToString(),
            ["Worker__Engine"] = "mocker",
            ["Worker__Mocker__SpeedUp"] = speedUp.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, "worker.log");

        var routerPort = ChildServices.FreePort();
        RouterUrl = new Uri($"http://127.0.0.1:{routerPort}");
        _children.Start(BuiltDll("Dynamo.Router"), new Dictionary<string, string>(common)
        {
            ["ASPNETCORE_URLS"] = RouterUrl.ToString(),
            ["DYNAMO_INSTANCE_ID"] = "gateway-bench-router",
            ["Router__Model"] = Model,
            ["Router__ModelPath"] = ModelPath,
            ["Router__AdvertisedUrl"] = RouterUrl.ToString(),
        }, "router.log");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await _children.WaitHealthyAsync(http, new Uri(WorkerUrl, "/health"), deadline.Token);
        await _children.WaitHealthyAsync(http, new Uri(RouterUrl, "/health"), deadline.Token);
        await _children.WaitHealthyAsync(http, new Uri(RouterUrl, "/v1/models"), deadline.Token);

        // The router learns about the worker from its Redis registration shortly after the worker is healthy.
        await Task.Delay(TimeSpan.FromSeconds(3), deadline.Token);
    }

    /// <summary>The Release output that building this bench produces (it references both projects for that reason).</summary>
    private static string BuiltDll(string project)
    {
        var path = Path.Combine(RepoPaths.Root, project, "bin", "Release", "net10.0", $"{project}.dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{path} is missing: dotnet build bench/Dynamo.Gateway.Bench -c Release");
    }

    public async ValueTask DisposeAsync()
    {
        await _children.DisposeAsync();
    }
}
