using System.Globalization;
using Dynamo.TestSupport;

namespace Dynamo.Replay;

/// <summary>
/// Settings of one fresh cluster: nats + redis, N mocker workers and one router, all real processes. With
/// <c>PrefillWorkers</c> P &gt; 0 the first P workers are prefill workers and the others decode workers.
/// </summary>
public sealed record ClusterSettings(
    int Workers, double SpeedUp, int BlockSize, long KvCapacityBlocks, string Model, string ModelPath,
    string WorkerDll, string RouterDll, string Policy, string LogDirectory, int PrefillWorkers = 0, int? MaxLocalPrefillTokens = null);

/// <summary>
/// Starts the servers and the .NET processes as children (killed on dispose, and by a watchdog if this process dies),
/// so every policy runs on workers whose caches start empty.
/// </summary>
public sealed class Cluster : IAsyncDisposable
{
    private ChildServices? _children;
    private NatsServer? _nats;
    private RedisServer? _redis;

    private Cluster()
    {
    }

    public Uri RouterUrl { get; private set; } = null!;

    /// <summary>The workers' instance ids (what the router's <c>worker=</c> header and <c>backend_instance_id</c> name).</summary>
    public IReadOnlyList<string> WorkerIds { get; private set; } = [];

    public static async Task<Cluster> StartAsync(ClusterSettings settings, CancellationToken cancellationToken)
    {
        var cluster = new Cluster();
        try
        {
            await cluster.StartCoreAsync(settings, cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task StartCoreAsync(ClusterSettings s, CancellationToken cancellationToken)
    {
        _children = new ChildServices(s.LogDirectory);
        _nats = await NatsServer.StartNewAsync(cancellationToken);
        _redis = await RedisServer.StartNewAsync(cancellationToken);
        var common = new Dictionary<string, string>
        {
            ["ConnectionStrings__nats"] = _nats.Url,
            ["ConnectionStrings__redis"] = _redis.ConnectionString,
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Default"] = "Warning",
        };

        var workerUrls = new List<Uri>();
        for (var i = 0; i < s.Workers; i++)
        {
            var port = ChildServices.FreePort();
            var env = new Dictionary<string, string>(common)
            {
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                ["DYNAMO_INSTANCE_ID"] = WorkerId(i),
                ["Worker__Model"] = s.Model,
                ["Worker__ModelPath"] = s.ModelPath,
                ["Worker__Engine"] = "mocker",
                ["Worker__BlockSize"] = s.BlockSize.ToString(CultureInfo.InvariantCulture),
                ["Worker__KvCapacityBlocks"] = s.KvCapacityBlocks.ToString(CultureInfo.InvariantCulture),
                ["Worker__Mocker__SpeedUp"] = s.SpeedUp.ToString(CultureInfo.InvariantCulture),
                ["Worker__Role"] = s.PrefillWorkers == 0 ? "Aggregated" : i < s.PrefillWorkers ? "Prefill" : "Decode",
            };
            _children.Start(s.WorkerDll, env, $"worker-{i}.log");
            workerUrls.Add(new Uri($"http://127.0.0.1:{port}"));
        }

        WorkerIds = [.. Enumerable.Range(0, s.Workers).Select(WorkerId)];
        var routerPort = ChildServices.FreePort();
        var routerEnv = new Dictionary<string, string>(common)
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{routerPort}",
            ["DYNAMO_INSTANCE_ID"] = "replay-router",
            ["Router__Model"] = s.Model,
            ["Router__ModelPath"] = s.ModelPath,
            ["Router__KvBlockSize"] = s.BlockSize.ToString(CultureInfo.InvariantCulture),
            ["Router__Routing__Policy"] = s.Policy,
        };
        if (s.MaxLocalPrefillTokens is { } threshold)
        {
            routerEnv["Router__Disaggregation__MaxLocalPrefillTokens"] = threshold.ToString(CultureInfo.InvariantCulture);
        }

        _children.Start(s.RouterDll, routerEnv, "router.log");
        RouterUrl = new Uri($"http://127.0.0.1:{routerPort}");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromMinutes(3));
        foreach (var url in workerUrls.Append(RouterUrl))
        {
            await _children.WaitHealthyAsync(http, new Uri(url, "/health"), deadline.Token);
        }

        // Healthy workers register in Redis and the router's watch picks them up shortly after; give it a moment
        // so the first requests see the whole pool, not the first worker alone.
        await _children.WaitHealthyAsync(http, new Uri(RouterUrl, "/v1/models"), deadline.Token);
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
    }

    private static string WorkerId(int index) => $"replay-worker-{index}";

    public async ValueTask DisposeAsync()
    {
        if (_children is not null)
        {
            await _children.DisposeAsync();
        }
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        if (_nats is not null)
        {
            await _nats.DisposeAsync();
        }
    }
}
