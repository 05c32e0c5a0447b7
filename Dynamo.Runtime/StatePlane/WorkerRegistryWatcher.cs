using System.Threading.Channels;
using Dynamo.Runtime.Contracts;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Dynamo.Runtime.StatePlane;

/// <summary>
/// Turns registry notices, keyspace expiry events and periodic reconciliation into one ordered stream of
/// <see cref="WorkerChange"/>s. All state lives on the single dispatch loop; Redis callbacks only enqueue.
/// </summary>
internal sealed class WorkerRegistryWatcher : IAsyncDisposable
{
    // Redis callbacks must not block; if the handler lags this far behind, old signals are dropped and the next
    // reconciliation repairs the picture.
    private const int Capacity = 1024;

    private readonly RedisWorkerRegistry _registry;
    private readonly RedisConnection _redis;
    private readonly Func<WorkerChange, CancellationToken, ValueTask> _handler;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<Signal> _signals = Channel.CreateBounded<Signal>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly Dictionary<string, WorkerRegistration?> _known = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Action<RedisChannel, RedisValue> _onNotice;
    private readonly Action<RedisChannel, RedisValue> _onExpired;
    private ISubscriber? _subscriber;
    private RedisChannel _expiredChannel;
    private Task _loop = Task.CompletedTask;
    private Task _ticker = Task.CompletedTask;

    public WorkerRegistryWatcher(
        RedisWorkerRegistry registry,
        RedisConnection redis,
        Func<WorkerChange, CancellationToken, ValueTask> handler,
        TimeProvider time,
        ILogger logger)
    {
        _registry = registry;
        _redis = redis;
        _handler = handler;
        _time = time;
        _logger = logger;
        _onNotice = (_, value) => OnNotice(value);
        _onExpired = (_, value) =>
        {
            if (registry.Keys.WorkerIdFromKey(value!) is { } id)
            {
                _signals.Writer.TryWrite(new Signal(SignalKind.Expired, id, null));
            }
        };
    }

    public async Task StartAsync()
    {
        var multiplexer = await _redis.GetAsync().ConfigureAwait(false);
        _subscriber = multiplexer.GetSubscriber();
        _expiredChannel = $"__keyevent@{multiplexer.GetDatabase().Database}__:expired";
        try
        {
            await _subscriber.SubscribeAsync(_registry.Keys.WorkerChanges, _onNotice).ConfigureAwait(false);
            await _subscriber.SubscribeAsync(_expiredChannel, _onExpired).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or TimeoutException)
        {
            // StackExchange.Redis subscribes once the connection is back; reconciliation covers the gap.
            StatePlaneLog.ReconciliationFailed(_logger, ex);
        }

        // The first reconciliation seeds what this watcher knows; it reports nothing that was already there.
        await ReconcileAsync(report: false).ConfigureAwait(false);
        _loop = Task.Run(RunAsync);
        _ticker = Task.Run(TickAsync);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_subscriber is not null)
        {
            try
            {
                await _subscriber.UnsubscribeAsync(_registry.Keys.WorkerChanges, _onNotice).ConfigureAwait(false);
                await _subscriber.UnsubscribeAsync(_expiredChannel, _onExpired).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisConnectionException or TimeoutException)
            {
            }
        }

        _signals.Writer.TryComplete();
        await Task.WhenAll(_loop, _ticker).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private void OnNotice(RedisValue value)
    {
        try
        {
            var notice = ContractSerializer.Deserialize<WorkerChangeNotice>((byte[])value!);
            var kind = notice.Kind == WorkerChangeKind.Registered ? SignalKind.Registered : SignalKind.Unregistered;
            _signals.Writer.TryWrite(new Signal(kind, notice.WorkerId, notice.Registration));
        }
        catch (Exception ex) when (ex is ContractVersionException or System.Text.Json.JsonException)
        {
            StatePlaneLog.BadNotice(_logger, ex);
        }
    }

    private async Task TickAsync()
    {
        using var timer = new PeriodicTimer(_redis.Options.ReconciliationInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                _signals.Writer.TryWrite(new Signal(SignalKind.Reconcile, null, null));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunAsync()
    {
        try
        {
            await foreach (var signal in _signals.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                switch (signal.Kind)
                {
                    case SignalKind.Registered:
                        _known[signal.WorkerId!] = signal.Registration;
                        await EmitAsync(new WorkerChange(WorkerChangeKind.Registered, signal.WorkerId!, signal.Registration)).ConfigureAwait(false);
                        break;
                    case SignalKind.Unregistered when _known.Remove(signal.WorkerId!):
                        await EmitAsync(new WorkerChange(WorkerChangeKind.Unregistered, signal.WorkerId!)).ConfigureAwait(false);
                        break;
                    case SignalKind.Expired when _known.Remove(signal.WorkerId!):
                        await EmitAsync(new WorkerChange(WorkerChangeKind.Expired, signal.WorkerId!)).ConfigureAwait(false);
                        break;
                    case SignalKind.Reconcile:
                        await ReconcileAsync(report: true).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task ReconcileAsync(bool report)
    {
        WorkerListing live;
        try
        {
            live = await _registry.ListAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (StatePlaneUnavailableException ex)
        {
            StatePlaneLog.ReconciliationFailed(_logger, ex);
            return;
        }

        if (live.IsStale)
        {
            return;
        }

        var liveIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var worker in live.Workers)
        {
            liveIds.Add(worker.WorkerId);
            if (_known.TryAdd(worker.WorkerId, worker) && report)
            {
                await EmitAsync(new WorkerChange(WorkerChangeKind.Registered, worker.WorkerId, worker)).ConfigureAwait(false);
            }
        }

        foreach (var id in _known.Keys.Where(id => !liveIds.Contains(id)).ToList())
        {
            _known.Remove(id);
            if (report)
            {
                await EmitAsync(new WorkerChange(WorkerChangeKind.Expired, id)).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask EmitAsync(WorkerChange change)
    {
        try
        {
            await _handler(change, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !_stopping.IsCancellationRequested)
        {
            StatePlaneLog.WatcherHandlerFailed(_logger, ex);
        }
    }

    private enum SignalKind
    {
        Registered,
        Unregistered,
        Expired,
        Reconcile,
    }

    private readonly record struct Signal(SignalKind Kind, string? WorkerId, WorkerRegistration? Registration);
}
