using Dynamo.Router.Routing.Indexing;
using Dynamo.Runtime.Contracts;

namespace Dynamo.Router.Routing.Policies;

/// <summary>
/// Chooses one worker for one request from candidates the router has already enriched with their prefix overlap,
/// router-tracked activity and reported load. Implementations are stateless apart from counters, and thread-safe.
/// </summary>
public interface IRoutingPolicy
{
    /// <summary>The name configuration and requests use (<see cref="RoutingPolicies"/>).</summary>
    string Name { get; }

    /// <summary>Picks one of <see cref="RoutingContext.Candidates"/> (never empty).</summary>
    RoutingDecision Select(RoutingContext context);
}

/// <summary>One candidate worker as a policy sees it.</summary>
/// <param name="CachedBlocks">Blocks the index (or approximate mode) thinks the worker holds in all; ties prefer the emptier cache.</param>
public sealed record WorkerCandidate(
    WorkerRegistration Registration,
    WorkerOverlap Overlap,
    WorkerActivity Activity,
    WorkerLoadMetrics? Metrics,
    long CachedBlocks)
{
    public string WorkerId => Registration.WorkerId;

    public int BlockSize => BlockSizeOf(Registration);

    /// <exception cref="InvalidOperationException">The worker registered a block size that is not positive.</exception>
    public static int BlockSizeOf(WorkerRegistration registration) => registration.BlockSize > 0
        ? registration.BlockSize
        : throw new InvalidOperationException($"Worker '{registration.WorkerId}' registered block size {registration.BlockSize}; it must be positive.");

    /// <summary>Blocks the request occupies on this worker, the last partial one included.</summary>
    public int RequestBlocks(int inputTokens) => (inputTokens + BlockSize - 1) / BlockSize;
}

/// <summary>A request, its candidates and the effective settings (configuration overridden per request).</summary>
public sealed record RoutingContext(
    RoutingRequest Request,
    IReadOnlyList<WorkerCandidate> Candidates,
    IRandomSource Random,
    double OverlapScoreWeight,
    double Temperature,
    double HostTierWeight,
    double DiskTierWeight)
{
    /// <summary>A decision on <paramref name="candidate"/> carrying its overlap, for headers and traces.</summary>
    public RoutingDecision Decide(WorkerCandidate candidate, string policy, double? cost, string reason) => new(
        candidate.WorkerId,
        policy,
        candidate.RequestBlocks(Request.InputTokens),
        candidate.Overlap.DeviceBlocks,
        candidate.Overlap.HostBlocks,
        candidate.Overlap.DiskBlocks,
        cost,
        reason);
}

/// <summary>The policy names (configuration <c>Router:Routing:Policy</c>, or per request).</summary>
public static class RoutingPolicies
{
    public const string RoundRobin = "round_robin";
    public const string Random = "random";
    public const string LeastLoaded = "least_loaded";
    public const string KvAware = "kv_aware";

    public static IReadOnlyList<string> All { get; } = [RoundRobin, Random, LeastLoaded, KvAware];

    /// <exception cref="ArgumentException">The name is not one of <see cref="All"/>.</exception>
    public static IRoutingPolicy Create(string name) => name switch
    {
        RoundRobin => new RoundRobinPolicy(),
        Random => new RandomPolicy(),
        LeastLoaded => new LeastLoadedPolicy(),
        KvAware => new KvAwarePolicy(),
        _ => throw new ArgumentException($"Unknown routing policy '{name}'; use one of: {string.Join(", ", All)}.", nameof(name)),
    };
}
