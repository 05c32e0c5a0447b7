using System.Text.Json.Serialization;

namespace Dynamo.Runtime.Contracts;

/// <summary>
/// What one router (the per-model frontend) observed, published about once a second on
/// <c>dynamo.{ns}.frontend.metrics.{router}</c>. The planner predicts load from it and the Admin app charts it, so
/// neither scrapes routers per client. Rates and averages cover the last interval; latency percentiles cover a sliding
/// window (<see cref="LatencyWindowSeconds"/>) so they stay meaningful at low traffic.
/// </summary>
public sealed record FrontendMetricsSnapshot(
    string RouterId,
    string Model,
    DateTimeOffset Timestamp,
    double IntervalSeconds,
    double LatencyWindowSeconds,
    long RequestsTotal,
    double RequestsPerSecond,
    double InputTokensPerSecond,
    double OutputTokensPerSecond,
    double AvgInputTokens,
    double AvgOutputTokens,
    LatencySummary TimeToFirstToken,
    LatencySummary InterTokenLatency,
    double KvHitRate,
    int Inflight,
    int Queued,
    long RejectionsTotal,
    long MigrationsTotal,
    long CancellationsTotal,
    double RoutingDecisionsPerSecond,
    long IndexBlocks,
    IReadOnlyList<WorkerRoutingStats> Workers,
    IReadOnlyList<RoutingDecisionSample> RecentDecisions)
    : IVersionedContract
{
    public static int CurrentVersion => 1;

    [JsonPropertyName("v")]
    [JsonPropertyOrder(-1)]
    public int Version { get; init; } = CurrentVersion;
}

/// <summary>Latency distribution in milliseconds; all zero when <see cref="Count"/> is zero.</summary>
public sealed record LatencySummary(long Count, double MeanMs, double P50Ms, double P90Ms, double P99Ms)
{
    public static LatencySummary Empty { get; } = new(0, 0, 0, 0, 0);

    /// <summary>
    /// Several routers' windows as one: count and mean are exact; the median is the count-weighted mean of the
    /// medians (an approximation; the samples themselves are not shipped); p90 and p99 are the worst router's, because
    /// a target is missed wherever it is missed.
    /// </summary>
    public static LatencySummary Combine(IEnumerable<LatencySummary> windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        long count = 0;
        double sum = 0, p50 = 0, p90 = 0, p99 = 0;
        foreach (var w in windows)
        {
            count += w.Count;
            sum += w.MeanMs * w.Count;
            p50 += w.P50Ms * w.Count;
            p90 = Math.Max(p90, w.P90Ms);
            p99 = Math.Max(p99, w.P99Ms);
        }

        return count == 0 ? Empty : new LatencySummary(count, sum / count, p50 / count, p90, p99);
    }
}

/// <summary>Per-worker routing outcome over the last interval: how much of the prompts routed there was already cached.</summary>
public sealed record WorkerRoutingStats(string WorkerId, long Requests, long PromptBlocks, long OverlapBlocks)
{
    public double KvHitRate => PromptBlocks == 0 ? 0 : (double)OverlapBlocks / PromptBlocks;
}

/// <summary>One routing decision, as the Admin app's Routing page lists them.</summary>
public sealed record RoutingDecisionSample(
    DateTimeOffset Timestamp,
    string RequestId,
    string Policy,
    string WorkerId,
    int PromptBlocks,
    int OverlapBlocks,
    double Cost,
    string? PrefillWorkerId = null);
