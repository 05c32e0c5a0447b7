using Dynamo.Planner.Hosting;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.Options;

namespace Dynamo.Planner.Connectors;

/// <summary>
/// Writes each pool's target to the state plane (collection <see cref="RequestsCollection"/>, id = pool) and waits for
/// an external controller to acknowledge that decision id in <see cref="AcksCollection"/>: the planner drives
/// infrastructure it cannot reach, and a decision nobody applied is reported as such rather than assumed done.
/// </summary>
internal sealed class VirtualConnector(IStateStore store, IOptions<PlannerOptions> options, TimeProvider time) : IScalingConnector
{
    public const string RequestsCollection = "planner-virtual-requests";
    public const string AcksCollection = "planner-virtual-acks";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    public string Name => ScalingConnectors.Virtual;

    public async Task<int?> GetReplicasAsync(string pool, CancellationToken cancellationToken)
    {
        var ack = await store.GetAsync(AcksCollection, pool, PlannerJsonContext.Default.VirtualScaleAck, cancellationToken).ConfigureAwait(false);
        return ack?.Replicas;
    }

    public async Task<string> ScaleAsync(string pool, int replicas, string decisionId, CancellationToken cancellationToken)
    {
        var request = new VirtualScaleRequest(decisionId, pool, replicas, time.GetUtcNow());
        try
        {
            await store.SetAsync(RequestsCollection, pool, request, PlannerJsonContext.Default.VirtualScaleRequest, cancellationToken).ConfigureAwait(false);
            var timeout = TimeSpan.FromSeconds(options.Value.VirtualAckTimeoutSeconds);
            var started = time.GetTimestamp();
            while (true)
            {
                var ack = await store.GetAsync(AcksCollection, pool, PlannerJsonContext.Default.VirtualScaleAck, cancellationToken).ConfigureAwait(false);
                if (ack is not null && ack.DecisionId == decisionId)
                {
                    return $"acknowledged by {ack.AcknowledgedBy}: {pool} → {ack.Replicas} replicas";
                }

                if (time.GetElapsedTime(started) >= timeout)
                {
                    throw new ScalingException($"No acknowledgement of decision {decisionId} ({pool} → {replicas}) within {timeout.TotalSeconds:0.#} s.");
                }

                await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (StatePlaneUnavailableException ex)
        {
            throw new ScalingException($"The state plane is unreachable: {ex.Message}", ex);
        }
    }
}

/// <summary>What the virtual connector asks an external controller to do.</summary>
public sealed record VirtualScaleRequest(string DecisionId, string Pool, int Replicas, DateTimeOffset RequestedAt);

/// <summary>What the external controller writes back once it applied <see cref="DecisionId"/>.</summary>
public sealed record VirtualScaleAck(string DecisionId, int Replicas, string AcknowledgedBy, DateTimeOffset AcknowledgedAt);
