using System.Text.Json.Serialization;

namespace Dynamo.Runtime.Contracts;

/// <summary>
/// A worker's load, published periodically on <c>dynamo.{ns}.metrics.{worker}</c>; the router's cost
/// function and the planner read it.
/// </summary>
public sealed record WorkerLoadMetrics(
    string WorkerId,
    DateTimeOffset Timestamp,
    long ActiveDecodeBlocks,
    long TotalBlocks,
    long ActivePrefillTokens,
    int RunningSeqs,
    int WaitingSeqs,
    double KvUsage,
    IReadOnlyList<KvTierUsage>? Tiers = null,
    double? PrefixHitRate = null)
    : IVersionedContract
{
    public static int CurrentVersion => 1;

    [JsonPropertyName("v")]
    [JsonPropertyOrder(-1)]
    public int Version { get; init; } = CurrentVersion;
}

/// <summary>Occupancy of one KV tier.</summary>
public sealed record KvTierUsage(KvTier Tier, long UsedBlocks, long TotalBlocks)
{
    public double Usage => TotalBlocks == 0 ? 0 : (double)UsedBlocks / TotalBlocks;
}
