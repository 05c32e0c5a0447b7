using Microsoft.Extensions.Logging;

namespace Dynamo.Runtime.StatePlane;

internal static partial class StatePlaneLog
{
    [LoggerMessage(1, LogLevel.Warning, "Redis connection failed ({FailureType}); reconnecting in the background")]
    public static partial void ConnectionFailed(ILogger logger, string failureType, Exception? exception);

    [LoggerMessage(2, LogLevel.Information, "Redis connection restored")]
    public static partial void ConnectionRestored(ILogger logger);

    [LoggerMessage(3, LogLevel.Information, "Redis keyspace notifications are on (notify-keyspace-events {Flags}); lease expiry is pushed")]
    public static partial void KeyspaceNotificationsOn(ILogger logger, string flags);

    [LoggerMessage(4, LogLevel.Information, "Could not enable Redis keyspace notifications ({Reason}); expiries are found by reconciliation every {Interval}")]
    public static partial void KeyspaceNotificationsOff(ILogger logger, string reason, TimeSpan interval);

    [LoggerMessage(5, LogLevel.Warning, "Worker registry unreachable; serving the last known list from {AsOf}")]
    public static partial void ServingStaleList(ILogger logger, DateTimeOffset asOf, Exception exception);

    [LoggerMessage(6, LogLevel.Error, "Worker registry watcher failed on a change; it continues")]
    public static partial void WatcherHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(7, LogLevel.Warning, "Worker registry reconciliation failed; retrying next interval")]
    public static partial void ReconciliationFailed(ILogger logger, Exception exception);

    [LoggerMessage(8, LogLevel.Warning, "Lease renewal for worker {WorkerId} failed; retrying next heartbeat")]
    public static partial void RenewalFailed(ILogger logger, string workerId, Exception exception);

    [LoggerMessage(9, LogLevel.Information, "Worker {WorkerId} registered with a {Ttl} lease")]
    public static partial void Registered(ILogger logger, string workerId, TimeSpan ttl);

    [LoggerMessage(10, LogLevel.Warning, "Ignoring an unreadable worker registry notice")]
    public static partial void BadNotice(ILogger logger, Exception exception);
}
