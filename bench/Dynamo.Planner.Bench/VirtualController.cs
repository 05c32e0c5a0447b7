using System.Text.Json;
using System.Text.Json.Serialization;
using Dynamo.Runtime.StatePlane;

namespace Dynamo.Planner.Bench;

/// <summary>
/// The other side of the planner's virtual connector: reads the replica count the planner asks for from the state plane,
/// applies it to the <see cref="WorkerPool"/>, writes the acknowledgement, and records when each change was applied (pool seconds).
/// Shapes and collection names match Dynamo.Planner's VirtualConnector.
/// </summary>
internal sealed class VirtualController(IStateStore store, WorkerPool pool, string poolName)
{
    private const string RequestsCollection = "planner-virtual-requests";
    private const string AcksCollection = "planner-virtual-acks";

    private readonly List<(double AtSeconds, int From, int To)> _changes = [];
    private string? _lastDecision;

    public IReadOnlyList<(double AtSeconds, int From, int To)> Changes => _changes;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var request = await store.GetAsync(RequestsCollection, poolName, BenchJsonContext.Default.ScaleRequest, cancellationToken);
                if (request is not null && request.DecisionId != _lastDecision)
                {
                    _lastDecision = request.DecisionId;
                    var from = pool.Replicas;
                    pool.ScaleTo(request.Replicas);
                    _changes.Add((pool.Now, from, request.Replicas));
                    await store.SetAsync(AcksCollection, poolName,
                        new ScaleAck(request.DecisionId, request.Replicas, "planner-bench", DateTimeOffset.UtcNow), BenchJsonContext.Default.ScaleAck, cancellationToken);
                }

                _ = pool.WorkerSeconds;
                await pool.ObserveServingAsync(cancellationToken);
                await Task.Delay(200, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }
}

internal sealed record ScaleRequest(string DecisionId, string Pool, int Replicas, DateTimeOffset RequestedAt);

internal sealed record ScaleAck(string DecisionId, int Replicas, string AcknowledgedBy, DateTimeOffset AcknowledgedAt);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ScaleRequest))]
[JsonSerializable(typeof(ScaleAck))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
