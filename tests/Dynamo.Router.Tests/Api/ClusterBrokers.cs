using Dynamo.TestSupport;

namespace Dynamo.Router.Tests.Api;

/// <summary>
/// The real nats-server and redis-server of one in-process serving cluster (<see cref="RouterCluster"/>,
/// <see cref="Disaggregation.DisaggregatedCluster"/>), and the settings that point its workers and routers at them
/// under a namespace of its own, so clusters never see each other's workers.
/// </summary>
internal sealed class ClusterBrokers : IAsyncDisposable
{
    private readonly string _namespace;
    private NatsServer? _nats;
    private RedisServer? _redis;

    /// <param name="prefix">Starts the namespace, so a leftover key names the cluster kind that wrote it.</param>
    public ClusterBrokers(string prefix) => _namespace = $"{prefix}{Guid.NewGuid():N}"[..12];

    public async Task StartAsync()
    {
        _nats = await NatsServer.StartNewAsync();
        _redis = await RedisServer.StartNewAsync();
    }

    /// <summary>Connection strings, the namespace, and quiet logs, for every app of the cluster.</summary>
    public Dictionary<string, string?> Settings() => new()
    {
        ["ConnectionStrings:redis"] = (_redis ?? throw NotStarted()).ConnectionString,
        ["ConnectionStrings:nats"] = (_nats ?? throw NotStarted()).Url,
        ["Dynamo:Namespace"] = _namespace,
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        if (_nats is not null)
        {
            await _nats.DisposeAsync();
        }
    }

    private static InvalidOperationException NotStarted() => new("Start the cluster's brokers (StartAsync) before its apps.");
}
