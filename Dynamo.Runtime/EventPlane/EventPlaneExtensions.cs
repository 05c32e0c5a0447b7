using Dynamo.Runtime.Contracts;

namespace Dynamo.Runtime.EventPlane;

/// <summary>Typed publish/subscribe over <see cref="IEventPlane"/> with the versioned JSON contracts.</summary>
public static class EventPlaneExtensions
{
    public static ValueTask PublishAsync<T>(this IEventPlane plane, string subject, T message, CancellationToken cancellationToken = default)
        where T : IVersionedContract =>
        plane.PublishAsync(subject, ContractSerializer.Serialize(message), cancellationToken);

    /// <summary>
    /// Subscribes with a typed handler. A message that fails to deserialize (unknown version, bad JSON) is logged
    /// by the event plane and skipped; the subscription continues.
    /// </summary>
    public static ValueTask<IAsyncDisposable> SubscribeAsync<T>(
        this IEventPlane plane,
        string subject,
        Func<T, CancellationToken, ValueTask> handler,
        SubscriptionOptions? options = null,
        CancellationToken cancellationToken = default)
        where T : IVersionedContract =>
        plane.SubscribeAsync(subject, (message, token) => handler(ContractSerializer.Deserialize<T>(message.Data.Span), token), options, cancellationToken);
}
