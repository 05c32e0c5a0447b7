using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.Logging;

namespace Dynamo.Router.Routing.Indexing;

/// <summary>
/// Keeps the router's view of the workers current: loads the Redis snapshot at start, then feeds the index from
/// every worker's KV events and the load tracker from their metrics, drops workers whose lease ends, and writes the
/// snapshot periodically and at shutdown. Brokers being down only degrades it (routing falls back to load).
/// </summary>
internal sealed class KvIndexService(
    KvIndex index,
    KvEventIngestor ingestor,
    KvIndexSnapshotStore snapshots,
    IEventPlane events,
    IWorkerRegistry registry,
    WorkerLoadTracker loads,
    ActiveSequenceTracker active,
    ApproximateKvIndex approximate,
    KvIndexServiceSettings settings,
    TimeProvider time,
    ILogger<KvIndexService> logger) : IHostedService, IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _subscriptions = [];
    private readonly CancellationTokenSource _stopping = new();
    private Task _snapshotLoop = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (settings.SnapshotEnabled)
        {
            await LoadSnapshotAsync(cancellationToken).ConfigureAwait(false);
        }

        ingestor.Start();
        _subscriptions.Add(await events.SubscribeAsync<KvEventBatch>(
            Subjects.AllKvEvents(settings.Namespace),
            (batch, token) => ingestor.PostAsync(batch, token),
            cancellationToken: cancellationToken).ConfigureAwait(false));
        _subscriptions.Add(await events.SubscribeAsync<WorkerLoadMetrics>(
            Subjects.AllMetrics(settings.Namespace),
            (metrics, _) =>
            {
                loads.Update(metrics);
                return ValueTask.CompletedTask;
            },
            cancellationToken: cancellationToken).ConfigureAwait(false));
        try
        {
            _subscriptions.Add(await registry.WatchAsync(OnWorkerChangeAsync, cancellationToken).ConfigureAwait(false));
        }
        catch (StatePlaneUnavailableException ex)
        {
            RoutingLog.RegistryWatchFailed(logger, ex);
        }

        if (settings.SnapshotEnabled)
        {
            _snapshotLoop = Task.Run(SnapshotLoopAsync, CancellationToken.None);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _snapshotLoop.ConfigureAwait(false);
        foreach (var subscription in _subscriptions)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }

        _subscriptions.Clear();
        await ingestor.DisposeAsync().ConfigureAwait(false);
        if (settings.SnapshotEnabled)
        {
            await SaveSnapshotAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    /// <summary>Drops a departed worker everywhere the router remembers it.</summary>
    internal async ValueTask OnWorkerChangeAsync(WorkerChange change, CancellationToken cancellationToken)
    {
        if (change.Kind is WorkerChangeKind.Expired or WorkerChangeKind.Unregistered)
        {
            await ingestor.RemoveWorkerAsync(change.WorkerId, cancellationToken).ConfigureAwait(false);
            active.RemoveWorker(change.WorkerId);
            approximate.RemoveWorker(change.WorkerId);
            loads.RemoveWorker(change.WorkerId);
        }
    }

    private async Task LoadSnapshotAsync(CancellationToken cancellationToken)
    {
        try
        {
            HashSet<string>? live = null;
            var listing = await registry.ListAsync(cancellationToken).ConfigureAwait(false);
            if (!listing.IsStale)
            {
                live = [.. listing.Workers.Select(w => w.WorkerId)];
            }

            await snapshots.LoadAsync(index, live, cancellationToken).ConfigureAwait(false);
        }
        catch (StatePlaneUnavailableException ex)
        {
            RoutingLog.SnapshotFailed(logger, ex.Message, ex);
        }
    }

    private async Task SnapshotLoopAsync()
    {
        using var timer = new PeriodicTimer(settings.SnapshotInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                await SaveSnapshotAsync(_stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task SaveSnapshotAsync(CancellationToken cancellationToken)
    {
        try
        {
            await snapshots.SaveAsync(index, cancellationToken).ConfigureAwait(false);
        }
        catch (StatePlaneUnavailableException ex)
        {
            RoutingLog.SnapshotFailed(logger, ex.Message, ex);
        }
    }
}

/// <summary>What <see cref="KvIndexService"/> needs from the options, resolved once.</summary>
internal sealed record KvIndexServiceSettings(string Namespace, bool SnapshotEnabled, TimeSpan SnapshotInterval);
