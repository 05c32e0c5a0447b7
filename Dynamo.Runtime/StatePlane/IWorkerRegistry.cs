using Dynamo.Runtime.Contracts;

namespace Dynamo.Runtime.StatePlane;

/// <summary>
/// Live workers, each held by a TTL lease that its heartbeat renews. A worker that stops renewing disappears
/// within its TTL; watchers hear about registrations, unregistrations and expiries.
/// </summary>
public interface IWorkerRegistry
{
    /// <summary>True while the state plane is reachable.</summary>
    bool IsAvailable { get; }

    /// <summary>Creates or replaces the worker's lease for <paramref name="ttl"/>.</summary>
    /// <exception cref="StatePlaneUnavailableException">Redis is unreachable.</exception>
    Task RegisterAsync(WorkerRegistration registration, TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>Extends the lease; returns false when it had already expired (the caller re-registers).</summary>
    Task<bool> RenewAsync(string workerId, TimeSpan ttl, CancellationToken cancellationToken = default);

    Task UnregisterAsync(string workerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Workers with a live lease. While Redis is unreachable this returns the last list read, marked stale
    /// (routing keeps working on last known workers), or throws if none was ever read.
    /// </summary>
    Task<WorkerListing> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Calls <paramref name="handler"/> for every change until the returned handle is disposed.</summary>
    Task<IAsyncDisposable> WatchAsync(Func<WorkerChange, CancellationToken, ValueTask> handler, CancellationToken cancellationToken = default);
}

public enum WorkerChangeKind
{
    Registered,
    Unregistered,
    Expired,
}

/// <summary>A registry change. <see cref="Registration"/> is present for <see cref="WorkerChangeKind.Registered"/>.</summary>
public sealed record WorkerChange(WorkerChangeKind Kind, string WorkerId, WorkerRegistration? Registration = null);

/// <summary>Live workers as of <see cref="AsOf"/>; <see cref="IsStale"/> when Redis could not be read and this is the last known list.</summary>
public sealed record WorkerListing(IReadOnlyList<WorkerRegistration> Workers, DateTimeOffset AsOf, bool IsStale);

/// <summary>Redis is unreachable; StackExchange.Redis keeps reconnecting in the background.</summary>
public sealed class StatePlaneUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
