using System.Threading.Channels;
using Dynamo.Runtime.Contracts;
using Microsoft.Extensions.Logging;

namespace Dynamo.Router.Routing.Indexing;

/// <summary>
/// Applies every worker's KV event batches to the <see cref="KvIndex"/> in event-id order. A gap (missed batches,
/// or first contact with a worker mid-stream) asks that worker for a dump; batches arriving meanwhile are held and
/// replayed after the dump, skipping what it already covers. One loop does all of it, so the index has one writer.
/// </summary>
internal sealed class KvEventIngestor : IAsyncDisposable
{
    // Inputs are written with back-pressure: the event-plane subscription in front has its own bounded queue that drops
    // oldest, and a drop shows up here as a gap, which a dump repairs.
    private const int InputCapacity = 4096;

    // Batches held per worker while its dump is in flight; past this the held ones are useless and a new gap follows.
    private const int PendingCapacity = 1024;

    private readonly KvIndex _index;
    private readonly IKvDumpClient _dumps;
    private readonly TimeProvider _time;
    private readonly TimeSpan _retryDelay;
    private readonly ILogger _logger;
    private readonly Channel<Input> _inputs = Channel.CreateBounded<Input>(
        new BoundedChannelOptions(InputCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private readonly Dictionary<string, IngestState> _states = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;
    private long _applied;
    private long _dumpsRequested;
    private long _dumpsFailed;

    public KvEventIngestor(KvIndex index, IKvDumpClient dumps, TimeProvider time, TimeSpan retryDelay, ILogger logger)
    {
        _index = index;
        _dumps = dumps;
        _time = time;
        _retryDelay = retryDelay;
        _logger = logger;
    }

    /// <summary>Batches applied in order (dumps excluded).</summary>
    public long Applied => Interlocked.Read(ref _applied);

    public long DumpsRequested => Interlocked.Read(ref _dumpsRequested);

    public long DumpsFailed => Interlocked.Read(ref _dumpsFailed);

    public void Start() => _loop = Task.Run(RunAsync);

    public ValueTask PostAsync(KvEventBatch batch, CancellationToken cancellationToken = default) =>
        _inputs.Writer.WriteAsync(new Input(batch.WorkerId, batch, null, null, false), cancellationToken);

    /// <summary>Forgets a worker that left (its lease expired or it unregistered) and drops its part of the index.</summary>
    public ValueTask RemoveWorkerAsync(string workerId, CancellationToken cancellationToken = default) =>
        _inputs.Writer.WriteAsync(new Input(workerId, null, null, null, true), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _inputs.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        try
        {
            await foreach (var input in _inputs.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    Handle(input);
                }
                catch (Exception ex) when (ex is NotSupportedException or ArgumentException)
                {
                    RoutingLog.BadBatch(_logger, input.WorkerId, ex);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private void Handle(Input input)
    {
        if (input.Remove)
        {
            _states.Remove(input.WorkerId);
            var dropped = _index.RemoveWorker(input.WorkerId);
            RoutingLog.WorkerDropped(_logger, input.WorkerId, dropped);
            return;
        }

        if (input.Batch is { } batch)
        {
            OnBatch(StateFor(input.WorkerId), batch);
        }
        else if (_states.TryGetValue(input.WorkerId, out var state) && state.Dumping)
        {
            // A dump for a worker removed meanwhile finds no state and is dropped rather than resurrecting it.
            OnDumpDone(state, input.Dump, input.DumpError);
        }
    }

    private void OnBatch(IngestState state, KvEventBatch batch)
    {
        if (state.Dumping)
        {
            if (state.Pending.Count < PendingCapacity)
            {
                state.Pending.Add(batch);
            }

            return;
        }

        var last = _index.LastEventId(batch.WorkerId);
        if (batch.EventId == (last ?? 0) + 1)
        {
            _index.Apply(batch);
            Interlocked.Increment(ref _applied);
            RoutingMetrics.EventBatchesApplied.Add(1);
            return;
        }

        if (last is { } seen && batch.EventId == 1 && seen >= 1)
        {
            // Event ids restart at 1 only when the worker restarted with an empty cache.
            _index.ApplyDump(batch with { Events = [new KvCleared(), .. batch.Events] });
            Interlocked.Increment(ref _applied);
            return;
        }

        if (state.RetryAt is { } retryAt && _time.GetUtcNow() < retryAt)
        {
            return;
        }

        RoutingLog.EventGap(_logger, batch.WorkerId, last, batch.EventId);
        state.Dumping = true;
        state.Pending.Clear();
        state.Pending.Add(batch);
        Interlocked.Increment(ref _dumpsRequested);
        RoutingMetrics.DumpsRequested.Add(1);
        _ = RequestDumpAsync(batch.WorkerId);
    }

    private async Task RequestDumpAsync(string workerId)
    {
        Input done;
        try
        {
            var dump = await _dumps.RequestDumpAsync(workerId, _stopping.Token).ConfigureAwait(false);
            done = new Input(workerId, null, dump, null, false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            done = new Input(workerId, null, null, ex, false);
        }

        try
        {
            await _inputs.Writer.WriteAsync(done, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
        }
    }

    private void OnDumpDone(IngestState state, KvEventBatch? dump, Exception? error)
    {
        state.Dumping = false;
        var pending = state.Pending.ToArray();
        state.Pending.Clear();
        if (dump is null)
        {
            // Keep the worker's stale part: a slightly wrong index still routes better than none. Retry on a later batch.
            Interlocked.Increment(ref _dumpsFailed);
            RoutingMetrics.DumpFailures.Add(1);
            state.RetryAt = _time.GetUtcNow() + _retryDelay;
            RoutingLog.DumpFailed(_logger, error?.GetType().Name ?? "none", error?.Message ?? "no reply", error);
            return;
        }

        state.RetryAt = null;
        _index.ApplyDump(dump);
        RoutingLog.DumpApplied(_logger, dump.WorkerId, dump.EventId, _index.BlockCount(dump.WorkerId));
        foreach (var held in pending)
        {
            if (held.EventId > dump.EventId)
            {
                OnBatch(state, held);
            }
        }
    }

    private IngestState StateFor(string workerId)
    {
        if (!_states.TryGetValue(workerId, out var state))
        {
            state = new IngestState();
            _states.Add(workerId, state);
        }

        return state;
    }

    private readonly record struct Input(string WorkerId, KvEventBatch? Batch, KvEventBatch? Dump, Exception? DumpError, bool Remove);

    private sealed class IngestState
    {
        public bool Dumping { get; set; }

        public List<KvEventBatch> Pending { get; } = [];

        public DateTimeOffset? RetryAt { get; set; }
    }
}
