using System.Threading.Channels;

namespace Dynamo.Runtime.EventPlane;

/// <summary>
/// Fire-and-forget events and small request/reply exchanges between services (KV events, load metrics,
/// planner decisions, SLA changes). Not for request data: that goes worker↔router over HTTP/2.
/// </summary>
public interface IEventPlane
{
    /// <summary>True while a connection to the broker is up.</summary>
    bool IsConnected { get; }

    /// <summary>Completes when a broker connection is up (immediately if it already is).</summary>
    Task WaitUntilConnectedAsync(CancellationToken cancellationToken = default);

    /// <exception cref="EventPlaneUnavailableException">No broker connection has been made yet, or it was closed.</exception>
    ValueTask PublishAsync(string subject, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default);

    /// <summary>
    /// Delivers every message on <paramref name="subject"/> (wildcards allowed) to <paramref name="handler"/>, one at a time
    /// per subscription, from a bounded queue. The subscription survives broker restarts; dispose it to stop.
    /// </summary>
    ValueTask<IAsyncDisposable> SubscribeAsync(
        string subject,
        Func<EventMessage, CancellationToken, ValueTask> handler,
        SubscriptionOptions? options = null,
        CancellationToken cancellationToken = default);

    /// <summary>Sends a request and waits for the first reply.</summary>
    /// <exception cref="TimeoutException">No reply arrived within <paramref name="timeout"/>.</exception>
    /// <exception cref="EventPlaneUnavailableException">There is no broker connection.</exception>
    Task<EventMessage> RequestAsync(string subject, ReadOnlyMemory<byte> payload, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>Answers requests on <paramref name="subject"/> with what <paramref name="responder"/> returns.</summary>
    ValueTask<IAsyncDisposable> ServeAsync(
        string subject,
        Func<EventMessage, CancellationToken, ValueTask<ReadOnlyMemory<byte>>> responder,
        SubscriptionOptions? options = null,
        CancellationToken cancellationToken = default);
}

/// <summary>A received message. <see cref="ReplyTo"/> is set when the sender waits for an answer.</summary>
public readonly record struct EventMessage(string Subject, ReadOnlyMemory<byte> Data, string? ReplyTo);

/// <summary>How a subscription queues messages between the broker client and its handler.</summary>
public sealed record SubscriptionOptions
{
    public static SubscriptionOptions Default { get; } = new();

    /// <summary>Members of one queue group share the messages (each goes to one member); null: every subscriber gets all.</summary>
    public string? QueueGroup { get; init; }

    /// <summary>Messages held for a slow handler before <see cref="FullMode"/> applies.</summary>
    public int Capacity { get; init; } = 4096;

    /// <summary>
    /// What happens when the queue is full. The drop modes never stall the broker client; <see cref="BoundedChannelFullMode.Wait"/>
    /// blocks this subscription's delivery until the handler catches up, after which the broker's own pending limits drop messages.
    /// </summary>
    public BoundedChannelFullMode FullMode { get; init; } = BoundedChannelFullMode.DropOldest;
}

/// <summary>The event plane has no broker connection (it keeps retrying in the background).</summary>
public sealed class EventPlaneUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
