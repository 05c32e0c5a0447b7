using Dynamo.Runtime.Contracts;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Dynamo.Runtime.StatePlane;

/// <summary>
/// <see cref="IWorkerRegistry"/> over Redis: a string key per worker whose TTL is the lease, a set indexing the ids,
/// and a pub/sub channel of register/unregister notices (expiry arrives by keyspace notification or reconciliation).
/// </summary>
internal sealed class RedisWorkerRegistry(
    RedisConnection redis,
    StateKeys keys,
    TimeProvider time,
    ILoggerFactory loggerFactory) : IWorkerRegistry
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<RedisWorkerRegistry>();
    private WorkerListing? _lastKnown;

    public bool IsAvailable => redis.IsConnected;

    internal StateKeys Keys => keys;

    public Task RegisterAsync(WorkerRegistration registration, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentOutOfRangeException.ThrowIfLessThan(ttl, TimeSpan.FromMilliseconds(1));
        var key = keys.Worker(registration.WorkerId);
        var json = ContractSerializer.Serialize(registration);
        var notice = ContractSerializer.Serialize(new WorkerChangeNotice(WorkerChangeKind.Registered, registration.WorkerId, registration));
        return RedisConnection.GuardAsync(async () =>
        {
            var transaction = (await redis.DatabaseAsync().ConfigureAwait(false)).CreateTransaction();
            var set = transaction.StringSetAsync(key, json, ttl);
            var index = transaction.SetAddAsync(keys.WorkerIndex, registration.WorkerId);
            var publish = transaction.PublishAsync(keys.WorkerChanges, notice);
            await transaction.ExecuteAsync().ConfigureAwait(false);
            await Task.WhenAll(set, index, publish).ConfigureAwait(false);
            StatePlaneLog.Registered(_logger, registration.WorkerId, ttl);
            return true;
        }, $"register {registration.WorkerId}");
    }

    public Task<bool> RenewAsync(string workerId, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ttl, TimeSpan.FromMilliseconds(1));
        return RedisConnection.GuardAsync(
            async () => await (await redis.DatabaseAsync().ConfigureAwait(false)).KeyExpireAsync(keys.Worker(workerId), ttl).ConfigureAwait(false),
            $"renew {workerId}");
    }

    public Task UnregisterAsync(string workerId, CancellationToken cancellationToken = default)
    {
        var notice = ContractSerializer.Serialize(new WorkerChangeNotice(WorkerChangeKind.Unregistered, workerId));
        return RedisConnection.GuardAsync(async () =>
        {
            var transaction = (await redis.DatabaseAsync().ConfigureAwait(false)).CreateTransaction();
            var delete = transaction.KeyDeleteAsync(keys.Worker(workerId));
            var index = transaction.SetRemoveAsync(keys.WorkerIndex, workerId);
            var publish = transaction.PublishAsync(keys.WorkerChanges, notice);
            await transaction.ExecuteAsync().ConfigureAwait(false);
            await Task.WhenAll(delete, index, publish).ConfigureAwait(false);
            return true;
        }, $"unregister {workerId}");
    }

    public async Task<WorkerListing> ListAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var listing = await RedisConnection.GuardAsync(ReadLiveAsync, "list workers").ConfigureAwait(false);
            _lastKnown = listing;
            return listing;
        }
        catch (StatePlaneUnavailableException ex) when (_lastKnown is { } last)
        {
            StatePlaneLog.ServingStaleList(_logger, last.AsOf, ex);
            return last with { IsStale = true };
        }
    }

    public async Task<IAsyncDisposable> WatchAsync(Func<WorkerChange, CancellationToken, ValueTask> handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var watcher = new WorkerRegistryWatcher(this, redis, handler, time, loggerFactory.CreateLogger<WorkerRegistryWatcher>());
        await watcher.StartAsync().ConfigureAwait(false);
        return watcher;
    }

    private async Task<WorkerListing> ReadLiveAsync()
    {
        var database = await redis.DatabaseAsync().ConfigureAwait(false);
        var ids = await database.SetMembersAsync(keys.WorkerIndex).ConfigureAwait(false);
        if (ids.Length == 0)
        {
            return new WorkerListing([], time.GetUtcNow(), IsStale: false);
        }

        var leaseKeys = new RedisKey[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            leaseKeys[i] = keys.Worker(ids[i]!);
        }

        var values = await database.StringGetAsync(leaseKeys).ConfigureAwait(false);
        var workers = new List<WorkerRegistration>(values.Length);
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i].IsNull)
            {
                // The lease expired: drop the id from the index so the set does not grow with dead workers.
                database.SetRemove(keys.WorkerIndex, ids[i], CommandFlags.FireAndForget);
                continue;
            }

            try
            {
                workers.Add(ContractSerializer.Deserialize<WorkerRegistration>((byte[])values[i]!));
            }
            catch (Exception ex) when (ex is ContractVersionException or System.Text.Json.JsonException)
            {
                StatePlaneLog.BadNotice(_logger, ex);
            }
        }

        return new WorkerListing(workers, time.GetUtcNow(), IsStale: false);
    }
}
