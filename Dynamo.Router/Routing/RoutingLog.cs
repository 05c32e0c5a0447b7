using Microsoft.Extensions.Logging;

namespace Dynamo.Router.Routing;

internal static partial class RoutingLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "KV events of worker {WorkerId}: expected event {Expected} but got {Received}; requesting a dump")]
    private static partial void EventGapCore(ILogger logger, string workerId, long expected, long received);

    public static void EventGap(ILogger logger, string workerId, long? last, long received) =>
        EventGapCore(logger, workerId, (last ?? 0) + 1, received);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Rebuilt the index part of worker {WorkerId} from its dump (event {EventId}, {Blocks} blocks)")]
    public static partial void DumpApplied(ILogger logger, string workerId, long eventId, long blocks);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "A KV dump request failed ({Kind}: {Reason}); keeping the worker's last known blocks and retrying later")]
    public static partial void DumpFailed(ILogger logger, string kind, string reason, Exception? exception);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "Skipped a KV event batch of worker {WorkerId} the index cannot apply")]
    public static partial void BadBatch(ILogger logger, string workerId, Exception exception);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "Dropped worker {WorkerId} from the KV index ({Blocks} blocks)")]
    public static partial void WorkerDropped(ILogger logger, string workerId, long blocks);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Information, Message = "Loaded the KV index snapshot: {Workers} workers, {Blocks} blocks")]
    public static partial void SnapshotLoaded(ILogger logger, int workers, long blocks);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Warning, Message = "Could not read or write the KV index snapshot: {Reason}")]
    public static partial void SnapshotFailed(ILogger logger, string reason, Exception? exception);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Warning, Message = "Skipped the KV index snapshot entry of worker {WorkerId}: {Reason}")]
    public static partial void SnapshotEntrySkipped(ILogger logger, string workerId, string reason);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Warning, Message = "Could not start watching the worker registry; departed workers stay in the KV index until it is reachable")]
    public static partial void RegistryWatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Warning, Message = "Every worker is busy and the routing queue is full or timed out; shedding request {RequestId}")]
    public static partial void Shed(ILogger logger, string requestId);
}
