using Dynamo.Router.Hosting;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.Options;

namespace Dynamo.Router.Workers;

/// <summary>
/// The workers that serve this router's model, kept current from the worker registry's watch: those that take
/// generate requests (aggregated and decode roles) and the prefill pool of disaggregated serving (their load metrics feed the routing layer's <c>WorkerLoadTracker</c>). Readers get an
/// immutable snapshot; Redis being away leaves the last known pool in place.
/// </summary>
public sealed partial class WorkerPool(
    IWorkerRegistry registry,
    IOptions<RouterOptions> options,
    TimeProvider time,
    ILogger<WorkerPool> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, WorkerTarget> _byId = new(StringComparer.Ordinal);

    // Which watch event last touched a worker: a listing read before that event is older news about it.
    private readonly Dictionary<string, long> _touched = new(StringComparer.Ordinal);
    private long _version;
    private volatile WorkerTarget[] _snapshot = [];
    private volatile WorkerTarget[] _prefill = [];
    private readonly TaskCompletionSource _firstListing = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Workers that can take a request now.</summary>
    public IReadOnlyList<WorkerTarget> Workers => _snapshot;

    /// <summary>Prefill workers that can compute a prompt for a decode worker now (empty: decode workers prefill themselves).</summary>
    public IReadOnlyList<WorkerTarget> PrefillWorkers => _prefill;

    /// <summary>Completes once the registry was read once (tests and readiness wait on it).</summary>
    public Task FirstListing => _firstListing.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        IAsyncDisposable? watch = null;
        var listed = false;
        var failures = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested && !listed)
            {
                try
                {
                    watch ??= await registry.WatchAsync(OnChangeAsync, stoppingToken).ConfigureAwait(false);
                    await ReloadAsync(stoppingToken).ConfigureAwait(false);
                    listed = true;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The first failure in a row is logged in full; the retries every two seconds are not.
                    if (failures++ == 0)
                    {
                        LogPoolUnavailable(ex);
                    }

                    await Task.Delay(RetryDelay, time, stoppingToken).ConfigureAwait(false);
                }
            }

            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (watch is not null)
            {
                await watch.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task ReloadAsync(CancellationToken cancellationToken)
    {
        long asOf;
        lock (_gate)
        {
            asOf = _version;
        }

        var listing = await registry.ListAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            bool Fresh(string id) => !_touched.TryGetValue(id, out var at) || at <= asOf;
            var live = new HashSet<string>(StringComparer.Ordinal);
            foreach (var worker in listing.Workers)
            {
                if (Serves(worker) && Fresh(worker.WorkerId))
                {
                    live.Add(worker.WorkerId);
                    Upsert(worker);
                }
            }

            foreach (var id in _byId.Keys.Where(id => !live.Contains(id) && Fresh(id)).ToList())
            {
                _byId.Remove(id);
            }

            // Marks older than this listing tell nothing more; dropping them keeps the map as small as the churn since.
            foreach (var id in _touched.Where(t => t.Value <= asOf).Select(t => t.Key).ToList())
            {
                _touched.Remove(id);
            }

            Publish();
        }

        _firstListing.TrySetResult();
    }

    private ValueTask OnChangeAsync(WorkerChange change, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _touched[change.WorkerId] = ++_version;
            if (change is { Kind: WorkerChangeKind.Registered, Registration: { } registration })
            {
                if (Serves(registration))
                {
                    Upsert(registration);
                    LogWorkerAdded(registration.WorkerId, registration.Endpoints.Http);
                }
            }
            else if (_byId.Remove(change.WorkerId))
            {
                LogWorkerRemoved(change.WorkerId, change.Kind);
            }

            Publish();
        }

        return ValueTask.CompletedTask;
    }

    private bool Serves(WorkerRegistration worker) =>
        string.Equals(worker.Model, options.Value.Model, StringComparison.Ordinal)
        && worker.Role is WorkerRole.Aggregated or WorkerRole.Decode or WorkerRole.Prefill
        && Uri.TryCreate(worker.Endpoints.Http, UriKind.Absolute, out _);

    private void Upsert(WorkerRegistration worker)
    {
        if (_byId.TryGetValue(worker.WorkerId, out var existing))
        {
            existing.Registration = worker;
            existing.Endpoint = new Uri(worker.Endpoints.Http, UriKind.Absolute);
        }
        else
        {
            _byId[worker.WorkerId] = new WorkerTarget(worker);
        }
    }

    private void Publish()
    {
        var ordered = _byId.Values.OrderBy(w => w.WorkerId, StringComparer.Ordinal).ToList();
        _snapshot = [.. ordered.Where(w => w.Registration.Role is not WorkerRole.Prefill)];
        _prefill = [.. ordered.Where(w => w.Registration.Role is WorkerRole.Prefill)];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker pool cannot reach the state plane; keeping the last known workers and retrying")]
    private partial void LogPoolUnavailable(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} at {Endpoint} joined the pool")]
    private partial void LogWorkerAdded(string workerId, string endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} left the pool ({Kind})")]
    private partial void LogWorkerRemoved(string workerId, WorkerChangeKind kind);
}
