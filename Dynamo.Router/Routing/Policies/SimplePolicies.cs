namespace Dynamo.Router.Routing.Policies;

/// <summary>Each request to the next candidate in turn.</summary>
internal sealed class RoundRobinPolicy : IRoutingPolicy
{
    private uint _next;

    public string Name => RoutingPolicies.RoundRobin;

    public RoutingDecision Select(RoutingContext context)
    {
        var turn = Interlocked.Increment(ref _next) - 1;
        var candidate = context.Candidates[(int)(turn % (uint)context.Candidates.Count)];
        return context.Decide(candidate, Name, null, "next in turn");
    }
}

/// <summary>A uniformly random candidate.</summary>
internal sealed class RandomPolicy : IRoutingPolicy
{
    public string Name => RoutingPolicies.Random;

    public RoutingDecision Select(RoutingContext context) =>
        context.Decide(context.Candidates[context.Random.Next(context.Candidates.Count)], Name, null, "uniform random");
}

/// <summary>
/// The candidate with the least work: active blocks plus pending prefill in blocks, each the larger of what this
/// router tracked and what the worker last reported (another router may be sending it work too). Ignores the cache.
/// </summary>
internal sealed class LeastLoadedPolicy : IRoutingPolicy
{
    public string Name => RoutingPolicies.LeastLoaded;

    public RoutingDecision Select(RoutingContext context)
    {
        var candidates = context.Candidates;
        var loads = new double[candidates.Count];
        for (var i = 0; i < candidates.Count; i++)
        {
            loads[i] = Load(candidates[i]);
        }

        var (best, reason) = Ties.ArgMin(loads, candidates, c => c.Activity.Sequences, "fewer sequences", context.Random, "least load");
        return context.Decide(candidates[best], Name, loads[best], reason);
    }

    internal static double Load(WorkerCandidate candidate)
    {
        var blocks = Math.Max(candidate.Activity.Blocks, candidate.Metrics?.ActiveDecodeBlocks ?? 0);
        var prefill = Math.Max(candidate.Activity.PrefillTokens, candidate.Metrics?.ActivePrefillTokens ?? 0);
        return blocks + ((double)prefill / candidate.BlockSize);
    }
}

/// <summary>Argmin with the design's tie rule: equal cost → a secondary key (smaller wins) → random.</summary>
internal static class Ties
{
    // Costs are sums of small integers and ratios; anything closer than this is the same cost.
    internal const double Epsilon = 1e-9;

    public static (int Index, string Reason) ArgMin(
        double[] costs,
        IReadOnlyList<WorkerCandidate> candidates,
        Func<WorkerCandidate, long> secondary,
        string secondaryName,
        IRandomSource random,
        string reason)
    {
        var min = double.PositiveInfinity;
        foreach (var cost in costs)
        {
            min = Math.Min(min, cost);
        }

        var tied = new List<int>();
        for (var i = 0; i < costs.Length; i++)
        {
            if (costs[i] - min <= Epsilon)
            {
                tied.Add(i);
            }
        }

        if (tied.Count == 1)
        {
            return (tied[0], reason);
        }

        var fewest = long.MaxValue;
        foreach (var i in tied)
        {
            fewest = Math.Min(fewest, secondary(candidates[i]));
        }

        tied.RemoveAll(i => secondary(candidates[i]) != fewest);
        return tied.Count == 1
            ? (tied[0], $"{reason}; tie broken by {secondaryName}")
            : (tied[random.Next(tied.Count)], reason + "; tie broken at random");
    }
}
