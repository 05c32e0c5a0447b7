namespace Dynamo.Planner.Connectors;

/// <summary>
/// Applies replica counts to wherever the pools run. Implementations scale down by stopping replicas gracefully
/// (SIGTERM: the worker unregisters, finishes in-flight requests, exits), never by killing them.
/// </summary>
public interface IScalingConnector
{
    /// <summary>The configured name (<see cref="ScalingConnectors"/>), as decisions report it.</summary>
    string Name { get; }

    /// <summary>Replicas the pool has now, or null when the connector cannot tell (the planner then counts registered workers).</summary>
    Task<int?> GetReplicasAsync(string pool, CancellationToken cancellationToken);

    /// <summary>Asks for <paramref name="replicas"/> replicas of <paramref name="pool"/>; returns what happened, in words.</summary>
    /// <exception cref="ScalingException">The target refused or could not be reached.</exception>
    Task<string> ScaleAsync(string pool, int replicas, string decisionId, CancellationToken cancellationToken);
}

/// <summary>Names of the connectors, as <c>Planner:Connector</c> selects them.</summary>
public static class ScalingConnectors
{
    public const string Local = "local";
    public const string Kubernetes = "kubernetes";
    public const string Virtual = "virtual";

    public static IReadOnlyList<string> All { get; } = [Local, Kubernetes, Virtual];
}

/// <summary>A connector could not apply a replica count.</summary>
public sealed class ScalingException(string message, Exception? inner = null) : Exception(message, inner);
