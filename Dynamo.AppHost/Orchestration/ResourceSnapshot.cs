namespace Dynamo.AppHost.Orchestration;

/// <summary>Life cycle of one replica.</summary>
public enum ReplicaState
{
    Waiting,
    Starting,
    Running,
    Restarting,
    Stopping,
    Stopped,
}

/// <summary>
/// A resource as the control API and endpoints.json show it. <see cref="Replicas"/> also lists replicas taken out
/// (scale-down, drain) until they exit, in state Stopping; <see cref="DesiredReplicas"/> counts only those kept.
/// </summary>
public sealed record ResourceSnapshot(
    string Name,
    string Type,
    string State,
    IReadOnlyList<string> Urls,
    string? ConnectionString,
    IReadOnlyList<int> Pids,
    IReadOnlyList<ReplicaSnapshot> Replicas)
{
    public int DesiredReplicas { get; init; }
}

public sealed record ReplicaSnapshot(
    int Index,
    string Name,
    string State,
    string Url,
    int? Pid,
    int Restarts,
    string? InstanceId);

/// <summary>The document written to <c>.dynamo/endpoints.json</c>.</summary>
public sealed record EndpointsDocument(
    string RunId,
    int AppHostPid,
    string ControlUrl,
    DateTimeOffset StartedAt,
    IReadOnlyDictionary<string, ResourceSnapshot> Resources,
    string? ApiKey = null)
{
    /// <summary>The Admin app's generated operator sign-in of this local run.</summary>
    public AdminCredentials? Admin { get; init; }
}

/// <summary>Operator sign-in of the Admin app in a local run.</summary>
public sealed record AdminCredentials(string Username, string Password);
