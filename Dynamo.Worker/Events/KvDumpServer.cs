using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Dynamo.Worker.Hosting;
using Dynamo.Worker.KvCache;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Events;

/// <summary>
/// Answers <c>dynamo.{ns}.kv.dump.{worker}</c> requests (a router that saw a gap in this worker's event ids) with
/// the whole cache as one <see cref="KvEventBatch"/>: <see cref="KvCleared"/>, then the block manager's
/// <see cref="KvBlockManager.Dump"/>, under the id of the last event published. Dump and id are read together on
/// the scheduler loop, so the router applies the dump and resumes the event stream at the next id with no gap
/// and no overlap.
/// </summary>
public sealed partial class KvDumpServer : IHostedService, IAsyncDisposable
{
    private readonly WorkerEngineHost _host;
    private readonly IEventPlane _events;
    private readonly string _subject;
    private readonly string _workerId;
    private readonly TimeProvider _time;
    private readonly ILogger<KvDumpServer> _logger;
    private IAsyncDisposable? _serving;
    private long _served;

    public KvDumpServer(
        WorkerEngineHost host,
        IEventPlane events,
        IOptions<DynamoRuntimeOptions> runtime,
        IOptions<KvCacheOptions> kv,
        WorkerRegistration registration,
        TimeProvider time,
        ILogger<KvDumpServer> logger)
    {
        _host = host;
        _events = events;
        _subject = Subjects.KvDump(runtime.Value.Namespace, registration.WorkerId);
        _workerId = string.IsNullOrEmpty(kv.Value.WorkerId) ? registration.WorkerId : kv.Value.WorkerId;
        _time = time;
        _logger = logger;
    }

    public long Served => Interlocked.Read(ref _served);

    /// <summary>The dump as the router receives it; call on the scheduler loop (the block manager's thread).</summary>
    public static KvEventBatch CreateDump(KvBlockManager kv, string workerId, DateTimeOffset timestamp)
    {
        ArgumentNullException.ThrowIfNull(kv);
        var blocks = kv.Dump();
        var events = new KvEvent[blocks.Count + 1];
        events[0] = new KvCleared();
        for (var i = 0; i < blocks.Count; i++)
        {
            events[i + 1] = blocks[i];
        }

        return new KvEventBatch(workerId, kv.LastEventId, timestamp, events);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_host.HasScheduler)
        {
            // An engine without a local block manager (openai) publishes no KV events, so there is nothing to dump.
            return;
        }

        _serving = await _events.ServeAsync(_subject, RespondAsync, cancellationToken: cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _serving, null) is { } serving)
        {
            await serving.DisposeAsync();
        }
    }

    private async ValueTask<ReadOnlyMemory<byte>> RespondAsync(EventMessage request, CancellationToken cancellationToken)
    {
        var kv = _host.KvBlocks;
        var dump = await _host.Scheduler.InvokeAsync(() => CreateDump(kv, _workerId, _time.GetUtcNow()), cancellationToken);
        Interlocked.Increment(ref _served);
        LogServed(dump.EventId, dump.Events.Count - 1);
        return ContractSerializer.Serialize(dump);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Served a KV dump at event {EventId} with {Runs} stored runs")]
    private partial void LogServed(long eventId, int runs);
}
