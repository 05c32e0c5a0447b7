using Dynamo.Runtime.Contracts;

namespace Dynamo.Admin.Live;

/// <summary>
/// What the pages and <c>/hubs/metrics</c> clients see, rebuilt once a second from the shared subscriptions: cluster
/// totals, the SLA in force, every router and worker, recent routing decisions, the latest planner decision.
/// </summary>
public sealed record AdminSnapshot(
    DateTimeOffset Timestamp,
    long Sequence,
    ClusterTotals Totals,
    SlaTargets Sla,
    IReadOnlyList<RouterView> Routers,
    IReadOnlyList<WorkerView> Workers,
    IReadOnlyList<RoutingDecisionSample> RecentDecisions,
    PlannerDecision? LatestDecision)
{
    public static AdminSnapshot Empty(DateTimeOffset now, SlaConfig sla) =>
        new(now, 0, ClusterTotals.Zero, SlaTargets.From(sla), [], [], [], null);
}

/// <summary>
/// Sums over live routers; latency p50 is the request-weighted mean of the routers' p50s and p99 the worst router's
/// p99, since percentiles cannot be merged exactly and an operator must not miss the slow router.
/// </summary>
public sealed record ClusterTotals(
    double RequestsPerSecond,
    double OutputTokensPerSecond,
    double InputTokensPerSecond,
    double TtftP50Ms,
    double TtftP99Ms,
    double ItlP50Ms,
    double ItlP99Ms,
    double KvHitRate,
    int Inflight,
    int Queued,
    double RoutingDecisionsPerSecond,
    long IndexBlocks,
    double AvgInputTokens,
    double AvgOutputTokens)
{
    public static ClusterTotals Zero { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

/// <summary>The targets the pages colour against.</summary>
public sealed record SlaTargets(double TtftMs, double ItlMs, DateTimeOffset? UpdatedAt)
{
    public static SlaTargets From(SlaConfig sla) => new(sla.TtftMs, sla.ItlMs, sla.UpdatedAt);
}

/// <summary>One router's latest snapshot.</summary>
public sealed record RouterView(string RouterId, string Model, DateTimeOffset LastSeen, double RequestsPerSecond, double KvHitRate, long IndexBlocks, IReadOnlyList<WorkerRoutingStats> Workers);

/// <summary>A registered worker joined with its latest load report (either side may be missing).</summary>
public sealed record WorkerView(
    string WorkerId,
    string? Model,
    string? Role,
    string? Engine,
    string State,
    DateTimeOffset? StartedAt,
    DateTimeOffset? LastHeartbeat,
    double KvUsage,
    IReadOnlyList<KvTierUsage> Tiers,
    int RunningSeqs,
    int WaitingSeqs,
    long ActiveDecodeBlocks,
    long TotalBlocks,
    double RoutingKvHitRate);

/// <summary>One point of the Overview charts.</summary>
public sealed record HistoryPoint(
    DateTimeOffset Time,
    double RequestsPerSecond,
    double OutputTokensPerSecond,
    double TtftP50Ms,
    double TtftP99Ms,
    double ItlP50Ms,
    double ItlP99Ms,
    double KvHitRate,
    int Queued);
