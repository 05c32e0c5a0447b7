using Microsoft.Extensions.Logging;

namespace Dynamo.Runtime.EventPlane;

internal static partial class EventPlaneLog
{
    [LoggerMessage(1, LogLevel.Information, "Connected to NATS at {Url}")]
    public static partial void Connected(ILogger logger, string? url);

    [LoggerMessage(2, LogLevel.Warning, "NATS at {Url} is unreachable; retrying every {Wait}")]
    public static partial void ConnectFailed(ILogger logger, string? url, TimeSpan wait, Exception exception);

    [LoggerMessage(3, LogLevel.Warning, "Disconnected from NATS; the client is reconnecting")]
    public static partial void Disconnected(ILogger logger);

    [LoggerMessage(4, LogLevel.Information, "Reconnected to NATS at {Url}")]
    public static partial void Reconnected(ILogger logger, string? url);

    [LoggerMessage(5, LogLevel.Warning, "NATS connection closed; opening a new one")]
    public static partial void Closed(ILogger logger);

    [LoggerMessage(6, LogLevel.Warning, "NATS reported an asynchronous error on {Subject}: {Error}")]
    public static partial void AsyncError(ILogger logger, string? subject, string? error);

    [LoggerMessage(7, LogLevel.Error, "Handler for {Subject} failed on a message; the subscription continues")]
    public static partial void HandlerFailed(ILogger logger, string subject, Exception exception);

    [LoggerMessage(8, LogLevel.Warning, "Could not subscribe to {Subject}; it is retried when the connection comes back")]
    public static partial void AttachFailed(ILogger logger, string subject, Exception exception);
}
