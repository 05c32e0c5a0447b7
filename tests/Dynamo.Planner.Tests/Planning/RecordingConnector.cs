using System.Collections.Concurrent;
using Dynamo.Planner.Connectors;

namespace Dynamo.Planner.Tests.Planning;

/// <summary>A connector that keeps replica counts in memory and records every scale call.</summary>
internal sealed class RecordingConnector(int initialReplicas) : IScalingConnector
{
    private readonly ConcurrentDictionary<string, int> _replicas = new(StringComparer.Ordinal);

    public ConcurrentQueue<(string Pool, int Replicas, string DecisionId)> Calls { get; } = new();

    public string Name => "recording";

    public Task<int?> GetReplicasAsync(string pool, CancellationToken cancellationToken) =>
        Task.FromResult<int?>(_replicas.GetOrAdd(pool, initialReplicas));

    public Task<string> ScaleAsync(string pool, int replicas, string decisionId, CancellationToken cancellationToken)
    {
        Calls.Enqueue((pool, replicas, decisionId));
        _replicas[pool] = replicas;
        return Task.FromResult($"recorded {pool} → {replicas}");
    }
}
