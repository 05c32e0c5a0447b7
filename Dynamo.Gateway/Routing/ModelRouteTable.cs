using System.Collections.Concurrent;
using Dynamo.Gateway.Hosting;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Dynamo.Runtime.StatePlane;
using Dynamo.ServiceDefaults.Discovery;
using Microsoft.Extensions.Options;

namespace Dynamo.Gateway.Routing;

/// <summary>
/// Model name → router pool, from the model registry's cards. Re-read when a <see cref="Subjects.ModelsChanged"/> notice
/// arrives, every <see cref="GatewayOptions.ModelRefreshInterval"/>, and (at most once a second) when a request names a
/// model the table does not know. While Redis is away the last table stays in use. Models without a card go to the
/// configured router service (<see cref="GatewayOptions.FallbackRouterService"/>), when one is configured.
/// </summary>
internal sealed partial class ModelRouteTable(
    IModelRegistry registry,
    IEventPlane events,
    IServiceEndpointResolver resolver,
    IOptions<DynamoRuntimeOptions> runtime,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<ModelRouteTable> logger) : BackgroundService
{
    private static readonly TimeSpan s_missRefreshInterval = TimeSpan.FromSeconds(1);

    // Shared by address: two models on one router process share its in-flight count.
    private readonly ConcurrentDictionary<Uri, RouterReplica> _replicas = new();
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private readonly SemaphoreSlim _changed = new(0, 1);
    private volatile Table? _table;
    private long _lastRefresh;

    /// <summary>The model cards of the last successful read (empty before the first).</summary>
    public IReadOnlyList<ModelCard> Cards => _table?.Cards ?? [];

    /// <summary>The pool serving <paramref name="model"/>, or null when neither the registry nor the fallback knows it.</summary>
    public async ValueTask<RouterPool?> ResolveAsync(string model, CancellationToken cancellationToken)
    {
        var table = _table;
        if (table is null || (!table.Pools.ContainsKey(model) && time.GetElapsedTime(Interlocked.Read(ref _lastRefresh)) >= s_missRefreshInterval))
        {
            await RefreshAsync(cancellationToken);
            table = _table;
        }

        return table?.Pools.GetValueOrDefault(model) ?? FallbackPool();
    }

    /// <summary>The configured router service's replicas, or null when none is configured.</summary>
    public RouterPool? FallbackPool()
    {
        var endpoints = resolver.GetEndpoints(options.Value.FallbackRouterService);
        return endpoints.Count == 0 ? null : new RouterPool([.. endpoints.Select(Replica)]);
    }

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshGate.WaitAsync(cancellationToken);
        try
        {
            Interlocked.Exchange(ref _lastRefresh, time.GetTimestamp());
            var cards = await registry.ListAsync(cancellationToken);
            var pools = new Dictionary<string, RouterPool>(StringComparer.Ordinal);
            foreach (var card in cards)
            {
                var replicas = new List<RouterReplica>(card.RouterEndpoints.Count);
                foreach (var endpoint in card.RouterEndpoints)
                {
                    if (Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
                    {
                        replicas.Add(Replica(uri));
                    }
                    else
                    {
                        LogBadEndpoint(logger, card.Name, endpoint);
                    }
                }

                if (replicas.Count > 0)
                {
                    pools[card.Name] = new RouterPool(replicas);
                }
            }

            _table = new Table(pools, cards);
        }
        catch (StatePlaneUnavailableException ex)
        {
            LogRefreshFailed(logger, ex.Message);
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var subscription = await events.SubscribeAsync(Subjects.ModelsChanged(runtime.Value.Namespace), (_, _) =>
        {
            if (_changed.CurrentCount == 0)
            {
                try
                {
                    _changed.Release();
                }
                catch (SemaphoreFullException)
                {
                    // A refresh is already pending; one covers both notices.
                }
            }

            return ValueTask.CompletedTask;
        }, cancellationToken: stoppingToken);

        while (!stoppingToken.IsCancellationRequested)
        {
            await RefreshAsync(stoppingToken);
            using var timeout = new CancellationTokenSource(options.Value.ModelRefreshInterval, time);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
            try
            {
                await _changed.WaitAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // The periodic refresh is due.
            }
        }
    }

    private RouterReplica Replica(Uri address) => _replicas.GetOrAdd(address, static a => new RouterReplica(a));

    private sealed record Table(Dictionary<string, RouterPool> Pools, IReadOnlyList<ModelCard> Cards);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model '{Model}' lists router endpoint '{Endpoint}', which is not an http(s) URL; ignored")]
    private static partial void LogBadEndpoint(ILogger logger, string model, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model table not refreshed, keeping the last one: {Reason}")]
    private static partial void LogRefreshFailed(ILogger logger, string reason);
}
