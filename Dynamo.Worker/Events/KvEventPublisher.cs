using System.Threading.Channels;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Dynamo.Worker.KvCache;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Events;

/// <summary>
/// Publishes the block manager's KV event batches on <c>dynamo.{ns}.kv.events.{worker}</c> (DESIGN.md §2).
/// The scheduler thread only enqueues; a background loop publishes. When the queue is full or NATS is down a
/// batch is dropped and counted: the router sees the gap in event ids and asks this worker for a dump, which
/// is how it recovers, so dropping never blocks generation.
/// </summary>
public sealed partial class KvEventPublisher : BackgroundService, IKvEventSink
{
    // Bounded: a burst of a few thousand operations fits; beyond that the dump path is cheaper than memory.
    private const int Capacity = 4096;

    private readonly Channel<KvEventBatch> _queue = Channel.CreateBounded<KvEventBatch>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true, SingleWriter = true });
    private readonly IEventPlane _events;
    private readonly string _subject;
    private readonly ILogger<KvEventPublisher> _logger;
    private long _published;
    private long _dropped;

    public KvEventPublisher(IEventPlane events, IOptions<DynamoRuntimeOptions> runtime, WorkerRegistration registration, ILogger<KvEventPublisher> logger)
    {
        _events = events;
        _subject = Subjects.KvEvents(runtime.Value.Namespace, registration.WorkerId);
        _logger = logger;
    }

    public long Published => Interlocked.Read(ref _published);

    public long Dropped => Interlocked.Read(ref _dropped);

    public void Publish(KvEventBatch batch)
    {
        if (!_queue.Writer.TryWrite(batch))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var batch in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await _events.PublishAsync(_subject, batch, stoppingToken);
                Interlocked.Increment(ref _published);
            }
            catch (EventPlaneUnavailableException ex)
            {
                Interlocked.Increment(ref _dropped);
                LogDropped(batch.EventId, ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "KV event batch {EventId} dropped: {Reason}; routers resynchronise from this worker's dump")]
    private partial void LogDropped(long eventId, string reason);
}
