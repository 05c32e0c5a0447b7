using System.Globalization;
using Dynamo.Router.Routing.Indexing;

namespace Dynamo.Router.Routing.Policies;

/// <summary>The kv_aware cost of one worker (DESIGN.md §3), with its parts for traces and tests.</summary>
public readonly record struct KvCost(double PrefillTokens, long DecodeBlocks, double Cost)
{
    /// <summary>
    /// <c>prefill_tokens = ISL − overlap·B + active_prefill_tokens</c>, where overlap discounts host and disk hits by
    /// their weights; <c>decode_blocks = new_blocks + active_blocks</c>, where new blocks are the request's blocks not
    /// already on the device (host and disk hits must be onboarded into fresh device blocks);
    /// <c>cost = overlap_weight · prefill_tokens / B + decode_blocks</c>.
    /// </summary>
    public static KvCost Compute(WorkerCandidate candidate, int inputTokens, double overlapWeight, double hostWeight, double diskWeight)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return Compute(candidate.Overlap, candidate.Activity, candidate.BlockSize, inputTokens, overlapWeight, hostWeight, diskWeight);
    }

    /// <summary>The same cost from its inputs, for the router's shortlist, which scores workers before building candidates.</summary>
    public static KvCost Compute(
        WorkerOverlap overlap, WorkerActivity activity, int blockSize, int inputTokens, double overlapWeight, double hostWeight, double diskWeight)
    {
        var cachedTokens = overlap.Weighted(hostWeight, diskWeight) * blockSize;
        var prefillTokens = Math.Max(0, inputTokens - cachedTokens) + activity.PrefillTokens;
        var requestBlocks = (inputTokens + blockSize - 1) / blockSize;
        var newBlocks = Math.Max(0, requestBlocks - overlap.DeviceBlocks);
        var decodeBlocks = newBlocks + activity.Blocks;
        return new KvCost(prefillTokens, decodeBlocks, (overlapWeight * prefillTokens / blockSize) + decodeBlocks);
    }
}

/// <summary>
/// The default policy: the cheapest worker by <see cref="KvCost"/>. Temperature 0 takes the minimum (ties: fewer
/// cached blocks, then random); temperature T &gt; 0 samples <c>p ∝ exp(−(cost/(max−min))/T)</c>, spreading load
/// over near-equal workers instead of piling onto one.
/// </summary>
internal sealed class KvAwarePolicy : IRoutingPolicy
{
    public string Name => RoutingPolicies.KvAware;

    public RoutingDecision Select(RoutingContext context)
    {
        var candidates = context.Candidates;
        var costs = new double[candidates.Count];
        for (var i = 0; i < candidates.Count; i++)
        {
            costs[i] = KvCost.Compute(candidates[i], context.Request.InputTokens, context.OverlapScoreWeight, context.HostTierWeight, context.DiskTierWeight).Cost;
        }

        if (context.Temperature <= 0 || candidates.Count == 1)
        {
            var (best, reason) = Ties.ArgMin(costs, candidates, c => c.CachedBlocks, "fewer cached blocks", context.Random, "lowest cost");
            return context.Decide(candidates[best], Name, costs[best], reason);
        }

        var chosen = Sample(costs, context.Temperature, context.Random);
        return context.Decide(
            candidates[chosen],
            Name,
            costs[chosen],
            string.Create(CultureInfo.InvariantCulture, $"sampled at temperature {context.Temperature:0.###}"));
    }

    /// <summary>Softmax over costs scaled by their spread; all-equal costs sample uniformly.</summary>
    internal static int Sample(double[] costs, double temperature, IRandomSource random)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var cost in costs)
        {
            min = Math.Min(min, cost);
            max = Math.Max(max, cost);
        }

        var range = max - min;
        var weights = new double[costs.Length];
        var total = 0.0;
        for (var i = 0; i < costs.Length; i++)
        {
            // Shifted by the minimum so the best worker's weight is exp(0) = 1 and nothing underflows to an all-zero sum.
            weights[i] = range > 0 ? Math.Exp(-((costs[i] - min) / range) / temperature) : 1;
            total += weights[i];
        }

        var draw = random.NextDouble() * total;
        for (var i = 0; i < weights.Length; i++)
        {
            draw -= weights[i];
            if (draw < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }
}
